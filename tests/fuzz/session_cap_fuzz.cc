// libFuzzer target: the retry guard's in-session cap as the capped relay drives it. The first
// byte sets the cap (max creates, reset on success, enforce/observe), the gate's candidate size
// and the slice size. The rest is split at 0xff bytes into messages; a message whose first byte
// is even is the server's (ClassifyServerMessage -> SessionCap::OnServerMessage), odd the app's
// (ClassifyClientMessage -> OnResponseCreate, and the error event the app would get). The whole
// rest also goes through the client MessageGate as a byte stream, each candidate's payload
// classified the same way. Invariants: nothing throws; the gate passes every byte through in
// order and unchanged; the error event is JSON in a well-formed server text frame; the counts
// stay consistent with the policy.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "nlohmann/json.hpp"
#include "proxy/guard/session_cap.h"
#include "proxy/ws/message_gate.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using namespace relaytap::proxy;

void OnClientPayload(std::string_view payload, bool enforceable, guard::SessionCap& cap,
                     const guard::SessionCapPolicy& policy) {
  const guard::ClientMessageFacts facts = guard::ClassifyClientMessage(payload);
  if (facts.event_id) FUZZ_CHECK(facts.event_id->size() <= 128);
  if (!facts.response_create) return;
  const guard::SessionCapDecision d = cap.OnResponseCreate(enforceable);
  FUZZ_CHECK(d.max_creates_after_failure == policy.max_creates_after_failure);
  FUZZ_CHECK(!d.over_cap || d.creates_after_failure >= policy.max_creates_after_failure);
  FUZZ_CHECK(!d.withhold || (d.over_cap && enforceable));
  if (!d.over_cap) return;
  const std::string event = guard::SessionCapErrorEvent(d, "relaytap_cap_1_1", facts.event_id);
  FUZZ_CHECK(nlohmann::json::accept(event));
  const std::string frame = guard::ServerTextFrame(event);
  ws::FrameHeader h;
  const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(frame.data()),
                                       frame.size());
  FUZZ_CHECK(ws::ParseFrameHeader(bytes, &h) == h.header_len);
  FUZZ_CHECK(h.fin && h.opcode == 1 && !h.masked && h.header_len + h.payload_len == frame.size());
}

void RunMessages(std::string_view rest, guard::SessionCap& cap,
                 const guard::SessionCapPolicy& policy) {
  while (!rest.empty()) {
    const size_t cut = rest.find('\xff');
    std::string_view msg = rest.substr(0, cut);
    if (!msg.empty()) {
      const bool from_server = (static_cast<uint8_t>(msg[0]) & 1) == 0;
      msg.remove_prefix(1);
      if (from_server) {
        cap.OnServerMessage(msg);
      } else {
        OnClientPayload(msg, /*enforceable=*/true, cap, policy);
      }
    }
    if (cut == std::string_view::npos) break;
    rest.remove_prefix(cut + 1);
  }
}

void RunGate(std::span<const uint8_t> stream, size_t split, size_t max_candidate,
             guard::SessionCap& cap, const guard::SessionCapPolicy& policy) {
  ws::MessageGate gate(max_candidate);
  std::vector<ws::GateSegment> segments;
  for (size_t at = 0; at < stream.size(); at += split) {
    gate.Feed(stream.subspan(at, std::min(split, stream.size() - at)), &segments);
  }
  std::string passed;
  for (const ws::GateSegment& s : segments) {
    passed += s.bytes;
    if (!s.candidate) continue;
    FUZZ_CHECK(s.header.fin && s.header.opcode == 1);
    FUZZ_CHECK(s.header.payload_len <= max_candidate);
    FUZZ_CHECK(s.header.header_len + s.header.payload_len == s.bytes.size());
    absl::StatusOr<std::string> payload = ws::CandidatePayload(s, 1 << 20);
    if (payload.ok()) OnClientPayload(*payload, /*enforceable=*/true, cap, policy);
  }
  // Bytes of an incomplete last frame may still be held; all others passed, in order.
  FUZZ_CHECK(passed.size() <= stream.size());
  FUZZ_CHECK(std::memcmp(passed.data(), stream.data(), passed.size()) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t knobs = data[0];
  guard::SessionCapPolicy policy;
  policy.enabled = true;
  policy.max_creates_after_failure = knobs & 3;
  policy.reset_on_success = (knobs & 4) != 0;
  const guard::GuardMode mode =
      (knobs & 8) ? guard::GuardMode::kEnforce : guard::GuardMode::kObserve;
  const std::span<const uint8_t> rest(data + 1, size - 1);

  guard::SessionCap cap(policy, mode);
  RunMessages(std::string_view(reinterpret_cast<const char*>(rest.data()), rest.size()), cap,
              policy);

  guard::SessionCap gate_cap(policy, mode);
  const size_t split = 1 + ((knobs >> 4) * 7);
  const size_t max_candidate = (knobs & 0x80) ? 64 : ws::MessageGate::kDefaultMaxCandidateBytes;
  RunGate(rest, split, max_candidate, gate_cap, policy);
  return 0;
}

#include "proxy/ws/frame_tap.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "base/str_cat.h"
#include "base/string_recycler.h"
#include "proxy/ws/message_inflater.h"
#include "proxy/ws/unmask.h"

namespace relaytap::proxy::ws {
namespace {

std::atomic<uint64_t> g_instances_created{0};

constexpr size_t kMaxHeaderBytes = 14;
constexpr size_t kMaxControlPayload = 125;

bool IsKnownOpcode(uint8_t op) { return op <= 0x2 || (op >= 0x8 && op <= 0xA); }
bool IsControlOpcode(uint8_t op) { return (op & 0x8) != 0; }

}  // namespace

struct FrameTap::Impl {
  Impl(FrameTap& owner, Direction dir, PerMessageDeflate pmd, MessageObserver& obs,
       const TapLimits& tap_limits)
      : tap(owner),
        direction(dir),
        observer(obs),
        limits(tap_limits),
        budget(tap_limits.budget != nullptr ? *tap_limits.budget : ReassemblyBudget::Process()),
        cap(tap_limits.observed_payload_cap),
        deflate_enabled(pmd.enabled),
        no_context_takeover(dir == Direction::kClientToServer ? pmd.client_no_context_takeover
                                                              : pmd.server_no_context_takeover) {}

  ~Impl() { budget.Give(reserved); }

  void Feed(const uint8_t* data, size_t n, int64_t now);

  // Returns the number of bytes consumed from `data` towards the frame header.
  size_t ConsumeHeader(const uint8_t* data, size_t n, int64_t now);
  void OnHeader(int64_t now);
  void ConsumePayload(const uint8_t* data, size_t n);
  void OnFrameComplete(int64_t now);
  void EmitControl(int64_t now);
  void FinishMessage(int64_t now);
  void AppendCapped(const uint8_t* data, size_t n, bool unmask, uint64_t mask_offset);
  void Append(const uint8_t* data, size_t n, bool unmask, uint64_t mask_offset);
  bool Grow(size_t need);
  void Truncate(Truncation why);
  void ReleasePayload();
  bool StartInflating();
  bool KeepInflated(const uint8_t* data, size_t n);
  void Emit(Message&& message);
  void Fail(std::string reason);

  FrameTap& tap;
  const Direction direction;
  MessageObserver& observer;
  const TapLimits limits;
  ReassemblyBudget& budget;
  const size_t cap;
  size_t reserved = 0;  // taken from `budget` for the message payload's capacity
  const bool deflate_enabled;
  const bool no_context_takeover;

  // Frame header being read.
  std::array<uint8_t, kMaxHeaderBytes> header{};
  size_t header_have = 0;
  size_t header_need = 2;
  bool header_sized = false;
  int64_t frame_start_us = 0;

  // Frame whose payload is being read.
  bool in_payload = false;
  bool fin = false;
  bool rsv1 = false;
  uint8_t opcode = 0;
  bool masked = false;
  std::array<uint8_t, 4> mask_key{};
  uint64_t payload_len = 0;
  uint64_t payload_done = 0;
  uint64_t control_wire_bytes = 0;
  std::string control_payload;

  // Data message being reassembled (null between messages): made when its first frame starts and
  // handed on whole, so an idle tap (most of a Realtime session's life) holds none of its 120
  // bytes.
  std::unique_ptr<Message> message;

  // Made on the first compressed message (message_inflater.h).
  std::unique_ptr<MessageInflater> inflater;
};

void FrameTap::Impl::Fail(std::string reason) {
  if (tap.failed_) return;
  tap.failed_ = true;
  ReleasePayload();  // the message in progress will never be handed on
  observer.OnTapError(direction, reason);
}

void FrameTap::Impl::Emit(Message&& msg) {
  ++tap.messages_;
  observer.OnMessage(std::move(msg));
}

void FrameTap::Impl::Feed(const uint8_t* data, size_t n, int64_t now) {
  size_t pos = 0;
  while (pos < n && !tap.failed_) {
    if (!in_payload) {
      pos += ConsumeHeader(data + pos, n - pos, now);
      continue;
    }
    const uint64_t remaining = payload_len - payload_done;
    const size_t take = static_cast<size_t>(std::min<uint64_t>(remaining, n - pos));
    ConsumePayload(data + pos, take);
    payload_done += take;
    pos += take;
    if (payload_done == payload_len && !tap.failed_) OnFrameComplete(now);
  }
}

size_t FrameTap::Impl::ConsumeHeader(const uint8_t* data, size_t n, int64_t now) {
  if (header_have == 0) frame_start_us = now;
  size_t used = 0;
  while (used < n && header_have < header_need) {
    const size_t take = std::min(header_need - header_have, n - used);
    std::memcpy(header.data() + header_have, data + used, take);
    header_have += take;
    used += take;
    if (!header_sized && header_have >= 2) {
      header_sized = true;
      const uint8_t len7 = header[1] & 0x7f;
      header_need = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + ((header[1] & 0x80) ? 4 : 0);
    }
  }
  if (header_sized && header_have == header_need) OnHeader(now);
  return used;
}

void FrameTap::Impl::OnHeader(int64_t now) {
  fin = (header[0] & 0x80) != 0;
  rsv1 = (header[0] & 0x40) != 0;
  opcode = header[0] & 0x0f;
  masked = (header[1] & 0x80) != 0;
  const uint8_t len7 = header[1] & 0x7f;
  size_t at = 2;
  if (len7 == 126) {
    payload_len = (uint64_t{header[2]} << 8) | header[3];
    at = 4;
  } else if (len7 == 127) {
    payload_len = 0;
    for (size_t i = 0; i < 8; ++i) payload_len = (payload_len << 8) | header[2 + i];
    at = 10;
  } else {
    payload_len = len7;
  }
  if (masked) std::memcpy(mask_key.data(), header.data() + at, 4);
  const size_t header_size = header_need;
  header_have = 0;
  header_need = 2;
  header_sized = false;

  if (header[0] & 0x30) return Fail("RSV2/RSV3 set without a negotiated extension");
  if (!IsKnownOpcode(opcode)) return Fail(StrCat("unknown opcode ", int{opcode}));
  if (payload_len >> 63) return Fail("64-bit payload length with the most significant bit set");
  if (IsControlOpcode(opcode)) {
    if (!fin) return Fail(StrCat("fragmented ", OpcodeName(Opcode{opcode}), " frame"));
    if (payload_len > kMaxControlPayload) return Fail("control frame payload over 125 bytes");
    if (rsv1) return Fail("RSV1 set on a control frame");
    control_payload.clear();
  } else if (opcode == 0x0) {
    if (message == nullptr) return Fail("continuation frame without a started message");
    if (rsv1) return Fail("RSV1 set on a continuation frame");
  } else {
    if (message != nullptr) {
      return Fail("new data frame while a fragmented message is in progress");
    }
    if (rsv1 && !deflate_enabled) return Fail("RSV1 set but permessage-deflate not negotiated");
    if (rsv1 && !StartInflating()) return;
    message = std::make_unique<Message>();
    message->direction = direction;
    message->opcode = Opcode{opcode};
    message->first_frame_us = frame_start_us;
    message->compressed = rsv1;
  }
  if (!IsControlOpcode(opcode)) {
    message->wire_bytes += header_size + payload_len;
    ++message->frame_count;
    if (!message->compressed && !message->truncated()) {
      // Room for the frame at once, up to a step: a declared length is not yet a received one.
      constexpr uint64_t kMaxAhead = uint64_t{1} << 20;
      const uint64_t size = message->payload.size();
      const uint64_t want = size + payload_len <= cap
                                ? std::min(size + payload_len, size + kMaxAhead)
                                : std::min<uint64_t>(cap, limits.kept_prefix);
      if (want > message->payload.capacity()) Grow(static_cast<size_t>(want));
    }
  }
  control_wire_bytes = header_size + payload_len;
  in_payload = true;
  payload_done = 0;
  if (payload_len == 0) OnFrameComplete(now);
}

// Counts `n` payload bytes and keeps them while the message is within its limits; past the cap
// (or when the budget refuses to grow it) the message keeps only its prefix.
void FrameTap::Impl::AppendCapped(const uint8_t* data, size_t n, bool unmask, uint64_t offset) {
  message->payload_bytes += n;
  if (message->truncated() || n == 0) return;
  const std::string& out = message->payload;
  if (n > cap - out.size()) {
    const size_t prefix = std::min(cap, limits.kept_prefix);
    const size_t take = out.size() < prefix ? std::min(n, prefix - out.size()) : 0;
    if (take > 0 && (out.size() + take <= out.capacity() || Grow(out.size() + take))) {
      Append(data, take, unmask, offset);
    }
    return Truncate(Truncation::kObservationCap);
  }
  if (out.size() + n > out.capacity() && !Grow(out.size() + n)) {
    return Truncate(Truncation::kReassemblyBudget);
  }
  Append(data, n, unmask, offset);
}

void FrameTap::Impl::Append(const uint8_t* data, size_t n, bool unmask, uint64_t offset) {
  std::string& out = message->payload;
  const size_t old_size = out.size();
  out.append(reinterpret_cast<const char*>(data), n);
  if (unmask) Unmask(reinterpret_cast<uint8_t*>(out.data()) + old_size, n, mask_key, offset);
}

// Makes room for `need` payload bytes (doubling, at most the cap), taking the growth from the
// budget first. False when the budget cannot give even `need`.
bool FrameTap::Impl::Grow(size_t need) {
  std::string& out = message->payload;
  size_t target = std::max(need, std::min(cap, std::max<size_t>(out.capacity() * 2, 4096)));
  if (target > reserved && !budget.TryTake(target - reserved)) {
    target = need;
    if (target > reserved && !budget.TryTake(target - reserved)) return false;
  }
  if (target > reserved) reserved = target;
  // A message's first buffer: one the recorder's writer gave back if one fits, else one of the
  // recycler's size class (the budget still counts `target`).
  if (out.empty()) StringRecycler::Process().Reserve(out, target);
  out.reserve(target);
  return true;
}

// The message is not kept whole: its prefix stays, the rest of its memory goes back at once.
void FrameTap::Impl::Truncate(Truncation why) {
  message->truncation = why;
  std::string& out = message->payload;
  const size_t prefix = std::min(cap, limits.kept_prefix);
  if (out.size() > prefix) out.resize(prefix);
  out.shrink_to_fit();
  const size_t keep = std::min(reserved, std::max(out.capacity(), out.size()));
  budget.Give(reserved - keep);
  reserved = keep;
}

// The payload leaves the tap (handed on or dropped): the budget gets its share back.
void FrameTap::Impl::ReleasePayload() {
  budget.Give(reserved);
  reserved = 0;
}

void FrameTap::Impl::ConsumePayload(const uint8_t* data, size_t n) {
  if (n == 0) return;
  if (IsControlOpcode(opcode)) {
    const size_t old_size = control_payload.size();
    control_payload.append(reinterpret_cast<const char*>(data), n);
    if (masked) {
      Unmask(reinterpret_cast<uint8_t*>(control_payload.data()) + old_size, n, mask_key,
             payload_done);
    }
    return;
  }
  if (!message->compressed) return AppendCapped(data, n, masked, payload_done);
  const absl::Status s =
      inflater->Feed(data, n, masked ? &mask_key : nullptr, payload_done,
                     [this](const uint8_t* p, size_t k) { return KeepInflated(p, k); });
  if (!s.ok()) Fail(std::string(s.message()));
}

bool FrameTap::Impl::StartInflating() {
  if (inflater == nullptr) {
    absl::StatusOr<std::unique_ptr<MessageInflater>> made =
        MessageInflater::Create(no_context_takeover);
    if (!made.ok()) {
      Fail(std::string(made.status().message()));
      return false;
    }
    inflater = std::move(*made);
  }
  inflater->StartMessage();
  return true;
}

// A chunk of the message's inflated payload: kept within the caps; past the expansion limit the
// message keeps only its prefix. Returns whether the message still wants output.
bool FrameTap::Impl::KeepInflated(const uint8_t* data, size_t n) {
  AppendCapped(data, n, false, 0);
  if (!message->truncated() && message->payload_bytes > limits.expansion_floor &&
      message->payload_bytes / std::max<uint64_t>(message->wire_bytes, 1) >=
          limits.max_expansion_ratio) {
    Truncate(Truncation::kExpansionRatio);
  }
  return !message->truncated();
}

void FrameTap::Impl::FinishMessage(int64_t now) {
  if (message->compressed) {
    const absl::Status s =
        inflater->FinishMessage([this](const uint8_t* p, size_t n) { return KeepInflated(p, n); });
    if (!s.ok()) return Fail(std::string(s.message()));
  }
  message->last_frame_us = now;
  ReleasePayload();
  std::unique_ptr<Message> done = std::move(message);
  Emit(std::move(*done));
}

void FrameTap::Impl::EmitControl(int64_t now) {
  if (opcode == 0x8 && control_payload.size() == 1) return Fail("close frame with a 1-byte body");
  Message msg;
  msg.direction = direction;
  msg.opcode = Opcode{opcode};
  msg.first_frame_us = frame_start_us;
  msg.last_frame_us = now;
  msg.wire_bytes = control_wire_bytes;
  msg.frame_count = 1;
  if (opcode == 0x8 && control_payload.size() >= 2) {
    msg.close_code =
        static_cast<uint16_t>((uint8_t(control_payload[0]) << 8) | uint8_t(control_payload[1]));
    msg.close_reason = control_payload.substr(2);
  }
  msg.payload = control_payload.substr(0, std::min(control_payload.size(), cap));
  msg.payload_bytes = control_payload.size();
  if (msg.payload.size() < control_payload.size()) msg.truncation = Truncation::kObservationCap;
  Emit(std::move(msg));
}

void FrameTap::Impl::OnFrameComplete(int64_t now) {
  in_payload = false;
  if (IsControlOpcode(opcode)) return EmitControl(now);
  if (fin) FinishMessage(now);
}

FrameTap::FrameTap(Direction direction, PerMessageDeflate deflate, MessageObserver& observer,
                   TapLimits limits)
    : impl_(std::make_unique<Impl>(*this, direction, deflate, observer, limits)) {
  g_instances_created.fetch_add(1, std::memory_order_relaxed);
}

uint64_t FrameTap::instances_created() {
  return g_instances_created.load(std::memory_order_relaxed);
}

FrameTap::~FrameTap() = default;

void FrameTap::Feed(std::span<const uint8_t> bytes, int64_t now_us) noexcept {
  if (failed_ || bytes.empty()) return;
  try {
    impl_->Feed(bytes.data(), bytes.size(), now_us);
  } catch (const std::exception& e) {
    impl_->Fail(StrCat("internal error: ", e.what()));
  } catch (...) {
    impl_->Fail("internal error");
  }
}

}  // namespace relaytap::proxy::ws

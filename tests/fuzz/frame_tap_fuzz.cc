// libFuzzer entry point for the passive WebSocket frame tap. The first input byte picks the
// direction, deflate parameters and split size; the rest is fed as wire bytes in slices. The
// limits are small so that inputs of a few kilobytes reach every one of them (cap, expansion
// ratio, reassembly budget), and each message must keep to them: a truncated message keeps at
// most its prefix, a kept one is whole, and the budget is whole again once the tap is gone.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "proxy/ws/frame_tap.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using relaytap::proxy::ws::TapLimits;

constexpr TapLimits kLimits{.observed_payload_cap = 4096,
                            .max_expansion_ratio = 20,
                            .expansion_floor = 1024,
                            .kept_prefix = 512};

struct CheckingObserver : relaytap::proxy::ws::MessageObserver {
  void OnMessage(relaytap::proxy::ws::Message&& m) override {
    if (m.truncated()) {
      FUZZ_CHECK(m.payload.size() <= kLimits.kept_prefix);
    } else {
      FUZZ_CHECK(m.payload.size() == m.payload_bytes);
      FUZZ_CHECK(m.payload.size() <= kLimits.observed_payload_cap);
    }
  }
  void OnTapError(relaytap::proxy::ws::Direction, std::string_view) override {}
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace relaytap::proxy::ws;
  if (size == 0) return 0;
  const uint8_t knobs = data[0];
  PerMessageDeflate pmd;
  pmd.enabled = (knobs & 1) != 0;
  pmd.client_no_context_takeover = pmd.server_no_context_takeover = (knobs & 2) != 0;
  const Direction direction = (knobs & 4) ? Direction::kServerToClient : Direction::kClientToServer;
  const size_t split = 1 + (knobs >> 3);
  CheckingObserver observer;
  ReassemblyBudget budget(8192);
  TapLimits limits = kLimits;
  limits.budget = &budget;
  {
    FrameTap tap(direction, pmd, observer, limits);
    std::span<const uint8_t> rest(data + 1, size - 1);
    for (size_t at = 0; at < rest.size(); at += split) {
      tap.Feed(rest.subspan(at, std::min(split, rest.size() - at)), static_cast<int64_t>(at));
    }
  }
  FUZZ_CHECK(budget.held() == 0);
  return 0;
}

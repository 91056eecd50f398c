// libFuzzer entry point for the passive WebSocket frame tap. The first input byte picks the
// direction, deflate parameters and split size; the rest is fed as wire bytes in slices.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "proxy/ws/frame_tap.h"

namespace {

struct NullObserver : relaytap::proxy::ws::MessageObserver {
  void OnMessage(relaytap::proxy::ws::Message&&) override {}
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
  NullObserver observer;
  FrameTap tap(direction, pmd, observer, {.observed_payload_cap = 4096});
  std::span<const uint8_t> rest(data + 1, size - 1);
  for (size_t at = 0; at < rest.size(); at += split) {
    tap.Feed(rest.subspan(at, std::min(split, rest.size() - at)), static_cast<int64_t>(at));
  }
  return 0;
}

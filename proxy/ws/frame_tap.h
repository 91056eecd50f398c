#pragma once
// Passive RFC 6455 decoder for one direction of a relayed WebSocket. It is fed a *copy* of the
// bytes the pump relays and reassembles whole messages (unmasking, fragmentation, interleaved
// control frames, 7/16/64-bit lengths, close code and reason, RSV1 + permessage-deflate with the
// negotiated window bits and context takeover). It never touches the relayed bytes; a frame it
// cannot decode is reported once through the observer and decoding stops for that direction.
//
// Pure and single-threaded: owned by the pump coroutine of its direction. Fuzzable.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "proxy/ws/extensions.h"

namespace relaytap::proxy::ws {

enum class Direction { kClientToServer, kServerToClient };
std::string_view DirectionName(Direction d);  // "client" / "server" (who sent it)

enum class Opcode : uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};
std::string_view OpcodeName(Opcode op);

struct Message {
  Direction direction = Direction::kClientToServer;
  Opcode opcode = Opcode::kText;  // kText, kBinary, kClose, kPing or kPong; never kContinuation
  int64_t first_frame_us = 0;     // UTC micros of the Feed() call that delivered the first byte
  int64_t last_frame_us = 0;      // UTC micros of the Feed() call that completed the last frame
  uint64_t wire_bytes = 0;        // frame headers + payloads as seen on the wire
  uint32_t frame_count = 0;
  bool compressed = false;  // RSV1 was set on the first frame
  std::string payload;      // unmasked and, if compressed, inflated
  bool truncated = false;   // payload exceeded the observation cap; `payload` holds a prefix
  std::optional<uint16_t> close_code;  // kClose with a body
  std::string close_reason;            // kClose only
};

class MessageObserver {
 public:
  virtual ~MessageObserver() = default;
  virtual void OnMessage(Message&& message) = 0;
  // Called at most once per tap, when decoding stops. The relay is unaffected.
  virtual void OnTapError(Direction direction, std::string_view reason) = 0;
};

class FrameTap {
 public:
  // Messages whose (inflated) payload exceeds this are still counted and timed, but the
  // observer receives only the first `kDefaultObservedPayloadCap` bytes with `truncated = true`.
  static constexpr size_t kDefaultObservedPayloadCap = 64u << 20;

  FrameTap(Direction direction, PerMessageDeflate deflate, MessageObserver& observer,
           size_t observed_payload_cap = kDefaultObservedPayloadCap);
  ~FrameTap();
  FrameTap(const FrameTap&) = delete;
  FrameTap& operator=(const FrameTap&) = delete;

  // Feeds the next relayed bytes (any split). `now_us` is UTC microseconds. Never throws.
  void Feed(std::span<const uint8_t> bytes, int64_t now_us) noexcept;
  void Feed(std::string_view bytes, int64_t now_us) noexcept {
    Feed(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()),
         now_us);
  }

  bool failed() const { return failed_; }
  uint64_t messages() const { return messages_; }

  // Taps constructed in this process so far (all threads): lets tests check that a session
  // nobody observes decodes nothing.
  static uint64_t instances_created();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  bool failed_ = false;
  uint64_t messages_ = 0;
};

}  // namespace relaytap::proxy::ws

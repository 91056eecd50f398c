#pragma once
// Passive RFC 6455 decoder for one direction of a relayed WebSocket. It is fed a *copy* of the
// bytes the pump relays and reassembles whole messages (unmasking, fragmentation, interleaved
// control frames, 7/16/64-bit lengths, close code and reason, RSV1 + permessage-deflate with the
// negotiated window bits and context takeover). It never touches the relayed bytes; a frame it
// cannot decode is reported once through the observer and decoding stops for that direction.
//
// Pure and single-threaded: owned by the pump coroutine of its direction. Fuzzable. A message's
// payload buffer comes from StringRecycler::Process() when a consumer has given one back there
// (base/string_recycler.h); otherwise it is allocated as usual.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "proxy/ws/extensions.h"
#include "proxy/ws/reassembly_budget.h"

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

// Why a message's payload was not kept whole. The message is still counted, timed and handed
// on, with the first bytes of its payload (TapLimits::kept_prefix) and its full size.
enum class Truncation : uint8_t {
  kNone,
  kObservationCap,    // the payload is longer than TapLimits::observed_payload_cap
  kExpansionRatio,    // inflating it gave more than max_expansion_ratio times its wire bytes
  kReassemblyBudget,  // the process-wide ReassemblyBudget was spent
};

struct Message {
  Direction direction = Direction::kClientToServer;
  Opcode opcode = Opcode::kText;  // kText, kBinary, kClose, kPing or kPong; never kContinuation
  int64_t first_frame_us = 0;     // UTC micros of the Feed() call that delivered the first byte
  int64_t last_frame_us = 0;      // UTC micros of the Feed() call that completed the last frame
  uint64_t wire_bytes = 0;        // frame headers + payloads as seen on the wire
  uint32_t frame_count = 0;
  bool compressed = false;  // RSV1 was set on the first frame
  std::string payload;      // unmasked and, if compressed, inflated; a prefix when truncated
  // Payload bytes (inflated) the message carried, kept or not. When a compressed message with no
  // context takeover is not kept, inflating stops there and this is a lower bound.
  uint64_t payload_bytes = 0;
  Truncation truncation = Truncation::kNone;
  bool truncated() const { return truncation != Truncation::kNone; }
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

// What one tap may spend on a message's payload. Past any limit the message is truncated: counted,
// timed and handed on with its first `kept_prefix` bytes (enough to read its type), so that it
// is recorded as metadata rather than lost, and the memory it would have taken is never taken.
struct TapLimits {
  // The Realtime API takes up to 15 MiB of audio per input_audio_buffer.append: 20 MiB of
  // base64 and its envelope fit. The recorder's queue (64 MiB) holds more than one such message.
  static constexpr size_t kDefaultObservedPayloadCap = size_t{24} << 20;

  size_t observed_payload_cap = kDefaultObservedPayloadCap;
  // A compressed message that inflates past `expansion_floor` bytes and past this many times its
  // wire bytes is a decompression bomb, not traffic: JSON compresses 5 to 20 times, base64 audio
  // hardly at all, and deflate's own limit is 1032 times.
  uint32_t max_expansion_ratio = 100;
  size_t expansion_floor = size_t{1} << 20;
  size_t kept_prefix = size_t{64} << 10;
  ReassemblyBudget* budget = nullptr;  // null: ReassemblyBudget::Process()
};
std::string_view TruncationName(Truncation t);  // "observation_cap", "expansion_ratio", ...

class FrameTap {
 public:
  FrameTap(Direction direction, PerMessageDeflate deflate, MessageObserver& observer,
           TapLimits limits = {});
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

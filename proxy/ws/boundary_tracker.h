#pragma once
// Tiny RFC 6455 frame-header tracker for one direction of a relayed WebSocket: it follows frame
// headers and payload lengths (7/16/64-bit, masked or not) of the bytes the pump relays, without
// decoding payloads, so the pump knows where a *message* ends: after a frame with FIN set whose
// opcode is not a continuation of an open fragmented message, or after any control frame outside
// a fragmented message. Injected frames may be written only there.
//
// Pure and single-threaded; fed any split of the stream.

#include <cstddef>
#include <cstdint>
#include <span>

namespace relaytap::proxy::ws {

class BoundaryTracker {
 public:
  // Consumes bytes until the stream reaches a message boundary (inclusive) or `bytes` ends;
  // returns how many were consumed. Call again with the rest to continue.
  size_t ConsumeToBoundary(std::span<const uint8_t> bytes);
  // Consumes all of `bytes`.
  void Consume(std::span<const uint8_t> bytes);

  // True at the start of the stream and right after a complete message (data message or a
  // control frame between messages). False inside a frame or between fragments of a message.
  bool at_boundary() const { return at_boundary_; }
  // A frame header this tracker cannot follow (reserved opcode, 64-bit length with the top bit
  // set, a control frame that is fragmented or longer than 125): tracking stops, never at a
  // boundary again (so nothing is ever injected into a stream we do not understand).
  bool failed() const { return failed_; }
  uint64_t messages() const { return messages_; }

 private:
  size_t ConsumeHeader(std::span<const uint8_t> bytes);
  void HeaderDone();

  uint8_t header_[14] = {};
  size_t header_have_ = 0;
  size_t header_need_ = 2;
  uint64_t payload_left_ = 0;
  bool in_payload_ = false;
  bool fin_ = false;
  uint8_t opcode_ = 0;
  bool in_fragmented_ = false;
  bool at_boundary_ = true;
  bool failed_ = false;
  uint64_t messages_ = 0;
};

// The header of one frame, as far as the gates need it.
struct FrameHeader {
  bool fin = false;
  bool rsv1 = false;
  uint8_t opcode = 0;
  bool masked = false;
  uint8_t mask[4] = {};
  uint64_t payload_len = 0;
  size_t header_len = 0;
};

// Parses a frame header from the start of `bytes`: 0 when more bytes are needed, else the header
// length (and fills *out). Returns SIZE_MAX for a length with the top bit set.
size_t ParseFrameHeader(std::span<const uint8_t> bytes, FrameHeader* out);

}  // namespace relaytap::proxy::ws

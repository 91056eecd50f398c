#pragma once
// Splits the client -> server byte stream of a WebSocket into what may be written at once and the
// candidate messages that must be decided first: a complete, unfragmented text frame (FIN set,
// opcode text, outside a fragmented message) of at most `max_candidate_bytes` payload. Every other
// byte passes through in order and unchanged (large frames stream through without buffering).
// The gate never changes bytes: a candidate's `frame` is the frame exactly as received.
//
// Pure and single-threaded; fed any split of the stream.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proxy/ws/boundary_tracker.h"
#include "proxy/ws/extensions.h"

namespace relaytap::proxy::ws {

struct GateSegment {
  bool candidate = false;
  std::string bytes;   // pass-through bytes, or the whole candidate frame (header + payload)
  FrameHeader header;  // candidates only
};

class MessageGate {
 public:
  static constexpr size_t kDefaultMaxCandidateBytes = 1u << 20;
  explicit MessageGate(size_t max_candidate_bytes = kDefaultMaxCandidateBytes)
      : max_candidate_bytes_(max_candidate_bytes) {}

  // Appends the segments `bytes` completes to *out, in stream order.
  void Feed(std::span<const uint8_t> bytes, std::vector<GateSegment>* out);
  bool failed() const { return failed_; }  // an unparseable header: everything passes through

 private:
  void StartFrame(std::vector<GateSegment>* out);
  void Emit(std::string bytes, bool candidate, std::vector<GateSegment>* out);

  const size_t max_candidate_bytes_;
  std::string pending_;  // header bytes so far, or the candidate frame so far
  FrameHeader header_;
  bool have_header_ = false;
  bool candidate_ = false;
  uint64_t passthrough_left_ = 0;
  bool in_fragmented_ = false;
  bool failed_ = false;
};

// The payload of a candidate frame, unmasked and (if RSV1) inflated as a standalone
// permessage-deflate message (valid only with client_no_context_takeover). At most `max_bytes`
// after inflating, else an error.
absl::StatusOr<std::string> CandidatePayload(const GateSegment& frame, size_t max_bytes);

}  // namespace relaytap::proxy::ws

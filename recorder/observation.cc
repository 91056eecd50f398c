#include "recorder/observation.h"

namespace relaytap::recorder {
namespace {

uint64_t HeadersBytes(const Headers& h) {
  uint64_t n = h.capacity() * sizeof(Headers::value_type);
  for (const auto& [name, value] : h) n += name.capacity() + value.capacity();
  return n;
}

struct Sizer {
  uint64_t operator()(const ConnectionOpened& o) const {
    return o.client_address.capacity() + o.target_host.capacity();
  }
  uint64_t operator()(const ConnectionClosed& o) const {
    return o.upstream_address.capacity() + 2 * 64;
  }
  uint64_t operator()(const Exchange& o) const {
    uint64_t n = o.method.capacity() + o.host.capacity() + o.target.capacity() +
                 HeadersBytes(o.request_headers) + HeadersBytes(o.response_headers) +
                 o.request_body.bytes.capacity() + o.response_body.bytes.capacity() +
                 o.local_error_code.capacity() + o.error_stage.capacity() +
                 o.error_reason.capacity();
    for (const SseEvent& e : o.sse_events)
      n += sizeof(SseEvent) + e.event.capacity() + e.data.capacity();
    n += o.sse_capture.bytes.capacity() +
         o.sse_capture.chunk_ends.capacity() * sizeof(o.sse_capture.chunk_ends[0]);
    return n;
  }
  uint64_t operator()(const WsMessage& o) const {
    return o.payload.capacity() + o.close_reason.capacity();
  }
  uint64_t operator()(const WsSessionClosed& o) const {
    return o.subprotocol.capacity() + o.extensions.capacity() + o.tap_error.capacity();
  }
  uint64_t operator()(const GuardDecision& o) const {
    return o.key.capacity() + o.mode.capacity() + o.decision.capacity() + o.reason.capacity() +
           o.counts.capacity();
  }
};

}  // namespace

// Approximate: the variant itself plus the heap its strings and vectors own (capacity, not
// size, since that is what the queue actually holds). Allocator overhead is not counted.
uint64_t ApproximateBytes(const Observation& obs) {
  return sizeof(Observation) + std::visit(Sizer{}, obs);
}

}  // namespace relaytap::recorder

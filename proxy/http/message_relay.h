#pragma once
// The pieces both halves of an exchange use: parser limits, the raw view of a parsed head, and
// the body relay that forwards a message body exactly as it arrives (Content-Length, chunked or
// until EOF) with back-pressure.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>

#include "proxy/http/raw_parser.h"
#include "proxy/stream/byte_stream.h"
#include "proxy/stream/net.h"

namespace relaytap::proxy::http_relay {

// Bodies are sampled for their redacted shape; realtime session configs and chat requests fit.
inline constexpr size_t kBodySampleBytes = 256 * 1024;

// A head may be up to 64 KiB; a body has no limit (it is relayed, not held); the head is parsed
// on its own first (not eager), so the body's bytes stay in the buffer for the relay.
template <bool isRequest>
void PrepareParser(RawParser<isRequest>& p) {
  p.header_limit(64 * 1024);
  p.body_limit(std::numeric_limits<std::uint64_t>::max());
  p.eager(false);
}

// The first `n` bytes of `b` (a head ReadHeader just parsed).
inline std::string_view HeadView(const beast::flat_buffer& b, size_t n) {
  return {static_cast<const char*>(b.data().data()), n};
}

struct BodyResult {
  error_code read_ec;   // reading from the source failed (or the message was malformed)
  error_code write_ec;  // writing to the sink failed
  bool complete = false;
  bool malformed = false;  // the parser rejected the bytes (read_ec says how), not an I/O end
};

// Forwards the body of the message whose head `parser` just parsed, exactly as it arrives;
// bytes written to `to` are added to `counter`. After a failed write the body is still read to
// its end (so the parser's view stays whole) but nothing more is written.
template <bool isRequest>
Awaitable<BodyResult> RelayBody(ByteStream& from, beast::flat_buffer& buf,
                                RawParser<isRequest>& parser, ByteStream& to, uint64_t& counter);

extern template Awaitable<BodyResult> RelayBody<true>(ByteStream&, beast::flat_buffer&,
                                                      RawParser<true>&, ByteStream&, uint64_t&);
extern template Awaitable<BodyResult> RelayBody<false>(ByteStream&, beast::flat_buffer&,
                                                       RawParser<false>&, ByteStream&, uint64_t&);

}  // namespace relaytap::proxy::http_relay

#include "proxy/http/message_relay.h"

namespace relaytap::proxy::http_relay {

template <bool isRequest>
Awaitable<BodyResult> RelayBody(ByteStream& from, beast::flat_buffer& buf,
                                RawParser<isRequest>& parser, ByteStream& to, uint64_t& counter) {
  constexpr size_t kReadChunk = 32 * 1024;
  BodyResult r;
  parser.eager(true);
  while (!parser.is_done()) {
    if (buf.size() > 0) {
      error_code pec;
      size_t used = parser.put(buf.data(), pec);
      if (pec && pec != http::error::need_more) {
        r.read_ec = pec;
        r.malformed = true;
        co_return r;
      }
      if (used > 0) {
        if (!r.write_ec) {
          auto [wec, wn] = co_await to.WriteAll(net::buffer(buf.data().data(), used));
          r.write_ec = wec;
          counter += wn;
        }
        buf.consume(used);
        continue;
      }
    }
    auto [ec, n] = co_await from.ReadSome(buf.prepare(kReadChunk));
    buf.commit(n);
    if (ec == net::error::eof || ec == ssl::error::stream_truncated) {
      if (buf.size() > 0) continue;  // let the parser see the last bytes first
      error_code eec;
      parser.put_eof(eec);  // completes a body delimited by the end of the connection
      if (eec) r.read_ec = eec;
      break;
    }
    if (ec) {
      r.read_ec = ec;
      co_return r;
    }
  }
  r.complete = parser.is_done();
  co_return r;
}

template Awaitable<BodyResult> RelayBody<true>(ByteStream&, beast::flat_buffer&, RawParser<true>&,
                                               ByteStream&, uint64_t&);
template Awaitable<BodyResult> RelayBody<false>(ByteStream&, beast::flat_buffer&, RawParser<false>&,
                                                ByteStream&, uint64_t&);

}  // namespace relaytap::proxy::http_relay

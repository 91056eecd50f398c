#pragma once
// A Beast parser that keeps the header fields and *discards* the body: the relay feeds it a copy
// of the bytes it forwards (put()) only to learn where each message ends (Content-Length, chunked,
// until-EOF, no body) and what the header says. Bodies are forwarded as read, never rebuilt.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proxy/stream/byte_stream.h"
#include "proxy/stream/net.h"

namespace relaytap::proxy::http_relay {

template <bool isRequest>
class RawParser final : public http::basic_parser<isRequest> {
 public:
  using Field = std::pair<std::string, std::string>;

  std::string method;  // requests
  std::string target;  // requests
  int status = 0;      // responses
  int version = 11;
  std::vector<Field> fields;
  uint64_t body_bytes = 0;
  std::optional<uint64_t> content_length;

  // Observation: the first `sample_cap` decoded body bytes are kept in `body_sample`, and every
  // decoded chunk goes to `on_body` when set (SSE parsing). Both are copies; off by default.
  size_t sample_cap = 0;
  std::string body_sample;
  bool sample_truncated = false;
  std::function<void(std::string_view)> on_body;

  // First value of a field, compared case-insensitively; nullptr if absent.
  const std::string* Find(std::string_view name) const {
    for (const Field& f : fields) {
      if (beast::iequals(f.first, name)) return &f.second;
    }
    return nullptr;
  }
  // True if a comma-separated field (e.g. Connection) contains `token`.
  bool HasToken(std::string_view name, std::string_view token) const {
    for (const Field& f : fields) {
      if (!beast::iequals(f.first, name)) continue;
      for (auto const& t : http::token_list(f.second)) {
        if (beast::iequals(t, token)) return true;
      }
    }
    return false;
  }

 private:
  void on_request_impl(http::verb, beast::string_view method_str, beast::string_view target_str,
                       int v, error_code&) override {
    method.assign(method_str.data(), method_str.size());
    target.assign(target_str.data(), target_str.size());
    version = v;
  }
  void on_response_impl(int code, beast::string_view, int v, error_code&) override {
    status = code;
    version = v;
  }
  void on_field_impl(http::field, beast::string_view name, beast::string_view value,
                     error_code&) override {
    fields.emplace_back(std::string(name.data(), name.size()),
                        std::string(value.data(), value.size()));
  }
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(boost::optional<std::uint64_t> const& len, error_code&) override {
    if (len) content_length = *len;
  }
  void Observe(beast::string_view body) {
    body_bytes += body.size();
    if (body_sample.size() < sample_cap) {
      size_t take = std::min(body.size(), sample_cap - body_sample.size());
      body_sample.append(body.data(), take);
      if (take < body.size()) sample_truncated = true;
    } else if (!body.empty() && sample_cap > 0) {
      sample_truncated = true;
    }
    if (on_body) on_body(std::string_view(body.data(), body.size()));
  }
  std::size_t on_body_impl(beast::string_view body, error_code&) override {
    Observe(body);
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body, error_code&) override {
    Observe(body);
    return body.size();
  }
  void on_finish_impl(error_code&) override {}
};

// How long reading a head may take. `idle` bounds each wait for bytes (the first included);
// `total` bounds the whole head, counted from its first byte, or from the call when
// `total_from_call`: a head trickled in a byte at a time cannot hold a connection longer than
// that. Zero: no bound of that kind.
struct HeadTimeouts {
  std::chrono::milliseconds idle{0};
  std::chrono::milliseconds total{0};
  bool total_from_call = false;
};

// Reads from `s` until `parser` holds a complete header; the header's bytes stay at the front of
// `buf` (parse a copy, forward the original), and their count is stored in `header_size`.
// Errors: the parser's (bad request, header_limit), the stream's (a timeout when `timeouts`
// struck: `buf` then holds what came of the head, if anything), or partial_message on EOF
// inside a header. The stream's timeout is `timeouts.idle` afterwards when that is set.
template <bool isRequest>
Awaitable<error_code> ReadHeader(ByteStream& s, beast::flat_buffer& buf,
                                 RawParser<isRequest>& parser, size_t& header_size,
                                 HeadTimeouts timeouts = {}) {
  using Clock = std::chrono::steady_clock;
  constexpr size_t kReadChunk = 32 * 1024;
  std::optional<Clock::time_point> deadline;
  if (timeouts.total.count() > 0 && timeouts.total_from_call) {
    deadline = Clock::now() + timeouts.total;
  }
  const auto restore = [&] {
    if (timeouts.idle.count() > 0) s.SetTimeout(timeouts.idle);
  };
  // Bytes of `buf` the parser has taken. Beast's parser takes the start line and each whole field
  // as soon as they are complete, even when it then needs more: they must not be fed again.
  size_t parsed = 0;
  for (;;) {
    if (buf.size() > parsed) {
      error_code ec;
      parsed += parser.put(buf.data() + parsed, ec);
      if (!ec && parser.is_header_done()) {
        header_size = parsed;
        co_return error_code{};
      }
      if (ec && ec != http::error::need_more) {
        restore();
        co_return ec;
      }
      if (!deadline && timeouts.total.count() > 0) deadline = Clock::now() + timeouts.total;
    }
    if (deadline) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now());
      if (left.count() <= 0) {
        restore();
        co_return error_code(beast::error::timeout);
      }
      s.SetTimeout(timeouts.idle.count() > 0 ? std::min(timeouts.idle, left) : left);
    }
    auto [ec, n] = co_await s.ReadSome(buf.prepare(kReadChunk));
    buf.commit(n);
    if (ec) {
      restore();
      if (ec == net::error::eof && buf.size() > 0) co_return http::error::partial_message;
      co_return ec;
    }
  }
}

}  // namespace relaytap::proxy::http_relay

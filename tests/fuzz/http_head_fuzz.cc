// libFuzzer target: HTTP/1.1 heads as the proxy reads them (RawParser fed the way ReadHeader feeds
// it, in slices), then the proxy's only header edits (RewriteHeaderBlock) and the absolute-form
// split (SplitAbsoluteHttpTarget). The first byte picks request/response and the slice size.
// Invariants: the rewrite never grows a head by more than the new target, the rewritten head
// parses again with the same start line and a subsequence of the fields, none of them Proxy-*,
// Keep-Alive or nominated by Connection; a split target has a host, a port and an origin-form
// that starts with '/', and splitting it again gives the same parts.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "base/ascii.h"
#include "proxy/http/header_rules.h"
#include "proxy/http/message_relay.h"
#include "proxy/http/raw_parser.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

namespace beast = relaytap::beast;
namespace http = relaytap::http;
using relaytap::error_code;
using relaytap::proxy::http_relay::RawParser;

// Feeds `bytes` in slices of `split` as ReadHeader does (what the parser has not taken yet,
// after each read). Returns the head's size, or 0 when it is incomplete or rejected.
template <bool isRequest>
size_t ReadHead(std::string_view bytes, size_t split, RawParser<isRequest>& parser) {
  relaytap::proxy::http_relay::PrepareParser(parser);
  beast::flat_buffer buf;
  size_t parsed = 0;
  for (size_t at = 0; at < bytes.size(); at += split) {
    const size_t n = std::min(split, bytes.size() - at);
    auto dst = buf.prepare(n);
    std::copy_n(bytes.data() + at, n, static_cast<char*>(dst.data()));
    buf.commit(n);
    error_code ec;
    parsed += parser.put(buf.data() + parsed, ec);
    if (!ec && parser.is_header_done()) return parsed;
    if (ec && ec != http::error::need_more) return 0;
  }
  return 0;
}

bool IsSubsequence(const std::vector<std::pair<std::string, std::string>>& sub,
                   const std::vector<std::pair<std::string, std::string>>& all) {
  size_t i = 0;
  for (const auto& f : all) {
    if (i < sub.size() && sub[i] == f) ++i;
  }
  return i == sub.size();
}

template <bool isRequest>
void CheckRewrite(std::string_view head, const RawParser<isRequest>& parsed,
                  std::string_view new_target) {
  const std::string out = relaytap::proxy::http_relay::RewriteHeaderBlock(head, new_target);
  FUZZ_CHECK(out.size() <= head.size() + new_target.size());
  RawParser<isRequest> again;
  FUZZ_CHECK(ReadHead(out, out.size(), again) == out.size());
  FUZZ_CHECK(again.version == parsed.version);
  if constexpr (isRequest) {
    FUZZ_CHECK(again.method == parsed.method);
    FUZZ_CHECK(again.target == (new_target.empty() ? parsed.target : std::string(new_target)));
  } else {
    FUZZ_CHECK(again.status == parsed.status);
  }
  FUZZ_CHECK(IsSubsequence(again.fields, parsed.fields));
  for (const auto& [name, value] : again.fields) {
    FUZZ_CHECK(!relaytap::StartsWithIgnoreCase(name, "proxy-"));
    FUZZ_CHECK(!relaytap::EqualsIgnoreCase(name, "keep-alive"));
  }
}

void CheckSplit(std::string_view target) {
  std::string host, origin;
  uint16_t port = 0;
  if (!relaytap::proxy::http_relay::SplitAbsoluteHttpTarget(target, &host, &port, &origin)) return;
  FUZZ_CHECK(!host.empty());
  FUZZ_CHECK(port != 0);
  FUZZ_CHECK(!origin.empty() && origin.front() == '/');
  FUZZ_CHECK(host.find_first_of("/?") == std::string::npos);
  const bool bracket = host.find(':') != std::string::npos;
  const std::string rebuilt =
      "http://" + (bracket ? "[" + host + "]" : host) + ":" + std::to_string(port) + origin;
  std::string host2, origin2;
  uint16_t port2 = 0;
  FUZZ_CHECK(
      relaytap::proxy::http_relay::SplitAbsoluteHttpTarget(rebuilt, &host2, &port2, &origin2));
  if (host2 != host || port2 != port || origin2 != origin) {
    std::fprintf(stderr, "split \"%s\": %s %u %s; again: %s %u %s\n", rebuilt.c_str(), host.c_str(),
                 port, origin.c_str(), host2.c_str(), port2, origin2.c_str());
  }
  FUZZ_CHECK(host2 == host && port2 == port && origin2 == origin);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t knobs = data[0];
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const size_t split = (knobs & 0x80) ? rest.size() + 1 : 1 + (knobs >> 1);
  if (knobs & 1) {
    RawParser<false> res;
    const size_t n = ReadHead(rest, split, res);
    if (n > 0) CheckRewrite(rest.substr(0, n), res, {});
    return 0;
  }
  CheckSplit(rest.substr(0, std::min<size_t>(rest.size(), 2048)));
  RawParser<true> req;
  const size_t n = ReadHead(rest, split, req);
  if (n == 0) return 0;
  CheckSplit(req.target);
  CheckRewrite(rest.substr(0, n), req, {});
  std::string host, origin;
  uint16_t port = 0;
  if (relaytap::proxy::http_relay::SplitAbsoluteHttpTarget(req.target, &host, &port, &origin)) {
    CheckRewrite(rest.substr(0, n), req, origin);
  }
  return 0;
}

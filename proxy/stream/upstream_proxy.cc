#include "proxy/stream/upstream_proxy.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <array>

#include "base/ascii.h"
#include "base/str_cat.h"
#include "proxy/stream/errors.h"

namespace relaytap::proxy {
namespace {

using namespace net::experimental::awaitable_operators;

// An answer head longer than this is not a proxy's answer to CONNECT.
constexpr size_t kMaxAnswerHead = 16 * 1024;

std::string RandomMarker() {
  std::array<unsigned char, 8> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    // No randomness: a per-process value still tells this process from its peers.
    const uint64_t pid = static_cast<uint64_t>(::getpid());
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<unsigned char>(pid >> (8 * i));
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "relaytap-";
  for (unsigned char b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

struct AnswerHead {
  error_code ec;
  std::string bytes;
};

// Peeks at what the proxy sent and consumes only up to the end of its head, so the tunnel's
// first bytes (a server that speaks first) are not lost. Bounded by kMaxAnswerHead.
Awaitable<AnswerHead> ReadAnswerHead(TcpStream& stream) {
  AnswerHead head;
  std::array<char, 4096> peek{};
  auto& socket = stream.socket();
  while (head.bytes.size() < kMaxAnswerHead) {
    auto [pec, n] = co_await socket.async_receive(net::buffer(peek), tcp::socket::message_peek);
    if (pec) {
      head.ec = pec;
      co_return head;
    }
    const size_t from = head.bytes.size() >= 3 ? head.bytes.size() - 3 : 0;
    const std::string joined = head.bytes + std::string(peek.data(), n);
    const size_t end = joined.find("\r\n\r\n", from);
    const size_t take = end == std::string::npos ? n : end + 4 - head.bytes.size();
    auto [rec, m] = co_await net::async_read(socket, net::buffer(peek.data(), take));
    if (rec) {
      head.ec = rec;
      co_return head;
    }
    head.bytes.append(peek.data(), m);
    if (end != std::string::npos) co_return head;
  }
  head.ec = http::error::header_limit;
  co_return head;
}

Awaitable<AnswerHead> Exchange(TcpStream& stream, const std::string& request) {
  auto [wec, wn] = co_await net::async_write(stream.socket(), net::buffer(request));
  if (wec) co_return AnswerHead{wec, {}};
  co_return co_await ReadAnswerHead(stream);
}

// What a non-2xx answer means, in words an operator can act on.
std::string Refusal(const UpstreamProxy& proxy, const HostPort& target, int status) {
  beast::string_view phrase = http::obsolete_reason(static_cast<http::status>(status));
  std::string out =
      StrCat("upstream proxy ", proxy.Display(), " answered ", status, " ",
             std::string_view(phrase.data(), phrase.size()), " to CONNECT ", Authority(target));
  if (status == 407) {
    out += proxy.credentials.empty()
               ? " (it wants credentials: http://USER:PASS@ in --upstream-proxy, "
                 "--upstream-proxy-auth-file or --upstream-proxy-auth-env)"
               : " (it rejected the credentials given)";
  }
  return out;
}

}  // namespace

std::string BasicToken(std::string_view user_password) {
  std::string out(4 * ((user_password.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(user_password.data()),
                                static_cast<int>(user_password.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string_view LoopMarker() {
  static const std::string marker = RandomMarker();
  return marker;
}

bool CarriesLoopMarker(const std::vector<std::pair<std::string, std::string>>& fields) {
  for (const auto& [name, value] : fields) {
    if (EqualsIgnoreCase(name, "via") && value.find(LoopMarker()) != std::string::npos) {
      return true;
    }
  }
  return false;
}

std::string BuildConnectRequest(const UpstreamProxy& proxy, const HostPort& target) {
  const std::string authority = Authority(target);
  std::string out = StrCat("CONNECT ", authority, " HTTP/1.1\r\nHost: ", authority, "\r\nVia: 1.1 ",
                           LoopMarker(), "\r\n");
  if (!proxy.credentials.empty()) {
    out += StrCat("Proxy-Authorization: Basic ", BasicToken(proxy.credentials), "\r\n");
  }
  out += "\r\n";
  return out;
}

Awaitable<ProxyConnectResult> ConnectThroughProxy(TcpStream& stream, const UpstreamProxy& proxy,
                                                  const HostPort& target,
                                                  std::chrono::milliseconds timeout) {
  ProxyConnectResult r;
  Timer timer(co_await net::this_coro::executor);
  timer.expires_after(timeout);
  const std::string request = BuildConnectRequest(proxy, target);
  auto raced = co_await (Exchange(stream, request) || timer.async_wait());
  if (raced.index() == 1) {
    r.ec = net::error::timed_out;
    r.reason = StrCat("upstream proxy ", proxy.Display(), " did not answer CONNECT ",
                      Authority(target), " in time");
    co_return r;
  }
  AnswerHead head = std::get<0>(std::move(raced));
  if (head.ec) {
    r.ec = head.ec;
    r.reason = StrCat("upstream proxy ", proxy.Display(),
                      " closed or failed before answering "
                      "CONNECT ",
                      Authority(target), ": ", DescribeError(head.ec));
    co_return r;
  }
  http::response_parser<http::empty_body> parser;
  parser.skip(true);
  error_code pec;
  parser.put(net::buffer(head.bytes), pec);
  if (pec || !parser.is_header_done()) {
    r.ec = pec ? pec : http::error::partial_message;
    r.reason = StrCat("upstream proxy ", proxy.Display(), " sent a malformed answer to CONNECT");
    co_return r;
  }
  r.status = parser.get().result_int();
  if (r.ok()) co_return r;
  r.loop = r.status == 508 && parser.get()["x-relaytap-error"] == kProxyLoopErrorCode;
  r.reason = r.loop ? StrCat("upstream proxy ", proxy.Display(),
                             " leads back to this relaytap (a proxy loop): name the site's proxy "
                             "in --upstream-proxy, not relaytap")
                    : Refusal(proxy, target, r.status);
  co_return r;
}

}  // namespace relaytap::proxy

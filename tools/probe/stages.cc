#include "tools/probe/stages.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <chrono>
#include <ctime>

#include "base/str_cat.h"
#include "proxy/stream/dial.h"
#include "proxy/stream/errors.h"
#include "proxy/tls/contexts.h"
#include "recorder/local_checks.h"
#include "tools/stream/erased_stream.h"

namespace relaytap::tools::probe {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr const char* kCorrelationHeaders[] = {"apim-request-id",      "x-request-id",
                                               "x-ms-region",          "x-ms-client-request-id",
                                               "x-ms-deployment-name", "azureml-model-session",
                                               "openai-processing-ms", "x-relaytap-error"};
constexpr uint64_t kBodyLimit = 1 << 20;

StageResult Begin(Stage stage) { return StageResult{stage, Status::kOk, 0, json::object(), ""}; }

StageResult& Fail(StageResult& r, std::string error) {
  r.status = Status::kFailed;
  r.error = std::move(error);
  return r;
}

std::string NameText(X509_NAME* name) {
  BIO* bio = BIO_new(BIO_s_mem());
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

std::string IsoTime(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return "";
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// The peer's chain as sent (leaf first), the leaf's expiry and the verification result.
json ChainFacts(SSL* ssl) {
  json chain = json::array();
  if (STACK_OF(X509)* certs = SSL_get_peer_cert_chain(ssl)) {
    for (int i = 0; i < sk_X509_num(certs); ++i) {
      X509* x = sk_X509_value(certs, i);
      chain.push_back({{"subject", NameText(X509_get_subject_name(x))},
                       {"issuer", NameText(X509_get_issuer_name(x))}});
    }
  }
  json facts = {{"chain", chain}};
  if (X509* leaf = SSL_get0_peer_certificate(ssl)) {
    facts["leaf_not_after"] = IsoTime(X509_get0_notAfter(leaf));
  }
  return facts;
}

// Verification runs in full and its result is read after the handshake, so that a failure can
// name the chain it failed on. Nothing is sent on a connection that did not verify.
int RecordOnlyVerify(int /*preverify_ok*/, X509_STORE_CTX* /*ctx*/) { return 1; }

net::awaitable<error_code> GetRoot(ErasedStream& s, beast::flat_buffer& buf, const ProbeUrl& url,
                                   std::chrono::milliseconds timeout,
                                   http::response_parser<http::string_body>& parser) {
  http::request<http::empty_body> req{http::verb::get, "/", 11};
  req.set(http::field::host, HostHeader(url));
  req.set(http::field::user_agent, recorder::kProbeUserAgent);
  req.set(http::field::accept, "*/*");
  beast::get_lowest_layer(s).expires_after(timeout);
  auto [wec, wn] = co_await http::async_write(s, req);
  if (wec) co_return wec;
  parser.body_limit(kBodyLimit);
  auto [rec, rn] = co_await http::async_read(s, buf, parser);
  co_return rec;
}

}  // namespace

std::string HostHeader(const ProbeUrl& url) {
  const bool v6 = url.host.find(':') != std::string::npos;
  const std::string host = v6 ? StrCat("[", url.host, "]") : url.host;
  return url.port == (url.tls() ? 443 : 80) ? host : StrCat(host, ":", url.port);
}

json CorrelationHeaders(const http::fields& fields) {
  json out = json::object();
  for (const char* name : kCorrelationHeaders) {
    auto it = fields.find(name);
    if (it != fields.end()) out[name] = std::string(it->value());
  }
  return out;
}

std::string ErrorMessageOf(const std::string& body) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.contains("error") && j["error"].is_object()) {
    const json& e = j["error"];
    std::string code =
        e.contains("code") && e["code"].is_string() ? e["code"].get<std::string>() : "";
    std::string msg =
        e.contains("message") && e["message"].is_string() ? e["message"].get<std::string>() : "";
    return code.empty() ? msg : StrCat(code, ": ", msg);
  }
  return body.substr(0, 200);
}

proxy::HostPort ConnectAuthority(const ProbeOptions& o) {
  return proxy::ResolveConnectTo(o.connect_to, proxy::HostPort{o.url.host, o.url.port});
}

proxy::HostPort DialTarget(const ProbeOptions& o) {
  return o.proxy ? *o.proxy : ConnectAuthority(o);
}

net::awaitable<StageResult> DnsStage(const ProbeOptions& o, Connection& c) {
  StageResult r = Begin(Stage::kDns);
  const auto t0 = Clock::now();
  const proxy::HostPort dial = DialTarget(o);
  r.detail["host"] = dial.host;
  if (o.proxy) r.detail["via_proxy"] = true;  // the proxy resolves the URL's host itself
  Resolver resolver(co_await net::this_coro::executor);
  Timer timer(co_await net::this_coro::executor);
  timer.expires_after(o.timeout);
  using namespace net::experimental::awaitable_operators;
  auto raced =
      co_await (resolver.async_resolve(dial.host, std::to_string(dial.port)) || timer.async_wait());
  r.ms = MsSince(t0);
  if (raced.index() == 1) co_return Fail(r, StrCat("resolving ", dial.host, " timed out"));
  auto [ec, results] = std::get<0>(std::move(raced));
  if (ec) co_return Fail(r, StrCat("cannot resolve ", dial.host, ": ", proxy::DescribeError(ec)));
  json addresses = json::array();
  c.endpoints.clear();
  for (const auto& entry : results) {
    c.endpoints.push_back(entry.endpoint());
    addresses.push_back(entry.endpoint().address().to_string());
  }
  r.detail["addresses"] = addresses;
  co_return r;
}

net::awaitable<StageResult> TcpStage(const ProbeOptions& o, Connection& c) {
  StageResult r = Begin(Stage::kTcp);
  const auto t0 = Clock::now();
  c.tls.reset();
  c.buffer.clear();
  c.plain = std::make_unique<TcpStream>(co_await net::this_coro::executor);
  c.plain->expires_after(o.timeout);
  auto [ec, ep] = co_await c.plain->async_connect(c.endpoints);
  const proxy::HostPort dial = DialTarget(o);
  if (ec) {
    r.ms = MsSince(t0);
    co_return Fail(
        r, StrCat("connecting to ", dial.host, ":", dial.port, ": ", proxy::DescribeError(ec)));
  }
  // As the proxy and most clients do: without it, the request after the TLS handshake can wait
  // for a delayed ACK (tens of ms) and the probe would measure Nagle, not the path.
  error_code ignored;
  c.plain->socket().set_option(tcp::no_delay(true), ignored);
  c.remote = StrCat(ep.address().to_string(), ":", ep.port());
  r.detail["connected_to"] = c.remote;
  if (o.proxy) {
    const proxy::HostPort authority = ConnectAuthority(o);
    const std::string target = StrCat(authority.host, ":", authority.port);
    http::request<http::empty_body> req{http::verb::connect, target, 11};
    req.set(http::field::host, target);
    auto [wec, wn] = co_await http::async_write(*c.plain, req);
    http::response_parser<http::empty_body> parser;
    parser.skip(true);
    error_code rec = wec;
    if (!rec)
      std::tie(rec, std::ignore) = co_await http::async_read_header(*c.plain, c.buffer, parser);
    r.ms = MsSince(t0);
    if (rec)
      co_return Fail(r, StrCat("CONNECT ", target, " via the proxy: ", proxy::DescribeError(rec)));
    const unsigned status = parser.get().result_int();
    r.detail["proxy_connect"] = {{"target", target}, {"status", status}};
    if (status != 200) {
      co_return Fail(r, StrCat("the proxy answered CONNECT ", target, " with HTTP ", status));
    }
  }
  c.plain->expires_never();
  r.ms = MsSince(t0);
  co_return r;
}

net::awaitable<StageResult> TlsStage(const ProbeOptions& o, ssl::context& ctx, Connection& c) {
  StageResult r = Begin(Stage::kTls);
  if (!o.url.tls()) {
    r.status = Status::kSkipped;
    r.error = StrCat(o.url.scheme, "://: no TLS");
    co_return r;
  }
  const auto t0 = Clock::now();
  c.tls = std::make_unique<SslStream>(std::move(*c.plain), ctx);
  c.plain.reset();
  SSL* ssl = c.tls->native_handle();
  if (absl::Status st = proxy::tls::PrepareUpstreamSsl(ssl, o.url.host); !st.ok()) {
    co_return Fail(r, std::string(st.message()));
  }
  SSL_set_verify(ssl, SSL_VERIFY_PEER, RecordOnlyVerify);
  beast::get_lowest_layer(*c.tls).expires_after(o.timeout);
  auto [ec] = co_await c.tls->async_handshake(ssl::stream_base::client);
  r.ms = MsSince(t0);
  if (ec)
    co_return Fail(r, StrCat("TLS handshake with ", o.url.host, ": ", proxy::DescribeError(ec)));
  beast::get_lowest_layer(*c.tls).expires_never();
  const recorder::TlsFacts facts = proxy::TlsFactsOf(ssl);
  r.detail = ChainFacts(ssl);
  r.detail["version"] = std::string(facts.version);
  r.detail["cipher"] = std::string(facts.cipher);
  r.detail["alpn"] = facts.alpn;
  const long verify = SSL_get_verify_result(ssl);
  r.detail["verified"] = verify == X509_V_OK;
  if (verify != X509_V_OK) {
    std::string issuer =
        r.detail["chain"].empty() ? "?" : r.detail["chain"][0]["issuer"].get<std::string>();
    std::string reason = X509_verify_cert_error_string(verify);
    r.detail["verify_error"] = reason;
    c.tls.reset();  // nothing is sent on an unverified connection
    co_return Fail(r, StrCat("certificate verify failed: ", reason, " (the certificate for ",
                             o.url.host, " was issued by '", issuer,
                             "'; trust that issuer with --ca FILE if it is expected)"));
  }
  co_return r;
}

net::awaitable<StageResult> HttpsStage(const ProbeOptions& o, Connection& c) {
  StageResult r = Begin(Stage::kHttps);
  const auto t0 = Clock::now();
  http::response_parser<http::string_body> parser;
  ErasedStream stream = c.tls ? ErasedStream(*c.tls) : ErasedStream(*c.plain);
  error_code ec = co_await GetRoot(stream, c.buffer, o.url, o.timeout, parser);
  r.ms = MsSince(t0);
  if (ec) co_return Fail(r, StrCat("GET / on ", o.url.host, ": ", proxy::DescribeError(ec)));
  const auto& res = parser.get();
  r.detail = {{"request", "GET /"},
              {"status", res.result_int()},
              {"headers", CorrelationHeaders(res.base())}};
  if (!res.keep_alive()) r.detail["connection"] = "close";
  if (res.count("x-relaytap-error") != 0) {
    co_return Fail(
        r, StrCat("relaytap answered ", res.result_int(), ": ", ErrorMessageOf(res.body())));
  }
  if (res.result_int() >= 500) {
    co_return Fail(r, StrCat("HTTP ", res.result_int(), ": ", ErrorMessageOf(res.body())));
  }
  co_return r;
}

net::awaitable<std::string> Reconnect(const ProbeOptions& o, ssl::context& ctx, Connection& c) {
  StageResult tcp_result = co_await TcpStage(o, c);
  if (tcp_result.status == Status::kFailed) co_return tcp_result.error;
  StageResult tls_result = co_await TlsStage(o, ctx, c);
  if (tls_result.status == Status::kFailed) co_return tls_result.error;
  co_return std::string();
}

}  // namespace relaytap::tools::probe

#include "proxy/http/self_check.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "base/log.h"
#include "base/str_cat.h"

#ifndef RELAYTAP_VERSION
#define RELAYTAP_VERSION "unknown"
#endif

namespace relaytap::proxy::http_relay {
namespace {

std::string ClientOf(ByteStream& app) {
  error_code ec;
  auto ep = app.tcp().socket().remote_endpoint(ec);
  if (ec) return "";
  return StrCat(ep.address().to_string(), ":", ep.port());
}

}  // namespace

std::string SelfCheckJson(const SelfCheckFacts& facts) {
  nlohmann::ordered_json j = {{"proxy", "relaytap"},    {"version", RELAYTAP_VERSION},
                              {"intercepted", true},    {"scheme", facts.tls ? "https" : "http"},
                              {"client", facts.client}, {"ca_fingerprint", facts.ca_fingerprint}};
  return j.dump() + "\n";
}

std::string CertFingerprintSha256(std::string_view pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  if (!bio) return "";
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), &X509_free);
  if (!cert) return "";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert.get(), EVP_sha256(), md, &len) != 1) return "";
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    if (i > 0) out.push_back(':');
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 0xf]);
  }
  return out;
}

std::string SelfCheckTrustAdvice(std::string_view ca_path) {
  return StrCat(
      "self-check: the app does not trust relaytap's CA. Fix it in the app's environment: "
      "eval \"$(relaytap ca env)\" (sets all of these), or per runtime: Python requests "
      "REQUESTS_CA_BUNDLE=<bundle>; Python httpx/aiohttp/websockets/openai SSL_CERT_FILE=<bundle>; "
      "Node NODE_EXTRA_CA_CERTS=",
      ca_path, "; curl --cacert ", ca_path,
      "; Java/.NET: see README 'Trusting the CA, per runtime'");
}

net::awaitable<SelfCheckResult> AnswerSelfCheck(const ProxyContext& ctx, ByteStream& app,
                                                bool keep_alive, recorder::Exchange* obs) {
  SelfCheckFacts facts;
  facts.client = ClientOf(app);
  facts.tls = app.is_tls();
  if (ctx.ca != nullptr) facts.ca_fingerprint = CertFingerprintSha256(ctx.ca->cert_pem());
  const std::string body = SelfCheckJson(facts);
  const recorder::Headers headers = {{"Content-Type", "application/json"},
                                     {"Content-Length", std::to_string(body.size())},
                                     {"Cache-Control", "no-store"},
                                     {"Connection", keep_alive ? "keep-alive" : "close"},
                                     {"x-relaytap-self-check", "1"}};
  std::string out = "HTTP/1.1 200 OK\r\n";
  for (const auto& [name, value] : headers) out += StrCat(name, ": ", value, "\r\n");
  out += "\r\n";
  out += body;
  auto [ec, n] = co_await app.WriteAll(net::buffer(out));
  if (obs != nullptr) {
    obs->status = 200;
    obs->response_headers = headers;
    obs->response_headers_us = NowUnixMicros();
    obs->first_body_byte_us = obs->response_headers_us;
    obs->response_body.content_type = "application/json";
    obs->response_body.total_bytes = body.size();
    obs->response_body.bytes = body;
    obs->end_us = NowUnixMicros();
  }
  co_return SelfCheckResult{n, !ec};
}

}  // namespace relaytap::proxy::http_relay

#include "proxy/http/self_check.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "base/log.h"
#include "base/str_cat.h"
#include "proxy/tls/trust_table.h"

#ifndef RELAYTAP_VERSION
#define RELAYTAP_VERSION "unknown"
#endif

namespace relaytap::proxy::http_relay {
namespace {

std::string ClientOf(ByteStream& app) {
  error_code ec;
  auto ep = app.socket().remote_endpoint(ec);
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
  // One entry per trust variable, naming the runtimes that read it (in the table's order).
  std::vector<std::pair<std::string, std::string>> by_variable;
  std::string others;
  for (const tls::RuntimeTrust& row : tls::TrustTable()) {
    if (row.file == tls::TrustFile::kNone) {
      if (row.key.empty()) continue;  // a row that only restates others (the openai SDK)
      others += StrCat(others.empty() ? "" : "/", tls::PlainLabel(row.label));
      continue;
    }
    const std::string assignment = row.file == tls::TrustFile::kCaCert
                                       ? StrCat(row.trust_variable, "=", ca_path)
                                       : tls::TrustAssignmentPlaceholder(row);
    auto it = std::find_if(by_variable.begin(), by_variable.end(),
                           [&](const auto& e) { return e.first == assignment; });
    if (it == by_variable.end()) {
      by_variable.emplace_back(assignment, tls::PlainLabel(row.label));
    } else {
      it->second += StrCat(", ", tls::PlainLabel(row.label));
    }
  }
  std::string out =
      "self-check: the app does not trust relaytap's CA. Fix it in the app's environment: "
      "eval \"$(relaytap ca env)\" (sets all of these; <bundle> is the system roots plus the CA), "
      "or per runtime:";
  for (const auto& [assignment, labels] : by_variable) {
    out += StrCat(" ", assignment, " (", labels, ");");
  }
  return StrCat(out, " ", others, ": see README 'Trusting the CA, per runtime'");
}

std::string WebSocketAccept(std::string_view key) {
  static constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  const std::string input = StrCat(key, kGuid);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(input.data(), input.size(), md, &len, EVP_sha1(), nullptr) != 1) return "";
  std::string out(4 * ((len + 2) / 3), '\0');
  EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), md, static_cast<int>(len));
  return out;
}

std::string SelfCheckWebSocketFrames(std::string_view json) {
  std::string out;
  out.push_back(static_cast<char>(0x81));  // FIN, text
  if (json.size() < 126) {
    out.push_back(static_cast<char>(json.size()));
  } else {  // the JSON is far below 64 KiB: a 16-bit length
    out.push_back(static_cast<char>(126));
    out.push_back(static_cast<char>((json.size() >> 8) & 0xff));
    out.push_back(static_cast<char>(json.size() & 0xff));
  }
  out.append(json);
  static constexpr std::string_view kReason = "self-check done";
  out.push_back(static_cast<char>(0x88));  // FIN, close
  out.push_back(static_cast<char>(2 + kReason.size()));
  out.push_back(static_cast<char>(1000 >> 8));
  out.push_back(static_cast<char>(1000 & 0xff));
  out.append(kReason);
  return out;
}

namespace {

std::string SelfCheckBody(const ProxyContext& ctx, ByteStream& app) {
  SelfCheckFacts facts;
  facts.client = ClientOf(app);
  facts.tls = app.is_tls();
  if (ctx.ca != nullptr) facts.ca_fingerprint = CertFingerprintSha256(ctx.ca->cert_pem());
  return SelfCheckJson(facts);
}

std::string ResponseHead(std::string_view status_line, const recorder::Headers& headers) {
  std::string out = StrCat(status_line, "\r\n");
  for (const auto& [name, value] : headers) out += StrCat(name, ": ", value, "\r\n");
  out += "\r\n";
  return out;
}

void NoteAnswer(recorder::Exchange* obs, int status, const recorder::Headers& headers,
                const std::string& body) {
  if (obs == nullptr) return;
  obs->status = status;
  obs->response_headers = headers;
  obs->response_headers_us = NowUnixMicros();
  obs->first_body_byte_us = obs->response_headers_us;
  obs->response_body.content_type = "application/json";
  obs->response_body.total_bytes = body.size();
  obs->response_body.bytes = body;
  obs->end_us = NowUnixMicros();
}

// Reads until the app's close frame (a masked frame with opcode 8) begins, it closes, or the
// time is up: a few reads at most, whatever the app sends.
Awaitable<void> AwaitAppClose(ByteStream& app) {
  static constexpr int kMaxReads = 8;
  app.SetTimeout(std::chrono::seconds(5));
  char buf[512];
  for (int i = 0; i < kMaxReads; ++i) {
    auto [ec, n] = co_await app.ReadSome(net::buffer(buf));
    if (ec || n == 0) co_return;
    if ((static_cast<unsigned char>(buf[0]) & 0x0f) == 0x8) co_return;
  }
}

}  // namespace

Awaitable<SelfCheckResult> AnswerSelfCheck(const ProxyContext& ctx, ByteStream& app,
                                           bool keep_alive, recorder::Exchange* obs) {
  const std::string body = SelfCheckBody(ctx, app);
  const recorder::Headers headers = {{"Content-Type", "application/json"},
                                     {"Content-Length", std::to_string(body.size())},
                                     {"Cache-Control", "no-store"},
                                     {"Connection", keep_alive ? "keep-alive" : "close"},
                                     {"x-relaytap-self-check", "1"}};
  const std::string out = ResponseHead("HTTP/1.1 200 OK", headers) + body;
  auto [ec, n] = co_await app.WriteAll(net::buffer(out));
  NoteAnswer(obs, 200, headers, body);
  co_return SelfCheckResult{n, !ec};
}

Awaitable<SelfCheckResult> AnswerSelfCheckUpgrade(const ProxyContext& ctx, ByteStream& app,
                                                  std::string_view ws_key,
                                                  recorder::Exchange* obs) {
  const std::string body = SelfCheckBody(ctx, app);
  const recorder::Headers headers = {{"Upgrade", "websocket"},
                                     {"Connection", "Upgrade"},
                                     {"Sec-WebSocket-Accept", WebSocketAccept(ws_key)},
                                     {"x-relaytap-self-check", "1"}};
  const std::string out =
      ResponseHead("HTTP/1.1 101 Switching Protocols", headers) + SelfCheckWebSocketFrames(body);
  auto [ec, n] = co_await app.WriteAll(net::buffer(out));
  NoteAnswer(obs, 101, headers, body);
  if (!ec) co_await AwaitAppClose(app);
  co_return SelfCheckResult{n, !ec};
}

}  // namespace relaytap::proxy::http_relay

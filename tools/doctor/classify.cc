#include "tools/doctor/classify.h"

#include <array>
#include <nlohmann/json.hpp>
#include <utility>

#include "base/ascii.h"

namespace relaytap::tools::doctor {
namespace {

// Error texts of curl, Python (ssl, socket, urllib3, requests, httpx, aiohttp, websocket-client,
// websockets) and Node (undici, net, tls), lower-cased. Checked in this order: a proxy's CONNECT
// error and a certificate failure are named before the generic words that may come with them
// (aiohttp says "Cannot connect to host" for all three).
struct Pattern {
  std::string_view text;
  ClientError error;
};
constexpr std::array<Pattern, 38> kPatterns = {{
    {"tunnel connection failed", ClientError::kProxyRefused},         // requests / urllib3
    {"connect tunnel failed", ClientError::kProxyRefused},            // curl (56)
    {"from proxy after connect", ClientError::kProxyRefused},         // older curl
    {"proxy connect answered", ClientError::kProxyRefused},           // doctor's node client
    {"failed connect via proxy", ClientError::kProxyRefused},         // websocket-client
    {"proxy rejected connection", ClientError::kProxyRefused},        // websockets
    {"invalidproxystatus", ClientError::kProxyRefused},               // websockets
    {"clienthttpproxyerror", ClientError::kProxyRefused},             // aiohttp
    {"certificate_verify_failed", ClientError::kCaNotTrusted},        // Python ssl
    {"certificate verify failed", ClientError::kCaNotTrusted},        //
    {"ssl certificate problem", ClientError::kCaNotTrusted},          // curl (60)
    {"self signed certificate", ClientError::kCaNotTrusted},          // OpenSSL 1.1
    {"self-signed certificate", ClientError::kCaNotTrusted},          // OpenSSL 3
    {"self_signed_cert_in_chain", ClientError::kCaNotTrusted},        // Node
    {"depth_zero_self_signed_cert", ClientError::kCaNotTrusted},      //
    {"unable_to_get_issuer_cert", ClientError::kCaNotTrusted},        //
    {"unable_to_verify_leaf_signature", ClientError::kCaNotTrusted},  //
    {"unable to get local issuer certificate", ClientError::kCaNotTrusted},
    {"unable to verify the first certificate", ClientError::kCaNotTrusted},
    {"could not resolve proxy", ClientError::kProxyUnreachable},     // curl (5)
    {"unable to connect to proxy", ClientError::kProxyUnreachable},  // requests
    {"could not resolve host", ClientError::kNameNotResolved},       // curl (6)
    {"name or service not known", ClientError::kNameNotResolved},    // glibc
    {"temporary failure in name resolution", ClientError::kNameNotResolved},
    {"no address associated with hostname", ClientError::kNameNotResolved},
    {"nodename nor servname", ClientError::kNameNotResolved},        // BSD libc
    {"getaddrinfo", ClientError::kNameNotResolved},                  // Node, Python
    {"enotfound", ClientError::kNameNotResolved},                    // Node
    {"nameresolutionerror", ClientError::kNameNotResolved},          // urllib3 2
    {"cannot connect to host", ClientError::kProxyUnreachable},      // aiohttp (to the proxy)
    {"connection refused", ClientError::kProxyUnreachable},          // the name never resolves:
    {"econnrefused", ClientError::kProxyUnreachable},                // a refusal is the proxy's
    {"couldn't connect to server", ClientError::kProxyUnreachable},  // curl (7)
    {"econnreset", ClientError::kProxyUnreachable},                  //
    {"timed out", ClientError::kTimeout},
    {"timeout", ClientError::kTimeout},
    {"ssl", ClientError::kTlsFailed},
    {"tls", ClientError::kTlsFailed},
}};

}  // namespace

ClientError ClassifyClientError(std::string_view error_text) {
  const std::string text = AsciiStrToLower(error_text);
  for (const Pattern& p : kPatterns) {
    if (text.find(p.text) != std::string::npos) return p.error;
  }
  return ClientError::kOther;
}

std::string_view VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kOk:
      return "ok";
    case Verdict::kNotFound:
      return "not_found";
    case Verdict::kNoProxy:
      return "no_proxy";
    case Verdict::kProxyDown:
      return "proxy_down";
    case Verdict::kNotRelaytap:
      return "not_relaytap";
    case Verdict::kCaNotTrusted:
      return "ca_not_trusted";
    case Verdict::kTlsFailed:
      return "tls_failed";
    case Verdict::kOtherCa:
      return "other_ca";
    case Verdict::kTimeout:
      return "timeout";
    case Verdict::kFailed:
      return "failed";
  }
  return "failed";
}

Verdict VerdictOf(ClientError e) {
  switch (e) {
    case ClientError::kNameNotResolved:
      return Verdict::kNoProxy;
    case ClientError::kProxyUnreachable:
      return Verdict::kProxyDown;
    case ClientError::kProxyRefused:
      return Verdict::kNotRelaytap;
    case ClientError::kCaNotTrusted:
      return Verdict::kCaNotTrusted;
    case ClientError::kTlsFailed:
      return Verdict::kTlsFailed;
    case ClientError::kTimeout:
      return Verdict::kTimeout;
    case ClientError::kOther:
      break;
  }
  return Verdict::kFailed;
}

std::string_view UsedProxy(Verdict v) {
  switch (v) {
    case Verdict::kOk:
    case Verdict::kOtherCa:
    case Verdict::kCaNotTrusted:  // check.relaytap.invalid never resolves: a proxy took CONNECT
    case Verdict::kTlsFailed:
      return "yes";
    case Verdict::kNoProxy:
    case Verdict::kProxyDown:
      return "no";
    default:
      return "unknown";
  }
}

std::string_view TrustedCa(Verdict v) {
  switch (v) {
    case Verdict::kOk:
    case Verdict::kOtherCa:
      return "yes";
    case Verdict::kCaNotTrusted:
      return "no";
    default:
      return "unknown";
  }
}

SelfCheckAnswer ParseSelfCheckAnswer(std::string_view body) {
  SelfCheckAnswer a;
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return a;
  auto text = [&j](const char* key) -> std::string {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : "";
  };
  a.valid = text("proxy") == "relaytap";
  a.version = text("version");
  a.client = text("client");
  a.ca_fingerprint = text("ca_fingerprint");
  return a;
}

}  // namespace relaytap::tools::doctor

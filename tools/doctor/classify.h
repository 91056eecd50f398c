#pragma once
// Pure: what one client's run says about the app's path to relaytap. A run either brought back
// the self-check JSON (the request went through relaytap, which the app trusted) or failed; the
// runtime's error text says where.

#include <string>
#include <string_view>

namespace relaytap::tools::doctor {

// Where a failed client run broke, from its error text.
enum class ClientError {
  kNameNotResolved,   // the name was looked up in DNS: the request did not use a proxy
  kProxyUnreachable,  // the proxy refused or dropped the TCP connection
  kProxyRefused,      // the proxy answered CONNECT with an error: it is not relaytap
  kCaNotTrusted,      // certificate verification failed: the runtime does not trust the CA
  kTlsFailed,         // another TLS failure
  kTimeout,           // no answer in time
  kOther,
};

ClientError ClassifyClientError(std::string_view error_text);

// The result of one runtime's check, worst first after kOk.
enum class Verdict {
  kOk,            // the JSON came back from the relaytap whose CA was expected (or none known)
  kNotFound,      // the runtime or library is not installed
  kNoProxy,       // went direct: not through relaytap
  kProxyDown,     // the configured proxy does not answer
  kNotRelaytap,   // something other than relaytap answered (a proxy's CONNECT error, other JSON)
  kCaNotTrusted,  // reached relaytap, rejected its certificate
  kTlsFailed,     // reached a proxy, TLS failed otherwise
  kOtherCa,       // a relaytap answered, with another CA than --ca-dir's
  kTimeout,
  kFailed,  // any other error
};

std::string_view VerdictName(Verdict v);  // "ok", "not_found", "no_proxy", ...

Verdict VerdictOf(ClientError e);

// Whether the request reached a proxy / passed certificate verification, as far as a verdict
// tells: "yes", "no" or "unknown".
std::string_view UsedProxy(Verdict v);
std::string_view TrustedCa(Verdict v);

// The self-check answer's fields, if `body` is one.
struct SelfCheckAnswer {
  bool valid = false;  // JSON with "proxy": "relaytap"
  std::string version;
  std::string client;
  std::string ca_fingerprint;
};
SelfCheckAnswer ParseSelfCheckAnswer(std::string_view body);

}  // namespace relaytap::tools::doctor

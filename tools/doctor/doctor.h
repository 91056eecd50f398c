#pragma once
// `relaytap doctor`: for each runtime found on the machine (curl; python3 with requests, httpx,
// aiohttp, websocket-client, websockets; node's fetch and the `ws` package), runs a tiny client
// in the given environment against relaytap's self-check host and says whether it used the
// proxy, trusted the CA and met the expected relaytap, with the lines that fix what failed.

#include <chrono>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/doctor/classify.h"

namespace relaytap::tools::doctor {

inline constexpr char kCheckUrl[] = "https://check.relaytap.invalid/";
inline constexpr char kCheckWsUrl[] = "wss://check.relaytap.invalid/ws";

struct DoctorOptions {
  std::string proxy;   // --proxy: used instead of the environment's; empty: the environment's
  std::string ca_dir;  // the CA relaytap would use (`proxy`'s --ca-dir); required
  std::chrono::milliseconds timeout{10'000};  // per client; killed a little after
  std::vector<std::string> runtimes;          // names from AllClientChecks(); empty: all
  std::vector<std::string> env;               // "NAME=value": what the clients inherit
};

enum class ProxySource { kFlag, kEnvironment, kNone };

// The proxy the clients were given, and what the environment itself says.
struct ProxySetting {
  ProxySource source = ProxySource::kNone;
  std::string url;           // empty with kNone
  std::string env_variable;  // the variable the environment's proxy came from, e.g. "https_proxy"
  std::string env_url;       // the environment's own proxy (may differ from a --proxy)
  std::string no_proxy;      // NO_PROXY / no_proxy as the clients see it
  bool no_proxy_covers_check = false;
};

struct RuntimeResult {
  std::string name;     // "python-requests"
  std::string version;  // "python 3.11.2, requests 2.28.1"; empty when unknown
  Verdict verdict = Verdict::kFailed;
  std::string detail;  // what happened, in words
  std::string error;   // the runtime's own error text (bounded)
  SelfCheckAnswer answer;
  std::vector<std::string> fix;  // lines to paste into the app's shell (comments start with #)
  long ms = 0;
};

struct DoctorReport {
  ProxySetting proxy;
  std::string ca_dir;
  std::string ca_path;
  std::string ca_fingerprint;  // empty: no CA in ca_dir
  std::string bundle_path;     // where `relaytap ca env` writes the trust bundle
  bool bundle_exists = false;
  std::chrono::milliseconds timeout{0};
  std::vector<RuntimeResult> results;
  int ok = 0;
  int failed = 0;
  int not_found = 0;
};

// InvalidArgument for an unknown runtime name or a proxy URL that is not http://HOST:PORT;
// Internal when the scripts cannot be written.
absl::StatusOr<DoctorReport> RunDoctor(const DoctorOptions& options);

// 0 when every runtime found passed, else 1.
int ExitCodeOf(const DoctorReport& report);

// `text` with the user:password of every URL in it replaced by "<redacted>" (a proxy URL may
// carry credentials; doctor never prints or stores them).
std::string RedactUserinfo(std::string_view text);

// Pure parts, for tests.
bool NoProxyCovers(std::string_view no_proxy, std::string_view host);
ProxySetting ResolveProxy(const std::vector<std::string>& env, const std::string& flag);
std::vector<std::string> ClientEnvironment(const std::vector<std::string>& env,
                                           const ProxySetting& proxy);

}  // namespace relaytap::tools::doctor

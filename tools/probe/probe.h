#pragma once
// `relaytap probe URL`: checks the path an app uses to reach Azure OpenAI / OpenAI, one stage at
// a time (dns, tcp, tls, https, websocket, and with --realtime the smallest text-only realtime
// flow), each ok / failed / skipped with its time and details, so an operator can tell a network
// problem from a TLS, a gateway or a service one. Results are values; formatting is report.h.
// The API key (read from an environment variable by the command) is sent upstream only, over
// verified TLS, and never appears in any result.

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proxy/config/config.h"

namespace relaytap::tools::probe {

enum class Stage { kDns, kTcp, kTls, kHttps, kWebSocket, kRealtime };
inline constexpr Stage kAllStages[] = {Stage::kDns,   Stage::kTcp,       Stage::kTls,
                                       Stage::kHttps, Stage::kWebSocket, Stage::kRealtime};
std::string_view StageName(Stage stage);  // "dns", "tcp", ...

enum class Status { kOk, kFailed, kSkipped };
std::string_view StatusName(Status status);  // "ok", "failed", "skipped"

struct StageResult {
  Stage stage = Stage::kDns;
  Status status = Status::kSkipped;
  int64_t ms = 0;
  nlohmann::json detail = nlohmann::json::object();  // stage-specific facts
  std::string error;                                 // why it failed (or was skipped); no secrets
};

struct RunResult {
  int64_t start_us = 0;  // when the run began, UTC microseconds
  std::string url;       // with secret query parameters redacted
  std::vector<StageResult> stages;
  int64_t total_ms = 0;
  bool ok() const;
  std::optional<Stage> failed_stage() const;
};

// The URL to probe: wss:// / ws:// (then websocket and realtime apply) or https:// / http://.
struct ProbeUrl {
  std::string scheme;  // "wss", "ws", "https", "http"
  std::string host;    // lower-case, no brackets
  uint16_t port = 0;
  std::string target;  // path and query, at least "/"
  bool tls() const { return scheme == "wss" || scheme == "https"; }
  bool websocket() const { return scheme == "wss" || scheme == "ws"; }
};
absl::StatusOr<ProbeUrl> ParseProbeUrl(std::string_view url);
// The URL as printed: query parameters that may carry secrets (api-key, authorization, key, sig,
// token and anything not known to be structural) have their value replaced by "<redacted>".
std::string RedactedUrl(const ProbeUrl& url);

struct ProbeOptions {
  ProbeUrl url;
  std::vector<proxy::ConnectTo> connect_to;
  std::optional<std::string> ca_file;    // extra PEM roots
  std::optional<proxy::HostPort> proxy;  // an HTTP proxy to CONNECT through
  std::string key;                       // API key / bearer token; empty: none (never printed)
  bool realtime = false;
  std::chrono::milliseconds timeout{10000};  // per stage
};

// An HTTP proxy from HTTPS_PROXY / https_proxy (HTTP_PROXY for http:// and ws:// URLs), unless
// NO_PROXY / no_proxy covers `host` ("*", a name, or a ".suffix" / "suffix" domain). The value
// must be http://HOST[:PORT] (port 80 when absent). Nullopt: go direct.
absl::StatusOr<std::optional<proxy::HostPort>> ProxyFromEnvironment(const ProbeUrl& url);
absl::StatusOr<proxy::HostPort> ParseProxyUrl(std::string_view text);

// Runs one probe (blocking; its own io_context). Stages after a failure are skipped.
RunResult RunProbe(const ProbeOptions& options);
// `repeat` runs, `interval` apart (--repeat N --interval-ms MS).
std::vector<RunResult> RunRepeated(const ProbeOptions& options, int repeat,
                                   std::chrono::milliseconds interval);

// Milliseconds since `t0` on the steady clock: how long a stage took.
int64_t MsSince(std::chrono::steady_clock::time_point t0);

// j[key] when j is an object holding a string there, else "" (never inserts, never throws).
std::string StringAt(const nlohmann::json& j, const char* key);

}  // namespace relaytap::tools::probe

#pragma once
// What `relaytap proxy` runs with: parsed from flags and/or a JSON file (same keys), validated
// once at startup. Immutable afterwards and shared by every session.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "proxy/guard/guard_settings.h"

namespace relaytap::proxy {

// curl's --connect-to HOST:PORT:HOST2:PORT2. An empty HOST or PORT matches any; an empty HOST2 or
// PORT2 keeps the original. IPv6 addresses are written in brackets.
struct ConnectTo {
  std::string host;   // lower-case; empty = any
  uint16_t port = 0;  // 0 = any
  std::string to_host;
  uint16_t to_port = 0;
  bool operator==(const ConnectTo&) const = default;
};

struct HostPort {
  std::string host;
  uint16_t port = 0;
  bool operator==(const HostPort&) const = default;
};

// An HTTP proxy that relaytap reaches upstream through, with CONNECT (--upstream-proxy).
struct UpstreamProxy {
  HostPort address;
  // "user:password" (decoded), sent as Proxy-Authorization: Basic; empty: none. Never logged
  // or stored: Display() and the store use `address` only.
  std::string credentials;
  std::string Display() const;  // "http://HOST:PORT" (IPv6 in brackets), never credentials
  bool operator==(const UpstreamProxy&) const = default;
};

struct ProxyConfig {
  HostPort listen{"127.0.0.1", 8080};
  bool allow_remote = false;
  // Remote mode (allow_remote) needs one of these: Basic proxy credentials ("user:password"
  // lines) or the client networks allowed (CIDR). Both may be given: then both must pass.
  std::optional<std::filesystem::path> proxy_auth_file;
  std::vector<std::string> allow_clients;
  std::filesystem::path ca_dir;
  std::optional<std::filesystem::path> upstream_ca;
  std::vector<ConnectTo> connect_to;
  std::vector<std::string> intercept = DefaultInterceptPatterns();
  // The upstream proxy, once resolved (ResolveUpstreamProxy): unset, every dial is direct.
  std::optional<UpstreamProxy> upstream_proxy;
  // --upstream-proxy env: take the proxy from HTTPS_PROXY / https_proxy at startup. relaytap
  // never reads those variables otherwise.
  bool upstream_proxy_from_env = false;
  // Credentials from a file (its content is "user:password") or an environment variable; either
  // replaces credentials in the URL.
  std::optional<std::filesystem::path> upstream_proxy_auth_file;
  std::string upstream_proxy_auth_env;
  // Hosts dialled directly, not through the upstream proxy (intercept pattern syntax). With
  // upstream_proxy_from_env, NO_PROXY's entries are added; those this syntax cannot say (CIDR
  // ranges, host:port) are listed in no_proxy_ignored for the startup log.
  std::vector<std::string> no_upstream_proxy_for;
  std::vector<std::string> no_proxy_ignored;
  std::string log_level = "info";
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds handshake_timeout{10'000};
  std::chrono::milliseconds http_idle_timeout{300'000};
  // A request head must be complete this long after its first byte (after the connection opened,
  // for a connection's first head), however slowly its bytes trickle in.
  std::chrono::milliseconds head_timeout{30'000};
  // A blind tunnel with no bytes either way for this long is closed.
  std::chrono::milliseconds tunnel_idle_timeout{900'000};
  // Connections served at once; more are answered 503 and closed. 0: derived from the open-files
  // limit at startup (two descriptors a connection, some kept in reserve).
  int max_connections = 0;
  std::chrono::milliseconds shutdown_grace{5'000};
  int threads = 0;  // 0: one per core
  // --metrics ADDR:PORT: the Prometheus listener (metrics/), unset: none. Loopback only unless
  // metrics_allow_remote; never the proxy's own port. Config keys metrics, metrics_allow_remote.
  std::optional<HostPort> metrics;
  bool metrics_allow_remote = false;
  // Recording (used by `relaytap proxy`, not by the relay itself).
  bool record = true;
  std::filesystem::path db = "relaytap.db";
  std::optional<std::filesystem::path> redaction_policy;
  std::string durability = "normal";  // "normal" or "full" (SQLite synchronous)
  // The store's size cap and the free-space floor (0 = none); unset: the recorder's defaults,
  // 4 GiB and 1 GiB (recorder/disk_watch.h). Config keys max_db_size, min_free.
  std::optional<uint64_t> max_db_bytes;
  std::optional<uint64_t> min_free_bytes;
  // Roll the store over: "hourly" or a size ("1GiB"); "" never. Keep this many files (>= 1).
  // Config keys rotate, keep.
  std::string rotate;
  int keep = 24;
  // The retry guard as the config file sets it (used by `relaytap proxy`, which applies the
  // --guard* flags on top and builds the guard; the relay only sees the guard object).
  guard::GuardSettings guard;

  static std::vector<std::string> DefaultInterceptPatterns();
  bool operator==(const ProxyConfig&) const = default;
};

// "HOST:PORT", an IPv6 host in brackets.
inline std::string Authority(const HostPort& hp) {
  const bool v6 = hp.host.find(':') != std::string::npos;
  return (v6 ? "[" + hp.host + "]" : hp.host) + ":" + std::to_string(hp.port);
}

inline std::string UpstreamProxy::Display() const { return "http://" + Authority(address); }

// "127.0.0.1:8080", "[::1]:8080", "localhost:0". Port required.
absl::StatusOr<HostPort> ParseHostPort(std::string_view text);

// "HOST:PORT:HOST2:PORT2" (curl semantics; IPv6 in brackets).
absl::StatusOr<ConnectTo> ParseConnectTo(std::string_view text);

// The first --connect-to rule that matches `target`, or null.
const ConnectTo* FindConnectTo(const std::vector<ConnectTo>& rules, const HostPort& target);

// Applies the first matching --connect-to rule: where to dial for `target`.
HostPort ResolveConnectTo(const std::vector<ConnectTo>& rules, const HostPort& target);

// "http://[USER:PASS@]HOST:PORT" (userinfo percent-decoded; a trailing "/" allowed). Errors never
// repeat the credentials.
absl::StatusOr<UpstreamProxy> ParseUpstreamProxyUrl(std::string_view url);

// Sets config.upstream_proxy (and NO_PROXY's bypass patterns) from the environment when
// upstream_proxy_from_env, then its
// credentials from upstream_proxy_auth_file / upstream_proxy_auth_env. `getenv` looks a
// variable up (null: unset). Errors are usage errors naming the flag.
using EnvLookup = const char* (*)(const char*);
absl::Status ResolveUpstreamProxy(ProxyConfig& config, EnvLookup getenv);

// The upstream proxy flags' own checks (ValidateConfig runs them): the bypass patterns, and a
// proxy address that is relaytap's own listen address (a loop).
absl::Status ValidateUpstreamProxy(const ProxyConfig& config);

// True when `target` is dialled through config.upstream_proxy (set, and no
// no_upstream_proxy_for pattern matches the host).
bool UsesUpstreamProxy(const ProxyConfig& config, const HostPort& target);

// True for 127.0.0.0/8, ::1 and "localhost".
bool IsLoopbackHost(std::string_view host);

// Merges a JSON config file's keys into `config` (keys: listen, allow_remote, proxy_auth_file,
// allow_clients [..], ca_dir, upstream_ca, upstream_proxy (a URL or "env"),
// upstream_proxy_auth_file, upstream_proxy_auth_env, no_upstream_proxy_for [..],
// connect_to [..], intercept [..], log_level, connect_timeout_ms, handshake_timeout_ms,
// http_idle_timeout_ms, head_timeout_ms, tunnel_idle_timeout_ms, max_connections,
// shutdown_grace_ms, threads, record, db, redaction_policy, durability, max_db_size and
// min_free (a size: "4GiB" or bytes), metrics ("ADDR:PORT" or null), metrics_allow_remote, rotate
// ("hourly", a size or null), keep, and the guard's: guard ("off" | "observe" | "enforce"),
// guard_policy, guard_max_attempts, guard_budget_percent, guard_cooldown_ms, guard_key_by_client,
// guard_session_cap, where null means unset: the built-in policy, or the policy's value for a
// knob). Unknown keys and wrong types are errors naming the key; keys starting with '_' are
// comments. The guard knobs' ranges are checked against the policy later (guard::ResolveGuardPolicy
// names the key too).
absl::Status MergeConfigFile(const std::filesystem::path& file, ProxyConfig& config);

// The --metrics address: loopback unless metrics_allow_remote, not the proxy's port, and recording
// on (the counters are the recorder's). ValidateConfig runs it.
absl::Status ValidateMetrics(const ProxyConfig& config);

// Checks the whole configuration (loopback rule, patterns, timeouts, an upstream proxy that is
// relaytap's own listen address).
absl::Status ValidateConfig(const ProxyConfig& config);

}  // namespace relaytap::proxy

#include "tools/proxy_flags.h"

#include <cstdlib>
#include <optional>
#include <string_view>
#include <tuple>

#include "base/byte_size.h"
#include "base/log.h"
#include "base/status_macros.h"
#include "base/str_cat.h"
#include "proxy/guard/guard_settings.h"
#include "proxy/guard/policy.h"
#include "proxy/session/access.h"
#include "recorder/recorder.h"
#include "tools/commands.h"

namespace relaytap::tools {
namespace {

// The --guard-* knob flags that were given (-1 / false: not given).
proxy::guard::GuardKnobs FlagKnobs(const ProxyFlags& f) {
  proxy::guard::GuardKnobs k;
  if (f.guard_max_attempts >= 0) k.max_attempts = f.guard_max_attempts;
  if (f.guard_budget_percent >= 0) k.budget_percent = f.guard_budget_percent;
  if (f.guard_cooldown_ms >= 0) k.cooldown_ms = f.guard_cooldown_ms;
  if (f.guard_key_by_client) k.key_by_client = true;
  if (f.guard_session_cap >= 0) k.session_cap = f.guard_session_cap;
  return k;
}

// The --upstream-proxy flags over the config file's keys, then the proxy taken from the
// environment (only with "env") and its credentials read.
absl::Status ApplyUpstreamProxyFlags(const ProxyFlags& f, proxy::ProxyConfig& c) {
  if (f.upstream_proxy == "env") {
    c.upstream_proxy.reset();
    c.upstream_proxy_from_env = true;
  } else if (!f.upstream_proxy.empty()) {
    absl::StatusOr<proxy::UpstreamProxy> proxy = proxy::ParseUpstreamProxyUrl(f.upstream_proxy);
    if (!proxy.ok()) return proxy.status();
    c.upstream_proxy = *std::move(proxy);
    c.upstream_proxy_from_env = false;
  }
  if (!f.upstream_proxy_auth_file.empty()) c.upstream_proxy_auth_file = f.upstream_proxy_auth_file;
  if (!f.upstream_proxy_auth_env.empty()) c.upstream_proxy_auth_env = f.upstream_proxy_auth_env;
  if (!f.no_upstream_proxy_for.empty()) c.no_upstream_proxy_for = f.no_upstream_proxy_for;
  return proxy::ResolveUpstreamProxy(
      c, [](const char* name) -> const char* { return std::getenv(name); });
}

// An ADDR:PORT flag, if given.
absl::Status HostPortFlag(std::string_view flag, const std::string& text,
                          std::optional<proxy::HostPort>& out) {
  if (text.empty()) return absl::OkStatus();
  absl::StatusOr<proxy::HostPort> hp = proxy::ParseHostPort(text);
  if (!hp.ok()) {
    return absl::InvalidArgumentError(StrCat(flag, " ", std::string(hp.status().message())));
  }
  out = *hp;
  return absl::OkStatus();
}

// --listen, --allow-remote and the remote mode's access flags, --metrics.
absl::Status ApplyListenFlags(const ProxyFlags& f, proxy::ProxyConfig& c) {
  std::optional<proxy::HostPort> listen;
  RELAYTAP_RETURN_IF_ERROR(HostPortFlag("--listen", f.listen, listen));
  if (listen) c.listen = *listen;
  if (f.allow_remote) c.allow_remote = true;
  if (!f.proxy_auth_file.empty()) c.proxy_auth_file = f.proxy_auth_file;
  if (!f.allow_clients.empty()) c.allow_clients = f.allow_clients;
  RELAYTAP_RETURN_IF_ERROR(HostPortFlag("--metrics", f.metrics, c.metrics));
  if (f.metrics_allow_remote) c.metrics_allow_remote = true;
  return absl::OkStatus();
}

// --ca-dir, --upstream-ca, the upstream proxy, --connect-to, --intercept and the run's limits.
absl::Status ApplyUpstreamFlags(const ProxyFlags& f, proxy::ProxyConfig& c) {
  if (!f.ca_dir.empty()) c.ca_dir = f.ca_dir;
  if (!f.upstream_ca.empty()) c.upstream_ca = f.upstream_ca;
  RELAYTAP_RETURN_IF_ERROR(ApplyUpstreamProxyFlags(f, c));
  if (!f.connect_to.empty()) {
    c.connect_to.clear();
    for (const std::string& r : f.connect_to) {
      RELAYTAP_ASSIGN_OR_RETURN(proxy::ConnectTo rule, proxy::ParseConnectTo(r));
      c.connect_to.push_back(rule);
    }
  }
  if (!f.intercept.empty()) c.intercept = f.intercept;
  if (!f.log_level.empty()) c.log_level = f.log_level;
  if (f.threads >= 0) c.threads = f.threads;
  if (f.max_connections >= 0) c.max_connections = f.max_connections;
  return absl::OkStatus();
}

// The store's flags (checked again, with the rotation, in CheckRecording).
absl::Status ApplyRecordingFlags(const ProxyFlags& f, proxy::ProxyConfig& c) {
  if (!f.db.empty()) c.db = f.db;
  if (f.no_record) c.record = false;
  if (!f.redaction_policy.empty()) c.redaction_policy = f.redaction_policy;
  if (!f.durability.empty()) c.durability = f.durability;
  if (!f.rotate.empty()) c.rotate = f.rotate;
  if (f.keep >= 0) c.keep = f.keep;
  for (auto [flag, text, out] : {std::tuple{"--max-db-size", &f.max_db_size, &c.max_db_bytes},
                                 std::tuple{"--min-free", &f.min_free, &c.min_free_bytes}}) {
    if (text->empty()) continue;
    absl::StatusOr<uint64_t> bytes = ParseByteSize(*text);
    if (!bytes.ok()) {
      return absl::InvalidArgumentError(StrCat(flag, " ", std::string(bytes.status().message())));
    }
    *out = *bytes;
  }
  return absl::OkStatus();
}

absl::Status ApplyGuardFlags(const ProxyFlags& f, proxy::ProxyConfig& c) {
  if (!f.guard.empty()) {
    auto mode = proxy::guard::ParseGuardMode(f.guard);
    if (!mode.ok()) {
      return absl::InvalidArgumentError(StrCat("--guard: ", std::string(mode.status().message())));
    }
    c.guard.mode = *mode;
  }
  if (!f.guard_policy.empty()) c.guard.policy_file = f.guard_policy;
  return absl::OkStatus();
}

// Everything that can be checked before anything starts: the log level (applied), the
// configuration, the rotation, and the auth file and allowlist (read now, so that a mistake in
// either is a usage error).
absl::Status CheckConfig(const proxy::ProxyConfig& c) {
  LogLevel level;
  if (!ParseLogLevel(c.log_level, &level)) {
    return absl::InvalidArgumentError(
        StrCat("unknown log level '", c.log_level, "' (trace, debug, info, warn, error, off)"));
  }
  SetLogLevel(level);
  RELAYTAP_RETURN_IF_ERROR(proxy::ValidateConfig(c));
  if (!c.rotate.empty()) {
    if (absl::StatusOr<recorder::Rotation> r = recorder::ParseRotation(c.rotate); !r.ok()) {
      return absl::InvalidArgumentError(StrCat("--rotate ", std::string(r.status().message())));
    }
  }
  return proxy::ProxyAccess::Load(c).status();
}

}  // namespace

absl::StatusOr<std::unique_ptr<proxy::guard::RetryGuard>> BuildGuard(const proxy::ProxyConfig& c,
                                                                     const ProxyFlags& f) {
  namespace guard = proxy::guard;
  absl::StatusOr<guard::GuardPolicy> policy =
      guard::ResolveGuardPolicy(c.guard.policy_file, c.guard.knobs, FlagKnobs(f));
  if (!policy.ok()) return policy.status();
  if (c.guard.mode == guard::GuardMode::kOff) return nullptr;
  return std::make_unique<guard::RetryGuard>(*std::move(policy), c.guard.mode);
}

absl::StatusOr<proxy::ProxyConfig> BuildConfig(const ProxyFlags& f) {
  proxy::ProxyConfig c;
  c.ca_dir = DefaultCaDir();
  // The file first, then flags on top of it: a flag given on the command line wins.
  if (!f.config_file.empty()) RELAYTAP_RETURN_IF_ERROR(proxy::MergeConfigFile(f.config_file, c));
  RELAYTAP_RETURN_IF_ERROR(ApplyListenFlags(f, c));
  RELAYTAP_RETURN_IF_ERROR(ApplyUpstreamFlags(f, c));
  RELAYTAP_RETURN_IF_ERROR(ApplyRecordingFlags(f, c));
  RELAYTAP_RETURN_IF_ERROR(ApplyGuardFlags(f, c));
  RELAYTAP_RETURN_IF_ERROR(CheckConfig(c));
  return c;
}

}  // namespace relaytap::tools

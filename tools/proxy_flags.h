// The flags of `relaytap proxy` and how they become its configuration: the config file first,
// then the flags over it, then every check that can run before anything starts.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proxy/config/config.h"
#include "proxy/guard/retry_guard.h"

namespace relaytap::tools {

struct ProxyFlags {
  std::string listen;
  bool allow_remote = false;
  std::string ca_dir;
  std::string upstream_ca;
  std::string upstream_proxy;  // a URL or "env"
  std::string upstream_proxy_auth_file;
  std::string upstream_proxy_auth_env;
  std::vector<std::string> no_upstream_proxy_for;
  std::vector<std::string> connect_to;
  std::vector<std::string> intercept;
  std::string log_level;
  std::string config_file;
  int threads = -1;
  int max_connections = -1;
  std::string proxy_auth_file;
  std::vector<std::string> allow_clients;
  std::string db;
  std::string metrics;  // ADDR:PORT
  bool metrics_allow_remote = false;
  bool no_record = false;
  std::string redaction_policy;
  std::string durability;
  int recorder_nice = 0;
  std::string max_db_size;
  std::string min_free;
  std::string rotate;
  int keep = -1;
  std::string guard;  // empty: the config file's (default off)
  std::string guard_policy;
  int guard_max_attempts = -1;
  double guard_budget_percent = -1;
  int64_t guard_cooldown_ms = -1;
  bool guard_key_by_client = false;
  int guard_session_cap = -1;  // >= 0: enable the in-session cap with this many creates
};

// The configuration: defaults, then --config FILE, then the flags. Errors are usage errors.
absl::StatusOr<proxy::ProxyConfig> BuildConfig(const ProxyFlags& f);

// The guard the config asks for (mode and policy file: the file's, or the flags'): null when
// off. Policy: the file or the embedded defaults (configs/guard.example.json), then the config
// file's knobs, then the knob flags; checked even when off, so a typo shows before an incident.
absl::StatusOr<std::unique_ptr<proxy::guard::RetryGuard>> BuildGuard(const proxy::ProxyConfig& c,
                                                                     const ProxyFlags& f);

}  // namespace relaytap::tools

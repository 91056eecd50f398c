#include "tools/proxy_startup.h"

#include <iostream>

#include "base/byte_size.h"
#include "base/log.h"
#include "base/str_cat.h"
#include "proxy/guard/guard_settings.h"
#include "proxy/guard/policy.h"

namespace relaytap::tools {
namespace {

void LogConnections(const ProxyStartup& p) {
  const proxy::OpenFileLimit& files = p.files;
  RELAYTAP_LOG(kInfo, "open-files limit ", files.soft,
               files.soft != files.soft_before ? StrCat(" (raised from ", files.soft_before, ")")
                                               : std::string(),
               "; serving up to ", p.server.max_connections(), " connections at once",
               p.config.max_connections > 0 ? " (max_connections)" : "");
}

void LogRecording(const ProxyStartup& p) {
  const proxy::ProxyConfig& c = p.config;
  if (p.recorder == nullptr) {
    RELAYTAP_LOG(kInfo, "recording off (--no-record): relaying only");
    return;
  }
  const uint64_t max_db = p.disk.max_db_bytes;
  const uint64_t min_free = p.disk.min_free_bytes;
  const bool hourly = c.rotate == "hourly";
  RELAYTAP_LOG(kInfo, "recording to ", c.db.string(), " (run ", p.recorder->run_id(),
               ", redacted; durability ", c.durability, "; pauses at ",
               max_db ? FormatByteSize(max_db) : std::string("no size cap"), " or under ",
               min_free ? FormatByteSize(min_free) : std::string("0 B"), " free",
               c.rotate.empty() ? std::string()
                                : StrCat("; rolls over ", hourly ? "hourly" : "at ",
                                         hourly ? "" : c.rotate, ", keeping ", c.keep, " files"),
               ")");
}

void LogGuard(const ProxyStartup& p) {
  if (p.guard == nullptr) {
    RELAYTAP_LOG(kInfo,
                 "retry guard: off (--guard observe|enforce, or \"guard\" in --config, "
                 "to turn it on)");
    return;
  }
  const proxy::guard::GuardPolicy& gp = p.guard->policy();
  const auto& policy_file = p.config.guard.policy_file;
  RELAYTAP_LOG(kInfo, "retry guard: ", proxy::guard::GuardModeName(p.guard->mode()),
               " (max_attempts ", gp.attempt_cap.max_attempts, ", budget ",
               gp.retry_budget.budget_percent, "%, window ", gp.window_ms, " ms, session cap ",
               gp.session_cap.enabled
                   ? StrCat(gp.session_cap.max_creates_after_failure, " create(s) after failure")
                   : std::string("off"),
               ", policy ", policy_file ? policy_file->string() : "built-in", ")");
}

void LogUpstreamProxy(const proxy::ProxyConfig& c) {
  if (!c.upstream_proxy) return;  // the address only: credentials are never logged
  std::string bypass;
  for (const std::string& p : c.no_upstream_proxy_for) bypass += " " + p;
  RELAYTAP_LOG(kInfo, "upstream proxy: ", c.upstream_proxy->Display(),
               c.upstream_proxy->credentials.empty() ? "" : " (Basic credentials)",
               bypass.empty() ? std::string() : StrCat("; direct for", bypass));
  for (const std::string& entry : c.no_proxy_ignored) {
    RELAYTAP_LOG(kWarn, "NO_PROXY entry '", entry,
                 "' ignored: only host names, .suffixes, IP addresses and * are understood "
                 "(add --no-upstream-proxy-for PATTERN)");
  }
}

}  // namespace

void AnnounceProxy(const ProxyStartup& p) {
  const proxy::ProxyConfig& c = p.config;
  const proxy::Server& s = p.server;
  const std::string ca_env = StrCat(
      "eval \"$(relaytap ca env", p.ca_dir_flag.empty() ? "" : " --ca-dir ", p.ca_dir_flag, ")\"");
  LogConnections(p);
  LogRecording(p);
  LogGuard(p);
  if (s.ca().created() && !s.ca().reissued()) {  // a re-issue has its own warning
    RELAYTAP_LOG(kInfo, "created a new CA in ", c.ca_dir.string(), "; trust it with: ", ca_env);
  }
  LogUpstreamProxy(c);
  std::string patterns;
  for (const std::string& pattern : c.intercept) {
    patterns += (patterns.empty() ? "" : ",") + pattern;
  }
  const std::string address = StrCat(c.listen.host, ":", s.port());
  RELAYTAP_LOG(kInfo, "relaytap ", RELAYTAP_VERSION, " listening on ", address,
               " intercept=", patterns, " ca=", s.ca().cert_path().string());
  std::cout << "relaytap proxy listening on " << address << "\n  export HTTPS_PROXY=http://"
            << address << " HTTP_PROXY=http://" << address << "\n  " << ca_env << std::endl;
}

}  // namespace relaytap::tools

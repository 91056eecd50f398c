// `relaytap proxy`: the main job.
#include <cstdlib>
#include <iostream>
#include <string>
#include <tuple>
#include <vector>

#include "base/byte_size.h"
#include "base/log.h"
#include "base/str_cat.h"
#include "metrics/proxy_metrics.h"
#include "proxy/config/config.h"
#include "proxy/guard/guard_settings.h"
#include "proxy/guard/policy.h"
#include "proxy/guard/retry_guard.h"
#include "proxy/server.h"
#include "proxy/session/access.h"
#include "proxy/session/admission.h"
#include "recorder/recorder.h"
#include "tools/commands.h"

namespace relaytap::tools {
namespace {

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

// The guard the config asks for (mode and policy file: the file's, or the flags'): null when
// off. Policy: the file or the embedded defaults (configs/guard.example.json), then the config
// file's knobs, then the knob flags; checked even when off, so a typo shows before an incident.
absl::StatusOr<std::unique_ptr<proxy::guard::RetryGuard>> BuildGuard(const proxy::ProxyConfig& c,
                                                                     const ProxyFlags& f) {
  namespace guard = proxy::guard;
  absl::StatusOr<guard::GuardPolicy> policy =
      guard::ResolveGuardPolicy(c.guard.policy_file, c.guard.knobs, FlagKnobs(f));
  if (!policy.ok()) return policy.status();
  if (c.guard.mode == guard::GuardMode::kOff) return nullptr;
  return std::make_unique<guard::RetryGuard>(*std::move(policy), c.guard.mode);
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

absl::StatusOr<proxy::ProxyConfig> BuildConfig(const ProxyFlags& f) {
  proxy::ProxyConfig c;
  c.ca_dir = DefaultCaDir();
  // The file first, then flags on top of it: a flag given on the command line wins.
  if (!f.config_file.empty()) {
    if (absl::Status st = proxy::MergeConfigFile(f.config_file, c); !st.ok()) return st;
  }
  if (!f.listen.empty()) {
    auto hp = proxy::ParseHostPort(f.listen);
    if (!hp.ok())
      return absl::InvalidArgumentError(StrCat("--listen ", std::string(hp.status().message())));
    c.listen = *hp;
  }
  if (f.allow_remote) c.allow_remote = true;
  if (!f.metrics.empty()) {
    auto hp = proxy::ParseHostPort(f.metrics);
    if (!hp.ok())
      return absl::InvalidArgumentError(StrCat("--metrics ", std::string(hp.status().message())));
    c.metrics = *hp;
  }
  if (f.metrics_allow_remote) c.metrics_allow_remote = true;
  if (!f.ca_dir.empty()) c.ca_dir = f.ca_dir;
  if (!f.upstream_ca.empty()) c.upstream_ca = f.upstream_ca;
  if (absl::Status st = ApplyUpstreamProxyFlags(f, c); !st.ok()) return st;
  if (!f.connect_to.empty()) {
    c.connect_to.clear();
    for (const std::string& r : f.connect_to) {
      auto rule = proxy::ParseConnectTo(r);
      if (!rule.ok()) return rule.status();
      c.connect_to.push_back(*rule);
    }
  }
  if (!f.intercept.empty()) c.intercept = f.intercept;
  if (!f.log_level.empty()) c.log_level = f.log_level;
  if (f.threads >= 0) c.threads = f.threads;
  if (f.max_connections >= 0) c.max_connections = f.max_connections;
  if (!f.proxy_auth_file.empty()) c.proxy_auth_file = f.proxy_auth_file;
  if (!f.allow_clients.empty()) c.allow_clients = f.allow_clients;
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
  if (!f.guard.empty()) {
    auto mode = proxy::guard::ParseGuardMode(f.guard);
    if (!mode.ok()) {
      return absl::InvalidArgumentError(StrCat("--guard: ", std::string(mode.status().message())));
    }
    c.guard.mode = *mode;
  }
  if (!f.guard_policy.empty()) c.guard.policy_file = f.guard_policy;
  LogLevel level;
  if (!ParseLogLevel(c.log_level, &level)) {
    return absl::InvalidArgumentError(
        StrCat("unknown log level '", c.log_level, "' (trace, debug, info, warn, error, off)"));
  }
  SetLogLevel(level);
  if (absl::Status st = proxy::ValidateConfig(c); !st.ok()) return st;
  if (!c.rotate.empty()) {
    if (absl::StatusOr<recorder::Rotation> r = recorder::ParseRotation(c.rotate); !r.ok()) {
      return absl::InvalidArgumentError(StrCat("--rotate ", std::string(r.status().message())));
    }
  }
  // The auth file and the allowlist are read now, so a mistake in either is a usage error.
  if (absl::StatusOr<proxy::ProxyAccess> access = proxy::ProxyAccess::Load(c); !access.ok()) {
    return access.status();
  }
  return c;
}

int RunProxy(const ProxyFlags& flags) {
  auto config = BuildConfig(flags);
  if (!config.ok()) {
    std::cerr << "relaytap proxy: " << config.status().message() << "\n";
    return 2;
  }
  auto guard = BuildGuard(*config, flags);
  if (!guard.ok()) {
    std::cerr << "relaytap proxy: " << guard.status().message() << "\n";
    return 2;
  }
  metrics::Tally tally;  // outlives the recorder that feeds it and the listener that reads it
  std::unique_ptr<recorder::Recorder> rec;
  recorder::DiskLimits disk;
  if (config->record) {
    recorder::RecorderOptions ro;
    if (config->metrics) ro.tap = &tally;
    ro.db_path = config->db.string();
    ro.key_dir = config->ca_dir.string();
    if (config->redaction_policy) ro.redaction_policy_path = config->redaction_policy->string();
    ro.relaytap_version = RELAYTAP_VERSION;
    ro.durability =
        config->durability == "full" ? recorder::Durability::kFull : recorder::Durability::kNormal;
    ro.writer_nice_increment = flags.recorder_nice;
    if (config->max_db_bytes) ro.disk.max_db_bytes = *config->max_db_bytes;
    if (config->min_free_bytes) ro.disk.min_free_bytes = *config->min_free_bytes;
    disk = ro.disk;
    if (!config->rotate.empty()) {
      ro.rotation = *recorder::ParseRotation(config->rotate);  // checked in BuildConfig
      ro.rotation.keep = config->keep;
    }
    auto opened = recorder::Recorder::Open(ro);
    if (!opened.ok()) {
      std::cerr << "relaytap proxy: cannot record to " << config->db.string() << ": "
                << opened.status().message() << " (use --db FILE, or --no-record to relay only)\n";
      return 1;
    }
    rec = std::move(*opened);
  }
  // Every connection holds two descriptors: the common soft limit of 1,024 would cap the proxy
  // at about 480 connections while the hard limit allows far more.
  const proxy::OpenFileLimit files = proxy::RaiseOpenFileLimit();
  auto server = proxy::Server::Start(*config, nullptr, rec.get(), guard->get());
  if (!server.ok()) {
    std::cerr << "relaytap proxy: " << server.status().message() << "\n";
    return 1;
  }
  proxy::Server& s = **server;
  std::unique_ptr<metrics::MetricsServer> metrics_server;
  if (config->metrics) {
    auto started = metrics::ServeProxyMetrics(config->metrics->host, config->metrics->port, tally,
                                              *rec, [&s] { return s.active_sessions(); });
    if (!started.ok()) {
      std::cerr << "relaytap proxy: " << started.status().message() << "\n";
      return 1;
    }
    metrics_server = std::move(*started);
    RELAYTAP_LOG(kInfo, "metrics on http://", config->metrics->host, ":", metrics_server->port(),
                 "/metrics (and /healthz)");
  }
  RELAYTAP_LOG(kInfo, "open-files limit ", files.soft,
               files.soft != files.soft_before ? StrCat(" (raised from ", files.soft_before, ")")
                                               : std::string(),
               "; serving up to ", s.max_connections(), " connections at once",
               config->max_connections > 0 ? " (max_connections)" : "");
  if (rec) {
    RELAYTAP_LOG(kInfo, "recording to ", config->db.string(), " (run ", rec->run_id(),
                 ", redacted; durability ", config->durability, "; pauses at ",
                 disk.max_db_bytes ? FormatByteSize(disk.max_db_bytes) : std::string("no size cap"),
                 " or under ",
                 disk.min_free_bytes ? FormatByteSize(disk.min_free_bytes) : std::string("0 B"),
                 " free",
                 config->rotate.empty()
                     ? std::string()
                     : StrCat("; rolls over ", config->rotate == "hourly" ? "hourly" : "at ",
                              config->rotate == "hourly" ? "" : config->rotate, ", keeping ",
                              config->keep, " files"),
                 ")");
  } else {
    RELAYTAP_LOG(kInfo, "recording off (--no-record): relaying only");
  }
  if (*guard) {
    const proxy::guard::GuardPolicy& gp = (*guard)->policy();
    RELAYTAP_LOG(kInfo, "retry guard: ", proxy::guard::GuardModeName((*guard)->mode()),
                 " (max_attempts ", gp.attempt_cap.max_attempts, ", budget ",
                 gp.retry_budget.budget_percent, "%, window ", gp.window_ms, " ms, session cap ",
                 gp.session_cap.enabled
                     ? StrCat(gp.session_cap.max_creates_after_failure, " create(s) after failure")
                     : std::string("off"),
                 ", policy ",
                 config->guard.policy_file ? config->guard.policy_file->string() : "built-in", ")");
  } else {
    RELAYTAP_LOG(kInfo,
                 "retry guard: off (--guard observe|enforce, or \"guard\" in --config, "
                 "to turn it on)");
  }
  if (s.ca().created() && !s.ca().reissued()) {  // a re-issue has its own warning
    RELAYTAP_LOG(kInfo, "created a new CA in ", config->ca_dir.string(),
                 "; trust it with: eval \"$(relaytap ca env",
                 flags.ca_dir.empty() ? "" : " --ca-dir " + flags.ca_dir, ")\"");
  }
  if (config->upstream_proxy) {  // the address only: credentials are never logged
    std::string bypass;
    for (const std::string& p : config->no_upstream_proxy_for) bypass += " " + p;
    RELAYTAP_LOG(kInfo, "upstream proxy: ", config->upstream_proxy->Display(),
                 config->upstream_proxy->credentials.empty() ? "" : " (Basic credentials)",
                 bypass.empty() ? std::string() : StrCat("; direct for", bypass));
    for (const std::string& entry : config->no_proxy_ignored) {
      RELAYTAP_LOG(kWarn, "NO_PROXY entry '", entry,
                   "' ignored: only host names, .suffixes, IP addresses and * are understood "
                   "(add --no-upstream-proxy-for PATTERN)");
    }
  }
  std::string patterns;
  for (const std::string& p : config->intercept) patterns += (patterns.empty() ? "" : ",") + p;
  RELAYTAP_LOG(kInfo, "relaytap ", RELAYTAP_VERSION, " listening on ", config->listen.host, ":",
               s.port(), " intercept=", patterns, " ca=", s.ca().cert_path().string());
  std::cout << "relaytap proxy listening on " << config->listen.host << ":" << s.port()
            << "\n  export HTTPS_PROXY=http://" << config->listen.host << ":" << s.port()
            << " HTTP_PROXY=http://" << config->listen.host << ":" << s.port()
            << "\n  eval \"$(relaytap ca env"
            << (flags.ca_dir.empty() ? "" : " --ca-dir " + flags.ca_dir) << ")\"" << std::endl;
  s.WaitForSignal();
  metrics_server.reset();
  (*server).reset();  // every session is gone: nothing submits any more
  if (rec) {
    absl::Status closed = rec->Close();  // drains the queue completely
    recorder::RecorderStats st = rec->stats();
    RELAYTAP_LOG(kInfo, "recorder closed: ", st.written, " observations written, ", st.dropped,
                 " dropped, ", st.gaps_written, " gaps recorded");
    if (!closed.ok()) {
      std::cerr << "relaytap proxy: closing the recording: " << closed.message() << "\n";
      return 1;
    }
  }
  RELAYTAP_LOG(kInfo, "stopped");
  return 0;
}

}  // namespace

void AddProxyCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<ProxyFlags>();
  CLI::App* cmd =
      app.add_subcommand("proxy", "Run the intercepting proxy (point HTTPS_PROXY at it)");
  cmd->add_option("--listen", flags->listen,
                  "Address to listen on, ADDR:PORT (default 127.0.0.1:8080)");
  cmd->add_option("--proxy-auth-file", flags->proxy_auth_file,
                  "with --allow-remote: Basic proxy credentials the app must send "
                  "(Proxy-Authorization), one user:password per line");
  cmd->add_option("--allow-client", flags->allow_clients,
                  "with --allow-remote: a client network allowed to connect (CIDR, repeatable)");
  cmd->add_flag("--allow-remote", flags->allow_remote,
                "Allow a non-loopback --listen address; needs --proxy-auth-file or --allow-client, "
                "and internal destinations are refused unless --connect-to maps them");
  cmd->add_option("--ca-dir", flags->ca_dir,
                  "Directory of relaytap's CA (created on first start; default ~/.relaytap)");
  cmd->add_option("--upstream-ca", flags->upstream_ca,
                  "Extra PEM roots trusted for upstream, besides the system store")
      ->check(CLI::ExistingFile);
  cmd->add_option(
      "--upstream-proxy", flags->upstream_proxy,
      "Reach upstream through this HTTP proxy with CONNECT: http://[USER:PASS@]HOST:PORT, "
      "or env (HTTPS_PROXY; never read otherwise). Config key: upstream_proxy");
  cmd->add_option("--upstream-proxy-auth-file", flags->upstream_proxy_auth_file,
                  "File holding USER:PASS for the upstream proxy (Basic). Config key: "
                  "upstream_proxy_auth_file");
  cmd->add_option("--upstream-proxy-auth-env", flags->upstream_proxy_auth_env,
                  "Environment variable holding USER:PASS for the upstream proxy. Config key: "
                  "upstream_proxy_auth_env");
  cmd->add_option("--no-upstream-proxy-for", flags->no_upstream_proxy_for,
                  "Host pattern dialled directly, not through --upstream-proxy (repeatable; "
                  "--intercept syntax). Config key: no_upstream_proxy_for");
  cmd->add_option("--connect-to", flags->connect_to,
                  "HOST:PORT:HOST2:PORT2 - dial HOST2:PORT2 for HOST:PORT, keeping SNI, Host "
                  "and certificate checks for HOST (repeatable)");
  cmd->add_option(
      "--intercept", flags->intercept,
      "Host pattern to intercept (repeatable; '*' = everything). Default: "
      "*.openai.azure.com *.cognitiveservices.azure.com *.services.ai.azure.com "
      "*.realtimeapi-preview.ai.azure.com (WebRTC call set-up, preview) api.openai.com. Other "
      "CONNECTs are tunnelled untouched. The CA is name-constrained "
      "to these patterns (changing them re-issues it); '*' leaves it unconstrained");
  cmd->add_option("--log-level", flags->log_level,
                  "trace|debug|info|warn|error|off (default info)");
  cmd->add_option("--config", flags->config_file,
                  "JSON file with the same settings as the flags, guard included (keys guard, "
                  "guard_policy, guard_max_attempts, ...; see configs/relaytap.example.json); "
                  "flags override it");
  cmd->add_option("--threads", flags->threads, "I/O threads (default: one per core)");
  cmd->add_option("--max-connections", flags->max_connections,
                  "connections served at once; more are answered 503 (default: from the "
                  "open-files limit, which relaytap raises to the hard limit)");
  cmd->add_option("--db", flags->db,
                  "SQLite file to record into (default ./relaytap.db; reopening appends a run)");
  cmd->add_flag("--no-record", flags->no_record, "Relay only: record nothing");
  cmd->add_option("--metrics", flags->metrics,
                  "Serve Prometheus metrics on ADDR:PORT (/metrics, /healthz; loopback, never "
                  "the proxy's port; see README Monitoring). Config key: metrics");
  cmd->add_flag("--metrics-allow-remote", flags->metrics_allow_remote,
                "Allow a non-loopback --metrics address. Config key: metrics_allow_remote");
  cmd->add_option("--max-db-size", flags->max_db_size,
                  "Pause recording (one gap row, relaying goes on) when the store and its WAL "
                  "reach SIZE (default 4GiB; 0: no cap). Config key: max_db_size");
  cmd->add_option("--rotate", flags->rotate,
                  "Roll the store over to a new file beside --db (NAME-YYYYMMDDTHHMMZ.db, each a "
                  "complete store): hourly, or when it reaches SIZE (e.g. 1GiB). Config key: "
                  "rotate");
  cmd->add_option("--keep", flags->keep,
                  "With --rotate: files kept; the oldest are deleted once a new one is open "
                  "(default 24). Config key: keep")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--min-free", flags->min_free,
                  "Pause recording while the store's filesystem has less than SIZE free "
                  "(default 1GiB; 0: never). Config key: min_free");
  cmd->add_option("--redaction-policy", flags->redaction_policy,
                  "JSON policy extending the built-in redaction policy (configs/redaction.json)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--durability", flags->durability,
                  "normal (default: survives a crash of relaytap) or full (survives power loss)")
      ->check(CLI::IsMember({"normal", "full"}));
  cmd->add_option("--recorder-nice", flags->recorder_nice,
                  "Nice increment of the recorder's writer thread while its queue is under a "
                  "quarter full (default 0: same priority as the relay; see README)")
      ->check(CLI::Range(0, 19));
  cmd->add_option("--guard", flags->guard,
                  "Retry-storm guard: off (default), observe (record what it would do) or "
                  "enforce (answer capped retries locally with 429/503). Config key: guard")
      ->check(CLI::IsMember({"off", "observe", "enforce"}));
  cmd->add_option("--guard-policy", flags->guard_policy,
                  "JSON guard policy (default: built-in, as configs/guard.example.json). Config "
                  "key: guard_policy");
  cmd->add_option("--guard-max-attempts", flags->guard_max_attempts,
                  "Attempts in total per logical request (default 3). Config key: "
                  "guard_max_attempts");
  cmd->add_option("--guard-budget-percent", flags->guard_budget_percent,
                  "Retries as a share of a key's recent attempts (default 20). Config key: "
                  "guard_budget_percent");
  cmd->add_option("--guard-cooldown-ms", flags->guard_cooldown_ms,
                  "First circuit-breaker open period; doubles on repeated trips (default 5000). "
                  "Config key: guard_cooldown_ms");
  cmd->add_flag("--guard-key-by-client", flags->guard_key_by_client,
                "Keep separate guard state per client address, not only per deployment. Config "
                "key: guard_key_by_client");
  cmd->add_option("--guard-session-cap", flags->guard_session_cap,
                  "Enable the in-session cap: in one realtime session, after a failed response, "
                  "forward at most N more response.create (off by default). Config key: "
                  "guard_session_cap")
      ->check(CLI::Range(0, 1000000));
  cmd->callback([flags, exit_code] { *exit_code = RunProxy(*flags); });
}

}  // namespace relaytap::tools

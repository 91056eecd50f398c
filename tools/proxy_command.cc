// `relaytap proxy`: the main job.
#include <iostream>
#include <memory>
#include <string>

#include "base/log.h"
#include "base/malloc_tuning.h"
#include "metrics/proxy_metrics.h"
#include "proxy/config/config.h"
#include "proxy/server.h"
#include "proxy/session/admission.h"
#include "proxy/stream/tls_record_pool.h"
#include "recorder/recorder.h"
#include "tools/commands.h"
#include "tools/proxy_flags.h"
#include "tools/proxy_startup.h"

namespace relaytap::tools {
namespace {

// The recorder's options from the configuration (rotation checked in BuildConfig).
recorder::RecorderOptions RecorderOptionsOf(const proxy::ProxyConfig& c, const ProxyFlags& flags,
                                            metrics::Tally* tally) {
  recorder::RecorderOptions ro;
  ro.tap = tally;
  ro.db_path = c.db.string();
  ro.key_dir = c.ca_dir.string();
  if (c.redaction_policy) ro.redaction_policy_path = c.redaction_policy->string();
  ro.relaytap_version = RELAYTAP_VERSION;
  ro.durability =
      c.durability == "full" ? recorder::Durability::kFull : recorder::Durability::kNormal;
  ro.writer_nice_increment = flags.recorder_nice;
  if (c.max_db_bytes) ro.disk.max_db_bytes = *c.max_db_bytes;
  if (c.min_free_bytes) ro.disk.min_free_bytes = *c.min_free_bytes;
  if (!c.rotate.empty()) {
    ro.rotation = *recorder::ParseRotation(c.rotate);
    ro.rotation.keep = c.keep;
  }
  return ro;
}

// Waits for SIGINT/SIGTERM, then stops in order: the metrics listener, the sessions, then the
// recorder, which drains its queue completely. Returns the exit code.
int WaitAndStop(std::unique_ptr<proxy::Server> server,
                std::unique_ptr<metrics::MetricsServer> metrics_server,
                std::unique_ptr<recorder::Recorder> rec) {
  server->WaitForSignal();
  metrics_server.reset();
  server.reset();  // every session is gone: nothing submits any more
  if (rec) {
    absl::Status closed = rec->Close();
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

int RunProxy(const ProxyFlags& flags) {
  // First, before OpenSSL allocates anything (it refuses a new allocator afterwards).
  const bool pooled = proxy::tls::PoolTlsRecordBuffers();
  auto config = BuildConfig(flags);
  auto guard = config.ok() ? BuildGuard(*config, flags) : config.status();
  if (!guard.ok()) {
    std::cerr << "relaytap proxy: " << guard.status().message() << "\n";
    return kUsageError;
  }
  if (!KeepFreedMemoryInTheHeap()) {
    RELAYTAP_LOG(kWarn, "glibc refused the malloc thresholds; using its defaults");
  }
  if (!pooled) {
    RELAYTAP_LOG(kWarn,
                 "OpenSSL refused the record-buffer pool (it had allocated already); "
                 "using malloc for its buffers");
  }
  metrics::Tally tally;  // outlives the recorder that feeds it and the listener that reads it
  const recorder::RecorderOptions ro =
      RecorderOptionsOf(*config, flags, config->metrics ? &tally : nullptr);
  std::unique_ptr<recorder::Recorder> rec;
  if (config->record) {
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
  AnnounceProxy(ProxyStartup{*config, s, rec.get(), guard->get(), ro.disk, files, flags.ca_dir});
  return WaitAndStop(*std::move(server), std::move(metrics_server), std::move(rec));
}

// Where relaytap listens and who may connect.
void AddListenFlags(CLI::App* cmd, ProxyFlags* flags) {
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
}

// How relaytap reaches upstream: its CA, an upstream proxy, connect-to rules.
void AddUpstreamFlags(CLI::App* cmd, ProxyFlags* flags) {
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
}

// What is intercepted, logging, configuration file, threads and limits.
void AddRunFlags(CLI::App* cmd, ProxyFlags* flags) {
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
}

// The store: where, how durable, how large, rotation, redaction, metrics.
void AddRecordingFlags(CLI::App* cmd, ProxyFlags* flags) {
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
}

// The retry-storm guard.
void AddGuardFlags(CLI::App* cmd, ProxyFlags* flags) {
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
}

}  // namespace

void AddProxyCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<ProxyFlags>();
  CLI::App* cmd =
      app.add_subcommand("proxy", "Run the intercepting proxy (point HTTPS_PROXY at it)");
  AddListenFlags(cmd, flags.get());
  AddUpstreamFlags(cmd, flags.get());
  AddRunFlags(cmd, flags.get());
  AddRecordingFlags(cmd, flags.get());
  AddGuardFlags(cmd, flags.get());
  cmd->callback([flags, exit_code] { *exit_code = RunProxy(*flags); });
}

}  // namespace relaytap::tools

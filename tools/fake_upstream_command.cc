// `relaytap fake-upstream`: runs the Azure-shaped fake upstream on a loopback address until
// SIGINT or SIGTERM, injecting the faults chosen by flags, per-deployment rules or a profile.
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <signal.h>

#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "proxy/config/config.h"
#include "proxy/tls/cert_authority.h"
#include "tools/commands.h"
#include "tools/fake_upstream/fake_upstream.h"
#include "tools/fake_upstream/fault_profile.h"
#include "tools/fake_upstream/startup_hints.h"
#include "tools/stop_signals.h"

namespace relaytap::tools {
namespace {

struct FakeUpstreamFlags {
  std::string listen = "127.0.0.1:0";
  std::string tls_cert;
  std::string tls_key;
  std::string tls_ca;
  bool tls = false;  // a leaf for azure_host from relaytap's CA
  std::string ca_dir;
  bool no_deflate = false;
  int threads = 1;
  std::string stream = "realtime";
  int audio_ms = 1000;
  int delta_ms = 20;
  std::string profile;
  std::vector<std::string> faults;
  std::vector<std::string> rules;
  int64_t seed = -1;
  // -1: keep the profile's (or the default) value.
  int latency_ms = -1;
  int stall_ms = -1;
  int drip_ms = -1;
  int idle_close_ms = -1;
  int retry_after_ms = -1;
  int sse_reset_after = -1;
  int call_slow_ms = -1;
  std::string retry_headers;  // empty: keep the profile's (or all three)
  int upgrade_status = -1;
  std::string azure_host = "contoso.openai.azure.com";
};

// --tls: the certificate for `host` from relaytap's own CA (created in `ca_dir` if missing), so
// `relaytap proxy --upstream-ca <that CA>` verifies it without any openssl commands.
bool LeafFromRelaytapCa(const std::string& ca_dir, const std::string& host,
                        fake_upstream::Options* options, std::string* ca_path, std::string* error) {
  // The CA as the proxy made it (its constraints kept); a new one for the default patterns.
  auto ca = proxy::tls::CertAuthority::LoadOrCreate(
      ca_dir,
      {.patterns = proxy::ProxyConfig::DefaultInterceptPatterns(), .follow_patterns = false});
  if (!ca.ok()) {
    *error = std::string(ca.status().message());
    return false;
  }
  auto leaf = (*ca)->LeafFor(host);
  if (!leaf.ok()) {
    *error = std::string(leaf.status().message());
    return false;
  }
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), (*leaf)->key.get(), nullptr, nullptr, 0, nullptr,
                                       nullptr) != 1) {
    *error = "cannot encode the leaf key";
    return false;
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  options->key_pem.assign(data, static_cast<size_t>(n));
  options->cert_pem = (*leaf)->cert_pem;
  *ca_path = (*ca)->cert_path().string();
  return true;
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return static_cast<bool>(in) || in.eof();
}

// "ADDR:PORT" or "[v6]:PORT"; the address must be loopback.
bool ParseListen(const std::string& listen, fake_upstream::Options* options, std::string* error) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == listen.size()) {
    *error = "--listen must be ADDR:PORT";
    return false;
  }
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(host, ec);
  if (ec) {
    *error = "--listen: bad address '" + host + "'";
    return false;
  }
  if (!address.is_loopback()) {
    *error =
        "--listen: refusing non-loopback address '" + host + "' (the fake upstream is for tests)";
    return false;
  }
  int port = -1;
  try {
    size_t used = 0;
    port = std::stoi(listen.substr(colon + 1), &used);
    if (used != listen.size() - colon - 1) port = -1;
  } catch (const std::exception&) {
    port = -1;
  }
  if (port < 0 || port > 65535) {
    *error = "--listen: bad port";
    return false;
  }
  options->listen_address = host;
  options->port = static_cast<uint16_t>(port);
  return true;
}

// The profile file, then --fault, --rule and the parameter flags on top; validated.
bool BuildProfile(const FakeUpstreamFlags& flags, fake_upstream::FaultProfile* profile,
                  std::string* error) {
  if (!flags.profile.empty()) {
    std::string text;
    if (!ReadFile(flags.profile, &text)) {
      *error = "--profile: cannot read " + flags.profile;
      return false;
    }
    auto parsed = fake_upstream::ParseFaultProfile(text);
    if (!parsed.ok()) {
      *error = "--profile " + flags.profile + ": " + std::string(parsed.status().message());
      return false;
    }
    *profile = std::move(*parsed);
  }
  for (const std::string& spec : flags.faults) {
    if (auto s = fake_upstream::ParseFaultSpec(spec, &profile->rates); !s.ok()) {
      *error = "--fault: " + std::string(s.message());
      return false;
    }
  }
  for (const std::string& spec : flags.rules) {
    if (auto s = fake_upstream::ParseRuleSpec(spec, profile); !s.ok()) {
      *error = "--rule: " + std::string(s.message());
      return false;
    }
  }
  auto& p = profile->params;
  using std::chrono::milliseconds;
  if (flags.latency_ms >= 0) p.latency = milliseconds(flags.latency_ms);
  if (flags.stall_ms >= 0) p.stall = milliseconds(flags.stall_ms);
  if (flags.drip_ms >= 0) p.drip = milliseconds(flags.drip_ms);
  if (flags.idle_close_ms >= 0) p.idle_close = milliseconds(flags.idle_close_ms);
  if (flags.retry_after_ms >= 0) p.retry_after = milliseconds(flags.retry_after_ms);
  if (flags.sse_reset_after >= 0) p.sse_reset_after = static_cast<unsigned>(flags.sse_reset_after);
  if (flags.call_slow_ms >= 0) p.call_slow = milliseconds(flags.call_slow_ms);
  if (flags.upgrade_status >= 0) p.upgrade_status = static_cast<unsigned>(flags.upgrade_status);
  if (!flags.retry_headers.empty()) {
    if (auto s = fake_upstream::ParseRetryHeaderList(flags.retry_headers, &p.retry_headers);
        !s.ok()) {
      *error = "--retry-headers: " + std::string(s.message());
      return false;
    }
  }
  if (auto s = fake_upstream::ValidateProfile(*profile); !s.ok()) {
    *error = std::string(s.message());
    return false;
  }
  return true;
}

int RunFakeUpstream(const FakeUpstreamFlags& flags) {
  fake_upstream::Options options;
  std::string error;
  if (!ParseListen(flags.listen, &options, &error)) {
    std::cerr << "relaytap fake-upstream: " << error << "\n";
    return 2;
  }
  fake_upstream::FaultProfile profile;
  if (!BuildProfile(flags, &profile, &error)) {
    std::cerr << "relaytap fake-upstream: " << error << "\n";
    return 2;
  }
  uint64_t seed = flags.seed >= 0 ? static_cast<uint64_t>(flags.seed)
                                  : profile.seed.value_or(std::random_device{}());
  options.stream.pacing =
      flags.stream == "burst" ? fake_upstream::Pacing::kBurst : fake_upstream::Pacing::kRealtime;
  options.stream.audio = std::chrono::milliseconds(flags.audio_ms);
  options.stream.delta = std::chrono::milliseconds(flags.delta_ms);
  std::string fault_summary = fake_upstream::DescribeFaults(profile, seed);
  options.faults = std::make_shared<fake_upstream::FaultModel>(
      std::move(profile), seed, fake_upstream::FaultModel::SteadyClockFromNow());
  auto faults = options.faults;
  if (flags.tls && !flags.tls_cert.empty()) {
    std::cerr << "relaytap fake-upstream: --tls and --tls-cert exclude each other\n";
    return 2;
  }
  std::string tls_ca = flags.tls_ca;
  if (flags.tls) {
    std::string tls_error;
    if (!LeafFromRelaytapCa(flags.ca_dir.empty() ? DefaultCaDir() : flags.ca_dir, flags.azure_host,
                            &options, &tls_ca, &tls_error)) {
      std::cerr << "relaytap fake-upstream: --tls: " << tls_error << "\n";
      return 1;
    }
  }
  if (flags.tls_cert.empty() != flags.tls_key.empty()) {
    std::cerr << "relaytap fake-upstream: --tls-cert and --tls-key go together\n";
    return 2;
  }
  if (!flags.tls_cert.empty() && (!ReadFile(flags.tls_cert, &options.cert_pem) ||
                                  !ReadFile(flags.tls_key, &options.key_pem))) {
    std::cerr << "relaytap fake-upstream: cannot read --tls-cert or --tls-key\n";
    return 2;
  }
  options.permessage_deflate = !flags.no_deflate;
  options.threads = flags.threads;

  const sigset_t signals = BlockStopSignals();  // before any thread starts

  auto server = fake_upstream::FakeUpstream::Start(std::move(options));
  if (!server.ok()) {
    std::cerr << "relaytap fake-upstream: " << server.status().ToString() << "\n";
    return 1;
  }
  std::string host = flags.listen.substr(0, flags.listen.rfind(':'));
  if (host == "localhost") host = "127.0.0.1";
  std::cout << "relaytap fake-upstream listening on " << ((*server)->tls() ? "https" : "http")
            << "://" << host << ":" << (*server)->port() << "\n";
  fake_upstream::HintInput hints;
  hints.host = host;
  hints.port = (*server)->port();
  hints.tls = (*server)->tls();
  hints.tls_ca = tls_ca;
  hints.leaf_for_azure_host = flags.tls;
  hints.azure_host = flags.azure_host;
  std::cout << fake_upstream::StartupHints(hints) << fault_summary << std::endl;

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  (*server)->Stop();
  std::cerr << "relaytap fake-upstream: faults injected: " << fake_upstream::DescribeCounts(*faults)
            << "\n";
  return 0;
}

void AddStreamAndFaultOptions(CLI::App* cmd, FakeUpstreamFlags* flags) {
  cmd->add_option("--stream", flags->stream,
                  "realtime: full GA event sequence, one audio delta every --delta-ms; burst: the "
                  "short test sequence (5 deltas at once). Per session: ?stream=, ?audio_ms=, "
                  "?delta_ms=")
      ->check(CLI::IsMember({"realtime", "burst"}))
      ->capture_default_str();
  cmd->add_option("--audio-ms", flags->audio_ms, "audio per realtime response (ms)")
      ->check(CLI::Range(1, 600000))
      ->capture_default_str();
  cmd->add_option("--delta-ms", flags->delta_ms, "audio per delta and gap between deltas (ms)")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  cmd->add_option(
      "--profile", flags->profile,
      "JSON fault profile: rates, time windows (period_s, windows[{from_s,to_s,rates}]),"
      " deployments{name:rates}, params, seed (see tools/fake_upstream/fault_profile.h)");
  cmd->add_option("--fault", flags->faults,
                  "NAME=PERCENT, repeatable; overrides the profile. Faults: " +
                      fake_upstream::KnownFaultNames());
  cmd->add_option("--rule", flags->rules,
                  "DEPLOYMENT:NAME=PERCENT[,NAME=PERCENT...], repeatable: rates for one deployment "
                  "(model= / deployment= / /openai/deployments/{d}/ / body model)");
  cmd->add_option("--seed", flags->seed,
                  "PRNG seed: the same seed and request order give the same faults (default: "
                  "the profile's, else random and printed)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--latency-ms", flags->latency_ms, "delay before every HTTP answer and upgrade");
  cmd->add_option("--stall-ms", flags->stall_ms,
                  "stall: pause mid-response; sse_stall: silence after the first SSE event "
                  "(default 5000)");
  cmd->add_option("--drip-ms", flags->drip_ms,
                  "drip, sse_drip: gap between every event (default 250)");
  cmd->add_option("--sse-reset-after", flags->sse_reset_after,
                  "sse_reset: SSE events sent before the TCP RST (default 2)");
  cmd->add_option("--call-slow-ms", flags->call_slow_ms,
                  "call_slow: wait before a WebRTC call's SDP answer (default 3000)");
  cmd->add_option("--idle-close-ms", flags->idle_close_ms,
                  "idle_close: client silence before the server closes with 1011 (default 10000)");
  cmd->add_option("--retry-after-ms", flags->retry_after_ms,
                  "retry-after-ms of the 429s and rate_limits.updated reset (default 1500)");
  cmd->add_option("--retry-headers", flags->retry_headers,
                  "retry hints the HTTP 429 faults send, comma-separated: retry-after, "
                  "retry-after-ms, x-ms-retry-after-ms, or none (default: all three)");
  cmd->add_option("--upgrade-status", flags->upgrade_status, "status of upgrade_5xx (default 503)");
}

}  // namespace

void AddFakeUpstreamCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<FakeUpstreamFlags>();
  CLI::App* cmd = app.add_subcommand(
      "fake-upstream", "Run an Azure OpenAI-shaped fake upstream (HTTP, SSE, realtime WebSocket)");
  cmd->add_option("--listen", flags->listen, "loopback ADDR:PORT to listen on (port 0: ephemeral)")
      ->capture_default_str();
  cmd->add_flag("--tls", flags->tls,
                "TLS with a leaf for --azure-host from relaytap's CA (no openssl commands needed)");
  cmd->add_option("--ca-dir", flags->ca_dir,
                  "relaytap CA directory for --tls (default $RELAYTAP_HOME or ~/.relaytap)");
  cmd->add_option("--tls-cert", flags->tls_cert, "PEM certificate chain (enables TLS)");
  cmd->add_option("--tls-key", flags->tls_key, "PEM private key for --tls-cert");
  cmd->add_flag("--no-deflate", flags->no_deflate, "refuse WebSocket permessage-deflate");
  cmd->add_option("--threads", flags->threads, "io threads")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_option("--tls-ca", flags->tls_ca,
                  "CA certificate that issued --tls-cert (only used in the printed commands)");
  cmd->add_option("--azure-host", flags->azure_host,
                  "Azure host name the printed relaytap proxy command maps onto this server")
      ->capture_default_str();
  AddStreamAndFaultOptions(cmd, flags.get());
  cmd->callback([flags, exit_code] { *exit_code = RunFakeUpstream(*flags); });
}

}  // namespace relaytap::tools

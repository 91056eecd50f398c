// `relaytap probe URL`: checks the path to Azure OpenAI / OpenAI stage by stage (tools/probe/)
// and prints a checklist (or JSON). Exit 0 when every run passed, 1 when a stage failed, 2 for
// usage errors.
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/str_cat.h"
#include "tools/commands.h"
#include "tools/probe/probe.h"
#include "tools/probe/record.h"
#include "tools/probe/report.h"

namespace relaytap::tools {
namespace {

constexpr int kMaxRepeat = 100000;

struct ProbeFlags {
  std::string url;
  std::vector<std::string> connect_to;
  std::string ca;
  std::string proxy;
  bool no_proxy = false;
  std::string key_env;
  bool realtime = false;
  int repeat = 1;
  int interval_ms = 1000;
  int timeout_ms = 10000;
  std::string format = "text";
  std::string db;
};

int Usage(const std::string& message) {
  std::cerr << "relaytap probe: " << message << "\n";
  return kUsageError;
}

// The flags as probe options; a usage error's message otherwise.
absl::StatusOr<probe::ProbeOptions> OptionsFrom(const ProbeFlags& f) {
  probe::ProbeOptions o;
  absl::StatusOr<probe::ProbeUrl> url = probe::ParseProbeUrl(f.url);
  if (!url.ok()) return url.status();
  o.url = *url;
  for (const std::string& rule : f.connect_to) {
    absl::StatusOr<proxy::ConnectTo> c = proxy::ParseConnectTo(rule);
    if (!c.ok())
      return absl::InvalidArgumentError(
          StrCat("--connect-to: ", std::string(c.status().message())));
    o.connect_to.push_back(*c);
  }
  if (!f.ca.empty()) o.ca_file = f.ca;
  if (!f.proxy.empty() && f.no_proxy) {
    return absl::InvalidArgumentError("--proxy and --no-proxy exclude each other");
  }
  if (!f.proxy.empty()) {
    absl::StatusOr<proxy::HostPort> p = probe::ParseProxyUrl(f.proxy);
    if (!p.ok())
      return absl::InvalidArgumentError(StrCat("--proxy: ", std::string(p.status().message())));
    o.proxy = *p;
  } else if (!f.no_proxy) {
    auto p = probe::ProxyFromEnvironment(o.url);
    if (!p.ok())
      return absl::InvalidArgumentError(StrCat("HTTPS_PROXY: ", std::string(p.status().message())));
    o.proxy = *p;
  }
  if (!f.key_env.empty()) {
    const char* key = std::getenv(f.key_env.c_str());
    if (key == nullptr || *key == '\0') {
      return absl::InvalidArgumentError(StrCat("--key-env: $", f.key_env, " is not set"));
    }
    o.key = key;
  }
  o.realtime = f.realtime;
  if (o.realtime && !o.url.websocket()) {
    return absl::InvalidArgumentError("--realtime needs a wss:// or ws:// URL");
  }
  o.timeout = std::chrono::milliseconds(f.timeout_ms);
  return o;
}

int RunProbeCommand(const ProbeFlags& f) {
  if (f.format != "text" && f.format != "json") return Usage("--format must be text or json");
  if (f.repeat < 1 || f.repeat > kMaxRepeat) return Usage("--repeat must be 1..100000");
  if (f.interval_ms < 0) return Usage("--interval-ms must be >= 0");
  if (f.timeout_ms < 1) return Usage("--timeout-ms must be > 0");
  absl::StatusOr<probe::ProbeOptions> o = OptionsFrom(f);
  if (!o.ok()) return Usage(std::string(o.status().message()));
  const std::string stamp =
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone());
  const std::vector<probe::RunResult> runs =
      probe::RunRepeated(*o, f.repeat, std::chrono::milliseconds(f.interval_ms));
  std::cout << (f.format == "json" ? probe::FormatJson(runs) : probe::FormatText(runs, stamp));
  if (!f.db.empty()) {
    if (absl::Status st = probe::RecordRuns(f.db, o->url, runs); !st.ok()) {
      std::cerr << "relaytap probe: recording into " << f.db << ": " << st.message() << "\n";
      return 1;
    }
  }
  for (const probe::RunResult& r : runs) {
    if (!r.ok()) return 1;
  }
  return 0;
}

}  // namespace

void AddProbeCommand(CLI::App& app, int* exit_code) {
  auto f = std::make_shared<ProbeFlags>();
  CLI::App* cmd = app.add_subcommand(
      "probe",
      "Check the path to an Azure OpenAI / OpenAI endpoint stage by stage: dns, tcp, tls, https, "
      "websocket and (--realtime) a minimal text-only realtime flow");
  cmd->add_option("url", f->url,
                  "wss://RESOURCE.openai.azure.com/openai/v1/realtime?model=DEPLOYMENT, the "
                  "preview URL, or an https:// URL")
      ->required();
  cmd->add_option("--connect-to", f->connect_to,
                  "HOST:PORT:HOST2:PORT2: dial HOST2:PORT2 for HOST:PORT, keeping SNI, Host and "
                  "certificate checks for HOST (repeatable; curl semantics)");
  cmd->add_option("--ca", f->ca, "extra PEM roots to trust (besides the system store)");
  cmd->add_option("--proxy", f->proxy,
                  "probe through this HTTP proxy (http://HOST:PORT); default: HTTPS_PROXY / "
                  "HTTP_PROXY unless NO_PROXY covers the host");
  cmd->add_flag("--no-proxy", f->no_proxy, "go direct, whatever HTTPS_PROXY says");
  cmd->add_option("--key-env", f->key_env,
                  "name of the environment variable holding the API key or bearer token (sent as "
                  "api-key to *.openai.azure.com, else as Authorization: Bearer; never printed)");
  cmd->add_flag("--realtime", f->realtime,
                "after the upgrade, run the smallest text-only realtime flow to response.done");
  cmd->add_option("--repeat", f->repeat, "runs (recovery is proven by many, not one)")
      ->capture_default_str();
  cmd->add_option("--interval-ms", f->interval_ms, "pause between runs")->capture_default_str();
  cmd->add_option("--timeout-ms", f->timeout_ms, "limit per stage (the realtime flow's whole)")
      ->capture_default_str();
  cmd->add_option("--format", f->format, "text (a checklist) or json")->capture_default_str();
  cmd->add_option("--db", f->db,
                  "also record each run into this store (created if needed), for `relaytap "
                  "report`'s Local checks");
  cmd->footer("Exit status: 0 every run passed, 1 a stage failed, 2 usage error.");
  cmd->callback([f, exit_code] { *exit_code = RunProbeCommand(*f); });
}

}  // namespace relaytap::tools

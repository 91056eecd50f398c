// relaytap_loadgen: the benchmark's load generator and its echo upstream (see BENCHMARKS.md).
//   relaytap_loadgen upstream --cert C --key K [--listen 127.0.0.1:0]
//   relaytap_loadgen realtime|saturate|http|idle --target HOST:PORT --ca FILE [--proxy HOST:PORT]
// A workload prints one JSON object on stdout; exit 1 if it could not run at all.
#include <CLI/CLI.hpp>
#include <iostream>

#include "tools/bench/upstream.h"
#include "tools/bench/workloads.h"

namespace {

using relaytap::tools::bench::RunOptions;

struct ClientFlags {
  std::string target;
  std::string proxy;
  RunOptions run;
};

void AddClientOptions(CLI::App* cmd, ClientFlags& f) {
  cmd->add_option("--target", f.target, "upstream HOST:PORT as the client names it")->required();
  cmd->add_option("--proxy", f.proxy, "HTTP CONNECT proxy HOST:PORT");
  cmd->add_option("--ca", f.run.ca_file, "PEM CA file the client trusts")->required();
  cmd->add_option("--sessions", f.run.sessions, "sessions (http: connections)")
      ->capture_default_str();
  cmd->add_option("--duration", f.run.duration_s, "seconds of traffic")->capture_default_str();
  cmd->add_option("--interval-ms", f.run.interval_ms, "realtime cadence")->capture_default_str();
  cmd->add_option("--window", f.run.window, "saturate: in flight per session")
      ->capture_default_str();
  cmd->add_option("--sse-requests", f.run.sse_requests, "http: SSE requests")
      ->capture_default_str();
  cmd->add_option("--open-concurrency", f.run.open_concurrency, "handshakes in flight")
      ->capture_default_str();
  cmd->add_option("--drain", f.run.drain_s, "seconds to wait for missing echoes")
      ->capture_default_str();
  cmd->add_option("--settle", f.run.settle_s, "idle: seconds before reading RSS")
      ->capture_default_str();
  cmd->add_option("--watch-pid", f.run.watch_pid, "proxy pid: RSS and CPU from /proc");
  cmd->add_option("--threads", f.run.threads, "io threads")->capture_default_str();
}

int RunWorkload(const std::string& name, ClientFlags& f) {
  using namespace relaytap::tools::bench;
  auto target = ParseEndpoint(f.target);
  if (!target.ok()) {
    std::cerr << "relaytap_loadgen: --target " << target.status().message() << "\n";
    return 2;
  }
  f.run.client.target = *target;
  if (!f.proxy.empty()) {
    auto proxy = ParseEndpoint(f.proxy);
    if (!proxy.ok()) {
      std::cerr << "relaytap_loadgen: --proxy " << proxy.status().message() << "\n";
      return 2;
    }
    f.run.client.proxy = *proxy;
  }
  try {
    nlohmann::json out = name == "realtime"   ? RunRealtime(f.run)
                         : name == "saturate" ? RunSaturate(f.run)
                         : name == "http"     ? RunHttp(f.run)
                                              : RunIdle(f.run);
    std::cout << out.dump() << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "relaytap_loadgen " << name << ": " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("relaytap benchmark load generator");
  app.require_subcommand(1);
  relaytap::tools::bench::UpstreamOptions upstream;
  CLI::App* up = app.add_subcommand("upstream", "TLS echo upstream for the benchmark");
  up->add_option("--listen", upstream.listen, "loopback ADDR:PORT")->capture_default_str();
  up->add_option("--cert", upstream.cert_file, "PEM certificate chain")->required();
  up->add_option("--key", upstream.key_file, "PEM private key")->required();
  up->add_option("--threads", upstream.threads, "io threads")->capture_default_str();
  up->add_option("--sse-gap-ms", upstream.sse_gap_ms, "ms between SSE events")
      ->capture_default_str();
  ClientFlags flags;
  std::string workload;
  for (const char* name : {"realtime", "saturate", "http", "idle"}) {
    CLI::App* cmd = app.add_subcommand(name, std::string("workload: ") + name);
    AddClientOptions(cmd, flags);
    cmd->callback([&workload, name] { workload = name; });
  }
  CLI11_PARSE(app, argc, argv);
  if (up->parsed()) return relaytap::tools::bench::RunUpstream(upstream);
  return RunWorkload(workload, flags);
}

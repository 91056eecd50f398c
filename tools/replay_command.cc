// `relaytap replay`: list, print or serve what a relaytap store recorded.
#include <signal.h>

#include <boost/asio/ip/address.hpp>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/str_cat.h"
#include "proxy/config/config.h"
#include "proxy/tls/cert_authority.h"
#include "recorder/query/replay_reader.h"
#include "tools/commands.h"
#include "tools/replay/server.h"
#include "tools/replay/timeline.h"
#include "tools/stop_signals.h"
#include "tools/store_flags.h"

namespace relaytap::tools {
namespace {

struct ReplayFlags {
  std::string db = "relaytap.db";
  bool list = false;
  std::string print;
  std::vector<std::string> sessions;
  std::vector<std::string> exchanges;
  bool all = false;
  std::string listen;
  bool allow_remote = false;
  double speed = 1.0;
  bool tls = false;
  std::string ca_dir;
  bool strict = false;
};

constexpr int kDeviated = 3;

int ReplayFail(const absl::Status& st, int code = 1) {
  std::cerr << "relaytap replay: " << std::string(st.message()) << "\n";
  return code;
}

absl::Status Select(recorder::query::ReplayReader& reader, const ReplayFlags& f,
                    replay::ServerOptions& o) {
  if (f.all) return reader.LoadAll(&o.sessions, &o.exchanges);
  for (const std::string& key : f.sessions) {
    absl::StatusOr<replay::RecordedSession> s = reader.LoadSession(key);
    if (!s.ok()) return s.status();
    o.sessions.push_back(std::move(*s));
  }
  for (const std::string& id : f.exchanges) {
    absl::StatusOr<replay::ReplayExchange> x = reader.LoadExchange(id);
    if (!x.ok()) return x.status();
    o.exchanges.push_back(std::move(*x));
  }
  return absl::OkStatus();
}

std::set<std::string> Hosts(const replay::ServerOptions& o) {
  std::set<std::string> hosts;
  for (const auto& s : o.sessions) {
    if (s.upgrade && !s.upgrade->host.empty()) hosts.insert(s.upgrade->host);
  }
  for (const auto& x : o.exchanges) {
    if (!x.host.empty()) hosts.insert(x.host);
  }
  return hosts;
}

absl::Status ParseListen(const ReplayFlags& f, replay::ServerOptions& o) {
  absl::StatusOr<proxy::HostPort> hp =
      proxy::ParseHostPort(f.listen.empty() ? "127.0.0.1:0" : f.listen);
  if (!hp.ok())
    return absl::InvalidArgumentError(StrCat("--listen ", std::string(hp.status().message())));
  std::string host = hp->host == "localhost" ? "127.0.0.1" : hp->host;
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(host, ec);
  if (ec) return absl::InvalidArgumentError(StrCat("--listen: bad address '", host, "'"));
  if (!address.is_loopback() && !f.allow_remote) {
    return absl::InvalidArgumentError(StrCat("--listen: refusing non-loopback address '", host,
                                             "' (add --allow-remote to serve other machines)"));
  }
  o.listen_address = host;
  o.port = hp->port;
  return absl::OkStatus();
}

void PrintHints(const replay::ServerOptions& o, uint16_t port) {
  std::string where =
      StrCat(o.listen_address.find(':') != std::string::npos ? "[" : "", o.listen_address,
             o.listen_address.find(':') != std::string::npos ? "]" : "");
  std::cout << "relaytap replay: " << o.sessions.size() << " session(s), " << o.exchanges.size()
            << " exchange(s) on " << (o.tls ? "https" : "http") << "://" << where << ":" << port
            << std::endl;
  for (const std::string& host : Hosts(o)) {
    std::cout
        << "  through the proxy: relaytap proxy --connect-to " << host << ":443:" << where << ":"
        << port
        << (o.tls ? StrCat(" --upstream-ca ",
                           (std::filesystem::path(o.ca_dir) / proxy::tls::kCaCertFileName).string())
                  : std::string("   (add --tls to replay HTTPS)"))
        << std::endl;
  }
}

int Serve(recorder::query::ReplayReader& reader, const ReplayFlags& f) {
  if (!f.all && f.sessions.empty() && f.exchanges.empty()) {
    return ReplayFail(
        absl::InvalidArgumentError("choose what to serve: --session ID, --exchange ID or "
                                   "--all (see --list)"),
        kUsageError);
  }
  if (f.speed < 0)
    return ReplayFail(absl::InvalidArgumentError("--speed must be >= 0"), kUsageError);
  replay::ServerOptions o;
  if (absl::Status st = ParseListen(f, o); !st.ok()) return ReplayFail(st, kUsageError);
  if (absl::Status st = Select(reader, f, o); !st.ok()) return ReplayFail(st);
  o.speed = f.speed;
  o.strict = f.strict;
  o.tls = f.tls;
  o.ca_dir = f.ca_dir.empty() ? DefaultCaDir() : f.ca_dir;
  const sigset_t signals = BlockStopSignals();  // before any thread starts
  replay::ServerOptions shown = o;              // for the hints (the server takes the recordings)
  auto server = replay::ReplayServer::Start(std::move(o));
  if (!server.ok()) return ReplayFail(server.status());
  PrintHints(shown, (*server)->port());
  // Until SIGINT/SIGTERM; with --strict also until the first deviation.
  timespec tick{1, 0};
  while (sigtimedwait(&signals, nullptr, &tick) < 0) {
    if (f.strict && (*server)->stats().deviations > 0) break;
  }
  replay::ServerStats stats = (*server)->stats();
  (*server)->Stop();
  std::cout << "relaytap replay: served " << stats.sessions_served << " session(s), "
            << stats.exchanges_served << " exchange(s); " << stats.deviations << " deviation(s), "
            << stats.unmatched << " unmatched request(s)" << std::endl;
  return f.strict && stats.deviations > 0 ? kDeviated : 0;
}

int RunReplay(const ReplayFlags& f) {
  auto reader = recorder::query::ReplayReader::Open(f.db);
  if (!reader.ok()) return ReplayFail(reader.status());
  if (f.list) {
    auto entries = (*reader)->List();
    if (!entries.ok()) return ReplayFail(entries.status());
    std::cout << replay::FormatList(*entries);
    return 0;
  }
  if (!f.print.empty()) {
    auto session = (*reader)->LoadSession(f.print);
    if (!session.ok()) return ReplayFail(session.status());
    std::cout << replay::FormatTimeline(*session);
    return 0;
  }
  return Serve(**reader, f);
}

}  // namespace

void AddReplayCommand(CLI::App& app, int* exit_code) {
  auto f = std::make_shared<ReplayFlags>();
  CLI::App* cmd = app.add_subcommand(
      "replay", "List, print or serve recorded sessions and exchanges as an offline upstream");
  AddDbFlag(cmd, f->db);
  auto* list = cmd->add_flag("--list", f->list, "list recorded sessions and HTTP exchanges");
  auto* print =
      cmd->add_option("--print", f->print, "print the timeline of SESSION (id or sess_…)");
  cmd->add_option("--session", f->sessions, "serve this session (repeatable)");
  cmd->add_option("--exchange", f->exchanges, "serve this HTTP exchange (repeatable)");
  cmd->add_flag("--all", f->all, "serve every recorded session and exchange");
  cmd->add_option("--listen", f->listen, "ADDR:PORT to serve on (default 127.0.0.1:0, loopback)");
  cmd->add_flag("--allow-remote", f->allow_remote, "allow a non-loopback --listen address");
  cmd->add_option("--speed", f->speed, "divide recorded delays by X (0: no delays)")
      ->capture_default_str();
  cmd->add_flag("--tls", f->tls, "serve TLS with a leaf from relaytap's CA for the recorded hosts");
  cmd->add_option("--ca-dir", f->ca_dir,
                  "relaytap CA directory (default $RELAYTAP_HOME or ~/.relaytap)");
  cmd->add_flag("--strict", f->strict, "stop at the first client deviation (exit code 3)");
  list->excludes(print);
  cmd->callback([f, exit_code] { *exit_code = RunReplay(*f); });
}

}  // namespace relaytap::tools

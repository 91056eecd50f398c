// `relaytap fake-upstream`: runs the Azure-shaped fake upstream on a loopback address until
// SIGINT or SIGTERM.
#include <signal.h>

#include <boost/asio/ip/address.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "tools/commands.h"
#include "tools/fake_upstream/fake_upstream.h"

namespace relaytap::tools {
namespace {

struct FakeUpstreamFlags {
  std::string listen = "127.0.0.1:0";
  std::string tls_cert;
  std::string tls_key;
  bool no_deflate = false;
  int threads = 1;
};

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

int RunFakeUpstream(const FakeUpstreamFlags& flags) {
  fake_upstream::Options options;
  std::string error;
  if (!ParseListen(flags.listen, &options, &error)) {
    std::cerr << "relaytap fake-upstream: " << error << "\n";
    return 2;
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

  // Block the signals before any thread starts so only sigwait() below sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto server = fake_upstream::FakeUpstream::Start(std::move(options));
  if (!server.ok()) {
    std::cerr << "relaytap fake-upstream: " << server.status().ToString() << "\n";
    return 1;
  }
  std::string host = flags.listen.substr(0, flags.listen.rfind(':'));
  if (host == "localhost") host = "127.0.0.1";
  std::cout << "relaytap fake-upstream listening on " << ((*server)->tls() ? "https" : "http")
            << "://" << host << ":" << (*server)->port() << std::endl;

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  (*server)->Stop();
  return 0;
}

}  // namespace

void AddFakeUpstreamCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<FakeUpstreamFlags>();
  CLI::App* cmd = app.add_subcommand(
      "fake-upstream", "Run an Azure OpenAI-shaped fake upstream (HTTP, SSE, realtime WebSocket)");
  cmd->add_option("--listen", flags->listen, "loopback ADDR:PORT to listen on (port 0: ephemeral)")
      ->capture_default_str();
  cmd->add_option("--tls-cert", flags->tls_cert, "PEM certificate chain (enables TLS)");
  cmd->add_option("--tls-key", flags->tls_key, "PEM private key for --tls-cert");
  cmd->add_flag("--no-deflate", flags->no_deflate, "refuse WebSocket permessage-deflate");
  cmd->add_option("--threads", flags->threads, "io threads")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->callback([flags, exit_code] { *exit_code = RunFakeUpstream(*flags); });
}

}  // namespace relaytap::tools

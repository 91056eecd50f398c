#pragma once
// A real HTTP proxy from a Debian package (tinyproxy or squid) on a free 127.0.0.1 port, for the
// --upstream-proxy tests: its config file is written into a fresh temp dir, the process is started
// from the test and stopped by its pid (SIGTERM, a bounded wait, then SIGKILL). A missing package
// fails the test with the command to install it: CI installs both (scripts/install-deps.sh).

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tests/testing/ports.h"

namespace relaytap::testing {

enum class RealProxyKind { kTinyproxy, kSquid };
std::string RealProxyName(RealProxyKind kind);  // "tinyproxy" / "squid"

struct RealProxyOptions {
  RealProxyKind kind = RealProxyKind::kTinyproxy;
  // The only port CONNECT may reach (others are refused: 403); 0: any port.
  uint16_t connect_port = 0;
  // Basic credentials the proxy requires (407 without them); empty user: none required.
  std::string user;
  std::string password;
  // tinyproxy only: forward every request to this 127.0.0.1 port, itself a proxy (0: none).
  uint16_t upstream_port = 0;
};

class RealProxy {
 public:
  // Null, with a test failure that says why (package missing, did not start in time), else a
  // proxy that accepts connections.
  static std::unique_ptr<RealProxy> Start(const RealProxyOptions& options);
  // Any server from a Debian package, started the same way: `args` (args[0] the binary) with its
  // output in dir/proxy.log, up once it accepts on 127.0.0.1:port, stopped by its pid. Null, with a
  // test failure, when the binary is missing (`package` names what to install) or it did not start
  // (*exited: it exited before it accepted; then a failure is added only when `last`).
  static std::unique_ptr<RealProxy> Spawn(const std::string& package, std::vector<std::string> args,
                                          const std::filesystem::path& dir, uint16_t port,
                                          bool last = true, bool* exited = nullptr);
  ~RealProxy();

  uint16_t port() const { return port_; }
  const std::filesystem::path& dir() const { return dir_; }
  // What the proxy wrote to stdout / stderr so far (for failure messages).
  std::string Log() const;

 private:
  RealProxy() = default;
  // *exited: the proxy exited before it accepted (a failure is added only when `last`).
  static std::unique_ptr<RealProxy> StartOnce(const RealProxyOptions& options, bool last,
                                              bool* exited);
  void Stop();

  pid_t pid_ = -1;
  uint16_t port_ = 0;
  std::string name_;
  std::filesystem::path dir_;
};

}  // namespace relaytap::testing

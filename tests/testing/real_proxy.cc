#include "tests/testing/real_proxy.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "tests/testing/temp_dir.h"
#include "tests/testing/wait.h"

extern char** environ;

namespace relaytap::testing {
namespace {

namespace net = boost::asio;
using tcp = boost::asio::ip::tcp;

constexpr char kTinyproxy[] = "/usr/bin/tinyproxy";
constexpr char kSquid[] = "/usr/sbin/squid";
constexpr char kNcsaAuth[] = "/usr/lib/squid/basic_ncsa_auth";

void WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path) << text;
  std::filesystem::permissions(path, std::filesystem::perms(0644));
}

// An Apache MD5 (apr1) htpasswd line, from `openssl passwd -apr1`.
std::string HtpasswdLine(const std::string& user, const std::string& password) {
  const std::string command = "openssl passwd -apr1 '" + password + "'";
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) return "";
  char buf[256] = {0};
  const char* got = std::fgets(buf, sizeof(buf), p);
  ::pclose(p);
  return got == nullptr ? "" : user + ":" + buf;
}

std::string TinyproxyConfig(const RealProxyOptions& o, uint16_t port) {
  std::string c = "Port " + std::to_string(port) +
                  "\nListen 127.0.0.1\nTimeout 60\nMaxClients 50\nLogLevel Info\n"
                  "Allow 127.0.0.1\n";
  // Without a ConnectPort line tinyproxy lets CONNECT reach any port.
  if (o.connect_port != 0) c += "ConnectPort " + std::to_string(o.connect_port) + "\n";
  if (!o.user.empty()) c += "BasicAuth " + o.user + " " + o.password + "\n";
  if (o.upstream_port != 0)
    c += "Upstream http 127.0.0.1:" + std::to_string(o.upstream_port) + "\n";
  return c;
}

// Squid on loopback only: no cache, no pinger, DNS to loopback (the tests name IP addresses), logs
// to stderr (-d 1) so that the unprivileged user squid switches to needs no writable directory.
std::string SquidConfig(const RealProxyOptions& o, uint16_t port,
                        const std::filesystem::path& dir) {
  std::string c = "http_port 127.0.0.1:" + std::to_string(port) +
                  "\npid_filename none\ncache_log /dev/null\naccess_log none\n"
                  "cache_store_log none\ncache deny all\ncache_mem 4 MB\ncoredump_dir " +
                  dir.string() +
                  "\nshutdown_lifetime 0 seconds\npinger_enable off\ndns_nameservers 127.0.0.1\n"
                  "visible_hostname relaytap-test\nnetdb_filename none\n"
                  "acl allowed_ports port " +
                  (o.connect_port != 0 ? std::to_string(o.connect_port) : "1-65535") +
                  "\nacl CONNECT method CONNECT\n";
  if (!o.user.empty()) {
    c += "auth_param basic program " + std::string(kNcsaAuth) + " " + (dir / "htpasswd").string() +
         "\nauth_param basic children 2\nacl authed proxy_auth REQUIRED\n"
         "http_access deny !authed\n";
  }
  c += "http_access deny CONNECT !allowed_ports\nhttp_access allow localhost\nhttp_access deny "
       "all\n";
  return c;
}

bool Accepts(uint16_t port) {
  net::io_context ioc;
  tcp::socket s(ioc);
  boost::system::error_code ec;
  s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
  return !ec;
}

}  // namespace

std::string RealProxyName(RealProxyKind kind) {
  return kind == RealProxyKind::kSquid ? "squid" : "tinyproxy";
}

std::unique_ptr<RealProxy> RealProxy::Start(const RealProxyOptions& o) {
  // A proxy that exits at once usually lost its port to another process: try another port.
  constexpr int kAttempts = 3;
  for (int attempt = 1;; ++attempt) {
    bool exited = false;
    std::unique_ptr<RealProxy> p = StartOnce(o, attempt == kAttempts, &exited);
    if (p || !exited || attempt == kAttempts) return p;
  }
}

std::unique_ptr<RealProxy> RealProxy::StartOnce(const RealProxyOptions& o, bool last,
                                                bool* exited) {
  const bool squid = o.kind == RealProxyKind::kSquid;
  const char* binary = squid ? kSquid : kTinyproxy;
  if (squid && !o.user.empty() && !std::filesystem::exists(kNcsaAuth)) {
    ADD_FAILURE() << kNcsaAuth << " is missing: these tests need the Debian package squid "
                  << "(run scripts/install-deps.sh, or apt-get install squid)";
    return nullptr;
  }
  const std::filesystem::path dir = FreshTempDir(RealProxyName(o.kind));
  std::filesystem::permissions(dir, std::filesystem::perms(0755));
  const uint16_t port = FreeLoopbackPort();
  const std::filesystem::path conf = dir / (RealProxyName(o.kind) + ".conf");
  if (squid) {
    if (!o.user.empty()) WriteFile(dir / "htpasswd", HtpasswdLine(o.user, o.password));
    WriteFile(conf, SquidConfig(o, port, dir));
  } else {
    WriteFile(conf, TinyproxyConfig(o, port));
  }
  return Spawn(RealProxyName(o.kind),
               squid ? std::vector<std::string>{binary, "-N", "-d", "1", "-f", conf.string()}
                     : std::vector<std::string>{binary, "-d", "-c", conf.string()},
               dir, port, last, exited);
}

std::unique_ptr<RealProxy> RealProxy::Spawn(const std::string& package,
                                            std::vector<std::string> args,
                                            const std::filesystem::path& dir, uint16_t port,
                                            bool last, bool* exited_out) {
  const std::string binary = args.at(0);
  if (!std::filesystem::exists(binary)) {
    ADD_FAILURE() << binary << " is missing: these tests need the Debian package " << package
                  << " (run scripts/install-deps.sh, or apt-get install " << package << ")";
    return nullptr;
  }
  std::unique_ptr<RealProxy> p(new RealProxy());
  p->dir_ = dir;
  p->port_ = port;
  p->name_ = package;
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string log = (p->dir_ / "proxy.log").string();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  const int rc = posix_spawn(&p->pid_, binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    p->pid_ = -1;
    ADD_FAILURE() << "cannot start " << binary << ": " << std::strerror(rc);
    return nullptr;
  }
  bool exited = false;
  ::testing::AssertionResult up = WaitFor(
      [&] {
        int status = 0;
        if (::waitpid(p->pid_, &status, WNOHANG) == p->pid_) exited = true;
        return exited || Accepts(p->port_);
      },
      package + " to accept connections");
  if (exited_out != nullptr) *exited_out = exited;
  if (!up || exited) {
    if (exited) p->pid_ = -1;
    if (exited && !last) return nullptr;
    ADD_FAILURE() << package << " did not start" << (exited ? " (it exited)" : "")
                  << "; its output:\n"
                  << p->Log();
    return nullptr;
  }
  return p;
}

std::string RealProxy::Log() const {
  std::ifstream in(dir_ / "proxy.log");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void RealProxy::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  bool gone = false;
  (void)WaitFor(
      [&] {
        int status = 0;
        gone = ::waitpid(pid_, &status, WNOHANG) == pid_;
        return gone;
      },
      name_ + " to stop", std::chrono::milliseconds(10'000));
  if (!gone) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  pid_ = -1;
}

RealProxy::~RealProxy() { Stop(); }

}  // namespace relaytap::testing

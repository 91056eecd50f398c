// `relaytap ca path|env|rotate`: locate (creating if needed) the local CA, print how to trust it,
// or replace it with a new one.
#include <pwd.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proxy/config/config.h"
#include "proxy/tls/cert_authority.h"
#include "tools/commands.h"

namespace relaytap::tools {
namespace {

namespace fs = std::filesystem;
using proxy::tls::CertAuthority;

// POSIX single-quoting for eval: ' becomes '\''.
std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += "'";
  return out;
}

absl::StatusOr<fs::path> CaDir(const std::string& ca_dir) {
  std::string dir = ca_dir.empty() ? DefaultCaDir() : ca_dir;
  if (dir.empty()) {
    return absl::FailedPreconditionError("no CA directory: set RELAYTAP_HOME or pass --ca-dir");
  }
  return fs::absolute(fs::path(dir)).lexically_normal();
}

// The CA as it is (its name constraints kept; renewed only near its end); a new one is made for
// the default intercept patterns. `relaytap proxy` re-issues it when its patterns differ.
absl::StatusOr<std::unique_ptr<CertAuthority>> OpenCa(const std::string& ca_dir) {
  absl::StatusOr<fs::path> dir = CaDir(ca_dir);
  if (!dir.ok()) return dir.status();
  return CertAuthority::LoadOrCreate(
      *dir, {.patterns = proxy::ProxyConfig::DefaultInterceptPatterns(), .follow_patterns = false});
}

int CaFail(const absl::Status& status) {
  std::cerr << "relaytap ca: " << std::string(status.message()) << "\n";
  return absl::IsInvalidArgument(status) ? 2 : 1;
}

std::string Date(std::time_t t) {
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

// A new CA in the directory whatever the old one was; the old files are kept as *.previous.
// Patterns: --intercept if given, else those the current CA was issued for (else the defaults).
int RunRotate(const std::string& ca_dir, const std::vector<std::string>& intercept) {
  absl::StatusOr<fs::path> dir = CaDir(ca_dir);
  if (!dir.ok()) return CaFail(dir.status());
  const bool given = !intercept.empty();
  auto ca = CertAuthority::LoadOrCreate(
      *dir, {.patterns = given ? intercept : proxy::ProxyConfig::DefaultInterceptPatterns(),
             .follow_patterns = given,
             .force_reissue = true});
  if (!ca.ok()) return CaFail(ca.status());
  const CertAuthority& c = **ca;
  std::cout << "relaytap ca: " << (c.reissued() ? "rotated" : "created") << " the CA in "
            << dir->string() << "\n  new CA certificate: " << c.cert_path().string()
            << "\n  name constraints:   " << proxy::tls::DescribeConstraints(c.constraints())
            << "\n  valid until:        " << Date(c.not_after()) << "\n";
  if (c.reissued()) {
    std::cout << "  previous CA:        " << c.previous_cert_path().string()
              << " (kept with its key; relaytap no longer signs with it)\n";
  }
  std::cout << "Apps must trust the new CA: restart them after\n  eval \"$(relaytap ca env"
            << (ca_dir.empty() ? "" : " --ca-dir " + ShellQuote(ca_dir))
            << ")\"\nand restart a running relaytap proxy so that it signs with the new CA. "
               "Remove the previous CA from any trust store it was added to.\n";
  return 0;
}

int RunPath(const std::string& ca_dir) {
  auto ca = OpenCa(ca_dir);
  if (!ca.ok()) return CaFail(ca.status());
  std::cout << (*ca)->cert_path().string() << "\n";
  return 0;
}

int RunEnv(const std::string& ca_dir) {
  auto ca = OpenCa(ca_dir);
  if (!ca.ok()) return CaFail(ca.status());
  auto bundle = proxy::tls::WriteTrustBundle(**ca, (*ca)->cert_path().parent_path());
  if (!bundle.ok()) return CaFail(bundle.status());
  const std::string quoted_bundle = ShellQuote(bundle->string());
  std::cout << "export SSL_CERT_FILE=" << quoted_bundle << "\n"
            << "export REQUESTS_CA_BUNDLE=" << quoted_bundle
            << "\n"
            // Node adds NODE_EXTRA_CA_CERTS to its built-in roots: the CA alone is enough.
            << "export NODE_EXTRA_CA_CERTS=" << ShellQuote((*ca)->cert_path().string()) << "\n"
            << "export CURL_CA_BUNDLE=" << quoted_bundle << "\n";
  return 0;
}

}  // namespace

std::string DefaultCaDir() {
  if (const char* home = std::getenv("RELAYTAP_HOME"); home != nullptr && *home != '\0') {
    return home;
  }
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') {
    const passwd* pw = ::getpwuid(::getuid());
    home = pw != nullptr ? pw->pw_dir : nullptr;
  }
  if (home == nullptr || *home == '\0') return {};
  return (fs::path(home) / ".relaytap").string();
}

void AddCaCommand(CLI::App& app, int* exit_code) {
  CLI::App* ca = app.add_subcommand("ca", "Manage relaytap's local certificate authority");
  ca->require_subcommand(1);
  auto ca_dir = std::make_shared<std::string>();
  const std::string dir_help = "CA directory (default: $RELAYTAP_HOME, else ~/.relaytap)";

  CLI::App* path = ca->add_subcommand("path", "Print the CA certificate path (creating the CA)");
  path->add_option("--ca-dir", *ca_dir, dir_help);
  path->callback([ca_dir, exit_code] { *exit_code = RunPath(*ca_dir); });

  CLI::App* env = ca->add_subcommand(
      "env", "Print shell exports that make apps trust the CA: eval \"$(relaytap ca env)\"");
  env->add_option("--ca-dir", *ca_dir, dir_help);
  env->callback([ca_dir, exit_code] { *exit_code = RunEnv(*ca_dir); });

  auto intercept = std::make_shared<std::vector<std::string>>();
  CLI::App* rotate = ca->add_subcommand(
      "rotate",
      "Replace the CA with a new one (90 days, name-constrained to the intercept patterns); the "
      "old certificate and key are kept as relaytap-ca.pem.previous / relaytap-ca.key.previous. "
      "Apps must then trust the new CA (relaytap ca env). Exit 0 done, 1 failed, 2 bad input");
  rotate->add_option("--ca-dir", *ca_dir, dir_help);
  rotate->add_option("--intercept", *intercept,
                     "Host pattern the new CA may vouch for (repeatable, as for `relaytap proxy`; "
                     "default: the patterns the current CA was issued for, else the proxy's "
                     "defaults)");
  rotate->callback([ca_dir, intercept, exit_code] { *exit_code = RunRotate(*ca_dir, *intercept); });
}

}  // namespace relaytap::tools

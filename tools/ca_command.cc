// `relaytap ca path|env`: locate (creating if needed) the local CA and print how to trust it.
#include <pwd.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
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

absl::StatusOr<std::unique_ptr<CertAuthority>> OpenCa(const std::string& ca_dir) {
  std::string dir = ca_dir.empty() ? DefaultCaDir() : ca_dir;
  if (dir.empty()) {
    return absl::FailedPreconditionError("no CA directory: set RELAYTAP_HOME or pass --ca-dir");
  }
  return CertAuthority::LoadOrCreate(fs::absolute(fs::path(dir)).lexically_normal());
}

int Fail(const absl::Status& status) {
  std::cerr << "relaytap ca: " << std::string(status.message()) << "\n";
  return 1;
}

int RunPath(const std::string& ca_dir) {
  auto ca = OpenCa(ca_dir);
  if (!ca.ok()) return Fail(ca.status());
  std::cout << (*ca)->cert_path().string() << "\n";
  return 0;
}

int RunEnv(const std::string& ca_dir) {
  auto ca = OpenCa(ca_dir);
  if (!ca.ok()) return Fail(ca.status());
  auto bundle = proxy::tls::WriteTrustBundle(**ca, (*ca)->cert_path().parent_path());
  if (!bundle.ok()) return Fail(bundle.status());
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
}

}  // namespace relaytap::tools

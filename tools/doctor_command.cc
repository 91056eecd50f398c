// `relaytap doctor`: runs a tiny client per runtime found here (curl, python3 libraries, node's
// fetch and ws) in this environment against relaytap's self-check host and prints, per runtime,
// whether it used the proxy and trusted the CA, with the lines to fix it (tools/doctor/). Exit 0
// when every runtime found passed, 1 when one failed, 2 for usage errors.
#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "tools/commands.h"
#include "tools/doctor/clients.h"
#include "tools/doctor/doctor.h"
#include "tools/doctor/record.h"
#include "tools/doctor/report.h"

extern char** environ;

namespace relaytap::tools {
namespace {

constexpr int kMaxTimeoutMs = 600'000;

struct DoctorFlags {
  std::string proxy;
  std::string ca_dir;
  int timeout_ms = 10000;
  std::string format = "text";
  std::vector<std::string> runtimes;
  std::string db;
};

// Named apart from the other commands' helpers: the command files compile in unity batches.
int DoctorUsage(const std::string& message) {
  std::cerr << "relaytap doctor: " << message << "\n";
  return kUsageError;
}

std::vector<std::string> DoctorEnvironment() {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) env.emplace_back(*e);
  return env;
}

int RunDoctorCommand(const DoctorFlags& f) {
  if (f.format != "text" && f.format != "json") return DoctorUsage("--format must be text or json");
  if (f.timeout_ms < 1 || f.timeout_ms > kMaxTimeoutMs) {
    return DoctorUsage("--timeout-ms must be 1..600000");
  }
  doctor::DoctorOptions o;
  o.proxy = f.proxy;
  o.ca_dir = f.ca_dir.empty() ? DefaultCaDir() : f.ca_dir;
  if (o.ca_dir.empty()) return DoctorUsage("no CA directory: set RELAYTAP_HOME or pass --ca-dir");
  o.ca_dir = std::filesystem::absolute(o.ca_dir).lexically_normal().string();
  o.timeout = std::chrono::milliseconds(f.timeout_ms);
  o.runtimes = f.runtimes;
  o.env = DoctorEnvironment();
  const int64_t start_us = std::chrono::duration_cast<std::chrono::microseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  absl::StatusOr<doctor::DoctorReport> report = doctor::RunDoctor(o);
  if (!report.ok()) {
    if (absl::IsInvalidArgument(report.status())) {
      return DoctorUsage(std::string(report.status().message()));
    }
    std::cerr << "relaytap doctor: " << report.status().message() << "\n";
    return 1;
  }
  if (f.format == "json") {
    std::cout << doctor::DoctorJson(*report).dump(2) << "\n";
  } else {
    std::cout << doctor::FormatDoctorText(*report);
  }
  if (!f.db.empty()) {
    if (absl::Status st = doctor::RecordDoctor(f.db, *report, start_us); !st.ok()) {
      std::cerr << "relaytap doctor: recording into " << f.db << ": " << st.message() << "\n";
      return 1;
    }
  }
  return doctor::ExitCodeOf(*report);
}

std::string DoctorRuntimeNames() {
  std::string out;
  for (const doctor::ClientCheck& c : doctor::AllClientChecks()) {
    out += (out.empty() ? "" : ", ") + std::string(c.name);
  }
  return out;
}

}  // namespace

void AddDoctorCommand(CLI::App& app, int* exit_code) {
  auto f = std::make_shared<DoctorFlags>();
  CLI::App* cmd = app.add_subcommand(
      "doctor",
      "Check, per runtime found here (curl, Python libraries, Node), that an app in this "
      "environment goes through relaytap and trusts its CA, with the lines that fix it");
  cmd->add_option("--proxy", f->proxy,
                  "relaytap's address (http://HOST:PORT) to give the clients; default: the "
                  "environment's HTTPS_PROXY, as the app sees it");
  cmd->add_option("--ca-dir", f->ca_dir,
                  "the CA relaytap uses, to compare with the one that answers (default: "
                  "$RELAYTAP_HOME, else ~/.relaytap)");
  cmd->add_option("--timeout-ms", f->timeout_ms, "limit per client (killed a little after)")
      ->capture_default_str();
  cmd->add_option("--format", f->format, "text (a checklist) or json")->capture_default_str();
  cmd->add_option("--db", f->db,
                  "also record each runtime's result into this store, for `relaytap report`'s "
                  "Local checks");
  cmd->add_option("--runtime", f->runtimes,
                  "check only these (repeatable): " + DoctorRuntimeNames());
  cmd->footer("Exit status: 0 every runtime found passed, 1 one failed, 2 usage error.");
  cmd->callback([f, exit_code] { *exit_code = RunDoctorCommand(*f); });
}

}  // namespace relaytap::tools

#pragma once
// Subcommands of the `relaytap` binary. Each Add*Command registers its subcommand on `app`; when
// that subcommand is chosen, its callback runs it and stores the process exit code in *exit_code.

#include <CLI/CLI.hpp>

namespace relaytap::tools {

// The exit code of a command line the command cannot run: a bad flag, a bad value.
inline constexpr int kUsageError = 2;

void AddProxyCommand(CLI::App& app, int* exit_code);
void AddCaCommand(CLI::App& app, int* exit_code);
void AddFakeUpstreamCommand(CLI::App& app, int* exit_code);
void AddReplayCommand(CLI::App& app, int* exit_code);
void AddStatsCommand(CLI::App& app, int* exit_code);
void AddReportCommand(CLI::App& app, int* exit_code);
void AddDiffCommand(CLI::App& app, int* exit_code);
void AddExportCommand(CLI::App& app, int* exit_code);
void AddPruneCommand(CLI::App& app, int* exit_code);
void AddProbeCommand(CLI::App& app, int* exit_code);
void AddDoctorCommand(CLI::App& app, int* exit_code);

// The default CA directory: $RELAYTAP_HOME, else ~/.relaytap.
std::string DefaultCaDir();

}  // namespace relaytap::tools

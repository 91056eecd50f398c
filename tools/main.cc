// relaytap: one binary, one subcommand per job.
#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>

#include "tools/commands.h"

int main(int argc, char** argv) {
  try {
    CLI::App app{
        "relaytap: intercepting proxy and redacted recorder for Azure OpenAI / OpenAI traffic"};
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string(RELAYTAP_VERSION));
    int exit_code = 0;
    relaytap::tools::AddProxyCommand(app, &exit_code);
    relaytap::tools::AddCaCommand(app, &exit_code);
    relaytap::tools::AddFakeUpstreamCommand(app, &exit_code);
    relaytap::tools::AddReplayCommand(app, &exit_code);
    relaytap::tools::AddStatsCommand(app, &exit_code);
    relaytap::tools::AddReportCommand(app, &exit_code);
    relaytap::tools::AddDiffCommand(app, &exit_code);
    relaytap::tools::AddExportCommand(app, &exit_code);
    relaytap::tools::AddPruneCommand(app, &exit_code);
    relaytap::tools::AddProbeCommand(app, &exit_code);
    relaytap::tools::AddDoctorCommand(app, &exit_code);
    try {
      app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      // The parser prints why (or the help, which is not an error); every usage error exits 2,
      // as the commands' own checks of their values do.
      return app.exit(e) == 0 ? 0 : relaytap::tools::kUsageError;
    }
    return exit_code;
  } catch (const std::exception& e) {
    std::cerr << "relaytap: fatal: " << e.what() << "\n";
    return 1;
  }
}

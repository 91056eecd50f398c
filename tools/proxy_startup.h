// What `relaytap proxy` tells the operator when it starts: one log line per part of the set-up
// (recording, retry guard, upstream proxy, CA) and the lines to paste into the app's shell.
#pragma once

#include <string>

#include "proxy/config/config.h"
#include "proxy/guard/retry_guard.h"
#include "proxy/server.h"
#include "proxy/session/admission.h"
#include "recorder/recorder.h"

namespace relaytap::tools {

struct ProxyStartup {
  const proxy::ProxyConfig& config;
  const proxy::Server& server;
  const recorder::Recorder* recorder = nullptr;     // null: --no-record
  const proxy::guard::RetryGuard* guard = nullptr;  // null: guard off
  recorder::DiskLimits disk;                        // as the recorder applies them
  proxy::OpenFileLimit files;
  std::string ca_dir_flag;  // --ca-dir as given (empty: the default), for the hints
};

// Logs the set-up and prints the listening address with the export/eval lines on stdout.
void AnnounceProxy(const ProxyStartup& p);

}  // namespace relaytap::tools

#pragma once
// The subcommands that run until SIGINT/SIGTERM (fake-upstream, replay) block both before any
// thread starts, so only their own sigwait()/sigtimedwait() on the returned set sees them.

#include <signal.h>

namespace relaytap::tools {

inline sigset_t BlockStopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

}  // namespace relaytap::tools

#pragma once
// Which recording answers which request, and the server's counters. Thread-safe (one mutex,
// never held across I/O). Recordings are immutable and outlive every connection.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string_view>
#include <vector>

#include "tools/replay/recording.h"
#include "tools/replay/server.h"

namespace relaytap::tools::replay {

class Catalog {
 public:
  Catalog(const std::vector<RecordedSession>& sessions,
          const std::vector<ReplayExchange>& exchanges);

  // The recording for a request: a session (upgrade answered 101) or an exchange (a refused
  // upgrade, or plain HTTP). The first not yet served that matches in recorded order; when all
  // matching ones were served, the last of them again. Both null: nothing matches.
  struct Pick {
    const RecordedSession* session = nullptr;
    const ReplayExchange* exchange = nullptr;
  };
  Pick ForUpgrade(std::string_view target);
  Pick ForRequest(std::string_view method, std::string_view target);

  void NoteSessionServed();
  void NoteExchangeServed();
  void NoteDeviation();
  void NoteUnmatched();
  ServerStats stats() const;
  bool WaitForServed(uint64_t n, std::chrono::milliseconds timeout) const;

 private:
  struct Entry {
    int64_t time_us = 0;
    bool upgrade = false;
    const RecordedSession* session = nullptr;
    const ReplayExchange* exchange = nullptr;
    bool served = false;
  };
  Pick Take(bool upgrade, std::string_view method, std::string_view target);

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<Entry> entries_;
  ServerStats stats_;
};

}  // namespace relaytap::tools::replay

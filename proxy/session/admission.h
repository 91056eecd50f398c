#pragma once
// How many connections the proxy takes at once, and what it tells the ones it cannot take. With
// the common soft limit of 1,024 open files, about a thousand idle connections once left the
// proxy unable to accept anyone (and logging the accept error every 50 ms); now the soft limit is
// raised to the hard one at startup, connections past a cap derived from it are answered 503 and
// closed, and both refusals and accept failures are logged at most once per interval with a
// count.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace relaytap::proxy {

struct OpenFileLimit {
  uint64_t soft_before = 0;  // the soft limit the process started with
  uint64_t soft = 0;         // the soft limit now
  uint64_t hard = 0;
};

// Raises the soft RLIMIT_NOFILE to the hard limit (bounded, as some systems report "unlimited").
OpenFileLimit RaiseOpenFileLimit();
// The soft limit now.
uint64_t CurrentOpenFileLimit();

// Connections served at once for an open-files limit of `soft`: two descriptors each (the app's
// and the upstream's), with some kept for the listener, the store, the threads and the CA.
int MaxConnectionsFor(uint64_t soft);

// The answer to a connection over the cap (HTTP/1.1 503, Connection: close, a JSON error naming
// relaytap_too_many_connections and the limit).
std::string TooManyConnectionsResponse(int max_connections);

// Counts events and says when to log them: the first at once, then at most one line per
// `interval` carrying how many happened since the last line. One thread.
class LogThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  explicit LogThrottle(std::chrono::milliseconds interval) : interval_(interval) {}
  // Counts one event at `now`; returns the number to report (> 0) when a line is due, else 0.
  uint64_t Note(Clock::time_point now);

 private:
  std::chrono::milliseconds interval_;
  Clock::time_point last_line_{};
  bool logged_ = false;
  uint64_t pending_ = 0;
};

}  // namespace relaytap::proxy

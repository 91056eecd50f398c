#include "proxy/session/admission.h"

#include <sys/resource.h>

#include <algorithm>

#include "base/str_cat.h"
#include "proxy/http/local_response.h"

namespace relaytap::proxy {
namespace {

// Descriptors kept for everything but connections: the listener, epoll and eventfds of each
// thread, the store and its -wal/-shm, the CA files, stdio.
constexpr uint64_t kReservedDescriptors = 64;
// "Unlimited" hard limits are capped here: the kernel's nr_open is usually 1,048,576.
constexpr uint64_t kMaxSoftLimit = 1 << 20;

}  // namespace

OpenFileLimit RaiseOpenFileLimit() {
  OpenFileLimit out;
  struct rlimit lim {};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return out;
  out.soft_before = out.soft = lim.rlim_cur;
  out.hard = lim.rlim_max;
  const rlim_t target = std::min<rlim_t>(lim.rlim_max, kMaxSoftLimit);
  if (lim.rlim_cur < target) {
    lim.rlim_cur = target;
    if (::setrlimit(RLIMIT_NOFILE, &lim) == 0) out.soft = target;
  }
  return out;
}

uint64_t CurrentOpenFileLimit() {
  struct rlimit lim {};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return 1024;
  return lim.rlim_cur;
}

int MaxConnectionsFor(uint64_t soft) {
  const uint64_t usable = soft > 2 * kReservedDescriptors ? soft - kReservedDescriptors : soft / 2;
  return static_cast<int>(std::clamp<uint64_t>(usable / 2, 1, 1'000'000));
}

std::string TooManyConnectionsResponse(int max_connections) {
  return http_relay::BuildLocalErrorResponse(
      http_relay::LocalError{503, "relaytap_too_many_connections",
                             StrCat("relaytap is serving its limit of ", max_connections,
                                    " connections (max_connections); try again shortly"),
                             "accept", ""});
}

uint64_t LogThrottle::Note(Clock::time_point now) {
  ++pending_;
  if (logged_ && now - last_line_ < interval_) return 0;
  logged_ = true;
  last_line_ = now;
  const uint64_t n = pending_;
  pending_ = 0;
  return n;
}

}  // namespace relaytap::proxy

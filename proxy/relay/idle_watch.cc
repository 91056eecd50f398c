#include "proxy/relay/idle_watch.h"

namespace relaytap::proxy {

IdleWatch::IdleWatch(Executor ex, std::chrono::milliseconds limit)
    : timer_(std::move(ex)), limit_(limit), last_(Clock::now()) {}

Awaitable<bool> IdleWatch::Run(ByteStream& a, ByteStream& b) {
  while (!stopped_) {
    const Clock::time_point due = last_ + limit_;
    if (Clock::now() >= due) {
      a.Close();
      b.Close();
      co_return true;
    }
    timer_.expires_at(due);
    // Woken at the due time or by Stop(); either way the loop looks again.
    co_await timer_.async_wait();
  }
  co_return false;
}

void IdleWatch::Stop() {
  stopped_ = true;
  timer_.cancel();
}

}  // namespace relaytap::proxy

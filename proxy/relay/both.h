#pragma once
// Both(a, b, stop): runs two coroutines at once on the caller's executor and returns both
// results, as Asio's `a && b` does, without what `&&` costs a relay that lives for hours:
//   - `&&` runs each side in a co_spawned thread wired to a parallel group's cancellation
//     signals, so every socket wait and read in the pumps installs a cancellation handler and
//     clears it again (`cancellation_slot::clear` alone was 1.6 % of the proxy's CPU at
//     realtime cadence, session 19's profile);
//   - the group's state, its two signals, the `&&` frame and two spawned threads stay allocated
//     for as long as the session idles.
// Here `a` is spawned, with no cancellation slot, and runs at once up to its first wait; then `b`
// runs inline in the caller's coroutine. Neither side can be cancelled from outside: each must
// end on its own (a pump ends when its source ends or the opposite pump resets it). If `b`
// throws, `stop()` is called so that `a` ends too, and the exception is rethrown once `a` has
// ended; an exception from `a` is rethrown after `b` ended. The caller's executor must be one
// thread (each io_context here is run by one worker), which is what makes the shared state below
// need no lock.

#include <exception>
#include <optional>
#include <tuple>
#include <utility>

#include "proxy/stream/net.h"

namespace relaytap::proxy {

template <class A, class B, class Stop>
Awaitable<std::tuple<A, B>> Both(Awaitable<A> a, Awaitable<B> b, Stop stop) {
  struct Spawned {
    std::optional<A> result;
    std::exception_ptr error;
    bool done = false;
  };
  auto ex = co_await net::this_coro::executor;
  Spawned first;
  // Woken (cancelled) when `a` ends, for a caller whose `b` ended first. Never expires.
  Timer wake(ex);
  wake.expires_at(Timer::time_point::max());
  net::co_spawn(ex, std::move(a), [&first, &wake](std::exception_ptr e, A r) {
    first.result.emplace(std::move(r));
    first.error = e;
    first.done = true;
    wake.cancel();
  });
  std::optional<B> second;
  std::exception_ptr second_error;
  try {
    second.emplace(co_await std::move(b));
  } catch (...) {
    second_error = std::current_exception();
    stop();
  }
  if (!first.done) co_await wake.async_wait();
  if (first.error) std::rethrow_exception(first.error);
  if (second_error) std::rethrow_exception(second_error);
  co_return std::make_tuple(std::move(*first.result), std::move(*second));
}

}  // namespace relaytap::proxy

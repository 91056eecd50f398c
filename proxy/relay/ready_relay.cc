#include "proxy/relay/ready_relay.h"

#include <exception>
#include <string_view>
#include <type_traits>
#include <utility>

#include "proxy/relay/pump.h"

namespace relaytap::proxy {
namespace {

using Try = ByteStream::Try;
using Kind = ReadyEnd::Kind;

thread_local ReadyCounts counts;

}  // namespace

// The socket wait's handler: the pump's completion handler, moved from wait to wait, and the
// relay it resumes.
template <class Handler>
struct ReadyRelay::Waker {
  Handler handler;
  ReadyRelay* relay;
  void operator()(error_code ec) { relay->Woken(std::move(handler), ec); }
};

template <class Handler>
void ReadyRelay::Wait(Handler handler) {
  buffer_.Release();  // an idle session holds no buffer
  from_.PrepareIdleWait();
  from_.socket().async_wait(tcp::socket::wait_read, Waker<Handler>{std::move(handler), this});
}

template <class Handler>
void ReadyRelay::Woken(Handler handler, error_code wait_ec) {
  ReadyEnd end;
  std::exception_ptr error;
  bool wait_again = false;
  // A failed wait (the opposite pump reset this socket) shows again in the pump's own read,
  // which classifies it, as after the pump's WaitReadable.
  if (!wait_ec) {
    try {
      wait_again = RelayWhatIsReady(end);
    } catch (...) {
      error = std::current_exception();
    }
  }
  if (wait_again) return Wait(std::move(handler));  // outside the try: `handler` moves there
  end.bytes = bytes_;
  std::move(handler)(error, end);  // resumes the pump, which may Run again at once
}

bool ReadyRelay::RelayWhatIsReady(ReadyEnd& end) {
  for (;;) {
    char* data = buffer_.Get();
    const ByteStream::TryResult r = from_.TryReadSome(net::buffer(data, PumpBuffer::kBytes));
    if (r.status == Try::kWantRead) return true;
    if (r.status == Try::kFailed) {
      end = ReadyEnd{Kind::kReadFailed, r.ec};
      return false;
    }
    if (r.status != Try::kDone || r.n == 0) return false;  // kAskPump
    size_t written = 0;
    while (written < r.n) {
      const ByteStream::TryResult w = to_.TryWriteSome(net::buffer(data + written, r.n - written));
      if (w.status == Try::kFailed) {
        end = ReadyEnd{Kind::kWriteFailed, w.ec};
        return false;
      }
      if (w.status != Try::kDone || w.n == 0) {
        ++counts.write_waits;
        end = ReadyEnd{Kind::kWriteWaits, {}, r.n, written};
        return false;
      }
      written += w.n;
    }
    bytes_ += r.n;
    ++counts.chunks;
    FeedTap(tap_, std::string_view(data, r.n));
    // As the pump: read again at once only what the source already holds; otherwise the wait
    // (whose re-arm reports bytes that came meanwhile) comes first.
    if (!from_.HasBufferedInput()) return true;
  }
}

Awaitable<ReadyEnd> ReadyRelay::Run() {
  bytes_ = 0;
  return net::async_initiate<const net::use_awaitable_t<Executor>&,
                             void(std::exception_ptr, ReadyEnd)>(
      [this](auto handler) { Wait(std::move(handler)); }, net::use_awaitable_t<Executor>{});
}

ReadyCounts ReadyCountsOnThisThread() { return counts; }

}  // namespace relaytap::proxy

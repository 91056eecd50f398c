#pragma once
// The relay's steady state without a coroutine per chunk. A realtime session wakes its pumps for
// every message, and each wake-up through the coroutine pump resumed a chain of awaitable frames
// (the pump, the read and its Drive, the policy and its write) that the session last touched a
// message earlier: cache misses paid on every message, the largest part of relaytap's own share
// of the proxy's CPU at cadence (BENCHMARKS.md, sessions 22 and 23). Here a pump whose policy
// relays plainly (PlainRelay) hands the steady state to a plain handler on the socket's wait,
// which reads what the source holds, writes it all on, feeds the tap, and waits again. The
// pump's coroutine is resumed only when something needs it: an end, a write that must wait for
// the destination, or a source that asks for its own read. Only WebSocket sessions after 101 relay
// this way; blind tunnels (which stamp their idle watch per chunk) and the guard's capped relay
// keep the coroutine loop.
//
// The bytes and their order are the pump's (every chunk is written exactly as read before the
// tap sees it); the calls are the ones ReadSome and WriteAll make, without their waits.

#include <cstddef>
#include <cstdint>
#include <exception>

#include "proxy/stream/byte_stream.h"
#include "proxy/stream/net.h"
#include "proxy/stream/pump_buffer.h"
#include "proxy/ws/frame_tap.h"

namespace relaytap::proxy {

struct ReadyEnd {
  enum class Kind {
    kReadFailed,   // reading the source failed with `ec` (eof included): the pump ends
    kWriteFailed,  // writing a chunk failed with `ec`: the pump ends with a failed sink
    kWriteWaits,   // the chunk [0, size) in the pump's buffer is written up to `written`; the
                   // rest waits for the destination (the pump writes it, then feeds the tap)
    kAskPump,      // the pump's own read goes on (a wait failed, the source asked for ReadSome)
  };
  Kind kind = Kind::kAskPump;
  error_code ec;
  size_t size = 0;
  size_t written = 0;
  uint64_t bytes = 0;  // bytes of the whole chunks relayed before the end
};

// One direction's steady state, kept in its pump's coroutine frame: the pending socket wait holds
// only the pump's completion handler and a pointer to this, so an idle session holds nothing more
// than it did with the pump's own wait, and an io_context destroyed with the wait pending
// destroys the pump as it would destroy a pending co_await.
class ReadyRelay {
 public:
  // `buffer`: the pump's, released; it holds the chunk of kWriteWaits.
  ReadyRelay(ByteStream& from, ByteStream& to, ws::FrameTap* tap, PumpBuffer& buffer)
      : from_(from), to_(to), tap_(tap), buffer_(buffer) {}
  ReadyRelay(const ReadyRelay&) = delete;
  ReadyRelay& operator=(const ReadyRelay&) = delete;

  // Relays `from` -> `to` while nothing but `from`'s readability needs a wait: waits until `from`
  // is readable, reads what it holds, writes all of it to `to`, feeds `tap` (may be null) a copy,
  // and again, until something needs the pump (ReadyEnd). Preconditions: both streams tries(),
  // `from` holds no buffered input, neither has a timeout, one Run at a time. An exception from
  // the tap is rethrown to the awaiting pump.
  Awaitable<ReadyEnd> Run();

 private:
  template <class Handler>
  struct Waker;
  template <class Handler>
  void Wait(Handler handler);
  template <class Handler>
  void Woken(Handler handler, error_code wait_ec);
  // Reads and relays chunks until the source has nothing more now (true: wait for it) or
  // something needs the pump (false, `end` set).
  bool RelayWhatIsReady(ReadyEnd& end);

  ByteStream& from_;
  ByteStream& to_;
  ws::FrameTap* tap_;
  PumpBuffer& buffer_;
  uint64_t bytes_ = 0;
};

// What ReadyRelay did on the calling thread (tests): chunks relayed whole, and chunks whose rest
// it handed to the pump because the destination was full.
struct ReadyCounts {
  uint64_t chunks = 0;
  uint64_t write_waits = 0;
};
ReadyCounts ReadyCountsOnThisThread();

}  // namespace relaytap::proxy

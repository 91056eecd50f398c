#pragma once
// One interface over the two kinds of connection a session relays between (plain TCP and TLS), so
// the HTTP exchange loop and the byte pump are written once. Each call costs one coroutine frame,
// which Asio recycles; against 64 KiB reads that is noise.
//
// Owned by one session coroutine; one read and one write may be outstanding at a time (Asio's rule
// for sockets, kept by the TLS stream).

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <tuple>

#include "proxy/stream/net.h"

namespace relaytap::proxy {

class ByteStream {
 public:
  virtual ~ByteStream() = default;
  virtual Awaitable<std::tuple<error_code, size_t>> ReadSome(net::mutable_buffer buf) = 0;
  // True if a ReadSome may complete without new bytes from the socket: a TLS stream holding
  // received bytes it has not returned yet. Plain TCP never buffers.
  virtual bool HasBufferedInput() const = 0;
  // Completes when the socket is readable (bytes, FIN, reset) or failed/closed. Only correct to
  // rely on when HasBufferedInput() is false: then the next ReadSome needs socket bytes anyway.
  // The socket's own wait (Asio's tuple), so that an implementation can return it as it is: an
  // idle reader then holds no coroutine frame of ours.
  virtual Awaitable<std::tuple<error_code>> WaitReadable() = 0;
  // Writes all of `buf`.
  virtual Awaitable<std::tuple<error_code, size_t>> WriteAll(net::const_buffer buf) = 0;

  // The relay's steady state without a coroutine per chunk (relay/ready_relay.h): one read or one
  // write as a plain call that never waits. Only streams that answer true to `tries()` implement
  // them (they wait on socket()); the others get ReadSome and WriteAll.
  enum class Try {
    kDone,       // `n` bytes read (n > 0) or written
    kWantRead,   // nothing done: retry once the socket is readable
    kWantWrite,  // nothing done: retry once the socket is writable
    kFailed,     // the error ReadSome / WriteAll would have returned
    kAskAwait,   // nothing done: only ReadSome knows how to go on (a TLS stream after ShutdownSend)
  };
  struct TryResult {
    Try status = Try::kAskAwait;
    error_code ec;
    size_t n = 0;
  };
  virtual bool tries() const { return false; }
  // ReadSome without waiting; `buf` not empty. Returns what ReadSome would (bytes, then an end on
  // the next call), or why it would wait. Ignores SetTimeout (callers relay without one).
  virtual TryResult TryReadSome(net::mutable_buffer /*buf*/) { return {}; }
  // One write of what the socket takes now; kDone may write fewer bytes than `buf` holds. After
  // kWantRead / kWantWrite the same bytes must be written next (WriteAll may take them over).
  virtual TryResult TryWriteSome(net::const_buffer /*buf*/) { return {}; }
  // Before waiting on socket() for readability with nothing buffered: drops what an idle reader
  // need not hold (WaitReadable does the same before its wait).
  virtual void PrepareIdleWait() {}
  // Per-operation deadline for the reads and writes that follow; zero or negative: none.
  virtual void SetTimeout(std::chrono::milliseconds timeout) = 0;
  // Half-close: no more bytes from us. TLS sends its close_notify first (peers such as Beast and
  // Python treat a FIN without one as a truncation attack), then TCP FIN. The read side stays
  // open for plain TCP; a TLS stream reads no more application data after it.
  virtual Awaitable<void> ShutdownSend() = 0;
  // Abortive close (RST) where possible.
  virtual void Reset() = 0;
  virtual void Close() = 0;
  virtual bool is_tls() const = 0;
  virtual TcpSocket& socket() = 0;
};

// TCP keepalive on the stream's socket: probes after 60 s of silence, every 15 s, 4 tries, so a
// peer that vanished (NAT timeout, pulled cable) is noticed in about two minutes instead of the
// kernel's default two hours. For relays without an idle limit of their own.
void EnableKeepAlive(ByteStream& s);

std::unique_ptr<ByteStream> MakeTcpByteStream(TcpSocket&& socket);
// TLS: proxy/stream/tls_byte_stream.h.

}  // namespace relaytap::proxy

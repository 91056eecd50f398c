#pragma once
// relaytap's TLS ByteStream: OpenSSL runs directly on the socket's descriptor through a small BIO
// (proxy/stream/fd_bio.h) instead of Asio's ssl::stream. Per connection that saves the stream
// core's two 17 KiB buffers and the BIO pair's two more, and two copies of every byte. OpenSSL's
// own record buffers are released while a connection is idle (SSL_MODE_RELEASE_BUFFERS, and
// SSL_free_buffers when a reader starts waiting).
//
// Used for both sides of an intercepted session: the app side (server handshake, with the bytes
// the app sent right after CONNECT fed in first) and the upstream side (client handshake).
// Operations try the SSL call first and wait for socket readiness only when OpenSSL asks
// (WANT_READ / WANT_WRITE), so one read and one write may be outstanding at once (the two pumps);
// both run on the session's io thread.
//
// Errors keep Asio's vocabulary, which errors.h and relay/pump.h classify: a close_notify is
// net::error::eof, a TCP FIN without one ssl::error::stream_truncated, socket failures their errno
// (connection_reset, broken_pipe), TLS failures the OpenSSL error code in Asio's ssl category, a
// timeout beast::error::timeout.

#include <openssl/ssl.h>

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "proxy/stream/byte_stream.h"
#include "proxy/stream/fd_bio.h"
#include "proxy/stream/net.h"

namespace relaytap::proxy {

enum class TlsRole { kClient, kServer };

class TlsByteStream final : public ByteStream {
 public:
  // Takes over `socket` (connected) and makes an SSL from `ctx` (its callbacks, e.g. SNI, apply).
  // `early`: bytes already read off the socket, handed to OpenSSL before the socket's.
  static absl::StatusOr<std::unique_ptr<TlsByteStream>> Create(TcpSocket&& socket,
                                                               ssl::context& ctx, TlsRole role,
                                                               std::string early = {});
  ~TlsByteStream() override;
  TlsByteStream(const TlsByteStream&) = delete;
  TlsByteStream& operator=(const TlsByteStream&) = delete;

  // For tls::Prepare*Ssl before the handshake, TlsFactsOf / VerifyFailureOf after it.
  SSL* native_handle() { return ssl_; }
  // Runs the handshake, bounded by `timeout` when positive (then back to SetTimeout's).
  Awaitable<error_code> Handshake(std::chrono::milliseconds timeout);

  Awaitable<std::tuple<error_code, size_t>> ReadSome(net::mutable_buffer buf) override;
  bool HasBufferedInput() const override;
  Awaitable<std::tuple<error_code>> WaitReadable() override;
  Awaitable<std::tuple<error_code, size_t>> WriteAll(net::const_buffer buf) override;
  bool tries() const override { return true; }
  TryResult TryReadSome(net::mutable_buffer buf) override;
  TryResult TryWriteSome(net::const_buffer buf) override;
  void PrepareIdleWait() override;
  void SetTimeout(std::chrono::milliseconds t) override { timeout_ = t; }
  Awaitable<void> ShutdownSend() override;
  void Reset() override;
  void Close() override;
  bool is_tls() const override { return true; }
  TcpSocket& socket() override { return socket_; }

 private:
  TlsByteStream(TcpSocket&& socket, SSL* ssl);
  // Calls `op` (an SSL call: 1 = done) once, with OpenSSL's error queue and the BIO's errno
  // cleared first: done, what it waits for, or its failure.
  template <class Op>
  TryResult Call(Op op);
  // Calls `op` until it is done or fails, waiting for the readiness OpenSSL asks for in between;
  // the whole call bounded by timeout_ when positive.
  template <class Op>
  Awaitable<error_code> Drive(Op op);
  // Waits for `w` on the socket, raced with `timer` when one is given.
  Awaitable<error_code> Wait(tcp::socket::wait_type w, Timer* timer);
  // The failure an SSL call reported as SSL_get_error `err`, as an error_code (see the header
  // comment).
  error_code ErrorOf(int err);
  // After a completed SSL_read: appends whatever more OpenSSL returns without waiting (see the
  // .cc). A failure met there is kept in read_error_ for the next ReadSome.
  size_t ReadHeld(net::mutable_buffer buf);
  // After ShutdownSend: reads and drops the peer's next bytes, then reports the end.
  Awaitable<std::tuple<error_code, size_t>> DrainAfterShutdown(net::mutable_buffer buf);

  TcpSocket socket_;
  tls::FdBioState bio_state_;
  SSL* ssl_;
  std::chrono::milliseconds timeout_{0};
  bool shut_down_ = false;
  error_code read_error_;
};

}  // namespace relaytap::proxy

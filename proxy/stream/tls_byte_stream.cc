#include "proxy/stream/tls_byte_stream.h"

#include <openssl/err.h>
#include <sys/socket.h>

#include <cerrno>
#include <optional>
#include <utility>

#include "proxy/stream/errors.h"
#include "proxy/tls/openssl_error.h"

namespace relaytap::proxy {
namespace {

using namespace net::experimental::awaitable_operators;

// Before each SSL call, so that SSL_get_error reads only that call's errors. ERR_clear_error walks
// all 16 slots of the thread's queue even when it is empty, which it nearly always is: that was
// 0.7-1.0 % of the proxy's CPU at realtime cadence (two calls per relayed chunk). Peeking first
// costs one look at the queue.
void ClearErrorsBeforeCall() {
  if (ERR_peek_error() != 0) ERR_clear_error();
}

// WaitReadable's answer when OpenSSL already holds input: ready, without the socket.
Awaitable<std::tuple<error_code>> ReadyNow() { co_return std::make_tuple(error_code{}); }

// Per-SSL settings, with why.
void Configure(SSL* ssl, TlsRole role) {
  // Partial writes and a moving buffer let WriteAll retry with whatever is left; released buffers
  // mean an idle connection holds no 17 KiB record buffers (issue #5).
  SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                        SSL_MODE_RELEASE_BUFFERS);
  // Renegotiation is the one case where SSL_write would need to read (and SSL_read to write a
  // whole handshake): TLS 1.2 apps and Azure never need it, and it is a DoS vector.
  SSL_set_options(ssl, SSL_OP_NO_RENEGOTIATION);
  // One recv fetches as much as the kernel has (several records), not a 5-byte header and then the
  // body: half the syscalls at saturation. What it fetches ahead shows in SSL_has_pending.
  SSL_set_read_ahead(ssl, 1);
  if (role == TlsRole::kServer) {
    // Apps reconnect through CONNECT to a leaf minted per host; resumption buys nothing and each
    // TLS 1.3 ticket costs a session object (and two writes) per connection.
    SSL_set_num_tickets(ssl, 0);
    SSL_set_accept_state(ssl);
  } else {
    SSL_set_connect_state(ssl);
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<TlsByteStream>> TlsByteStream::Create(TcpSocket&& socket,
                                                                     ssl::context& ctx,
                                                                     TlsRole role,
                                                                     std::string early) {
  ERR_clear_error();
  SSL* ssl = SSL_new(ctx.native_handle());
  if (ssl == nullptr) return absl::InternalError(tls::OpenSslError("SSL_new"));
  std::unique_ptr<TlsByteStream> s(new TlsByteStream(std::move(socket), ssl));
  error_code ec;
  s->socket_.native_non_blocking(true, ec);
  if (ec) return absl::InternalError("cannot make the socket non-blocking: " + ec.message());
  s->bio_state_.fd = s->socket_.native_handle();
  s->bio_state_.early = std::move(early);
  BIO* bio = tls::NewFdBio(&s->bio_state_);
  if (bio == nullptr) return absl::InternalError(tls::OpenSslError("BIO_new"));
  SSL_set_bio(ssl, bio, bio);  // one reference, owned by the SSL from here
  Configure(ssl, role);
  return s;
}

TlsByteStream::TlsByteStream(TcpSocket&& socket, SSL* ssl)
    : socket_(std::move(socket)), ssl_(ssl) {}

TlsByteStream::~TlsByteStream() { SSL_free(ssl_); }

error_code TlsByteStream::ErrorOf(int err) {
  if (err == SSL_ERROR_ZERO_RETURN) return net::error::eof;
  if (err != SSL_ERROR_SSL && err != SSL_ERROR_SYSCALL) return ssl::error::unspecified_system_error;
  // A socket failure (reset, broken pipe) is the cause whatever OpenSSL queued on top of it.
  if (bio_state_.last_errno != 0)
    return error_code(bio_state_.last_errno, net::error::get_system_category());
  unsigned long e = ERR_get_error();
  if (e == 0) {
    return bio_state_.eof ? error_code(ssl::error::stream_truncated)
                          : error_code(ssl::error::unspecified_system_error);
  }
  // OpenSSL 3 reports a FIN without close_notify this way; Asio calls it stream_truncated.
  if (ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) return ssl::error::stream_truncated;
  return error_code(static_cast<int>(e), net::error::get_ssl_category());
}

Awaitable<error_code> TlsByteStream::Wait(tcp::socket::wait_type w, Timer* timer) {
  if (timer == nullptr) {
    auto [ec] = co_await socket_.async_wait(w, Token{});
    co_return ec;
  }
  auto raced = co_await (socket_.async_wait(w, Token{}) || timer->async_wait());
  if (raced.index() == 1) co_return error_code(beast::error::timeout);
  auto [ec] = std::get<0>(raced);
  co_return ec;
}

template <class Op>
ByteStream::TryResult TlsByteStream::Call(Op op) {
  ClearErrorsBeforeCall();
  bio_state_.last_errno = 0;
  int ret = op();
  if (ret == 1) return {Try::kDone, {}, 0};
  int err = SSL_get_error(ssl_, ret);
  if (err == SSL_ERROR_WANT_READ) return {Try::kWantRead, {}, 0};
  if (err == SSL_ERROR_WANT_WRITE) return {Try::kWantWrite, {}, 0};
  return {Try::kFailed, ErrorOf(err), 0};
}

template <class Op>
Awaitable<error_code> TlsByteStream::Drive(Op op) {
  std::optional<Timer> timer;
  if (timeout_.count() > 0) {
    timer.emplace(socket_.get_executor());
    timer->expires_after(timeout_);
  }
  for (;;) {
    const TryResult r = Call(op);
    if (r.status == Try::kDone) co_return error_code{};
    if (r.status == Try::kFailed) co_return r.ec;
    const auto w = r.status == Try::kWantRead ? tcp::socket::wait_read : tcp::socket::wait_write;
    // The other direction's coroutine may run SSL calls while this one waits; whatever state
    // OpenSSL is in, the retry asks again and waits for what it then needs.
    if (error_code ec = co_await Wait(w, timer ? &*timer : nullptr)) co_return ec;
  }
}

Awaitable<error_code> TlsByteStream::Handshake(std::chrono::milliseconds timeout) {
  auto saved = std::exchange(timeout_, timeout);
  error_code ec = co_await Drive([this] { return SSL_do_handshake(ssl_); });
  timeout_ = saved;
  co_return ec;
}

Awaitable<std::tuple<error_code, size_t>> TlsByteStream::ReadSome(net::mutable_buffer buf) {
  if (buf.size() == 0) co_return std::make_tuple(error_code{}, size_t{0});
  if (read_error_) co_return std::make_tuple(read_error_, size_t{0});
  for (;;) {
    if (shut_down_) {
      // After ShutdownSend OpenSSL answers end-of-stream without touching the socket.
      if (HasBufferedInput()) co_return std::make_tuple(error_code(net::error::eof), size_t{0});
      co_return co_await DrainAfterShutdown(buf);
    }
    size_t n = 0;
    bool stopped = false;  // ShutdownSend ran while this read waited
    error_code ec = co_await Drive([&] {
      if (shut_down_) {
        stopped = true;
        return 1;
      }
      return SSL_read_ex(ssl_, buf.data(), buf.size(), &n);
    });
    if (stopped) continue;
    if (!ec) n += ReadHeld(buf + n);
    co_return std::make_tuple(ec, n);
  }
}

// One relayed WebSocket message is often several records (Beast writes a masked client frame in
// 4 KiB records, a frame header and its payload in two): handing them to the pump in one read
// lets it write them as one record and one send. Only what needs no wait is taken: whole records
// OpenSSL already holds, or a recv that has bytes at once.
size_t TlsByteStream::ReadHeld(net::mutable_buffer buf) {
  size_t total = 0;
  while (buf.size() > total && !read_error_ && HasBufferedInput()) {
    size_t n = 0;
    const TryResult r = Call([&] {
      return SSL_read_ex(ssl_, static_cast<char*>(buf.data()) + total, buf.size() - total, &n);
    });
    if (r.status == Try::kDone) {
      total += n;
      continue;
    }
    // A partial record: the rest comes with the next read. Anything else (the peer's
    // close_notify, a failure) is the next ReadSome's result, after these bytes.
    if (r.status == Try::kFailed) read_error_ = r.ec;
    break;
  }
  return total;
}

// Wait for (and drop) the peer's next bytes, its close_notify, as the ssl::stream version did:
// closing with them unread would send an RST instead of a FIN.
Awaitable<std::tuple<error_code, size_t>> TlsByteStream::DrainAfterShutdown(
    net::mutable_buffer buf) {
  std::optional<Timer> timer;
  if (timeout_.count() > 0) {
    timer.emplace(socket_.get_executor());
    timer->expires_after(timeout_);
  }
  for (;;) {
    ssize_t n = ::recv(bio_state_.fd, buf.data(), buf.size(), MSG_DONTWAIT);
    if (n >= 0) co_return std::make_tuple(error_code(net::error::eof), size_t{0});
    if (!IsRetryableErrno(errno)) {
      co_return std::make_tuple(error_code(errno, net::error::get_system_category()), size_t{0});
    }
    if (error_code ec = co_await Wait(tcp::socket::wait_read, timer ? &*timer : nullptr)) {
      co_return std::make_tuple(ec, size_t{0});
    }
  }
}

bool TlsByteStream::HasBufferedInput() const {
  // A kept read error counts: the next ReadSome returns it without the socket.
  return SSL_has_pending(ssl_) == 1 || bio_state_.early_pos < bio_state_.early.size() ||
         static_cast<bool>(read_error_);
}

void TlsByteStream::PrepareIdleWait() {
  // Going idle: drop OpenSSL's record buffers (17 KiB read, 17 KiB write). RELEASE_BUFFERS frees
  // them only on some paths: with read ahead, a read that ends on a record boundary in the middle
  // of the fetched bytes, or post-handshake messages (TLS 1.3 tickets), keep the read buffer for
  // the session (heaptrack: 16 KiB per idle session). A no-op while anything is pending.
  SSL_free_buffers(ssl_);
}

Awaitable<std::tuple<error_code>> TlsByteStream::WaitReadable() {
  if (HasBufferedInput()) return ReadyNow();
  PrepareIdleWait();
  // The socket's wait itself, returned (not awaited here, not Wait()): an idle pump then holds no
  // coroutine frame of this stream's.
  return socket_.async_wait(tcp::socket::wait_read, Token{});
}

// ReadSome's SSL call, without Drive's waits.
ByteStream::TryResult TlsByteStream::TryReadSome(net::mutable_buffer buf) {
  if (read_error_) return {Try::kFailed, read_error_, 0};
  if (shut_down_) return {Try::kAskAwait, {}, 0};  // ReadSome drains the peer's last bytes
  size_t n = 0;
  TryResult r = Call([&] { return SSL_read_ex(ssl_, buf.data(), buf.size(), &n); });
  if (r.status == Try::kDone) r.n = n + ReadHeld(buf + n);
  return r;
}

// WriteAll's SSL call. With partial writes on, OpenSSL may take fewer bytes than offered; after
// WANT_*, the same bytes go again (by this call or by WriteAll's Drive).
ByteStream::TryResult TlsByteStream::TryWriteSome(net::const_buffer buf) {
  size_t n = 0;
  TryResult r = Call([&] { return SSL_write_ex(ssl_, buf.data(), buf.size(), &n); });
  r.n = n;
  return r;
}

Awaitable<std::tuple<error_code, size_t>> TlsByteStream::WriteAll(net::const_buffer buf) {
  const char* data = static_cast<const char*>(buf.data());
  size_t total = 0;
  while (total < buf.size()) {
    size_t n = 0;
    error_code ec =
        co_await Drive([&] { return SSL_write_ex(ssl_, data + total, buf.size() - total, &n); });
    if (ec) co_return std::make_tuple(ec, total);
    total += n;
  }
  co_return std::make_tuple(error_code{}, total);
}

Awaitable<void> TlsByteStream::ShutdownSend() {
  if (shut_down_) co_return;
  shut_down_ = true;
  // TLS has no half-close: SSL_shutdown would wait for the peer's close_notify with a read that
  // races the other direction's pump. Marking the peer's close_notify as received makes the
  // shutdown a pure write of ours; this stream then reads no more application data (ReadSome
  // drains), which is the price of a half-close here.
  SSL_set_shutdown(ssl_, SSL_get_shutdown(ssl_) | SSL_RECEIVED_SHUTDOWN);
  error_code ec = co_await Drive([this] {
    int r = SSL_shutdown(ssl_);
    return r >= 0 ? 1 : r;
  });
  (void)ec;  // the peer may be gone already; the FIN below is what matters then
  error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_send, ignored);
}

void TlsByteStream::Reset() {
  auto& sock = socket_;
  error_code ignored;
  bio_state_.fd = -1;  // a later SSL call fails with EBADF, never reads a reused descriptor
  if (!sock.is_open()) return;
  sock.set_option(net::socket_base::linger(true, 0), ignored);
  sock.close(ignored);
}

void TlsByteStream::Close() {
  bio_state_.fd = -1;
  error_code ignored;
  socket_.close(ignored);
}

}  // namespace relaytap::proxy

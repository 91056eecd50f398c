#include "proxy/byte_stream.h"

namespace relaytap::proxy {
namespace {

void ApplyTimeout(TcpStream& s, std::chrono::milliseconds t) {
  if (t.count() > 0) {
    s.expires_after(t);
  } else {
    s.expires_never();
  }
}

void ResetSocket(TcpStream::socket_type& sock) {
  error_code ignored;
  if (!sock.is_open()) return;
  sock.set_option(net::socket_base::linger(true, 0), ignored);
  sock.close(ignored);
}

class TcpByteStream final : public ByteStream {
 public:
  explicit TcpByteStream(TcpStream&& s) : stream_(std::move(s)) {}

  net::awaitable<std::tuple<error_code, size_t>> ReadSome(net::mutable_buffer buf) override {
    if (timeout_.count() > 0) stream_.expires_after(timeout_);
    co_return co_await stream_.async_read_some(buf);
  }
  bool HasBufferedInput() const override { return false; }
  net::awaitable<error_code> WaitReadable() override {
    auto [ec] = co_await stream_.socket().async_wait(tcp::socket::wait_read, Token{});
    co_return ec;
  }
  net::awaitable<std::tuple<error_code, size_t>> WriteAll(net::const_buffer buf) override {
    if (timeout_.count() > 0) stream_.expires_after(timeout_);
    co_return co_await net::async_write(stream_, buf);
  }
  void SetTimeout(std::chrono::milliseconds t) override {
    timeout_ = t;
    ApplyTimeout(stream_, t);
  }
  net::awaitable<void> ShutdownSend() override {
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    co_return;
  }
  void Reset() override { ResetSocket(stream_.socket()); }
  void Close() override {
    error_code ignored;
    stream_.socket().close(ignored);
  }
  bool is_tls() const override { return false; }
  TcpStream& tcp() override { return stream_; }

 private:
  TcpStream stream_;
  std::chrono::milliseconds timeout_{0};
};

class SslByteStream final : public ByteStream {
 public:
  explicit SslByteStream(std::unique_ptr<SslStream> s) : stream_(std::move(s)) {}

  net::awaitable<std::tuple<error_code, size_t>> ReadSome(net::mutable_buffer buf) override {
    if (timeout_.count() > 0) stream_->next_layer().expires_after(timeout_);
    SSL* ssl = stream_->native_handle();
    if ((SSL_get_shutdown(ssl) & SSL_RECEIVED_SHUTDOWN) != 0 && !HasBufferedInput()) {
      // After ShutdownSend OpenSSL answers end-of-stream without touching the socket. Wait for
      // (and drop) the peer's next bytes, its close_notify, as a read pending across the
      // half-close does: closing with them unread would send an RST instead of a FIN.
      auto [ec, n] = co_await stream_->next_layer().async_read_some(buf);
      (void)n;
      co_return std::make_tuple(ec ? ec : error_code(net::error::eof), size_t{0});
    }
    co_return co_await stream_->async_read_some(buf, Token{});
  }
  // Received bytes can wait in two places: OpenSSL's record layer (a record not yet returned in
  // full, or unprocessed records) and the memory BIO Asio feeds it from. Asio's own input buffer
  // is always empty between reads: it writes into the BIO only when OpenSSL wants more input,
  // which means OpenSSL drained the BIO, and both hold one 17 KiB record.
  bool HasBufferedInput() const override {
    SSL* ssl = const_cast<SslStream&>(*stream_).native_handle();
    return SSL_has_pending(ssl) == 1 || BIO_pending(SSL_get_rbio(ssl)) > 0;
  }
  net::awaitable<error_code> WaitReadable() override {
    auto [ec] = co_await stream_->next_layer().socket().async_wait(tcp::socket::wait_read,
                                                                   Token{});
    co_return ec;
  }
  net::awaitable<std::tuple<error_code, size_t>> WriteAll(net::const_buffer buf) override {
    if (timeout_.count() > 0) stream_->next_layer().expires_after(timeout_);
    co_return co_await net::async_write(*stream_, buf, Token{});
  }
  void SetTimeout(std::chrono::milliseconds t) override {
    timeout_ = t;
    ApplyTimeout(stream_->next_layer(), t);
  }
  net::awaitable<void> ShutdownSend() override {
    if (shut_down_) co_return;
    shut_down_ = true;
    // TLS has no half-close: SSL_shutdown would wait for the peer's close_notify with a read that
    // races the other direction's pump. Marking the peer's close_notify as received makes the
    // shutdown a pure write of ours (Asio's io_op serialises it with a pending read); that
    // direction then reads no more application data, which is the price of a half-close here.
    SSL* ssl = stream_->native_handle();
    SSL_set_shutdown(ssl, SSL_get_shutdown(ssl) | SSL_RECEIVED_SHUTDOWN);
    auto [ec] = co_await stream_->async_shutdown(Token{});
    (void)ec;  // the peer may be gone already; the FIN below is what matters then
    error_code ignored;
    stream_->next_layer().socket().shutdown(tcp::socket::shutdown_send, ignored);
  }
  void Reset() override { ResetSocket(stream_->next_layer().socket()); }
  void Close() override {
    error_code ignored;
    stream_->next_layer().socket().close(ignored);
  }
  bool is_tls() const override { return true; }
  TcpStream& tcp() override { return stream_->next_layer(); }

 private:
  std::unique_ptr<SslStream> stream_;
  std::chrono::milliseconds timeout_{0};
  bool shut_down_ = false;
};

}  // namespace

std::unique_ptr<ByteStream> MakeTcpByteStream(TcpStream&& stream) {
  return std::make_unique<TcpByteStream>(std::move(stream));
}

std::unique_ptr<ByteStream> MakeSslByteStream(std::unique_ptr<SslStream> stream) {
  return std::make_unique<SslByteStream>(std::move(stream));
}

}  // namespace relaytap::proxy

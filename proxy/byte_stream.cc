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
    co_return co_await stream_->async_read_some(buf, Token{});
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

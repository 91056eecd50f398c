#include "proxy/stream/byte_stream.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>

#include "proxy/stream/errors.h"

namespace relaytap::proxy {
namespace {

using namespace net::experimental::awaitable_operators;

void ApplyTimeout(TcpStream& s, std::chrono::milliseconds t) {
  if (t.count() > 0) {
    s.expires_after(t);
  } else {
    s.expires_never();
  }
}

// errno after a failed recv/send as TryReadSome/TryWriteSome report it: Asio's error codes are
// errno values in the system category.
ByteStream::TryResult TryFailure(ByteStream::Try would_block) {
  const int err = errno;
  if (IsRetryableErrno(err)) return {would_block, {}, 0};
  return {ByteStream::Try::kFailed, error_code(err, net::error::get_system_category()), 0};
}

void ResetSocket(TcpStream::socket_type& sock) {
  error_code ignored;
  if (!sock.is_open()) return;
  sock.set_option(net::socket_base::linger(true, 0), ignored);
  sock.close(ignored);
}

class TcpByteStream final : public ByteStream {
 public:
  explicit TcpByteStream(TcpSocket&& s) : stream_(std::move(s)) {}

  // A read times out by a raced timer, as in TlsByteStream, not by tcp_stream's expiry, which
  // closes the socket: a request head that took too long must still get its 408.
  Awaitable<std::tuple<error_code, size_t>> ReadSome(net::mutable_buffer buf) override {
    if (timeout_.count() == 0) co_return co_await stream_.socket().async_read_some(buf, Token{});
    Timer timer(stream_.get_executor());
    timer.expires_after(timeout_);
    auto raced = co_await (stream_.socket().async_read_some(buf, Token{}) || timer.async_wait());
    if (raced.index() == 1) co_return std::make_tuple(error_code(beast::error::timeout), size_t{0});
    co_return std::get<0>(raced);
  }
  bool HasBufferedInput() const override { return false; }
  Awaitable<std::tuple<error_code>> WaitReadable() override {
    return stream_.socket().async_wait(tcp::socket::wait_read, Token{});
  }
  Awaitable<std::tuple<error_code, size_t>> WriteAll(net::const_buffer buf) override {
    if (timeout_.count() > 0) stream_.expires_after(timeout_);
    co_return co_await net::async_write(stream_, buf);
  }
  // As Asio's own reads and writes: a closed socket is bad_descriptor, 0 bytes read is eof, no
  // SIGPIPE.
  bool tries() const override { return true; }
  TryResult TryReadSome(net::mutable_buffer buf) override {
    auto& sock = stream_.socket();
    if (!sock.is_open()) return {Try::kFailed, net::error::bad_descriptor, 0};
    ssize_t n = ::recv(sock.native_handle(), buf.data(), buf.size(), MSG_DONTWAIT);
    if (n > 0) return {Try::kDone, {}, static_cast<size_t>(n)};
    if (n == 0) return {Try::kFailed, net::error::eof, 0};
    return TryFailure(Try::kWantRead);
  }
  TryResult TryWriteSome(net::const_buffer buf) override {
    auto& sock = stream_.socket();
    if (!sock.is_open()) return {Try::kFailed, net::error::bad_descriptor, 0};
    ssize_t n = ::send(sock.native_handle(), buf.data(), buf.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n >= 0) return {Try::kDone, {}, static_cast<size_t>(n)};
    return TryFailure(Try::kWantWrite);
  }
  void SetTimeout(std::chrono::milliseconds t) override {
    timeout_ = t;
    ApplyTimeout(stream_, t);  // writes
  }
  Awaitable<void> ShutdownSend() override {
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
  TcpSocket& socket() override { return stream_.socket(); }

 private:
  TcpStream stream_;
  std::chrono::milliseconds timeout_{0};
};

}  // namespace

std::unique_ptr<ByteStream> MakeTcpByteStream(TcpSocket&& socket) {
  return std::make_unique<TcpByteStream>(std::move(socket));
}

void EnableKeepAlive(ByteStream& s) {
  auto& sock = s.socket();
  error_code ignored;
  sock.set_option(net::socket_base::keep_alive(true), ignored);
  int fd = sock.native_handle();
  int idle = 60, interval = 15, count = 4;
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(interval));
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count));
}

}  // namespace relaytap::proxy

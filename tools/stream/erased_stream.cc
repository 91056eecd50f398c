#include "tools/stream/erased_stream.h"

#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/teardown.hpp>

namespace relaytap::tools {

namespace {

// Asio's and Beast's composed operations post to their handler's executor with blocking.never,
// which Boost 1.81's any_completion_executor (an erased handler's) cannot take: handlers
// complete on the stream's executor instead, the one their coroutine runs on in the tools.
template <class Handler>
auto OnStreamExecutor(TcpStream& tcp, Handler handler) {
  return net::bind_executor(tcp.get_executor(), std::move(handler));
}

}  // namespace

void ErasedStream::ReadSome(const Buffers<net::mutable_buffer>& buffers, IoHandler handler) {
  if (tls_ != nullptr) {
    tls_->async_read_some(buffers, OnStreamExecutor(*tcp_, std::move(handler)));
  } else {
    tcp_->async_read_some(buffers, OnStreamExecutor(*tcp_, std::move(handler)));
  }
}

void ErasedStream::WriteSome(const Buffers<net::const_buffer>& buffers, IoHandler handler) {
  if (tls_ != nullptr) {
    tls_->async_write_some(buffers, OnStreamExecutor(*tcp_, std::move(handler)));
  } else {
    tcp_->async_write_some(buffers, OnStreamExecutor(*tcp_, std::move(handler)));
  }
}

void ErasedStream::Teardown(beast::role_type role, error_code& ec) {
  using beast::teardown;
  using beast::websocket::teardown;
  if (tls_ != nullptr) {
    teardown(role, *tls_, ec);
  } else {
    teardown(role, tcp_->socket(), ec);
  }
}

void ErasedStream::AsyncTeardown(beast::role_type role, TeardownHandler handler) {
  using beast::async_teardown;
  using beast::websocket::async_teardown;
  auto bound = OnStreamExecutor(*tcp_, std::move(handler));
  if (tls_ != nullptr) {
    async_teardown(role, *tls_, std::move(bound));
  } else {
    async_teardown(role, *tcp_, std::move(bound));
  }
}

void teardown(beast::role_type role, ErasedStream& stream, error_code& ec) {
  stream.Teardown(role, ec);
}

}  // namespace relaytap::tools

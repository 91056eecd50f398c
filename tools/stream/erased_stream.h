#pragma once
// One stream type for a plain TCP or a TLS connection, for the tools that serve both (the fake
// upstream and replay). Beast's HTTP and WebSocket algorithms are templates over the stream and
// over every handler they are given: compiled once for TcpStream and again for SslStream, they
// were most of the tools' compile time. Over ErasedStream they are compiled once, and the TCP and
// TLS reads, writes and teardowns are compiled once in erased_stream.cc, for a type-erased
// handler (net::any_completion_handler). The cost is one small allocation per read or write,
// which the tools can afford and the relay (proxy/stream) does not pay.
//
// Like the streams it wraps, one read and one write may be in flight at a time.

#include <array>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/beast/core/role.hpp>
#include <cstddef>

#include "tools/stream/strand_net.h"

namespace relaytap::tools {

class ErasedStream {
 public:
  using executor_type = TcpStream::executor_type;
  using IoHandler = net::any_completion_handler<void(error_code, std::size_t)>;
  using TeardownHandler = net::any_completion_handler<void(error_code)>;

  // At most this many buffers of a sequence go to one read or write: a partial read or write is
  // what read_some and write_some may always do, and the caller's loop sends the rest.
  static constexpr std::size_t kMaxBuffers = 16;
  template <class Buffer>
  struct Buffers {
    std::array<Buffer, kMaxBuffers> items;
    std::size_t count = 0;
    const Buffer* begin() const { return items.data(); }
    const Buffer* end() const { return items.data() + count; }
  };

  explicit ErasedStream(TcpStream& tcp) : tcp_(&tcp) {}
  explicit ErasedStream(SslStream& tls) : tcp_(&tls.next_layer()), tls_(&tls) {}

  executor_type get_executor() { return tcp_->get_executor(); }
  // beast::get_lowest_layer(stream) is the TCP stream: its timeouts and its socket.
  TcpStream& next_layer() { return *tcp_; }
  // The TLS stream, or null for plain TCP.
  SslStream* tls() { return tls_; }

  template <class MutableBuffers,
            class CompletionToken = net::default_completion_token_t<executor_type>>
  auto async_read_some(const MutableBuffers& buffers, CompletionToken&& token = {}) {
    return net::async_initiate<CompletionToken, void(error_code, std::size_t)>(
        [this](IoHandler handler, const MutableBuffers& b) {
          ReadSome(Collect<net::mutable_buffer>(b), std::move(handler));
        },
        token, buffers);
  }

  template <class ConstBuffers,
            class CompletionToken = net::default_completion_token_t<executor_type>>
  auto async_write_some(const ConstBuffers& buffers, CompletionToken&& token = {}) {
    return net::async_initiate<CompletionToken, void(error_code, std::size_t)>(
        [this](IoHandler handler, const ConstBuffers& b) {
          WriteSome(Collect<net::const_buffer>(b), std::move(handler));
        },
        token, buffers);
  }

  void ReadSome(const Buffers<net::mutable_buffer>& buffers, IoHandler handler);
  void WriteSome(const Buffers<net::const_buffer>& buffers, IoHandler handler);
  // The WebSocket closing handshake's last step (RFC 6455 7.1.1), as Beast does it for the
  // wrapped stream.
  void Teardown(beast::role_type role, error_code& ec);
  void AsyncTeardown(beast::role_type role, TeardownHandler handler);

 private:
  // The first kMaxBuffers non-empty buffers (an empty one would make a write loop spin).
  template <class Buffer, class Sequence>
  static Buffers<Buffer> Collect(const Sequence& sequence) {
    Buffers<Buffer> out;
    for (auto it = net::buffer_sequence_begin(sequence);
         it != net::buffer_sequence_end(sequence) && out.count < kMaxBuffers; ++it) {
      Buffer b(*it);
      if (b.size() > 0) out.items[out.count++] = b;
    }
    return out;
  }

  TcpStream* tcp_;
  SslStream* tls_ = nullptr;
};

// Found by Beast's WebSocket stream through argument-dependent lookup.
void teardown(beast::role_type role, ErasedStream& stream, error_code& ec);

template <class Handler>
void async_teardown(beast::role_type role, ErasedStream& stream, Handler&& handler) {
  stream.AsyncTeardown(role, ErasedStream::TeardownHandler(std::forward<Handler>(handler)));
}

}  // namespace relaytap::tools

#pragma once
// The only place with namespace aliases and the stream vocabulary. Every co_await yields
// (error_code, ...) through as_tuple, so I/O never throws.
//
// The proxy runs one io_context per thread (server.h), so its coroutines, sockets and timers
// carry the io_context's own executor rather than the type-erased any_io_executor: 8 bytes
// instead of 48 in every socket, timer, pending operation and spawned coroutine, and no
// type-erased call on each completion (executor_function::complete was 1.2 % of the proxy's CPU at
// cadence). Tools that run several threads on strands (the fake upstream, replay, the bench)
// have the type-erased vocabulary of tools/stream/strand_net.h instead.

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>

namespace relaytap {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using error_code = boost::system::error_code;

using Executor = net::io_context::executor_type;
template <typename T = void>
using Awaitable = net::awaitable<T, Executor>;
using Token = net::as_tuple_t<net::use_awaitable_t<Executor>>;
using TcpSocket = Token::as_default_on_t<net::basic_stream_socket<tcp, Executor>>;
using TcpStream = beast::basic_stream<tcp, Token::executor_with_default<Executor>>;
using SslStream = ssl::stream<TcpStream>;
using Acceptor = Token::as_default_on_t<net::basic_socket_acceptor<tcp, Executor>>;
using Resolver = Token::as_default_on_t<net::ip::basic_resolver<tcp, Executor>>;
using Timer = Token::as_default_on_t<net::basic_waitable_timer<
    std::chrono::steady_clock, net::wait_traits<std::chrono::steady_clock>, Executor>>;

}  // namespace relaytap

#pragma once
// The only place with namespace aliases and the stream vocabulary. Every co_await yields
// (error_code, ...) through as_tuple, so I/O never throws.

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace relaytap {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using error_code = boost::system::error_code;

using Token = net::as_tuple_t<net::use_awaitable_t<>>;
using Executor = net::any_io_executor;
using TcpSocket = Token::as_default_on_t<tcp::socket>;
using TcpStream = beast::basic_stream<tcp, Token::executor_with_default<Executor>>;
using SslStream = ssl::stream<TcpStream>;
using Acceptor = Token::as_default_on_t<tcp::acceptor>;
using Resolver = Token::as_default_on_t<tcp::resolver>;
using Timer = Token::as_default_on_t<net::steady_timer>;

}  // namespace relaytap

#pragma once
// The stream vocabulary of the tools that run one io_context on several threads and keep each
// connection on a strand (the fake upstream, the replay server, the bench's upstream and load
// generator): the type-erased executor, which a strand converts to. Names here hide the proxy's
// (proxy/stream/net.h, the io_context's own executor) inside namespace relaytap::tools; their
// coroutines are plain net::awaitable<T>.

#include "proxy/stream/net.h"

namespace relaytap::tools {

using Executor = net::any_io_executor;
using Token = net::as_tuple_t<net::use_awaitable_t<>>;
using TcpStream = beast::basic_stream<tcp, Token::executor_with_default<Executor>>;
using SslStream = ssl::stream<TcpStream>;
using Acceptor = Token::as_default_on_t<tcp::acceptor>;
using Resolver = Token::as_default_on_t<tcp::resolver>;
using Timer = Token::as_default_on_t<net::steady_timer>;

}  // namespace relaytap::tools

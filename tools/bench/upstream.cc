#include "tools/bench/upstream.h"

#include <boost/asio/signal_set.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <iostream>
#include <thread>
#include <vector>

#include "tools/bench/client.h"
#include "tools/stream/strand_net.h"

namespace relaytap::tools::bench {
namespace {

namespace websocket = beast::websocket;

constexpr std::string_view kJsonAnswer =
    R"({"id":"chatcmpl-bench","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,)"
    R"("message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],)"
    R"("usage":{"prompt_tokens":9,"completion_tokens":1,"total_tokens":10}})";

net::awaitable<void> Echo(SslStream& stream, http::request<http::string_body> upgrade) {
  websocket::stream<SslStream&> ws(stream);
  ws.read_message_max(64 << 20);
  ws.auto_fragment(false);
  ws.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
    res.set(http::field::sec_websocket_protocol, "realtime");
  }));
  auto [aec] = co_await ws.async_accept(upgrade);
  if (aec) co_return;
  beast::flat_buffer buffer;
  for (;;) {
    buffer.clear();
    auto [rec, n] = co_await ws.async_read(buffer);
    if (rec) co_return;
    ws.text(ws.got_text());
    auto [wec, wn] = co_await ws.async_write(buffer.data());
    if (wec) co_return;
  }
}

net::awaitable<void> ServeSse(SslStream& stream, const UpstreamOptions& options) {
  std::string head =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
      "Connection: close\r\n\r\n";
  auto [hec, hn] = co_await net::async_write(stream, net::buffer(head));
  if (hec) co_return;
  Timer timer(stream.get_executor());
  for (int i = 0; i < options.sse_events; ++i) {
    if (i > 0) {
      timer.expires_after(std::chrono::milliseconds(options.sse_gap_ms));
      co_await timer.async_wait();
    }
    std::string event =
        "data: {\"id\":\"chatcmpl-bench\",\"choices\":[{\"index\":0,\"delta\":"
        "{\"content\":\"tok" +
        std::to_string(i) + "\"}}]}\n\n";
    auto [ec, n] = co_await net::async_write(stream, net::buffer(event));
    if (ec) co_return;
  }
  std::string done = "data: [DONE]\n\n";
  co_await net::async_write(stream, net::buffer(done));
  co_await stream.async_shutdown();
}

net::awaitable<void> Serve(TcpStream tcp_stream, ssl::context& ctx,
                           const UpstreamOptions& options) {
  tcp_stream.socket().set_option(tcp::no_delay(true));
  SslStream stream(std::move(tcp_stream), ctx);
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(30));
  auto [hec] = co_await stream.async_handshake(ssl::stream_base::server);
  if (hec) co_return;
  beast::flat_buffer buffer;
  for (;;) {
    beast::get_lowest_layer(stream).expires_never();
    http::request<http::string_body> req;
    auto [rec, rn] = co_await http::async_read(stream, buffer, req);
    if (rec) co_return;
    if (websocket::is_upgrade(req)) co_return co_await Echo(stream, std::move(req));
    if (req.body().find("\"stream\":true") != std::string::npos) {
      co_return co_await ServeSse(stream, options);
    }
    http::response<http::string_body> res(http::status::ok, req.version());
    res.set(http::field::content_type, "application/json");
    res.set("apim-request-id", "00000000-0000-4000-8000-000000000000");
    res.body() = kJsonAnswer;
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    auto [wec, wn] = co_await http::async_write(stream, res);
    if (wec || !req.keep_alive()) co_return;
  }
}

net::awaitable<void> AcceptLoop(Acceptor& acceptor, ssl::context& ctx,
                                const UpstreamOptions& options) {
  for (;;) {
    TcpStream stream(net::make_strand(acceptor.get_executor()));
    auto [ec] = co_await acceptor.async_accept(stream.socket());
    if (ec == net::error::operation_aborted) co_return;
    if (ec) continue;  // e.g. EMFILE: keep serving the sessions that exist
    auto ex = stream.get_executor();
    net::co_spawn(ex, Serve(std::move(stream), ctx, options), net::detached);
  }
}

}  // namespace

int RunUpstream(const UpstreamOptions& options) {
  auto listen = ParseEndpoint(options.listen);
  if (!listen.ok()) {
    std::cerr << "relaytap_loadgen upstream: " << listen.status().message() << "\n";
    return 2;
  }
  ssl::context ctx(ssl::context::tls_server);
  error_code ec;
  ctx.use_certificate_chain_file(options.cert_file, ec);
  if (!ec) ctx.use_private_key_file(options.key_file, ssl::context::pem, ec);
  if (ec) {
    std::cerr << "relaytap_loadgen upstream: certificate/key: " << ec.message() << "\n";
    return 2;
  }
  net::io_context ioc;
  Acceptor acceptor(net::make_strand(ioc));
  tcp::endpoint endpoint(
      net::ip::make_address(listen->host == "localhost" ? "127.0.0.1" : listen->host, ec),
      listen->port);
  if (!ec) acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(4096, ec);
  if (ec) {
    std::cerr << "relaytap_loadgen upstream: listen " << options.listen << ": " << ec.message()
              << "\n";
    return 1;
  }
  std::cout << "listening on " << endpoint.address().to_string() << ":"
            << acceptor.local_endpoint().port() << std::endl;
  net::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const error_code&, int) { ioc.stop(); });
  net::co_spawn(acceptor.get_executor(), AcceptLoop(acceptor, ctx, options), net::detached);
  std::vector<std::thread> threads;
  for (int i = 1; i < options.threads; ++i) threads.emplace_back([&] { ioc.run(); });
  ioc.run();
  for (std::thread& t : threads) t.join();
  return 0;
}

}  // namespace relaytap::tools::bench

// The HTTP workload: small JSON POSTs over keep-alive connections, then SSE time to first event.
#include <atomic>
#include <thread>
#include <vector>

#include "tools/bench/stats.h"
#include "tools/bench/workloads.h"

namespace relaytap::tools::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kPath =
    "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";
constexpr std::string_view kBody =
    R"({"messages":[{"role":"system","content":"You are terse."},)"
    R"({"role":"user","content":"Say ok."}],"max_tokens":5,"temperature":0})";
constexpr std::string_view kStreamBody =
    R"({"messages":[{"role":"user","content":"Say ok."}],"max_tokens":5,"stream":true})";

http::request<http::string_body> MakeRequest(const Endpoint& target, std::string_view body) {
  http::request<http::string_body> req(http::verb::post, kPath, 11);
  req.set(http::field::host, target.host + ":" + std::to_string(target.port));
  req.set(http::field::content_type, "application/json");
  req.set("api-key", "bench-not-a-secret");
  req.keep_alive(true);
  req.body() = body;
  req.prepare_payload();
  return req;
}

struct HttpState {
  HttpState(const RunOptions& o, ssl::context& c) : options(o), ctx(c) {}
  const RunOptions& options;
  ssl::context& ctx;
  Clock::time_point stop;
  std::mutex mu;
  Latencies latencies;
  uint64_t ok = 0, failed = 0;
  std::vector<std::string> errors;
};

net::awaitable<void> PostLoop(HttpState& s) {
  auto tls = co_await ConnectTls(co_await net::this_coro::executor, s.ctx, s.options.client);
  if (!tls.ok()) {
    std::lock_guard lock(s.mu);
    ++s.failed;
    if (s.errors.size() < 5) s.errors.emplace_back(tls.status().message());
    co_return;
  }
  SslStream& stream = **tls;
  const auto req = MakeRequest(s.options.client.target, kBody);
  beast::flat_buffer buffer;
  Latencies mine;
  uint64_t ok = 0, failed = 0;
  while (Clock::now() < s.stop) {
    const Clock::time_point begin = Clock::now();
    auto [wec, wn] = co_await http::async_write(stream, req);
    if (wec) {
      ++failed;
      break;
    }
    http::response<http::string_body> res;
    auto [rec, rn] = co_await http::async_read(stream, buffer, res);
    if (rec || res.result() != http::status::ok) {
      ++failed;
      break;
    }
    mine.Add((Clock::now() - begin).count());
    ++ok;
  }
  std::lock_guard lock(s.mu);
  s.latencies.Merge(mine);
  s.ok += ok;
  s.failed += failed;
}

// One SSE request on a new connection; the time from writing the request to the first event.
net::awaitable<std::optional<int64_t>> FirstEvent(const RunOptions& options, ssl::context& ctx) {
  auto tls = co_await ConnectTls(co_await net::this_coro::executor, ctx, options.client);
  if (!tls.ok()) co_return std::nullopt;
  SslStream& stream = **tls;
  const auto req = MakeRequest(options.client.target, kStreamBody);
  const Clock::time_point begin = Clock::now();
  auto [wec, wn] = co_await http::async_write(stream, req);
  if (wec) co_return std::nullopt;
  std::string seen;
  char chunk[4096];
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(30));
  for (;;) {
    auto [ec, n] = co_await stream.async_read_some(net::buffer(chunk));
    if (ec) co_return std::nullopt;
    seen.append(chunk, n);
    size_t head_end = seen.find("\r\n\r\n");
    if (head_end == std::string::npos) continue;
    // The first event ends at the first blank line of the body (chunked framing or not).
    if (seen.find("data:", head_end) != std::string::npos &&
        seen.find("\n\n", seen.find("data:", head_end)) != std::string::npos) {
      co_return (Clock::now() - begin).count();
    }
  }
}

}  // namespace

nlohmann::json RunHttp(const RunOptions& options) {
  auto ctx = MakeClientContext(options.ca_file);
  if (!ctx.ok()) throw std::runtime_error(std::string(ctx.status().message()));
  net::io_context ioc;
  nlohmann::json out = {{"workload", "http"}, {"connections", options.sessions}};
  HttpState state(options, **ctx);
  const Clock::time_point start = Clock::now();
  state.stop = start + std::chrono::milliseconds(static_cast<int64_t>(options.duration_s * 1000));
  for (int i = 0; i < options.sessions; ++i) {
    net::co_spawn(net::make_strand(ioc), PostLoop(state), net::detached);
  }
  std::vector<std::thread> threads;
  for (int i = 1; i < options.threads; ++i) threads.emplace_back([&] { ioc.run(); });
  ioc.run();
  for (std::thread& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  out["requests_ok"] = state.ok;
  out["requests_failed"] = state.failed;
  out["req_per_s"] = static_cast<double>(state.ok) / seconds;
  out["p50_ms"] = state.latencies.Percentile(50) / 1e6;
  out["p99_ms"] = state.latencies.Percentile(99) / 1e6;
  out["errors"] = state.errors;

  Latencies ttfe;
  int sse_failed = 0;
  net::co_spawn(
      ioc,
      [&]() -> net::awaitable<void> {
        for (int i = 0; i < options.sse_requests; ++i) {
          std::optional<int64_t> ns = co_await FirstEvent(options, **ctx);
          if (ns)
            ttfe.Add(*ns);
          else
            ++sse_failed;
        }
      },
      net::detached);
  ioc.restart();
  ioc.run();
  out["sse_ttfe_p50_ms"] = ttfe.Percentile(50) / 1e6;
  out["sse_ttfe_max_ms"] = ttfe.Max() / 1e6;
  out["sse_ok"] = ttfe.count();
  out["sse_failed"] = sse_failed;
  return out;
}

}  // namespace relaytap::tools::bench

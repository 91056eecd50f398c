#include "tools/bench/workloads.h"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <random>
#include <thread>
#include <vector>

#include "tools/bench/stats.h"

namespace relaytap::tools::bench {
namespace {

using namespace net::experimental::awaitable_operators;
using Clock = std::chrono::steady_clock;

// What every workload shares: the io_context, TLS context, the message body, /proc readings.
struct Harness {
  explicit Harness(const RunOptions& o) : options(o) {
    auto made = MakeClientContext(o.ca_file);
    if (!made.ok()) throw std::runtime_error(std::string(made.status().message()));
    ctx = std::move(*made);
    std::mt19937_64 rng(42);
    std::string audio(kAudioBytes, '\0');
    for (char& c : audio) c = static_cast<char>(rng() & 0xff);
    audio_base64 = Base64(audio);
  }
  // Runs the io_context on options.threads threads until it has no work.
  void Run() {
    ioc.restart();
    std::vector<std::thread> threads;
    for (int i = 1; i < options.threads; ++i) threads.emplace_back([this] { ioc.run(); });
    ioc.run();
    for (std::thread& t : threads) t.join();
  }
  void Sample(nlohmann::json& out, const char* key) const {
    if (options.watch_pid <= 0) return;
    out[key]["rss_kib"] = ReadRssKib(options.watch_pid).value_or(-1);
    out[key]["cpu_s"] = ReadCpuSeconds(options.watch_pid).value_or(-1);
  }

  const RunOptions& options;
  net::io_context ioc;
  std::unique_ptr<ssl::context> ctx;
  std::string audio_base64;
  std::mutex mu;
  std::vector<std::string> errors;  // first few connection errors
  void AddError(std::string e) {
    std::lock_guard lock(mu);
    if (errors.size() < 5) errors.push_back(std::move(e));
  }
};

// Opens options.sessions WebSockets with at most open_concurrency handshakes in flight.
std::vector<std::unique_ptr<Ws>> OpenSessions(Harness& h) {
  std::vector<std::unique_ptr<Ws>> sessions(h.options.sessions);
  std::atomic<size_t> next{0};
  auto worker = [&]() -> net::awaitable<void> {
    for (size_t i; (i = next++) < sessions.size();) {
      auto ws = co_await ConnectWs(co_await net::this_coro::executor, *h.ctx, h.options.client);
      if (ws.ok()) {
        sessions[i] = std::move(*ws);
      } else {
        h.AddError(std::string(ws.status().message()));
      }
    }
  };
  for (int w = 0; w < std::max(1, h.options.open_concurrency); ++w) {
    net::co_spawn(net::make_strand(h.ioc), worker(), net::detached);
  }
  h.Run();
  return sessions;
}

size_t CountOpen(const std::vector<std::unique_ptr<Ws>>& sessions) {
  return std::count_if(sessions.begin(), sessions.end(), [](const auto& s) { return !!s; });
}

// One traffic session: a writer (paced or windowed) and a reader of echoes.
class Traffic {
 public:
  Traffic(Harness& h, Ws& ws, uint32_t id, Clock::time_point start, Clock::time_point stop)
      : h_(h), ws_(ws), id_(id), start_(start), stop_(stop), wake_(ws.get_executor()) {}

  net::awaitable<void> Run() { co_await (Write() && Read()); }

  Latencies latencies;
  uint64_t sent = 0, received = 0, bytes_sent = 0, bytes_received = 0, bad = 0;
  uint64_t unsent = 0;  // paced: due before the end but not sent by then
  int64_t max_send_lag_ns = 0;
  Clock::time_point last_receive;

 private:
  net::awaitable<void> Write();
  net::awaitable<void> Read();
  net::awaitable<void> WaitWake(Clock::time_point until) {
    wake_.expires_at(until);
    co_await wake_.async_wait();
  }

  Harness& h_;
  Ws& ws_;
  uint32_t id_;
  Clock::time_point start_, stop_;
  Timer wake_;
  std::vector<Clock::time_point> scheduled_;
  bool writing_ = true;
};

net::awaitable<void> Traffic::Write() {
  const int interval = h_.options.interval_ms;
  const auto step = std::chrono::milliseconds(interval);
  const auto offset = interval > 0 ? step * id_ / std::max(1, h_.options.sessions) : step * 0;
  ws_.text(true);
  for (uint64_t seq = 0;; ++seq) {
    Clock::time_point due = start_ + offset + step * seq;
    if (interval > 0) {
      if (due >= stop_) break;
      if (Clock::now() >= stop_) {  // behind schedule at the end: count, do not catch up
        unsent = static_cast<uint64_t>((stop_ - due + step - std::chrono::nanoseconds(1)) / step);
        break;
      }
      while (Clock::now() < due) co_await WaitWake(due);  // the reader's wake-ups end early
    } else {
      if (Clock::now() >= stop_) break;
      while (sent - received >= static_cast<uint64_t>(h_.options.window)) co_await WaitWake(stop_);
      if (Clock::now() >= stop_) break;
      due = Clock::now();
    }
    max_send_lag_ns = std::max<int64_t>(max_send_lag_ns, (Clock::now() - due).count());
    scheduled_.push_back(due);
    std::string message = AppendMessage(id_, seq, h_.audio_base64);
    auto [ec, n] = co_await ws_.async_write(net::buffer(message));
    if (ec) break;
    ++sent;
    bytes_sent += message.size();
  }
  writing_ = false;
  const Clock::time_point drain_until =
      Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(h_.options.drain_s * 1000));
  while (received < sent && Clock::now() < drain_until) co_await WaitWake(drain_until);
  beast::get_lowest_layer(ws_).expires_after(std::chrono::seconds(5));
  co_await ws_.async_close(beast::websocket::close_code::normal);
}

net::awaitable<void> Traffic::Read() {
  beast::flat_buffer buffer;
  for (;;) {
    buffer.clear();
    auto [ec, n] = co_await ws_.async_read(buffer);
    if (ec) co_return;
    Clock::time_point now = Clock::now();
    std::string_view text(static_cast<const char*>(buffer.data().data()), buffer.size());
    std::optional<uint64_t> seq = ParseSeq(text);
    if (!seq || *seq >= scheduled_.size()) {
      ++bad;
      continue;
    }
    latencies.Add((now - scheduled_[*seq]).count());
    ++received;
    bytes_received += n;
    last_receive = now;
    wake_.cancel();
  }
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }
double Ms(int64_t ns) { return static_cast<double>(ns) / 1e6; }

nlohmann::json LatencyJson(const Latencies& l) {
  return {{"p50_ms", Ms(l.Percentile(50))},
          {"p99_ms", Ms(l.Percentile(99))},
          {"p999_ms", Ms(l.Percentile(99.9))},
          {"max_ms", Ms(l.Max())},
          {"count", l.count()},
          {"delayed_over_100ms", l.CountAbove(100'000'000)}};
}

void AddCpu(nlohmann::json& out, uint64_t bytes) {
  if (!out.contains("before") || !out.contains("after")) return;
  double cpu = out["after"]["cpu_s"].get<double>() - out["before"]["cpu_s"].get<double>();
  out["proxy_cpu_s"] = cpu;
  if (bytes > 0) out["proxy_cpu_s_per_gb"] = cpu / (static_cast<double>(bytes) / 1e9);
}

// Opens the sessions, runs Traffic on each from a common start, sums the figures.
nlohmann::json RunTraffic(const RunOptions& options, const char* name) {
  Harness h(options);
  auto sessions = OpenSessions(h);
  nlohmann::json out = {
      {"workload", name}, {"sessions", options.sessions}, {"opened", CountOpen(sessions)}};
  const Clock::time_point start = Clock::now() + std::chrono::milliseconds(100);
  const Clock::time_point stop =
      start + std::chrono::milliseconds(static_cast<int64_t>(options.duration_s * 1000));
  std::vector<std::unique_ptr<Traffic>> traffic;
  h.Sample(out, "before");
  for (size_t i = 0; i < sessions.size(); ++i) {
    if (!sessions[i]) continue;
    traffic.push_back(std::make_unique<Traffic>(h, *sessions[i], i, start, stop));
    net::co_spawn(sessions[i]->get_executor(), traffic.back()->Run(), net::detached);
  }
  h.Run();
  h.Sample(out, "after");
  Latencies all;
  uint64_t sent = 0, received = 0, bytes = 0, bad = 0, unsent = 0;
  int64_t lag = 0;
  Clock::time_point last = start;
  for (const auto& t : traffic) {
    all.Merge(t->latencies);
    sent += t->sent;
    received += t->received;
    bytes += t->bytes_sent + t->bytes_received;
    bad += t->bad;
    unsent += t->unsent;
    lag = std::max(lag, t->max_send_lag_ns);
    last = std::max(last, t->last_receive);
  }
  out["sent"] = sent;
  out["received"] = received;
  out["lost"] = sent - std::min(sent, received);
  out["unparsed"] = bad;
  out["unsent"] = unsent;
  out["latency"] = LatencyJson(all);
  out["max_send_lag_ms"] = Ms(lag);
  out["bytes_both_ways"] = bytes;
  double seconds = std::max(1e-9, Seconds(last - start));
  out["msgs_per_s"] = static_cast<double>(received) / seconds;
  out["mb_per_s_each_way"] = static_cast<double>(bytes) / 2 / 1e6 / seconds;
  out["errors"] = h.errors;
  AddCpu(out, bytes);
  return out;
}

}  // namespace

nlohmann::json RunRealtime(const RunOptions& options) { return RunTraffic(options, "realtime"); }

nlohmann::json RunSaturate(const RunOptions& options) {
  RunOptions o = options;
  o.interval_ms = 0;
  return RunTraffic(o, "saturate");
}

nlohmann::json RunIdle(const RunOptions& options) {
  Harness h(options);
  nlohmann::json out = {{"workload", "idle"}, {"sessions", options.sessions}};
  h.Sample(out, "before");
  const Clock::time_point begin = Clock::now();
  auto sessions = OpenSessions(h);
  out["open_s"] = Seconds(Clock::now() - begin);
  size_t opened = CountOpen(sessions);
  out["opened"] = opened;
  std::this_thread::sleep_for(
      std::chrono::milliseconds(static_cast<int64_t>(options.settle_s * 1000)));
  h.Sample(out, "after");
  if (out.contains("before") && opened > 0) {
    double kib = out["after"]["rss_kib"].get<double>() - out["before"]["rss_kib"].get<double>();
    out["rss_kib_per_session"] = kib / static_cast<double>(opened);
  }
  out["errors"] = h.errors;
  return out;
}

}  // namespace relaytap::tools::bench

// Retry storms through the proxy against a failing fake-upstream deployment, with the guard off,
// observing and enforcing. Clients retry like the OpenAI SDKs (x-stainless-retry-count,
// exponential backoff with seeded jitter, honouring retry-after-ms and x-should-retry) and like a
// naive client (immediate identical retries). The guard's clock is the test's: nobody sleeps, and
// every window, cool-down and hold passes only when the test advances it.
#include <sqlite3.h>

#include <atomic>
#include <iostream>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "proxy/guard/retry_guard.h"
#include "recorder/recorder.h"
#include "tests/testing/proxy_harness.h"

namespace relaytap::testing {
namespace {

namespace guard = proxy::guard;

std::string Query(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* st = nullptr;
  std::string out;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != nullptr) {
    out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  } else if (st == nullptr) {
    out = std::string("SQL error: ") + sqlite3_errmsg(db);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

struct Answer {
  int status = 0;  // 0: the connection failed
  std::string should_retry, retry_after_ms, guard_reason;
};

Answer Send(ProxyHarness& h, const std::string& raw_request) {
  Answer a;
  try {
    auto c = h.InterceptedClient();
    c->Write(raw_request);
    auto res = c->ReadResponse();
    a.status = res.result_int();
    a.should_retry = std::string(res["x-should-retry"]);
    a.retry_after_ms = std::string(res["retry-after-ms"]);
    a.guard_reason = std::string(res["x-relaytap-guard"]);
  } catch (const std::exception&) {
    a.status = 0;
  }
  return a;
}

Answer Post(ProxyHarness& h, const std::string& target, const std::string& body,
            int retry_count = -1) {
  std::string head = "POST " + target + " HTTP/1.1\r\nHost: " + kAzureHost +
                     "\r\nContent-Type: application/json\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n";
  if (retry_count >= 0) head += "x-stainless-retry-count: " + std::to_string(retry_count) + "\r\n";
  return Send(h, head + "\r\n" + body);
}

Answer Upgrade(ProxyHarness& h, const std::string& target) {
  return Send(h, "GET " + target + " HTTP/1.1\r\nHost: " + std::string(kAzureHost) +
                     "\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13"
                     "\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
}

struct ClientRun {
  int attempts = 0;
  int final_status = 0;
  bool stopped_by_should_retry = false;
  int guard_answers = 0;
  std::vector<int64_t> backoffs_ms;  // what it would wait (virtual: the guard's clock is ours)
};

// openai-node's loop: retry 408/409/429/5xx and failed connections unless x-should-retry says
// otherwise, at most max_retries times; wait retry-after-ms if given (< 60 s), else
// 0.5 s * 2^n capped at 8 s, minus up to 25% jitter.
ClientRun SdkClient(ProxyHarness& h, const std::string& target, const std::string& body,
                    int max_retries, uint64_t seed) {
  ClientRun r;
  std::mt19937_64 rng(seed);
  for (int retry = 0;; ++retry) {
    Answer a = Post(h, target, body, retry);
    r.attempts++;
    r.final_status = a.status;
    if (!a.guard_reason.empty()) r.guard_answers++;
    if (a.status >= 200 && a.status < 400) return r;
    if (a.should_retry == "false") {
      r.stopped_by_should_retry = true;
      return r;
    }
    bool retryable = a.should_retry == "true" || a.status == 0 || a.status == 408 ||
                     a.status == 409 || a.status == 429 || a.status >= 500;
    if (!retryable || retry >= max_retries) return r;
    int64_t delay = 0;
    if (!a.retry_after_ms.empty() && std::stoll(a.retry_after_ms) < 60'000) {
      delay = std::stoll(a.retry_after_ms);
    } else {
      double base = std::min(0.5 * std::pow(2.0, retry), 8.0);
      double jitter = 1 - std::uniform_real_distribution<double>(0, 0.25)(rng);
      delay = static_cast<int64_t>(base * jitter * 1000);
    }
    r.backoffs_ms.push_back(delay);
  }
}

// Retries at once, the same request, until it succeeds or `max_attempts` are spent.
ClientRun NaiveClient(ProxyHarness& h, const std::string& target, const std::string& body,
                      int max_attempts, bool websocket) {
  ClientRun r;
  for (int i = 0; i < max_attempts; ++i) {
    Answer a = websocket ? Upgrade(h, target) : Post(h, target, body);
    r.attempts++;
    r.final_status = a.status;
    if (!a.guard_reason.empty()) r.guard_answers++;
    if (a.status == 101 || (a.status >= 200 && a.status < 400)) break;
  }
  return r;
}

size_t UpstreamCount(ProxyHarness& h, const std::string& marker) {
  size_t n = 0;
  for (const auto& r : h.upstream().requests()) n += r.target.find(marker) != std::string::npos;
  return n;
}

constexpr int kSdkClients = 6;
constexpr int kNaiveClients = 6;
constexpr int kHealthyClients = 6;
constexpr int kSdkMaxRetries = 2;
constexpr int kNaiveAttempts = 10;
constexpr char kStorm[] = "/status/503?deployment=storm";
constexpr char kHealthy[] = "/echo?deployment=healthy";

struct StormCounts {
  size_t storm_upstream = 0;
  size_t healthy_upstream = 0;
  int healthy_ok = 0;
  int client_attempts = 0;
  int guard_answers = 0;
};

class GuardStormTest : public ::testing::Test {
 protected:
  std::unique_ptr<guard::RetryGuard> MakeGuard(guard::GuardMode mode, guard::GuardPolicy p = {}) {
    return std::make_unique<guard::RetryGuard>(
        std::move(p), mode, [this] { return now_us_.load(); }, [] { return uint64_t{7}; });
  }
  void OpenRecorder(const std::string& name) {
    dir_ = FreshDir(name);
    recorder::RecorderOptions ro;
    ro.db_path = (dir_ / "relaytap.db").string();
    ro.key_dir = dir_.string();
    ro.batch_interval = absl::Milliseconds(20);
    auto rec = recorder::Recorder::Open(ro);
    ASSERT_TRUE(rec.ok()) << rec.status();
    recorder_ = std::move(*rec);
  }
  std::unique_ptr<ProxyHarness> Harness(guard::RetryGuard* g) {
    ProxyHarness::Options o;
    o.guard = g;
    o.sink = recorder_.get();
    return std::make_unique<ProxyHarness>(std::move(o));
  }
  std::string Db() const { return (dir_ / "relaytap.db").string(); }

  // The same workload for every mode: SDK-like and naive clients storm a failing deployment
  // while healthy clients make first attempts to another deployment, all at once.
  StormCounts RunHttpStorm(ProxyHarness& h) {
    std::vector<ClientRun> runs(kSdkClients + kNaiveClients + kHealthyClients);
    std::vector<std::thread> threads;
    for (int i = 0; i < kSdkClients; ++i) {
      threads.emplace_back([&, i] {
        std::string body = R"({"messages":[{"role":"user","content":"sdk )" +
                           std::to_string(i) + R"("}]})";
        runs[i] = SdkClient(h, kStorm, body, kSdkMaxRetries, 1000 + i);
      });
    }
    for (int i = 0; i < kNaiveClients; ++i) {
      threads.emplace_back([&, i] {
        std::string body = R"({"messages":[{"role":"user","content":"naive )" +
                           std::to_string(i) + R"("}]})";
        runs[kSdkClients + i] = NaiveClient(h, kStorm, body, kNaiveAttempts, false);
      });
    }
    for (int i = 0; i < kHealthyClients; ++i) {
      threads.emplace_back([&, i] {
        runs[kSdkClients + kNaiveClients + i] =
            NaiveClient(h, kHealthy, R"({"n":)" + std::to_string(i) + "}", 1, false);
      });
    }
    for (std::thread& t : threads) t.join();
    StormCounts c;
    c.storm_upstream = UpstreamCount(h, "deployment=storm");
    c.healthy_upstream = UpstreamCount(h, "deployment=healthy");
    for (size_t i = 0; i < runs.size(); ++i) {
      c.client_attempts += runs[i].attempts;
      c.guard_answers += runs[i].guard_answers;
      if (i >= kSdkClients + kNaiveClients && runs[i].final_status == 200) c.healthy_ok++;
    }
    return c;
  }

  std::atomic<int64_t> now_us_{1'764'000'000'000'000};
  std::filesystem::path dir_;
  std::unique_ptr<recorder::Recorder> recorder_;
};

TEST_F(GuardStormTest, HttpStormOffObserveEnforce) {
  StormCounts off, observe, enforce;
  {
    auto h = Harness(nullptr);
    off = RunHttpStorm(*h);
  }
  std::string observe_db, enforce_db;
  {
    OpenRecorder("guard_observe");
    auto g = MakeGuard(guard::GuardMode::kObserve);
    auto h = Harness(g.get());
    observe = RunHttpStorm(*h);
    h.reset();
    ASSERT_TRUE(recorder_->Close().ok());
    observe_db = Db();
  }
  guard::GuardPolicy policy;
  {
    OpenRecorder("guard_enforce");
    auto g = MakeGuard(guard::GuardMode::kEnforce, policy);
    auto h = Harness(g.get());
    enforce = RunHttpStorm(*h);
    h.reset();
    ASSERT_TRUE(recorder_->Close().ok());
    enforce_db = Db();
  }
  std::cout << "storm upstream attempts (" << kSdkClients << " SDK clients x "
            << kSdkMaxRetries + 1 << " attempts, " << kNaiveClients << " naive x "
            << kNaiveAttempts << ", on /status/503): off=" << off.storm_upstream
            << " observe=" << observe.storm_upstream << " enforce=" << enforce.storm_upstream
            << "; healthy first attempts upstream off/observe/enforce=" << off.healthy_upstream
            << "/" << observe.healthy_upstream << "/" << enforce.healthy_upstream
            << "; enforce local answers=" << enforce.guard_answers << std::endl;
  const size_t workload = kSdkClients * (kSdkMaxRetries + 1) + kNaiveClients * kNaiveAttempts;
  EXPECT_EQ(off.storm_upstream, workload);
  EXPECT_EQ(observe.storm_upstream, off.storm_upstream);  // observe touches nothing
  EXPECT_EQ(observe.guard_answers, 0);
  // Enforce: the breaker trips after min_requests failures; at most the attempts already in
  // flight (one per storming client) get past it.
  EXPECT_LE(enforce.storm_upstream,
            static_cast<size_t>(policy.circuit_breaker.min_requests + kSdkClients + kNaiveClients));
  EXPECT_LT(enforce.storm_upstream, off.storm_upstream / 2);
  EXPECT_GT(enforce.guard_answers, 0);
  for (const StormCounts* c : {&off, &observe, &enforce}) {
    EXPECT_EQ(c->healthy_upstream, static_cast<size_t>(kHealthyClients));
    EXPECT_EQ(c->healthy_ok, kHealthyClients);
  }
  // The store says what observe would have rejected, and nothing for the healthy deployment.
  int observe_rejects = std::stoi(Query(
      observe_db, "SELECT COUNT(*) FROM guard_decisions WHERE decision = 'reject' AND "
                  "key LIKE '%/storm' AND mode = 'observe'"));
  EXPECT_GE(observe_rejects, kNaiveClients * (kNaiveAttempts - 3));
  EXPECT_EQ(Query(observe_db, "SELECT COUNT(*) FROM guard_decisions WHERE decision = 'reject' "
                              "AND key LIKE '%/healthy'"),
            "0");
  EXPECT_EQ(Query(observe_db, "SELECT COUNT(*) FROM exchanges WHERE outcome = 'guard_rejected'"),
            "0");
  EXPECT_EQ(Query(observe_db, "SELECT COUNT(*) FROM guard_decisions WHERE decision = "
                              "'breaker_open'"),
            "1");
  // Enforce: every local answer is an exchange with outcome guard_rejected and its decision row.
  EXPECT_EQ(Query(enforce_db, "SELECT COUNT(*) FROM exchanges WHERE outcome = 'guard_rejected'"),
            std::to_string(enforce.guard_answers));
  EXPECT_EQ(Query(enforce_db, "SELECT COUNT(*) FROM v_guard_decisions WHERE decision = 'reject' "
                              "AND outcome = 'guard_rejected'"),
            std::to_string(enforce.guard_answers));
  EXPECT_EQ(Query(enforce_db, "SELECT COUNT(*) FROM guard_decisions WHERE decision = 'forward' "
                              "AND key LIKE '%/storm'"),
            std::to_string(enforce.storm_upstream));
}

// With only the attempt cap and the budget on, a sequential naive storm reaches upstream exactly
// as often as the policy's arithmetic says (computed here independently of the guard).
TEST_F(GuardStormTest, CapAndBudgetBoundUpstreamAttemptsExactly) {
  guard::GuardPolicy policy;
  policy.circuit_breaker.enabled = false;
  policy.holds.enabled = false;
  auto g = MakeGuard(guard::GuardMode::kEnforce, policy);
  auto h = Harness(g.get());
  constexpr int kRequests = 10;
  int64_t sent = 0, retries = 0;
  size_t expected = 0;
  for (int r = 0; r < kRequests; ++r) {
    for (int attempt = 1; attempt <= kNaiveAttempts; ++attempt) {
      int64_t allowed = std::max<int64_t>(
          policy.retry_budget.min_retries,
          static_cast<int64_t>(policy.retry_budget.budget_percent / 100.0 * sent));
      bool forward = attempt == 1 ||
                     (attempt <= policy.attempt_cap.max_attempts && retries < allowed);
      if (!forward) continue;
      sent++;
      retries += attempt > 1;
      expected++;
    }
  }
  int first_attempts_rejected = 0;
  for (int r = 0; r < kRequests; ++r) {
    std::string body = "{\"r\":" + std::to_string(r) + "}";
    for (int attempt = 1; attempt <= kNaiveAttempts; ++attempt) {
      Answer a = Post(*h, kStorm, body);
      if (attempt == 1 && !a.guard_reason.empty()) first_attempts_rejected++;
      if (attempt > policy.attempt_cap.max_attempts) EXPECT_EQ(a.guard_reason, "attempt_cap");
    }
  }
  std::cout << "sequential naive storm (" << kRequests << " requests x " << kNaiveAttempts
            << " attempts, cap " << policy.attempt_cap.max_attempts << ", budget "
            << policy.retry_budget.budget_percent << "% min " << policy.retry_budget.min_retries
            << "): upstream " << UpstreamCount(*h, "deployment=storm") << " of "
            << kRequests * kNaiveAttempts << std::endl;
  EXPECT_EQ(first_attempts_rejected, 0);
  EXPECT_EQ(UpstreamCount(*h, "deployment=storm"), expected);
  EXPECT_EQ(g->decisions(guard::Reason::kFirstAttempt), static_cast<uint64_t>(kRequests));
  EXPECT_GT(g->decisions(guard::Reason::kRetryBudget), 0u);
}

TEST_F(GuardStormTest, SdkClientStopsAtTheLocalAnswer) {
  auto g = MakeGuard(guard::GuardMode::kEnforce);
  auto h = Harness(g.get());
  // Open the breaker with first attempts of distinct requests.
  for (int i = 0; i < 10; ++i) Post(*h, kStorm, "{\"open\":" + std::to_string(i) + "}", 0);
  ClientRun r = SdkClient(*h, kStorm, R"({"late":1})", 5, 1);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_EQ(r.final_status, 503);
  EXPECT_TRUE(r.stopped_by_should_retry);
  EXPECT_EQ(UpstreamCount(*h, "deployment=storm"), 10u);
  Answer a = Post(*h, kStorm, R"({"late":2})", 0);
  EXPECT_EQ(a.guard_reason, "breaker_open");
  EXPECT_EQ(a.should_retry, "false");
  EXPECT_GE(std::stoll(a.retry_after_ms), 5000);
}

TEST_F(GuardStormTest, WebSocketUpgradeStormOffVersusEnforce) {
  auto storm = [&](ProxyHarness& h) {
    std::vector<std::thread> threads;
    for (int i = 0; i < kNaiveClients; ++i) {
      threads.emplace_back([&] { NaiveClient(h, "/status/503?deployment=rt", "", 10, true); });
    }
    for (std::thread& t : threads) t.join();
    return UpstreamCount(h, "deployment=rt");
  };
  size_t off = 0, enforce = 0;
  {
    auto h = Harness(nullptr);
    off = storm(*h);
  }
  guard::GuardPolicy policy;
  {
    auto g = MakeGuard(guard::GuardMode::kEnforce, policy);
    auto h = Harness(g.get());
    enforce = storm(*h);
    // Every upgrade comes from 127.0.0.1, so after the first failures each new upgrade is a
    // retry of the same client: capped (429) unless the breaker opened first (503).
    Answer a = Upgrade(*h, "/status/503?deployment=rt");
    EXPECT_TRUE(a.guard_reason == "attempt_cap" || a.guard_reason == "retry_budget" ||
                a.guard_reason == "breaker_open")
        << a.guard_reason;
    EXPECT_EQ(a.status, a.guard_reason == "breaker_open" ? 503 : 429);
    EXPECT_EQ(a.should_retry, "false");
    // Another realtime deployment on the same proxy still opens sessions.
    EXPECT_EQ(Upgrade(*h, "/openai/v1/realtime?model=healthy-rt").status, 101);
  }
  std::cout << "websocket upgrade storm (" << kNaiveClients
            << " clients x 10 reconnects on a 503 upgrade): upstream upgrades off=" << off
            << " enforce=" << enforce << std::endl;
  EXPECT_EQ(off, static_cast<size_t>(kNaiveClients * 10));
  EXPECT_LE(enforce, static_cast<size_t>(policy.circuit_breaker.min_requests + kNaiveClients));
}

TEST_F(GuardStormTest, BreakerRecoversWhenUpstreamHeals) {
  OpenRecorder("guard_recovery");
  guard::GuardPolicy policy;
  auto g = MakeGuard(guard::GuardMode::kEnforce, policy);
  auto h = Harness(g.get());
  for (int i = 0; i < policy.circuit_breaker.min_requests; ++i) {
    EXPECT_EQ(Post(*h, "/status/503?deployment=heal", "{\"i\":" + std::to_string(i) + "}").status,
              503);
  }
  // The same key now answers 200 upstream, but the breaker is open.
  Answer a = Post(*h, "/status/200?deployment=heal", "{}");
  EXPECT_EQ(a.status, 503);
  EXPECT_EQ(a.guard_reason, "breaker_open");
  EXPECT_EQ(UpstreamCount(*h, "/status/200?deployment=heal"), 0u);
  now_us_ += policy.circuit_breaker.cooldown_ms * 1000;
  for (int i = 0; i < policy.circuit_breaker.half_open_probes; ++i) {
    EXPECT_EQ(Post(*h, "/status/200?deployment=heal", "{\"probe\":" + std::to_string(i) + "}")
                  .status,
              200);
  }
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(Post(*h, "/status/200?deployment=heal", "{\"after\":" + std::to_string(i) + "}")
                  .status,
              200);
  }
  EXPECT_EQ(UpstreamCount(*h, "/status/200?deployment=heal"),
            static_cast<size_t>(policy.circuit_breaker.half_open_probes + 10));
  h.reset();
  ASSERT_TRUE(recorder_->Close().ok());
  EXPECT_EQ(Query(Db(), "SELECT group_concat(decision, ',') FROM (SELECT decision FROM "
                        "guard_decisions WHERE decision LIKE 'breaker_%' ORDER BY id)"),
            "breaker_open,breaker_half_open,breaker_closed");
  EXPECT_EQ(Query(Db(), "SELECT COUNT(*) FROM guard_decisions WHERE reason = 'breaker_probe'"),
            std::to_string(policy.circuit_breaker.half_open_probes));
}

TEST_F(GuardStormTest, RetryAfterFromUpstreamHoldsTheDeployment) {
  auto g = MakeGuard(guard::GuardMode::kEnforce);
  auto h = Harness(g.get());
  EXPECT_EQ(Post(*h, "/status/429?deployment=held", "{}").status, 429);  // retry-after-ms 1500
  Answer a = Post(*h, "/echo?deployment=held", "{}");  // a first attempt, but the key is held
  EXPECT_EQ(a.status, 429);
  EXPECT_EQ(a.guard_reason, "retry_after_hold");
  EXPECT_GE(std::stoll(a.retry_after_ms), 1500);
  EXPECT_EQ(UpstreamCount(*h, "/echo?deployment=held"), 0u);
  now_us_ += 1'500'000;
  EXPECT_EQ(Post(*h, "/echo?deployment=held", "{}").status, 200);
}

TEST_F(GuardStormTest, OffHasNoGuardAndCountsEverything) {
  auto h = Harness(nullptr);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(Post(*h, kStorm, "{}", i).status, 503);
  EXPECT_EQ(UpstreamCount(*h, "deployment=storm"), 20u);
}

}  // namespace
}  // namespace relaytap::testing

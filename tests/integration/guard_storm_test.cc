// Retry storms through the proxy against a failing fake-upstream deployment, with the guard off,
// observing and enforcing. Clients retry like the OpenAI SDKs (x-stainless-retry-count,
// exponential backoff with seeded jitter, honouring retry-after-ms and x-should-retry) and like a
// naive client (immediate identical retries). The guard's clock is the test's: nobody sleeps, and
// every window, cool-down and hold passes only when the test advances it.
#include <gtest/gtest.h>

#include <atomic>
#include <iostream>
#include <thread>

#include "proxy/guard/retry_guard.h"
#include "recorder/recorder.h"
#include "tests/integration/guard_storm_clients.h"
#include "tests/testing/proxy_harness.h"
#include "tests/testing/test_recorder.h"

namespace relaytap::testing {
namespace {

namespace guard = proxy::guard;

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
    recorder_ = OpenTestRecorder(dir_);
    ASSERT_NE(recorder_, nullptr);
  }
  std::unique_ptr<ProxyHarness> Harness(guard::RetryGuard* g) {
    ProxyHarness::Options o;
    o.guard = g;
    o.sink = recorder_.get();
    return std::make_unique<ProxyHarness>(std::move(o));
  }
  std::string Db() const { return TestDbPath(dir_); }

  // The same workload for every mode: SDK-like and naive clients storm a failing deployment
  // while healthy clients make first attempts to another deployment, all at once.
  StormCounts RunHttpStorm(ProxyHarness& h) {
    std::vector<ClientRun> runs(kSdkClients + kNaiveClients + kHealthyClients);
    std::vector<std::thread> threads;
    for (int i = 0; i < kSdkClients; ++i) {
      threads.emplace_back([&, i] {
        std::string body =
            R"({"messages":[{"role":"user","content":"sdk )" + std::to_string(i) + R"("}]})";
        runs[i] = SdkClient(h, kStorm, body, kSdkMaxRetries, 1000 + i);
      });
    }
    for (int i = 0; i < kNaiveClients; ++i) {
      threads.emplace_back([&, i] {
        std::string body =
            R"({"messages":[{"role":"user","content":"naive )" + std::to_string(i) + R"("}]})";
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
  std::cout << "storm upstream attempts (" << kSdkClients << " SDK clients x " << kSdkMaxRetries + 1
            << " attempts, " << kNaiveClients << " naive x " << kNaiveAttempts
            << ", on /status/503): off=" << off.storm_upstream
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
  int observe_rejects =
      std::stoi(Query(observe_db,
                      "SELECT COUNT(*) FROM guard_decisions WHERE decision = 'reject' AND "
                      "key LIKE '%/storm' AND mode = 'observe'"));
  EXPECT_GE(observe_rejects, kNaiveClients * (kNaiveAttempts - 3));
  EXPECT_EQ(Query(observe_db,
                  "SELECT COUNT(*) FROM guard_decisions WHERE decision = 'reject' "
                  "AND key LIKE '%/healthy'"),
            "0");
  EXPECT_EQ(Query(observe_db, "SELECT COUNT(*) FROM exchanges WHERE outcome = 'guard_rejected'"),
            "0");
  EXPECT_EQ(Query(observe_db,
                  "SELECT COUNT(*) FROM guard_decisions WHERE decision = "
                  "'breaker_open'"),
            "1");
  // Enforce: every local answer is an exchange with outcome guard_rejected and its decision row.
  EXPECT_EQ(Query(enforce_db, "SELECT COUNT(*) FROM exchanges WHERE outcome = 'guard_rejected'"),
            std::to_string(enforce.guard_answers));
  EXPECT_EQ(Query(enforce_db,
                  "SELECT COUNT(*) FROM v_guard_decisions WHERE decision = 'reject' "
                  "AND outcome = 'guard_rejected'"),
            std::to_string(enforce.guard_answers));
  EXPECT_EQ(Query(enforce_db,
                  "SELECT COUNT(*) FROM guard_decisions WHERE decision = 'forward' "
                  "AND key LIKE '%/storm'"),
            std::to_string(enforce.storm_upstream));
  // v_failures names relaytap's own code for each local answer, e.g. relaytap_attempt_cap.
  EXPECT_EQ(Query(enforce_db,
                  "SELECT COUNT(*) FROM v_failures WHERE outcome = 'guard_rejected' "
                  "AND error_code LIKE 'relaytap_%' AND local_error_code = error_code"),
            std::to_string(enforce.guard_answers));
  // Failures that came from upstream (the storm's 503s) carry no local code.
  EXPECT_EQ(Query(enforce_db,
                  "SELECT COUNT(*) FROM v_failures WHERE outcome = 'server_error_5xx' "
                  "AND local_error_code IS NOT NULL"),
            "0");
  EXPECT_NE(Query(enforce_db, "SELECT COUNT(*) FROM v_failures WHERE outcome = 'server_error_5xx'"),
            "0");
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
      bool forward =
          attempt == 1 || (attempt <= policy.attempt_cap.max_attempts && retries < allowed);
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
      if (attempt > policy.attempt_cap.max_attempts) {
        EXPECT_EQ(a.guard_reason, "attempt_cap");
      }
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
    EXPECT_EQ(
        Post(*h, "/status/200?deployment=heal", "{\"probe\":" + std::to_string(i) + "}").status,
        200);
  }
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(
        Post(*h, "/status/200?deployment=heal", "{\"after\":" + std::to_string(i) + "}").status,
        200);
  }
  EXPECT_EQ(UpstreamCount(*h, "/status/200?deployment=heal"),
            static_cast<size_t>(policy.circuit_breaker.half_open_probes + 10));
  h.reset();
  ASSERT_TRUE(recorder_->Close().ok());
  EXPECT_EQ(Query(Db(),
                  "SELECT group_concat(decision, ',') FROM (SELECT decision FROM "
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

// Azure's x-ms-retry-after-ms alone (no retry-after, no retry-after-ms) holds the key too.
TEST_F(GuardStormTest, XMsRetryAfterMsAloneHoldsTheDeployment) {
  namespace fake = tools::fake_upstream;
  fake::FaultProfile profile;
  profile.deployments["xms"] = {{fake::Fault::kHttp429, 100}};
  profile.params.retry_after = std::chrono::milliseconds(2500);
  profile.params.retry_headers = {
      .retry_after = false, .retry_after_ms = false, .x_ms_retry_after_ms = true};
  ASSERT_TRUE(fake::ValidateProfile(profile).ok());
  auto g = MakeGuard(guard::GuardMode::kEnforce);
  ProxyHarness::Options o;
  o.guard = g.get();
  o.upstream_faults =
      std::make_shared<fake::FaultModel>(profile, 1, [] { return std::chrono::milliseconds(0); });
  ProxyHarness h(std::move(o));
  constexpr char kChat[] = "/openai/deployments/xms/chat/completions?api-version=2024-10-21";
  {
    auto c = h.InterceptedClient();
    c->Write(std::string("POST ") + kChat + " HTTP/1.1\r\nHost: " + kAzureHost +
             "\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
    auto res = c->ReadResponse();
    ASSERT_EQ(res.result_int(), 429);
    EXPECT_EQ(res["x-relaytap-fake-fault"], "http_429");  // upstream's answer, relayed
    EXPECT_EQ(res["x-ms-retry-after-ms"], "2500");
    EXPECT_EQ(res.count(http::field::retry_after), 0u);
    EXPECT_EQ(res.count("retry-after-ms"), 0u);
  }
  Answer a = Post(h, "/echo?deployment=xms", "{}");  // a first attempt, but the key is held
  EXPECT_EQ(a.status, 429);
  ASSERT_EQ(a.guard_reason, "retry_after_hold");
  EXPECT_GE(std::stoll(a.retry_after_ms), 2500);
  EXPECT_EQ(UpstreamCount(h, "/echo?deployment=xms"), 0u);
  EXPECT_EQ(Post(h, "/echo?deployment=other", "{}").status, 200);  // only that key is held
  now_us_ += 2'500'000;
  EXPECT_EQ(Post(h, "/echo?deployment=xms", "{}").status, 200);
  EXPECT_EQ(UpstreamCount(h, "/echo?deployment=xms"), 1u);
}

TEST_F(GuardStormTest, OffHasNoGuardAndCountsEverything) {
  auto h = Harness(nullptr);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(Post(*h, kStorm, "{}", i).status, 503);
  EXPECT_EQ(UpstreamCount(*h, "deployment=storm"), 20u);
}

}  // namespace
}  // namespace relaytap::testing

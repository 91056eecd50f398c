// Loopback tests: each fault of the fault model appears on the wire as specified, the session and
// token endpoints answer, the realtime stream keeps its cadence, and a seed repeats a run.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/tools/fake_upstream_client.h"
#include "tests/tools/fake_upstream_test_support.h"
#include "tools/fake_upstream/fake_upstream.h"
#include "tools/fake_upstream/fault_profile.h"

namespace relaytap::tools::fake_upstream {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;
using testing::ClientWs;
using testing::Connect;
using testing::ExpectAzureHeaders;
using testing::FetchOnce;
using ::testing::HasSubstr;
using testing::MakeRequest;
using testing::RoundTrip;
using testing::RunClient;
using testing::StringRequest;
using testing::StringResponse;
using testing::WsClient;
using testing::WsLog;
using testing::WsOpen;
using testing::WsRead;
using testing::WsSend;
namespace websocket = beast::websocket;

// What the client saw for one response.create.
struct Seen {
  std::vector<json> events;
  std::vector<steady_clock::time_point> arrivals;
  error_code end;  // set if the connection ended before response.done / error
  milliseconds LargestGap() const {
    milliseconds gap{0};
    for (size_t i = 1; i < arrivals.size(); ++i) {
      gap = std::max(gap, std::chrono::duration_cast<milliseconds>(arrivals[i] - arrivals[i - 1]));
    }
    return gap;
  }
  int Count(const std::string& type) const {
    int n = 0;
    for (const json& e : events) n += e["type"] == type ? 1 : 0;
    return n;
  }
};

net::awaitable<Seen> RequestResponse(ClientWs& ws, WsLog& log) {
  Seen seen;
  if (auto ec = co_await WsSend(ws, log, R"({"type":"response.create"})", true)) {
    seen.end = ec;
    co_return seen;
  }
  for (int i = 0; i < 500; ++i) {
    auto m = co_await WsRead(ws, log);
    if (m.ec) {
      seen.end = m.ec;
      break;
    }
    seen.arrivals.push_back(steady_clock::now());
    seen.events.push_back(json::parse(m.payload));
    const json& type = seen.events.back()["type"];
    if (type == "response.done" || type == "error") break;
  }
  co_return seen;
}

class FakeUpstreamFaultTest : public ::testing::Test {
 protected:
  void Start(FaultProfile profile, uint64_t seed = 1, StreamShape shape = {}) {
    ASSERT_TRUE(ValidateProfile(profile).ok()) << ValidateProfile(profile);
    Options options;
    options.stream = shape;
    options.faults =
        std::make_shared<FaultModel>(std::move(profile), seed, FaultModel::SteadyClockFromNow());
    auto server = FakeUpstream::Start(std::move(options));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  // Opens `target`, reads session.created, runs `responses` response.create turns.
  std::vector<Seen> Converse(const std::string& target, int responses, std::string* session_id) {
    std::vector<Seen> out;
    RunClient([&]() -> net::awaitable<void> {
      WsLog log;
      WsClient client(co_await net::this_coro::executor);
      auto& ws = client.ws;
      websocket::response_type res;
      CO_ASSERT_TRUE(!co_await WsOpen(ws, server_->port(), target, res));
      auto created = co_await WsRead(ws, log);
      CO_ASSERT_TRUE(!created.ec);
      if (session_id) *session_id = json::parse(created.payload)["session"]["id"];
      for (int i = 0; i < responses; ++i) {
        out.push_back(co_await RequestResponse(ws, log));
        if (out.back().end) co_return;
      }
      auto [cec] = co_await ws.async_close(websocket::close_code::normal);
      (void)cec;
    });
    return out;
  }

  // A handshake that the server may refuse: returns the upgrade response.
  websocket::response_type Upgrade(const std::string& target, error_code* ec) {
    websocket::response_type res;
    RunClient([&]() -> net::awaitable<void> {
      WsClient client(co_await net::this_coro::executor);
      auto& ws = client.ws;
      *ec = co_await WsOpen(ws, server_->port(), target, res);
    });
    return res;
  }

  std::pair<error_code, StringResponse> Fetch(StringRequest req) {
    return FetchOnce(server_->port(), std::move(req));
  }

  std::unique_ptr<FakeUpstream> server_;
};

StringRequest JsonPost(std::string target, const json& body) {
  StringRequest req = MakeRequest(http::verb::post, std::move(target), body.dump());
  req.set(http::field::content_type, "application/json");
  return req;
}

TEST_F(FakeUpstreamFaultTest, UpgradeFaultsRefuseTheHandshakePerDeployment) {
  FaultProfile profile;
  profile.deployments["broken"] = {{Fault::kUpgrade5xx, 100}};
  profile.deployments["throttled"] = {{Fault::kUpgrade429, 100}};
  profile.params.retry_after = milliseconds(2500);
  Start(profile);
  error_code ec;
  auto res = Upgrade("/openai/v1/realtime?model=broken", &ec);
  EXPECT_EQ(ec, websocket::error::upgrade_declined) << ec.message();
  EXPECT_EQ(res.result_int(), 503u);
  ExpectAzureHeaders(res);
  EXPECT_EQ(json::parse(res.body())["error"]["code"], "ServiceUnavailable");
  EXPECT_EQ(res["x-relaytap-fake-fault"], "upgrade_5xx");

  res = Upgrade("/openai/realtime?api-version=2025-04-01-preview&deployment=throttled", &ec);
  EXPECT_EQ(ec, websocket::error::upgrade_declined);
  EXPECT_EQ(res.result_int(), 429u);
  EXPECT_EQ(res["retry-after-ms"], "2500");
  EXPECT_EQ(res[http::field::retry_after], "3");
  EXPECT_EQ(res["x-ratelimit-remaining-tokens"], "0");

  res = Upgrade("/openai/v1/realtime?model=healthy", &ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(res.result_int(), 101u);
}

TEST_F(FakeUpstreamFaultTest, SessionEndpointsAnswerAndFail) {
  FaultProfile profile;
  profile.deployments["down"] = {{Fault::kSession5xx, 100}};
  profile.deployments["busy"] = {{Fault::kSession429, 100}};
  Start(profile);
  auto [ec, res] =
      Fetch(JsonPost("/openai/v1/realtime/client_secrets",
                     {{"session", {{"type", "realtime"}, {"model", "gpt-realtime"}}}}));
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(res.result_int(), 200u);
  ExpectAzureHeaders(res);
  json secret = json::parse(res.body());
  EXPECT_TRUE(secret["value"].get<std::string>().starts_with("ek_"));
  EXPECT_EQ(secret["session"]["model"], "gpt-realtime");

  std::tie(ec, res) = Fetch(JsonPost("/openai/realtimeapi/sessions?api-version=2025-04-01-preview",
                                     {{"model", "gpt-4o-realtime-preview"}, {"voice", "alloy"}}));
  EXPECT_EQ(res.result_int(), 200u);
  json session = json::parse(res.body());
  EXPECT_TRUE(session["id"].get<std::string>().starts_with("sess_"));
  EXPECT_TRUE(session["client_secret"]["value"].get<std::string>().starts_with("ek_"));

  std::tie(ec, res) =
      Fetch(JsonPost("/openai/v1/realtime/client_secrets", {{"session", {{"model", "down"}}}}));
  EXPECT_EQ(res.result_int(), 500u);
  EXPECT_EQ(res["x-relaytap-fake-fault"], "session_5xx");
  std::tie(ec, res) = Fetch(JsonPost("/v1/realtime/sessions", {{"model", "busy"}}));
  EXPECT_EQ(res.result_int(), 429u);
  EXPECT_EQ(res["retry-after-ms"], "1500");
  std::tie(ec, res) = Fetch(MakeRequest(http::verb::get, "/openai/v1/realtime/client_secrets"));
  EXPECT_EQ(res.result_int(), 405u);
}

TEST_F(FakeUpstreamFaultTest, CompletionFaultsByPathAndBodyDeployment) {
  FaultProfile profile;
  profile.deployments["bad"] = {{Fault::kHttp5xx, 100}};
  profile.deployments["gpt-throttled"] = {{Fault::kHttp429, 100}};
  profile.params.http_status = 502;
  Start(profile);
  auto [ec, res] = Fetch(JsonPost("/openai/deployments/bad/chat/completions?api-version=2024-10-21",
                                  {{"messages", json::array()}}));
  EXPECT_EQ(res.result_int(), 502u);
  EXPECT_EQ(res["x-relaytap-fake-fault"], "http_5xx");
  std::tie(ec, res) = Fetch(JsonPost("/openai/v1/responses", {{"model", "gpt-throttled"}}));
  EXPECT_EQ(res.result_int(), 429u);
  EXPECT_THAT(res.body(), HasSubstr("rate limit"));
  std::tie(ec, res) = Fetch(JsonPost("/openai/deployments/good/chat/completions", json::object()));
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_EQ(json::parse(res.body())["object"], "chat.completion");
}

// By default a 429 fault carries all three retry hints, as Azure does.
TEST_F(FakeUpstreamFaultTest, HttpTooManyRequestsCarriesEveryRetryHeaderByDefault) {
  FaultProfile profile;
  profile.deployments["throttled"] = {{Fault::kHttp429, 100}};
  profile.params.retry_after = milliseconds(2500);
  Start(profile);
  auto [ec, res] =
      Fetch(JsonPost("/openai/deployments/throttled/chat/completions", json::object()));
  ASSERT_EQ(res.result_int(), 429u);
  EXPECT_EQ(res[http::field::retry_after], "3");
  EXPECT_EQ(res["retry-after-ms"], "2500");
  EXPECT_EQ(res["x-ms-retry-after-ms"], "2500");
}

// params.retry_headers picks which hints the 429s send; the others are absent.
TEST_F(FakeUpstreamFaultTest, RetryHeadersChooseWhichHintsA429Sends) {
  auto profile = ParseFaultProfile(R"({"deployments": {"throttled": {"http_429": 100}},
    "params": {"retry_after_ms": 1200, "retry_headers": ["x-ms-retry-after-ms"]}})");
  ASSERT_TRUE(profile.ok()) << profile.status();
  Start(*profile);
  auto [ec, res] =
      Fetch(JsonPost("/openai/deployments/throttled/chat/completions", json::object()));
  ASSERT_EQ(res.result_int(), 429u);
  EXPECT_EQ(res["x-ms-retry-after-ms"], "1200");
  EXPECT_EQ(res.count(http::field::retry_after), 0u);
  EXPECT_EQ(res.count("retry-after-ms"), 0u);
}

TEST_F(FakeUpstreamFaultTest, ResponseFailedAndErrorEventNameTheSession) {
  FaultProfile failed;
  failed.rates = {{Fault::kResponseFailed, 100}};
  Start(failed);
  std::string session_id;
  auto seen = Converse("/openai/v1/realtime?model=gpt-realtime", 2, &session_id);
  ASSERT_EQ(seen.size(), 2u);
  for (const Seen& s : seen) {
    ASSERT_FALSE(s.events.empty());
    const json& error = s.events.back()["response"]["status_details"]["error"];
    EXPECT_EQ(s.events.back()["response"]["status"], "failed");
    EXPECT_EQ(error["type"], "server_error");
    EXPECT_THAT(error["message"].get<std::string>(),
                HasSubstr("(Please include the session ID " + session_id + " in your message.)"));
  }

  FaultProfile errors;
  errors.rates = {{Fault::kErrorEvent, 100}};
  Start(errors);
  seen = Converse("/openai/v1/realtime?model=gpt-realtime", 2, &session_id);
  ASSERT_EQ(seen.size(), 2u) << "the session stays open after an error event";
  for (const Seen& s : seen) {
    ASSERT_EQ(s.events.size(), 1u);
    EXPECT_EQ(s.events[0]["type"], "error");
    EXPECT_EQ(s.events[0]["error"]["type"], "server_error");
    EXPECT_THAT(s.events[0]["error"]["message"].get<std::string>(), HasSubstr(session_id));
  }
}

TEST_F(FakeUpstreamFaultTest, RateLimitedSendsRateLimitsUpdatedAndAFailedResponse) {
  FaultProfile profile;
  profile.rates = {{Fault::kRateLimited, 100}};
  profile.params.retry_after = milliseconds(1200);
  Start(profile);
  auto seen = Converse("/openai/v1/realtime?model=gpt-realtime", 1, nullptr);
  ASSERT_EQ(seen.size(), 1u);
  ASSERT_EQ(seen[0].events.size(), 3u);
  EXPECT_EQ(seen[0].events[1]["type"], "rate_limits.updated");
  EXPECT_EQ(seen[0].events[1]["rate_limits"][1]["remaining"], 0);
  EXPECT_EQ(seen[0].events[1]["rate_limits"][1]["reset_seconds"], 1.2);
  EXPECT_EQ(seen[0].events[2]["response"]["status_details"]["error"]["code"],
            "rate_limit_exceeded");
}

TEST_F(FakeUpstreamFaultTest, ResetAbortsMidResponse) {
  FaultProfile profile;
  profile.rates = {{Fault::kReset, 100}};
  Start(profile);
  auto seen = Converse("/openai/v1/realtime?model=gpt-realtime", 1, nullptr);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_TRUE(seen[0].end) << "the connection ends before response.done";
  EXPECT_LE(seen[0].Count("response.output_audio.delta"), 2);
  EXPECT_EQ(seen[0].Count("response.done"), 0);
  ASSERT_TRUE(server_->WaitForClosedWsSessions(1, seconds(5)));
  // The server wrote session.created, response.created and half of the burst's 5 deltas.
  EXPECT_EQ(server_->ws_sessions()[0].sent.size(), 4u);
}

TEST_F(FakeUpstreamFaultTest, StallAndDripDelayEventsWithoutDroppingAny) {
  FaultProfile stall;
  stall.rates = {{Fault::kStall, 100}};
  stall.params.stall = milliseconds(300);
  Start(stall);
  auto seen = Converse("/openai/v1/realtime?model=gpt-realtime", 1, nullptr);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].events.size(), 9u);
  EXPECT_EQ(seen[0].events.back()["response"]["status"], "completed");
  // The exact delays are the plan's (response_plan_test). On the wire only the shape is
  // asserted, with half the nominal as the bound: arrival times carry scheduling jitter at both
  // ends (a late first arrival shortens the measured span), so the nominal itself would flake.
  EXPECT_GE(seen[0].LargestGap(), milliseconds(300 / 2));

  FaultProfile drip;
  drip.rates = {{Fault::kDrip, 100}};
  drip.params.drip = milliseconds(40);
  Start(drip);
  seen = Converse("/openai/v1/realtime?model=gpt-realtime", 1, nullptr);
  ASSERT_EQ(seen.size(), 1u);
  ASSERT_EQ(seen[0].events.size(), 9u);
  EXPECT_GE(seen[0].arrivals.back() - seen[0].arrivals.front(), milliseconds(8 * 40 / 2));
}

TEST_F(FakeUpstreamFaultTest, IdleCloseClosesASilentSessionWithTheConfiguredCode) {
  FaultProfile profile;
  profile.rates = {{Fault::kIdleClose, 100}};
  profile.params.idle_close = milliseconds(100);
  profile.params.idle_close_code = 1011;
  Start(profile);
  RunClient([&]() -> net::awaitable<void> {
    WsLog log;
    WsClient client(co_await net::this_coro::executor);
    auto& ws = client.ws;
    websocket::response_type res;
    CO_ASSERT_TRUE(!co_await WsOpen(ws, server_->port(), "/openai/v1/realtime?model=m", res));
    CO_ASSERT_TRUE(!(co_await WsRead(ws, log)).ec);
    // A response in progress is not cut: the session answers, then goes quiet.
    Seen seen = co_await RequestResponse(ws, log);
    EXPECT_EQ(seen.events.back()["type"], "response.done");
    auto m = co_await WsRead(ws, log);
    EXPECT_EQ(m.ec, websocket::error::closed) << m.ec.message();
    EXPECT_EQ(ws.reason().code, 1011);
    EXPECT_EQ(std::string(ws.reason().reason.c_str()), "idle timeout");
  });
  EXPECT_TRUE(server_->WaitForClosedWsSessions(1, seconds(5)));
}

TEST_F(FakeUpstreamFaultTest, RealtimeStreamKeepsTheAudioCadence) {
  Start(FaultProfile{}, 1, {Pacing::kRealtime, milliseconds(200), milliseconds(20)});
  auto seen = Converse("/openai/v1/realtime?model=gpt-realtime&say=one+two+three", 1, nullptr);
  ASSERT_EQ(seen.size(), 1u);
  const Seen& s = seen[0];
  EXPECT_EQ(s.Count("response.output_audio.delta"), 10);
  EXPECT_EQ(s.Count("response.output_audio_transcript.delta"), 3);
  EXPECT_EQ(s.Count("rate_limits.updated"), 1);
  EXPECT_EQ(s.events.back()["response"]["output"][0]["content"][0]["transcript"], "one two three");
  std::vector<steady_clock::time_point> audio;
  for (size_t i = 0; i < s.events.size(); ++i) {
    if (s.events[i]["type"] != "response.output_audio.delta") continue;
    EXPECT_EQ(s.events[i]["delta"].get<std::string>().size(), 1280u);
    audio.push_back(s.arrivals[i]);
  }
  ASSERT_EQ(audio.size(), 10u);
  EXPECT_GE(audio.back() - audio.front(), milliseconds(9 * 20 / 2));  // half: see StallAndDrip
  // ?stream=burst and ?audio_ms= override the server default per session.
  seen = Converse("/openai/v1/realtime?model=gpt-realtime&stream=burst", 1, nullptr);
  EXPECT_EQ(seen[0].Count("response.output_audio.delta"), 5);
  seen = Converse("/openai/v1/realtime?model=gpt-realtime&audio_ms=60", 1, nullptr);
  EXPECT_EQ(seen[0].Count("response.output_audio.delta"), 3);
}

TEST_F(FakeUpstreamFaultTest, TheSameSeedRepeatsTheFaultsOverTheWire) {
  FaultProfile profile;
  profile.rates = {{Fault::kResponseFailed, 30}, {Fault::kErrorEvent, 20}};
  auto run = [&](uint64_t seed) {
    Start(profile, seed);
    std::vector<std::string> outcomes;
    for (const Seen& s : Converse("/openai/v1/realtime?model=gpt-realtime", 40, nullptr)) {
      const json& last = s.events.back();
      outcomes.push_back(last["type"] == "error" ? "error"
                                                 : last["response"]["status"].get<std::string>());
    }
    return outcomes;
  };
  auto first = run(2026);
  ASSERT_EQ(first.size(), 40u);
  EXPECT_EQ(run(2026), first);
  EXPECT_NE(run(2027), first);
  int failed = static_cast<int>(std::count(first.begin(), first.end(), "failed"));
  int errors = static_cast<int>(std::count(first.begin(), first.end(), "error"));
  EXPECT_GT(failed, 0);
  EXPECT_GT(errors, 0);
  EXPECT_GT(40 - failed - errors, 0);
}

TEST_F(FakeUpstreamFaultTest, UpgradeFailureRateOverManySessionsIsWithinBinomialBounds) {
  FaultProfile profile;
  profile.rates = {{Fault::kUpgrade5xx, 20}};
  Start(profile, 99);
  constexpr int kSessions = 300;
  int refused = 0;
  for (int i = 0; i < kSessions; ++i) {
    error_code ec;
    auto res = Upgrade("/openai/v1/realtime?model=gpt-realtime", &ec);
    if (res.result_int() == 503) {
      ++refused;
    } else {
      EXPECT_EQ(res.result_int(), 101u);
    }
  }
  // 20% of 300 = 60, binomial sd 6.9: 5 sd either side.
  EXPECT_GE(refused, 60 - 35);
  EXPECT_LE(refused, 60 + 35);
  ASSERT_TRUE(server_->WaitForClosedWsSessions(kSessions - refused, seconds(10)));
  EXPECT_EQ(server_->ws_sessions().size(), static_cast<size_t>(kSessions - refused));
}

TEST_F(FakeUpstreamFaultTest, LatencyDelaysEveryAnswer) {
  FaultProfile profile;
  profile.params.latency = milliseconds(150);
  Start(profile);
  auto start = steady_clock::now();
  auto [ec, res] = Fetch(JsonPost("/openai/v1/responses", {{"model", "gpt-4o"}}));
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_GE(steady_clock::now() - start, milliseconds(150));
}

}  // namespace
}  // namespace relaytap::tools::fake_upstream

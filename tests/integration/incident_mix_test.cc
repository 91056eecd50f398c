// A recorded incident with a known mix, through the real proxy, recorder and fake upstream:
// healthy realtime sessions, sessions whose response fails, 5xx and 429 upgrades, a session the
// upstream resets, healthy and failing chat completions. `relaytap stats` must count exactly what
// the test sent, and `relaytap report` must list every failure with the request ids the app
// received.
#include <gtest/gtest.h>

#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "recorder/query/store_reader.h"
#include "recorder/recorder.h"
#include "tests/testing/proxy_harness.h"
#include "tests/testing/test_recorder.h"
#include "tools/report/report.h"
#include "tools/stats/stats.h"

namespace relaytap::testing {
namespace {

namespace fake = tools::fake_upstream;
namespace websocket = boost::beast::websocket;
using Json = nlohmann::json;
using std::chrono::milliseconds;
using TlsWebSocket = websocket::stream<beast::ssl_stream<beast::tcp_stream>&>;

// What the test sends, per deployment (the fake upstream's rules key on it).
constexpr int kGoodSessions = 3;    // "good": session.created, one response, response.done
constexpr int kFailedSessions = 2;  // "failing": response.done with status failed
constexpr int k5xxUpgrades = 2;     // "down": the upgrade is answered 503
constexpr int k429Upgrades = 2;     // "busy": the upgrade is answered 429
constexpr int kResetSessions = 1;   // "flaky": the upstream resets after response.create
constexpr int kGoodChats = 2;       // "chat": 200
constexpr int kFailedChats = 1;     // "chatdown": 500

struct Seen {
  int status = 0;
  std::string apim_request_id;  // as the app received it
};

class IncidentMixTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshDir("incident_mix");
    recorder_ = OpenTestRecorder(dir_);
    ASSERT_NE(recorder_, nullptr);
    fake::FaultProfile profile;
    profile.deployments["failing"] = {{fake::Fault::kResponseFailed, 100}};
    profile.deployments["down"] = {{fake::Fault::kUpgrade5xx, 100}};
    profile.deployments["busy"] = {{fake::Fault::kUpgrade429, 100}};
    profile.deployments["flaky"] = {{fake::Fault::kReset, 100}};
    profile.deployments["chatdown"] = {{fake::Fault::kHttp5xx, 100}};
    profile.params.upgrade_status = 503;
    profile.params.http_status = 500;
    ASSERT_TRUE(fake::ValidateProfile(profile).ok());
    ProxyHarness::Options o;
    o.sink = recorder_.get();
    o.upstream_faults =
        std::make_shared<fake::FaultModel>(profile, 1, [] { return milliseconds(0); });
    harness_ = std::make_unique<ProxyHarness>(std::move(o));
  }

  // One realtime session for `deployment` on the GA path: the upgrade and, when it opens, one
  // response.create read until response.done, an error or the connection's end.
  Seen Session(const std::string& deployment) {
    auto c = harness_->InterceptedClient();
    TlsWebSocket ws(c->tls());
    beast::get_lowest_layer(c->tls()).expires_never();
    ws.set_option(
        websocket::stream_base::timeout{std::chrono::seconds(20), std::chrono::seconds(20), false});
    websocket::response_type res;
    boost::system::error_code ec;
    ws.handshake(res, kAzureHost, "/openai/v1/realtime?model=" + deployment, ec);
    Seen seen{static_cast<int>(res.result_int()), std::string(res["apim-request-id"])};
    if (ec) return seen;
    ws.text(true);
    ws.write(net::buffer(std::string(R"({"type":"response.create","event_id":"evt_1"})")), ec);
    for (int i = 0; i < 400 && !ec; ++i) {  // bounded: a response is a few dozen events
      beast::flat_buffer b;
      ws.read(b, ec);
      if (ec) break;
      Json j = Json::parse(beast::buffers_to_string(b.data()), nullptr, false);
      if (j.is_object() && j.value("type", "") == "response.done") break;
    }
    if (!ec) ws.close(websocket::close_reason(websocket::close_code::normal, "done"), ec);
    return seen;
  }

  Seen Chat(const std::string& deployment) {
    auto c = harness_->InterceptedClient();
    const std::string body = R"({"messages":[{"role":"user","content":"hi"}]})";
    http::request<http::string_body> req{
        http::verb::post,
        "/openai/deployments/" + deployment + "/chat/completions?api-version=2024-10-21", 11};
    req.set(http::field::host, kAzureHost);
    req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    http::response<http::string_body> res = c->Request(req);
    return {static_cast<int>(res.result_int()), std::string(res["apim-request-id"])};
  }

  // Closes proxy and recorder, so every row is in the store.
  void Finish() {
    harness_.reset();
    ASSERT_TRUE(recorder_->Close().ok());
  }

  std::filesystem::path dir_;
  std::unique_ptr<recorder::Recorder> recorder_;
  std::unique_ptr<ProxyHarness> harness_;
};

TEST_F(IncidentMixTest, StatsCountsAndReportListsExactlyWhatWasSent) {
  std::set<std::string> failure_ids;  // apim-request-ids of the attempts that must be failures
  std::set<std::string> all_ids;
  auto note = [&](const Seen& s, bool failure) {
    EXPECT_FALSE(s.apim_request_id.empty());
    all_ids.insert(s.apim_request_id);
    if (failure) failure_ids.insert(s.apim_request_id);
  };
  for (int i = 0; i < kGoodSessions; ++i) {
    Seen s = Session("good");
    EXPECT_EQ(s.status, 101);
    note(s, false);
  }
  for (int i = 0; i < kFailedSessions; ++i) note(Session("failing"), true);
  for (int i = 0; i < k5xxUpgrades; ++i) {
    Seen s = Session("down");
    EXPECT_EQ(s.status, 503);
    note(s, true);
  }
  for (int i = 0; i < k429Upgrades; ++i) {
    Seen s = Session("busy");
    EXPECT_EQ(s.status, 429);
    note(s, true);
  }
  for (int i = 0; i < kResetSessions; ++i) note(Session("flaky"), true);
  for (int i = 0; i < kGoodChats; ++i) {
    Seen s = Chat("chat");
    EXPECT_EQ(s.status, 200);
    note(s, false);
  }
  for (int i = 0; i < kFailedChats; ++i) {
    Seen s = Chat("chatdown");
    EXPECT_EQ(s.status, 500);
    note(s, true);
  }
  Finish();

  auto reader = recorder::query::StoreReader::Open(TestDbPath(dir_));
  ASSERT_TRUE(reader.ok()) << reader.status();
  auto attempts = (*reader)->Attempts({});
  ASSERT_TRUE(attempts.ok()) << attempts.status();
  const absl::TimeZone utc = absl::UTCTimeZone();

  // Totals.
  const tools::stats::Stats total =
      tools::stats::Compute(*attempts, tools::stats::GroupBy::kHour, utc);
  const int sessions =
      kGoodSessions + kFailedSessions + k5xxUpgrades + k429Upgrades + kResetSessions;
  const int failures =
      kFailedSessions + k5xxUpgrades + k429Upgrades + kResetSessions + kFailedChats;
  EXPECT_EQ(total.totals.sessions, sessions);
  EXPECT_EQ(total.totals.exchanges, kGoodChats + kFailedChats);
  EXPECT_EQ(total.totals.failures, failures);
  EXPECT_EQ(total.totals.status_429, k429Upgrades);
  EXPECT_EQ(total.totals.by_outcome.at("ok"), kGoodSessions + kGoodChats);
  // Every attempt got a response head (101, 429, 5xx or 200): each has a time to it.
  EXPECT_EQ(total.totals.upgrade_ms.count, sessions + kGoodChats + kFailedChats);
  EXPECT_GT(total.totals.tokens, 0);

  // Per deployment: each deployment's attempts carry exactly one outcome class.
  const tools::stats::Stats by_dep =
      tools::stats::Compute(*attempts, tools::stats::GroupBy::kDeployment, utc);
  std::map<std::string, const tools::stats::Bucket*> rows;
  for (const auto& b : by_dep.rows) rows[b.key] = &b;
  ASSERT_EQ(rows.size(), 7u);
  auto expect_row = [&](const std::string& dep, int64_t s, int64_t x, int64_t fails) {
    ASSERT_TRUE(rows.count(dep)) << dep;
    EXPECT_EQ(rows[dep]->sessions, s) << dep;
    EXPECT_EQ(rows[dep]->exchanges, x) << dep;
    EXPECT_EQ(rows[dep]->failures, fails) << dep;
    EXPECT_EQ(rows[dep]->by_outcome.size(), 1u) << dep;
  };
  expect_row("good", kGoodSessions, 0, 0);
  expect_row("failing", kFailedSessions, 0, kFailedSessions);
  expect_row("down", k5xxUpgrades, 0, k5xxUpgrades);
  expect_row("busy", k429Upgrades, 0, k429Upgrades);
  expect_row("flaky", kResetSessions, 0, kResetSessions);
  expect_row("chat", 0, kGoodChats, 0);
  expect_row("chatdown", 0, kFailedChats, kFailedChats);
  EXPECT_EQ(rows["busy"]->status_429, k429Upgrades);
  EXPECT_EQ(rows["failing"]->by_outcome.begin()->first, "response_failed");
  EXPECT_EQ(rows["down"]->by_outcome.begin()->first, "server_error_5xx");
  EXPECT_EQ(rows["busy"]->by_outcome.begin()->first, "throttled_429");
  EXPECT_EQ(rows["flaky"]->by_outcome.begin()->first, "upstream_reset");
  EXPECT_EQ(rows["chatdown"]->by_outcome.begin()->first, "server_error_5xx");

  // The report lists every failure, each with the request id the app received.
  auto report = tools::report::BuildReport(**reader, {}, utc, "");
  ASSERT_TRUE(report.ok()) << report.status();
  std::set<std::string> reported;
  for (const auto& f : report->failures) {
    EXPECT_FALSE(f.apim_request_id.empty()) << f.kind << " " << f.deployment;
    EXPECT_FALSE(f.x_request_id.empty()) << f.kind << " " << f.deployment;
    EXPECT_EQ(f.region, "Sweden Central");
    reported.insert(f.apim_request_id);
  }
  EXPECT_EQ(report->failures.size(), static_cast<size_t>(failures));
  EXPECT_EQ(reported, failure_ids);
  const std::string md = tools::report::FormatMarkdown(*report, utc);
  for (const std::string& id : failure_ids) EXPECT_NE(md.find(id), std::string::npos) << id;
}

}  // namespace
}  // namespace relaytap::testing

// WebRTC call set-ups through the proxy against the fake upstream, recorded by the real Recorder:
// the ephemeral token's issuance, the call (answered, or refused for an expired or missing token,
// a 5xx, an answer slower than the proxy waits) and its sideband WebSocket, linked in the store;
// the SDP's shape is kept, its addresses, ICE credentials and fingerprints are not, nor any
// token, in any file relaytap wrote or in its log.
#include <gtest/gtest.h>

#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "base/log.h"
#include "base/str_cat.h"
#include "nlohmann/json.hpp"
#include "recorder/recorder.h"
#include "tests/testing/canary_sdp.h"
#include "tests/testing/proxy_harness.h"
#include "tests/testing/sqlite_query.h"
#include "tests/testing/test_recorder.h"

namespace relaytap::testing {
namespace {

namespace fake = tools::fake_upstream;
namespace websocket = boost::beast::websocket;
using std::chrono::milliseconds;
using TlsWebSocket = websocket::stream<beast::ssl_stream<beast::tcp_stream>&>;

constexpr char kApiKey[] = "CanaryApiKey0123456789abcdefABCDEF";
constexpr char kStandardKey[] = "sk-proj-CanaryStandardKey0123456789abcdefgh";

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The value of SDP attribute `name` (e.g. "ice-pwd") in `sdp`, "" if none.
std::string SdpAttribute(const std::string& sdp, const std::string& name) {
  const size_t at = sdp.find(StrCat("a=", name, ":"));
  if (at == std::string::npos) return "";
  const size_t from = at + name.size() + 3;
  return sdp.substr(from, sdp.find_first_of("\r\n", from) - from);
}

class WebRtcCallTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshDir("webrtc_calls");
    recorder_ = OpenTestRecorder(dir_);
    ASSERT_NE(recorder_, nullptr);
    fake::FaultProfile profile;
    profile.deployments["dep-broken"] = {{fake::Fault::kCall5xx, 100}};
    profile.deployments["dep-slow"] = {{fake::Fault::kCallSlow, 100}};
    profile.params.call_slow = milliseconds(60'000);  // far longer than the proxy waits
    ASSERT_TRUE(fake::ValidateProfile(profile).ok());
    ProxyHarness::Options o;
    o.sink = recorder_.get();
    o.http_idle_timeout = milliseconds(1000);
    o.upstream_faults =
        std::make_shared<fake::FaultModel>(profile, 1, [] { return milliseconds(0); });
    harness_ = std::make_unique<ProxyHarness>(std::move(o));
  }

  http::response<http::string_body> Post(const std::string& target, const std::string& content_type,
                                         const std::string& body,
                                         const std::string& authorization) {
    http::request<http::string_body> q{http::verb::post, target, 11};
    q.set(http::field::host, kAzureHost);
    q.set(http::field::content_type, content_type);
    if (!authorization.empty()) q.set(http::field::authorization, authorization);
    q.body() = body;
    q.prepare_payload();
    return harness_->InterceptedClient()->Request(std::move(q));
  }

  // An ephemeral token from the GA client_secrets endpoint, valid for `ttl_s` seconds.
  std::string IssueToken(int ttl_s) {
    http::request<http::string_body> q{http::verb::post, "/openai/v1/realtime/client_secrets", 11};
    q.set(http::field::host, kAzureHost);
    q.set(http::field::content_type, "application/json");
    q.set("api-key", kApiKey);
    q.body() = nlohmann::json{{"expires_after", {{"anchor", "created_at"}, {"seconds", ttl_s}}},
                              {"session", {{"type", "realtime"}, {"model", "gpt-realtime"}}}}
                   .dump();
    q.prepare_payload();
    auto r = harness_->InterceptedClient()->Request(std::move(q));
    EXPECT_EQ(r.result_int(), 200) << r.body();
    auto j = nlohmann::json::parse(r.body(), nullptr, false);
    std::string token = j.is_object() ? j.value("value", "") : "";
    EXPECT_TRUE(token.starts_with("ek_")) << r.body();
    secrets_.push_back(token);
    return token;
  }

  // The sideband WebSocket of call `call_id`: one session.update, its answer, a clean close.
  void Sideband(const std::string& call_id) {
    auto c = harness_->InterceptedClient();
    beast::get_lowest_layer(c->tls()).expires_never();
    TlsWebSocket ws(c->tls());
    ws.set_option(
        websocket::stream_base::timeout{std::chrono::seconds(30), std::chrono::seconds(30), false});
    ws.handshake(kAzureHost, StrCat("/openai/v1/realtime?call_id=", call_id));
    beast::flat_buffer b;
    ws.read(b);  // session.created
    ws.write(
        net::buffer(std::string(R"({"type":"session.update","session":{"type":"realtime"}})")));
    b.clear();
    ws.read(b);  // session.updated
    ws.close(websocket::close_code::normal);
    for (int i = 0; i < 100; ++i) {  // until the server's close frame
      b.clear();
      boost::system::error_code ec;
      ws.read(b, ec);
      if (ec) break;
    }
  }

  void Finish() {
    harness_.reset();
    ASSERT_TRUE(recorder_->Close().ok());
  }

  // No file relaytap wrote (store, WAL, key) nor `log` holds a canary or a secret.
  void ExpectNothingSensitiveIn(const std::string& log) {
    std::vector<std::string> needles(std::begin(kSdpCanaries), std::end(kSdpCanaries));
    needles.insert(needles.end(), secrets_.begin(), secrets_.end());
    needles.push_back(kApiKey);
    needles.push_back(kStandardKey);
    int files = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir_)) {
      if (!e.is_regular_file()) continue;
      ++files;
      const std::string bytes = ReadFile(e.path());
      for (const std::string& n : needles) {
        EXPECT_EQ(bytes.find(n), std::string::npos) << n << " in " << e.path();
      }
    }
    EXPECT_GE(files, 2);  // the store and the key at least
    for (const std::string& n : needles) EXPECT_EQ(log.find(n), std::string::npos) << n;
  }
  std::string Db() const { return TestDbPath(dir_); }

  std::filesystem::path dir_;
  std::unique_ptr<recorder::Recorder> recorder_;
  std::unique_ptr<ProxyHarness> harness_;
  std::vector<std::string> secrets_;  // tokens and answer ICE credentials seen in this test
};

TEST_F(WebRtcCallTest, AnsweredCallIsLinkedToItsTokenAndSideband) {
  const LogLevel level = GetLogLevel();
  SetLogLevel(LogLevel::kTrace);
  ::testing::internal::CaptureStderr();
  const std::string token = IssueToken(600);
  auto r = Post("/openai/v1/realtime/calls", "application/sdp", CanarySdp(true),
                StrCat("Bearer ", token));
  ASSERT_EQ(r.result_int(), 201) << r.body();
  const std::string location(r[http::field::location]);
  const std::string call_id = location.substr(location.rfind('/') + 1);
  ASSERT_TRUE(call_id.starts_with("rtc_")) << location;
  ASSERT_TRUE(r.body().starts_with("v=0")) << r.body();
  secrets_.push_back(SdpAttribute(r.body(), "ice-pwd"));
  secrets_.push_back(SdpAttribute(r.body(), "fingerprint").substr(8));  // after "sha-256 "
  Sideband(call_id);
  // The multipart form with a standard key (server-side set-up).
  const std::string boundary = "relaytapCallBoundary";
  const std::string form =
      StrCat("--", boundary, "\r\nContent-Disposition: form-data; name=\"sdp\"\r\n\r\n",
             CanarySdp(true), "\r\n--", boundary,
             "\r\nContent-Disposition: form-data; name=\"session\"\r\n\r\n"
             R"({"type":"realtime","model":"gpt-realtime"})",
             "\r\n--", boundary, "--\r\n");
  auto m = Post("/v1/realtime/calls", StrCat("multipart/form-data; boundary=", boundary), form,
                StrCat("Bearer ", kStandardKey));
  ASSERT_EQ(m.result_int(), 201) << m.body();
  const std::string log = ::testing::internal::GetCapturedStderr();
  SetLogLevel(level);
  ASSERT_NO_FATAL_FAILURE(Finish());

  EXPECT_EQ(Query(Db(),
                  "SELECT group_concat(endpoint || '/' || request_format || '/' || outcome "
                  "|| '/' || status, ',') FROM calls ORDER BY id"),
            "ga_calls/sdp/answered/201,ga_calls/multipart/answered/201");
  EXPECT_EQ(QueryRows(Db(),
                      "SELECT call_id, deployment, offer_media, offer_candidates, "
                      "answer_media, answer_candidates, fingerprint_algorithm, "
                      "token_expired_before_call, sideband_sessions, "
                      "token_expires_utc IS NOT NULL, apim_request_id IS NOT NULL, "
                      "answer_ms >= 0 FROM v_calls ORDER BY call_ref LIMIT 1"),
            std::vector<std::string>{StrCat(call_id, "|gpt-realtime|2|4|2|1|sha-256|0|1|1|1|1")});
  // The token: issued once, linked by fingerprint, never stored.
  EXPECT_EQ(Query(Db(),
                  "SELECT COUNT(*) FROM calls c JOIN call_tokens t ON t.id = c.token_ref "
                  "AND t.token_fp = c.token_fp AND t.endpoint = 'client_secrets' AND "
                  "t.token_fp LIKE 'hmac:%'"),
            "1");
  EXPECT_EQ(Query(Db(),
                  "SELECT auth_kind || '/' || (token_ref IS NULL) FROM calls WHERE "
                  "request_format = 'multipart'"),
            "bearer_key/1");
  // The sideband session joined the call, and its events fill its timeline.
  EXPECT_EQ(Query(Db(), "SELECT call_id FROM ws_sessions"), call_id);
  EXPECT_EQ(Query(Db(), StrCat("SELECT group_concat(type, ',') FROM (SELECT ev.type FROM events ev "
                               "JOIN ws_sessions s ON s.id = ev.session_ref WHERE s.call_id = '",
                               call_id, "' AND ev.opcode = 1 ORDER BY ev.seq)")),
            "session.created,session.update,session.updated");
  const std::string shape = Query(Db(), "SELECT offer_shape FROM calls ORDER BY id LIMIT 1");
  EXPECT_NE(shape.find("\"opus/48000/2\""), std::string::npos) << shape;
  EXPECT_EQ(shape.find(kSdpCanaryPort), std::string::npos) << shape;
  ExpectNothingSensitiveIn(log);
}

TEST_F(WebRtcCallTest, FailedSetUpsAreClassified) {
  const std::string expired = IssueToken(0);  // expires_at is now: expired by the call
  auto r = Post("/openai/v1/realtime/calls", "application/sdp", CanarySdp(true),
                StrCat("Bearer ", expired));
  EXPECT_EQ(r.result_int(), 401) << r.body();
  const std::string token = IssueToken(600);
  r = Post("/v1/realtimertc?model=dep-broken", "application/sdp", CanarySdp(true),
           StrCat("Bearer ", token));
  EXPECT_EQ(r.result_int(), 500) << r.body();
  r = Post("/v1/realtimertc?model=dep-slow", "application/sdp", CanarySdp(true),
           StrCat("Bearer ", token));
  EXPECT_EQ(r.result_int(), 504) << r.body();  // relaytap gave up after http_idle_timeout
  r = Post("/openai/v1/realtime/calls", "application/sdp", CanarySdp(true), "");
  EXPECT_EQ(r.result_int(), 401) << r.body();
  ASSERT_NO_FATAL_FAILURE(Finish());

  EXPECT_EQ(QueryRows(Db(),
                      "SELECT endpoint, outcome, COALESCE(status, 0), "
                      "COALESCE(error_code, ''), COALESCE(deployment, ''), "
                      "COALESCE(token_expired_before_call, 'NULL') FROM v_calls "
                      "ORDER BY call_ref"),
            (std::vector<std::string>{
                "ga_calls|token_expired|401|token_expired|gpt-realtime|1",
                "preview_realtimertc|server_error|500|InternalServerError|dep-broken|0",
                "preview_realtimertc|setup_timeout|0|relaytap_upstream_timeout|dep-slow|0",
                "ga_calls|token_invalid|401|missing_credentials||NULL"}));
  EXPECT_EQ(Query(Db(), "SELECT error_message FROM calls ORDER BY id LIMIT 1"),
            "The ephemeral token has expired; create a new one.");
  EXPECT_EQ(Query(Db(), "SELECT COUNT(*) FROM call_tokens"), "2");
  EXPECT_EQ(Query(Db(), "SELECT COUNT(*) FROM calls WHERE answer_shape IS NOT NULL"), "0");
  ExpectNothingSensitiveIn("");
}

}  // namespace
}  // namespace relaytap::testing

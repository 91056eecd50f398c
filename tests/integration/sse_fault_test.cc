// The fake upstream's SSE faults (sse_stall, sse_drip, sse_reset) through the proxy with a real
// TLS client on loopback, and what relaytap records for each: a stall the proxy gives up on is a
// `timeout`, a reset mid-stream an `upstream_reset` (both in v_failures), a drip an `ok` exchange
// with every event. Every wait is bounded by the proxy's idle timeout (1 s here).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "recorder/recorder.h"
#include "tests/testing/proxy_harness.h"
#include "tests/testing/sqlite_query.h"
#include "tests/testing/test_recorder.h"

namespace relaytap::testing {
namespace {

namespace fake = tools::fake_upstream;
using std::chrono::milliseconds;

constexpr int kDripMs = 100;

struct StreamRead {
  int status = 0;
  std::string body;  // the decoded chunks received before the end
  boost::system::error_code ec;
  int Count(const std::string& needle) const {
    int n = 0;
    for (size_t at = body.find(needle); at != std::string::npos; at = body.find(needle, at + 1)) {
      ++n;
    }
    return n;
  }
};

class SseFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshDir("sse_faults");
    recorder_ = OpenTestRecorder(dir_);
    ASSERT_NE(recorder_, nullptr);
    fake::FaultProfile profile;
    profile.deployments["stall"] = {{fake::Fault::kSseStall, 100}};
    profile.deployments["drip"] = {{fake::Fault::kSseDrip, 100}};
    profile.deployments["reset"] = {{fake::Fault::kSseReset, 100}};
    profile.params.stall = milliseconds(60'000);  // far longer than the proxy waits
    profile.params.drip = milliseconds(kDripMs);
    profile.params.sse_reset_after = 2;
    ASSERT_TRUE(fake::ValidateProfile(profile).ok());
    ProxyHarness::Options o;
    o.sink = recorder_.get();
    o.http_idle_timeout = milliseconds(1000);
    o.upstream_faults =
        std::make_shared<fake::FaultModel>(profile, 1, [] { return milliseconds(0); });
    harness_ = std::make_unique<ProxyHarness>(std::move(o));
  }

  // A streamed chat completion for `deployment`, read until the stream ends or breaks.
  StreamRead StreamChat(const std::string& deployment) {
    const std::string body = R"({"messages":[{"role":"user","content":"hi"}],"stream":true})";
    auto c = harness_->InterceptedClient();
    c->Write("POST /openai/deployments/" + deployment +
             "/chat/completions?api-version=2024-10-21 HTTP/1.1\r\nHost: " + kAzureHost +
             "\r\nContent-Type: application/json\r\nContent-Length: " +
             std::to_string(body.size()) + "\r\n\r\n" + body);
    http::response_parser<http::string_body> p;
    StreamRead r;
    http::read(c->tls(), c->buffer(), p, r.ec);
    if (p.is_header_done()) r.status = p.get().result_int();
    r.body = p.get().body();
    return r;
  }

  // Closes proxy and recorder, so every row is in the store.
  void Finish() {
    harness_.reset();
    ASSERT_TRUE(recorder_->Close().ok());
  }
  std::string Db() const { return TestDbPath(dir_); }
  std::string Row(const std::string& deployment, const std::string& columns) {
    return Query(Db(),
                 "SELECT " + columns + " FROM exchanges WHERE deployment = '" + deployment + "'");
  }

  std::filesystem::path dir_;
  std::unique_ptr<recorder::Recorder> recorder_;
  std::unique_ptr<ProxyHarness> harness_;
};

TEST_F(SseFaultTest, StallAfterTheFirstEventIsRecordedAsATimeout) {
  StreamRead r = StreamChat("stall");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Count("data: {"), 1);  // the first event, then silence
  EXPECT_EQ(r.Count("[DONE]"), 0);
  EXPECT_TRUE(r.ec) << "the proxy gave up on the silent upstream and reset the app's connection";
  Finish();
  EXPECT_EQ(Row("stall", "outcome || ' ' || end_reason || ' ' || status"),
            "timeout upstream_timeout_mid_response 200");
  EXPECT_EQ(Row("stall", "json_array_length(sse_events)"), "1");
  EXPECT_EQ(Query(Db(), "SELECT outcome FROM v_failures WHERE deployment = 'stall'"), "timeout");
}

TEST_F(SseFaultTest, ResetAfterKEventsIsRecordedAsAnUpstreamReset) {
  StreamRead r = StreamChat("reset");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Count("data: {"), 2);  // sse_reset_after events, then the RST
  EXPECT_EQ(r.Count("[DONE]"), 0);
  EXPECT_TRUE(r.ec);
  Finish();
  EXPECT_EQ(Row("reset", "outcome || ' ' || end_reason"),
            "upstream_reset upstream_reset_mid_response");
  EXPECT_EQ(Row("reset", "json_array_length(sse_events)"), "2");
  EXPECT_EQ(Query(Db(), "SELECT outcome FROM v_failures WHERE deployment = 'reset'"),
            "upstream_reset");
}

TEST_F(SseFaultTest, DripDeliversEveryEventSpacedOutAndIsOk) {
  StreamRead r = StreamChat("drip");
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.Count("data: {"), 5);
  EXPECT_EQ(r.Count("data: [DONE]"), 1);
  Finish();
  EXPECT_EQ(Row("drip", "outcome"), "ok");
  EXPECT_EQ(Row("drip", "json_array_length(sse_events)"), "6");
  EXPECT_EQ(Query(Db(), "SELECT COUNT(*) FROM v_failures WHERE deployment = 'drip'"), "0");
  // Recorded as the proxy saw them: 6 events over at least 5 drips (half the nominal as the
  // bound, as in fake_upstream_fault_test: arrival times carry scheduling jitter).
  std::string span = Row("drip",
                         "json_extract(sse_events, '$[5].at_us') - "
                         "json_extract(sse_events, '$[0].at_us')");
  EXPECT_GE(std::stoll(span), 5 * kDripMs * 1000 / 2);
}

// Without a stream fault the same request streams at the default pace and completes.
TEST_F(SseFaultTest, OtherDeploymentsStreamNormally) {
  StreamRead r = StreamChat("healthy");
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.Count("data: [DONE]"), 1);
  Finish();
  EXPECT_EQ(Row("healthy", "outcome"), "ok");
}

}  // namespace
}  // namespace relaytap::testing

// `relaytap probe` against the fake upstream on loopback, directly (with --connect-to) and
// through the proxy: every stage passing, and a failure at each of tcp (closed port), tls (an
// untrusted upstream, naming the issuer), websocket (an upgrade answered 500) and realtime (a
// failed response, with its request id); --repeat counting; and the key never showing in the
// output, the logs or the store.
#include "tools/probe/probe.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/x509.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "recorder/recorder.h"
#include "tests/integration/cert_file.h"
#include "tests/testing/ports.h"
#include "tests/testing/proxy_harness.h"
#include "tests/testing/sqlite_query.h"
#include "tests/testing/store_answers.h"
#include "tests/testing/test_recorder.h"
#include "tools/fake_upstream/fault_model.h"
#include "tools/probe/report.h"

namespace relaytap::testing {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
using tools::probe::ProbeOptions;
using tools::probe::RunResult;
using tools::probe::Stage;
using tools::probe::Status;
namespace fu = tools::fake_upstream;

const std::string kRealtimeUrl =
    std::string("wss://") + kAzureHost + "/openai/v1/realtime?model=gpt-realtime";

ProbeOptions Options(const std::string& url) {
  ProbeOptions o;
  o.url = *tools::probe::ParseProbeUrl(url);
  o.realtime = true;
  o.timeout = std::chrono::seconds(10);
  return o;
}

// Straight to the fake upstream: its port by --connect-to, its CA by --ca.
ProbeOptions Direct(ProxyHarness& h, const std::string& url = kRealtimeUrl) {
  ProbeOptions o = Options(url);
  o.connect_to.push_back(*proxy::ParseConnectTo(
      std::string(kAzureHost) + ":443:127.0.0.1:" + std::to_string(h.upstream_port())));
  o.ca_file = h.upstream_ca_pem().string();
  return o;
}

// Through relaytap (which maps the host to the fake upstream), trusting relaytap's CA.
ProbeOptions ThroughProxy(ProxyHarness& h, const std::string& url = kRealtimeUrl) {
  ProbeOptions o = Options(url);
  o.proxy = proxy::HostPort{"127.0.0.1", h.proxy_port()};
  o.ca_file = h.proxy_ca_pem().string();
  return o;
}

const tools::probe::StageResult& StageOf(const RunResult& r, Stage s) {
  for (const auto& st : r.stages) {
    if (st.stage == s) return st;
  }
  throw std::runtime_error("no such stage");
}

std::string Describe(const RunResult& r) { return tools::probe::RunJson(r).dump(2); }

void ExpectAllPassed(const RunResult& r) {
  ASSERT_EQ(r.stages.size(), 6u);
  for (const auto& s : r.stages) {
    EXPECT_EQ(s.status, Status::kOk) << Describe(r);
  }
  EXPECT_TRUE(r.ok());
  const json& tls = StageOf(r, Stage::kTls).detail;
  EXPECT_EQ(tls["verified"], true);
  EXPECT_FALSE(tls["chain"].empty());
  EXPECT_FALSE(tls["leaf_not_after"].get<std::string>().empty());
  const json& ws = StageOf(r, Stage::kWebSocket).detail;
  EXPECT_EQ(ws["status"], 101);
  EXPECT_EQ(ws["subprotocol"], "realtime");
  EXPECT_FALSE(ws["headers"]["apim-request-id"].get<std::string>().empty());
  const json& rt = StageOf(r, Stage::kRealtime).detail;
  EXPECT_THAT(rt["session_id"].get<std::string>(), ::testing::StartsWith("sess_"));
  EXPECT_THAT(rt["response_id"].get<std::string>(), ::testing::StartsWith("resp_"));
  EXPECT_EQ(rt["response_status"], "completed");
  EXPECT_EQ(rt["apim_request_id"], ws["headers"]["apim-request-id"]);
  std::vector<std::string> types;
  for (const json& e : rt["events"]) types.push_back(e["type"]);
  EXPECT_EQ(types, (std::vector<std::string>{"session.created", "session.updated",
                                             "conversation.item.created", "response.created",
                                             "response.output_text.delta",
                                             "response.output_text.delta", "response.done"}));
}

TEST(ProbeTest, EveryStagePassesAgainstTheFakeUpstream) {
  ProxyHarness h;
  RunResult r = tools::probe::RunProbe(Direct(h));
  ExpectAllPassed(r);
  EXPECT_THAT(StageOf(r, Stage::kDns).detail["addresses"].dump(), HasSubstr("127.0.0.1"));
  std::string text = tools::probe::FormatText({r}, "2026-12-05T00:00:00Z");
  EXPECT_THAT(text, HasSubstr("verdict: OK"));
  EXPECT_THAT(text, HasSubstr("[x] realtime"));
}

TEST(ProbeTest, EveryStagePassesThroughTheProxy) {
  ProxyHarness h;
  RunResult r = tools::probe::RunProbe(ThroughProxy(h));
  ExpectAllPassed(r);
  const json& tcp = StageOf(r, Stage::kTcp).detail;
  EXPECT_EQ(tcp["proxy_connect"]["status"], 200);
  // The certificate the probe saw is relaytap's, minted for the host.
  EXPECT_THAT(StageOf(r, Stage::kTls).detail["chain"][0]["issuer"].get<std::string>(),
              HasSubstr("relaytap"));
}

TEST(ProbeTest, AnHttpsUrlStopsAfterTheGet) {
  ProxyHarness h;
  ProbeOptions o = Direct(h, std::string("https://") + kAzureHost + "/");
  o.realtime = false;
  RunResult r = tools::probe::RunProbe(o);
  EXPECT_TRUE(r.ok()) << Describe(r);
  EXPECT_EQ(StageOf(r, Stage::kHttps).status, Status::kOk);
  EXPECT_GT(StageOf(r, Stage::kHttps).detail["status"].get<int>(), 0);
  EXPECT_EQ(StageOf(r, Stage::kWebSocket).status, Status::kSkipped);
  EXPECT_EQ(StageOf(r, Stage::kWebSocket).error, "not a WebSocket URL");
}

TEST(ProbeTest, ClosedPortFailsAtTcp) {
  const uint16_t dead = FreeLoopbackPort();  // nothing listens there
  ProbeOptions o = Options(kRealtimeUrl);
  o.connect_to.push_back(
      *proxy::ParseConnectTo(std::string(kAzureHost) + ":443:127.0.0.1:" + std::to_string(dead)));
  RunResult r = tools::probe::RunProbe(o);
  EXPECT_EQ(r.failed_stage(), Stage::kTcp) << Describe(r);
  EXPECT_THAT(StageOf(r, Stage::kTcp).error, HasSubstr("refused"));
  for (Stage s : {Stage::kTls, Stage::kHttps, Stage::kWebSocket, Stage::kRealtime}) {
    EXPECT_EQ(StageOf(r, s).status, Status::kSkipped);
  }
}

std::string CommonNameOf(const std::filesystem::path& pem_file) {
  UniqueX509 cert = ReadCertFile(pem_file);
  char cn[256] = {0};
  if (cert)
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_commonName, cn, sizeof(cn));
  return cn;
}

TEST(ProbeTest, UntrustedUpstreamFailsAtTlsNamingTheIssuer) {
  ProxyHarness h;
  ProbeOptions o = Direct(h);
  o.ca_file.reset();  // the system store does not know the fake upstream's CA
  RunResult r = tools::probe::RunProbe(o);
  ASSERT_EQ(r.failed_stage(), Stage::kTls) << Describe(r);
  const auto& tls = StageOf(r, Stage::kTls);
  const std::string issuer = CommonNameOf(h.upstream_ca_pem());
  ASSERT_FALSE(issuer.empty());
  EXPECT_THAT(tls.error, HasSubstr("certificate verify failed"));
  EXPECT_THAT(tls.error, HasSubstr(issuer));
  EXPECT_EQ(tls.detail["verified"], false);
  EXPECT_EQ(h.upstream().request_count(), 0u);  // nothing sent on the unverified connection
}

std::shared_ptr<fu::FaultModel> Upgrade500() {
  fu::FaultProfile p;
  p.rates[fu::Fault::kUpgrade5xx] = 100;
  p.params.upgrade_status = 500;
  return std::make_shared<fu::FaultModel>(p, 1, fu::FaultModel::SteadyClockFromNow());
}

TEST(ProbeTest, UpgradeAnswered500FailsAtWebSocket) {
  ProxyHarness::Options ho;
  ho.upstream_faults = Upgrade500();
  ProxyHarness h(std::move(ho));
  for (const ProbeOptions& o : {Direct(h), ThroughProxy(h)}) {
    RunResult r = tools::probe::RunProbe(o);
    ASSERT_EQ(r.failed_stage(), Stage::kWebSocket) << Describe(r);
    const auto& ws = StageOf(r, Stage::kWebSocket);
    EXPECT_EQ(ws.detail["status"], 500);
    EXPECT_THAT(ws.error, HasSubstr("HTTP 500"));
    EXPECT_THAT(ws.error, HasSubstr(ws.detail["headers"]["apim-request-id"].get<std::string>()));
    EXPECT_EQ(StageOf(r, Stage::kHttps).status, Status::kOk);
    EXPECT_EQ(StageOf(r, Stage::kRealtime).status, Status::kSkipped);
  }
}

TEST(ProbeTest, FailedResponseFailsAtRealtimeWithItsRequestId) {
  ProxyHarness h;
  RunResult r = tools::probe::RunProbe(ThroughProxy(h, kRealtimeUrl + "&fail=response"));
  ASSERT_EQ(r.failed_stage(), Stage::kRealtime) << Describe(r);
  const auto& rt = StageOf(r, Stage::kRealtime);
  const std::string apim = rt.detail["apim_request_id"];
  EXPECT_FALSE(apim.empty());
  EXPECT_EQ(rt.detail["response_status"], "failed");
  EXPECT_EQ(rt.detail["error_code"], "server_error");
  EXPECT_THAT(rt.error, HasSubstr("ended failed"));
  EXPECT_THAT(rt.error, HasSubstr("apim-request-id " + apim));
  EXPECT_THAT(tools::probe::FormatText({r}, "t"), HasSubstr("verdict: FAILED at realtime"));
}

TEST(ProbeTest, RepeatCountsEveryRun) {
  ProxyHarness h;
  ProbeOptions ok = Direct(h);
  std::vector<RunResult> runs = tools::probe::RunRepeated(ok, 3, std::chrono::milliseconds(0));
  ASSERT_EQ(runs.size(), 3u);
  auto summary = tools::probe::SummaryJson(runs);
  EXPECT_EQ(summary["ok"], 3);
  EXPECT_EQ(summary["failed"], 0);
  EXPECT_LE(summary["latency_ms"]["min"], summary["latency_ms"]["p50"]);
  EXPECT_LE(summary["latency_ms"]["p50"], summary["latency_ms"]["max"]);
  ProbeOptions bad = ok;
  bad.url = *tools::probe::ParseProbeUrl(kRealtimeUrl + "&fail=response");
  runs.push_back(tools::probe::RunProbe(bad));
  json all = json::parse(tools::probe::FormatJson(runs));
  EXPECT_EQ(all["runs"].size(), 4u);
  EXPECT_EQ(all["summary"]["ok"], 3);
  EXPECT_EQ(all["summary"]["failed"], 1);
  EXPECT_EQ(all["runs"][3]["verdict"], "failed");
  EXPECT_EQ(all["runs"][3]["failed_stage"], "realtime");
}

// A proxy that records into `dir`/relaytap.db.
struct RecordingProxy {
  explicit RecordingProxy(const std::filesystem::path& dir) : rec(OpenTestRecorder(dir)) {
    if (rec == nullptr) return;
    ProxyHarness::Options ho;
    ho.sink = rec.get();
    h = std::make_unique<ProxyHarness>(std::move(ho));
  }
  // Stops the proxy, then the recorder: everything it was handed is in the store.
  absl::Status Close() {
    h.reset();
    return rec->Close();
  }
  std::unique_ptr<recorder::Recorder> rec;
  std::unique_ptr<ProxyHarness> h;
};

TEST(ProbeTest, TheKeyIsSentUpstreamButNeverPrintedLoggedOrStored) {
  const std::string key = "CANARYprobekey0123456789abcdef";
  const std::filesystem::path dir = FreshDir("probe_canary");
  RecordingProxy rp(dir);
  ASSERT_NE(rp.h, nullptr);
  std::unique_ptr<ProxyHarness>& h = rp.h;
  ProbeOptions o = ThroughProxy(*h, kRealtimeUrl + "&api-key=" + key + "Q");
  o.key = key;
  ::testing::internal::CaptureStderr();
  RunResult r = tools::probe::RunProbe(o);
  const std::string out = tools::probe::FormatText({r}, "t") + tools::probe::FormatJson({r});
  EXPECT_TRUE(r.ok()) << Describe(r);
  bool sent = false;
  for (const auto& req : h->upstream().requests()) {
    for (const auto& [name, value] : req.headers)
      sent = sent || (name == "api-key" && value == key);
  }
  EXPECT_TRUE(sent) << "the key reached the upstream as api-key";
  ASSERT_TRUE(rp.Close().ok());
  const std::string logs = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(out, Not(HasSubstr("CANARY")));
  EXPECT_THAT(out, HasSubstr("api-key=<redacted>"));
  EXPECT_THAT(logs, Not(HasSubstr("CANARY")));
  for (const char* f : {"relaytap.db", "relaytap.db-wal", "relaytap.db-shm"}) {
    EXPECT_THAT(ReadFileBytes(dir / f), Not(HasSubstr("CANARY"))) << f;
  }
}

// Through a recording relaytap, the probe's https stage (`GET /`, which Azure and the fake
// upstream answer 404) is recorded with its status but is neither a failed request nor one of
// the app's attempts: stats, report and diff would otherwise count one "client error" per probe
// run during the incident it was run for. The probe's realtime session is a real attempt.
TEST(ProbeTest, ThroughARecordingProxyItsGetIsRecordedButNotAnAttempt) {
  const std::filesystem::path dir = FreshDir("probe_outcome");
  RecordingProxy rp(dir);
  ASSERT_NE(rp.h, nullptr);
  RunResult r = tools::probe::RunProbe(ThroughProxy(*rp.h));
  ExpectAllPassed(r);
  const int status = StageOf(r, Stage::kHttps).detail["status"].get<int>();
  ASSERT_GE(status, 400) << "the fake upstream answers GET / as Azure does, with a 4xx";
  ASSERT_TRUE(rp.Close().ok());
  const std::string db = (dir / "relaytap.db").string();
  EXPECT_EQ(QueryRows(db,
                      "SELECT method, path, status, outcome, transport FROM exchanges "
                      "WHERE path = '/'"),
            std::vector<std::string>{"GET|/|" + std::to_string(status) + "|ok|probe_check"});
  EXPECT_EQ(Query(db, "SELECT outcome FROM ws_sessions"), "ok");
  EXPECT_EQ(Query(db, "SELECT COUNT(*) FROM v_failures"), "0");

  const StoreAnswers answers = ReadStoreAnswers(db);
  ASSERT_EQ(answers.attempts.size(), 1u) << "the session only";
  EXPECT_TRUE(answers.attempts[0].session);
  EXPECT_EQ(answers.profiles.size(), 1u);
  EXPECT_EQ(answers.exchanges.size(), 2u) << "HAR keeps both";
}

}  // namespace
}  // namespace relaytap::testing

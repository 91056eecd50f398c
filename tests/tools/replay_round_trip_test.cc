// Record -> replay round trips: a conversation recorded through the real proxy and recorder
// against the fake upstream is replayed (--speed 0) to the same client code, which must see the
// same event types in the same order, the same ids and the same ending.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <nlohmann/json.hpp>

#include "recorder/query/replay_reader.h"
#include "recorder/recorder.h"
#include "tests/testing/proxy_harness.h"
#include "tests/testing/sqlite_query.h"
#include "tests/testing/test_recorder.h"
#include "tests/tools/replay_conversation.h"
#include "tools/replay/plan.h"
#include "tools/replay/server.h"
#include "tools/replay/timeline.h"

namespace relaytap::testing {
namespace {

namespace websocket = boost::beast::websocket;
using ::testing::HasSubstr;

class ReplayRoundTripTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshDir("replay_round_trip");
    recorder_ = OpenTestRecorder(dir_);
    ASSERT_NE(recorder_, nullptr);
    ProxyHarness::Options o;
    o.sink = HarnessSink();
    ASSERT_NE(o.sink, nullptr);
    harness_ = std::make_unique<ProxyHarness>(std::move(o));
  }

  // Where the proxy hands its observations (after recorder_ is open).
  virtual recorder::Sink* HarnessSink() { return recorder_.get(); }

  std::string Db() const { return TestDbPath(dir_); }

  Seen RecordSession(const std::string& target, const std::vector<std::string>& to_send,
                     const std::string& stop_type) {
    auto c = harness_->InterceptedClient();
    beast::get_lowest_layer(c->tls()).expires_never();
    websocket::stream<beast::ssl_stream<beast::tcp_stream>&> ws(c->tls());
    return Converse(ws, target, to_send, stop_type);
  }

  // Stops the proxy (every session has ended) and drains the recorder into the store.
  void FinishRecording(size_t ws_sessions) {
    if (ws_sessions > 0) {
      ASSERT_TRUE(
          harness_->upstream().WaitForClosedWsSessions(ws_sessions, std::chrono::seconds(20)));
    }
    harness_.reset();
    ASSERT_TRUE(recorder_->Close().ok());
  }

  // Serves everything the store recorded, with no delays.
  void StartReplay() {
    auto reader = recorder::query::ReplayReader::Open(Db());
    ASSERT_TRUE(reader.ok()) << reader.status();
    tools::replay::ServerOptions o;
    o.speed = 0;
    ASSERT_TRUE((*reader)->LoadAll(&o.sessions, &o.exchanges).ok());
    auto server = tools::replay::ReplayServer::Start(std::move(o));
    ASSERT_TRUE(server.ok()) << server.status();
    replay_ = std::move(*server);
  }

  Seen ReplaySession(const std::string& target, const std::vector<std::string>& to_send,
                     const std::string& stop_type) {
    net::io_context ioc;
    websocket::stream<beast::tcp_stream> ws(ioc);
    beast::get_lowest_layer(ws).expires_after(std::chrono::seconds(20));
    beast::get_lowest_layer(ws).connect(
        tcp::endpoint(net::ip::make_address("127.0.0.1"), replay_->port()));
    beast::get_lowest_layer(ws).expires_never();
    return Converse(ws, target, to_send, stop_type);
  }

  std::filesystem::path dir_;
  std::unique_ptr<recorder::Recorder> recorder_;
  std::unique_ptr<ProxyHarness> harness_;
  std::unique_ptr<tools::replay::ReplayServer> replay_;
};

// A signature without its " event_id=…" token.
std::string WithoutEventId(const std::string& line) {
  size_t at = line.find(" event_id=");
  if (at == std::string::npos) return line;
  size_t end = line.find(' ', at + 1);
  return line.substr(0, at) + (end == std::string::npos ? "" : line.substr(end));
}

// The middle members of a run of audio events were stored without their event_id: replay gives
// them a stand-in ("event_relaytap_…"), the one difference allowed.
void ExpectSame(const Seen& recorded, const Seen& replayed) {
  EXPECT_EQ(replayed.upgrade_status, recorded.upgrade_status);
  EXPECT_EQ(replayed.apim_request_id, recorded.apim_request_id);
  ASSERT_EQ(replayed.messages.size(), recorded.messages.size());
  for (size_t i = 0; i < replayed.messages.size(); ++i) {
    const bool stand_in = replayed.messages[i].find("=event_relaytap_") != std::string::npos;
    EXPECT_EQ(stand_in ? WithoutEventId(replayed.messages[i]) : replayed.messages[i],
              stand_in ? WithoutEventId(recorded.messages[i]) : recorded.messages[i])
        << "message " << i;
  }
  EXPECT_EQ(replayed.ending, recorded.ending);
}

const std::string kRealtime = "/openai/v1/realtime?model=gpt-realtime";
const std::string kCreate = R"({"type":"response.create","event_id":"evt_client_1"})";

TEST_F(ReplayRoundTripTest, CompletedSession) {
  Seen recorded = RecordSession(kRealtime, {kCreate}, "response.done");
  FinishRecording(1);
  ASSERT_EQ(recorded.upgrade_status, 101);
  ASSERT_GE(recorded.messages.size(), 9u);  // created, response.created, 5 audio, 2 text, done
  EXPECT_EQ(recorded.ending, "client close");
  EXPECT_THAT(recorded.messages.front(), ::testing::StartsWith("session.created "));
  EXPECT_THAT(recorded.messages.front(), HasSubstr(" id=sess_"));
  EXPECT_THAT(recorded.messages[2], HasSubstr(" delta_len=6144"));
  EXPECT_THAT(recorded.messages.back(), HasSubstr("=resp_"));
  StartReplay();
  Seen replayed = ReplaySession(kRealtime, {kCreate}, "response.done");
  ExpectSame(recorded, replayed);
  ASSERT_TRUE(replay_->WaitForServed(1, std::chrono::seconds(20)));
  EXPECT_EQ(replay_->stats().deviations, 0u);
}

// The probe's flow against the service-like fake: each client event's answer (session.updated,
// conversation.item.created) is recorded and replayed in order, then the text-only response.
TEST_F(ReplayRoundTripTest, ServiceLikeTextFlow) {
  const std::vector<std::string> flow = {
      R"({"type":"session.update","event_id":"e1","session":{"type":"realtime","output_modalities":["text"]}})",
      R"({"type":"conversation.item.create","event_id":"e2","item":{"type":"message","role":"user","content":[{"type":"input_text","text":"Say OK"}]}})",
      kCreate};
  Seen recorded = RecordSession(kRealtime, flow, "response.done");
  FinishRecording(1);
  ASSERT_GE(recorded.messages.size(), 5u);
  EXPECT_THAT(recorded.messages[1], ::testing::StartsWith("session.updated"));
  EXPECT_THAT(recorded.messages[2], ::testing::StartsWith("conversation.item.created"));
  EXPECT_THAT(recorded.messages[3], ::testing::StartsWith("response.created "));
  StartReplay();
  Seen replayed = ReplaySession(kRealtime, flow, "response.done");
  ExpectSame(recorded, replayed);
  ASSERT_TRUE(replay_->WaitForServed(1, std::chrono::seconds(20)));
  EXPECT_EQ(replay_->stats().deviations, 0u);
}

TEST_F(ReplayRoundTripTest, FailedSessionEndsWithTheSameResponseFailed) {
  const std::string target = kRealtime + "&fail=response";
  Seen recorded = RecordSession(target, {kCreate}, "response.done");
  FinishRecording(1);
  ASSERT_THAT(recorded.messages.back(), ::testing::StartsWith("response.done"));
  StartReplay();
  Seen replayed = ReplaySession(target, {kCreate}, "response.done");
  ExpectSame(recorded, replayed);

  // --print shows the failure with its ids and the outcome.
  auto reader = recorder::query::ReplayReader::Open(Db());
  ASSERT_TRUE(reader.ok());
  auto list = (*reader)->List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_THAT(tools::replay::FormatList(*list),
              ::testing::AllOf(HasSubstr("session "), HasSubstr("response_failed"),
                               HasSubstr("sess_"), HasSubstr("gpt-realtime")));
  auto session = (*reader)->LoadSession(std::to_string((*list)[0].id));
  ASSERT_TRUE(session.ok());
  std::string timeline = tools::replay::FormatTimeline(*session);
  EXPECT_THAT(timeline, HasSubstr("<-  session.created"));
  EXPECT_THAT(timeline, HasSubstr("->  response.create  event_id=evt_client_1"));
  EXPECT_THAT(timeline, HasSubstr("FAILURE server_error"));
  EXPECT_THAT(timeline, HasSubstr("response_id=resp_"));
  EXPECT_THAT(timeline, HasSubstr("end  outcome=response_failed"));
  EXPECT_THAT(timeline, HasSubstr("upgrade  GET contoso.openai.azure.com/openai/v1/realtime"));
}

TEST_F(ReplayRoundTripTest, ResetSessionIsResetAtTheSamePoint) {
  const std::string target = kRealtime + "&reset_after=1";
  const std::vector<std::string> commit = {R"({"type":"input_audio_buffer.commit"})"};
  Seen recorded = RecordSession(target, commit, "");
  FinishRecording(1);
  ASSERT_EQ(recorded.ending, "reset");
  StartReplay();
  Seen replayed = ReplaySession(target, commit, "");
  ExpectSame(recorded, replayed);
}

TEST_F(ReplayRoundTripTest, ErrorEventSession) {
  const std::vector<std::string> bad = {R"({"type":"invalid.event","event_id":"evt_client_2"})"};
  Seen recorded = RecordSession(kRealtime, bad, "error");
  FinishRecording(1);
  ASSERT_THAT(recorded.messages.back(), ::testing::StartsWith("error "));
  StartReplay();
  Seen replayed = ReplaySession(kRealtime, bad, "error");
  ExpectSame(recorded, replayed);
}

TEST_F(ReplayRoundTripTest, ServerCloseWithTheRecordedCode) {
  const std::vector<std::string> bye = {R"({"type":"close.request"})"};
  Seen recorded = RecordSession(kRealtime, bye, "");
  FinishRecording(1);
  ASSERT_EQ(recorded.ending, "close 1000 bye");
  StartReplay();
  Seen replayed = ReplaySession(kRealtime, bye, "");
  ExpectSame(recorded, replayed);
}

TEST_F(ReplayRoundTripTest, UpgradeRefusedWith503) {
  Seen recorded = RecordSession("/status/503", {}, "");
  FinishRecording(0);
  ASSERT_EQ(recorded.upgrade_status, 503);
  ASSERT_FALSE(recorded.apim_request_id.empty());
  StartReplay();
  Seen replayed = ReplaySession("/status/503", {}, "");
  ExpectSame(recorded, replayed);
}

// The data lines of an SSE body.
std::vector<std::string> DataLines(const std::string& body) {
  std::vector<std::string> out;
  size_t pos = 0;
  while ((pos = body.find("data: ", pos)) != std::string::npos) {
    size_t end = body.find('\n', pos);
    out.push_back(body.substr(pos, end - pos));
    pos = end;
  }
  return out;
}

TEST_F(ReplayRoundTripTest, SseExchangeReplaysTheSameEvents) {
  http::request<http::string_body> req{http::verb::get, "/sse?events=4&interval_ms=5", 11};
  req.set(http::field::host, kAzureHost);
  auto c = harness_->InterceptedClient();
  http::response<http::string_body> recorded = c->Request(req);
  c.reset();
  FinishRecording(0);
  ASSERT_EQ(recorded.result_int(), 200);
  ASSERT_EQ(DataLines(recorded.body()).size(), 5u);
  StartReplay();

  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.expires_after(std::chrono::seconds(20));
  stream.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), replay_->port()));
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> replayed;
  http::read(stream, buffer, replayed);
  EXPECT_EQ(replayed.result_int(), 200);
  EXPECT_EQ(replayed[http::field::content_type], recorded[http::field::content_type]);
  EXPECT_EQ(replayed["apim-request-id"], recorded["apim-request-id"]);
  EXPECT_EQ(DataLines(replayed.body()), DataLines(recorded.body()));
  ASSERT_TRUE(replay_->WaitForServed(1, std::chrono::seconds(20)));
  EXPECT_EQ(replay_->stats().exchanges_served, 1u);
  EXPECT_EQ(replay_->stats().deviations, 0u);
}

TEST_F(ReplayRoundTripTest, DeviatingClientIsCountedAndStrictStopsIt) {
  Seen recorded = RecordSession(kRealtime, {kCreate}, "response.done");
  FinishRecording(1);
  auto reader = recorder::query::ReplayReader::Open(Db());
  ASSERT_TRUE(reader.ok());
  tools::replay::ServerOptions o;
  o.speed = 0;
  o.strict = true;
  ASSERT_TRUE((*reader)->LoadAll(&o.sessions, &o.exchanges).ok());
  auto server = tools::replay::ReplayServer::Start(std::move(o));
  ASSERT_TRUE(server.ok());
  replay_ = std::move(*server);
  Seen replayed =
      ReplaySession(kRealtime, {R"({"type":"session.update","session":{}})"}, "response.done");
  EXPECT_EQ(replayed.messages.size(), 1u);  // session.created, then the strict stop
  EXPECT_EQ(replayed.ending, "close 1008 ");
  EXPECT_EQ(replay_->stats().deviations, 1u);
}

// --tls: the replay presents a leaf from relaytap's CA for the recorded host name, which a client
// that trusts that CA verifies (name and chain) before it replays the session.
TEST_F(ReplayRoundTripTest, TlsReplayPresentsALeafFromRelaytapsCaForTheRecordedHost) {
  Seen recorded = RecordSession(kRealtime, {kCreate}, "response.done");
  FinishRecording(1);
  auto reader = recorder::query::ReplayReader::Open(Db());
  ASSERT_TRUE(reader.ok());
  tools::replay::ServerOptions o;
  o.speed = 0;
  o.tls = true;
  o.ca_dir = (dir_ / "replay-ca").string();
  ASSERT_TRUE((*reader)->LoadAll(&o.sessions, &o.exchanges).ok());
  auto server = tools::replay::ReplayServer::Start(std::move(o));
  ASSERT_TRUE(server.ok()) << server.status();
  replay_ = std::move(*server);

  net::io_context ioc;
  ssl::context ctx(ssl::context::tls_client);
  ctx.load_verify_file((dir_ / "replay-ca" / "relaytap-ca.pem").string());
  ctx.set_verify_mode(ssl::verify_peer);
  websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws(ioc, ctx);
  auto& tcp_layer = beast::get_lowest_layer(ws);
  tcp_layer.expires_after(std::chrono::seconds(20));
  tcp_layer.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), replay_->port()));
  ASSERT_TRUE(SSL_set_tlsext_host_name(ws.next_layer().native_handle(), kAzureHost));
  ws.next_layer().set_verify_callback(ssl::host_name_verification(kAzureHost));
  ws.next_layer().handshake(ssl::stream_base::client);
  tcp_layer.expires_never();
  Seen replayed = Converse(ws, kRealtime, {kCreate}, "response.done");
  ExpectSame(recorded, replayed);
}

// Records every observation twice: into the fixture's recorder (audio runs on) and into one that
// writes a row per message (runs off), so the two stores of the same traffic can be compared.
class TeeSink : public recorder::Sink {
 public:
  TeeSink(recorder::Sink& a, recorder::Sink& b) : a_(a), b_(b) {}
  bool TrySubmit(recorder::Observation&& obs) noexcept override {
    recorder::Observation copy = obs;
    const bool b = b_.TrySubmit(std::move(copy));
    return a_.TrySubmit(std::move(obs)) && b;
  }

 private:
  recorder::Sink& a_;
  recorder::Sink& b_;
};

class ReplayRunsTest : public ReplayRoundTripTest {
 protected:
  // The fixture's recorder and one with audio runs off, both fed by a TeeSink.
  recorder::Sink* HarnessSink() override {
    recorder::RecorderOptions ro;
    ro.db_path = (dir_ / "per_message.db").string();
    ro.key_dir = dir_.string();
    ro.audio_runs = false;
    auto plain = recorder::Recorder::Open(ro);
    EXPECT_TRUE(plain.ok()) << plain.status();
    if (!plain.ok()) return nullptr;
    per_message_ = std::move(*plain);
    tee_ = std::make_unique<TeeSink>(*recorder_, *per_message_);
    return tee_.get();
  }

  recorder::query::RecordedSession LoadOnlySession(const std::string& db) {
    auto reader = recorder::query::ReplayReader::Open(db);
    EXPECT_TRUE(reader.ok()) << reader.status();
    if (!reader.ok()) return {};
    auto session = (*reader)->LoadSession("1");
    EXPECT_TRUE(session.ok()) << session.status();
    return session.ok() ? std::move(*session) : recorder::query::RecordedSession{};
  }

  std::unique_ptr<recorder::Recorder> per_message_;
  std::unique_ptr<TeeSink> tee_;
};

// Stored as runs (30 appends from the app and their echoes, audio deltas 20 ms apart from the
// upstream), a session loads back as the same messages as one row per message: same order,
// times, sizes and ids (a middle member's event_id aside). So replay plays the same script (at
// --speed 1 the recorded inter-arrival times) and a client sees the same messages, same sizes.
TEST_F(ReplayRunsTest, RunsReplayTheSameMessagesSizesAndTimes) {
  // echo=1: the appends come back as server messages (the runs this test is about).
  const std::string target = kRealtime + "&echo=1&stream=realtime&audio_ms=400&delta_ms=20";
  std::vector<std::string> to_send(
      30, R"({"type":"input_audio_buffer.append","audio":")" + std::string(1280, 'A') + "\"}");
  to_send.push_back(kCreate);
  Seen recorded = RecordSession(target, to_send, "response.done");
  FinishRecording(1);
  ASSERT_TRUE(per_message_->Close().ok());
  const std::string per_message_db = (dir_ / "per_message.db").string();
  // One run for the app's appends, one for the upstream's audio; the echoes of the appends
  // may be cut by the app's response.create. Every message is counted.
  EXPECT_EQ(Query(Db(),
                  "SELECT group_concat(direction || ' ' || run_count, ',') FROM (SELECT * "
                  "FROM events WHERE run_count > 1 AND (type = 'response.output_audio.delta' "
                  "OR (direction = 'client' AND type = 'input_audio_buffer.append')) "
                  "ORDER BY seq)"),
            "client 30,server 20");
  EXPECT_EQ(Query(Db(),
                  "SELECT SUM(COALESCE(run_count, 1)) FROM events WHERE "
                  "type = 'input_audio_buffer.append'"),
            "60");
  EXPECT_EQ(Query(per_message_db, "SELECT COUNT(*) FROM events WHERE run_count IS NOT NULL"), "0");

  recorder::query::RecordedSession runs = LoadOnlySession(Db());
  recorder::query::RecordedSession rows = LoadOnlySession(per_message_db);
  ASSERT_EQ(runs.events.size(), rows.events.size());
  for (size_t i = 0; i < runs.events.size(); ++i) {
    const recorder::query::RecordedEvent& a = runs.events[i];
    const recorder::query::RecordedEvent& b = rows.events[i];
    SCOPED_TRACE(i);
    EXPECT_EQ(a.seq, b.seq);
    EXPECT_EQ(a.first_frame_us, b.first_frame_us);
    EXPECT_EQ(a.from_client, b.from_client);
    EXPECT_EQ(a.type, b.type);
    EXPECT_EQ(a.response_id, b.response_id);
    EXPECT_EQ(a.item_id, b.item_id);
    EXPECT_EQ(a.payload_bytes, b.payload_bytes);
    EXPECT_EQ(a.audio_bytes, b.audio_bytes);
    if (a.run_count == 0 || !a.event_id.empty()) {
      EXPECT_EQ(a.event_id, b.event_id);
    }
    EXPECT_EQ(tools::replay::ReplayPayload(a).size(), tools::replay::ReplayPayload(b).size());
  }
  const tools::replay::SessionScript with_runs = tools::replay::BuildSessionScript(runs);
  const tools::replay::SessionScript per_row = tools::replay::BuildSessionScript(rows);
  EXPECT_EQ(with_runs.client_types, per_row.client_types);
  ASSERT_EQ(with_runs.steps.size(), per_row.steps.size());
  for (size_t i = 0; i < with_runs.steps.size(); ++i) {
    EXPECT_EQ(with_runs.steps[i].delay_us, per_row.steps[i].delay_us) << i;
    EXPECT_EQ(with_runs.steps[i].after_client_messages, per_row.steps[i].after_client_messages);
  }

  StartReplay();
  Seen replayed = ReplaySession(target, to_send, "response.done");
  ExpectSame(recorded, replayed);
  EXPECT_EQ(replayed.sizes, recorded.sizes);
}

}  // namespace
}  // namespace relaytap::testing

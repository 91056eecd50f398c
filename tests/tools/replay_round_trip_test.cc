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
#include "tests/testing/test_recorder.h"
#include "tools/replay/server.h"
#include "tools/replay/timeline.h"

namespace relaytap::testing {
namespace {

namespace websocket = boost::beast::websocket;
using ::testing::HasSubstr;

// What a client saw: one line per message (type and every id in it), the upgrade status, the
// ending, and the apim-request-id of the upgrade answer.
struct Seen {
  int upgrade_status = 0;
  std::string apim_request_id;
  std::vector<std::string> messages;
  std::string ending;
};

void CollectIds(const nlohmann::json& v, const std::string& key, std::string& out) {
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end(); ++it) CollectIds(it.value(), it.key(), out);
  } else if (v.is_array()) {
    for (const auto& e : v) CollectIds(e, key, out);
  } else if (v.is_string() && (key == "id" || key.ends_with("_id"))) {
    out += " " + key + "=" + v.get<std::string>();
  }
}

std::string Signature(const std::string& text) {
  auto doc = nlohmann::json::parse(text, nullptr, false);
  if (!doc.is_object()) return "(not json)";
  std::string out = doc.value("type", std::string("(no type)"));
  CollectIds(doc, "", out);
  // Redacted content comes back as content of the same length (audio, transcript deltas).
  if (doc.contains("delta") && doc["delta"].is_string()) {
    out += " delta_len=" + std::to_string(doc["delta"].get<std::string>().size());
  }
  return out;
}

std::string Ending(const boost::system::error_code& ec, const websocket::close_reason& reason) {
  if (ec == websocket::error::closed) {
    return "close " + std::to_string(reason.code) + " " + std::string(reason.reason.c_str());
  }
  if (ec == net::error::connection_reset || ec == ssl::error::stream_truncated ||
      ec == net::error::eof) {
    return "reset";
  }
  return "error " + ec.message();
}

// The client: upgrade, read until `stop_type` (or the end), send `to_send` after session.created,
// then close normally if the session is still open.
template <class Ws>
Seen Converse(Ws& ws, const std::string& target, const std::vector<std::string>& to_send,
              const std::string& stop_type) {
  Seen seen;
  ws.set_option(
      websocket::stream_base::timeout{std::chrono::seconds(20), std::chrono::seconds(20), false});
  websocket::response_type res;
  boost::system::error_code ec;
  ws.handshake(res, kAzureHost, target, ec);
  seen.upgrade_status = res.result_int();
  seen.apim_request_id = std::string(res["apim-request-id"]);
  if (ec) return seen;
  bool sent = false;
  for (int i = 0; i < 100; ++i) {
    beast::flat_buffer b;
    ws.read(b, ec);
    if (ec) {
      seen.ending = Ending(ec, ws.reason());
      return seen;
    }
    std::string text = beast::buffers_to_string(b.data());
    seen.messages.push_back(Signature(text));
    if (!sent) {
      for (const std::string& m : to_send) ws.write(net::buffer(m));
      sent = true;
    }
    if (!stop_type.empty() && seen.messages.back().starts_with(stop_type + " ")) break;
  }
  ws.close(websocket::close_code::normal, ec);
  seen.ending = ec ? Ending(ec, ws.reason()) : "client close";
  return seen;
}

class ReplayRoundTripTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshDir("replay_round_trip");
    recorder_ = OpenTestRecorder(dir_);
    ASSERT_NE(recorder_, nullptr);
    ProxyHarness::Options o;
    o.sink = recorder_.get();
    harness_ = std::make_unique<ProxyHarness>(std::move(o));
  }

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

void ExpectSame(const Seen& recorded, const Seen& replayed) {
  EXPECT_EQ(replayed.upgrade_status, recorded.upgrade_status);
  EXPECT_EQ(replayed.apim_request_id, recorded.apim_request_id);
  EXPECT_EQ(replayed.messages, recorded.messages);
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

}  // namespace
}  // namespace relaytap::testing

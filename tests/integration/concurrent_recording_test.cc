// Many realtime sessions at once through the real proxy into the real Recorder: per session, the
// events in SQLite are the messages the client sent and the fake upstream sent, in order, with a
// gap-free sequence (runs of audio events read back member by member); every connection, exchange
// and session is there with its outcome; nothing was dropped; and the relay stayed byte-identical
// (fake upstream transcripts = client's view).
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <condition_variable>
#include <latch>
#include <mutex>
#include <thread>

#include "nlohmann/json.hpp"
#include "recorder/query/replay_reader.h"
#include "recorder/recorder.h"
#include "tests/testing/proxy_harness.h"
#include "tests/testing/sqlite_query.h"
#include "tests/testing/test_recorder.h"

namespace relaytap::testing {
namespace {

namespace websocket = boost::beast::websocket;
using TlsWebSocket = websocket::stream<beast::ssl_stream<beast::tcp_stream>&>;

constexpr int kSessions = 20;
constexpr int kRounds = 3;
constexpr int kFailEvery = 5;  // sessions 4, 9, 14, 19 ask the fake upstream to fail responses

std::string One(const std::string& db_path, const std::string& sql) {
  std::vector<std::string> r = QueryRows(db_path, sql);
  return r.size() == 1 ? r[0] : "<" + std::to_string(r.size()) + " rows>";
}

// What one client sent and received, as it saw it.
struct SessionLog {
  std::string session_id;
  std::vector<std::string> sent_event_ids;
  std::vector<std::string> sent_sha, received_sha;
  std::vector<std::string> received;  // "type:event_id" of every data message from upstream
  std::string error;                  // non-empty if the client failed
};

std::string Describe(const std::string& payload) {
  auto j = nlohmann::json::parse(payload, nullptr, false);
  if (!j.is_object()) return "?";
  return j.value("type", "") + ":" + j.value("event_id", "");
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

class Client {
 public:
  Client(ProxyHarness& h, int index, std::atomic<int>& fd)
      : index_(index), conn_(h.InterceptedClient()), ws_(conn_->tls()) {
    fd = beast::get_lowest_layer(conn_->tls()).socket().native_handle();
    beast::get_lowest_layer(conn_->tls()).expires_never();
    if (index % 2 == 0) {
      websocket::permessage_deflate pmd;
      pmd.client_enable = true;
      ws_.set_option(pmd);
    }
  }

  void Open(SessionLog& log) {
    std::string target = "/openai/v1/realtime?model=gpt-realtime&echo=1";
    if (index_ % kFailEvery == kFailEvery - 1) target += "&fail=response";
    ws_.handshake(kAzureHost, target);
    std::string created = Read(log);
    log.session_id = nlohmann::json::parse(created)["session"]["id"].get<std::string>();
  }

  void Round(SessionLog& log, int round) {
    const std::string prefix = "evt_s" + std::to_string(index_) + "_r" + std::to_string(round);
    const std::string audio(4096, static_cast<char>('A' + index_));
    Send(log, prefix + "_a",
         R"({"type":"input_audio_buffer.append","event_id":")" + prefix + R"(_a","audio":")" +
             audio + "\"}");
    Send(log, prefix + "_c", R"({"type":"response.create","event_id":")" + prefix + "_c\"}");
    Read(log);  // the echoed append
    for (int i = 0; i < 20; ++i) {
      if (Read(log).find("\"response.done\"") != std::string::npos) break;
    }
  }

  void Close() {
    ws_.close(websocket::close_code::normal);
    beast::flat_buffer b;
    boost::system::error_code ec;
    for (int i = 0; i < 5 && !ec; ++i) ws_.read(b, ec);  // until the close reply
  }

 private:
  void Send(SessionLog& log, const std::string& event_id, const std::string& payload) {
    ws_.text(true);
    ws_.write(net::buffer(payload));
    log.sent_event_ids.push_back(event_id);
    log.sent_sha.push_back(Sha256Hex(payload));
  }
  std::string Read(SessionLog& log) {
    beast::flat_buffer b;
    ws_.read(b);
    std::string payload = beast::buffers_to_string(b.data());
    log.received.push_back(Describe(payload));
    log.received_sha.push_back(Sha256Hex(payload));
    return payload;
  }

  const int index_;
  std::unique_ptr<ProxyClient> conn_;
  TlsWebSocket ws_;
};

// Runs every client on its own thread; all sessions are open before any traffic starts. Bounded:
// after `limit` the sockets are shut down, which ends every blocked read with an error.
std::vector<SessionLog> RunClients(ProxyHarness& h, std::chrono::seconds limit) {
  std::vector<SessionLog> logs(kSessions);
  std::vector<std::atomic<int>> fds(kSessions);
  for (auto& fd : fds) fd = -1;
  std::latch all_open(kSessions);
  std::mutex mu;
  std::condition_variable cv;
  int finished = 0;
  std::vector<std::thread> threads;
  for (int i = 0; i < kSessions; ++i) {
    threads.emplace_back([&, i] {
      bool counted = false;
      try {
        Client c(h, i, fds[i]);
        c.Open(logs[i]);
        counted = true;
        all_open.arrive_and_wait();
        for (int r = 0; r < kRounds; ++r) c.Round(logs[i], r);
        c.Close();
      } catch (const std::exception& e) {
        logs[i].error = e.what();
        if (!counted) all_open.count_down();
      }
      std::lock_guard lock(mu);
      ++finished;
      cv.notify_all();
    });
  }
  {
    std::unique_lock lock(mu);
    if (!cv.wait_for(lock, limit, [&] { return finished == kSessions; })) {
      for (auto& fd : fds) {
        if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
      }
    }
  }
  for (std::thread& t : threads) t.join();
  return logs;
}

TEST(ConcurrentRecordingTest, TwentyRealtimeSessionsAreRecordedInOrderWithTheirOutcomes) {
  const std::filesystem::path dir = FreshDir("concurrent_recording");
  std::unique_ptr<recorder::Recorder> rec = testing::OpenTestRecorder(dir);
  ASSERT_NE(rec, nullptr);
  ProxyHarness::Options o;
  o.sink = rec.get();
  auto h = std::make_unique<ProxyHarness>(std::move(o));

  std::vector<SessionLog> logs = RunClients(*h, std::chrono::seconds(60));
  for (const SessionLog& log : logs) ASSERT_EQ(log.error, "") << log.session_id;
  ASSERT_TRUE(h->upstream().WaitForClosedWsSessions(kSessions, std::chrono::seconds(20)));
  const std::vector<tools::fake_upstream::WsTranscript> upstream = h->upstream().ws_sessions();
  h.reset();  // every session has ended
  ASSERT_TRUE(rec->Close().ok());
  EXPECT_EQ(rec->stats().dropped, 0u);
  EXPECT_EQ(rec->stats().write_failures, 0u);

  // The relay is byte-identical: the fake upstream got what each client sent and vice versa.
  ASSERT_EQ(upstream.size(), static_cast<size_t>(kSessions));
  for (const SessionLog& log : logs) {
    auto it = std::find_if(upstream.begin(), upstream.end(),
                           [&](const auto& t) { return t.received == log.sent_sha; });
    ASSERT_NE(it, upstream.end()) << log.session_id;
    EXPECT_EQ(it->sent, log.received_sha) << log.session_id;
  }

  const std::string db = TestDbPath(dir);
  const std::string n = std::to_string(kSessions);
  EXPECT_EQ(One(db, "SELECT COUNT(*) FROM connections WHERE close_us IS NOT NULL"), n);
  EXPECT_EQ(One(db,
                "SELECT COUNT(*), SUM(status = 101), SUM(transport = 'websocket_upgrade') "
                "FROM exchanges"),
            n + "|" + n + "|" + n);
  EXPECT_EQ(One(db,
                "SELECT COUNT(*) FROM ws_sessions WHERE exchange_id IS NOT NULL AND "
                "close_code = 1000 AND close_side = 'app'"),
            n);
  EXPECT_EQ(One(db, "SELECT COUNT(*) FROM gaps"), "0");
  auto reader = recorder::query::ReplayReader::Open(db);
  ASSERT_TRUE(reader.ok()) << reader.status();
  size_t messages = 0;
  for (int i = 0; i < kSessions; ++i) {
    const SessionLog& log = logs[i];
    SCOPED_TRACE(log.session_id);
    const std::string ref =
        One(db, "SELECT id FROM ws_sessions WHERE session_id = '" + log.session_id + "'");
    const std::string where = " FROM events WHERE session_ref = " + ref;
    // Read back message by message (a run of audio events is one row, each member its own
    // message): one sequence over both directions, 1..N without gaps or repeats.
    auto session = (*reader)->LoadSession(ref);
    ASSERT_TRUE(session.ok()) << session.status();
    std::vector<std::string> client_ids, server;
    for (size_t k = 0; k < session->events.size(); ++k) {
      const recorder::query::RecordedEvent& e = session->events[k];
      EXPECT_EQ(e.seq, static_cast<int64_t>(k + 1));
      if (e.opcode != 1) continue;
      if (e.from_client) {
        client_ids.push_back(e.event_id);
      } else {
        server.push_back(e.type + ":" + e.event_id);
      }
    }
    messages += session->events.size();
    EXPECT_EQ(Join(client_ids), Join(log.sent_event_ids));
    // A run keeps its first and last member's event_id only.
    std::vector<std::string> want = log.received;
    for (size_t k = 0; k < server.size() && k < want.size(); ++k) {
      if (server[k].ends_with(".delta:")) want[k] = want[k].substr(0, want[k].find(':') + 1);
    }
    EXPECT_EQ(Join(server), Join(want));
    // Counts include the close frame each way.
    EXPECT_EQ(One(db, "SELECT messages_up, messages_down FROM ws_sessions WHERE id = " + ref),
              std::to_string(log.sent_event_ids.size() + 1) + "|" +
                  std::to_string(log.received.size() + 1));
    const bool failing = i % kFailEvery == kFailEvery - 1;
    EXPECT_EQ(
        One(db, "SELECT outcome, responses, failed_responses FROM ws_sessions WHERE id = " + ref),
        std::string(failing ? "response_failed" : "ok") + "|" + std::to_string(kRounds) + "|" +
            std::to_string(failing ? kRounds : 0));
    EXPECT_EQ(One(db, "SELECT SUM(audio_bytes)" + where + " AND direction = 'client'"),
              std::to_string(kRounds * 4096 * 3 / 4));
  }
  EXPECT_EQ(One(db, "SELECT SUM(COALESCE(run_count, 1)) FROM events"), std::to_string(messages));
  EXPECT_EQ(One(db, "PRAGMA integrity_check"), "ok");
}

}  // namespace
}  // namespace relaytap::testing

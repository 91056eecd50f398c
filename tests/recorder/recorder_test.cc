#include "recorder/recorder.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/string_recycler.h"
#include "gtest/gtest.h"
#include "recorder/secret.h"
#include "tests/recorder/recorder_test_support.h"
#include "tests/recorder/test_util.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wait.h"

namespace relaytap::recorder {
namespace {

using ::relaytap::testing::StatusIs;
using ::relaytap::testing::WaitFor;
using testing::kDown;
using testing::kT0;
using testing::kUp;
using testing::OpenOrDie;
using testing::Options;
using testing::Query;
using testing::Text;

// A realistic failing realtime session; `c` plants canaries in every secret/content position.
void SubmitSession(Sink& sink, uint64_t conn, int64_t t0, const std::string& c) {
  ASSERT_TRUE(sink.TrySubmit(ConnectionOpened{conn, t0, "127.0.0.1:5000",
                                              "contoso-eus2.openai.azure.com", 443, true, false}));
  ASSERT_TRUE(sink.TrySubmit(
      testing::RealtimeUpgrade(conn, t0, "APIKEY" + c, "QUERYKEY" + c, "SUBKEY" + c)));
  uint64_t seq = 0;
  auto msg = [&](WsDirection d, std::string p) {
    ++seq;
    ASSERT_TRUE(
        sink.TrySubmit(Text(conn, seq, d, t0 + 100'000 + int64_t(seq) * 20'000, std::move(p))));
  };
  msg(kDown,
      R"({"type":"session.created","event_id":"event_1","session":{"id":"sess_A1","object":"realtime.session","model":"gpt-4o-realtime-preview","instructions":"INSTR)" +
          c + R"("}})");
  msg(kUp, R"({"type":"session.update","session":{"instructions":"MYINSTR)" + c +
               R"(","tools":[{"type":"mcp","server_label":"x","authorization":"MCPAUTH)" + c +
               R"("}]}})");
  msg(kUp,
      R"({"type":"conversation.item.create","item":{"type":"message","role":"user","content":[{"type":"input_text","text":"USERTEXT)" +
          c + R"("}]}})");
  msg(kUp, R"({"type":"input_audio_buffer.append","event_id":"evt_a","audio":")" +
               testing::Base64(4800, 'q') + R"("})");
  msg(kUp, R"({"type":"response.create","event_id":"evt_r","response":{"instructions":"RESPINSTR)" +
               c + R"("}})");
  msg(kDown,
      R"({"type":"response.created","event_id":"event_2","response":{"id":"resp_R1","status":"in_progress"}})");
  for (int i = 0; i < 3; ++i) {
    msg(kDown,
        R"({"type":"response.output_audio.delta","event_id":"event_a","response_id":"resp_R1","item_id":"item_I1","output_index":0,"content_index":0,"delta":")" +
            testing::Base64(9600, char('a' + i)) + R"("})");
    msg(kDown,
        R"({"type":"response.output_audio_transcript.delta","event_id":"event_t","response_id":"resp_R1","item_id":"item_I1","delta":"TRANSCRIPT)" +
            c + R"("})");
  }
  msg(kDown,
      R"({"type":"response.function_call_arguments.done","response_id":"resp_R1","item_id":"item_I2","call_id":"call_1","arguments":"{\"ARGS)" +
          c + R"(\":1}"})");
  msg(kDown,
      R"({"type":"response.done","event_id":"event_9","response":{"id":"resp_R1","status":"failed","status_details":{"type":"failed","error":{"type":"server_error","code":null}},"output":[{"type":"message","content":[{"type":"output_audio","transcript":"OUT)" +
          c + R"("}]}]}})");
  WsMessage close;
  close.connection_id = conn;
  close.exchange_sequence = 1;
  close.sequence = ++seq;
  close.direction = kUp;
  close.opcode = 8;
  close.first_frame_us = close.last_frame_us = t0 + 2'000'000;
  close.close_code = 1000;
  ASSERT_TRUE(sink.TrySubmit(std::move(close)));
  ASSERT_TRUE(sink.TrySubmit(testing::Closed(conn, t0 + 2'010'000)));
  ConnectionClosed cc;
  cc.connection_id = conn;
  cc.close_us = t0 + 2'020'000;
  cc.end = EndFacts{.reason = EndReason::kRelayEnded, .up_ended_first = true, .websocket = true};
  ASSERT_TRUE(sink.TrySubmit(std::move(cc)));
}

TEST(RecorderTest, RoundTripOfAFailedRealtimeSession) {
  std::string dir = testing::MakeTempDir("roundtrip");
  RecorderOptions o = Options(dir);
  auto rec = OpenOrDie(o);
  ASSERT_NE(rec, nullptr);
  SubmitSession(*rec, 7, kT0, "");
  ASSERT_TRUE(rec->Close().ok());
  EXPECT_EQ(rec->stats().dropped, 0u);
  const std::string& db = o.db_path;
  EXPECT_EQ(
      Query(db,
            "SELECT resource, path_kind, deployment, api_version, transport, status, "
            "apim_request_id, x_request_id, region, auth_kind, outcome FROM exchanges"),
      std::vector<std::string>{"contoso-eus2|preview|gpt-4o-realtime|2025-04-01-preview|"
                               "websocket_upgrade|101|aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee|"
                               "req-7f3e|East US 2|api_key_header,query_key,subprotocol_key|ok"});
  EXPECT_EQ(Query(db,
                  "SELECT session_id, model, outcome, first_error_type, "
                  "first_failure_response_id, close_code, close_side, messages_up, "
                  "messages_down, failed_responses, exchange_id IS NOT NULL FROM ws_sessions"),
            std::vector<std::string>{"sess_A1|gpt-4o-realtime-preview|response_failed|"
                                     "server_error|resp_R1|1000|app|5|10|1|1"});
  EXPECT_EQ(Query(db,
                  "SELECT kind, session_id, response_id, outcome, apim_request_id, region, "
                  "deployment, substr(time_utc, 1, 23) FROM v_failures"),
            std::vector<std::string>{"ws_session|sess_A1|resp_R1|response_failed|"
                                     "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee|East US 2|"
                                     "gpt-4o-realtime|2025-07-15T08:00:00.380"});
  EXPECT_EQ(Query(db, "SELECT hour, sessions, failures, failure_pct FROM v_sessions_per_hour"),
            std::vector<std::string>{"2025-07-15T08:00Z|1|1|100.0"});
  // The append and a run of the three audio deltas (the transcript deltas are a run of their
  // own): 15 messages in 11 rows.
  EXPECT_EQ(Query(db,
                  "SELECT SUM(audio_bytes), COUNT(*), SUM(COALESCE(run_count, 1)) FROM "
                  "events WHERE audio_bytes > 0"),
            std::vector<std::string>{"33600|2|4"});
  auto timeline = Query(db,
                        "SELECT seq, rel_ms, direction, type, response_id, count FROM "
                        "v_session_timeline WHERE session_id = 'sess_A1' ORDER BY seq");
  ASSERT_EQ(timeline.size(), 11u);
  EXPECT_EQ(timeline[0], "1|40.0|server|session.created|NULL|1");
  EXPECT_EQ(timeline[6], "7|160.0|server|response.output_audio.delta|resp_R1|3");
  EXPECT_EQ(timeline[7], "8|180.0|server|response.output_audio_transcript.delta|resp_R1|3");
  EXPECT_EQ(timeline[9], "14|300.0|server|response.done|resp_R1|1");
  EXPECT_EQ(Query(db, "SELECT stop_us IS NOT NULL, schema_version, durability FROM runs"),
            std::vector<std::string>{"1|" + std::to_string(kSchemaVersion) + "|normal"});
  EXPECT_EQ(Query(db,
                  "SELECT COUNT(*) FROM connections WHERE close_us IS NOT NULL AND "
                  "outcome = 'ok'"),
            std::vector<std::string>{"1"});
}

using testing::ReadAll;

TEST(RecorderTest, GuardDecisionsAreRowsLinkedToTheirExchange) {
  std::string dir = testing::MakeTempDir("guard");
  RecorderOptions o = Options(dir);
  auto rec = OpenOrDie(o);
  ASSERT_NE(rec, nullptr);
  GuardDecision g;
  g.at_us = kT0;
  g.key = "contoso.openai.azure.com/gpt-4o";
  g.mode = "enforce";
  g.decision = "reject";
  g.reason = "attempt_cap";
  g.counts = R"({"attempt":4})";
  g.connection_id = 3;
  g.exchange_sequence = 1;
  g.retry_after_ms = 10000;
  ASSERT_TRUE(rec->TrySubmit(GuardDecision(g)));
  Exchange ex;
  ex.connection_id = 3;
  ex.sequence = 1;
  ex.method = "POST";
  ex.host = "contoso.openai.azure.com";
  ex.target = "/openai/deployments/gpt-4o/chat/completions?api-key=SECRETKEY";
  ex.status = 429;
  ex.request_start_us = kT0;
  ex.local_error_code = "relaytap_attempt_cap";
  ex.end.reason = EndReason::kGuardRejected;
  ASSERT_TRUE(rec->TrySubmit(std::move(ex)));
  GuardDecision open;
  open.at_us = kT0 + 1;
  open.key = g.key;
  open.mode = "enforce";
  open.decision = "breaker_open";
  open.retry_after_ms = 5000;
  ASSERT_TRUE(rec->TrySubmit(std::move(open)));
  ASSERT_TRUE(rec->Close().ok());
  EXPECT_EQ(Query(o.db_path,
                  "SELECT decision, reason, retry_after_ms, outcome, status, "
                  "json_extract(counts, '$.attempt') FROM v_guard_decisions "
                  "ORDER BY time_utc"),
            (std::vector<std::string>{"reject|attempt_cap|10000|guard_rejected|429|4",
                                      "breaker_open|NULL|5000|NULL|NULL|NULL"}));
  EXPECT_EQ(Query(o.db_path, "SELECT COUNT(*) FROM guard_decisions WHERE connection_id IS NULL"),
            std::vector<std::string>{"1"});
}

TEST(RecorderTest, CanariesNeverReachTheDatabaseFiles) {
  std::string dir = testing::MakeTempDir("canary");
  RecorderOptions o = Options(dir);
  o.batch_interval = absl::Milliseconds(20);  // written soon; the WAL stays un-checkpointed
  auto rec = OpenOrDie(o);
  ASSERT_NE(rec, nullptr);
  const std::string canary = "CANARYzq81x";
  SubmitSession(*rec, 1, kT0, canary);
  // An HTTP exchange with a bearer token, a secret body, an SSE stream and an error body.
  Exchange ex;
  ex.connection_id = 2;
  ex.sequence = 1;
  ex.method = "POST";
  ex.host = "contoso.openai.azure.com";
  ex.target = "/openai/v1/responses?token=TOK" + canary;
  ex.request_headers = {{"Authorization", "Bearer sk-" + canary + "aaaaaaaaaaaaaaaaaaaa"},
                        {"Cookie", "c=" + canary}};
  ex.request_body = {"application/json", 0,
                     R"({"model":"gpt-4o","input":"PROMPT)" + canary + R"("})", false};
  ex.status = 500;
  ex.response_body = {
      "application/json", 0,
      // error.param and error.message are kept by the default policy (structural / scrubbed free
      // text), so only a credential-shaped canary is planted in the message.
      R"({"error":{"type":"server_error","code":"x","message":"bad key sk-)" + canary +
          R"(aaaaaaaaaaaaaaaaaaaa","param":null}})",
      false};
  ex.sse_events = {
      {kT0, "message", R"({"type":"response.output_text.delta","delta":"SSE)" + canary + R"("})"}};
  ex.request_start_us = kT0;
  ex.error_reason = "upstream said " + canary.substr(0, 3);
  ASSERT_TRUE(rec->TrySubmit(std::move(ex)));
  // Peek at the files while the data sits in the WAL, then again after Close().
  std::vector<std::string> files = {o.db_path, o.db_path + "-wal", o.db_path + "-shm"};
  for (int round = 0; round < 2; ++round) {
    if (round == 1) {
      ASSERT_TRUE(rec->Close().ok());
    } else {
      // Round 0 looks only once everything was committed (to the WAL): before that, an absent
      // canary would prove nothing.
      ASSERT_TRUE(WaitFor(
          [&] {
            return Query(o.db_path, "SELECT COUNT(*) FROM exchanges") ==
                       std::vector<std::string>{"2"} &&
                   Query(o.db_path, "SELECT COUNT(*) FROM events") != std::vector<std::string>{"0"};
          },
          "the recorder to commit both exchanges and their events"));
      ASSERT_GT(std::filesystem::file_size(o.db_path + "-wal"), 0u) << "the data is in the WAL";
    }
    for (const std::string& f : files) {
      EXPECT_EQ(ReadAll(f).find(canary), std::string::npos) << f << " round " << round;
    }
  }
  EXPECT_EQ(Query(o.db_path, "SELECT COUNT(*) FROM exchanges"), std::vector<std::string>{"2"});
  EXPECT_EQ(Query(o.db_path, "SELECT session_id FROM ws_sessions"),
            std::vector<std::string>{"sess_A1"});
}

// The writer hands the buffers of the messages it wrote back to the taps that fill them
// (base/string_recycler.h), and lets them go once the sessions are quiet for a batch interval.
TEST(RecorderTest, WrittenMessagesGiveTheirPayloadBuffersBackUntilTrafficStops) {
  StringRecycler& recycler = StringRecycler::Process();
  recycler.Release();
  std::string dir = testing::MakeTempDir("recycle");
  RecorderOptions o = Options(dir);
  o.batch_interval = absl::Milliseconds(500);  // the window in which the buffers are held
  auto rec = OpenOrDie(o);
  ASSERT_NE(rec, nullptr);
  constexpr int kMessages = 5;
  for (int i = 0; i < kMessages; ++i) {
    std::string payload = R"({"type":"response.text.delta","event_id":"event_)" +
                          std::to_string(i) + R"(","delta":")" + std::string(6000, 'a' + i) +
                          R"("})";
    ASSERT_TRUE(rec->TrySubmit(Text(1, i + 1, kDown, kT0 + i, std::move(payload))));
  }
  ASSERT_TRUE(WaitFor([&] { return recycler.SharedForTest() == kMessages; }, "the buffers back"));
  EXPECT_EQ(rec->stats().written, static_cast<uint64_t>(kMessages));
  EXPECT_GE(recycler.SharedBytesForTest(), size_t{kMessages} * 6000);
  // A batch interval without messages: the writer releases them.
  ASSERT_TRUE(WaitFor([&] { return recycler.SharedForTest() == 0; }, "the buffers released"));
  ASSERT_TRUE(rec->Close().ok());
  EXPECT_EQ(Query(o.db_path, "SELECT COUNT(*) FROM events WHERE event_id LIKE 'event_%'"),
            std::vector<std::string>{"5"});
}

TEST(RecorderTest, ReopeningAppendsANewRun) {
  std::string dir = testing::MakeTempDir("reopen");
  RecorderOptions o = Options(dir);
  for (int i = 0; i < 2; ++i) {
    auto rec = OpenOrDie(o);
    ASSERT_NE(rec, nullptr);
    EXPECT_EQ(rec->run_id(), i + 1);
  }
  EXPECT_EQ(Query(o.db_path,
                  "SELECT COUNT(*), COUNT(stop_us), COUNT(DISTINCT policy_hash), "
                  "MIN(hostname <> '') FROM runs"),
            std::vector<std::string>{"2|2|1|1"});
}

// #14 item 7: the store and its -wal and -shm are the operator's alone (0600) whatever the
// umask, and a store an earlier version left readable by others is tightened when reopened.
TEST(RecorderTest, StoreFilesArePrivate) {
  const mode_t old_umask = ::umask(0);  // the loosest: only relaytap's own modes count
  std::string dir = testing::MakeTempDir("private");
  RecorderOptions o = Options(dir);
  auto mode = [](const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 0777;
  };
  {
    auto rec = OpenOrDie(o);
    ASSERT_NE(rec, nullptr);
    EXPECT_TRUE(rec->TrySubmit(ConnectionOpened{1, kT0, "127.0.0.1:1", "h", 443, true, false}));
    ASSERT_TRUE(
        WaitFor([&] { return std::filesystem::exists(o.db_path + "-shm"); }, "the -shm file"));
    for (const char* suffix : {"", "-wal", "-shm"}) {
      EXPECT_EQ(mode(o.db_path + suffix), 0600u) << suffix;
    }
  }
  ASSERT_EQ(::chmod(o.db_path.c_str(), 0644), 0);
  {
    auto rec = OpenOrDie(o);
    ASSERT_NE(rec, nullptr);
    EXPECT_EQ(mode(o.db_path), 0600u);
  }
  ::umask(old_umask);
}

TEST(RecorderTest, MalformedPolicyIsAClearStartupError) {
  std::string dir = testing::MakeTempDir("policy");
  RecorderOptions o = Options(dir);
  o.redaction_policy_path = dir + "/bad.json";
  std::ofstream(o.redaction_policy_path) << "{ not json";
  auto rec = Recorder::Open(o);
  ASSERT_FALSE(rec.ok());
  EXPECT_NE(rec.status().message().find("bad.json"), absl::string_view::npos) << rec.status();
}

TEST(RecorderTest, RedactionKeyIsCreated0600AndReused) {
  std::string dir = testing::MakeTempDir("key") + "/ca";
  auto k1 = LoadOrCreateRedactionKey(dir);
  ASSERT_TRUE(k1.ok()) << k1.status();
  EXPECT_EQ(k1->size(), kRedactionKeyBytes);
  struct stat st {};
  ASSERT_EQ(stat((dir + "/" + kRedactionKeyFileName).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(*LoadOrCreateRedactionKey(dir), *k1);
  chmod((dir + "/" + kRedactionKeyFileName).c_str(), 0644);
  EXPECT_THAT(LoadOrCreateRedactionKey(dir), StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST(RecorderTest, ANewerStoreIsRefusedAtOpen) {
  std::string dir = testing::MakeTempDir("newer");
  RecorderOptions o = Options(dir);
  { ASSERT_NE(OpenOrDie(o), nullptr); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(o.db_path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE meta SET value='99' WHERE key='schema_version'", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto rec = Recorder::Open(o);
  EXPECT_THAT(rec, StatusIs(absl::StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace relaytap::recorder

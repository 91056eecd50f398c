// #14 item 1: the values the recorder writes to columns of their own (event type and ids, the
// session id and model, error type and code, the exchange's deployment, model, API version and
// correlation ids, the type scanned from non-JSON text) pass the identifier rule like the
// payload does: a key-shaped value or free text becomes a fingerprint. Before, they were written
// as sent, and a canary in any of them reached the database file.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "recorder/recorder.h"
#include "tests/recorder/recorder_test_support.h"
#include "tests/recorder/test_util.h"

namespace relaytap::recorder {
namespace {

using testing::kDown;
using testing::kT0;
using testing::kUp;
using testing::OpenOrDie;
using testing::Options;
using testing::Query;
using testing::ReadAll;
using testing::Text;

// Scans every TEXT value of every table for `needle`; returns "table.column" of each hit.
std::vector<std::string> ColumnsHolding(const std::string& db, const std::string& needle) {
  std::vector<std::string> hits;
  for (const std::string& table : Query(db, "SELECT name FROM sqlite_master WHERE type='table'")) {
    for (const std::string& column :
         Query(db, "SELECT name FROM pragma_table_info('" + table + "')")) {
      const std::vector<std::string> n =
          Query(db, "SELECT COUNT(*) FROM " + table + " WHERE instr(CAST(\"" + column +
                        "\" AS TEXT), '" + needle + "') > 0");
      if (!n.empty() && n[0] != "0") hits.push_back(table + "." + column);
    }
  }
  return hits;
}

TEST(ColumnCanaryTest, SecretsAndFreeTextInIndexedColumnsBecomeFingerprints) {
  const std::string dir = testing::MakeTempDir("column_canary");
  RecorderOptions o = Options(dir);
  auto rec = OpenOrDie(o);
  ASSERT_NE(rec, nullptr);
  const std::string c = "CANARYq7w2";
  const std::string key = "sk-proj-" + c + "aaaaaaaaaaaaaaaaaaaaaaaa";  // a secret pattern
  const std::string text = "my secret " + c;                            // not an identifier

  ASSERT_TRUE(rec->TrySubmit(
      ConnectionOpened{1, kT0, "127.0.0.1:5000", "contoso.openai.azure.com", 443, true, false}));
  Exchange up = testing::RealtimeUpgrade(1, kT0, "k", "q", "s");
  // The GA path's model parameter (the deployment) is free text; the api-version a key.
  up.target = "/openai/v1/realtime?model=my%20secret%20" + c + "&api-version=" + key;
  up.response_headers.emplace_back("x-request-id", text);
  ASSERT_TRUE(rec->TrySubmit(std::move(up)));
  uint64_t seq = 0;
  auto msg = [&](WsDirection d, const std::string& payload) {
    ++seq;
    ASSERT_TRUE(rec->TrySubmit(Text(1, seq, d, kT0 + 100'000 + int64_t(seq) * 1'000, payload)));
  };
  msg(kDown, R"({"type":"session.created","event_id":")" + key + R"(","session":{"id":")" + text +
                 R"(","model":")" + key + R"("}})");
  msg(kUp, R"({"type":")" + key + R"(","event_id":"evt_ok_1"})");
  msg(kUp, R"({"type":"conversation.item.create","event_id":")" + text +
               R"(","previous_item_id":")" + key + R"(","item":{"id":")" + text + R"("}})");
  msg(kDown, R"({"type":"error","event_id":"event_2","error":{"type":")" + key + R"(","code":")" +
                 text + R"(","event_id":")" + key + R"("}})");
  msg(kDown, R"({"type":"response.done","response_id":")" + key + R"(","response":{"id":")" + key +
                 R"(","status":")" + text + R"(","status_details":{"error":{"type":")" + text +
                 R"(","code":")" + key + R"("}}}})");
  msg(kDown, R"(not json "type":")" + key + R"(")");  // the type scanned from text
  ASSERT_TRUE(rec->TrySubmit(testing::Closed(1, kT0 + 200'000)));

  Exchange chat;
  chat.connection_id = 2;
  chat.sequence = 1;
  chat.method = "POST";
  chat.host = "contoso.openai.azure.com";
  chat.target = "/openai/deployments/" + key + "/chat/completions?api-version=" + key;
  chat.request_headers = {{"x-ms-client-request-id", text}};
  chat.status = 400;
  chat.response_body = {"application/json", 0,
                        R"({"error":{"type":")" + key + R"(","code":")" + text + R"("}})", false};
  chat.request_start_us = kT0;
  ASSERT_TRUE(rec->TrySubmit(std::move(chat)));
  ASSERT_TRUE(rec->Close().ok());

  EXPECT_EQ(ColumnsHolding(o.db_path, c), std::vector<std::string>{});
  for (const char* suffix : {"", "-wal", "-shm"}) {
    EXPECT_EQ(ReadAll(o.db_path + suffix).find(c), std::string::npos) << suffix;
  }
  // The rows are there, with fingerprints where the values were, and identifiers kept.
  EXPECT_EQ(Query(o.db_path, "SELECT COUNT(*) FROM events"), std::vector<std::string>{"6"});
  EXPECT_EQ(Query(o.db_path, "SELECT COUNT(*) FROM events WHERE event_id = 'evt_ok_1'"),
            std::vector<std::string>{"1"});
  EXPECT_EQ(Query(o.db_path, "SELECT substr(session_id, 1, 5) FROM ws_sessions"),
            std::vector<std::string>{"hmac:"});
  EXPECT_EQ(Query(o.db_path,
                  "SELECT substr(deployment, 1, 5) || ' ' || substr(api_version, 1, 5) FROM "
                  "exchanges ORDER BY connection_id"),
            (std::vector<std::string>{"hmac: hmac:", "hmac: hmac:"}));
  EXPECT_EQ(Query(o.db_path, "SELECT COUNT(*) FROM events WHERE type = 'session.created'"),
            std::vector<std::string>{"1"});
}

// OpenAI's request ids are req_ and 32 hex digits: a long hex run, yet not a secret. They stay
// readable in the column and the headers, where Support needs them.
TEST(ColumnCanaryTest, HexRequestIdsAreKept) {
  const std::string dir = testing::MakeTempDir("request_ids");
  RecorderOptions o = Options(dir);
  auto rec = OpenOrDie(o);
  ASSERT_NE(rec, nullptr);
  const std::string id = "req_0123456789abcdef0123456789abcdef";
  Exchange ex = testing::RealtimeUpgrade(1, kT0, "k", "q", "s");
  ex.response_headers = {{"x-request-id", id}};
  ASSERT_TRUE(rec->TrySubmit(std::move(ex)));
  ASSERT_TRUE(rec->Close().ok());
  EXPECT_EQ(Query(o.db_path, "SELECT x_request_id FROM exchanges"), std::vector<std::string>{id});
  EXPECT_EQ(Query(o.db_path, "SELECT instr(response_headers, '" + id + "') > 0 FROM exchanges"),
            std::vector<std::string>{"1"});
}

}  // namespace
}  // namespace relaytap::recorder

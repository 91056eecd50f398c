// Facts the incident answers need, as the recorder stores them (schema version 4): every close
// frame's reason, a bearer JWT's audience and tenant, the auth kind of a subprotocol key. Each
// with a canary that must never reach the database files.

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "base/str_cat.h"
#include "gtest/gtest.h"
#include "recorder/recorder.h"
#include "tests/recorder/recorder_test_support.h"
#include "tests/recorder/test_util.h"
#include "tests/testing/wait.h"

namespace relaytap::recorder {
namespace {

using ::relaytap::testing::WaitFor;
using testing::kDown;
using testing::kT0;
using testing::kUp;
using testing::Query;

constexpr char kCanary[] = "CANARYfx42q";
constexpr char kTenant[] = "72f988bf-86f1-41af-91ab-2d7cd011db47";

using testing::ReadAll;

// None of the store's files holds `needle`.
::testing::AssertionResult NotOnDisk(const std::string& db, const std::string& needle) {
  for (const std::string& f : {db, StrCat(db, "-wal"), StrCat(db, "-shm")}) {
    if (std::filesystem::exists(f) && ReadAll(f).find(needle) != std::string::npos) {
      return ::testing::AssertionFailure() << needle << " found in " << f;
    }
  }
  return ::testing::AssertionSuccess();
}

Exchange JwtExchange(uint64_t conn, const std::string& token) {
  Exchange ex = testing::RealtimeUpgrade(conn, kT0, "", "", "");
  ex.target = "/openai/v1/realtime?model=gpt-realtime";
  ex.request_headers = {{"Host", ex.host},
                        {"Upgrade", "websocket"},
                        {"Authorization", StrCat("Bearer ", token)},
                        {"User-Agent", "OpenAI/Python 1.99.0"}};
  ex.status = 401;
  ex.switched = false;
  ex.websocket_upgrade = true;
  ex.end.reason = EndReason::kComplete;
  return ex;
}

TEST(StoreFactsTest, EveryCloseFramesReasonIsStoredScrubbed) {
  const std::string dir = testing::MakeTempDir("close_reasons");
  RecorderOptions o = testing::Options(dir);
  auto rec = testing::OpenOrDie(o);
  ASSERT_NE(rec, nullptr);
  const std::string key = StrCat("sk-", kCanary, "aaaaaaaaaaaaaaaaaaaa");
  ASSERT_TRUE(rec->TrySubmit(testing::RealtimeUpgrade(1, kT0, "k", "q", "s")));
  ASSERT_TRUE(rec->TrySubmit(testing::CloseFrame(1, 1, kDown, kT0 + 100'000, 1008,
                                                 StrCat("policy violation: key ", key))));
  ASSERT_TRUE(rec->TrySubmit(testing::CloseFrame(1, 2, kUp, kT0 + 110'000, 1000, "app done")));
  ASSERT_TRUE(
      rec->TrySubmit(testing::CloseFrame(1, 3, kUp, kT0 + 120'000, 1000, std::string(9000, 'r'))));
  ASSERT_TRUE(rec->TrySubmit(testing::CloseFrame(1, 4, kDown, kT0 + 130'000, 1005, "")));
  ASSERT_TRUE(rec->TrySubmit(testing::Closed(1, kT0 + 200'000)));
  ASSERT_TRUE(rec->Close().ok());
  const std::vector<std::string> rows =
      Query(o.db_path,
            "SELECT direction || '|' || close_code || '|' || COALESCE(substr(close_reason, 1, 24), "
            "'NULL') || '|' || COALESCE(length(close_reason), 0) FROM events ORDER BY seq");
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_TRUE(rows[0].starts_with("server|1008|policy violation: key [h|")) << rows[0];
  EXPECT_EQ(rows[1], "client|1000|app done|8");
  EXPECT_LT(std::stoi(rows[2].substr(rows[2].rfind('|') + 1)), 9000);  // capped
  EXPECT_EQ(rows[3], "server|1005|NULL|0");
  EXPECT_EQ(Query(o.db_path, "SELECT close_reason LIKE '%[hmac:%' FROM ws_sessions"),
            std::vector<std::string>{"1"});
  EXPECT_TRUE(NotOnDisk(o.db_path, kCanary));
}

TEST(StoreFactsTest, JwtAudienceAndTenantAreIdentifiersOrFingerprints) {
  const std::string dir = testing::MakeTempDir("jwt_claims");
  RecorderOptions o = testing::Options(dir);
  auto rec = testing::OpenOrDie(o);
  ASSERT_NE(rec, nullptr);
  const std::string good = testing::UnsignedJwt(StrCat(
      R"({"aud":"https://cognitiveservices.azure.com","tid":")", kTenant,
      R"(","exp":1752566340,"iat":1752562740,"nbf":1752562740,"oid":"OID)", kCanary, R"("})"));
  const std::string secret_aud =
      StrCat("sk-", kCanary, "bbbbbbbbbbbbbbbbbbbbbbbb");  // credential-shaped
  const std::string bad =
      testing::UnsignedJwt(StrCat(R"({"aud":")", secret_aud, R"(","tid":"TENANT)", kCanary,
                                  R"( free text","exp":1752566340})"));
  ASSERT_TRUE(rec->TrySubmit(JwtExchange(1, good)));
  ASSERT_TRUE(rec->TrySubmit(JwtExchange(2, bad)));
  Exchange sub = testing::RealtimeUpgrade(3, kT0, "", "", StrCat("ek_", kCanary, "1234567"));
  sub.target = "/openai/v1/realtime?model=gpt-realtime";
  sub.request_headers = {{"Host", sub.host},
                         {"Upgrade", "websocket"},
                         {"Sec-WebSocket-Protocol",
                          StrCat("realtime, openai-insecure-api-key.ek_", kCanary, "12345")}};
  ASSERT_TRUE(rec->TrySubmit(std::move(sub)));
  ASSERT_TRUE(WaitFor(
      [&] {
        return Query(o.db_path, "SELECT COUNT(*) FROM exchanges") == std::vector<std::string>{"3"};
      },
      "the recorder to commit the three exchanges"));
  EXPECT_TRUE(NotOnDisk(o.db_path, kCanary));  // in the WAL
  ASSERT_TRUE(rec->Close().ok());
  const std::vector<std::string> rows = Query(
      o.db_path,
      "SELECT auth_kind || '|' || COALESCE(jwt_exp, '') || '|' || COALESCE(jwt_aud, 'NULL') || "
      "'|' || COALESCE(jwt_tid, 'NULL') FROM exchanges ORDER BY connection_id");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], StrCat("bearer_jwt|1752566340|https://cognitiveservices.azure.com|", kTenant));
  EXPECT_TRUE(rows[1].starts_with("bearer_jwt|1752566340|hmac:")) << rows[1];
  EXPECT_NE(rows[1].find("|hmac:", 30), std::string::npos) << rows[1];
  EXPECT_EQ(rows[2], "subprotocol_key||NULL|NULL");
  EXPECT_TRUE(NotOnDisk(o.db_path, kCanary));
  EXPECT_TRUE(NotOnDisk(o.db_path, good.substr(good.find('.') + 1, 24)));  // the token: never
}

TEST(StoreFactsTest, StoredPayloadsKeepTheirKeyOrder) {
  const std::string dir = testing::MakeTempDir("key_order");
  RecorderOptions o = testing::Options(dir);
  auto rec = testing::OpenOrDie(o);
  ASSERT_NE(rec, nullptr);
  ASSERT_TRUE(rec->TrySubmit(testing::RealtimeUpgrade(1, kT0, "k", "q", "s")));
  ASSERT_TRUE(rec->TrySubmit(testing::Text(
      1, 1, kUp, kT0 + 100'000,
      R"({"type":"session.update","session":{"voice":"x","instructions":"y","modalities":["text"]}})")));
  ASSERT_TRUE(rec->TrySubmit(testing::Closed(1, kT0 + 200'000)));
  ASSERT_TRUE(rec->Close().ok());
  const std::vector<std::string> rows = Query(o.db_path, "SELECT payload FROM events");
  ASSERT_EQ(rows.size(), 1u);
  size_t last = 0;
  for (const char* key :
       {"\"type\":", "\"session\":", "\"voice\":", "\"instructions\":", "\"modalities\":"}) {
    const size_t at = rows[0].find(key);
    ASSERT_NE(at, std::string::npos) << key << " in " << rows[0];
    EXPECT_GT(at, last) << key << " out of order in " << rows[0];
    last = at;
  }
  EXPECT_EQ(rows[0].find("\"y\""), std::string::npos) << "instructions are redacted";
}

}  // namespace
}  // namespace relaytap::recorder

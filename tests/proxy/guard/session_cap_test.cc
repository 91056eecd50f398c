#include "proxy/guard/session_cap.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace relaytap::proxy::guard {
namespace {

constexpr char kFailedGa[] =
    R"({"type":"response.done","event_id":"ev1","response":{"id":"r1","status":"failed"}})";
constexpr char kFailedBeta[] = R"({"type":"response.failed","response":{"id":"r2"}})";
constexpr char kCompleted[] =
    R"({"type":"response.done","response":{"id":"r3","status":"completed"}})";

SessionCapPolicy Cap(int max, bool reset = true) {
  SessionCapPolicy p;
  p.enabled = true;
  p.max_creates_after_failure = max;
  p.reset_on_success = reset;
  return p;
}

TEST(SessionCapTest, ClassifiesServerMessagesInBothDialects) {
  EXPECT_EQ(ClassifyServerMessage(kFailedGa), ServerResponseEvent::kFailed);
  EXPECT_EQ(ClassifyServerMessage(kFailedBeta), ServerResponseEvent::kFailed);
  EXPECT_EQ(ClassifyServerMessage(kCompleted), ServerResponseEvent::kCompleted);
  EXPECT_EQ(ClassifyServerMessage(R"({"type":"response.audio.delta","delta":"response.done"})"),
            ServerResponseEvent::kNone);
  EXPECT_EQ(ClassifyServerMessage("response.done but not json"), ServerResponseEvent::kNone);
  EXPECT_EQ(ClassifyServerMessage(R"({"type":"response.done","response":{"status":"cancelled"}})"),
            ServerResponseEvent::kNone);
}

// The pre-filter is one pass for "response." followed by "done" or "failed": other response.*
// types before the match, a match at the very end and a truncated prefix.
TEST(SessionCapTest, ClassifiesWhateverPrecedesTheTypeAndStopsAtTheEnd) {
  EXPECT_EQ(ClassifyServerMessage(
                R"({"response.output_audio.delta":1,"response.x":2,"type":"response.failed"})"),
            ServerResponseEvent::kFailed);
  EXPECT_EQ(
      ClassifyServerMessage(R"({"event_id":"response.response.","response":{"status":"failed"},)"
                            R"("type":"response.done"})"),
      ServerResponseEvent::kFailed);
  EXPECT_EQ(ClassifyServerMessage("response."), ServerResponseEvent::kNone);
  EXPECT_EQ(ClassifyServerMessage("response.don"), ServerResponseEvent::kNone);
  EXPECT_EQ(ClassifyServerMessage("respons"), ServerResponseEvent::kNone);
  EXPECT_EQ(ClassifyServerMessage(""), ServerResponseEvent::kNone);
  EXPECT_EQ(ClassifyServerMessage(R"({"type":"response.output_audio.delta","delta":"QUJD"})"),
            ServerResponseEvent::kNone);
}

// Untrusted nesting of any depth is classified without recursion: a response.done nested
// 100,000 deep (and the same inside response.create) used to overflow the stack in a DOM copy
// and kill the proxy under --guard observe.
TEST(SessionCapTest, DeepNestingIsClassifiedWithoutRecursion) {
  constexpr int kDepth = 100'000;
  const std::string deep = std::string(kDepth, '[') + std::string(kDepth, ']');
  EXPECT_EQ(ClassifyServerMessage(R"({"type":"response.done","response":{"status":"failed",)"
                                  R"("output":)" +
                                  deep + "}}"),
            ServerResponseEvent::kFailed);
  EXPECT_EQ(ClassifyServerMessage(R"({"type":"response.done","response":{"output":)" + deep +
                                  R"(,"status":"completed"}})"),
            ServerResponseEvent::kCompleted);
  std::string objects;
  for (int i = 0; i < kDepth; ++i) objects += R"({"a":)";
  objects += "1" + std::string(kDepth, '}');
  EXPECT_EQ(ClassifyServerMessage(R"({"type":"response.done","response":)" + objects + "}"),
            ServerResponseEvent::kNone);
  ClientMessageFacts f = ClassifyClientMessage(R"({"type":"response.create","response":{"x":)" +
                                               deep + R"(},"event_id":"c1"})");
  EXPECT_TRUE(f.response_create);
  EXPECT_EQ(f.event_id, "c1");
  // Only the top level's and the response object's own members count.
  EXPECT_EQ(
      ClassifyServerMessage(R"({"type":"response.done","response":{"x":{"status":"failed"}}})"),
      ServerResponseEvent::kNone);
  EXPECT_EQ(
      ClassifyServerMessage(R"({"response":{"status":"failed"},"x":{"type":"response.done"}})"),
      ServerResponseEvent::kNone);
  EXPECT_EQ(ClassifyServerMessage(R"({"type":"response.done","response":["status","failed"]})"),
            ServerResponseEvent::kNone);
}

TEST(SessionCapTest, ClassifiesClientMessages) {
  ClientMessageFacts f = ClassifyClientMessage(R"({"type":"response.create","event_id":"c9"})");
  EXPECT_TRUE(f.response_create);
  EXPECT_EQ(f.event_id, "c9");
  f = ClassifyClientMessage(R"({"type":"response.create"})");
  EXPECT_TRUE(f.response_create);
  EXPECT_FALSE(f.event_id.has_value());
  EXPECT_FALSE(ClassifyClientMessage(R"({"type":"response.cancel"})").response_create);
  EXPECT_FALSE(ClassifyClientMessage(R"({"x":"response.create"})").response_create);
  EXPECT_FALSE(ClassifyClientMessage("not json response.create").response_create);
}

TEST(SessionCapTest, NothingIsCappedBeforeAFailure) {
  SessionCap cap(Cap(0), GuardMode::kEnforce);
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(cap.OnResponseCreate(true).over_cap);
  cap.OnServerMessage(kCompleted);
  EXPECT_FALSE(cap.OnResponseCreate(true).over_cap);
}

TEST(SessionCapTest, EnforceWithholdsCreatesBeyondTheCapAfterAFailure) {
  SessionCap cap(Cap(2), GuardMode::kEnforce);
  EXPECT_FALSE(cap.OnResponseCreate(true).over_cap);  // first response
  cap.OnServerMessage(kFailedGa);
  EXPECT_FALSE(cap.OnResponseCreate(true).over_cap);  // retry 1
  cap.OnServerMessage(kFailedBeta);
  EXPECT_FALSE(cap.OnResponseCreate(true).over_cap);  // retry 2
  cap.OnServerMessage(kFailedGa);
  SessionCapDecision d = cap.OnResponseCreate(true);
  EXPECT_TRUE(d.over_cap);
  EXPECT_TRUE(d.withhold);
  EXPECT_EQ(d.reason, "session_cap");
  EXPECT_EQ(d.failed_responses, 3);
  EXPECT_EQ(d.creates_after_failure, 2);
  EXPECT_EQ(d.max_creates_after_failure, 2);
  EXPECT_EQ(d.withheld, 1);
  d = cap.OnResponseCreate(true);
  EXPECT_TRUE(d.withhold);
  EXPECT_EQ(d.withheld, 2);
  EXPECT_EQ(d.creates_after_failure, 2);  // withheld ones were not sent
  nlohmann::json counts = nlohmann::json::parse(SessionCapCountsJson(d));
  EXPECT_EQ(counts["withheld"], 2);
  EXPECT_EQ(counts["failed_responses"], 3);
}

TEST(SessionCapTest, ObserveRecordsButNeverWithholds) {
  SessionCap cap(Cap(0), GuardMode::kObserve);
  cap.OnServerMessage(kFailedGa);
  SessionCapDecision d = cap.OnResponseCreate(true);
  EXPECT_TRUE(d.over_cap);
  EXPECT_FALSE(d.withhold);
  EXPECT_EQ(d.reason, "session_cap");
  d = cap.OnResponseCreate(true);
  EXPECT_EQ(d.creates_after_failure, 1);  // the first was forwarded
  EXPECT_EQ(d.withheld, 0);
}

TEST(SessionCapTest, UnenforceableIsForwardedWithItsOwnReason) {
  SessionCap cap(Cap(0), GuardMode::kEnforce);
  cap.OnServerMessage(kFailedGa);
  SessionCapDecision d = cap.OnResponseCreate(false);
  EXPECT_TRUE(d.over_cap);
  EXPECT_FALSE(d.withhold);
  EXPECT_EQ(d.reason, "session_cap_unenforceable");
}

TEST(SessionCapTest, ACompletedResponseEndsTheStreakOnlyWhenConfigured) {
  SessionCap reset(Cap(0, true), GuardMode::kEnforce);
  reset.OnServerMessage(kFailedGa);
  reset.OnServerMessage(kCompleted);
  EXPECT_FALSE(reset.OnResponseCreate(true).over_cap);
  SessionCap keep(Cap(0, false), GuardMode::kEnforce);
  keep.OnServerMessage(kFailedGa);
  keep.OnServerMessage(kCompleted);
  EXPECT_TRUE(keep.OnResponseCreate(true).withhold);
}

TEST(SessionCapTest, ErrorEventHasTheRealtimeShapeAndTheClientEventId) {
  SessionCapDecision d;
  d.failed_responses = 2;
  d.max_creates_after_failure = 1;
  d.creates_after_failure = 1;
  nlohmann::json e = nlohmann::json::parse(SessionCapErrorEvent(d, "relaytap_1_1", "c7"));
  EXPECT_EQ(e["type"], "error");
  EXPECT_EQ(e["event_id"], "relaytap_1_1");
  EXPECT_EQ(e["error"]["type"], "relaytap_guard");
  EXPECT_EQ(e["error"]["code"], "relaytap_session_cap");
  EXPECT_EQ(e["error"]["event_id"], "c7");
  EXPECT_NE(e["error"]["message"].get<std::string>().find("cap 1"), std::string::npos);
  nlohmann::json no_id = nlohmann::json::parse(SessionCapErrorEvent(d, "relaytap_1_2", {}));
  EXPECT_FALSE(no_id["error"].contains("event_id"));
}

// Seen while writing tests/fuzz/session_cap_fuzz (its corpus has the input): the event_id was cut
// at 128 bytes inside a multi-byte character, and the error event for that create then threw
// (nlohmann's dump rejects invalid UTF-8), which would have ended the relay thread.
TEST(SessionCapTest, ALongNonAsciiEventIdIsCutAtACharacterBoundary) {
  const std::string id = std::string(127, 'a') + "\u00e9\u00e9";  // 127 + 2 * 2 bytes
  const ClientMessageFacts f =
      ClassifyClientMessage(R"({"type":"response.create","event_id":")" + id + R"("})");
  ASSERT_TRUE(f.event_id.has_value());
  EXPECT_EQ(*f.event_id, std::string(127, 'a'));
  SessionCapDecision d;
  nlohmann::json e;
  ASSERT_NO_THROW(e = nlohmann::json::parse(SessionCapErrorEvent(d, "relaytap_1_1", f.event_id)));
  EXPECT_EQ(e["error"]["event_id"], std::string(127, 'a'));
}

TEST(SessionCapTest, ServerTextFrameIsUnmaskedFinalTextWithEachLengthForm) {
  for (size_t n : {size_t{5}, size_t{125}, size_t{126}, size_t{65535}, size_t{65536}}) {
    const std::string payload(n, 'a');
    const std::string f = ServerTextFrame(payload);
    EXPECT_EQ(static_cast<uint8_t>(f[0]), 0x81);
    EXPECT_EQ(static_cast<uint8_t>(f[1]) & 0x80, 0);  // not masked
    const size_t header = n < 126 ? 2 : n <= 0xffff ? 4 : 10;
    EXPECT_EQ(f.size(), header + n);
    EXPECT_EQ(f.substr(header), payload);
  }
}

}  // namespace
}  // namespace relaytap::proxy::guard

// The tally counts what the writer thread hands it, as `relaytap stats` counts attempts, and
// publishes only what a transaction committed.

#include "metrics/tally.h"

#include <gtest/gtest.h>

namespace relaytap::metrics {
namespace {

using recorder::Outcome;

size_t O(Outcome o) { return static_cast<size_t>(o); }

recorder::Exchange Upgrade(uint64_t conn, bool switched, int64_t start_us, int64_t head_us) {
  recorder::Exchange ex;
  ex.connection_id = conn;
  ex.sequence = 1;
  ex.websocket_upgrade = true;
  ex.switched = switched;
  ex.request_start_us = start_us;
  ex.response_headers_us = head_us;
  return ex;
}

recorder::WsMessage Message(uint64_t conn, recorder::WsDirection d, int64_t at_us) {
  recorder::WsMessage m;
  m.connection_id = conn;
  m.exchange_sequence = 1;
  m.direction = d;
  m.first_frame_us = at_us;
  return m;
}

TEST(TallyTest, NothingIsVisibleBeforeTheTransactionCommits) {
  Tally t;
  recorder::Exchange ex;
  t.OnExchange(ex, Outcome::kThrottled429);
  EXPECT_EQ(t.Snapshot().exchanges[O(Outcome::kThrottled429)], 0u);
  t.OnCommit();
  EXPECT_EQ(t.Snapshot().exchanges[O(Outcome::kThrottled429)], 1u);
}

TEST(TallyTest, ARolledBackBatchIsNotCounted) {
  Tally t;
  recorder::Exchange ex;
  t.OnExchange(ex, Outcome::kOk);
  t.OnRollback();
  t.OnExchange(ex, Outcome::kOk);
  t.OnCommit();
  EXPECT_EQ(t.Snapshot().exchanges[O(Outcome::kOk)], 1u);
}

TEST(TallyTest, AnUpgradeIsASessionAttemptWithTheSessionsOutcomeWhenAnswered101) {
  Tally t;
  t.OnExchange(Upgrade(1, /*switched=*/false, 1'000, 3'000), Outcome::kServerError5xx);
  t.OnExchange(Upgrade(2, /*switched=*/true, 1'000, 2'000), Outcome::kOk);
  t.OnCommit();
  TallySnapshot s = t.Snapshot();
  EXPECT_EQ(s.sessions[O(Outcome::kServerError5xx)], 1u);
  EXPECT_EQ(s.sessions[O(Outcome::kOk)], 0u);  // counted when it closes
  EXPECT_EQ(s.exchanges[O(Outcome::kServerError5xx)], 0u);
  recorder::WsSessionClosed closed;
  closed.connection_id = 2;
  closed.exchange_sequence = 1;
  t.OnSessionClosed(closed, Outcome::kResponseFailed);
  t.OnCommit();
  s = t.Snapshot();
  EXPECT_EQ(s.sessions[O(Outcome::kResponseFailed)], 1u);
  const Histogram& upgrade = s.stages[static_cast<size_t>(Stage::kUpgrade)];
  EXPECT_EQ(upgrade.count, 2u);
  EXPECT_EQ(upgrade.sum_us, 3'000u);  // 2 ms + 1 ms
}

TEST(TallyTest, ConnectionsAreCountedByTheModeTheirOpenSaid) {
  Tally t;
  recorder::ConnectionOpened open;
  open.connection_id = 7;
  open.intercepted = true;
  open.tunnel = true;
  t.OnConnectionOpened(open);
  recorder::ConnectionClosed closed;
  closed.connection_id = 7;
  closed.bytes_up = 10;
  closed.bytes_down = 20;
  closed.dns_us = 500;            // 0.5 ms: the first bucket (le 0.001)
  closed.tcp_connect_us = 1'000;  // exactly on a bound: that bucket
  t.OnConnectionClosed(closed, Outcome::kUpstreamReset);
  closed.connection_id = 8;  // no open recorded
  t.OnConnectionClosed(closed, Outcome::kOk);
  t.OnCommit();
  TallySnapshot s = t.Snapshot();
  EXPECT_EQ(s.connections[static_cast<size_t>(Mode::kIntercept)][O(Outcome::kUpstreamReset)], 1u);
  EXPECT_EQ(s.connections[static_cast<size_t>(Mode::kUnknown)][O(Outcome::kOk)], 1u);
  EXPECT_EQ(s.bytes[0], 20u);
  EXPECT_EQ(s.bytes[1], 40u);
  EXPECT_EQ(s.stages[static_cast<size_t>(Stage::kDns)].buckets[0], 2u);
  EXPECT_EQ(s.stages[static_cast<size_t>(Stage::kTcp)].buckets[0], 2u);
  EXPECT_EQ(s.stages[static_cast<size_t>(Stage::kTls)].count, 0u);  // -1: did not happen
}

TEST(TallyTest, FirstDeltaIsTheSessionsFirstCreateToTheFirstDeltaAfterIt) {
  Tally t;
  using recorder::WsDirection;
  t.OnMessage(Message(1, WsDirection::kServerToClient, 100), "session.created");
  t.OnMessage(Message(1, WsDirection::kClientToServer, 1'000), "response.create");
  t.OnMessage(Message(1, WsDirection::kServerToClient, 1'500), "response.created");
  t.OnMessage(Message(1, WsDirection::kServerToClient, 251'000), "response.output_audio.delta");
  t.OnMessage(Message(1, WsDirection::kServerToClient, 900'000), "response.output_audio.delta");
  t.OnMessage(Message(1, WsDirection::kClientToServer, 2'000'000), "response.create");
  t.OnMessage(Message(1, WsDirection::kServerToClient, 2'100'000), "response.text.delta");
  t.OnCommit();
  TallySnapshot s = t.Snapshot();
  EXPECT_EQ(s.messages[0], 2u);
  EXPECT_EQ(s.messages[1], 5u);
  EXPECT_EQ(s.first_delta.count, 1u);
  EXPECT_EQ(s.first_delta.sum_us, 250'000u);
  EXPECT_EQ(s.first_delta.buckets[2], 1u);  // le 0.25
}

TEST(TallyTest, GuardPairsBeyondTheCapShareOneOtherSeries) {
  Tally t;
  recorder::GuardDecision g;
  g.decision = "reject";
  for (int i = 0; i < kGuardSlots + 10; ++i) {
    g.reason = "reason_" + std::to_string(i);
    t.OnGuardDecision(g);
  }
  g.reason = "reason_0";
  t.OnGuardDecision(g);
  t.OnCommit();
  TallySnapshot s = t.Snapshot();
  ASSERT_EQ(s.guard.size(), static_cast<size_t>(kGuardSlots));
  EXPECT_EQ(s.guard_labels[0], std::make_pair(std::string("reject"), std::string("reason_0")));
  EXPECT_EQ(s.guard[0], 2u);
  EXPECT_EQ(s.guard_labels.back(), std::make_pair(std::string("other"), std::string("other")));
  EXPECT_EQ(s.guard.back(), 11u);
}

}  // namespace
}  // namespace relaytap::metrics

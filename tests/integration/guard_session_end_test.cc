// How sessions end with the retry guard on, through the real proxy against the in-tree fake
// upstream: an upstream reset ends a capped session as it ends a plain one, sessions that fail
// after their 101 make reconnects retries, and without a recorder only what the guard reads is
// decoded. The in-session cap itself is in guard_session_cap_test.cc.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "proxy/ws/frame_tap.h"
#include "tests/integration/guard_session_test_support.h"
#include "tests/testing/wait.h"

namespace relaytap::testing::guard_session {
namespace {

using GuardSessionEndTest = GuardSessionFixture;

// How a session ends is classified as by the plain pump, here when the upstream resets it.
TEST_F(GuardSessionEndTest, AnUpstreamResetEndsTheSessionAsWithThePlainPump) {
  std::vector<std::string> ends;
  for (bool cap : {false, true}) {
    auto h = Start(guard::GuardMode::kEnforce, cap);
    {
      Realtime rt(*h, {.query = "reset_after=1"});
      rt.Send(R"({"type":"input_audio_buffer.commit"})");
      boost::system::error_code ec;
      for (int i = 0; i < 10 && !ec; ++i) {
        bool done = false;
        try {
          rt.ReadSome(64 * 1024, &done);
        } catch (const boost::system::system_error& e) {
          ec = e.code();
        }
      }
      EXPECT_TRUE(ec) << "cap " << cap;
    }
    ASSERT_TRUE(WaitForSink(0, /*closed_sessions=*/cap ? 2 : 1));
    std::vector<recorder::WsSessionClosed> closed = sink_.Of<recorder::WsSessionClosed>();
    ASSERT_EQ(closed.size(), cap ? 2u : 1u);
    ends.push_back(std::string(recorder::PumpEndName(closed.back().end.up)) + "/" +
                   std::string(recorder::PumpEndName(closed.back().end.down)));
    h.reset();
  }
  EXPECT_EQ(ends[0], "cancelled/reset");
  EXPECT_EQ(ends[1], ends[0]);
}

// Not the cap itself: with the guard on, a realtime session that opens (101) and then fails
// makes the same client's reconnect a retry, so a reconnect loop after failed sessions meets the
// attempt cap like a loop of failed upgrades does.
TEST_F(GuardSessionEndTest, SessionsThatFailAfterA101MakeReconnectsRetriesUntilTheCap) {
  guard::GuardPolicy p;  // defaults: at most 3 attempts; the session cap stays off
  p.circuit_breaker.enabled = false;
  guard_ = std::make_unique<guard::RetryGuard>(p, guard::GuardMode::kEnforce);
  ProxyHarness::Options o;
  o.sink = &sink_;
  o.guard = guard_.get();
  auto h = std::make_unique<ProxyHarness>(std::move(o));
  for (size_t i = 0; i < 3; ++i) {
    Realtime rt(*h, {});
    rt.Send(Create("c"));
    EXPECT_EQ(Realtime::Type(rt.ReadUntilDoneOrError()), "response.done");  // failed
    rt.Close();
    ASSERT_TRUE(WaitForSink(0, i + 1));  // the proxy reported the session's end
  }
  auto c = h->InterceptedClient();
  TlsWebSocket ws(c->tls());
  websocket::response_type res;
  boost::system::error_code ec;
  ws.handshake(res, kAzureHost, "/openai/v1/realtime?model=gpt-realtime&fail=response", ec);
  EXPECT_TRUE(ec);
  EXPECT_EQ(res.result_int(), 429);
  EXPECT_EQ(res["x-relaytap-guard"], "attempt_cap");
  EXPECT_EQ(res["x-should-retry"], "false");
  EXPECT_EQ(h->upstream().ws_sessions().size(), 3u);
}

// Waits (bounded) until the proxy holds no session: every session's end was reported.
::testing::AssertionResult WaitForNoSessions(ProxyHarness& h) {
  return WaitFor([&] { return h.server().active_sessions() == 0; }, "no open proxy session")
         << " (" << h.server().active_sessions() << " still open)";
}

struct UnrecordedRun {
  uint64_t taps_per_session = 0;
  int reconnect_status = 0;
};

// With the guard on and no recorder: three realtime sessions whose response fails, then a
// reconnect. Returns the frame taps each session created and the reconnect's status.
UnrecordedRun RunFailedSessionsWithoutRecorder(bool cap_enabled, bool deflate) {
  guard::GuardPolicy p;  // at most 3 attempts
  p.circuit_breaker.enabled = false;
  p.session_cap.enabled = cap_enabled;
  p.session_cap.max_creates_after_failure = 10;  // never reached: nothing withheld
  guard::RetryGuard g(p, guard::GuardMode::kEnforce);
  ProxyHarness::Options o;
  o.guard = &g;
  ProxyHarness h(std::move(o));
  const uint64_t taps_before = proxy::ws::FrameTap::instances_created();
  for (int i = 0; i < 3; ++i) {
    {
      Realtime rt(h, {.deflate = deflate});
      rt.Send(Create("c"));
      EXPECT_EQ(Realtime::Type(rt.ReadUntilDoneOrError()), "response.done");  // failed
      const std::string item = R"({"type":"conversation.item.create","n":1})";
      rt.Send(item);
      EXPECT_EQ(rt.Read(), item);  // echoed unchanged
      rt.Close();
    }
    EXPECT_TRUE(WaitForNoSessions(h));  // the proxy reported the session's end to the guard
  }
  UnrecordedRun run;
  run.taps_per_session = (proxy::ws::FrameTap::instances_created() - taps_before) / 3;
  auto c = h.InterceptedClient();
  TlsWebSocket ws(c->tls());
  websocket::response_type res;
  boost::system::error_code ec;
  ws.handshake(res, kAzureHost, "/openai/v1/realtime?model=gpt-realtime&fail=response", ec);
  run.reconnect_status = res.result_int();
  return run;
}

// Without a recorder only the server direction is decoded (the failure watch, or the cap, reads
// server messages), except that a capped deflate session with client context takeover decodes
// client messages too (the cap decides their response.create after relaying). Either way the
// failed sessions still make the reconnect a retry that meets the attempt cap.
TEST(GuardWithoutRecorderTest, DecodesOnlyWhatTheGuardReadsAndStillSeesFailedSessions) {
  UnrecordedRun watch = RunFailedSessionsWithoutRecorder(/*cap_enabled=*/false, false);
  EXPECT_EQ(watch.taps_per_session, 1u);
  EXPECT_EQ(watch.reconnect_status, 429);
  UnrecordedRun capped = RunFailedSessionsWithoutRecorder(/*cap_enabled=*/true, false);
  EXPECT_EQ(capped.taps_per_session, 1u);
  EXPECT_EQ(capped.reconnect_status, 429);
  UnrecordedRun capped_deflate = RunFailedSessionsWithoutRecorder(/*cap_enabled=*/true, true);
  EXPECT_EQ(capped_deflate.taps_per_session, 2u);
  EXPECT_EQ(capped_deflate.reconnect_status, 429);
}

}  // namespace
}  // namespace relaytap::testing::guard_session

// The pump's ends at the stream level, without sockets: each way a direction can end, which
// direction ended first, and what the recorder makes of it (outcome and side).
#include "proxy/relay/pump.h"

#include <gtest/gtest.h>

#include <optional>

#include "recorder/outcome.h"
#include "tests/testing/fake_byte_stream.h"

namespace relaytap::proxy {
namespace {

using recorder::PumpEnd;
using testing::FakeByteStream;

struct Relayed {
  BiPumpResult result;
  std::string app_got, upstream_got;
  bool app_reset = false, upstream_reset = false;
};

// Relays between two scripted streams; `script` runs first to push reads and failures.
template <typename Script>
Relayed RelayBoth(Script script) {
  net::io_context ioc;
  FakeByteStream app(ioc.get_executor()), upstream(ioc.get_executor());
  script(app, upstream);
  // As the WebSocket session relays: plain policies (no taps here) under a BiPump.
  PlainRelay up(upstream, nullptr), down(app, nullptr);
  BiPump pumps(app, upstream, "", "", up, down);
  std::optional<BiPumpResult> result;
  net::co_spawn(ioc, pumps.Run(),
                [&](std::exception_ptr e, std::tuple<PumpResult, PumpResult> ended) {
                  if (!e) result = pumps.Result(ended);
                });
  ioc.run_for(std::chrono::seconds(10));
  EXPECT_TRUE(result.has_value()) << "the relay did not end";
  Relayed run;
  if (result) run.result = *result;
  run.app_got = app.written();
  run.upstream_got = upstream.written();
  run.app_reset = app.was_reset();
  run.upstream_reset = upstream.was_reset();
  return run;
}

std::string Outcome(const BiPumpResult& r) {
  return std::string(recorder::OutcomeName(
      recorder::ClassifyEnd(RelayEnd(r, /*websocket=*/false)).outcome.value()));
}
std::string Side(const BiPumpResult& r) {
  return std::string(recorder::EndSideName(recorder::ClassifyEnd(RelayEnd(r, false)).side));
}

TEST(PumpEndTest, TheAppClosingFirstThenTheUpstreamIsAnOrdinaryEndByTheApp) {
  Relayed run = RelayBoth([](FakeByteStream& app, FakeByteStream& up) {
    app.PushRead("hello", net::error::eof);
    up.PushRead("bye", net::error::eof);
  });
  EXPECT_EQ(run.upstream_got, "hello");
  EXPECT_EQ(run.app_got, "bye");
  EXPECT_EQ(run.result.up.end, PumpEnd::kEof);
  EXPECT_EQ(run.result.down.end, PumpEnd::kEof);
  EXPECT_TRUE(run.result.up_ended_first);
  EXPECT_EQ(Outcome(run.result), "ok");
  EXPECT_EQ(Side(run.result), "app");
}

TEST(PumpEndTest, TheUpstreamClosingFirstIsAnOrdinaryEndByTheUpstream) {
  Relayed run = RelayBoth([](FakeByteStream& app, FakeByteStream& up) {
    up.PushRead("bye", net::error::eof);
    app.EofAfterShutdown();  // the app answers the upstream's FIN (relayed) with its own
  });
  EXPECT_FALSE(run.result.up_ended_first);
  EXPECT_EQ(Side(run.result), "upstream");
  EXPECT_EQ(Outcome(run.result), "ok");
  EXPECT_EQ(recorder::EndText(RelayEnd(run.result, false)), "app:eof upstream:eof");
}

TEST(PumpEndTest, AnUpstreamResetIsPropagatedAndRecordedAsTheUpstreams) {
  Relayed run = RelayBoth([](FakeByteStream&, FakeByteStream& up) {
    up.PushRead("partial", net::error::connection_reset);
  });
  EXPECT_EQ(run.app_got, "partial");
  EXPECT_TRUE(run.app_reset);  // the reset reaches the app
  EXPECT_EQ(run.result.down.end, PumpEnd::kSourceReset);
  EXPECT_EQ(run.result.up.end, PumpEnd::kCancelled);
  EXPECT_FALSE(run.result.up_ended_first);
  EXPECT_EQ(Outcome(run.result), "upstream_reset");
  EXPECT_EQ(Side(run.result), "upstream");
}

TEST(PumpEndTest, AnAppResetIsAClientAbort) {
  Relayed run = RelayBoth(
      [](FakeByteStream& app, FakeByteStream&) { app.PushRead("", net::error::connection_reset); });
  EXPECT_TRUE(run.upstream_reset);
  EXPECT_EQ(run.result.up.end, PumpEnd::kSourceReset);
  EXPECT_TRUE(run.result.up_ended_first);
  EXPECT_EQ(Outcome(run.result), "client_abort");
  EXPECT_EQ(Side(run.result), "app");
}

TEST(PumpEndTest, AKeepaliveTimeoutIsATimeoutOfThatSide) {
  Relayed run = RelayBoth(
      [](FakeByteStream&, FakeByteStream& up) { up.PushRead("", net::error::timed_out); });
  EXPECT_EQ(run.result.down.end, PumpEnd::kTimedOut);
  EXPECT_EQ(Outcome(run.result), "timeout");
  EXPECT_EQ(Side(run.result), "upstream");
  EXPECT_EQ(recorder::EndText(RelayEnd(run.result, true)), "ws app:cancelled upstream:timeout");
}

TEST(PumpEndTest, AFailedWriteToTheAppIsTheAppGoingAway) {
  Relayed run = RelayBoth([](FakeByteStream& app, FakeByteStream& up) {
    app.FailWriteAt(2);  // the second chunk toward the app fails
    up.PushRead("one");
    up.PushRead("two");
  });
  EXPECT_EQ(run.app_got, "one");
  EXPECT_EQ(run.result.down.end, PumpEnd::kSinkFailed);
  EXPECT_TRUE(run.upstream_reset);
  EXPECT_FALSE(run.result.up_ended_first);
  EXPECT_EQ(Outcome(run.result), "client_abort");
  EXPECT_EQ(Side(run.result), "app");
}

TEST(PumpEndTest, AFailedWriteToTheUpstreamIsTheUpstreamGoingAway) {
  Relayed run = RelayBoth([](FakeByteStream& app, FakeByteStream& up) {
    up.FailWriteAt(1);
    app.PushRead("request");
  });
  EXPECT_EQ(run.result.up.end, PumpEnd::kSinkFailed);
  EXPECT_TRUE(run.result.up_ended_first);
  EXPECT_EQ(Outcome(run.result), "upstream_reset");
  EXPECT_EQ(Side(run.result), "upstream");
}

}  // namespace
}  // namespace relaytap::proxy

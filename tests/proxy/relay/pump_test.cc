// The pump's ends at the stream level, without sockets: each way a direction can end, which
// direction ended first, and what the recorder makes of it (outcome and side).
#include "proxy/relay/pump.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

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
  size_t app_fast_reads = 0, upstream_fast_written = 0, app_fast_written = 0;
};

// Relays between two scripted streams; `script` runs first to push reads and failures.
template <typename Script>
Relayed RelayBoth(Script script, ws::FrameTap* down_tap = nullptr) {
  net::io_context ioc;
  FakeByteStream app(ioc.get_executor()), upstream(ioc.get_executor());
  script(app, upstream);
  std::optional<BiPumpResult> result;
  net::co_spawn(ioc, PumpBoth(app, upstream, "", "", nullptr, down_tap),
                [&](std::exception_ptr e, BiPumpResult r) {
                  if (!e) result = r;
                });
  ioc.run_for(std::chrono::seconds(10));
  EXPECT_TRUE(result.has_value()) << "the relay did not end";
  Relayed run;
  if (result) run.result = *result;
  run.app_got = app.written();
  run.upstream_got = upstream.written();
  run.app_reset = app.was_reset();
  run.upstream_reset = upstream.was_reset();
  run.app_fast_reads = app.fast_reads();
  run.upstream_fast_written = upstream.fast_written();
  run.app_fast_written = app.fast_written();
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

// The fast path (ByteStream::TryReadSome / TryWriteSome): a chunk the destination takes only in
// part without waiting is finished by the awaitable write, whole and in order, counted once.
TEST(PumpFastPathTest, AChunkTakenInPartIsFinishedByTheAwaitableWrite) {
  Relayed run = RelayBoth([](FakeByteStream& app, FakeByteStream& up) {
    app.OfferFastPath(0);
    up.OfferFastPath(3);
    app.PushRead("0123456789");
    app.PushRead("abcdef", net::error::eof);
    up.EofAfterShutdown();
  });
  EXPECT_EQ(run.upstream_got, "0123456789abcdef");
  EXPECT_EQ(run.result.up.bytes, 16u);
  EXPECT_EQ(run.result.up.end, PumpEnd::kEof);
  EXPECT_EQ(run.app_fast_reads, 2u);         // both reads came without a wait
  EXPECT_EQ(run.upstream_fast_written, 6u);  // 3 bytes of each chunk; WriteAll wrote the rest
}

// A destination that takes every chunk at once: nothing goes through the awaitable write.
TEST(PumpFastPathTest, ChunksTakenWholeNeedNoAwaitableWrite) {
  Relayed run = RelayBoth([](FakeByteStream& app, FakeByteStream& up) {
    up.OfferFastPath(1 << 20);
    app.PushRead("one");
    app.PushRead("two", net::error::eof);
    up.EofAfterShutdown();
  });
  EXPECT_EQ(run.upstream_got, "onetwo");
  EXPECT_EQ(run.upstream_fast_written, 6u);
  EXPECT_EQ(run.result.up.bytes, 6u);
}

TEST(PumpFastPathTest, AFailedFastWriteIsTheDestinationGoingAway) {
  Relayed run = RelayBoth([](FakeByteStream& app, FakeByteStream& up) {
    up.OfferFastPath(1 << 20);
    up.FailWriteAt(2);
    app.PushRead("one");
    app.PushRead("two");
  });
  EXPECT_EQ(run.upstream_got, "one");
  EXPECT_EQ(run.result.up.end, PumpEnd::kSinkFailed);
  EXPECT_TRUE(run.app_reset);
  EXPECT_EQ(Outcome(run.result), "upstream_reset");
}

struct CountingObserver : ws::MessageObserver {
  void OnMessage(ws::Message&& m) override { payloads.push_back(m.payload); }
  void OnTapError(ws::Direction, std::string_view) override { ++errors; }
  std::vector<std::string> payloads;
  int errors = 0;
};

// The tap sees a chunk once, whole, after the last of it was written, however the write was split.
TEST(PumpFastPathTest, TheTapSeesAPartlyWrittenChunkOnce) {
  CountingObserver seen;
  ws::FrameTap tap(ws::Direction::kServerToClient, {}, seen);
  const std::string frames = std::string("\x81\x05hello", 7) + std::string("\x81\x02ok", 4);
  Relayed run = RelayBoth(
      [&](FakeByteStream& app, FakeByteStream& up) {
        app.OfferFastPath(2);
        up.OfferFastPath(0);
        up.PushRead(frames, net::error::eof);
        app.EofAfterShutdown();
      },
      &tap);
  EXPECT_EQ(run.app_got, frames);
  EXPECT_EQ(run.app_fast_written, 2u);
  EXPECT_EQ(seen.payloads, (std::vector<std::string>{"hello", "ok"}));
  EXPECT_EQ(seen.errors, 0);
}

}  // namespace
}  // namespace relaytap::proxy

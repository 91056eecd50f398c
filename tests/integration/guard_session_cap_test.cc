// The retry guard's in-session cap through the real proxy against the in-tree fake upstream with
// `fail=response` (every response.create ends in response.done status "failed"): a client that
// sends response.create after each failure. Enforce withholds what exceeds the cap and answers
// with a realtime error event; observe forwards everything and records; cap off relays as
// before; a deflate session without client_no_context_takeover cannot be capped.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "proxy/guard/retry_guard.h"
#include "proxy/ws/frame_tap.h"
#include "recorder/sink.h"
#include "tests/testing/proxy_harness.h"

namespace relaytap::testing {
namespace {

namespace guard = proxy::guard;
namespace websocket = boost::beast::websocket;
using TlsWebSocket = websocket::stream<beast::ssl_stream<beast::tcp_stream>&>;
using Json = nlohmann::json;

// Keeps every observation in memory; waits are bounded.
class MemorySink : public recorder::Sink {
 public:
  bool TrySubmit(recorder::Observation&& obs) noexcept override {
    absl::MutexLock lock(&mu_);
    obs_.push_back(std::move(obs));
    return true;
  }
  std::vector<recorder::GuardDecision> CapDecisions() {
    absl::MutexLock lock(&mu_);
    std::vector<recorder::GuardDecision> out;
    for (const auto& o : obs_) {
      const auto* d = std::get_if<recorder::GuardDecision>(&o);
      if (d != nullptr && d->reason.starts_with("session_cap")) out.push_back(*d);
    }
    return out;
  }
  std::vector<recorder::WsSessionClosed> Closed() {
    absl::MutexLock lock(&mu_);
    std::vector<recorder::WsSessionClosed> out;
    for (const auto& o : obs_) {
      if (const auto* c = std::get_if<recorder::WsSessionClosed>(&o)) out.push_back(*c);
    }
    return out;
  }
  std::vector<recorder::WsMessage> Messages() {
    absl::MutexLock lock(&mu_);
    std::vector<recorder::WsMessage> out;
    for (const auto& o : obs_) {
      if (const auto* m = std::get_if<recorder::WsMessage>(&o)) out.push_back(*m);
    }
    return out;
  }
  // Waits until at least `cap_decisions` cap rows and `closed_sessions` session ends arrived.
  ::testing::AssertionResult WaitFor(size_t cap_decisions, size_t closed_sessions) {
    auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      size_t n = 0;
      size_t closed = 0;
      for (const auto& o : obs_) {
        const auto* d = std::get_if<recorder::GuardDecision>(&o);
        if (d != nullptr && d->reason.starts_with("session_cap")) ++n;
        if (std::holds_alternative<recorder::WsSessionClosed>(o)) ++closed;
      }
      return n >= cap_decisions && closed >= closed_sessions;
    };
    absl::MutexLock lock(&mu_);
    if (mu_.AwaitWithTimeout(absl::Condition(&ready), absl::Seconds(20))) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure()
           << "timed out waiting for " << cap_decisions << " session cap decisions";
  }

 private:
  absl::Mutex mu_;
  std::vector<recorder::Observation> obs_ ABSL_GUARDED_BY(mu_);
};

struct ClientOptions {
  bool deflate = false;
  bool client_no_context_takeover = false;
  std::string query = "fail=response";
};

class Realtime {
 public:
  Realtime(ProxyHarness& h, ClientOptions o) : c_(h.InterceptedClient()), ws_(c_->tls()) {
    websocket::permessage_deflate pmd;
    pmd.client_enable = o.deflate;
    pmd.client_no_context_takeover = o.client_no_context_takeover;
    ws_.set_option(pmd);
    beast::get_lowest_layer(c_->tls()).expires_never();
    ws_.set_option(
        websocket::stream_base::timeout{std::chrono::seconds(30), std::chrono::seconds(30), false});
    ws_.handshake(kAzureHost, "/openai/v1/realtime?model=gpt-realtime&" + o.query);
    EXPECT_EQ(Type(Read()), "session.created");
  }
  void Send(const std::string& text) {
    ws_.text(true);
    ws_.write(net::buffer(text));
    sent_.push_back(text);
  }
  std::string Read() {
    beast::flat_buffer b;
    ws_.read(b);
    return beast::buffers_to_string(b.data());
  }
  static std::string Type(const std::string& msg) {
    Json j = Json::parse(msg, nullptr, false);
    return j.is_object() && j.contains("type") ? j["type"].get<std::string>() : "";
  }
  // Up to `limit` bytes of the current message; *done: it ended with them.
  std::string ReadSome(size_t limit, bool* done) {
    beast::flat_buffer b;
    ws_.read_some(b, limit);
    *done = ws_.is_message_done();
    return beast::buffers_to_string(b.data());
  }
  // Reads (bounded) until response.done or error; returns that message.
  std::string ReadUntilDoneOrError() {
    for (int i = 0; i < 200; ++i) {
      std::string m = Read();
      const std::string t = Type(m);
      if (t == "response.done" || t == "error") return m;
    }
    return "";
  }
  void Close() { ws_.close(websocket::close_reason(websocket::close_code::normal, "done")); }
  const std::vector<std::string>& sent() const { return sent_; }

 private:
  std::unique_ptr<ProxyClient> c_;
  TlsWebSocket ws_;
  std::vector<std::string> sent_;
};

std::string Create(const std::string& id) {
  return R"({"type":"response.create","event_id":")" + id + R"("})";
}

class GuardSessionCapTest : public ::testing::Test {
 protected:
  std::unique_ptr<ProxyHarness> Start(guard::GuardMode mode, bool cap_enabled, int max = 1) {
    guard::GuardPolicy p;
    p.session_cap.enabled = cap_enabled;
    p.session_cap.max_creates_after_failure = max;
    guard_ = std::make_unique<guard::RetryGuard>(p, mode);
    ProxyHarness::Options o;
    o.sink = &sink_;
    o.guard = guard_.get();
    return std::make_unique<ProxyHarness>(std::move(o));
  }
  // The upstream's received message hashes once the session closed.
  std::vector<std::string> UpstreamReceived(ProxyHarness& h) {
    EXPECT_TRUE(h.upstream().WaitForClosedWsSessions(1, std::chrono::seconds(20)));
    auto sessions = h.upstream().ws_sessions();
    return sessions.empty() ? std::vector<std::string>{} : sessions[0].received;
  }
  static std::vector<std::string> Hashes(const std::vector<std::string>& msgs) {
    std::vector<std::string> out;
    for (const auto& m : msgs) out.push_back(Sha256Hex(m));
    return out;
  }

  MemorySink sink_;
  std::unique_ptr<guard::RetryGuard> guard_;
};

TEST_F(GuardSessionCapTest, EnforceWithholdsBeyondTheCapAndAnswersWithAnErrorEvent) {
  auto h = Start(guard::GuardMode::kEnforce, true, /*max=*/1);
  Realtime rt(*h, {});
  rt.Send(Create("c1"));
  EXPECT_EQ(Realtime::Type(rt.ReadUntilDoneOrError()), "response.done");  // failed
  rt.Send(Create("c2"));  // the one allowed after a failure
  EXPECT_EQ(Realtime::Type(rt.ReadUntilDoneOrError()), "response.done");
  const std::string withheld = Create("c3");
  rt.Send(withheld);
  Json e = Json::parse(rt.ReadUntilDoneOrError(), nullptr, false);
  ASSERT_TRUE(e.is_object());
  EXPECT_EQ(e["type"], "error");
  EXPECT_TRUE(e["event_id"].get<std::string>().starts_with("relaytap_"));
  EXPECT_EQ(e["error"]["type"], "relaytap_guard");
  EXPECT_EQ(e["error"]["code"], "relaytap_session_cap");
  EXPECT_EQ(e["error"]["event_id"], "c3");
  // The session stays usable: a later message flows both ways byte-identical (echoed), also a
  // binary one large enough for a 64-bit length.
  const std::string item = R"({"type":"conversation.item.create","event_id":"i1","n":7})";
  rt.Send(item);
  EXPECT_EQ(rt.Read(), item);
  rt.Send(Create("c4"));  // still capped
  EXPECT_EQ(Json::parse(rt.ReadUntilDoneOrError())["error"]["event_id"], "c4");
  rt.Close();
  std::vector<std::string> want = Hashes({Create("c1"), Create("c2"), item});
  EXPECT_EQ(UpstreamReceived(*h), want);

  ASSERT_TRUE(sink_.WaitFor(2, /*closed_sessions=*/1));
  std::vector<recorder::GuardDecision> rows = sink_.CapDecisions();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].reason, "session_cap");
  EXPECT_EQ(rows[0].decision, "reject");
  EXPECT_EQ(rows[0].mode, "enforce");
  EXPECT_EQ(rows[0].key, std::string(kAzureHost) + "/gpt-realtime");
  EXPECT_NE(rows[0].connection_id, 0u);
  EXPECT_GT(rows[0].exchange_sequence, 0u);
  Json counts = Json::parse(rows[1].counts);
  EXPECT_EQ(counts["failed_responses"], 2);
  EXPECT_EQ(counts["creates_after_failure"], 1);
  EXPECT_EQ(counts["withheld"], 2);
  EXPECT_EQ(rows[0].counts.find("c3"), std::string::npos);  // no payload in the row

  // The taps saw what each socket got: upstream never got c3; the app got the error events.
  int up_creates = 0, down_cap_errors = 0;
  for (const recorder::WsMessage& m : sink_.Messages()) {
    if (m.direction == recorder::WsDirection::kClientToServer &&
        m.payload.find("response.create") != std::string::npos) {
      ++up_creates;
    }
    if (m.direction == recorder::WsDirection::kServerToClient &&
        m.payload.find("relaytap_session_cap") != std::string::npos) {
      ++down_cap_errors;
    }
  }
  EXPECT_EQ(up_creates, 2);
  EXPECT_EQ(down_cap_errors, 2);
}

TEST_F(GuardSessionCapTest, ObserveForwardsEverythingAndRecordsWouldBeDecisions) {
  auto h = Start(guard::GuardMode::kObserve, true, /*max=*/0);
  Realtime rt(*h, {});
  for (const char* id : {"c1", "c2", "c3"}) {
    rt.Send(Create(id));
    EXPECT_EQ(Realtime::Type(rt.ReadUntilDoneOrError()), "response.done") << id;
  }
  rt.Close();
  EXPECT_EQ(UpstreamReceived(*h), Hashes(rt.sent()));
  ASSERT_TRUE(sink_.WaitFor(2, 1));
  std::vector<recorder::GuardDecision> rows = sink_.CapDecisions();
  ASSERT_EQ(rows.size(), 2u);  // c2 and c3 exceed a cap of 0
  for (const auto& r : rows) {
    EXPECT_EQ(r.mode, "observe");
    EXPECT_EQ(r.reason, "session_cap");
  }
}

TEST_F(GuardSessionCapTest, CapOffRelaysEverythingWithoutDecisions) {
  auto h = Start(guard::GuardMode::kEnforce, false);
  Realtime rt(*h, {});
  for (const char* id : {"c1", "c2", "c3"}) {
    rt.Send(Create(id));
    EXPECT_EQ(Realtime::Type(rt.ReadUntilDoneOrError()), "response.done") << id;
  }
  const std::string item = R"({"type":"conversation.item.create","n":1})";
  rt.Send(item);
  EXPECT_EQ(rt.Read(), item);
  rt.Close();
  EXPECT_EQ(UpstreamReceived(*h), Hashes(rt.sent()));
  ASSERT_TRUE(sink_.WaitFor(0, 1));
  EXPECT_TRUE(sink_.CapDecisions().empty());
}

TEST_F(GuardSessionCapTest, DeflateWithContextTakeoverIsForwardedAsUnenforceable) {
  auto h = Start(guard::GuardMode::kEnforce, true, /*max=*/0);
  Realtime rt(*h, {.deflate = true, .client_no_context_takeover = false});
  for (const char* id : {"c1", "c2"}) {
    rt.Send(Create(id));
    EXPECT_EQ(Realtime::Type(rt.ReadUntilDoneOrError()), "response.done") << id;
  }
  rt.Close();
  EXPECT_EQ(UpstreamReceived(*h), Hashes(rt.sent()));
  ASSERT_TRUE(sink_.WaitFor(1, 1));
  std::vector<recorder::GuardDecision> rows = sink_.CapDecisions();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].reason, "session_cap_unenforceable");
  EXPECT_EQ(rows[0].decision, "forward");
}

TEST_F(GuardSessionCapTest, DeflateWithClientNoContextTakeoverIsEnforced) {
  auto h = Start(guard::GuardMode::kEnforce, true, /*max=*/0);
  Realtime rt(*h, {.deflate = true, .client_no_context_takeover = true});
  rt.Send(Create("c1"));
  EXPECT_EQ(Realtime::Type(rt.ReadUntilDoneOrError()), "response.done");
  rt.Send(Create("c2"));
  Json e = Json::parse(rt.ReadUntilDoneOrError(), nullptr, false);
  EXPECT_EQ(e["error"]["code"], "relaytap_session_cap");
  EXPECT_EQ(e["error"]["event_id"], "c2");
  const std::string item = R"({"type":"conversation.item.create","n":2})";
  rt.Send(item);
  EXPECT_EQ(rt.Read(), item);  // the server's inflate context was not disturbed
  rt.Close();
  EXPECT_EQ(UpstreamReceived(*h), Hashes({Create("c1"), item}));
  ASSERT_TRUE(sink_.WaitFor(1, 1));
  EXPECT_EQ(sink_.CapDecisions().at(0).reason, "session_cap");
}

TEST_F(GuardSessionCapTest, TheErrorEventWaitsForTheEndOfAServerMessageInFlight) {
  auto h = Start(guard::GuardMode::kEnforce, true, /*max=*/0);
  Realtime rt(*h, {});
  rt.Send(Create("c1"));
  EXPECT_EQ(Realtime::Type(rt.ReadUntilDoneOrError()), "response.done");
  // An 8 MiB echo: far more than the socket buffers hold, so while the client has read only its
  // start the proxy is still relaying the rest of that message to the app.
  const std::string big = R"({"type":"echo.request","pad":")" + std::string(8u << 20, 'p') + "\"}";
  rt.Send(big);
  bool done = false;
  std::string echo = rt.ReadSome(16 * 1024, &done);
  ASSERT_FALSE(done);
  rt.Send(Create("c2"));  // withheld while the echo is in flight
  for (int i = 0; i < 100'000 && !done; ++i) echo += rt.ReadSome(256 * 1024, &done);
  ASSERT_TRUE(done);
  EXPECT_EQ(echo.size(), big.size());
  EXPECT_TRUE(echo == big);  // not interrupted by the injected frame
  Json e = Json::parse(rt.Read(), nullptr, false);
  EXPECT_EQ(e["error"]["code"], "relaytap_session_cap");
  EXPECT_EQ(e["error"]["event_id"], "c2");
  rt.Close();
  EXPECT_EQ(UpstreamReceived(*h), Hashes({Create("c1"), big}));
}

// How a session ends is classified as by the plain pump, here when the upstream resets it.
TEST_F(GuardSessionCapTest, AnUpstreamResetEndsTheSessionAsWithThePlainPump) {
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
    ASSERT_TRUE(sink_.WaitFor(0, /*closed_sessions=*/cap ? 2 : 1));
    std::vector<recorder::WsSessionClosed> closed = sink_.Closed();
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
TEST_F(GuardSessionCapTest, SessionsThatFailAfterA101MakeReconnectsRetriesUntilTheCap) {
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
    ASSERT_TRUE(sink_.WaitFor(0, i + 1));  // the proxy reported the session's end
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

// A text event of exactly `n` bytes (n >= 64) the fake upstream echoes unchanged.
std::string ItemOfSize(size_t n, char fill) {
  std::string head = R"({"type":"conversation.item.create","pad":")";
  std::string msg = head + std::string(n - head.size() - 2, fill) + "\"}";
  return msg;
}

// The capped pump takes its 16 KiB buffers only while bytes flow, like the plain pump: messages
// around the buffer and record sizes and a 3 MiB one come back unchanged both ways, and records
// already inside the TLS engine (several corked into one segment) are relayed without waiting for
// socket bytes that never come.
TEST_F(GuardSessionCapTest, CappedSessionRelaysAllSizesAndBufferedRecordsUnchanged) {
  auto h = Start(guard::GuardMode::kEnforce, true, /*max=*/1);
  auto c = h->InterceptedClient();
  TlsWebSocket ws(c->tls());
  beast::get_lowest_layer(c->tls()).expires_never();
  ws.set_option(
      websocket::stream_base::timeout{std::chrono::seconds(10), std::chrono::seconds(10), false});
  ws.read_message_max(64u << 20);
  ws.handshake(kAzureHost, "/openai/v1/realtime?model=gpt-realtime");
  beast::flat_buffer b;
  ws.read(b);  // session.created: the session is idle
  std::vector<std::string> sent;
  for (size_t n : {64u, 16383u, 16384u, 16385u, 32768u, 32769u, 65537u, 3u << 20}) {
    sent.push_back(ItemOfSize(n, static_cast<char>('a' + sent.size())));
    ws.text(true);
    ws.write(net::buffer(sent.back()));
    b.clear();
    ws.read(b);
    ASSERT_EQ(beast::buffers_to_string(b.data()), sent.back()) << "size " << n;
  }
  auto& sock = beast::get_lowest_layer(c->tls()).socket();
  const int on = 1, off = 0;
  ASSERT_EQ(::setsockopt(sock.native_handle(), IPPROTO_TCP, TCP_CORK, &on, sizeof(on)), 0);
  std::vector<std::string> corked;
  for (size_t i = 0; i < 4; ++i) {
    corked.push_back(ItemOfSize(300 + i, 'q'));
    ws.write(net::buffer(corked.back()));
  }
  ASSERT_EQ(::setsockopt(sock.native_handle(), IPPROTO_TCP, TCP_CORK, &off, sizeof(off)), 0);
  for (const std::string& want : corked) {
    b.clear();
    boost::system::error_code ec;
    ws.read(b, ec);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(beast::buffers_to_string(b.data()), want);
  }
  ws.close(websocket::close_reason(websocket::close_code::normal, "done"));
  sent.insert(sent.end(), corked.begin(), corked.end());
  EXPECT_EQ(UpstreamReceived(*h), Hashes(sent));
  ASSERT_TRUE(sink_.WaitFor(0, /*closed_sessions=*/1));
  EXPECT_EQ(sink_.Closed()[0].end.up, recorder::PumpEnd::kEof);
}

// Waits (bounded) until the proxy holds no session: every session's end was reported.
::testing::AssertionResult WaitForNoSessions(ProxyHarness& h) {
  for (int i = 0; i < 2000; ++i) {
    if (h.server().active_sessions() == 0) return ::testing::AssertionSuccess();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return ::testing::AssertionFailure() << h.server().active_sessions() << " sessions still open";
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
}  // namespace relaytap::testing

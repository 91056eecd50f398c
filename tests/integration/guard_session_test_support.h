#pragma once
// Shared by the guard's realtime session tests (guard_session_cap_test.cc,
// guard_session_end_test.cc): a realtime client through the proxy against the in-tree fake
// upstream, and a fixture that starts the proxy with a RetryGuard and an in-memory sink.

#include <gtest/gtest.h>

#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "proxy/guard/retry_guard.h"
#include "tests/testing/proxy_harness.h"
#include "tests/testing/recording_sink.h"

namespace relaytap::testing::guard_session {

namespace guard = proxy::guard;
namespace websocket = boost::beast::websocket;
using TlsWebSocket = websocket::stream<beast::ssl_stream<beast::tcp_stream>&>;
using Json = nlohmann::json;

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
    // echo=1: the fake upstream echoes what it does not act on (the item tests read it back).
    ws_.handshake(kAzureHost, "/openai/v1/realtime?model=gpt-realtime&echo=1&" + o.query);
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

inline std::string Create(const std::string& id) {
  return R"({"type":"response.create","event_id":")" + id + R"("})";
}

inline bool IsCapDecision(const recorder::GuardDecision& d) {
  return d.reason.starts_with("session_cap");
}

// Starts the proxy with a guard and sink_; waits on and reads what the sink got.
class GuardSessionFixture : public ::testing::Test {
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
  // Waits until at least `cap_decisions` cap rows and `closed_sessions` session ends arrived.
  ::testing::AssertionResult WaitForSink(size_t cap_decisions, size_t closed_sessions) {
    ::testing::AssertionResult caps =
        sink_.WaitFor<recorder::GuardDecision>(cap_decisions, IsCapDecision);
    if (!caps) return caps << " (session cap decisions)";
    return sink_.WaitFor<recorder::WsSessionClosed>(closed_sessions) << " (closed sessions)";
  }
  std::vector<recorder::GuardDecision> CapDecisions() {
    return sink_.Of<recorder::GuardDecision>(IsCapDecision);
  }

  RecordingSink sink_;
  std::unique_ptr<guard::RetryGuard> guard_;
};

}  // namespace relaytap::testing::guard_session

#include "tools/probe/ws_stages.h"

#include <boost/beast/websocket.hpp>
#include <chrono>

#include "base/str_cat.h"
#include "proxy/stream/errors.h"
#include "recorder/local_checks.h"
#include "tools/stream/erased_stream.h"

namespace relaytap::tools::probe {
namespace {

namespace websocket = beast::websocket;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr int kMaxEvents = 500;

// j[key] when j is an object that has it, else null (never inserts, never throws).
const json& Field(const json& j, const char* key) {
  static const json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

// The three client events of the flow, in the URL's dialect.
std::vector<std::string> FlowEvents(const ProbeUrl& url) {
  json session = IsPreviewPath(url.target)
                     ? json{{"modalities", {"text"}}}
                     : json{{"type", "realtime"}, {"output_modalities", {"text"}}};
  json update = {{"type", "session.update"}, {"event_id", "probe_session"}, {"session", session}};
  json item = {{"type", "conversation.item.create"},
               {"event_id", "probe_item"},
               {"item",
                {{"type", "message"},
                 {"role", "user"},
                 {"content", {{{"type", "input_text"}, {"text", "Say OK"}}}}}}};
  json create = {{"type", "response.create"}, {"event_id", "probe_response"}};
  return {update.dump(), item.dump(), create.dump()};
}

class WsProbe {
 public:
  WsProbe(const ProbeOptions& o, ErasedStream& s) : o_(o), ws_(s) {}

  net::awaitable<void> Run(std::vector<StageResult>& out) {
    StageResult upgrade = co_await Upgrade();
    const bool upgraded = upgrade.status == Status::kOk && upgraded_;
    out.push_back(upgrade);
    if (!o_.realtime) co_return;
    StageResult rt{Stage::kRealtime, Status::kSkipped, 0, json::object(), ""};
    if (upgrade.status == Status::kFailed) {
      rt.error = "after a failed stage";
    } else if (!upgraded) {
      rt.status = Status::kFailed;
      rt.error = StrCat("the upgrade was refused (HTTP ", upgrade.detail["status"].dump(),
                        "): give the key with --key-env NAME to run the realtime flow");
    } else {
      rt = co_await Realtime();
    }
    out.push_back(rt);
    if (upgraded) co_await Close();
  }

 private:
  net::awaitable<StageResult> Upgrade() {
    StageResult r{Stage::kWebSocket, Status::kOk, 0, json::object(), ""};
    const auto t0 = Clock::now();
    const std::string key = o_.key;
    const bool api_key = UsesApiKeyHeader(o_.url.host);
    ws_.set_option(websocket::stream_base::decorator([key, api_key](websocket::request_type& req) {
      req.set(http::field::user_agent, recorder::kProbeUserAgent);
      req.set(http::field::sec_websocket_protocol, "realtime");
      if (key.empty()) return;
      if (api_key) {
        req.set("api-key", key);
      } else {
        req.set(http::field::authorization, StrCat("Bearer ", key));
      }
    }));
    beast::get_lowest_layer(ws_).expires_after(o_.timeout);
    websocket::response_type res;
    auto [ec] = co_await ws_.async_handshake(res, HostHeader(o_.url), o_.url.target);
    r.ms = MsSince(t0);
    r.detail = {{"status", res.result_int()}, {"headers", CorrelationHeaders(res.base())}};
    apim_request_id_ = std::string(res["apim-request-id"]);
    if (ec && ec != websocket::error::upgrade_declined) {
      if (res.result_int() == 0) r.detail.erase("status");
      r.status = Status::kFailed;
      r.error = StrCat("WebSocket upgrade: ", proxy::DescribeError(ec));
      co_return r;
    }
    if (!ec) {
      upgraded_ = true;
      r.detail["subprotocol"] = std::string(res[http::field::sec_websocket_protocol]);
      r.detail["extensions"] = std::string(res[http::field::sec_websocket_extensions]);
      co_return r;
    }
    const unsigned status = res.result_int();
    if ((status == 401 || status == 403) && o_.key.empty()) {
      r.detail["note"] = "no key given: the refusal still proves the transport";
      co_return r;
    }
    r.status = Status::kFailed;
    r.error =
        StrCat("upgrade answered HTTP ", status, ": ", ErrorMessageOf(res.body()),
               apim_request_id_.empty() ? "" : StrCat(" (apim-request-id ", apim_request_id_, ")"));
    co_return r;
  }

  net::awaitable<StageResult> Realtime() {
    StageResult r{Stage::kRealtime, Status::kOk, 0, json::object(), ""};
    Flow flow;
    flow.t0 = Clock::now();
    ws_.text(true);
    co_await ReadUntilDone(r, flow);
    r.ms = MsSince(flow.t0);
    r.detail["events"] = flow.events;
    if (!apim_request_id_.empty()) r.detail["apim_request_id"] = apim_request_id_;
    Judge(r, flow);
    co_return r;
  }

  // What the realtime flow has seen so far.
  struct Flow {
    Clock::time_point t0;
    json events = json::array();
    json done;            // the response.done event, once seen
    std::string failure;  // why the flow failed, once known
    bool sent = false;    // the three client events went out
  };

  // Reads server events (bounded in count and by the stage's time) until response.done or a
  // failure; sends the flow's events once session.created has arrived.
  net::awaitable<void> ReadUntilDone(StageResult& r, Flow& flow) {
    const auto deadline = flow.t0 + o_.timeout;
    for (int i = 0; i < kMaxEvents && flow.failure.empty() && flow.done.is_null(); ++i) {
      if (Clock::now() >= deadline) {
        flow.failure = "timed out waiting for response.done";
        co_return;
      }
      beast::get_lowest_layer(ws_).expires_after(deadline - Clock::now());
      beast::flat_buffer buf;
      auto [ec, n] = co_await ws_.async_read(buf);
      if (ec) {
        flow.failure = StrCat("reading events: ", proxy::DescribeError(ec));
        co_return;
      }
      json ev = json::parse(beast::buffers_to_string(buf.data()), nullptr, false);
      const std::string type = StringAt(ev, "type");
      flow.events.push_back({{"type", type}, {"ms", MsSince(flow.t0)}});
      Note(ev, type, r, flow);
      if (!flow.sent && type == "session.created") {
        flow.sent = true;
        co_await SendFlow(flow);
      }
    }
  }

  net::awaitable<void> SendFlow(Flow& flow) {
    for (const std::string& m : FlowEvents(o_.url)) {
      auto [ec, n] = co_await ws_.async_write(net::buffer(m));
      if (!ec) continue;
      flow.failure =
          StrCat("sending ", StringAt(json::parse(m), "type"), ": ", proxy::DescribeError(ec));
      co_return;
    }
  }

  // The verdict: ok only for a response.done with status completed.
  void Judge(StageResult& r, Flow& flow) const {
    const json& response = Field(flow.done, "response");
    if (flow.failure.empty() && flow.done.is_null()) flow.failure = "no response.done";
    if (flow.failure.empty() && StringAt(response, "status") != "completed") {
      flow.failure =
          StrCat("response ", StringAt(response, "id"), " ended ", StringAt(response, "status"));
    }
    if (flow.failure.empty()) return;
    r.status = Status::kFailed;
    r.error = flow.failure;
    if (!StringAt(r.detail, "error_code").empty())
      r.error += StrCat(": ", StringAt(r.detail, "error_code"));
    if (!StringAt(r.detail, "error_message").empty()) {
      r.error += StrCat(": ", StringAt(r.detail, "error_message"));
    }
    if (!apim_request_id_.empty()) r.error += StrCat(" (apim-request-id ", apim_request_id_, ")");
  }

  // Takes the ids, the status and any error out of one server event.
  static void Note(const json& ev, const std::string& type, StageResult& r, Flow& flow) {
    if (type == "session.created") r.detail["session_id"] = StringAt(Field(ev, "session"), "id");
    if (type == "response.created") r.detail["response_id"] = StringAt(Field(ev, "response"), "id");
    if (type == "error") {
      NoteError(Field(ev, "error"), r);
      flow.failure = "error event";
    }
    if (type == "response.done") {
      flow.done = ev;
      const json& response = Field(ev, "response");
      r.detail["response_id"] = StringAt(response, "id");
      r.detail["response_status"] = StringAt(response, "status");
      const json& error = Field(Field(response, "status_details"), "error");
      if (error.is_object()) NoteError(error, r);
    }
  }

  static void NoteError(const json& e, StageResult& r) {
    r.detail["error_code"] =
        StringAt(e, "code").empty() ? StringAt(e, "type") : StringAt(e, "code");
    r.detail["error_message"] = StringAt(e, "message");
  }

  net::awaitable<void> Close() {
    beast::get_lowest_layer(ws_).expires_after(std::chrono::seconds(2));
    auto [ec] = co_await ws_.async_close(websocket::close_code::normal);
    (void)ec;  // the probe's verdict is already made
  }

  const ProbeOptions& o_;
  websocket::stream<ErasedStream&> ws_;
  bool upgraded_ = false;
  std::string apim_request_id_;
};

}  // namespace

bool UsesApiKeyHeader(const std::string& host) { return host.ends_with(".openai.azure.com"); }

bool IsPreviewPath(const std::string& target) {
  return target == "/openai/realtime" || target.starts_with("/openai/realtime?") ||
         target.starts_with("/openai/realtime/");
}

net::awaitable<void> WebSocketStages(const ProbeOptions& o, Connection& c,
                                     std::vector<StageResult>& out) {
  ErasedStream stream = c.tls ? ErasedStream(*c.tls) : ErasedStream(*c.plain);
  WsProbe probe(o, stream);
  co_await probe.Run(out);
}

}  // namespace relaytap::tools::probe

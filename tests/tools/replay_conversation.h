#pragma once
// A WebSocket client conversation for the record -> replay tests: what the client saw of a
// session (each message's type, ids and size, the upgrade status, the ending), so a recorded and
// a replayed session can be compared.

#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/testing/proxy_harness.h"

namespace relaytap::testing {

namespace websocket = boost::beast::websocket;

// What a client saw: one line per message (type and every id in it), the upgrade status, the
// ending, and the apim-request-id of the upgrade answer.
struct Seen {
  int upgrade_status = 0;
  std::string apim_request_id;
  std::vector<std::string> messages;
  std::vector<size_t> sizes;  // bytes of each message
  std::string ending;
};

inline void CollectIds(const nlohmann::json& v, const std::string& key, std::string& out) {
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end(); ++it) CollectIds(it.value(), it.key(), out);
  } else if (v.is_array()) {
    for (const auto& e : v) CollectIds(e, key, out);
  } else if (v.is_string() && (key == "id" || key.ends_with("_id"))) {
    out += " " + key + "=" + v.get<std::string>();
  }
}

inline std::string Signature(const std::string& text) {
  auto doc = nlohmann::json::parse(text, nullptr, false);
  if (!doc.is_object()) return "(not json)";
  std::string out = doc.value("type", std::string("(no type)"));
  CollectIds(doc, "", out);
  // Redacted content comes back as content of the same length (audio, transcript deltas).
  if (doc.contains("delta") && doc["delta"].is_string()) {
    out += " delta_len=" + std::to_string(doc["delta"].get<std::string>().size());
  }
  return out;
}

inline std::string Ending(const boost::system::error_code& ec,
                          const websocket::close_reason& reason) {
  if (ec == websocket::error::closed) {
    return "close " + std::to_string(reason.code) + " " + std::string(reason.reason.c_str());
  }
  if (ec == net::error::connection_reset || ec == ssl::error::stream_truncated ||
      ec == net::error::eof) {
    return "reset";
  }
  return "error " + ec.message();
}

// The client: upgrade, read until `stop_type` (or the end), send `to_send` after session.created,
// then close normally if the session is still open.
template <class Ws>
Seen Converse(Ws& ws, const std::string& target, const std::vector<std::string>& to_send,
              const std::string& stop_type) {
  Seen seen;
  ws.set_option(
      websocket::stream_base::timeout{std::chrono::seconds(20), std::chrono::seconds(20), false});
  websocket::response_type res;
  boost::system::error_code ec;
  ws.handshake(res, kAzureHost, target, ec);
  seen.upgrade_status = res.result_int();
  seen.apim_request_id = std::string(res["apim-request-id"]);
  if (ec) return seen;
  bool sent = false;
  for (int i = 0; i < 100; ++i) {
    beast::flat_buffer b;
    ws.read(b, ec);
    if (ec) {
      seen.ending = Ending(ec, ws.reason());
      return seen;
    }
    std::string text = beast::buffers_to_string(b.data());
    seen.messages.push_back(Signature(text));
    seen.sizes.push_back(text.size());
    if (!sent) {
      for (const std::string& m : to_send) ws.write(net::buffer(m));
      sent = true;
    }
    if (!stop_type.empty() && seen.messages.back().starts_with(stop_type + " ")) break;
  }
  ws.close(websocket::close_code::normal, ec);
  seen.ending = ec ? Ending(ec, ws.reason()) : "client close";
  return seen;
}

}  // namespace relaytap::testing

#pragma once
// What replay reads back from a relaytap store: plain values, already redacted (the store never
// held anything else). Filled by ReplayReader; consumed by `relaytap replay`'s timeline printer and
// server.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace relaytap::recorder::query {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// One line of `--list`: a WebSocket session (kind "session") or an HTTP exchange that did not
// open a session (kind "exchange": plain HTTP, SSE, or a refused upgrade such as a 5xx).
struct ListEntry {
  std::string kind;  // "session" | "exchange"
  int64_t id = 0;    // ws_sessions.id / exchanges.id
  int64_t time_us = 0;
  std::string session_id;  // sess_… (sessions)
  std::string method;      // exchanges
  std::string host;
  std::string path;
  std::string deployment;  // deployment, else model
  std::optional<int64_t> status;
  std::string transport;  // exchanges.transport
  std::string outcome;
};

struct ReplayExchange {
  int64_t id = 0;
  std::string method;
  std::string host;
  std::string path;  // redacted target: fingerprinted query values
  std::string transport;
  int status = 0;  // 0: no response was recorded
  int64_t request_start_us = 0;
  int64_t response_headers_us = 0;
  HeaderList response_headers;  // redacted values ("hmac:…" for fingerprinted ones)
  std::string response_body;    // stored (redacted) body text, may be empty
  std::string sse_events;       // stored SSE JSON array, may be empty
  std::string end_reason;       // "complete", "upstream_reset_mid_response", ...
  std::string outcome;
  std::string apim_request_id;
  std::string x_request_id;
};

struct RecordedEvent {
  int64_t seq = 0;
  int64_t first_frame_us = 0;
  bool from_client = false;
  int opcode = 1;
  int64_t payload_bytes = 0;
  bool truncated = false;
  std::string type;
  std::string event_id;
  std::string response_id;
  std::string item_id;
  std::string error_type;  // error.type, else response.status_details.error.type
  std::string error_code;
  std::string response_status;
  std::optional<int64_t> audio_bytes;
  std::optional<double> audio_ms;
  std::optional<int64_t> close_code;
  std::string payload;  // redacted JSON text (or a shape); "" for control frames
  // A member of a run of audio events (schema version 5) has its own seq, time, sizes and
  // (first and last member only) event_id; its payload is the run's first message's. 0: no run.
  int64_t run_count = 0;
};

struct RecordedSession {
  int64_t id = 0;  // ws_sessions.id
  std::string session_id;
  std::string model;
  std::string subprotocol;
  int64_t open_us = 0;
  int64_t close_us = 0;
  std::optional<int64_t> close_code;
  std::string close_reason;
  std::string close_side;  // "app" | "upstream" | ""
  std::string app_end;     // "eof", "reset", ...
  std::string upstream_end;
  std::string outcome;
  std::optional<ReplayExchange> upgrade;  // the exchange that opened it (101)
  std::vector<RecordedEvent> events;      // in seq order
};

}  // namespace relaytap::recorder::query

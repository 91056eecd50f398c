#pragma once
// What a replayed upstream does, derived from a recording. Pure: built once from the loaded
// store, then followed by the server.

#include <cstdint>
#include <string>
#include <vector>

#include "tools/replay/recording.h"

namespace relaytap::tools::replay {

// One recorded server message, to be sent once `after_client_messages` client data messages have
// arrived, `delay_us` after that moment or after the previous step (the recorded gap).
struct ServerStep {
  size_t after_client_messages = 0;
  int64_t delay_us = 0;
  bool text = true;
  std::string type;
  std::string payload;  // placeholders expanded
};

enum class EndKind {
  kServerClose,  // send a close frame with `code` (and `reason`)
  kClientClose,  // the client closed (or went away) first: wait for it to do so
  kReset,        // the upstream reset the TCP connection
  kEof,          // the upstream closed the TCP connection without a close frame
};

struct SessionEnding {
  EndKind kind = EndKind::kClientClose;
  size_t after_client_messages = 0;
  int64_t delay_us = 0;
  uint16_t code = 1000;
  std::string reason;
};

struct SessionScript {
  std::vector<std::string> client_types;  // recorded client data messages in order ("" binary)
  std::vector<ServerStep> steps;
  SessionEnding ending;
};

SessionScript BuildSessionScript(const RecordedSession& session);

std::string_view EndKindName(EndKind kind);

// The bytes of a recorded server message: the payload with placeholders expanded. A payload
// recorded only as a shape (truncated or not JSON) becomes a JSON object of the recorded length
// carrying the recorded type and ids (binary: filler bytes of the recorded length).
std::string ReplayPayload(const RecordedEvent& event);

// Response headers safe and meaningful to replay: values that were kept verbatim. Fingerprinted
// values ("hmac:…", credential renderings) are dropped, and so are the framing and hop-by-hop
// headers the server computes itself (content-length, transfer-encoding, connection, upgrade,
// sec-websocket-accept, sec-websocket-extensions, keep-alive).
HeaderList ReplayableHeaders(const HeaderList& recorded);

// The path of a target (before '?').
std::string_view PathOf(std::string_view target);
// True when `request_target` fits a recorded (redacted) target: same path, and every query
// parameter whose value the recording kept has the same value in the request.
bool TargetMatches(std::string_view recorded, std::string_view request_target);

// SSE events of an exchange: the wire text of each event and its recorded time.
struct SseStep {
  int64_t at_us = 0;
  std::string text;  // "event: …\ndata: …\n\n"
};
std::vector<SseStep> BuildSseSteps(const ReplayExchange& exchange);

}  // namespace relaytap::tools::replay

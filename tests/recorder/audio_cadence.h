#pragma once
// One realtime session at audio cadence, as observations for the recorder: the app appends 20 ms
// of audio every 20 ms for the whole session, and every 8 s the server answers a turn (speech
// events, response.created, 200 audio deltas 20 ms apart with a transcript delta every tenth,
// the done events, response.done). About 77 messages a second.

#include <cstdint>
#include <vector>

#include "recorder/observation.h"

namespace relaytap::recorder::testing {

struct CadenceSession {
  std::vector<Observation> observations;  // in submission order
  int64_t messages = 0;                   // WebSocket messages among them
};

// Session `conn` from `t0_us`, `seconds` long.
CadenceSession AudioCadenceSession(uint64_t conn, int64_t t0_us, int seconds);

}  // namespace relaytap::recorder::testing

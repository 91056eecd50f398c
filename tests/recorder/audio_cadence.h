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

// Session `conn` from `t0_us`, `seconds` long. `jitter_us` > 0 moves each audio message by a
// pseudo-random amount within +-jitter_us (the same for every run), as a real network does.
CadenceSession AudioCadenceSession(uint64_t conn, int64_t t0_us, int seconds,
                                   int64_t jitter_us = 0);

}  // namespace relaytap::recorder::testing

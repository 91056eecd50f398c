#pragma once
// What the fake upstream sends for one response.create: a pure plan of steps (wait, then send an
// event or reset the connection), built from the stream shape and the fault drawn for it. The
// WebSocket session only executes the plan.

#include <chrono>
#include <string>
#include <vector>

#include "tools/fake_upstream/fault_model.h"
#include "tools/fake_upstream/realtime_ids.h"

namespace relaytap::tools::fake_upstream {

enum class Pacing {
  kBurst,     // response.created, 5 audio deltas of 96 ms, 2 transcript deltas, response.done
  kRealtime,  // the full GA sequence, one delta of `delta` audio every `delta`
};

struct StreamShape {
  Pacing pacing = Pacing::kBurst;
  std::chrono::milliseconds audio{1000};  // realtime: audio per response
  std::chrono::milliseconds delta{20};    // realtime: audio per delta = gap between deltas
};

struct PlanStep {
  enum class Kind { kSend, kReset };
  Kind kind = Kind::kSend;
  std::chrono::milliseconds delay{0};  // wait before the step
  std::string payload;                 // kSend: one text message
};

struct ResponseRequest {
  RealtimeResponseIds ids;
  StreamShape shape;
  std::string say = "Hello there!";  // the assistant's transcript
  bool text_only = false;            // output_modalities ["text"]: text deltas, no audio
  Fault fault = Fault::kNone;        // a response-stage fault, or kNone
  FaultParams params;
};

std::vector<PlanStep> PlanResponse(const ResponseRequest& request);

// Audio deltas a realtime response carries (audio / delta, at least 1).
size_t RealtimeDeltaCount(const StreamShape& shape);

}  // namespace relaytap::tools::fake_upstream

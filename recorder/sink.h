#pragma once
// Where the relay hands observations. Implementations never block: when they cannot keep an
// observation, they count it (the recorder writes it as a gap) and return false.

#include "recorder/observation.h"

namespace relaytap::recorder {

class Sink {
 public:
  virtual ~Sink() = default;
  // Thread-safe, non-blocking. Returns false if the observation was dropped (and counted).
  virtual bool TrySubmit(Observation&& obs) noexcept = 0;
};

}  // namespace relaytap::recorder

#pragma once
// The two wire dialects of the Realtime API (see shared/realtime-protocol.md §0): GA event names
// (`response.output_audio.delta`, `output_modalities`) and the preview/beta ones
// (`response.audio.delta`, `modalities`). The fake builds GA events and renames them for a
// preview session. Pure.

#include <string>
#include <string_view>

namespace relaytap::tools::fake_upstream {

enum class Dialect { kGa, kPreview };

// A session is preview when its path is the preview one (`/openai/realtime`, not `/openai/v1/`),
// or it sends `OpenAI-Beta: realtime=v1`, or offers the `openai-beta.realtime-v1` subprotocol.
Dialect DialectOf(std::string_view path, std::string_view openai_beta_header,
                  bool beta_subprotocol);

// The GA server event `event` (one JSON object) in the preview names; other text unchanged.
std::string ToPreview(std::string_view event);

}  // namespace relaytap::tools::fake_upstream

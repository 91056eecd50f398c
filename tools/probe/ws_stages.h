#pragma once
// The WebSocket stages of a probe: the upgrade (websocket) and, when asked, the smallest
// text-only realtime flow (realtime): session.update with text output, one
// conversation.item.create "Say OK", response.create, then every server event until
// response.done (or an error event, or the stage's time is up).

#include <vector>

#include "tools/probe/probe.h"
#include "tools/probe/stages.h"
#include "tools/stream/strand_net.h"

namespace relaytap::tools::probe {

// Appends the websocket and realtime results. `c` is connected (and verified, for wss).
net::awaitable<void> WebSocketStages(const ProbeOptions& o, Connection& c,
                                     std::vector<StageResult>& out);

// The header that carries the key: `api-key` for *.openai.azure.com, else `Authorization`.
bool UsesApiKeyHeader(const std::string& host);

// The preview dialect (modalities, not output_modalities) for the /openai/realtime path.
bool IsPreviewPath(const std::string& target);

}  // namespace relaytap::tools::probe

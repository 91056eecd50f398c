#pragma once
// The local answer to a request or WebSocket upgrade the guard rejects: 429 (attempt cap, retry
// budget, retry-after hold) or 503 (breaker open), Azure's error JSON shape with code
// relaytap_<reason>, retry-after (seconds, rounded up) and retry-after-ms, x-should-retry: false
// (the OpenAI SDKs honour it and stop retrying) and x-relaytap-guard: <reason>.

#include <string>

#include "proxy/guard/retry_guard.h"

namespace relaytap::proxy::guard {

int RejectStatus(Reason reason);
// "relaytap_attempt_cap", ...
std::string RejectCode(Reason reason);
// The complete HTTP/1.1 response bytes (Connection: close).
std::string BuildRejectResponse(const Decision& decision);
// The decision's counts as a small JSON object (stored in guard_decisions.counts).
std::string CountsJson(const Decision& decision);

}  // namespace relaytap::proxy::guard

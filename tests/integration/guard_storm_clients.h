#pragma once
// Clients for the guard storm tests: raw requests through the proxy, an SDK-like retry loop
// (openai-node's rules) and a naive one, and counters of what reached the fake upstream.

#include <cstdint>
#include <string>
#include <vector>

#include "tests/testing/proxy_harness.h"
#include "tests/testing/sqlite_query.h"

namespace relaytap::testing {

struct Answer {
  int status = 0;  // 0: the connection failed
  std::string should_retry, retry_after_ms, guard_reason;
};

// One attempt on a fresh intercepted connection.
Answer Send(ProxyHarness& h, const std::string& raw_request);
// POST with a JSON body; x-stainless-retry-count when retry_count >= 0.
Answer Post(ProxyHarness& h, const std::string& target, const std::string& body,
            int retry_count = -1);
// A WebSocket upgrade request; the answer is the proxy's (or upstream's) response head.
Answer Upgrade(ProxyHarness& h, const std::string& target);

struct ClientRun {
  int attempts = 0;
  int final_status = 0;
  bool stopped_by_should_retry = false;
  int guard_answers = 0;
  std::vector<int64_t> backoffs_ms;  // what it would wait (virtual: the guard's clock is ours)
};

// openai-node's loop: retry 408/409/429/5xx and failed connections unless x-should-retry says
// otherwise, at most max_retries times; wait retry-after-ms if given (< 60 s), else
// 0.5 s * 2^n capped at 8 s, minus up to 25% jitter (seeded).
ClientRun SdkClient(ProxyHarness& h, const std::string& target, const std::string& body,
                    int max_retries, uint64_t seed);
// Retries at once, the same request, until it succeeds or `max_attempts` are spent.
ClientRun NaiveClient(ProxyHarness& h, const std::string& target, const std::string& body,
                      int max_attempts, bool websocket);
// Requests the fake upstream received whose target contains `marker`.
size_t UpstreamCount(ProxyHarness& h, const std::string& marker);

}  // namespace relaytap::testing

#pragma once
// Pure helpers that turn what the relay sees of a request or a response head into the guard's
// inputs: the key (host + deployment or model), a request fingerprint, the SDK retry count and
// retry-after delays. Nothing here keeps raw header values: fingerprints are hashes.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace relaytap::proxy::guard {

struct RequestFacts {
  std::string host;        // upstream host, lower-case
  std::string deployment;  // deployment or model named in the path or query; may be empty
  std::string client;      // the app's source address without port; may be empty
  bool websocket_upgrade = false;
  int stainless_retry_count = -1;  // x-stainless-retry-count, -1 when absent or unreadable
  uint64_t fingerprint = 0;        // RequestFingerprint(); 0 when unknown
};

// The deployment or model a request targets: /openai/deployments/{d}/..., else ?deployment=,
// else ?model=. Accepts origin-form and absolute-form targets. "" when none is named. Bounded to
// 128 characters of [A-Za-z0-9._:-] (anything else ends the name), so it is safe to store.
std::string DeploymentFromTarget(std::string_view target);

// "host" or "host/deployment", plus " client=ADDR" when `client` is not empty.
std::string GuardKey(std::string_view host, std::string_view deployment, std::string_view client);

// A 64-bit hash of the method, the path with its query parameters minus `volatile_params`
// (sorted, so their order does not matter) and the body. Never stored, only compared in memory.
uint64_t RequestFingerprint(std::string_view method, std::string_view target, std::string_view body,
                            const std::vector<std::string>& volatile_params);

// x-stainless-retry-count: a non-negative decimal integer, else nullopt.
std::optional<int> ParseRetryCount(std::string_view value);

// The retry hints of a 429/503 response head, as received; an empty value means absent.
struct RetryAfterHeaders {
  std::string_view retry_after_ms;       // milliseconds (OpenAI SDKs, Azure)
  std::string_view x_ms_retry_after_ms;  // milliseconds (Azure; azure-core reads it)
  std::string_view retry_after;          // delay-seconds or an HTTP-date
};

// The delay an upstream asked for, in azure-core's order of precedence: `retry-after-ms`, then
// `x-ms-retry-after-ms` (both non-negative decimal milliseconds, rounded up, capped at 1e12),
// then `retry-after` (delay-seconds, or an HTTP-date measured from `now_unix_us`; a date in the
// past is 0). A malformed value counts as absent, so the next header is read. nullopt when none
// is readable.
std::optional<int64_t> RetryAfterMs(const RetryAfterHeaders& headers, int64_t now_unix_us);

// The address part of "ip:port" or "[v6]:port".
std::string ClientHost(std::string_view address);

}  // namespace relaytap::proxy::guard

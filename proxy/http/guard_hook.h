#pragma once
// Where the exchange loop meets the retry guard: before dialling, ask the guard about the request
// whose head was just parsed (and record the decision); answer a rejection locally in enforce
// mode; after the upstream's response head (or a failure without one) feed the outcome back.
// With the guard off there is no guard object and none of this runs.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/config/config.h"
#include "proxy/context.h"
#include "proxy/guard/retry_guard.h"
#include "proxy/http/raw_parser.h"
#include "proxy/stream/byte_stream.h"
#include "proxy/stream/net.h"
#include "recorder/observation.h"

namespace relaytap::proxy::http_relay {

struct GuardCheck {
  bool active = false;  // the guard decided (false: guard off)
  bool reject = false;  // enforce mode rejected the request: answer locally, do not dial
  guard::Decision decision;
  uint64_t connection_id = 0;
  uint32_t exchange_sequence = 0;
};

// Asks the guard (if any). A small Content-Length body that is not waiting for 100-continue is
// read ahead into `app_buf` (it stays there for the relay) so the fingerprint covers it.
Awaitable<GuardCheck> CheckGuard(const ProxyContext& ctx, ByteStream& app,
                                 beast::flat_buffer& app_buf, const RawParser<true>& req,
                                 const HostPort& target, uint64_t connection_id,
                                 uint32_t exchange_sequence);

// Writes the local 429/503 answer and half-closes; fills the exchange observation (if any).
Awaitable<uint64_t> AnswerGuardRejection(ByteStream& app, const GuardCheck& check,
                                         recorder::Exchange* obs);

// Tells the guard how the session of a forwarded upgrade ended (nothing when the guard is off).
void ReportGuardSessionEnd(const ProxyContext& ctx, const GuardCheck& check, bool failed);

// Feeds an attempt's outcome back: `status` 0 when upstream never answered. The retry hints are
// the response's retry-after, retry-after-ms and x-ms-retry-after-ms values ("" when absent).
void ReportGuardOutcome(const ProxyContext& ctx, const GuardCheck& check, int status,
                        std::string_view retry_after, std::string_view retry_after_ms,
                        std::string_view x_ms_retry_after_ms = "");

}  // namespace relaytap::proxy::http_relay

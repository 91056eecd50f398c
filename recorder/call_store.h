#pragma once
// Writes what an exchange says about WebRTC calls (recorder/call_facts.h) beside its exchanges
// row: a calls row for a set-up, a call_tokens row for a token issuance, the call id on the
// ws_sessions row of a sideband WebSocket. Call set-ups are rare (one per conversation), so the
// statements are prepared per row rather than cached. Thread rule: the writer thread only, inside
// its batch transaction.

#include <cstdint>

#include "absl/status/status.h"
#include "recorder/correlator.h"
#include "recorder/observation.h"
#include "recorder/redaction.h"
#include "recorder/store.h"

namespace relaytap::recorder {

// `facts`: the exchange's facts after Redactor::SanitizeColumns. Writes nothing for an exchange
// that is none of the three.
absl::Status WriteCallFacts(Store& store, const Redactor& redactor, int64_t run_id,
                            const Exchange& ex, const ExchangeFacts& facts);

}  // namespace relaytap::recorder

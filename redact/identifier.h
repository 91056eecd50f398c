#pragma once
// The rule for identifiers: a value is an identifier if it matches ^[A-Za-z0-9_.:-]{1,max}$ and
// holds no secret pattern. Used for JSON keys and id-keyed values inside payloads, and for every
// value the recorder writes to an indexed column (event type and ids, session id, model,
// deployment, API version, error type and code, correlation ids): such a value is stored as
// written only if it is an identifier, otherwise as its fingerprint, so a key in an `event_id`,
// free text in an `item_id` or a key-shaped deployment name never reaches disk. Pure.

#include <cstddef>
#include <string>
#include <string_view>

#include "redact/fingerprint.h"

namespace relaytap::redact {

inline constexpr size_t kMaxIdentifierBytes = 128;

// ^[A-Za-z0-9_.:-]{1,max}$
bool IsIdentifier(std::string_view s, size_t max = kMaxIdentifierBytes);

// `value` itself when it is an identifier without a secret pattern, "" for "", else its
// fingerprint ("hmac:…").
std::string StorableIdentifier(std::string_view value, const Fingerprinter& fp);

// A request id as services write them: an optional short letter prefix and '_' or '-'
// ("req_"), then hex digits and dashes only (OpenAI's x-request-id is req_ and 32 hex digits,
// which the secret rule for long hex runs would otherwise take for a key).
bool IsHexRequestId(std::string_view s);

// StorableIdentifier for request-id values: a hex request id is kept although its hex run is
// long; anything else follows the identifier rule.
std::string StorableRequestId(std::string_view value, const Fingerprinter& fp);

}  // namespace relaytap::redact

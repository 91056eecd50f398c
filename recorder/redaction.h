#pragma once
// The one place where the recorder calls redact/: every value that reaches SQLite from an
// observation's raw data (headers, targets, bodies, payloads, subprotocols) goes through here.
// Thread rule: immutable after Create(); used by the writer thread only.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "recorder/correlator.h"
#include "recorder/observation.h"
#include "redact/auth.h"
#include "redact/json_holes.h"

namespace relaytap::recorder {

class Redactor {
 public:
  // `key`: the per-install fingerprint secret (>= 16 bytes). `policy_path`: "" for the default
  // policy, else a user file that extends it. Errors: InvalidArgument for a short key or a
  // malformed policy (the message names the file and the offending key), NotFound for a missing
  // policy file.
  static absl::StatusOr<std::unique_ptr<Redactor>> Create(std::string key,
                                                          const std::string& policy_path);
  ~Redactor();

  // Compact redacted JSON; non-JSON text gives a body shape (never raw bytes).
  std::string JsonText(std::string_view text) const;
  // A WebSocket message payload: JSON text redacted, binary/truncated -> shape, control -> "".
  // `parsed`: the payload already parsed by the correlator (object), or null/discarded.
  std::string MessagePayload(const WsMessage& msg,
                             const redact::ParsedJson* parsed = nullptr) const;
  // MessagePayload for a text message whose payload ParseFlatObject read as `flat`: the same
  // text without a DOM, or nullopt where the flat path does not apply (then use MessagePayload).
  std::optional<std::string> FlatMessagePayload(const WsMessage& msg,
                                                const redact::FlatObject& flat) const;
  // [["name","redacted value"],...] in wire order.
  std::string HeadersJson(const Headers& headers) const;
  std::string Target(std::string_view target) const;
  std::string Subprotocols(std::string_view value) const;
  // A body sample: JSON bodies field by field, others (and truncated ones) as a shape; "" if none.
  std::string Body(const BodySample& body) const;
  // One redacted entry per SSE event: [{"at_us":N,"event":"…","data":{…}},...].
  std::string SseEvents(const std::vector<SseEvent>& events) const;
  // Free protocol text (close reasons, error reasons): secrets scrubbed, length capped.
  std::string ScrubbedText(std::string_view text) const;
  // A JWT's raw aud or tid claim as it may be stored: the identifier, else its fingerprint.
  std::string JwtIdentifier(redact::JwtClaim claim, std::string_view value) const;
  // "hmac:" + 12 hex of the keyed HMAC of `value` (equal values, equal fingerprints).
  std::string Fingerprint(std::string_view value) const;
  // "siphash:" + 12 hex: the bulk fingerprint (redact/fingerprint.h), as audio placeholders have.
  std::string BulkFingerprint(std::string_view value) const;
  // A value for an indexed column: itself if it is an identifier without a secret pattern
  // (redact/identifier.h), else its fingerprint.
  std::string Identifier(std::string_view value) const;
  // Every string of the facts that the store writes to a column of its own, through
  // Identifier(). Values the protocol defines (event types, "response_id": "resp_…") are
  // unchanged; a secret or free text becomes a fingerprint.
  void SanitizeColumns(MessageFacts& facts) const;
  void SanitizeColumns(ExchangeFacts& facts) const;

  const std::string& policy_hash() const { return policy_hash_; }

 private:
  struct Impl;
  explicit Redactor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::string policy_hash_;
};

}  // namespace relaytap::recorder

#pragma once
// The redaction policy: which JSON keys, headers and query parameters may keep their values.
// Everything not named here is replaced by a placeholder or a fingerprint (DESIGN invariant 3).
// The default lives in default_policy.cc (same text as configs/redaction.json); a user file only
// ever *extends* it.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace relaytap::redact {

// A set of names given as exact names, "prefix*" or "*suffix" patterns.
// Case-insensitive sets (headers, query parameters) store and compare lowercase.
class NameSet {
 public:
  explicit NameSet(bool case_insensitive = false) : case_insensitive_(case_insensitive) {}

  // InvalidArgument for an empty pattern, a bare "*", or a '*' anywhere but first or last.
  absl::Status Add(std::string_view pattern);
  bool Contains(std::string_view name) const;
  // Sorted patterns, as given (lowercased if case-insensitive).
  std::vector<std::string> Patterns() const;

 private:
  friend class Policy;  // indexes the JSON key lists (JsonKeyRules)
  bool case_insensitive_;
  std::set<std::string, std::less<>> exact_;
  std::set<std::string, std::less<>> prefixes_;
  std::set<std::string, std::less<>> suffixes_;
};

// Immutable after Parse()/Default()/Extend(); const access is safe from any thread.
class Policy {
 public:
  static constexpr size_t kDefaultMaxKeptStringChars = 256;
  static constexpr size_t kDefaultMaxMessageChars = 512;
  static constexpr size_t kDefaultMaxDepth = 64;

  // Parses a complete policy, starting from an empty one (missing lists are empty, missing numbers
  // take the defaults above). Errors (InvalidArgument) name the offending key or element:
  // not a JSON object, unknown top-level key (keys starting with '_' are comments), a list that is
  // not an array of non-empty strings, a bad '*' pattern, a number out of range.
  static absl::StatusOr<Policy> Parse(std::string_view json_text);

  // The embedded default (DefaultPolicyText()).
  static absl::StatusOr<Policy> Default();

  // Adds the names of a user policy file to this one (lists are merged, numbers replaced). Same
  // errors as Parse(); on error this policy is unchanged.
  absl::Status Extend(std::string_view json_text);

  // Canonical JSON (sorted keys and lists, comments dropped) and its SHA-256 hex; the hash is
  // recorded per run so a recording says which policy produced it.
  std::string CanonicalJson() const;
  std::string hash() const;

  // Keys whose string values may be kept (subject to length and secret checks).
  const NameSet& allow_keys() const { return allow_keys_; }
  // Keys whose whole value is replaced by one placeholder. Wins over every other rule.
  const NameSet& opaque_keys() const { return opaque_keys_; }
  // Identifier keys (e.g. "id", "*_id"): kept only if they look like an identifier.
  const NameSet& id_keys() const { return id_keys_; }
  // Free-text keys (e.g. "message") kept after scrubbing secrets and truncation.
  const NameSet& scrub_keys() const { return scrub_keys_; }
  // Keys holding base64 audio; "delta" also counts when the event type is listed below.
  const NameSet& audio_keys() const { return audio_keys_; }
  const NameSet& audio_delta_event_types() const { return audio_delta_event_types_; }
  // Keys under which numbers (and their subtree's numbers) are hidden too.
  const NameSet& numbers_redacted_keys() const { return numbers_redacted_keys_; }
  // Header names (case-insensitive) whose values are kept verbatim / always fingerprinted.
  const NameSet& keep_headers() const { return keep_headers_; }
  const NameSet& secret_headers() const { return secret_headers_; }
  // Query parameter names (case-insensitive) whose values are kept.
  const NameSet& keep_query_params() const { return keep_query_params_; }

  // Which of the JSON key lists above contain `key` (kJsonKey* bits): the same answers as their
  // Contains(), from one hash lookup plus the few '*' patterns. The redactor asks this for every
  // value, where six set lookups cost more than the rest of its walk.
  static constexpr uint8_t kJsonKeyAllow = 1, kJsonKeyOpaque = 2, kJsonKeyId = 4, kJsonKeyScrub = 8,
                           kJsonKeyAudio = 16, kJsonKeyNumbersRedacted = 32;
  uint8_t JsonKeyRules(std::string_view key) const;

  size_t max_kept_string_chars() const { return max_kept_string_chars_; }
  size_t max_message_chars() const { return max_message_chars_; }
  size_t max_depth() const { return max_depth_; }

 private:
  absl::Status Apply(const nlohmann::json& doc);
  void IndexJsonKeys();
  // The list member named `key` in the policy JSON, or nullptr.
  template <typename Self>
  static auto* ListByName(Self& self, std::string_view key);

  NameSet allow_keys_;
  NameSet opaque_keys_;
  NameSet id_keys_;
  NameSet scrub_keys_;
  NameSet audio_keys_;
  NameSet audio_delta_event_types_;
  NameSet numbers_redacted_keys_;
  NameSet keep_headers_{true};
  NameSet secret_headers_{true};
  NameSet keep_query_params_{true};
  size_t max_kept_string_chars_ = kDefaultMaxKeptStringChars;
  size_t max_message_chars_ = kDefaultMaxMessageChars;
  size_t max_depth_ = kDefaultMaxDepth;
  // Built by IndexJsonKeys() from the six JSON key lists: exact names -> bits, then patterns.
  struct KeyPattern {
    std::string text;
    bool prefix;  // else suffix
    uint8_t bits;
  };
  absl::flat_hash_map<std::string, uint8_t> json_key_bits_;
  std::vector<KeyPattern> json_key_patterns_;
};

// The default policy text (configs/redaction.json, embedded at build time by hand; a unit test
// keeps the two identical).
std::string_view DefaultPolicyText();

}  // namespace relaytap::redact

#pragma once
// What kind of credential a request used, without keeping the credential. Pure; thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "redact/fingerprint.h"

namespace relaytap::redact {

// For an Authorization header value: "bearer_jwt" (eyJ….….), "bearer_key" (sk-…),
// "bearer_ephemeral" (ek_…), "bearer" (other bearer token), "basic", or "other" (including empty).
// Never returns any part of the value.
std::string DescribeAuthorization(std::string_view authorization_value);

// Token lifetime claims (seconds since the epoch), the only JWT fields relaytap keeps.
struct JwtTimes {
  std::optional<int64_t> exp;
  std::optional<int64_t> nbf;
  std::optional<int64_t> iat;
};

// `bearer_value` is "Bearer <jwt>" or a bare JWT. Base64url-decodes the payload only (the
// signature is not checked: this is for display, never for trust) and reads numeric exp/nbf/iat.
// nullopt if the value is not a three-part JWT whose payload is a JSON object.
std::optional<JwtTimes> JwtTimesOf(std::string_view bearer_value);

// The claims relaytap reads from a JWT: its lifetime, and who it is for. `aud` and `tid` are the
// raw claim values (aud: a string, or an array's first kMaxAudiences strings joined by ","):
// they reach storage only through JwtIdentifier.
struct JwtClaims {
  JwtTimes times;
  std::string aud;  // audience: "https://cognitiveservices.azure.com", "api://…", a GUID
  std::string tid;  // Entra tenant id (a GUID)
};
inline constexpr size_t kMaxAudiences = 4;

// As JwtTimesOf, with aud and tid (string claims only; others are left empty).
std::optional<JwtClaims> JwtClaimsOf(std::string_view bearer_value);

enum class JwtClaim { kAud, kTid };

// What may be stored of an aud or tid claim value: the value itself when it is an identifier
// (tid: a GUID; aud: a GUID, an https:// URL or an api:// URI of [A-Za-z0-9._~:/-], without
// userinfo, query or fragment), at most 128 bytes and no secret pattern; otherwise fp.Of(value)
// ("hmac:…"), never free text. For aud, each comma-separated audience is judged on its own.
// "" for "".
std::string JwtIdentifier(JwtClaim claim, std::string_view value, const Fingerprinter& fp);

}  // namespace relaytap::redact

#pragma once
// What kind of credential a request used, without keeping the credential. Pure; thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

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

}  // namespace relaytap::redact

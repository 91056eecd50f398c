#include "redact/auth.h"

#include <cmath>

#include "base/ascii.h"
#include "nlohmann/json.hpp"
#include "redact/secret_patterns.h"

namespace relaytap::redact {
namespace {

constexpr size_t kMaxPayloadChars = 16 * 1024;

// Strips a "Bearer " scheme (any case) if present.
std::string_view StripBearer(std::string_view v) {
  v = TrimOws(v);
  if (StartsWithIgnoreCase(v, "bearer ") || StartsWithIgnoreCase(v, "bearer\t")) {
    return TrimOws(v.substr(7));
  }
  return v;
}

bool LooksLikeJwt(std::string_view t) {
  const size_t a = t.find('.');
  if (t.substr(0, 3) != "eyJ" || a == std::string_view::npos) return false;
  const size_t b = t.find('.', a + 1);
  return b != std::string_view::npos && b > a + 1 && t.find('.', b + 1) == std::string_view::npos;
}

int B64UrlValue(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-' || c == '+') return 62;
  if (c == '_' || c == '/') return 63;
  return -1;
}

std::optional<std::string> DecodeBase64Url(std::string_view s) {
  while (!s.empty() && s.back() == '=') s.remove_suffix(1);
  if (s.size() % 4 == 1) return std::nullopt;
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    const int v = B64UrlValue(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

std::optional<int64_t> TimeClaim(const nlohmann::json& payload, const char* name) {
  const auto it = payload.find(name);
  if (it == payload.end()) return std::nullopt;
  if (it->is_number_integer()) return it->get<int64_t>();  // also covers unsigned in range
  if (it->is_number_float()) {
    const double d = it->get<double>();
    if (std::isfinite(d) && d > -9.2e18 && d < 9.2e18) return static_cast<int64_t>(d);
  }
  return std::nullopt;
}

// A string claim; for an array, its first kMaxAudiences string elements joined by ",".
std::string StringClaim(const nlohmann::json& payload, const char* name) {
  const auto it = payload.find(name);
  if (it == payload.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  std::string out;
  if (!it->is_array()) return out;
  size_t n = 0;
  for (const nlohmann::json& e : *it) {
    if (!e.is_string() || n == kMaxAudiences) continue;
    if (n++ > 0) out += ",";
    out += e.get<std::string>();
  }
  return out;
}

// 8-4-4-4-12 hex digits.
bool IsGuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !IsAsciiHex(s[i])) return false;
  }
  return true;
}

bool IsUriChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_' || c == '~' || c == ':' || c == '/';
}

// A GUID, or https://… / api://… of URI characters without userinfo, query or fragment.
bool IsAudience(std::string_view s) {
  if (s.empty() || s.size() > 128 || ContainsSecret(s)) return false;
  if (IsGuid(s)) return true;
  std::string_view rest;
  if (s.starts_with("https://")) {
    rest = s.substr(8);
  } else if (s.starts_with("api://")) {
    rest = s.substr(6);
  } else {
    return false;
  }
  if (rest.empty() || rest[0] == '/') return false;
  for (char c : rest) {
    if (!IsUriChar(c)) return false;
  }
  return true;
}

}  // namespace

std::string DescribeAuthorization(std::string_view authorization_value) {
  const std::string_view v = TrimOws(authorization_value);
  if (StartsWithIgnoreCase(v, "basic ")) return "basic";
  if (!StartsWithIgnoreCase(v, "bearer ") && !StartsWithIgnoreCase(v, "bearer\t")) return "other";
  const std::string_view token = StripBearer(v);
  if (LooksLikeJwt(token)) return "bearer_jwt";
  if (token.substr(0, 3) == "sk-") return "bearer_key";
  if (token.substr(0, 3) == "ek_") return "bearer_ephemeral";
  return "bearer";
}

std::optional<JwtTimes> JwtTimesOf(std::string_view bearer_value) {
  std::optional<JwtClaims> claims = JwtClaimsOf(bearer_value);
  if (!claims) return std::nullopt;
  return claims->times;
}

std::optional<JwtClaims> JwtClaimsOf(std::string_view bearer_value) {
  const std::string_view token = StripBearer(bearer_value);
  if (!LooksLikeJwt(token)) return std::nullopt;
  const size_t a = token.find('.');
  const size_t b = token.find('.', a + 1);
  const std::string_view payload_b64 = token.substr(a + 1, b - a - 1);
  if (payload_b64.size() > kMaxPayloadChars) return std::nullopt;
  const std::optional<std::string> payload = DecodeBase64Url(payload_b64);
  if (!payload) return std::nullopt;
  const nlohmann::json doc = nlohmann::json::parse(*payload, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return std::nullopt;
  JwtClaims claims;
  claims.times = JwtTimes{TimeClaim(doc, "exp"), TimeClaim(doc, "nbf"), TimeClaim(doc, "iat")};
  claims.aud = StringClaim(doc, "aud");
  claims.tid = StringClaim(doc, "tid");
  return claims;
}

std::string JwtIdentifier(JwtClaim claim, std::string_view value, const Fingerprinter& fp) {
  if (value.empty()) return "";
  if (claim == JwtClaim::kTid) return IsGuid(value) ? std::string(value) : fp.Of(value);
  std::string out;
  while (true) {
    const size_t comma = value.find(',');
    const std::string_view one = value.substr(0, comma);
    if (!out.empty()) out += ",";
    out += IsAudience(one) ? std::string(one) : fp.Of(one);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace relaytap::redact

#include "redact/url.h"

#include <array>

#include "base/ascii.h"
#include "base/str_cat.h"
#include "redact/identifier.h"
#include "redact/secret_patterns.h"

namespace relaytap::redact {
namespace {

// Credential-carrying names that no policy may keep (compared lowercase).
constexpr std::array<std::string_view, 11> kNeverKeep = {
    "api-key",       "authorization", "key",    "token",           "sig", "code", "access_token",
    "client_secret", "password",      "secret", "subscription-key"};

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsParamName(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return !ContainsSecret(s);
}

bool NeverKeep(std::string_view decoded_name) {
  const std::string lower = AsciiStrToLower(decoded_name);
  for (std::string_view n : kNeverKeep) {
    if (lower == n) return true;
  }
  return false;
}

// The credential rendering may hold a space ("Bearer hmac:…"); keep the target one token.
std::string EncodeSpaces(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == ' ') {
      out.append("%20");
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string RedactPath(std::string_view path, const Fingerprinter& fp) {
  std::string out;
  size_t pos = 0;
  while (true) {
    const size_t slash = path.find('/', pos);
    const std::string_view seg =
        path.substr(pos, slash == std::string_view::npos ? path.npos : slash - pos);
    const std::string decoded = PercentDecode(seg);
    const bool secret = decoded.find('@') != std::string::npos || ContainsSecret(decoded);
    out.append(secret ? fp.Of(decoded) : std::string(seg));
    if (slash == std::string_view::npos) break;
    out.push_back('/');
    pos = slash + 1;
  }
  return out;
}

std::string RedactParam(std::string_view param, const Policy& policy, const Fingerprinter& fp) {
  const size_t eq = param.find('=');
  const std::string name = PercentDecode(param.substr(0, eq));
  if (!IsParamName(name)) {
    std::string out = fp.Of(name);
    if (eq != std::string_view::npos) {
      out.append(StrCat("=", fp.Of(PercentDecode(param.substr(eq + 1)))));
    }
    return out;
  }
  if (eq == std::string_view::npos) return std::string(param);
  const std::string_view raw_value = param.substr(eq + 1);
  const std::string value = PercentDecode(raw_value);
  if (value.empty()) return std::string(param);
  // Kept parameters name things (a deployment, a model, an API version): identifiers only, so
  // free text or a key in them is fingerprinted like any other value.
  const bool keep = policy.keep_query_params().Contains(name) && !NeverKeep(name) &&
                    value.size() <= policy.max_kept_string_chars() && IsIdentifier(value) &&
                    !ContainsSecret(value);
  if (keep) return std::string(param);
  return StrCat(param.substr(0, eq), "=", EncodeSpaces(FingerprintCredential(value, fp)));
}

}  // namespace

std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string RedactTarget(std::string_view target, const Policy& policy, const Fingerprinter& fp) {
  std::string_view fragment;
  if (const size_t hash = target.find('#'); hash != std::string_view::npos) {
    fragment = target.substr(hash + 1);
    target = target.substr(0, hash);
  }
  const size_t q = target.find('?');
  std::string out = RedactPath(target.substr(0, q), fp);
  if (q != std::string_view::npos) {
    out.push_back('?');
    std::string_view query = target.substr(q + 1);
    size_t pos = 0;
    while (true) {
      const size_t amp = query.find('&', pos);
      const std::string_view param =
          query.substr(pos, amp == std::string_view::npos ? query.npos : amp - pos);
      if (!param.empty()) out.append(RedactParam(param, policy, fp));
      if (amp == std::string_view::npos) break;
      out.push_back('&');
      pos = amp + 1;
    }
  }
  if (!fragment.empty()) out.append(StrCat("#", fp.Of(PercentDecode(fragment))));
  return out;
}

}  // namespace relaytap::redact

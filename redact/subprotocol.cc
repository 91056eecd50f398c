#include "redact/subprotocol.h"

#include "base/str_cat.h"
#include "redact/secret_patterns.h"

namespace relaytap::redact {
namespace {

constexpr std::string_view kKeyPrefix = "openai-insecure-api-key.";
constexpr std::string_view kBetaPrefix = "openai-beta.";

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsBetaName(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return !ContainsSecret(s);
}

std::string RedactToken(std::string_view token, const Fingerprinter& fp) {
  if (token == "realtime") return std::string(token);
  if (token.substr(0, kKeyPrefix.size()) == kKeyPrefix) {
    return StrCat(kKeyPrefix, fp.Of(token.substr(kKeyPrefix.size())));
  }
  if (token.substr(0, kBetaPrefix.size()) == kBetaPrefix &&
      IsBetaName(token.substr(kBetaPrefix.size()))) {
    return std::string(token);
  }
  return fp.Of(token);
}

}  // namespace

std::string RedactSubprotocols(std::string_view value, const Fingerprinter& fp) {
  std::string out;
  size_t pos = 0;
  while (pos <= value.size()) {
    const size_t comma = value.find(',', pos);
    const std::string_view token =
        Trim(value.substr(pos, comma == std::string_view::npos ? value.npos : comma - pos));
    if (!token.empty()) {
      if (!out.empty()) out.append(", ");
      out.append(RedactToken(token, fp));
    }
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return out;
}

}  // namespace relaytap::redact

#include "redact/subprotocol.h"

#include "base/ascii.h"
#include "base/str_cat.h"
#include "redact/secret_patterns.h"

namespace relaytap::redact {
namespace {

constexpr std::string_view kKeyPrefix = "openai-insecure-api-key.";
constexpr std::string_view kBetaPrefix = "openai-beta.";

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
  for (std::string_view token : SplitHttpList(value)) {
    if (!out.empty()) out.append(", ");
    out.append(RedactToken(token, fp));
  }
  return out;
}

}  // namespace relaytap::redact

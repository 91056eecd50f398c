#include "redact/identifier.h"

#include "redact/secret_patterns.h"

namespace relaytap::redact {
namespace {

bool IsIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == ':' || c == '-';
}

}  // namespace

bool IsIdentifier(std::string_view s, size_t max) {
  if (s.empty() || s.size() > max) return false;
  for (char c : s) {
    if (!IsIdChar(c)) return false;
  }
  return true;
}

std::string StorableIdentifier(std::string_view value, const Fingerprinter& fp) {
  if (value.empty()) return "";
  if (IsIdentifier(value) && !ContainsSecret(value)) return std::string(value);
  return fp.Of(value);
}

bool IsHexRequestId(std::string_view s) {
  if (!IsIdentifier(s)) return false;
  size_t i = 0;
  while (i < s.size() && i < 8 && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z'))) {
    ++i;
  }
  if (i > 0 && i < s.size() && (s[i] == '_' || s[i] == '-')) {
    ++i;
  } else {
    i = 0;
  }
  if (i == s.size()) return false;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex && c != '-') return false;
  }
  return true;
}

std::string StorableRequestId(std::string_view value, const Fingerprinter& fp) {
  if (IsHexRequestId(value)) return std::string(value);
  return StorableIdentifier(value, fp);
}

}  // namespace relaytap::redact

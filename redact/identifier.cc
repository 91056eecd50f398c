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

}  // namespace relaytap::redact

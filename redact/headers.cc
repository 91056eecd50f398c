#include "redact/headers.h"

#include "redact/secret_patterns.h"
#include "redact/subprotocol.h"
#include "redact/url.h"

namespace relaytap::redact {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace

std::string RedactHeaderValue(std::string_view name, std::string_view value, const Policy& policy,
                              const Fingerprinter& fp) {
  if (policy.secret_headers().Contains(name)) return FingerprintCredential(value, fp);
  if (EqualsIgnoreCase(name, "sec-websocket-protocol")) return RedactSubprotocols(value, fp);
  if (EqualsIgnoreCase(name, "location")) return RedactTarget(value, policy, fp);
  if (policy.keep_headers().Contains(name)) return std::string(value);
  return fp.Of(value);
}

HeaderList RedactHeaders(const HeaderList& headers, const Policy& policy, const Fingerprinter& fp) {
  HeaderList out;
  out.reserve(headers.size());
  for (const auto& [name, value] : headers) {
    out.emplace_back(name, RedactHeaderValue(name, value, policy, fp));
  }
  return out;
}

}  // namespace relaytap::redact

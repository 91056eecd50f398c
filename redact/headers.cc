#include "redact/headers.h"

#include "base/ascii.h"
#include "redact/identifier.h"
#include "redact/secret_patterns.h"
#include "redact/subprotocol.h"
#include "redact/url.h"

namespace relaytap::redact {

std::string RedactHeaderValue(std::string_view name, std::string_view value, const Policy& policy,
                              const Fingerprinter& fp) {
  if (policy.secret_headers().Contains(name)) return FingerprintCredential(value, fp);
  if (EqualsIgnoreCase(name, "sec-websocket-protocol")) return RedactSubprotocols(value, fp);
  if (EqualsIgnoreCase(name, "location")) return RedactTarget(value, policy, fp);
  if (policy.keep_headers().Contains(name)) {
    // A kept header still never carries a secret to disk, and an id header (`*-id`, which the
    // app may set) keeps only an identifier.
    if (EndsWithIgnoreCase(name, "-id")) {
      return IsHexRequestId(value) ? std::string(value) : StorableIdentifier(value, fp);
    }
    if (ContainsSecret(value)) return FingerprintCredential(value, fp);
    return std::string(value);
  }
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

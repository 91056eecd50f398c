#pragma once
// The X.509 name constraints of relaytap's CA, derived from the intercept patterns:
//   "*.example.com" -> permitted DNS ".example.com" (any subdomain, not the apex, as the pattern)
//   "api.example.com" -> permitted DNS "api.example.com" (RFC 5280: also its subdomains)
//   "127.0.0.1", "::1", "[::1]" -> permitted iPAddress 127.0.0.1/32, ::1/128
//   "*" -> no constraints at all (the CA can vouch for any name; logged as a warning)
// The self-check host (check.relaytap.invalid) is always permitted too.
// A name type no pattern permits is excluded outright (all DNS names, 0.0.0.0/0 and ::/0), so a
// CA made for DNS patterns cannot vouch for an IP address and one made for IPs for no DNS name.

#include <openssl/x509.h>

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "proxy/tls/host_name.h"

namespace relaytap::proxy::tls {

struct NameConstraintSet {
  bool unconstrained = false;    // a "*" pattern, or a CA without the extension
  std::vector<std::string> dns;  // sorted, unique: ".example.com", "api.example.com"
  std::vector<std::string> ips;  // sorted, unique: "127.0.0.1", "::1" (one address each)
  bool operator==(const NameConstraintSet&) const = default;
};

// InvalidArgument naming the pattern when it is neither "*", "*.<dns name>", a DNS name nor an
// IP literal, or when there are no patterns.
absl::StatusOr<NameConstraintSet> ConstraintsForPatterns(const std::vector<std::string>& patterns);

// The patterns that give `set` back ("*" when unconstrained), for logs and `ca rotate`.
std::vector<std::string> PatternsFor(const NameConstraintSet& set);

// Adds the critical nameConstraints extension for `set` to `ca` (nothing when unconstrained).
absl::Status AddNameConstraints(X509* ca, const NameConstraintSet& set);

// Reads a CA's constraints back. A CA without the extension is unconstrained; one with
// constraints relaytap does not make (another CA's) is reported as an error.
absl::StatusOr<NameConstraintSet> ConstraintsOf(X509* ca);

// Whether `set` lets the CA vouch for `host` (the same rule the verifiers apply).
bool Permits(const NameConstraintSet& set, const HostName& host);

// "DNS:.example.com, IP:127.0.0.1" or "none (any name)", for log lines.
std::string DescribeConstraints(const NameConstraintSet& set);

}  // namespace relaytap::proxy::tls

#pragma once
// How each runtime is made to trust relaytap's CA and to use the proxy: the one source of the
// README's "Trusting the CA, per runtime" table (a test compares them), of the proxy's self-check
// log line and of `relaytap doctor`'s fix lines.

#include <span>
#include <string>
#include <string_view>

namespace relaytap::proxy::tls {

// Which file a runtime's trust variable names.
enum class TrustFile {
  kBundle,  // the system roots plus the CA (`relaytap ca env` writes it): other HTTPS keeps working
  kCaCert,  // the CA certificate alone (added to the runtime's own roots)
  kNone,    // no variable: configured another way (see `how`)
};

struct RuntimeTrust {
  std::string_view key;             // doctor's name for it: "python-requests", "node", "java"
  std::string_view label;           // README column 1 (Markdown)
  std::string_view how;             // README column 2 (Markdown)
  std::string_view trust_variable;  // e.g. "REQUESTS_CA_BUNDLE"; empty with TrustFile::kNone
  TrustFile file = TrustFile::kNone;
  // What the runtime needs to go through HTTPS_PROXY beyond the variable itself, as a line to
  // paste into a ticket; empty when HTTPS_PROXY alone is enough.
  std::string_view proxy_note;
};

std::span<const RuntimeTrust> TrustTable();

// The row for `key`; null when there is none.
const RuntimeTrust* FindRuntimeTrust(std::string_view key);

// The README table: header, separator and one line per row, each ending in '\n'.
std::string TrustTableMarkdown();

// "VAR=<bundle>" / "VAR=<relaytap-ca.pem>": the placeholder form the README uses.
std::string TrustAssignmentPlaceholder(const RuntimeTrust& row);

// `label` without Markdown backticks: "Python requests".
std::string PlainLabel(std::string_view label);

}  // namespace relaytap::proxy::tls

#pragma once
// The upstream TLS roots of `relaytap report`: which root each upstream host's chain was verified
// against, and the `tls_root_changed` finding when one host was verified against more than one (a
// TLS-inspecting proxy on part of the path, or a changed --upstream-ca). Pure.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "recorder/query/store_reader.h"
#include "tools/report/report.h"

namespace relaytap::tools::report {

// Attempts per (host, root), for the attempts whose root was recorded; by host, then most
// attempts first.
std::vector<TlsRoot> TlsRootsOf(const std::vector<recorder::query::Attempt>& attempts);

// "Upstream TLS for HOST was verified against 2 different roots", with each root's attempts.
std::optional<Finding> TlsRootChangedFinding(const std::vector<TlsRoot>& roots);

// "HOST: ROOT (N attempts); ..." for the report's summary; "" when none was recorded.
std::string TlsRootsLine(const std::vector<TlsRoot>& roots);

}  // namespace relaytap::tools::report

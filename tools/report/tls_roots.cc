#include "tools/report/tls_roots.h"

#include <algorithm>
#include <map>
#include <utility>

#include "base/str_cat.h"

namespace relaytap::tools::report {

std::vector<TlsRoot> TlsRootsOf(const std::vector<recorder::query::Attempt>& attempts) {
  std::map<std::pair<std::string, std::string>, int64_t> count;
  for (const recorder::query::Attempt& a : attempts) {
    if (!a.tls_root.empty()) ++count[{a.host, a.tls_root}];
  }
  std::vector<TlsRoot> out;
  for (const auto& [key, n] : count) out.push_back({key.first, key.second, n});
  std::stable_sort(out.begin(), out.end(), [](const TlsRoot& a, const TlsRoot& b) {
    return a.host != b.host ? a.host < b.host : a.attempts > b.attempts;
  });
  return out;
}

std::optional<Finding> TlsRootChangedFinding(const std::vector<TlsRoot>& roots) {
  for (size_t i = 0; i < roots.size();) {
    size_t end = i;
    std::string evidence;
    for (; end < roots.size() && roots[end].host == roots[i].host; ++end) {
      evidence += StrCat(evidence.empty() ? "" : "; ", roots[end].root, ": ", roots[end].attempts,
                         " attempts");
    }
    if (end - i > 1) {
      return Finding{"tls_root_changed",
                     StrCat("Upstream TLS for ", roots[i].host, " was verified against ", end - i,
                            " different roots: part of the traffic went through a TLS-inspecting "
                            "proxy (its CA shows as the root), or the trusted roots changed."),
                     evidence};
    }
    i = end;
  }
  return std::nullopt;
}

std::string TlsRootsLine(const std::vector<TlsRoot>& roots) {
  std::string out;
  for (const TlsRoot& r : roots) {
    out += StrCat(out.empty() ? "" : "; ", r.host, ": ", r.root, " (", r.attempts, " attempts)");
  }
  return out;
}

}  // namespace relaytap::tools::report

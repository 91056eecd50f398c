#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/str_cat.h"
#include "tools/report/report.h"
#include "tools/report/text.h"
#include "tools/report/tls_roots.h"
#include "tools/report/token_finding.h"

namespace relaytap::tools::report {
namespace {

using recorder::query::Attempt;
using recorder::query::Failure;

struct Tally {
  int64_t attempts = 0, failures = 0;
  double pct() const { return attempts == 0 ? 0 : 100.0 * failures / attempts; }
};

// Attempts and failures per value of `key`.
template <typename Key>
std::map<std::string, Tally> TallyBy(const std::vector<Attempt>& attempts, Key key) {
  std::map<std::string, Tally> t;
  for (const Attempt& a : attempts) {
    Tally& x = t[key(a)];
    ++x.attempts;
    if (a.outcome != "ok") ++x.failures;
  }
  return t;
}

// All failures on one value of a field that other attempts had without failing.
void Confined(const std::vector<Attempt>& attempts, const char* id, const char* what,
              std::string (*key)(const Attempt&), std::vector<Finding>& out) {
  std::map<std::string, Tally> t = TallyBy(attempts, key);
  if (t.size() < 2) return;
  const std::string* failing = nullptr;
  int64_t failures = 0;
  for (const auto& [value, x] : t) {
    if (x.failures == 0) continue;
    if (failing != nullptr) return;  // failures on two values: not confined
    failing = &value;
    failures = x.failures;
  }
  if (failing == nullptr || failures < 3) return;
  std::string others;
  for (const auto& [value, x] : t) {
    if (&value == failing) continue;
    if (!others.empty()) others += ", ";
    others += StrCat(value.empty() ? "(none)" : value, " ", x.attempts, " attempts");
  }
  out.push_back({id,
                 StrCat("All failures are on ", what, " ", failing->empty() ? "(none)" : *failing,
                        "; the other ", what, "s did not fail."),
                 StrCat(*failing, ": ", failures, " of ", t[*failing].attempts,
                        " attempts failed; without failures: ", others)});
}

void AddRetryStorm(const std::vector<Attempt>& attempts, std::vector<Finding>& out) {
  int64_t retries = 0, failed = 0;
  for (const Attempt& a : attempts) {
    if (a.guard_saw_retry || (a.retry_count && *a.retry_count > 0)) ++retries;
    if (a.outcome != "ok") ++failed;
  }
  if (retries < 5 || retries < failed) return;
  out.push_back(
      {"retry_storm",
       "Clients are retrying hard: there are at least as many retries as failures, so "
       "the retries add load without getting through.",
       StrCat(retries, " retries and ", failed, " failures in ", attempts.size(), " attempts (",
              Fixed(failed ? double(attempts.size()) / failed : 0, 1), " attempts per failure)")});
}

void AddOneHostFailing(const std::vector<Attempt>& attempts, std::vector<Finding>& out) {
  std::map<std::string, Tally> hosts = TallyBy(attempts, [](const Attempt& a) { return a.host; });
  if (hosts.size() < 2) return;
  auto worst = std::max_element(hosts.begin(), hosts.end(), [](const auto& a, const auto& b) {
    return a.second.pct() < b.second.pct();
  });
  for (const auto& [host, t] : hosts) {
    if (host != worst->first && t.pct() > 5.0) return;  // the others do not all work
  }
  if (worst->second.failures < 3 || worst->second.pct() < 20.0) return;
  out.push_back({"one_host_failing",
                 StrCat("One host fails while the others work: ", worst->first, "."),
                 StrCat(worst->first, ": ", worst->second.failures, " of ", worst->second.attempts,
                        " attempts failed (", Fixed(worst->second.pct(), 1),
                        "%); every other host 5% or less")});
}

void AddClientSideErrors(const std::vector<Failure>& failures, std::vector<Finding>& out) {
  std::map<std::string, int64_t> client_codes;
  int64_t client_side = 0;
  for (const Failure& f : failures) {
    if (f.outcome == "client_error_4xx" || f.error_type == "invalid_request_error") {
      ++client_side;
      ++client_codes[f.error_code.empty() ? StrCat("status ", f.status) : f.error_code];
    }
  }
  if (client_side == 0) return;
  std::string codes;
  for (const auto& [code, n] : client_codes) {
    codes += StrCat(codes.empty() ? "" : ", ", code, " x", n);
  }
  out.push_back(
      {"client_side_errors",
       "Some failures point at the client's requests, not at Azure: check the "
       "request (parameters, session config, auth) before escalating these.",
       StrCat(client_side, " failures with a 4xx status or invalid_request_error: ", codes)});
}

void AddApiVersionMix(const std::vector<Attempt>& attempts, std::vector<Finding>& out) {
  int64_t ga_versioned = 0, preview_unversioned = 0;
  for (const Attempt& a : attempts) {
    if (a.path_kind == "ga_v1" && !a.api_version.empty()) ++ga_versioned;
    if (a.path_kind == "preview" && a.api_version.empty()) ++preview_unversioned;
  }
  if (ga_versioned > 0) {
    out.push_back({"ga_path_with_api_version",
                   "Requests on the GA path (/openai/v1/...) carry an api-version; the GA path "
                   "is versionless, so the client mixes the two dialects.",
                   StrCat(ga_versioned, " attempts")});
  }
  if (preview_unversioned > 0) {
    out.push_back({"preview_path_without_api_version",
                   "Requests on the preview path (/openai/realtime) carry no api-version, which "
                   "that path requires.",
                   StrCat(preview_unversioned, " attempts")});
  }
}

void AddNoRequestId(const std::vector<Failure>& failures, std::vector<Finding>& out) {
  int64_t no_id = 0;
  for (const Failure& f : failures) {
    if (!f.local && f.apim_request_id.empty() && f.x_request_id.empty()) ++no_id;
  }
  if (no_id == 0) return;
  out.push_back({"failures_without_request_id",
                 "Some failures carry no request id (apim-request-id, x-request-id), so Azure "
                 "cannot look them up by id: give Support their time, region and deployment.",
                 StrCat(no_id, " of ", failures.size(), " failures")});
}

void AddClockSkew(const std::vector<Attempt>& attempts, std::vector<Finding>& out) {
  int64_t max_skew = 0;
  for (const Attempt& a : attempts) {
    if (a.clock_skew_ms && std::llabs(*a.clock_skew_ms) > std::llabs(max_skew)) {
      max_skew = *a.clock_skew_ms;
    }
  }
  if (std::llabs(max_skew) < 5000) return;
  out.push_back({"clock_skew",
                 "This machine's clock differs from Azure's (the Date header): token times "
                 "(nbf/exp) and the times in this report are off by about that much.",
                 StrCat("up to ", Fixed(std::fabs(max_skew / 1000.0), 1), " s; this clock is ",
                        max_skew > 0 ? "ahead of" : "behind", " Azure's Date")});
}

}  // namespace

std::vector<Finding> FindingsOf(const std::vector<Attempt>& attempts,
                                const std::vector<Failure>& failures) {
  std::vector<Finding> out;
  if (std::optional<Finding> f = TokenExpiredFinding(attempts)) out.push_back(std::move(*f));
  if (std::optional<Finding> f = TlsRootChangedFinding(TlsRootsOf(attempts))) {
    out.push_back(std::move(*f));
  }
  AddRetryStorm(attempts, out);
  AddOneHostFailing(attempts, out);
  Confined(
      attempts, "confined_to_deployment", "deployment",
      [](const Attempt& a) { return a.deployment; }, out);
  Confined(
      attempts, "confined_to_region", "region", [](const Attempt& a) { return a.region; }, out);
  AddClientSideErrors(failures, out);
  AddApiVersionMix(attempts, out);
  AddNoRequestId(failures, out);
  AddClockSkew(attempts, out);
  return out;
}

}  // namespace relaytap::tools::report

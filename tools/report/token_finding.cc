#include "tools/report/token_finding.h"

#include <cstdio>
#include <string>

#include "absl/time/time.h"
#include "base/str_cat.h"
#include "tools/report/text.h"

namespace relaytap::tools::report {
namespace {

using recorder::query::Attempt;

std::string UtcSeconds(int64_t unix_s) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(unix_s), absl::UTCTimeZone());
}

// The exp of the token `first` was refused with: its own, else the last one that worked before it.
const Attempt* TokenOf(const std::vector<Attempt>& attempts, const Attempt& first) {
  if (first.jwt_exp) return &first;
  const Attempt* last_ok = nullptr;
  for (const Attempt& a : attempts) {
    if (a.start_us >= first.start_us) break;
    if (a.outcome == "ok" && a.jwt_exp) last_ok = &a;
  }
  return last_ok;
}

}  // namespace

std::optional<Finding> TokenExpiredFinding(const std::vector<Attempt>& attempts) {
  const Attempt* first = nullptr;
  for (const Attempt& a : attempts) {
    if (a.status == 401) {
      first = &a;
      break;
    }
  }
  if (first == nullptr) return std::nullopt;
  const Attempt* token = TokenOf(attempts, *first);
  if (token == nullptr) return std::nullopt;
  const int64_t exp_us = *token->jwt_exp * 1'000'000;
  if (first->start_us < exp_us) return std::nullopt;  // refused while still valid: not this
  int64_t expired_401s = 0, last_us = first->start_us;
  for (const Attempt& a : attempts) {
    if (a.status != 401 || a.start_us < exp_us) continue;
    if (a.jwt_exp && *a.jwt_exp * 1'000'000 > a.start_us) continue;  // a fresh token, refused
    ++expired_401s;
    last_us = a.start_us;
  }
  std::string who;
  if (!token->jwt_tid.empty()) who += StrCat("; tenant (tid) ", token->jwt_tid);
  if (!token->jwt_aud.empty()) who += StrCat("; audience (aud) ", token->jwt_aud);
  return Finding{
      "token_expired",
      StrCat("The token expired at ", UtcSeconds(*token->jwt_exp), " and the 401s began at ",
             Utc(first->start_us),
             ": the client kept sending an expired Entra ID token. Refresh the token before its "
             "exp (and on a 401) instead of retrying with the old one."),
      StrCat(expired_401s, " 401s with an expired token from ", Utc(first->start_us), " to ",
             Utc(last_us), "; the first ",
             Fixed(static_cast<double>(first->start_us - exp_us) / 1e6, 1), " s after exp (",
             UtcSeconds(*token->jwt_exp), ")", who)};
}

}  // namespace relaytap::tools::report

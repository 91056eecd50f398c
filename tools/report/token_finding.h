#pragma once
// The `token_expired` finding of `relaytap report`: 401s that began once the bearer JWT the
// client sent had expired (its exp claim, read locally when it was recorded). Pure.

#include <optional>
#include <vector>

#include "recorder/query/store_reader.h"
#include "tools/report/report.h"

namespace relaytap::tools::report {

// "The token expired at T and the 401s began at T2", when the first 401 of `attempts` (oldest
// first) came at or after the exp of the token it carried (or, when it carried no JWT, of the
// last token that worked before it). Evidence: how many 401s came with an expired token, the first
// and last, how long after exp, and the token's tenant and audience when they were recorded.
std::optional<Finding> TokenExpiredFinding(const std::vector<recorder::query::Attempt>& attempts);

}  // namespace relaytap::tools::report

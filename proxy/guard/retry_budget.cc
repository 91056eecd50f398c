#include "proxy/guard/retry_budget.h"

#include <algorithm>
#include <cmath>

namespace relaytap::proxy::guard {

int64_t RetryBudget::Allowed(int64_t now_us) const {
  double share = policy_.budget_percent / 100.0 * static_cast<double>(attempts(now_us));
  return std::max<int64_t>(policy_.min_retries, static_cast<int64_t>(std::floor(share)));
}

void RetryBudget::OnSent(bool retry, int64_t now_us) {
  attempts_.Add(now_us, window_us_);
  if (retry) retries_.Add(now_us, window_us_);
}

}  // namespace relaytap::proxy::guard

#pragma once
// The report's "Local checks" section: which `relaytap probe --db` runs were done, when, and how
// they ended. Shown only when the store holds some.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "recorder/query/store_reader.h"

namespace relaytap::tools::report {

std::string LocalChecksMarkdown(const std::vector<recorder::query::LocalCheck>& checks);
std::string LocalChecksHtml(const std::vector<recorder::query::LocalCheck>& checks);
nlohmann::json LocalChecksJson(const std::vector<recorder::query::LocalCheck>& checks);

}  // namespace relaytap::tools::report

#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/status.h"
#include "proxy/config/config.h"

namespace relaytap::proxy {

// Merges one key of a JSON config file into `config`. Errors name the key and what it must be;
// an unknown key is an error, except keys starting with "_" ("_comment"), which are ignored.
absl::Status MergeConfigKey(const std::string& key, const nlohmann::json& v, ProxyConfig& config);

}  // namespace relaytap::proxy

#include "tools/fake_upstream/fault_profile.h"

#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "base/str_cat.h"

namespace relaytap::tools::fake_upstream {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

absl::Status Bad(std::string_view where, std::string_view what) {
  return absl::InvalidArgumentError(StrCat("fault profile: ", where, ": ", what));
}

absl::Status CheckKeys(const json& object, std::string_view where,
                       const std::set<std::string>& allowed) {
  if (!object.is_object()) return Bad(where, "must be a JSON object");
  for (const auto& [key, value] : object.items()) {
    if (!allowed.contains(key)) return Bad(where, StrCat("unknown key '", key, "'"));
  }
  return absl::OkStatus();
}

absl::Status ParseRates(const json& object, std::string_view where, RateMap* rates) {
  if (!object.is_object()) return Bad(where, "must be an object of fault name -> percent");
  for (const auto& [name, value] : object.items()) {
    std::optional<Fault> fault = FaultFromName(name);
    if (!fault) {
      return Bad(where, StrCat("unknown fault '", name, "' (known: ", KnownFaultNames(), ")"));
    }
    if (!value.is_number()) return Bad(where, StrCat(name, " must be a number (percent)"));
    (*rates)[*fault] = value.get<double>();
  }
  return absl::OkStatus();
}

// A non-negative number of seconds or milliseconds into `out`.
absl::Status ParseDuration(const json& value, std::string_view where, double scale_ms,
                           milliseconds* out) {
  if (!value.is_number()) return Bad(where, "must be a number");
  double v = value.get<double>() * scale_ms;
  if (!(v >= 0) || v > 1e12) return Bad(where, "out of range");
  *out = milliseconds(static_cast<int64_t>(std::llround(v)));
  return absl::OkStatus();
}

absl::Status ParseUnsigned(const json& value, std::string_view where, unsigned* out) {
  if (!value.is_number_unsigned()) return Bad(where, "must be a non-negative integer");
  *out = value.get<unsigned>();
  return absl::OkStatus();
}

// Adds one header name ("retry-after", "retry-after-ms", "x-ms-retry-after-ms") to `out`.
bool AddRetryHeader(std::string_view name, RetryHeaders* out) {
  if (name == "retry-after") {
    out->retry_after = true;
  } else if (name == "retry-after-ms") {
    out->retry_after_ms = true;
  } else if (name == "x-ms-retry-after-ms") {
    out->x_ms_retry_after_ms = true;
  } else {
    return false;
  }
  return true;
}

constexpr char kRetryHeaderChoices[] = "retry-after, retry-after-ms, x-ms-retry-after-ms";

absl::Status ParseRetryHeaderArray(const json& array, RetryHeaders* out) {
  constexpr std::string_view kWhere = "params.retry_headers";
  if (!array.is_array()) return Bad(kWhere, "must be an array of header names");
  RetryHeaders which{false, false, false};
  for (const json& name : array) {
    if (!name.is_string() || !AddRetryHeader(name.get<std::string>(), &which)) {
      return Bad(kWhere,
                 StrCat("unknown header ", name.dump(), " (known: ", kRetryHeaderChoices, ")"));
    }
  }
  *out = which;
  return absl::OkStatus();
}

absl::Status ParseParams(const json& object, FaultParams* p) {
  if (auto s = CheckKeys(object, "params",
                         {"upgrade_status", "session_status", "http_status", "retry_after_ms",
                          "retry_headers", "latency_ms", "stall_ms", "drip_ms", "idle_close_ms",
                          "idle_close_code", "sse_reset_after", "call_status", "call_slow_ms"});
      !s.ok()) {
    return s;
  }
  if (object.contains("retry_headers")) {
    if (auto s = ParseRetryHeaderArray(object["retry_headers"], &p->retry_headers); !s.ok()) {
      return s;
    }
  }
  const std::pair<const char*, unsigned*> statuses[] = {
      {"upgrade_status", &p->upgrade_status},   {"session_status", &p->session_status},
      {"http_status", &p->http_status},         {"call_status", &p->call_status},
      {"idle_close_code", &p->idle_close_code}, {"sse_reset_after", &p->sse_reset_after}};
  for (const auto& [key, field] : statuses) {
    if (!object.contains(key)) continue;
    if (auto s = ParseUnsigned(object[key], StrCat("params.", key), field); !s.ok()) return s;
  }
  const std::pair<const char*, milliseconds*> durations[] = {{"retry_after_ms", &p->retry_after},
                                                             {"latency_ms", &p->latency},
                                                             {"stall_ms", &p->stall},
                                                             {"drip_ms", &p->drip},
                                                             {"idle_close_ms", &p->idle_close},
                                                             {"call_slow_ms", &p->call_slow}};
  for (const auto& [key, field] : durations) {
    if (!object.contains(key)) continue;
    if (auto s = ParseDuration(object[key], StrCat("params.", key), 1, field); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status ParseWindows(const json& array, FaultProfile* profile) {
  if (!array.is_array()) return Bad("windows", "must be an array");
  for (size_t i = 0; i < array.size(); ++i) {
    std::string where = StrCat("windows[", i, "]");
    const json& w = array[i];
    if (auto s = CheckKeys(w, where, {"from_s", "to_s", "rates"}); !s.ok()) return s;
    if (!w.contains("from_s") || !w.contains("to_s") || !w.contains("rates")) {
      return Bad(where, "needs from_s, to_s and rates");
    }
    Window window;
    if (auto s = ParseDuration(w["from_s"], where + ".from_s", 1000, &window.from); !s.ok()) {
      return s;
    }
    if (auto s = ParseDuration(w["to_s"], where + ".to_s", 1000, &window.to); !s.ok()) return s;
    if (auto s = ParseRates(w["rates"], where + ".rates", &window.rates); !s.ok()) return s;
    profile->windows.push_back(std::move(window));
  }
  return absl::OkStatus();
}

absl::Status ParseTopLevel(const json& root, FaultProfile* profile) {
  if (auto s = CheckKeys(root, "top level",
                         {"seed", "rates", "period_s", "windows", "deployments", "params"});
      !s.ok()) {
    return s;
  }
  if (root.contains("seed")) {
    if (!root["seed"].is_number_unsigned()) return Bad("seed", "must be a non-negative integer");
    profile->seed = root["seed"].get<uint64_t>();
  }
  if (root.contains("rates")) {
    if (auto s = ParseRates(root["rates"], "rates", &profile->rates); !s.ok()) return s;
  }
  if (root.contains("period_s")) {
    milliseconds period{0};
    if (auto s = ParseDuration(root["period_s"], "period_s", 1000, &period); !s.ok()) return s;
    profile->period = period;
  }
  if (root.contains("windows")) {
    if (auto s = ParseWindows(root["windows"], profile); !s.ok()) return s;
  }
  if (root.contains("deployments")) {
    const json& d = root["deployments"];
    if (!d.is_object()) return Bad("deployments", "must be an object of deployment -> rates");
    for (const auto& [name, rates] : d.items()) {
      if (auto s = ParseRates(rates, StrCat("deployments.", name), &profile->deployments[name]);
          !s.ok()) {
        return s;
      }
    }
  }
  if (root.contains("params")) return ParseParams(root["params"], &profile->params);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<FaultProfile> ParseFaultProfile(std::string_view json_text) {
  json root;
  try {
    root = json::parse(json_text);
  } catch (const json::parse_error& e) {
    return absl::InvalidArgumentError(StrCat("fault profile: not valid JSON (", e.what(), ")"));
  }
  FaultProfile profile;
  if (auto s = ParseTopLevel(root, &profile); !s.ok()) return s;
  if (auto s = ValidateProfile(profile); !s.ok()) {
    return absl::InvalidArgumentError(StrCat("fault profile: ", std::string(s.message())));
  }
  return profile;
}

absl::Status ParseFaultSpec(std::string_view spec, RateMap* rates) {
  size_t eq = spec.find('=');
  if (eq == std::string_view::npos) {
    return absl::InvalidArgumentError(StrCat("fault '", spec, "': expected NAME=PERCENT"));
  }
  std::string_view name = spec.substr(0, eq);
  std::string_view value = spec.substr(eq + 1);
  std::optional<Fault> fault = FaultFromName(name);
  if (!fault) {
    return absl::InvalidArgumentError(
        StrCat("unknown fault '", name, "' (known: ", KnownFaultNames(), ")"));
  }
  double percent = -1;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), percent);
  if (ec != std::errc() || end != value.data() + value.size() || !(percent >= 0) || percent > 100) {
    return absl::InvalidArgumentError(
        StrCat("fault '", spec, "': the rate must be a percentage in 0..100"));
  }
  (*rates)[*fault] = percent;
  return absl::OkStatus();
}

absl::Status ParseRetryHeaderList(std::string_view list, RetryHeaders* out) {
  RetryHeaders which{false, false, false};
  if (list != "none") {
    std::string_view rest = list;
    for (;;) {
      size_t comma = rest.find(',');
      std::string_view name = rest.substr(0, comma);
      if (!AddRetryHeader(name, &which)) {
        return absl::InvalidArgumentError(StrCat("retry header '", name, "' is not one of ",
                                                 kRetryHeaderChoices, " (or 'none')"));
      }
      if (comma == std::string_view::npos) break;
      rest = rest.substr(comma + 1);
    }
  }
  *out = which;
  return absl::OkStatus();
}

absl::Status ParseRuleSpec(std::string_view spec, FaultProfile* profile) {
  size_t colon = spec.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == spec.size()) {
    return absl::InvalidArgumentError(
        StrCat("rule '", spec, "': expected DEPLOYMENT:NAME=PERCENT[,NAME=PERCENT...]"));
  }
  RateMap& rates = profile->deployments[std::string(spec.substr(0, colon))];
  std::string_view rest = spec.substr(colon + 1);
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    if (auto s = ParseFaultSpec(rest.substr(0, comma), &rates); !s.ok()) return s;
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  return absl::OkStatus();
}

}  // namespace relaytap::tools::fake_upstream

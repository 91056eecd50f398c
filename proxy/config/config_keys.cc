#include "proxy/config/config_keys.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "base/byte_size.h"
#include "base/status_macros.h"
#include "base/str_cat.h"
#include "proxy/guard/guard_settings.h"

namespace relaytap::proxy {
namespace {

using json = nlohmann::json;

absl::Status TypeError(std::string_view key, std::string_view want) {
  return absl::InvalidArgumentError(StrCat("config key '", key, "' must be ", want));
}

// Reads a JSON integer that fits T, else a type error naming the key.
template <class T>
absl::Status Integer(const std::string& key, const json& v, std::optional<T>& out) {
  if (!v.is_number_integer() || v.get<int64_t>() < std::numeric_limits<T>::min() ||
      v.get<int64_t>() > std::numeric_limits<T>::max()) {
    return TypeError(key, "an integer or null");
  }
  out = v.get<T>();
  return absl::OkStatus();
}

// A reader for SetOrReset: a JSON value of one kind (`is`, e.g. &json::is_string) read as T, else
// a type error naming the key and what it wants.
template <class T>
auto OfKind(const std::string& key, const json& v, bool (json::*is)() const noexcept,
            std::string_view want) {
  return [&key, &v, is, want](auto& out) -> absl::Status {
    if (!(v.*is)()) return TypeError(key, want);
    out = v.get<T>();
    return absl::OkStatus();
  };
}

// Sets `out` from `v` with `read`; a null unsets it (the built-in policy, or the policy's value
// for a knob).
template <class T, class Read>
absl::Status SetOrReset(const json& v, std::optional<T>& out, Read read) {
  if (v.is_null()) {
    out.reset();
    return absl::OkStatus();
  }
  return read(out);
}

// The guard keys: "guard" and "guard_*".
absl::Status MergeGuardKey(const std::string& key, const json& v, guard::GuardSettings& g) {
  guard::GuardKnobs& k = g.knobs;
  auto integer = [&](auto& out) -> absl::Status { return Integer(key, v, out); };
  if (key == "guard") {
    absl::StatusOr<guard::GuardMode> mode = v.is_string()
                                                ? guard::ParseGuardMode(v.get<std::string>())
                                                : absl::InvalidArgumentError("not a string");
    if (!mode.ok()) return TypeError(key, "\"off\", \"observe\" or \"enforce\"");
    g.mode = *mode;
    return absl::OkStatus();
  }
  if (key == "guard_policy") {
    return SetOrReset(v, g.policy_file,
                      OfKind<std::string>(key, v, &json::is_string,
                                          "a path string or null (the built-in policy)"));
  }
  if (key == "guard_max_attempts") return SetOrReset(v, k.max_attempts, integer);
  if (key == "guard_budget_percent") {
    return SetOrReset(v, k.budget_percent,
                      OfKind<double>(key, v, &json::is_number, "a number or null"));
  }
  if (key == "guard_cooldown_ms") return SetOrReset(v, k.cooldown_ms, integer);
  if (key == "guard_key_by_client") {
    return SetOrReset(v, k.key_by_client,
                      OfKind<bool>(key, v, &json::is_boolean, "true, false or null"));
  }
  if (key == "guard_session_cap") return SetOrReset(v, k.session_cap, integer);
  return absl::InvalidArgumentError(StrCat("unknown config key '", key, "'"));
}

// One reader per key: checks the JSON type, then sets the config field.
using Reader = absl::Status (*)(const std::string& key, const json& v, ProxyConfig& c);

template <auto kField>
absl::Status Path(const std::string& key, const json& v, ProxyConfig& c) {
  if (!v.is_string()) return TypeError(key, "a path string");
  c.*kField = v.get<std::string>();
  return absl::OkStatus();
}

template <auto kField>
absl::Status Bool(const std::string& key, const json& v, ProxyConfig& c) {
  if (!v.is_boolean()) return TypeError(key, "true or false");
  c.*kField = v.get<bool>();
  return absl::OkStatus();
}

template <auto kField>
absl::Status Millis(const std::string& key, const json& v, ProxyConfig& c) {
  if (!v.is_number_integer() || v.get<int64_t>() <= 0) return TypeError(key, "a positive integer");
  c.*kField = std::chrono::milliseconds(v.get<int64_t>());
  return absl::OkStatus();
}

absl::Status StringsOf(const std::string& key, const json& v, std::vector<std::string>& out) {
  if (!v.is_array()) return TypeError(key, "an array of strings");
  out.clear();
  for (const json& e : v) {
    if (!e.is_string()) return TypeError(key, "an array of strings");
    out.push_back(e.get<std::string>());
  }
  return absl::OkStatus();
}

template <auto kField>
absl::Status Strings(const std::string& key, const json& v, ProxyConfig& c) {
  return StringsOf(key, v, c.*kField);
}

absl::Status IntIn(const std::string& key, const json& v, int64_t lo, int64_t hi,
                   std::string_view want, int& out) {
  if (!v.is_number_integer() || v.get<int64_t>() < lo || v.get<int64_t>() > hi) {
    return TypeError(key, want);
  }
  out = v.get<int>();
  return absl::OkStatus();
}

// A size such as "4GiB", a number of bytes, or null (none).
template <auto kField>
absl::Status Size(const std::string& key, const json& v, ProxyConfig& c) {
  std::optional<uint64_t>& out = c.*kField;
  if (v.is_null()) {
    out.reset();
  } else if (v.is_number_unsigned()) {
    out = v.get<uint64_t>();
  } else if (v.is_string()) {
    absl::StatusOr<uint64_t> bytes = ParseByteSize(v.get<std::string>());
    if (!bytes.ok()) {
      return absl::InvalidArgumentError(
          StrCat("config key '", key, "': ", std::string(bytes.status().message())));
    }
    out = *bytes;
  } else {
    return TypeError(key, "a size such as \"4GiB\", a number of bytes (0: none) or null");
  }
  return absl::OkStatus();
}

absl::Status Listen(const std::string& key, const json& v, ProxyConfig& c) {
  if (!v.is_string()) return TypeError(key, "a string like \"127.0.0.1:8080\"");
  RELAYTAP_ASSIGN_OR_RETURN(c.listen, ParseHostPort(v.get<std::string>()));
  return absl::OkStatus();
}

absl::Status UpstreamProxyKey(const std::string& key, const json& v, ProxyConfig& c) {
  c.upstream_proxy.reset();
  c.upstream_proxy_from_env = false;
  if (v.is_string() && v.get<std::string>() == "env") {
    c.upstream_proxy_from_env = true;
  } else if (v.is_string()) {
    RELAYTAP_ASSIGN_OR_RETURN(c.upstream_proxy, ParseUpstreamProxyUrl(v.get<std::string>()));
  } else if (!v.is_null()) {
    return TypeError(key, "\"http://[USER:PASS@]HOST:PORT\", \"env\" or null");
  }
  return absl::OkStatus();
}

absl::Status ConnectToKey(const std::string& key, const json& v, ProxyConfig& c) {
  std::vector<std::string> rules;
  RELAYTAP_RETURN_IF_ERROR(StringsOf(key, v, rules));
  c.connect_to.clear();
  for (const std::string& r : rules) {
    RELAYTAP_ASSIGN_OR_RETURN(ConnectTo rule, ParseConnectTo(r));
    c.connect_to.push_back(rule);
  }
  return absl::OkStatus();
}

absl::Status Metrics(const std::string& key, const json& v, ProxyConfig& c) {
  if (v.is_null()) {
    c.metrics.reset();
  } else if (v.is_string()) {
    RELAYTAP_ASSIGN_OR_RETURN(c.metrics, ParseHostPort(v.get<std::string>()));
  } else {
    return TypeError(key, "a string like \"127.0.0.1:9464\" or null");
  }
  return absl::OkStatus();
}

// A string member whose value must be one of a few spellings (`want` lists them), or any string.
absl::Status OneOf(const std::string& key, const json& v, std::vector<std::string_view> allowed,
                   std::string_view want, std::string& out) {
  if (!v.is_string() || (!allowed.empty() && std::find(allowed.begin(), allowed.end(),
                                                       v.get<std::string>()) == allowed.end())) {
    return TypeError(key, want);
  }
  out = v.get<std::string>();
  return absl::OkStatus();
}

absl::Status Rotate(const std::string& key, const json& v, ProxyConfig& c) {
  if (v.is_null()) {
    c.rotate.clear();
    return absl::OkStatus();
  }
  return OneOf(key, v, {}, "\"hourly\", a size such as \"1GiB\", or null (never)", c.rotate);
}

using P = ProxyConfig;
const std::pair<std::string_view, Reader> kReaders[] = {
    {"listen", Listen},
    {"allow_remote", Bool<&P::allow_remote>},
    {"proxy_auth_file", Path<&P::proxy_auth_file>},
    {"allow_clients", Strings<&P::allow_clients>},
    {"ca_dir", Path<&P::ca_dir>},
    {"upstream_ca", Path<&P::upstream_ca>},
    {"upstream_proxy", UpstreamProxyKey},
    {"upstream_proxy_auth_file", Path<&P::upstream_proxy_auth_file>},
    {"upstream_proxy_auth_env",
     [](const std::string& k, const json& v, P& c) {
       return OneOf(k, v, {}, "an environment variable name", c.upstream_proxy_auth_env);
     }},
    {"no_upstream_proxy_for", Strings<&P::no_upstream_proxy_for>},
    {"connect_to", ConnectToKey},
    {"intercept", Strings<&P::intercept>},
    {"log_level", [](const std::string& k, const json& v,
                     P& c) { return OneOf(k, v, {}, "a string", c.log_level); }},
    {"connect_timeout_ms", Millis<&P::connect_timeout>},
    {"handshake_timeout_ms", Millis<&P::handshake_timeout>},
    {"http_idle_timeout_ms", Millis<&P::http_idle_timeout>},
    {"head_timeout_ms", Millis<&P::head_timeout>},
    {"tunnel_idle_timeout_ms", Millis<&P::tunnel_idle_timeout>},
    {"max_connections",
     [](const std::string& k, const json& v, P& c) {
       return IntIn(k, v, 0, 1'000'000, "an integer from 0 (from the open-files limit) to 1000000",
                    c.max_connections);
     }},
    {"shutdown_grace_ms", Millis<&P::shutdown_grace>},
    {"metrics", Metrics},
    {"metrics_allow_remote", Bool<&P::metrics_allow_remote>},
    {"record", Bool<&P::record>},
    {"db", Path<&P::db>},
    {"redaction_policy", Path<&P::redaction_policy>},
    {"durability",
     [](const std::string& k, const json& v, P& c) {
       return OneOf(k, v, {"normal", "full"}, "\"normal\" or \"full\"", c.durability);
     }},
    {"max_db_size", Size<&P::max_db_bytes>},
    {"min_free", Size<&P::min_free_bytes>},
    {"rotate", Rotate},
    {"keep", [](const std::string& k, const json& v,
                P& c) { return IntIn(k, v, 1, 100'000, "an integer from 1 to 100000", c.keep); }},
    {"threads",
     [](const std::string& k, const json& v, P& c) {
       return IntIn(k, v, 0, 256, "an integer from 0 (one per core) to 256", c.threads);
     }},
};

}  // namespace

absl::Status MergeConfigKey(const std::string& key, const json& v, ProxyConfig& c) {
  if (key == "guard" || key.starts_with("guard_")) return MergeGuardKey(key, v, c.guard);
  for (const auto& [name, read] : kReaders) {
    if (name == key) return read(key, v, c);
  }
  if (key.starts_with("_")) return absl::OkStatus();  // "_comment" and friends
  return absl::InvalidArgumentError(StrCat("unknown config key '", key, "'"));
}

}  // namespace relaytap::proxy

#include "proxy/config/config.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/ascii.h"
#include "base/byte_size.h"
#include "base/status_macros.h"
#include "base/str_cat.h"
#include "proxy/session/route.h"
#include "proxy/tls/name_constraints.h"

namespace relaytap::proxy {
namespace {

absl::StatusOr<uint16_t> ParsePort(std::string_view text, std::string_view what) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > 65535) {
    return absl::InvalidArgumentError(StrCat("invalid port '", text, "' in ", what));
  }
  return static_cast<uint16_t>(value);
}

// Splits "host:rest" where host may be "[v6]". Returns host (brackets stripped) and the rest
// after the colon. `had_colon` is false when nothing follows the host.
absl::StatusOr<std::pair<std::string, std::string_view>> TakeHost(std::string_view text,
                                                                  std::string_view what) {
  if (text.starts_with("[")) {
    size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return absl::InvalidArgumentError(StrCat("unclosed '[' in ", what));
    }
    std::string host(text.substr(1, close - 1));
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') {
      return absl::InvalidArgumentError(StrCat("expected ':' after ']' in ", what));
    }
    return std::make_pair(host, rest.empty() ? rest : rest.substr(1));
  }
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) return std::make_pair(std::string(text), std::string_view());
  return std::make_pair(std::string(text.substr(0, colon)), text.substr(colon + 1));
}

}  // namespace

std::vector<std::string> ProxyConfig::DefaultInterceptPatterns() {
  return {"*.openai.azure.com", "*.cognitiveservices.azure.com", "*.services.ai.azure.com",
          "*.realtimeapi-preview.ai.azure.com", "api.openai.com"};
}

absl::StatusOr<HostPort> ParseHostPort(std::string_view text) {
  std::string what = StrCat("'", text, "' (expected ADDR:PORT)");
  RELAYTAP_ASSIGN_OR_RETURN(auto parts, TakeHost(text, what));
  if (parts.first.empty() || parts.second.empty()) return absl::InvalidArgumentError(what);
  RELAYTAP_ASSIGN_OR_RETURN(uint16_t port, ParsePort(parts.second, what));
  return HostPort{parts.first, port};
}

absl::StatusOr<ConnectTo> ParseConnectTo(std::string_view text) {
  std::string what = StrCat("--connect-to '", text, "' (expected HOST:PORT:HOST2:PORT2)");
  ConnectTo rule;
  RELAYTAP_ASSIGN_OR_RETURN(auto first, TakeHost(text, what));
  rule.host = AsciiStrToLower(first.first);
  std::string_view rest = first.second;
  size_t colon = rest.find(':');
  if (colon == std::string_view::npos) return absl::InvalidArgumentError(what);
  if (colon > 0) {
    RELAYTAP_ASSIGN_OR_RETURN(rule.port, ParsePort(rest.substr(0, colon), what));
  }
  rest = rest.substr(colon + 1);
  RELAYTAP_ASSIGN_OR_RETURN(auto second, TakeHost(rest, what));
  rule.to_host = second.first;
  if (second.second.empty() && rest.find(':') == std::string_view::npos) {
    return absl::InvalidArgumentError(what);
  }
  if (!second.second.empty()) {
    RELAYTAP_ASSIGN_OR_RETURN(rule.to_port, ParsePort(second.second, what));
  }
  return rule;
}

const ConnectTo* FindConnectTo(const std::vector<ConnectTo>& rules, const HostPort& target) {
  const std::string host = AsciiStrToLower(target.host);
  for (const ConnectTo& r : rules) {
    if (!r.host.empty() && r.host != host) continue;
    if (r.port != 0 && r.port != target.port) continue;
    return &r;
  }
  return nullptr;
}

HostPort ResolveConnectTo(const std::vector<ConnectTo>& rules, const HostPort& target) {
  const ConnectTo* r = FindConnectTo(rules, target);
  if (r == nullptr) return target;
  return HostPort{r->to_host.empty() ? target.host : r->to_host,
                  r->to_port == 0 ? target.port : r->to_port};
}

bool IsLoopbackHost(std::string_view host) {
  std::string h = AsciiStrToLower(host);
  if (h == "localhost" || h == "::1") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
    static const in6_addr kLoop = IN6ADDR_LOOPBACK_INIT;
    return std::memcmp(&v6, &kLoop, sizeof(v6)) == 0;
  }
  return false;
}

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
    return SetOrReset(v, g.policy_file, [&](auto& out) -> absl::Status {
      if (!v.is_string()) return TypeError(key, "a path string or null (the built-in policy)");
      out = v.get<std::string>();
      return absl::OkStatus();
    });
  }
  if (key == "guard_max_attempts") return SetOrReset(v, k.max_attempts, integer);
  if (key == "guard_budget_percent") {
    return SetOrReset(v, k.budget_percent, [&](auto& out) -> absl::Status {
      if (!v.is_number()) return TypeError(key, "a number or null");
      out = v.get<double>();
      return absl::OkStatus();
    });
  }
  if (key == "guard_cooldown_ms") return SetOrReset(v, k.cooldown_ms, integer);
  if (key == "guard_key_by_client") {
    return SetOrReset(v, k.key_by_client, [&](auto& out) -> absl::Status {
      if (!v.is_boolean()) return TypeError(key, "true, false or null");
      out = v.get<bool>();
      return absl::OkStatus();
    });
  }
  if (key == "guard_session_cap") return SetOrReset(v, k.session_cap, integer);
  return absl::InvalidArgumentError(StrCat("unknown config key '", key, "'"));
}

absl::Status MergeKey(const std::string& key, const json& v, ProxyConfig& c) {
  if (key == "guard" || key.starts_with("guard_")) return MergeGuardKey(key, v, c.guard);
  auto ms = [&](std::chrono::milliseconds& out) -> absl::Status {
    if (!v.is_number_integer() || v.get<int64_t>() <= 0)
      return TypeError(key, "a positive integer");
    out = std::chrono::milliseconds(v.get<int64_t>());
    return absl::OkStatus();
  };
  auto strings = [&](std::vector<std::string>& out) -> absl::Status {
    if (!v.is_array()) return TypeError(key, "an array of strings");
    out.clear();
    for (const json& e : v) {
      if (!e.is_string()) return TypeError(key, "an array of strings");
      out.push_back(e.get<std::string>());
    }
    return absl::OkStatus();
  };
  if (key == "listen") {
    if (!v.is_string()) return TypeError(key, "a string like \"127.0.0.1:8080\"");
    RELAYTAP_ASSIGN_OR_RETURN(c.listen, ParseHostPort(v.get<std::string>()));
  } else if (key == "allow_remote") {
    if (!v.is_boolean()) return TypeError(key, "true or false");
    c.allow_remote = v.get<bool>();
  } else if (key == "proxy_auth_file") {
    if (!v.is_string()) return TypeError(key, "a path string");
    c.proxy_auth_file = v.get<std::string>();
  } else if (key == "allow_clients") {
    RELAYTAP_RETURN_IF_ERROR(strings(c.allow_clients));
  } else if (key == "ca_dir") {
    if (!v.is_string()) return TypeError(key, "a path string");
    c.ca_dir = v.get<std::string>();
  } else if (key == "upstream_ca") {
    if (!v.is_string()) return TypeError(key, "a path string");
    c.upstream_ca = v.get<std::string>();
  } else if (key == "upstream_proxy") {
    c.upstream_proxy.reset();
    c.upstream_proxy_from_env = false;
    if (v.is_string() && v.get<std::string>() == "env") {
      c.upstream_proxy_from_env = true;
    } else if (v.is_string()) {
      RELAYTAP_ASSIGN_OR_RETURN(c.upstream_proxy, ParseUpstreamProxyUrl(v.get<std::string>()));
    } else if (!v.is_null()) {
      return TypeError(key, "\"http://[USER:PASS@]HOST:PORT\", \"env\" or null");
    }
  } else if (key == "upstream_proxy_auth_file") {
    if (!v.is_string()) return TypeError(key, "a path string");
    c.upstream_proxy_auth_file = v.get<std::string>();
  } else if (key == "upstream_proxy_auth_env") {
    if (!v.is_string()) return TypeError(key, "an environment variable name");
    c.upstream_proxy_auth_env = v.get<std::string>();
  } else if (key == "no_upstream_proxy_for") {
    RELAYTAP_RETURN_IF_ERROR(strings(c.no_upstream_proxy_for));
  } else if (key == "connect_to") {
    std::vector<std::string> rules;
    RELAYTAP_RETURN_IF_ERROR(strings(rules));
    c.connect_to.clear();
    for (const std::string& r : rules) {
      RELAYTAP_ASSIGN_OR_RETURN(ConnectTo rule, ParseConnectTo(r));
      c.connect_to.push_back(rule);
    }
  } else if (key == "intercept") {
    RELAYTAP_RETURN_IF_ERROR(strings(c.intercept));
  } else if (key == "log_level") {
    if (!v.is_string()) return TypeError(key, "a string");
    c.log_level = v.get<std::string>();
  } else if (key == "connect_timeout_ms") {
    RELAYTAP_RETURN_IF_ERROR(ms(c.connect_timeout));
  } else if (key == "handshake_timeout_ms") {
    RELAYTAP_RETURN_IF_ERROR(ms(c.handshake_timeout));
  } else if (key == "http_idle_timeout_ms") {
    RELAYTAP_RETURN_IF_ERROR(ms(c.http_idle_timeout));
  } else if (key == "head_timeout_ms") {
    RELAYTAP_RETURN_IF_ERROR(ms(c.head_timeout));
  } else if (key == "tunnel_idle_timeout_ms") {
    RELAYTAP_RETURN_IF_ERROR(ms(c.tunnel_idle_timeout));
  } else if (key == "max_connections") {
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > 1'000'000) {
      return TypeError(key, "an integer from 0 (from the open-files limit) to 1000000");
    }
    c.max_connections = v.get<int>();
  } else if (key == "shutdown_grace_ms") {
    RELAYTAP_RETURN_IF_ERROR(ms(c.shutdown_grace));
  } else if (key == "metrics") {
    if (v.is_null()) {
      c.metrics.reset();
    } else if (v.is_string()) {
      RELAYTAP_ASSIGN_OR_RETURN(c.metrics, ParseHostPort(v.get<std::string>()));
    } else {
      return TypeError(key, "a string like \"127.0.0.1:9464\" or null");
    }
  } else if (key == "metrics_allow_remote") {
    if (!v.is_boolean()) return TypeError(key, "true or false");
    c.metrics_allow_remote = v.get<bool>();
  } else if (key == "record") {
    if (!v.is_boolean()) return TypeError(key, "true or false");
    c.record = v.get<bool>();
  } else if (key == "db") {
    if (!v.is_string()) return TypeError(key, "a path string");
    c.db = v.get<std::string>();
  } else if (key == "redaction_policy") {
    if (!v.is_string()) return TypeError(key, "a path string");
    c.redaction_policy = v.get<std::string>();
  } else if (key == "durability") {
    if (!v.is_string() || (v.get<std::string>() != "normal" && v.get<std::string>() != "full")) {
      return TypeError(key, "\"normal\" or \"full\"");
    }
    c.durability = v.get<std::string>();
  } else if (key == "max_db_size" || key == "min_free") {
    std::optional<uint64_t>& out = key == "max_db_size" ? c.max_db_bytes : c.min_free_bytes;
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
  } else if (key == "rotate") {
    if (v.is_null()) {
      c.rotate.clear();
    } else if (v.is_string()) {
      c.rotate = v.get<std::string>();
    } else {
      return TypeError(key, "\"hourly\", a size such as \"1GiB\", or null (never)");
    }
  } else if (key == "keep") {
    if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > 100'000) {
      return TypeError(key, "an integer from 1 to 100000");
    }
    c.keep = v.get<int>();
  } else if (key == "threads") {
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > 256) {
      return TypeError(key, "an integer from 0 (one per core) to 256");
    }
    c.threads = v.get<int>();
  } else if (!key.starts_with("_")) {  // "_comment" and friends are allowed
    return absl::InvalidArgumentError(StrCat("unknown config key '", key, "'"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status MergeConfigFile(const std::filesystem::path& file, ProxyConfig& config) {
  std::ifstream in(file);
  if (!in) return absl::NotFoundError(StrCat("cannot read config file ", file.string()));
  std::stringstream text;
  text << in.rdbuf();
  json doc = json::parse(text.str(), nullptr, /*allow_exceptions=*/false, /*ignore_comments=*/true);
  if (doc.is_discarded() || !doc.is_object()) {
    return absl::InvalidArgumentError(
        StrCat("config file ", file.string(), " is not a JSON object"));
  }
  for (const auto& [key, value] : doc.items()) {
    absl::Status st = MergeKey(key, value, config);
    if (!st.ok()) {
      return absl::InvalidArgumentError(StrCat(file.string(), ": ", std::string(st.message())));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateMetrics(const ProxyConfig& config) {
  if (!config.metrics) return absl::OkStatus();
  const HostPort& m = *config.metrics;
  if (!config.metrics_allow_remote && !IsLoopbackHost(m.host)) {
    return absl::InvalidArgumentError(
        StrCat("refusing --metrics on non-loopback address ", m.host,
               ": pass --metrics-allow-remote if you mean to expose it"));
  }
  if (m.port != 0 && m.port == config.listen.port) {
    return absl::InvalidArgumentError(StrCat("--metrics ", Authority(m),
                                             ": that is the proxy's own port (--listen ",
                                             Authority(config.listen), "); pick another"));
  }
  if (!config.record) {
    return absl::InvalidArgumentError(
        "--metrics counts what the recorder classifies, as the store has it: it needs recording "
        "(drop --no-record)");
  }
  return absl::OkStatus();
}

absl::Status ValidateConfig(const ProxyConfig& config) {
  if (!config.allow_remote && !IsLoopbackHost(config.listen.host)) {
    return absl::InvalidArgumentError(
        StrCat("refusing to listen on non-loopback address ", config.listen.host,
               ": an open intercepting proxy is dangerous; pass --allow-remote if you mean it"));
  }
  if (config.allow_remote && !config.proxy_auth_file && config.allow_clients.empty()) {
    return absl::InvalidArgumentError(
        "--allow-remote needs --proxy-auth-file FILE (Basic proxy credentials) or --allow-client "
        "CIDR (repeatable): an open intercepting proxy on a machine that trusts its CA lets "
        "anyone read and forge this traffic");
  }
  if (config.intercept.empty()) {
    return absl::InvalidArgumentError("no intercept patterns: give at least one --intercept");
  }
  for (const std::string& p : config.intercept) RELAYTAP_RETURN_IF_ERROR(ValidatePattern(p));
  RELAYTAP_RETURN_IF_ERROR(ValidateUpstreamProxy(config));
  RELAYTAP_RETURN_IF_ERROR(ValidateMetrics(config));
  // Each pattern becomes a name constraint of the CA: "*.<DNS name>", a DNS name, an IP, or "*".
  return tls::ConstraintsForPatterns(config.intercept).status();
}

}  // namespace relaytap::proxy

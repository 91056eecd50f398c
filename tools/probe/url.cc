#include <cstdlib>
#include <string>
#include <string_view>

#include "base/ascii.h"
#include "base/str_cat.h"
#include "tools/probe/probe.h"

namespace relaytap::tools::probe {
namespace {

// Query parameters printed as they are; every other value is replaced.
constexpr std::string_view kKeptParams[] = {"model", "deployment", "api-version", "intent",
                                            "call_id"};

absl::StatusOr<uint16_t> ParsePort(std::string_view text, std::string_view what) {
  if (text.empty() || text.size() > 5)
    return absl::InvalidArgumentError(StrCat("bad port in ", what));
  unsigned value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return absl::InvalidArgumentError(StrCat("bad port in ", what));
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value == 0 || value > 65535) return absl::InvalidArgumentError(StrCat("bad port in ", what));
  return static_cast<uint16_t>(value);
}

// "host", "host:port", "[v6]", "[v6]:port" -> host (no brackets) and port (or `default_port`).
absl::StatusOr<proxy::HostPort> SplitAuthority(std::string_view authority, uint16_t default_port,
                                               std::string_view what) {
  proxy::HostPort hp{"", default_port};
  std::string_view port_text;
  if (authority.starts_with("[")) {
    size_t close = authority.find(']');
    if (close == std::string_view::npos)
      return absl::InvalidArgumentError(StrCat("bad host in ", what));
    hp.host = std::string(authority.substr(1, close - 1));
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return absl::InvalidArgumentError(StrCat("bad host in ", what));
      port_text = rest.substr(1);
    }
  } else {
    size_t colon = authority.rfind(':');
    hp.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (hp.host.empty()) return absl::InvalidArgumentError(StrCat("no host in ", what));
  if (authority.find('@') != std::string_view::npos) {
    return absl::InvalidArgumentError(StrCat("credentials in ", what, " are not supported"));
  }
  if (!port_text.empty() || authority.ends_with(":")) {
    absl::StatusOr<uint16_t> port = ParsePort(port_text, what);
    if (!port.ok()) return port.status();
    hp.port = *port;
  }
  hp.host = AsciiStrToLower(hp.host);
  return hp;
}

bool Covers(std::string_view no_proxy, std::string_view host) {
  size_t start = 0;
  while (start <= no_proxy.size()) {
    size_t comma = no_proxy.find(',', start);
    std::string_view item = no_proxy.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.starts_with("*.")) item.remove_prefix(1);
    std::string lower = AsciiStrToLower(item);
    if (lower == "*") return true;
    if (!lower.empty()) {
      std::string_view bare = lower.starts_with(".") ? std::string_view(lower).substr(1) : lower;
      if (host == bare || host.ends_with(StrCat(".", bare))) return true;
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return false;
}

const char* Env(const char* upper, const char* lower) {
  const char* v = std::getenv(lower);
  if (v == nullptr || *v == '\0') v = std::getenv(upper);
  return v != nullptr && *v != '\0' ? v : nullptr;
}

}  // namespace

std::string_view StageName(Stage stage) {
  switch (stage) {
    case Stage::kDns:
      return "dns";
    case Stage::kTcp:
      return "tcp";
    case Stage::kTls:
      return "tls";
    case Stage::kHttps:
      return "https";
    case Stage::kWebSocket:
      return "websocket";
    case Stage::kRealtime:
      return "realtime";
  }
  return "unknown";
}

std::string_view StatusName(Status status) {
  switch (status) {
    case Status::kOk:
      return "ok";
    case Status::kFailed:
      return "failed";
    case Status::kSkipped:
      return "skipped";
  }
  return "unknown";
}

bool RunResult::ok() const { return !failed_stage().has_value(); }

std::optional<Stage> RunResult::failed_stage() const {
  for (const StageResult& s : stages) {
    if (s.status == Status::kFailed) return s.stage;
  }
  return std::nullopt;
}

absl::StatusOr<ProbeUrl> ParseProbeUrl(std::string_view text) {
  size_t sep = text.find("://");
  if (sep == std::string_view::npos) {
    return absl::InvalidArgumentError("the URL must start with wss://, ws://, https:// or http://");
  }
  ProbeUrl url;
  url.scheme = AsciiStrToLower(text.substr(0, sep));
  uint16_t default_port = 0;
  if (url.scheme == "wss" || url.scheme == "https") default_port = 443;
  if (url.scheme == "ws" || url.scheme == "http") default_port = 80;
  if (default_port == 0) {
    return absl::InvalidArgumentError(
        StrCat("unsupported scheme '", url.scheme, "': use wss, ws, https or http"));
  }
  std::string_view rest = text.substr(sep + 3);
  size_t slash = rest.find_first_of("/?#");
  absl::StatusOr<proxy::HostPort> hp =
      SplitAuthority(rest.substr(0, slash), default_port, "the URL");
  if (!hp.ok()) return hp.status();
  url.host = hp->host;
  url.port = hp->port;
  url.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (size_t hash = url.target.find('#'); hash != std::string::npos) url.target.resize(hash);
  if (url.target.empty() || url.target[0] == '?') url.target.insert(0, "/");
  return url;
}

std::string RedactedUrl(const ProbeUrl& url) {
  std::string target = url.target;
  size_t q = target.find('?');
  if (q != std::string::npos) {
    std::string out = target.substr(0, q + 1);
    std::string_view query = std::string_view(target).substr(q + 1);
    bool first = true;
    while (!query.empty()) {
      size_t amp = query.find('&');
      std::string_view pair = query.substr(0, amp);
      size_t eq = pair.find('=');
      std::string_view name = pair.substr(0, eq);
      bool kept = false;
      for (std::string_view k : kKeptParams) kept = kept || AsciiStrToLower(name) == k;
      out += first ? "" : "&";
      out += kept || eq == std::string_view::npos ? std::string(pair) : StrCat(name, "=<redacted>");
      first = false;
      if (amp == std::string_view::npos) break;
      query.remove_prefix(amp + 1);
    }
    target = out;
  }
  const bool v6 = url.host.find(':') != std::string::npos;
  const bool default_port = url.port == (url.tls() ? 443 : 80);
  return StrCat(url.scheme, "://", v6 ? "[" : "", url.host, v6 ? "]" : "",
                default_port ? "" : StrCat(":", url.port), target);
}

absl::StatusOr<proxy::HostPort> ParseProxyUrl(std::string_view text) {
  std::string_view rest = text;
  if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else if (rest.find("://") != std::string_view::npos) {
    return absl::InvalidArgumentError(
        StrCat("proxy '", text, "': only http:// proxies are supported"));
  }
  while (rest.ends_with("/")) rest.remove_suffix(1);
  return SplitAuthority(rest, 80, "the proxy URL");
}

absl::StatusOr<std::optional<proxy::HostPort>> ProxyFromEnvironment(const ProbeUrl& url) {
  const char* value =
      url.tls() ? Env("HTTPS_PROXY", "https_proxy") : Env("HTTP_PROXY", "http_proxy");
  if (value == nullptr) return std::optional<proxy::HostPort>();
  if (const char* no_proxy = Env("NO_PROXY", "no_proxy"); no_proxy && Covers(no_proxy, url.host)) {
    return std::optional<proxy::HostPort>();
  }
  absl::StatusOr<proxy::HostPort> hp = ParseProxyUrl(value);
  if (!hp.ok()) return hp.status();
  return std::optional<proxy::HostPort>(*hp);
}

}  // namespace relaytap::tools::probe

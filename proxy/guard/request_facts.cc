#include "proxy/guard/request_facts.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "absl/time/time.h"
#include "base/str_cat.h"

namespace relaytap::proxy::guard {
namespace {

constexpr size_t kMaxNameChars = 128;

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-' || c == ':';
}

std::string SafeName(std::string_view s) {
  size_t n = 0;
  while (n < s.size() && n < kMaxNameChars && IsNameChar(s[n])) ++n;
  return std::string(s.substr(0, n));
}

// Drops "scheme://authority" from an absolute-form target.
std::string_view OriginForm(std::string_view target) {
  size_t scheme = target.find("://");
  if (scheme == std::string_view::npos || target.starts_with("/")) return target;
  size_t slash = target.find('/', scheme + 3);
  if (slash == std::string_view::npos) return "/";
  return target.substr(slash);
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    size_t at = s.find(sep);
    out.push_back(s.substr(0, at));
    if (at == std::string_view::npos) break;
    s.remove_prefix(at + 1);
  }
  return out;
}

std::string_view QueryValue(std::string_view query, std::string_view name) {
  for (std::string_view pair : Split(query, '&')) {
    size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name && eq != std::string_view::npos) return pair.substr(eq + 1);
  }
  return {};
}

void Fnv1a(uint64_t& h, std::string_view bytes) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  h ^= 0xff;  // separator, so ("ab","c") and ("a","bc") differ
  h *= 1099511628211ULL;
}

std::optional<double> ParseNumber(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (s.empty() || s.front() == '-' || s.front() == '+') return std::nullopt;
  double v = 0;
  auto [end, err] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (err != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

// RFC 9110 10.2.3: retry-after is delay-seconds or an HTTP-date. Only the IMF-fixdate form
// ("Wed, 21 Oct 2015 07:28:00 GMT") is read; RFC 9110 makes it the one senders must use, and the
// obsolete RFC 850 and asctime forms are not what Azure or OpenAI send.
std::optional<int64_t> HttpDateDelayMs(std::string_view value, int64_t now_unix_us) {
  absl::Time at;
  std::string error;
  if (!absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", std::string(value), absl::UTCTimeZone(), &at,
                       &error)) {
    return std::nullopt;
  }
  const absl::Duration wait = at - absl::FromUnixMicros(now_unix_us);
  if (wait <= absl::ZeroDuration()) return 0;
  return std::min<int64_t>(absl::ToInt64Milliseconds(absl::Ceil(wait, absl::Milliseconds(1))),
                           int64_t{1'000'000'000'000});
}

}  // namespace

std::string DeploymentFromTarget(std::string_view target) {
  std::string_view t = OriginForm(target);
  std::string_view path = t.substr(0, t.find('?'));
  std::string_view query = t.size() > path.size() ? t.substr(path.size() + 1) : "";
  constexpr std::string_view kDeployments = "/openai/deployments/";
  if (path.starts_with(kDeployments)) {
    std::string name = SafeName(path.substr(kDeployments.size()));
    if (!name.empty()) return name;
  }
  std::string name = SafeName(QueryValue(query, "deployment"));
  if (!name.empty()) return name;
  return SafeName(QueryValue(query, "model"));
}

std::string GuardKey(std::string_view host, std::string_view deployment, std::string_view client) {
  std::string key(host);
  if (!deployment.empty()) key = StrCat(key, "/", deployment);
  if (!client.empty()) key = StrCat(key, " client=", client);
  return key;
}

uint64_t RequestFingerprint(std::string_view method, std::string_view target, std::string_view body,
                            const std::vector<std::string>& volatile_params) {
  std::string_view t = OriginForm(target);
  std::string_view path = t.substr(0, t.find('?'));
  std::string_view query = t.size() > path.size() ? t.substr(path.size() + 1) : "";
  std::vector<std::string_view> kept;
  for (std::string_view pair : Split(query, '&')) {
    std::string_view name = pair.substr(0, pair.find('='));
    bool is_volatile =
        std::find(volatile_params.begin(), volatile_params.end(), name) != volatile_params.end();
    if (!is_volatile && !pair.empty()) kept.push_back(pair);
  }
  std::sort(kept.begin(), kept.end());
  uint64_t h = 14695981039346656037ULL;
  Fnv1a(h, method);
  Fnv1a(h, path);
  for (std::string_view pair : kept) Fnv1a(h, pair);
  Fnv1a(h, body);
  return h == 0 ? 1 : h;
}

std::optional<int> ParseRetryCount(std::string_view value) {
  int v = 0;
  auto [end, err] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (err != std::errc() || end != value.data() + value.size() || v < 0) return std::nullopt;
  return v;
}

std::optional<int64_t> RetryAfterMs(const RetryAfterHeaders& headers, int64_t now_unix_us) {
  for (std::string_view millis : {headers.retry_after_ms, headers.x_ms_retry_after_ms}) {
    if (std::optional<double> ms = ParseNumber(millis)) {
      return static_cast<int64_t>(std::ceil(std::min(*ms, 1e12)));
    }
  }
  if (std::optional<double> s = ParseNumber(headers.retry_after)) {
    return static_cast<int64_t>(std::ceil(std::min(*s, 1e9) * 1000));
  }
  return HttpDateDelayMs(headers.retry_after, now_unix_us);
}

std::string ClientHost(std::string_view address) {
  if (address.starts_with("[")) {
    size_t close = address.find(']');
    return std::string(address.substr(1, close == std::string_view::npos ? close : close - 1));
  }
  size_t colon = address.rfind(':');
  if (colon != std::string_view::npos && address.find(':') == colon) {
    return std::string(address.substr(0, colon));
  }
  return std::string(address);
}

}  // namespace relaytap::proxy::guard

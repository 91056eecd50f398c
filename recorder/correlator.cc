#include "recorder/correlator.h"

#include <time.h>

#include <nlohmann/json.hpp>

#include "base/ascii.h"
#include "recorder/local_checks.h"
#include "redact/auth.h"

namespace relaytap::recorder {
namespace {

using nlohmann::json;

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i] == '+' ? ' ' : s[i]);
    }
  }
  return out;
}

// Calls fn(name_lowercase, value_decoded) for each query parameter.
template <typename Fn>
void ForEachQueryParam(std::string_view query, Fn fn) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    size_t eq = pair.find('=');
    std::string_view value = eq == std::string_view::npos ? "" : pair.substr(eq + 1);
    fn(AsciiStrToLower(PercentDecode(pair.substr(0, eq))), PercentDecode(value));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
}

// A string (or number) member as text; with `holes`, a cut-out long string is resolved. `J` is
// nlohmann::json (bodies) or ordered_json (realtime messages, parsed for the redactor).
template <typename J>
std::string Str(const J& j, const char* key, const redact::JsonHoles* holes = nullptr) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  if (it == j.end()) return "";
  if (it->is_string()) {
    const std::string& v = it->template get_ref<const std::string&>();
    return holes != nullptr ? std::string(holes->Resolve(v)) : v;
  }
  if (it->is_number()) return it->dump();
  return "";
}
template <typename J>
const J& Obj(const J& j, const char* key) {
  static const J kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

std::string AuthKind(const Exchange& ex) {
  std::string kinds;
  auto add = [&kinds](std::string_view k) {
    if (kinds.find(k) != std::string::npos) return;
    if (!kinds.empty()) kinds += ",";
    kinds += k;
  };
  const Headers& h = ex.request_headers;
  if (!FindHeader(h, "api-key").empty() || !FindHeader(h, "ocp-apim-subscription-key").empty()) {
    add("api_key_header");
  }
  std::string_view authz = FindHeader(h, "authorization");
  if (authz.size() > 7 && StartsWithIgnoreCase(authz, "bearer ")) {
    std::string_view tok = authz.substr(7);
    if (tok.starts_with("ek_"))
      add("bearer_ephemeral");
    else if (tok.starts_with("eyJ") && std::count(tok.begin(), tok.end(), '.') == 2)
      add("bearer_jwt");
    else
      add("bearer_key");
  } else if (!authz.empty()) {
    add("authorization_other");
  }
  size_t q = ex.target.find('?');
  if (q != std::string::npos) {
    ForEachQueryParam(std::string_view(ex.target).substr(q + 1),
                      [&](const std::string& n, const std::string&) {
                        if (n == "api-key" || n == "key" || n == "token" || n == "authorization" ||
                            n == "access_token" || n == "subscription-key") {
                          add("query_key");
                        }
                      });
  }
  if (FindHeader(h, "sec-websocket-protocol").find("openai-insecure-api-key.") !=
      std::string_view::npos) {
    add("subprotocol_key");
  }
  return kinds.empty() ? "none" : kinds;
}

// Reads a header from the response first, then the request.
std::string Either(const Exchange& ex, std::string_view name) {
  std::string_view v = FindHeader(ex.response_headers, name);
  if (v.empty()) v = FindHeader(ex.request_headers, name);
  return std::string(v);
}

void ReadErrorBody(const Exchange& ex, ExchangeFacts& f) {
  const BodySample& b = ex.response_body;
  if (b.bytes.empty() || ex.status < 400) return;
  json j = json::parse(b.bytes, nullptr, /*allow_exceptions=*/false);
  const json& err = Obj(j, "error");
  f.error_type = Str(err, "type");
  f.error_code = Str(err, "code");
}

void ReadSse(const Exchange& ex, ExchangeFacts& f) {
  for (const SseEvent& e : ex.sse_events) {
    json j = json::parse(e.data, nullptr, false);
    std::string type = Str(j, "type");
    if (e.event == "error" || type == "error" || type == "response.error") {
      f.sse_error_event = true;
      const json& err = Obj(j, "error");
      if (f.error_type.empty()) f.error_type = Str(err, "type");
      if (f.error_code.empty()) f.error_code = Str(err, "code");
    }
    if (type == "response.failed" || Str(Obj(j, "response"), "status") == "failed") {
      f.sse_response_failed = true;
      const json& err = Obj(Obj(j, "response"), "error");
      if (f.error_type.empty()) f.error_type = Str(err, "type");
      if (f.error_code.empty()) f.error_code = Str(err, "code");
    }
  }
}

void ReadTimes(const Exchange& ex, ExchangeFacts& f) {
  std::string_view authz = FindHeader(ex.request_headers, "authorization");
  if (f.auth_kind.find("bearer_jwt") != std::string::npos) {
    if (std::optional<redact::JwtClaims> c = redact::JwtClaimsOf(authz)) {
      f.jwt = JwtTimes{c->times.exp, c->times.nbf, c->times.iat};
      f.jwt_aud = std::move(c->aud);
      f.jwt_tid = std::move(c->tid);
    }
  }
  f.upstream_date_us = ParseHttpDate(FindHeader(ex.response_headers, "date"));
  int64_t local_us = ex.response_headers_us ? ex.response_headers_us : ex.request_start_us;
  if (f.upstream_date_us && local_us) f.clock_skew_ms = (local_us - *f.upstream_date_us) / 1000;
  int64_t ref_s = (f.upstream_date_us ? *f.upstream_date_us : local_us) / 1000000;
  if (f.jwt.exp && ref_s) f.token_ttl_s = *f.jwt.exp - ref_s;
}

void ReadClientIdentity(const Exchange& ex, ExchangeFacts& f) {
  const Headers& h = ex.request_headers;
  f.user_agent = FindHeader(h, "user-agent");
  f.stainless_lang = FindHeader(h, "x-stainless-lang");
  f.stainless_package_version = FindHeader(h, "x-stainless-package-version");
  f.stainless_runtime = FindHeader(h, "x-stainless-runtime");
  f.stainless_runtime_version = FindHeader(h, "x-stainless-runtime-version");
  f.stainless_os = FindHeader(h, "x-stainless-os");
  f.stainless_arch = FindHeader(h, "x-stainless-arch");
  f.x_ms_useragent = FindHeader(h, "x-ms-useragent");
  std::string_view rc = FindHeader(h, "x-stainless-retry-count");
  if (!rc.empty()) {
    try {
      f.retry_count = std::stoll(std::string(rc));
    } catch (...) {
    }
  }
}

void ReadCorrelation(const Exchange& ex, ExchangeFacts& f) {
  f.apim_request_id = Either(ex, "apim-request-id");
  f.x_request_id = Either(ex, "x-request-id");
  f.x_ms_client_request_id = Either(ex, "x-ms-client-request-id");
  f.region = Either(ex, "x-ms-region");
  f.azureml_model_session = Either(ex, "azureml-model-session");
  f.openai_processing_ms = Either(ex, "openai-processing-ms");
  f.retry_after = Either(ex, "retry-after");
  f.retry_after_ms = Either(ex, "retry-after-ms");
  if (f.retry_after_ms.empty()) f.retry_after_ms = Either(ex, "x-ms-retry-after-ms");
  json rl = json::object();
  for (const auto& [name, value] : ex.response_headers) {
    std::string n = AsciiStrToLower(name);
    if (n.starts_with("x-ratelimit-")) rl[n] = value;
  }
  if (!rl.empty()) f.ratelimit_json = rl.dump();
}

}  // namespace

std::string QueryParam(std::string_view target, std::string_view name) {
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return "";
  std::string out;
  bool seen = false;
  ForEachQueryParam(target.substr(q + 1), [&](const std::string& n, const std::string& v) {
    if (!seen && n == name) {
      out = v;
      seen = true;
    }
  });
  return out;
}

std::string_view FindHeader(const Headers& headers, std::string_view name) {
  for (const auto& [n, v] : headers) {
    if (EqualsIgnoreCase(n, name)) return v;
  }
  return "";
}

HostFacts ParseHost(std::string_view host) {
  std::string h = AsciiStrToLower(host.substr(
      0, host.rfind(':') == std::string_view::npos || host.find(']') != std::string_view::npos
             ? host.size()
             : host.rfind(':')));
  HostFacts f;
  for (std::string_view suffix :
       {".openai.azure.com", ".cognitiveservices.azure.com", ".services.ai.azure.com"}) {
    if (h.ends_with(suffix) && h.size() > suffix.size()) {
      f.azure = true;
      std::string_view r = std::string_view(h).substr(0, h.size() - suffix.size());
      f.resource =
          std::string(r.substr(r.rfind('.') == std::string_view::npos ? 0 : r.rfind('.') + 1));
      break;
    }
  }
  return f;
}

std::string_view TargetPath(std::string_view target) {
  if (const size_t scheme = target.find("://"); scheme != std::string_view::npos) {
    const size_t slash = target.find('/', scheme + 3);
    target = slash == std::string_view::npos ? "/" : target.substr(slash);
  }
  return target.substr(0, target.find_first_of("?#"));
}

PathFacts ParsePath(std::string_view host, std::string_view target) {
  PathFacts f;
  size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string deployment_param;
  if (q != std::string_view::npos) {
    ForEachQueryParam(target.substr(q + 1), [&](const std::string& n, const std::string& v) {
      if (n == "api-version")
        f.api_version = v;
      else if (n == "deployment")
        deployment_param = v;
      else if (n == "model")
        f.model = v;
    });
  }
  (void)host;
  if (path.starts_with("/openai/deployments/")) {
    f.kind = "deployments";
    std::string_view rest = path.substr(20);
    f.deployment = PercentDecode(rest.substr(0, rest.find('/')));
  } else if (path.starts_with("/openai/v1/") || path == "/openai/v1") {
    f.kind = "ga_v1";
  } else if (path.starts_with("/openai/")) {
    f.kind = "preview";
  } else if (path.starts_with("/v1/")) {
    f.kind = "openai_v1";
  } else {
    f.kind = "other";
  }
  if (f.deployment.empty()) f.deployment = deployment_param;
  // On Azure's GA path (/openai/v1/realtime?model=X) the `model` parameter is the deployment's
  // name: record it as the deployment, so failures on the most common realtime path are not
  // blank in v_failures.
  if (f.deployment.empty() && f.kind == "ga_v1") f.deployment = f.model;
  return f;
}

std::optional<int64_t> ParseHttpDate(std::string_view value) {
  if (value.empty()) return std::nullopt;
  struct tm tm {};
  std::string v(value);
  const char* end = strptime(v.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr) return std::nullopt;
  return static_cast<int64_t>(timegm(&tm)) * 1000000;
}

bool IsProbeTransportCheck(const Exchange& ex) {
  if (ex.websocket_upgrade || ex.method != "GET" ||
      FindHeader(ex.request_headers, "user-agent") != kProbeUserAgent) {
    return false;
  }
  return TargetPath(ex.target) == "/" && ex.target.find('?') == std::string::npos;
}

ExchangeFacts CorrelateExchange(const Exchange& ex) {
  ExchangeFacts f;
  f.host = ParseHost(ex.host);
  f.path = ParsePath(ex.host, ex.target);
  std::string ct = AsciiStrToLower(FindHeader(ex.response_headers, "content-type"));
  const bool probe_check = IsProbeTransportCheck(ex);
  f.transport = ex.self_check          ? "self_check"
                : ex.websocket_upgrade ? "websocket_upgrade"
                : probe_check          ? "probe_check"
                : (!ex.sse_events.empty() || ct.starts_with("text/event-stream")) ? "sse"
                                                                                  : "http";
  ReadCorrelation(ex, f);
  ReadClientIdentity(ex, f);
  f.auth_kind = AuthKind(ex);
  ReadTimes(ex, f);
  ReadErrorBody(ex, f);
  ReadSse(ex, f);
  f.outcome =
      ClassifyExchange({ex.status, ex.end, f.sse_response_failed, f.sse_error_event, probe_check});
  return f;
}

}  // namespace relaytap::recorder

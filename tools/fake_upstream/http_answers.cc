#include "tools/fake_upstream/http_answers.h"

#include <nlohmann/json.hpp>
#include <string>

#include "tools/fake_upstream/call_answers.h"
#include "tools/fake_upstream/payloads.h"

namespace relaytap::tools::fake_upstream {

namespace http = boost::beast::http;

bool IsCompletionsPath(std::string_view p) {
  return (p.starts_with("/openai/deployments/") && p.ends_with("/chat/completions")) ||
         p == "/openai/v1/responses" || p == "/openai/v1/chat/completions";
}

// Session creation / ephemeral tokens: GA client_secrets, preview and beta sessions.
bool IsSessionPath(std::string_view p) {
  return p == "/openai/v1/realtime/client_secrets" || p == "/v1/realtime/client_secrets" ||
         p == "/openai/realtimeapi/sessions" || p == "/v1/realtime/sessions";
}

bool KeepsBody(std::string_view p) {
  return IsCompletionsPath(p) || IsSessionPath(p) || IsCallPath(p);
}

// The deployment a request names in its URL, else in its JSON body (`model`, `session.model`).
std::string DeploymentFor(const Target& t, const std::string& body) {
  std::string d = DeploymentOf(t);
  if (!d.empty() || body.empty()) return d;
  auto json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return d;
  if (json.contains("model") && json["model"].is_string()) return json["model"];
  if (json.contains("session") && json["session"].is_object() &&
      json["session"].contains("model") && json["session"]["model"].is_string()) {
    return json["session"]["model"];
  }
  return d;
}

StringResponse JsonResponse(unsigned status, std::string body) {
  StringResponse res;
  res.version(11);
  res.result(status);
  res.set(http::field::content_type, "application/json");
  res.body() = std::move(body);
  return res;
}

namespace {

void SetRetryHeaders(StringResponse& res, std::chrono::milliseconds retry_after,
                     const RetryHeaders& which) {
  if (which.retry_after) {
    res.set(http::field::retry_after, std::to_string((retry_after.count() + 999) / 1000));
  }
  if (which.retry_after_ms) res.set("retry-after-ms", std::to_string(retry_after.count()));
  if (which.x_ms_retry_after_ms) {
    res.set("x-ms-retry-after-ms", std::to_string(retry_after.count()));
  }
  res.set("x-ratelimit-remaining-requests", "0");
  res.set("x-ratelimit-remaining-tokens", "0");
}

}  // namespace

// The answer an HTTP-level fault gives instead of the real one; nullopt for none.
std::optional<StringResponse> FaultResponse(Fault fault, const FaultParams& p) {
  unsigned status = 0;
  switch (fault) {
    case Fault::kUpgrade5xx:
      status = p.upgrade_status;
      break;
    case Fault::kSession5xx:
      status = p.session_status;
      break;
    case Fault::kHttp5xx:
      status = p.http_status;
      break;
    case Fault::kUpgrade429:
    case Fault::kSession429:
    case Fault::kHttp429:
      status = 429;
      break;
    default:
      return std::nullopt;
  }
  StringResponse res = JsonResponse(status, AzureErrorJson(status));
  res.set("x-relaytap-fake-fault", FaultName(fault));
  if (status == 429) SetRetryHeaders(res, p.retry_after, p.retry_headers);
  return res;
}

}  // namespace relaytap::tools::fake_upstream

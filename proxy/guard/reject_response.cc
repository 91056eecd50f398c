#include "proxy/guard/reject_response.h"

#include <nlohmann/json.hpp>

#include "base/str_cat.h"

namespace relaytap::proxy::guard {
namespace {

std::string Message(const Decision& d) {
  const DecisionCounts& c = d.counts;
  switch (d.reason) {
    case Reason::kAttemptCap:
      return StrCat("relaytap retry guard: attempt ", c.attempt, " of this request to ", d.key,
                    " exceeds the cap; not forwarded. Try again in ", d.retry_after_ms, " ms");
    case Reason::kRetryBudget:
      return StrCat("relaytap retry guard: retries to ", d.key, " exceed the budget (",
                    c.window_retries, " of ", c.retries_allowed, " allowed for ", c.window_attempts,
                    " recent attempts); not forwarded. Try again in ", d.retry_after_ms, " ms");
    case Reason::kBreakerOpen:
      return StrCat("relaytap retry guard: circuit breaker for ", d.key, " is ", c.breaker,
                    " after ", c.window_failures, " failures in ", c.window_outcomes,
                    " recent attempts; not forwarded. Try again in ", d.retry_after_ms, " ms");
    case Reason::kRetryAfterHold:
      return StrCat("relaytap retry guard: upstream asked clients of ", d.key,
                    " to wait (retry-after); not forwarded. Try again in ", d.retry_after_ms,
                    " ms");
    default:
      return "relaytap retry guard";
  }
}

}  // namespace

int RejectStatus(Reason reason) { return reason == Reason::kBreakerOpen ? 503 : 429; }

std::string RejectCode(Reason reason) { return StrCat("relaytap_", ReasonName(reason)); }

std::string CountsJson(const Decision& d) {
  const DecisionCounts& c = d.counts;
  nlohmann::json j = {{"attempt", c.attempt},
                      {"window_attempts", c.window_attempts},
                      {"window_retries", c.window_retries},
                      {"retries_allowed", c.retries_allowed},
                      {"window_failures", c.window_failures},
                      {"window_outcomes", c.window_outcomes},
                      {"breaker", c.breaker},
                      {"retry", d.retry},
                      {"signal", std::string(RetrySignalName(d.signal))}};
  return j.dump();
}

std::string BuildRejectResponse(const Decision& d) {
  int status = RejectStatus(d.reason);
  std::string code = RejectCode(d.reason);
  nlohmann::json body = {{"error",
                          {{"code", code},
                           {"message", Message(d)},
                           {"type", "relaytap_guard"},
                           {"retry_after_ms", d.retry_after_ms}}}};
  std::string text =
      body.dump(-1, ' ', /*ensure_ascii=*/false, nlohmann::json::error_handler_t::replace);
  text.push_back('\n');
  int64_t seconds = (d.retry_after_ms + 999) / 1000;
  std::string_view reason_phrase = status == 503 ? "Service Unavailable" : "Too Many Requests";
  return StrCat("HTTP/1.1 ", status, " ", reason_phrase,
                "\r\nContent-Type: application/json\r\nContent-Length: ", text.size(),
                "\r\nConnection: close\r\nretry-after: ", seconds,
                "\r\nretry-after-ms: ", d.retry_after_ms,
                "\r\nx-should-retry: false\r\nx-relaytap-guard: ", ReasonName(d.reason),
                "\r\nx-relaytap-error: ", code, "\r\n\r\n", text);
}

}  // namespace relaytap::proxy::guard

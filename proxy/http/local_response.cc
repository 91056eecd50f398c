#include "proxy/http/local_response.h"

#include <nlohmann/json.hpp>

#include "base/str_cat.h"
#include "proxy/stream/errors.h"
#include "proxy/stream/net.h"

namespace relaytap::proxy::http_relay {

std::string BuildLocalErrorResponse(const LocalError& error) {
  nlohmann::json body = {
      {"error",
       {{"code", error.code}, {"message", error.message}, {"type", "relaytap_proxy_error"}}}};
  if (!error.stage.empty()) body["error"]["stage"] = error.stage;
  if (!error.host.empty()) body["error"]["host"] = error.host;
  std::string text =
      body.dump(-1, ' ', /*ensure_ascii=*/false, nlohmann::json::error_handler_t::replace);
  text.push_back('\n');
  beast::string_view reason = http::obsolete_reason(static_cast<http::status>(error.status));
  return StrCat("HTTP/1.1 ", error.status, " ", std::string_view(reason.data(), reason.size()),
                "\r\nContent-Type: application/json\r\nContent-Length: ", text.size(),
                "\r\nConnection: close\r\nx-relaytap-error: ", error.code, "\r\n",
                error.extra_headers, "\r\n", text);
}

LocalError DialLocalError(const DialResult& d, std::string_view host) {
  if (d.forbidden) {
    return LocalError{403, "relaytap_destination_forbidden", d.reason, "connect",
                      std::string(host)};
  }
  const std::string stage(DialStageName(d.failed_stage));
  return LocalError{d.timed_out ? 504 : 502,
                    StrCat("relaytap_upstream_", stage, d.timed_out ? "_timeout" : ""), d.reason,
                    stage, std::string(host)};
}

HeadFailure ClassifyHeadFailure(error_code ec, recorder::EndReason quiet_end, bool head_begun) {
  HeadFailure f;
  if (ec == http::error::header_limit) {
    f.answer = LocalError{431, "relaytap_header_too_large", "request header exceeds 64 KiB",
                          "request", ""};
    f.end = recorder::EndReason::kBadRequest431;
  } else if (ec.category() == error_code(http::error::bad_method).category() &&
             ec != http::error::partial_message) {
    f.answer = LocalError{400, "relaytap_bad_request",
                          StrCat("malformed HTTP request: ", ec.message()), "request", ""};
    f.end = recorder::EndReason::kBadRequest400;
  } else if (IsTimeout(ec) && head_begun) {
    f.answer = LocalError{408, "relaytap_request_head_timeout",
                          "the request head did not arrive in full in time (head_timeout_ms)",
                          "request", ""};
    f.end = recorder::EndReason::kRequestHeadTimeout;
  } else {
    f.end = IsTimeout(ec) ? recorder::EndReason::kIdleTimeout : quiet_end;
  }
  return f;
}

Awaitable<uint64_t> WriteLocalError(ByteStream& app, const LocalError& error) {
  std::string bytes = BuildLocalErrorResponse(error);
  auto [ec, n] = co_await app.WriteAll(net::buffer(bytes));
  co_await app.ShutdownSend();
  co_return n;
}

void NoteLocalError(recorder::Exchange* obs, const LocalError& error) {
  if (obs == nullptr) return;
  obs->local_error_code = error.code;
  obs->error_stage = error.stage;
  obs->error_reason = error.message;
}

}  // namespace relaytap::proxy::http_relay

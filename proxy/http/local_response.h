#pragma once
// Answers relaytap gives itself (never forwarded from upstream): bad requests from the app and
// upstream failures. Always JSON in Azure's error shape, `Connection: close`, and an
// `x-relaytap-error` header naming the cause, so nobody mistakes them for Azure's own answers.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/stream/byte_stream.h"
#include "proxy/stream/dial.h"
#include "proxy/stream/net.h"
#include "recorder/observation.h"

namespace relaytap::proxy::http_relay {

struct LocalError {
  int status = 502;
  std::string code;           // "relaytap_upstream_connect", "relaytap_bad_request", ...
  std::string message;        // human-readable, no secrets
  std::string stage;          // "dns" / "connect" / "tls" / "request"; may be empty
  std::string host;           // target host; may be empty
  std::string extra_headers;  // more header lines ("Name: value\r\n" each); may be empty
};

// The answer to a failed dial: 502 (504 when it timed out, code
// relaytap_upstream_<stage>[_timeout]), or 403 relaytap_destination_forbidden when remote mode
// refused the destination.
LocalError DialLocalError(const DialResult& d, std::string_view host);

// The complete HTTP/1.1 response bytes.
std::string BuildLocalErrorResponse(const LocalError& error);

// A request head that could not be read (`ec` from ReadHeader; `head_begun`: some of it had
// arrived): an oversized head is answered 431, a malformed one 400, one that began and did not
// complete in time 408; anything else (the app closed, or went quiet between requests) gets no
// answer and ends the connection as `quiet_end`, or kIdleTimeout when the idle limit struck.
struct HeadFailure {
  std::optional<LocalError> answer;
  recorder::EndReason end = recorder::EndReason::kAppClosed;
};
HeadFailure ClassifyHeadFailure(error_code ec, recorder::EndReason quiet_end, bool head_begun);

// Writes the answer to the app and half-closes (nothing follows it on this connection); returns
// the bytes written.
Awaitable<uint64_t> WriteLocalError(ByteStream& app, const LocalError& error);

// Notes on the exchange's recording (if any) that relaytap answered it itself, and why.
void NoteLocalError(recorder::Exchange* obs, const LocalError& error);

}  // namespace relaytap::proxy::http_relay

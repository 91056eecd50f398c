#pragma once
// Pure pieces of the fake upstream's HTTP side: which paths are which endpoint, the deployment a
// request names, and the canned answers (JSON responses, the answers of HTTP-level faults).

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "tools/fake_upstream/fault_model.h"
#include "tools/fake_upstream/util.h"

namespace relaytap::tools::fake_upstream {

using StringResponse = boost::beast::http::response<boost::beast::http::string_body>;

// Chat completions (deployment and v1 paths) and the Responses API.
bool IsCompletionsPath(std::string_view p);
// Session creation / ephemeral tokens: GA client_secrets, preview and beta sessions.
bool IsSessionPath(std::string_view p);
// Endpoints whose request body is kept (and parsed).
bool KeepsBody(std::string_view p);

// The deployment a request names in its URL, else in its JSON body (`model`, `session.model`).
std::string DeploymentFor(const Target& t, const std::string& body);

// An HTTP/1.1 response with Content-Type application/json.
StringResponse JsonResponse(unsigned status, std::string body);

// The answer an HTTP-level fault gives instead of the real one (Azure error body, the fault's
// name in x-relaytap-fake-fault, the retry headers of `p.retry_headers` on a 429); nullopt for
// any other fault.
std::optional<StringResponse> FaultResponse(Fault fault, const FaultParams& p);

}  // namespace relaytap::tools::fake_upstream

#pragma once
// OpenSSL's thread-local error queue as text for a Status message.

#include <string>
#include <string_view>

namespace relaytap::proxy::tls {

// "what: <error>; <error>", draining the queue.
std::string OpenSslError(std::string_view what);

}  // namespace relaytap::proxy::tls

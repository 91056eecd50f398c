#pragma once
// Deciding which I/O errors are ordinary ends of a connection and describing the rest in words an
// operator can act on.

#include <string>

#include "proxy/stream/net.h"

namespace relaytap::proxy {

// eof, operation_aborted, a TLS stream truncated after a complete message, a reset by the peer:
// ordinary ends, recorded as outcomes, not logged as errors.
bool IsBenignDisconnect(const error_code& ec);
bool IsTimeout(const error_code& ec);
bool IsReset(const error_code& ec);
// errno of a non-blocking recv/send that would have waited (EAGAIN, EWOULDBLOCK) or was
// interrupted (EINTR): retry once the socket is ready, not a failure.
bool IsRetryableErrno(int err);

// True when a server-side TLS handshake failed because the app rejected our certificate (an
// unknown_ca / bad_certificate / certificate_unknown alert): the app does not trust relaytap's CA.
bool IsClientRejectedCa(const error_code& ec);

// "connection refused", "TLS: certificate verify failed (hostname mismatch)", ...
std::string DescribeError(const error_code& ec);

}  // namespace relaytap::proxy

#include "proxy/stream/errors.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cerrno>

namespace relaytap::proxy {

bool IsTimeout(const error_code& ec) {
  return ec == beast::error::timeout || ec == net::error::timed_out;
}

bool IsRetryableErrno(int err) { return err == EAGAIN || err == EWOULDBLOCK || err == EINTR; }

bool IsReset(const error_code& ec) {
  return ec == net::error::connection_reset || ec == net::error::broken_pipe ||
         ec == net::error::connection_aborted;
}

bool IsBenignDisconnect(const error_code& ec) {
  // A peer that closes TCP without a TLS close_notify after its last message is the norm for
  // HTTP clients (see Beast's advanced server example, fail()).
  return ec == net::error::eof || ec == net::error::operation_aborted ||
         ec == ssl::error::stream_truncated || IsReset(ec) || ec == net::error::not_connected ||
         ec == net::error::bad_descriptor;
}

bool IsClientRejectedCa(const error_code& ec) {
  if (ec.category() != net::error::get_ssl_category()) return false;
  int reason = ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
  return reason == SSL_R_TLSV1_ALERT_UNKNOWN_CA || reason == SSL_R_SSLV3_ALERT_BAD_CERTIFICATE ||
         reason == SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN ||
         reason == SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE ||
         reason == SSL_R_TLSV1_ALERT_DECRYPT_ERROR;
}

std::string DescribeError(const error_code& ec) {
  if (IsTimeout(ec)) return "timed out";
  if (ec == ssl::error::stream_truncated) return "TLS stream truncated";
  if (ec.category() == net::error::get_ssl_category()) {
    char buf[256];
    ERR_error_string_n(static_cast<unsigned long>(ec.value()), buf, sizeof(buf));
    const char* reason = ERR_reason_error_string(static_cast<unsigned long>(ec.value()));
    return std::string("TLS: ") + (reason ? reason : buf);
  }
  return ec.message();
}

}  // namespace relaytap::proxy

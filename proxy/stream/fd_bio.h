#pragma once
// An OpenSSL BIO over a connected non-blocking socket descriptor, for relaytap's own TLS stream
// (proxy/stream/tls_byte_stream.h).
//
// Why not BIO_s_socket: it writes with write(2), which raises SIGPIPE when the peer is gone, and it
// cannot serve the bytes an app sent right after CONNECT (read off the socket with the CONNECT
// head) before the socket's own. Why not Asio's ssl::stream and its BIO pair: two 17 KiB buffers in
// the stream core and two more in the pair per connection, and two extra copies of every byte.

#include <openssl/bio.h>

#include <cstddef>
#include <string>

namespace relaytap::proxy::tls {

// What the BIO reads from and reports back. Owned by the stream; must outlive the BIO.
struct FdBioState {
  int fd = -1;
  // Served before the socket's bytes, then released.
  std::string early;
  size_t early_pos = 0;
  // errno of the last failed recv/send other than EAGAIN (0 if none), for SSL_ERROR_SYSCALL.
  int last_errno = 0;
  // The peer's FIN was read (recv returned 0). Answered to BIO_CTRL_EOF, so OpenSSL reports an EOF
  // without close_notify as SSL_R_UNEXPECTED_EOF_WHILE_READING.
  bool eof = false;
};

// A new BIO over `state` (not owned; BIO_free does not close the descriptor). nullptr if OpenSSL
// cannot allocate it.
BIO* NewFdBio(FdBioState* state);

}  // namespace relaytap::proxy::tls

#include "proxy/stream/fd_bio.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "proxy/stream/errors.h"

namespace relaytap::proxy::tls {
namespace {

FdBioState* StateOf(BIO* b) { return static_cast<FdBioState*>(BIO_get_data(b)); }

int ReadEarly(FdBioState& s, char* out, size_t len) {
  size_t n = s.early.size() - s.early_pos;
  if (n > len) n = len;
  std::memcpy(out, s.early.data() + s.early_pos, n);
  s.early_pos += n;
  if (s.early_pos == s.early.size()) {
    std::string().swap(s.early);  // not held for the session
    s.early_pos = 0;
  }
  return static_cast<int>(n);
}

int FdRead(BIO* b, char* out, int len) {
  BIO_clear_retry_flags(b);
  FdBioState& s = *StateOf(b);
  if (len <= 0) return 0;
  if (s.early_pos < s.early.size()) return ReadEarly(s, out, static_cast<size_t>(len));
  ssize_t n = ::recv(s.fd, out, static_cast<size_t>(len), 0);
  if (n > 0) return static_cast<int>(n);
  if (n == 0) {
    s.eof = true;
    return 0;
  }
  if (IsRetryableErrno(errno)) {
    BIO_set_retry_read(b);
  } else {
    s.last_errno = errno;
  }
  return -1;
}

int FdWrite(BIO* b, const char* in, int len) {
  BIO_clear_retry_flags(b);
  FdBioState& s = *StateOf(b);
  if (len <= 0) return 0;
  // MSG_NOSIGNAL: a peer that is gone yields EPIPE here, not a process-killing SIGPIPE.
  ssize_t n = ::send(s.fd, in, static_cast<size_t>(len), MSG_NOSIGNAL);
  if (n >= 0) return static_cast<int>(n);
  if (IsRetryableErrno(errno)) {
    BIO_set_retry_write(b);
  } else {
    s.last_errno = errno;
  }
  return -1;
}

long FdCtrl(BIO* b, int cmd, long /*num*/, void* /*ptr*/) {
  switch (cmd) {
    case BIO_CTRL_FLUSH:  // nothing is buffered here: send() went straight to the kernel
      return 1;
    case BIO_CTRL_EOF:
      return StateOf(b)->eof ? 1 : 0;
    case BIO_CTRL_PENDING:
    case BIO_CTRL_WPENDING:
      return 0;
    default:
      return 0;
  }
}

int FdCreate(BIO* b) {
  BIO_set_init(b, 1);
  return 1;
}

int FdDestroy(BIO* b) { return b != nullptr ? 1 : 0; }

const BIO_METHOD* FdMethod() {
  // One method table for the process, created on first use (thread-safe static init).
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "relaytap fd");
    if (m == nullptr) return m;
    BIO_meth_set_write(m, FdWrite);
    BIO_meth_set_read(m, FdRead);
    BIO_meth_set_ctrl(m, FdCtrl);
    BIO_meth_set_create(m, FdCreate);
    BIO_meth_set_destroy(m, FdDestroy);
    return m;
  }();
  return method;
}

}  // namespace

BIO* NewFdBio(FdBioState* state) {
  const BIO_METHOD* m = FdMethod();
  if (m == nullptr) return nullptr;
  BIO* b = BIO_new(m);
  if (b != nullptr) BIO_set_data(b, state);
  return b;
}

}  // namespace relaytap::proxy::tls

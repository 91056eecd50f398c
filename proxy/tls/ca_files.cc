#include "proxy/tls/ca_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base/str_cat.h"

namespace relaytap::proxy::tls {
namespace {

namespace fs = std::filesystem;

std::string ErrnoText() { return std::strerror(errno); }

}  // namespace

fs::path PreviousPath(const fs::path& path) {
  return fs::path(StrCat(path.string(), kPreviousSuffix));
}

absl::StatusOr<std::string> ReadWholeFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(StrCat("cannot read ", path.string(), ": ", ErrnoText()));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return absl::DataLossError(StrCat("error reading ", path.string()));
  return ss.str();
}

absl::Status WriteNewFile(const fs::path& path, std::string_view data, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return absl::InternalError(StrCat("creating ", path.string(), ": ", ErrnoText()));
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string err = ErrnoText();
      ::close(fd);
      ::unlink(path.c_str());
      return absl::InternalError(StrCat("writing ", path.string(), ": ", err));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    std::string err = ErrnoText();
    ::unlink(path.c_str());
    return absl::InternalError(StrCat("writing ", path.string(), ": ", err));
  }
  return absl::OkStatus();
}

absl::Status CheckKeyFilePermissions(const fs::path& key_path) {
  struct stat st {};
  if (::stat(key_path.c_str(), &st) != 0) {
    return absl::NotFoundError(StrCat("cannot stat ", key_path.string(), ": ", ErrnoText()));
  }
  if ((st.st_mode & 077) != 0) {
    return absl::FailedPreconditionError(StrCat("CA key ", key_path.string(),
                                                " is accessible by group/other; run: chmod 600 '",
                                                key_path.string(), "'"));
  }
  return absl::OkStatus();
}

absl::Status SetAsidePrevious(const fs::path& cert, const fs::path& key) {
  // The key first: a crash between the two leaves a certificate without its key, which the next
  // start reports by name rather than pairing it with a new key.
  if (::rename(key.c_str(), PreviousPath(key).c_str()) != 0) {
    return absl::InternalError(
        StrCat("keeping ", key.string(), " as ", PreviousPath(key).string(), ": ", ErrnoText()));
  }
  if (::rename(cert.c_str(), PreviousPath(cert).c_str()) != 0) {
    std::string err = ErrnoText();
    ::rename(PreviousPath(key).c_str(), key.c_str());
    return absl::InternalError(
        StrCat("keeping ", cert.string(), " as ", PreviousPath(cert).string(), ": ", err));
  }
  return absl::OkStatus();
}

void RestorePrevious(const fs::path& cert, const fs::path& key) {
  ::unlink(cert.c_str());
  ::unlink(key.c_str());
  ::rename(PreviousPath(cert).c_str(), cert.c_str());
  ::rename(PreviousPath(key).c_str(), key.c_str());
}

}  // namespace relaytap::proxy::tls

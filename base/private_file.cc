#include "base/private_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/str_cat.h"

namespace relaytap {
namespace {

absl::Status Errno(const char* what, const std::string& path) {
  return absl::UnavailableError(StrCat(what, " ", path, ": ", strerror(errno)));
}

// Drops group and other permission bits on the open descriptor `fd` of `path`.
absl::Status Tighten(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Errno("cannot stat", path);
  if ((st.st_mode & 077) == 0) return absl::OkStatus();
  if (::fchmod(fd, st.st_mode & 0700) != 0) return Errno("cannot make private", path);
  return absl::OkStatus();
}

}  // namespace

absl::Status MakePrivateFile(const std::string& path, bool truncate) {
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0600);
  if (fd < 0) return Errno("cannot create", path);
  absl::Status st = Tighten(fd, path);
  ::close(fd);
  return st;
}

absl::Status TightenIfExists(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return errno == ENOENT ? absl::OkStatus() : Errno("cannot open", path);
  absl::Status st = Tighten(fd, path);
  ::close(fd);
  return st;
}

}  // namespace relaytap

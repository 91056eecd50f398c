#include "recorder/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/str_cat.h"

namespace relaytap::recorder {
namespace {

std::string Errno() { return strerror(errno); }

absl::StatusOr<std::string> ReadKey(const std::string& path, int fd) {
  struct stat st {};
  if (fstat(fd, &st) != 0) return absl::InternalError(StrCat("stat ", path, ": ", Errno()));
  if ((st.st_mode & 077) != 0) {
    return absl::PermissionDeniedError(
        StrCat("redaction key ", path, " is accessible by group or others; run chmod 600"));
  }
  std::string key(kRedactionKeyBytes + 1, '\0');
  ssize_t n = read(fd, key.data(), key.size());
  if (n < 0) return absl::InternalError(StrCat("reading ", path, ": ", Errno()));
  if (static_cast<size_t>(n) != kRedactionKeyBytes) {
    return absl::DataLossError(StrCat("redaction key ", path, " has ", n, " bytes, expected ",
                                      kRedactionKeyBytes, "; remove it to create a new one"));
  }
  key.resize(kRedactionKeyBytes);
  return key;
}

absl::StatusOr<std::string> CreateKey(const std::string& path) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 && errno == EEXIST) return absl::AlreadyExistsError(path);
  if (fd < 0) return absl::UnavailableError(StrCat("creating ", path, ": ", Errno()));
  std::string key(kRedactionKeyBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), static_cast<int>(key.size())) != 1) {
    close(fd);
    unlink(path.c_str());
    return absl::InternalError("RAND_bytes failed while creating the redaction key");
  }
  bool ok = write(fd, key.data(), key.size()) == static_cast<ssize_t>(key.size()) && fsync(fd) == 0;
  std::string err = Errno();
  close(fd);
  if (!ok) {
    unlink(path.c_str());
    return absl::UnavailableError(StrCat("writing ", path, ": ", err));
  }
  return key;
}

}  // namespace

absl::StatusOr<std::string> LoadOrCreateRedactionKey(const std::string& dir) {
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::UnavailableError(StrCat("creating directory ", dir, ": ", Errno()));
  }
  std::string path = StrCat(dir, "/", kRedactionKeyFileName);
  for (int attempt = 0; attempt < 2; ++attempt) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      absl::StatusOr<std::string> key = ReadKey(path, fd);
      close(fd);
      return key;
    }
    if (errno != ENOENT) return absl::UnavailableError(StrCat("opening ", path, ": ", Errno()));
    absl::StatusOr<std::string> key = CreateKey(path);
    // EEXIST: another process created it between our open and create; read theirs.
    if (!absl::IsAlreadyExists(key.status())) return key;
  }
  return absl::UnavailableError(StrCat("cannot read or create ", path));
}

}  // namespace relaytap::recorder

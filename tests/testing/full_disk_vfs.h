// A SQLite VFS for tests that behaves like a disk with no space left while switched on: it wraps
// the default VFS, and every write or truncate-to-grow of any file (database, WAL, journal) then
// returns SQLITE_FULL, which is what the unix VFS returns when write(2) fails with ENOSPC. Unlike
// `PRAGMA max_page_count`, a small write that would fit into a page's free space fails as well, so
// an outage lasts exactly as long as the test says.
//
// Installing makes it the process's default VFS (connections opened afterwards use it); the
// destructor restores the previous default. One at a time per process.
#ifndef RELAYTAP_TESTS_TESTING_FULL_DISK_VFS_H_
#define RELAYTAP_TESTS_TESTING_FULL_DISK_VFS_H_

#include <atomic>

struct sqlite3_vfs;

namespace relaytap::testing {

class FullDiskVfs {
 public:
  FullDiskVfs();
  ~FullDiskVfs();
  FullDiskVfs(const FullDiskVfs&) = delete;
  FullDiskVfs& operator=(const FullDiskVfs&) = delete;

  // While full, writes fail with SQLITE_FULL; reads are unaffected.
  void SetFull(bool full) { full_.store(full, std::memory_order_release); }
  bool full() const { return full_.load(std::memory_order_acquire); }

 private:
  std::atomic<bool> full_{false};
  sqlite3_vfs* base_ = nullptr;
  sqlite3_vfs* vfs_ = nullptr;
};

}  // namespace relaytap::testing

#endif  // RELAYTAP_TESTS_TESTING_FULL_DISK_VFS_H_

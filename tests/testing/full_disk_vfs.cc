#include "tests/testing/full_disk_vfs.h"

#include <sqlite3.h>

#include <cstddef>
#include <cstdlib>
#include <memory>

namespace relaytap::testing {
namespace {

// The wrapped file: our header first, the base VFS's file object right after it (the base VFS
// is given that memory to open into, as SQLite's own shims such as vfstrace do).
struct WrappedFile {
  sqlite3_file base;  // pMethods points at the wrapping methods
  const FullDiskVfs* owner;
  sqlite3_io_methods methods;  // copy of the real file's methods, writes wrapped
  sqlite3_file* real() { return reinterpret_cast<sqlite3_file*>(this + 1); }
};

WrappedFile* Wrapped(sqlite3_file* f) { return reinterpret_cast<WrappedFile*>(f); }

// The FullDiskVfs that newly opened files consult: set by the constructor (one at a time).
const FullDiskVfs* g_current = nullptr;

sqlite3_vfs* Base(sqlite3_vfs* vfs) { return static_cast<sqlite3_vfs*>(vfs->pAppData); }

int Write(sqlite3_file* f, const void* data, int amount, sqlite3_int64 offset) {
  WrappedFile* w = Wrapped(f);
  if (w->owner->full()) return SQLITE_FULL;
  return w->real()->pMethods->xWrite(w->real(), data, amount, offset);
}

int Truncate(sqlite3_file* f, sqlite3_int64 size) {
  WrappedFile* w = Wrapped(f);
  sqlite3_int64 now = 0;
  if (w->owner->full() && w->real()->pMethods->xFileSize(w->real(), &now) == SQLITE_OK &&
      size > now) {
    return SQLITE_FULL;
  }
  return w->real()->pMethods->xTruncate(w->real(), size);
}

// Every other method forwards to the real file.
int Close(sqlite3_file* f) { return Wrapped(f)->real()->pMethods->xClose(Wrapped(f)->real()); }
int Read(sqlite3_file* f, void* data, int amount, sqlite3_int64 offset) {
  return Wrapped(f)->real()->pMethods->xRead(Wrapped(f)->real(), data, amount, offset);
}
int Sync(sqlite3_file* f, int flags) {
  return Wrapped(f)->real()->pMethods->xSync(Wrapped(f)->real(), flags);
}
int FileSize(sqlite3_file* f, sqlite3_int64* size) {
  return Wrapped(f)->real()->pMethods->xFileSize(Wrapped(f)->real(), size);
}
int Lock(sqlite3_file* f, int level) {
  return Wrapped(f)->real()->pMethods->xLock(Wrapped(f)->real(), level);
}
int Unlock(sqlite3_file* f, int level) {
  return Wrapped(f)->real()->pMethods->xUnlock(Wrapped(f)->real(), level);
}
int CheckReservedLock(sqlite3_file* f, int* out) {
  return Wrapped(f)->real()->pMethods->xCheckReservedLock(Wrapped(f)->real(), out);
}
int FileControl(sqlite3_file* f, int op, void* arg) {
  return Wrapped(f)->real()->pMethods->xFileControl(Wrapped(f)->real(), op, arg);
}
int SectorSize(sqlite3_file* f) {
  return Wrapped(f)->real()->pMethods->xSectorSize(Wrapped(f)->real());
}
int DeviceCharacteristics(sqlite3_file* f) {
  return Wrapped(f)->real()->pMethods->xDeviceCharacteristics(Wrapped(f)->real());
}
int ShmMap(sqlite3_file* f, int region, int size, int extend, void volatile** out) {
  return Wrapped(f)->real()->pMethods->xShmMap(Wrapped(f)->real(), region, size, extend, out);
}
int ShmLock(sqlite3_file* f, int offset, int n, int flags) {
  return Wrapped(f)->real()->pMethods->xShmLock(Wrapped(f)->real(), offset, n, flags);
}
void ShmBarrier(sqlite3_file* f) { Wrapped(f)->real()->pMethods->xShmBarrier(Wrapped(f)->real()); }
int ShmUnmap(sqlite3_file* f, int del) {
  return Wrapped(f)->real()->pMethods->xShmUnmap(Wrapped(f)->real(), del);
}
int Fetch(sqlite3_file* f, sqlite3_int64 offset, int amount, void** out) {
  return Wrapped(f)->real()->pMethods->xFetch(Wrapped(f)->real(), offset, amount, out);
}
int Unfetch(sqlite3_file* f, sqlite3_int64 offset, void* p) {
  return Wrapped(f)->real()->pMethods->xUnfetch(Wrapped(f)->real(), offset, p);
}

int Open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  sqlite3_vfs* base = Base(vfs);
  WrappedFile* w = Wrapped(file);
  w->base.pMethods = nullptr;
  w->owner = g_current;
  int rc = base->xOpen(base, name, w->real(), flags, out_flags);
  if (rc != SQLITE_OK || w->real()->pMethods == nullptr) return rc;
  const sqlite3_io_methods& real = *w->real()->pMethods;
  w->methods = real;  // keeps iVersion and any method this wrapper does not name
  w->methods.xClose = Close;
  w->methods.xRead = Read;
  w->methods.xWrite = Write;
  w->methods.xTruncate = Truncate;
  w->methods.xSync = Sync;
  w->methods.xFileSize = FileSize;
  w->methods.xLock = Lock;
  w->methods.xUnlock = Unlock;
  w->methods.xCheckReservedLock = CheckReservedLock;
  w->methods.xFileControl = FileControl;
  w->methods.xSectorSize = SectorSize;
  w->methods.xDeviceCharacteristics = DeviceCharacteristics;
  if (real.iVersion >= 2) {
    w->methods.xShmMap = ShmMap;
    w->methods.xShmLock = ShmLock;
    w->methods.xShmBarrier = ShmBarrier;
    w->methods.xShmUnmap = ShmUnmap;
  }
  if (real.iVersion >= 3) {
    w->methods.xFetch = Fetch;
    w->methods.xUnfetch = Unfetch;
  }
  w->base.pMethods = &w->methods;
  return SQLITE_OK;
}

// The name-level calls go to the base VFS with the base VFS as their first argument.
int Delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  return Base(vfs)->xDelete(Base(vfs), name, sync_dir);
}
int Access(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
  return Base(vfs)->xAccess(Base(vfs), name, flags, out);
}
int FullPathname(sqlite3_vfs* vfs, const char* name, int size, char* out) {
  return Base(vfs)->xFullPathname(Base(vfs), name, size, out);
}
int Randomness(sqlite3_vfs* vfs, int size, char* out) {
  return Base(vfs)->xRandomness(Base(vfs), size, out);
}
int Sleep(sqlite3_vfs* vfs, int micros) { return Base(vfs)->xSleep(Base(vfs), micros); }
int CurrentTime(sqlite3_vfs* vfs, double* out) { return Base(vfs)->xCurrentTime(Base(vfs), out); }
int GetLastError(sqlite3_vfs* vfs, int size, char* out) {
  return Base(vfs)->xGetLastError(Base(vfs), size, out);
}
int CurrentTimeInt64(sqlite3_vfs* vfs, sqlite3_int64* out) {
  return Base(vfs)->xCurrentTimeInt64(Base(vfs), out);
}

}  // namespace

FullDiskVfs::FullDiskVfs() : base_(sqlite3_vfs_find(nullptr)) {
  if (base_ == nullptr || g_current != nullptr) std::abort();
  g_current = this;
  vfs_ = new sqlite3_vfs{};
  vfs_->iVersion = 2;  // no system-call overrides (version 3) and no dynamic loading
  vfs_->szOsFile = static_cast<int>(sizeof(WrappedFile)) + base_->szOsFile;
  vfs_->mxPathname = base_->mxPathname;
  vfs_->zName = "relaytap-full-disk";
  vfs_->pAppData = base_;
  vfs_->xOpen = Open;
  vfs_->xDelete = Delete;
  vfs_->xAccess = Access;
  vfs_->xFullPathname = FullPathname;
  vfs_->xRandomness = Randomness;
  vfs_->xSleep = Sleep;
  vfs_->xCurrentTime = CurrentTime;
  vfs_->xGetLastError = GetLastError;
  vfs_->xCurrentTimeInt64 = CurrentTimeInt64;
  if (sqlite3_vfs_register(vfs_, /*makeDflt=*/1) != SQLITE_OK) std::abort();
}

FullDiskVfs::~FullDiskVfs() {
  sqlite3_vfs_unregister(vfs_);
  sqlite3_vfs_register(base_, /*makeDflt=*/1);
  delete vfs_;
  g_current = nullptr;
}

}  // namespace relaytap::testing

#include "proxy/stream/tls_record_pool.h"

#include <malloc.h>
#include <openssl/crypto.h>

#include <array>
#include <cstdlib>

namespace relaytap::proxy::tls {
namespace {

struct Block {
  void* p;
  size_t usable;
};

// Trivially destructible, so that it stays usable after the thread's C++ destructors ran:
// OpenSSL frees its per-thread state later than those (pthread key destructors, atexit).
struct Pool {
  std::array<Block, kPooledPerThread> blocks;
  size_t count;
  uint64_t takes;
  bool closed;  // the thread is ending: free, do not keep
};
thread_local Pool pool{};

// Frees the thread's pooled blocks when it ends; registered by the first block kept.
struct Drain {
  ~Drain() {
    for (size_t i = 0; i < pool.count; ++i) std::free(pool.blocks[i].p);
    pool.count = 0;
    pool.closed = true;
  }
};

}  // namespace

void* TakeRecordBlock(size_t n) {
  if (n >= kPooledMin && n <= kPooledMax) {
    // Most recent first: that block is the likeliest still in this core's cache.
    for (size_t i = pool.count; i-- > 0;) {
      if (pool.blocks[i].usable < n) continue;
      void* p = pool.blocks[i].p;
      // The rest keep their order (at most kPooledPerThread entries move).
      for (size_t j = i + 1; j < pool.count; ++j) pool.blocks[j - 1] = pool.blocks[j];
      --pool.count;
      ++pool.takes;
      return p;
    }
  }
  return std::malloc(n);
}

void GiveRecordBlock(void* p) {
  if (p == nullptr) return;
  const size_t usable = malloc_usable_size(p);
  if (usable >= kPooledMin && usable <= kPooledMax + 1024 && !pool.closed &&
      pool.count < pool.blocks.size()) {
    thread_local Drain drain;  // constructed (and its destructor registered) once per thread
    (void)drain;
    pool.blocks[pool.count++] = Block{p, usable};
    return;
  }
  std::free(p);
}

namespace {

void* Allocate(size_t n, const char* /*file*/, int /*line*/) {
  if (n == 0) return nullptr;  // as OpenSSL's own CRYPTO_malloc
  return TakeRecordBlock(n);
}

void Release(void* p, const char* /*file*/, int /*line*/) { GiveRecordBlock(p); }

// As OpenSSL's own CRYPTO_realloc: no pointer is a malloc, no size a free.
void* Reallocate(void* p, size_t n, const char* file, int line) {
  if (p == nullptr) return Allocate(n, file, line);
  if (n == 0) {
    Release(p, file, line);
    return nullptr;
  }
  return std::realloc(p, n);
}

}  // namespace

bool PoolTlsRecordBuffers() { return CRYPTO_set_mem_functions(Allocate, Reallocate, Release) == 1; }

uint64_t PooledTakesOnThisThread() { return pool.takes; }
size_t PooledBlocksOnThisThread() { return pool.count; }

}  // namespace relaytap::proxy::tls

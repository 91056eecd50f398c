#pragma once
// A per-thread pool for OpenSSL's record buffers, for the long-running proxy.
//
// Each TLS stream releases its 17 KiB read and write buffers whenever they are empty
// (SSL_MODE_RELEASE_BUFFERS, so that idle sessions hold none: issue #5), which at realtime cadence
// means that OpenSSL takes and frees them around every relayed message. glibc serves blocks that
// size from its bins, not from its per-thread cache, and _int_malloc / _int_free were about 2 % of
// the proxy's CPU at cadence (BENCHMARKS.md, session 23). OpenSSL has no pool of its own since
// 1.1.0, so this routes its allocations through functions that keep the last few freed blocks of
// record-buffer size on each thread and hand them out again most recent first: the block glibc
// would have reused, still in cache, without the bin work. Every other size goes to malloc and
// free as before, and the pooled blocks are ordinary malloc blocks, so realloc and free of any
// block stay malloc's. A thread keeps at most kPooledPerThread blocks; idle sessions hold none.

#include <cstddef>
#include <cstdint>

namespace relaytap::proxy::tls {

inline constexpr size_t kPooledPerThread = 8;
// Requests of these sizes are served from the pool: OpenSSL 3's read buffer (16 KiB of plaintext,
// 256 bytes of overhead, a record header, alignment) and its write buffer (the same, plus room
// for an empty fragment) both fall in it.
inline constexpr size_t kPooledMin = 16 * 1024;
inline constexpr size_t kPooledMax = 18 * 1024;

// Installs the pool as OpenSSL's allocator. Must run before OpenSSL allocates anything: once it
// has allocated with its own allocator, OpenSSL refuses (false), and nothing changes then.
bool PoolTlsRecordBuffers();

// The pool's own take and give, for relaytap's buffers of that size (PumpBuffer): one per-thread
// cache serves OpenSSL and the pumps, so the block OpenSSL just released is the pump's next
// buffer and the other way round. They work whether or not the pool is OpenSSL's allocator.
// TakeRecordBlock: `n` in [kPooledMin, kPooledMax]; a pooled block if one fits, else malloc's.
// GiveRecordBlock: a block from TakeRecordBlock (or malloc); kept if the pool has room, else freed.
void* TakeRecordBlock(size_t n);
void GiveRecordBlock(void* p);

// Allocations served from the calling thread's pool, and blocks it holds now (tests).
uint64_t PooledTakesOnThisThread();
size_t PooledBlocksOnThisThread();

}  // namespace relaytap::proxy::tls

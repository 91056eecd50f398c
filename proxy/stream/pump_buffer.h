#pragma once
// The pumps' read buffer (kBytes), held only while bytes flow. Taking one and giving it
// back per burst would be a 16 KiB malloc and free per message at realtime cadence; instead each
// thread keeps a few released buffers for the next taker: the same per-thread cache that holds
// OpenSSL's record buffers (tls_record_pool.h), whose sizes these share. Idle sessions still hold
// none: the cache is per thread and bounded (kCachedPerThread), not per session.

#include <cstddef>

#include "proxy/stream/tls_record_pool.h"

namespace relaytap::proxy {

class PumpBuffer {
 public:
  static constexpr size_t kBytes = 16 * 1024;  // one TLS record's plaintext
  static constexpr size_t kCachedPerThread = tls::kPooledPerThread;
  static_assert(kBytes >= tls::kPooledMin && kBytes <= tls::kPooledMax);

  PumpBuffer() = default;
  ~PumpBuffer() { Release(); }
  PumpBuffer(const PumpBuffer&) = delete;
  PumpBuffer& operator=(const PumpBuffer&) = delete;

  // The buffer (kBytes), taken from this thread's cache or allocated if none is held.
  char* Get();
  // Gives the buffer back to this thread's cache (freed when the cache is full).
  void Release();
  bool held() const { return data_ != nullptr; }
  // The buffer if held, else nullptr.
  char* data() const { return data_; }

  // Blocks in the calling thread's cache (tests; OpenSSL's record buffers count too).
  static size_t CachedOnThisThread();

 private:
  char* data_ = nullptr;
};

}  // namespace relaytap::proxy

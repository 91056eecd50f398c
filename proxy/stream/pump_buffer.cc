#include "proxy/stream/pump_buffer.h"

#include <array>

namespace relaytap::proxy {
namespace {

struct ThreadCache {
  std::array<char*, PumpBuffer::kCachedPerThread> free{};
  size_t count = 0;
  ~ThreadCache() {
    for (size_t i = 0; i < count; ++i) delete[] free[i];
  }
};

ThreadCache& Cache() {
  thread_local ThreadCache cache;
  return cache;
}

}  // namespace

char* PumpBuffer::Get() {
  if (data_ != nullptr) return data_;
  ThreadCache& c = Cache();
  data_ = c.count > 0 ? c.free[--c.count] : new char[kBytes];
  return data_;
}

void PumpBuffer::Release() {
  if (data_ == nullptr) return;
  ThreadCache& c = Cache();
  if (c.count < c.free.size()) {
    c.free[c.count++] = data_;
  } else {
    delete[] data_;
  }
  data_ = nullptr;
}

size_t PumpBuffer::CachedOnThisThread() { return Cache().count; }

}  // namespace relaytap::proxy

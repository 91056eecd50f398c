#include "proxy/stream/pump_buffer.h"

#include <new>

namespace relaytap::proxy {

char* PumpBuffer::Get() {
  if (data_ == nullptr) {
    data_ = static_cast<char*>(tls::TakeRecordBlock(kBytes));
    if (data_ == nullptr) throw std::bad_alloc();  // as the new[] it replaces
  }
  return data_;
}

void PumpBuffer::Release() {
  if (data_ == nullptr) return;
  tls::GiveRecordBlock(data_);
  data_ = nullptr;
}

size_t PumpBuffer::CachedOnThisThread() { return tls::PooledBlocksOnThisThread(); }

}  // namespace relaytap::proxy

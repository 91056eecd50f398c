#pragma once
// Closes a relay that carried no byte either way for a while (blind tunnels: an idle tunnel must
// not hold two descriptors forever). The relay's policies stamp each chunk (ActivityRelay); a
// timer wakes when the limit could have passed since the last stamp, and closes both streams if
// it has. A quiet direction alone does not count as idle while the other carries bytes.
//
// Thread rule: one io thread (the connection's), like the pumps.

#include <chrono>
#include <string_view>

#include "proxy/relay/pump.h"
#include "proxy/stream/byte_stream.h"
#include "proxy/stream/net.h"

namespace relaytap::proxy {

class IdleWatch {
 public:
  using Clock = std::chrono::steady_clock;
  IdleWatch(Executor ex, std::chrono::milliseconds limit);

  void Touch() { last_ = Clock::now(); }
  // Waits until the relay was idle for the limit (then closes `a` and `b` and returns true) or
  // Stop() was called (returns false).
  Awaitable<bool> Run(ByteStream& a, ByteStream& b);
  void Stop();

 private:
  Timer timer_;
  std::chrono::milliseconds limit_;
  Clock::time_point last_;
  bool stopped_ = false;
};

// The plain relay (bytes written exactly as read), stamping `watch` with every chunk.
class ActivityRelay final : public RelayPolicy {
 public:
  ActivityRelay(ByteStream& to, IdleWatch& watch) : plain_(to, nullptr), watch_(watch) {}
  Awaitable<error_code> Relay(std::string_view chunk, uint64_t& bytes) override {
    watch_.Touch();
    return plain_.Relay(chunk, bytes);
  }

 private:
  PlainRelay plain_;
  IdleWatch& watch_;
};

}  // namespace relaytap::proxy

#pragma once
// Internal to the replay server: one connection's recorded answers. Coroutines on the
// connection's strand; `ctx` outlives every connection (owned by the server).

#include <boost/beast/http.hpp>
#include <chrono>

#include "tools/replay/catalog.h"
#include "tools/replay/recording.h"
#include "tools/stream/erased_stream.h"
#include "tools/stream/strand_net.h"

namespace relaytap::tools::replay {

// How long one write of a recorded answer may take before the connection is dropped.
inline constexpr auto kWriteTimeout = std::chrono::seconds(30);

struct ServeContext {
  Catalog* catalog = nullptr;
  double speed = 1.0;
  bool strict = false;
};

// Waits `recorded_us` / speed (nothing when speed is 0). False if the wait was cancelled.
net::awaitable<bool> ReplayDelay(int64_t recorded_us, double speed);

// Accepts the upgrade with the recorded headers and plays the session to its recorded end.
net::awaitable<void> ServeSession(ErasedStream& stream, http::request<http::empty_body> upgrade,
                                  const RecordedSession& session, const ServeContext& ctx);

// Sends the recorded answer of `exchange` (status, headers, body shape or SSE events). Returns
// whether the connection may carry another request.
net::awaitable<bool> ServeExchange(ErasedStream& stream, const ReplayExchange& exchange,
                                   bool keep_alive, const ServeContext& ctx);

void ResetSocket(TcpStream::socket_type& socket);

}  // namespace relaytap::tools::replay

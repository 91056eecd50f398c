#pragma once
// What one app connection learned while it ran: bytes, timings, TLS facts and how it ended. Filled
// by the session, the exchange loop and the WebSocket hand-off; turned into the close log line and
// the recorder's ConnectionClosed when the connection ends.

#include <cstdint>
#include <optional>
#include <string>

#include "recorder/observation.h"

namespace relaytap::proxy {

struct ConnectionFacts {
  uint64_t bytes_up = 0;    // app -> upstream
  uint64_t bytes_down = 0;  // upstream -> app
  uint64_t exchanges = 0;
  bool websocket = false;
  std::string upstream_address;
  // The upstream proxy the connection dialled through (HOST:PORT, never credentials), its status
  // to the CONNECT (0: none) and the CONNECT's time.
  std::string upstream_proxy;
  int proxy_status = 0;
  int64_t proxy_connect_us = -1;
  // How the connection ended, set where it ends. Until then: the app closed.
  recorder::EndFacts end{.reason = recorder::EndReason::kAppClosed};
  // The first successful dial (timings in microseconds).
  bool dialled = false;
  int64_t dns_us = -1, connect_us = -1, tls_us = -1;
  std::optional<recorder::TlsFacts> upstream_tls;
  int64_t app_tls_us = -1;
  std::optional<recorder::TlsFacts> app_tls;

  void EndWith(recorder::EndReason reason) { end = recorder::EndFacts{.reason = reason}; }
};

}  // namespace relaytap::proxy

#pragma once
// Ports for what a test cannot bind itself: a real proxy started from a config file, or a port
// that must refuse connections.

#include <cstdint>

namespace relaytap::testing {

// A 127.0.0.1 port nothing listens on at the time of the call. It lies below the kernel's
// ephemeral range, so that no port-0 listener or outgoing connection of a test running beside this
// one can take it before the caller uses it.
uint16_t FreeLoopbackPort();

}  // namespace relaytap::testing

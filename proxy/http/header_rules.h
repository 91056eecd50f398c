#pragma once
// The only edits the relay makes to a message header, done on the raw header bytes so everything
// else (field order, case, whitespace, obs-fold) reaches the other side byte-identical:
//  - drops Proxy-* fields (Proxy-Connection, Proxy-Authorization, ...) and Keep-Alive;
//  - drops fields that the Connection header nominates as hop-by-hop (except the standard
//    tokens close / keep-alive / upgrade, whose meaning holds on both hops);
//  - for requests, optionally replaces the request target (absolute-form -> origin-form).
// Connection, Upgrade and Transfer-Encoding are kept: bodies are relayed in their original
// framing, and a WebSocket upgrade must reach upstream intact.

#include <string>
#include <string_view>
#include <vector>

namespace relaytap::proxy::http_relay {

// `raw` is a complete header block (start line through the empty line). `new_target`, when not
// empty, replaces the request target in the request line. Returns the block to forward.
std::string RewriteHeaderBlock(std::string_view raw, std::string_view new_target = {});

// Splits an absolute-form target "http://host[:port]/path?q" into host, port (default 80) and
// origin-form "/path?q" (at least "/"). Returns false if it is not absolute-form http.
bool SplitAbsoluteHttpTarget(std::string_view target, std::string* host, uint16_t* port,
                             std::string* origin_form);

}  // namespace relaytap::proxy::http_relay

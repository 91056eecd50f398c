#pragma once
// Builders of realistic observations and a small SQL helper for the recorder tests.

#include <string>
#include <vector>

#include "recorder/observation.h"

namespace relaytap::recorder::testing {

// A fresh directory under ::testing::TempDir() (tests/testing/temp_dir.h).
std::string MakeTempDir(const std::string& name);

// Runs `sql` on the file (read-only connection) and returns rows as "a|b|c" strings.
std::vector<std::string> Query(const std::string& db_path, const std::string& sql);

std::string Base64(size_t decoded_bytes, char seed);

// The whole file's bytes ("" if it cannot be read).
std::string ReadAll(const std::string& path);

Exchange RealtimeUpgrade(uint64_t conn, int64_t t0_us, const std::string& api_key,
                         const std::string& query_key, const std::string& subprotocol_key);
WsMessage Text(uint64_t conn, uint64_t seq, WsDirection dir, int64_t at_us, std::string payload);
WsSessionClosed Closed(uint64_t conn, int64_t at_us);
// A close frame (opcode 8) of session `conn` with `code` and `reason`.
WsMessage CloseFrame(uint64_t conn, uint64_t seq, WsDirection dir, int64_t at_us, uint16_t code,
                     std::string reason);

// A distinct ~1.5 KB text delta (`i` makes every fingerprint different; not an audio kind, so
// every one is a row of its own): many fill a file.
std::string TextDeltaEvent(int i);

// How often `needle` occurs in `haystack` (log lines in a captured stderr).
size_t CountOf(const std::string& haystack, const std::string& needle);

// An unsigned JWT ("alg":"none") whose payload is `payload_json`: for tests of the claims relaytap
// reads. Never a real credential.
std::string UnsignedJwt(const std::string& payload_json);

}  // namespace relaytap::recorder::testing

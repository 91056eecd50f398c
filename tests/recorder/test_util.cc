#include "tests/recorder/test_util.h"

#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace relaytap::recorder::testing {

std::string MakeTempDir(const std::string& name) {
  return relaytap::testing::FreshTempDir(name, "rt_").string();
}

std::vector<std::string> Query(const std::string& db_path, const std::string& sql) {
  std::vector<std::string> rows;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return {"<open failed>"};
  }
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    rows.push_back(std::string("<error> ") + sqlite3_errmsg(db));
    sqlite3_close(db);
    return rows;
  }
  while (sqlite3_step(st) == SQLITE_ROW) {
    std::string row;
    for (int i = 0; i < sqlite3_column_count(st); ++i) {
      if (i) row += "|";
      const unsigned char* t = sqlite3_column_text(st, i);
      row += t ? reinterpret_cast<const char*>(t) : "NULL";
    }
    rows.push_back(row);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return rows;
}

std::string Base64(size_t decoded_bytes, char seed) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t chars = (decoded_bytes + 2) / 3 * 4;
  out.reserve(chars);
  for (size_t i = 0; i < chars; ++i) out.push_back(kAlphabet[(i * 7 + seed) % 64]);
  return out;
}

Exchange RealtimeUpgrade(uint64_t conn, int64_t t0_us, const std::string& api_key,
                         const std::string& query_key, const std::string& subprotocol_key) {
  Exchange ex;
  ex.connection_id = conn;
  ex.sequence = 1;
  ex.method = "GET";
  ex.host = "contoso-eus2.openai.azure.com";
  ex.target =
      "/openai/realtime?api-version=2025-04-01-preview&deployment=gpt-4o-realtime&api-key=" +
      query_key;
  ex.request_headers = {
      {"Host", "contoso-eus2.openai.azure.com"},
      {"Upgrade", "websocket"},
      {"api-key", api_key},
      {"Sec-WebSocket-Protocol", "realtime, openai-insecure-api-key." + subprotocol_key},
      {"User-Agent", "OpenAI/Python 1.99.0"},
      {"x-ms-client-request-id", "11111111-2222-3333-4444-555555555555"}};
  ex.status = 101;
  ex.response_headers = {{"apim-request-id", "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"},
                         {"x-request-id", "req-7f3e"},
                         {"x-ms-region", "East US 2"},
                         {"Date", "Tue, 15 Jul 2025 08:00:01 GMT"},
                         {"Sec-WebSocket-Protocol", "realtime"}};
  ex.request_start_us = t0_us;
  ex.response_headers_us = t0_us + 80'000;
  ex.end_us = t0_us + 80'000;
  ex.websocket_upgrade = true;
  ex.switched = true;
  ex.end.reason = EndReason::kSwitched;
  return ex;
}

WsMessage Text(uint64_t conn, uint64_t seq, WsDirection dir, int64_t at_us, std::string payload) {
  WsMessage m;
  m.connection_id = conn;
  m.exchange_sequence = 1;
  m.sequence = seq;
  m.direction = dir;
  m.opcode = 1;
  m.first_frame_us = at_us;
  m.last_frame_us = at_us;
  m.payload_bytes = payload.size();
  m.wire_bytes = payload.size() + 8;
  m.frame_count = 1;
  m.payload = std::move(payload);
  return m;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

WsSessionClosed Closed(uint64_t conn, int64_t at_us) {
  WsSessionClosed c;
  c.connection_id = conn;
  c.exchange_sequence = 1;
  c.close_us = at_us;
  c.subprotocol = "realtime";
  c.end = EndFacts{.reason = EndReason::kRelayEnded, .up_ended_first = true, .websocket = true};
  return c;
}

WsMessage CloseFrame(uint64_t conn, uint64_t seq, WsDirection dir, int64_t at_us, uint16_t code,
                     std::string reason) {
  WsMessage m;
  m.connection_id = conn;
  m.exchange_sequence = 1;
  m.sequence = seq;
  m.direction = dir;
  m.opcode = 8;
  m.first_frame_us = m.last_frame_us = at_us;
  m.payload_bytes = 2 + reason.size();
  m.wire_bytes = m.payload_bytes + 6;
  m.frame_count = 1;
  m.close_code = code;
  m.close_reason = std::move(reason);
  return m;
}

std::string UnsignedJwt(const std::string& payload_json) {
  static constexpr char kB64Url[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string b64;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : payload_json) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      b64.push_back(kB64Url[(acc >> bits) & 63]);
    }
  }
  if (bits > 0) b64.push_back(kB64Url[(acc << (6 - bits)) & 63]);
  return "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + b64 + ".c2ln";
}

std::string TextDeltaEvent(int i) {
  return StrCat(R"({"type":"response.output_text.delta","event_id":"event_)", i,
                R"(","response_id":"resp_1","item_id":"item_1","delta":")",
                std::string(1500, static_cast<char>('a' + i % 26)), i, "\"}");
}

size_t CountOf(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

}  // namespace relaytap::recorder::testing

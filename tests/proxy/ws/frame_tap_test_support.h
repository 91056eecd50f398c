#pragma once
// Shared by the FrameTap tests: a small RFC 6455 / RFC 7692 encoder for realistic traffic, fake
// realtime audio events, and an observer that records what the tap delivered.

#include <zlib.h>

#include <array>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/ws/frame_tap.h"

namespace relaytap::proxy::ws::frame_tap_testing {

inline constexpr std::array<uint8_t, 4> kMaskKey = {0x37, 0xfa, 0x21, 0x3d};

// ---- A small RFC 6455 / RFC 7692 encoder for building realistic traffic. ----

struct FrameOptions {
  bool fin = true;
  bool rsv1 = false;
  bool rsv2 = false;
  bool rsv3 = false;
  bool mask = false;
  int length_bits = 0;  // 0: minimal; otherwise force 7, 16 or 64
};

inline std::string EncodeFrame(uint8_t opcode, std::string_view payload, FrameOptions o = {}) {
  std::string out;
  out.push_back(static_cast<char>((o.fin ? 0x80 : 0) | (o.rsv1 ? 0x40 : 0) | (o.rsv2 ? 0x20 : 0) |
                                  (o.rsv3 ? 0x10 : 0) | opcode));
  const uint64_t len = payload.size();
  int bits = o.length_bits;
  if (bits == 0) bits = len <= 125 ? 7 : len <= 0xffff ? 16 : 64;
  const char mask_bit = o.mask ? static_cast<char>(0x80) : 0;
  if (bits == 7) {
    out.push_back(static_cast<char>(mask_bit | static_cast<char>(len)));
  } else if (bits == 16) {
    out.push_back(static_cast<char>(mask_bit | 126));
    for (int shift = 8; shift >= 0; shift -= 8) out.push_back(static_cast<char>(len >> shift));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(len >> shift));
  }
  if (!o.mask) return out.append(payload);
  out.append(reinterpret_cast<const char*>(kMaskKey.data()), kMaskKey.size());
  for (size_t i = 0; i < payload.size(); ++i) {
    out.push_back(static_cast<char>(payload[i] ^ static_cast<char>(kMaskKey[i % 4])));
  }
  return out;
}

// Splits `payload` into `fragments` frames: `opcode` first, continuations after.
inline std::string EncodeFragmented(uint8_t opcode, std::string_view payload, size_t fragments,
                                    bool mask, bool rsv1 = false) {
  std::string out;
  const size_t step = (payload.size() + fragments - 1) / fragments;
  for (size_t i = 0; i < fragments; ++i) {
    const size_t begin = std::min(payload.size(), i * step);
    const size_t end = i + 1 == fragments ? payload.size() : std::min(payload.size(), begin + step);
    out += EncodeFrame(i == 0 ? opcode : 0x0, payload.substr(begin, end - begin),
                       {.fin = i + 1 == fragments, .rsv1 = rsv1 && i == 0, .mask = mask});
  }
  return out;
}

class Deflater {
 public:
  Deflater(int window_bits, bool no_context_takeover) : no_context_takeover_(no_context_takeover) {
    EXPECT_EQ(
        deflateInit2(&zs_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -window_bits, 8, Z_DEFAULT_STRATEGY),
        Z_OK);
  }
  ~Deflater() { deflateEnd(&zs_); }

  // Compressed message body as sent on the wire (trailing 00 00 ff ff removed).
  std::string Compress(std::string_view message) {
    std::string out;
    zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(message.data()));
    zs_.avail_in = static_cast<uInt>(message.size());
    std::array<Bytef, 16384> chunk;
    do {
      zs_.next_out = chunk.data();
      zs_.avail_out = chunk.size();
      EXPECT_NE(deflate(&zs_, Z_SYNC_FLUSH), Z_STREAM_ERROR);
      out.append(reinterpret_cast<const char*>(chunk.data()), chunk.size() - zs_.avail_out);
    } while (zs_.avail_out == 0);
    EXPECT_EQ(out.substr(out.size() - 4), std::string("\x00\x00\xff\xff", 4));
    out.resize(out.size() - 4);
    if (no_context_takeover_) deflateReset(&zs_);
    return out;
  }

 private:
  z_stream zs_{};
  bool no_context_takeover_;
};

inline std::string Base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(v >> s) & 63]);
  }
  if (i < in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    if (i + 1 < in.size()) v |= uint8_t(in[i + 1]) << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

// PCM16-like audio: a slow wave plus noise, so it compresses a little, like real audio.
inline std::string FakeAudio(size_t bytes, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(bytes, '\0');
  for (size_t i = 0; i < bytes; ++i) {
    out[i] = static_cast<char>((i % 2 == 0) ? (i / 8) % 64 + rng() % 8 : rng() % 4);
  }
  return out;
}

inline std::string AudioAppendEvent(uint32_t seed) {
  return R"({"type":"input_audio_buffer.append","audio":")" + Base64(FakeAudio(6000, seed)) +
         R"("})";
}

inline std::string AudioDeltaEvent(uint32_t seed) {
  return R"({"type":"response.output_audio.delta","event_id":"event_)" + std::to_string(seed) +
         R"(","response_id":"resp_1","item_id":"item_1","output_index":0,"content_index":0,)"
         R"("delta":")" +
         Base64(FakeAudio(4800, seed)) + R"("})";
}

// ---- Observer that records everything. ----

struct Recorder : MessageObserver {
  void OnMessage(Message&& message) override { messages.push_back(std::move(message)); }
  void OnTapError(Direction direction, std::string_view reason) override {
    errors.push_back(std::string(DirectionName(direction)) + ": " + std::string(reason));
  }
  std::vector<Message> messages;
  std::vector<std::string> errors;
};

inline std::string Describe(const Message& m) {
  std::string s = std::string(DirectionName(m.direction)) + " " + std::string(OpcodeName(m.opcode));
  s += " t=" + std::to_string(m.first_frame_us) + ".." + std::to_string(m.last_frame_us);
  s += " wire=" + std::to_string(m.wire_bytes) + " frames=" + std::to_string(m.frame_count);
  s += m.compressed ? " compressed" : "";
  s += m.truncated() ? " truncated" : "";
  s += " len=" + std::to_string(m.payload.size());
  s += " hash=" + std::to_string(std::hash<std::string>{}(m.payload));
  if (m.close_code) s += " close=" + std::to_string(*m.close_code) + " '" + m.close_reason + "'";
  return s;
}

inline std::vector<std::string> DescribeAll(const std::vector<Message>& messages) {
  std::vector<std::string> out;
  for (const Message& m : messages) out.push_back(Describe(m));
  return out;
}

inline PerMessageDeflate Deflate(int client_bits = 15, int server_bits = 15,
                                 bool client_nct = false, bool server_nct = false) {
  return {.enabled = true,
          .server_max_window_bits = server_bits,
          .client_max_window_bits = client_bits,
          .server_no_context_takeover = server_nct,
          .client_no_context_takeover = client_nct};
}

}  // namespace relaytap::proxy::ws::frame_tap_testing

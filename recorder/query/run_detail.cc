#include "recorder/query/run_detail.h"

#include <algorithm>

namespace relaytap::recorder::query {
namespace {

constexpr char kDetailVersion = 1;

uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

bool GetVarint(std::string_view& in, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    auto byte = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

// Each member is a header byte, then only what changed since the previous member:
//   header bits 0-3: the inter-arrival time, the payload size, the framing overhead (wire bytes
//   minus payload bytes) and the audio bytes changed; bits 4-7: the seq step, 15 = a varint
//   follows. Then, in that order, the seq step (if 15) and a zigzag varint of each change.
// At a steady cadence with steady sizes a member costs one byte.
enum Changed : uint8_t { kDt = 1, kPayload = 2, kOverhead = 4, kAudio = 8 };
constexpr uint64_t kSeqEscape = 15;

int64_t Overhead(const RunMember& m) { return m.wire_bytes - m.payload_bytes; }

}  // namespace

void EncodeRunMember(std::string& blob, const RunMember& prev, int64_t& prev_dt,
                     const RunMember& m) {
  if (blob.empty()) blob.push_back(kDetailVersion);
  const int64_t dt = m.first_us - prev.first_us;
  const int64_t changes[4] = {dt - prev_dt, m.payload_bytes - prev.payload_bytes,
                              Overhead(m) - Overhead(prev), m.audio_bytes - prev.audio_bytes};
  const uint64_t step = m.seq - prev.seq;
  uint8_t header = static_cast<uint8_t>(std::min(step, kSeqEscape) << 4);
  for (int bit = 0; bit < 4; ++bit) {
    if (changes[bit] != 0) header |= static_cast<uint8_t>(1 << bit);
  }
  blob.push_back(static_cast<char>(header));
  if (step >= kSeqEscape) PutVarint(blob, step);
  for (int64_t change : changes) {
    if (change != 0) PutVarint(blob, ZigZag(change));
  }
  prev_dt = dt;
}

absl::StatusOr<std::vector<RunMember>> DecodeRunDetail(std::string_view blob, uint64_t first_seq,
                                                       int64_t first_us) {
  if (blob.empty() || blob.front() != kDetailVersion) {
    return absl::DataLossError("run_detail: unknown format");
  }
  blob.remove_prefix(1);
  std::vector<RunMember> out;
  RunMember prev{first_seq, first_us, 0, 0, 0};
  int64_t prev_dt = 0;
  while (!blob.empty()) {
    const auto header = static_cast<uint8_t>(blob.front());
    blob.remove_prefix(1);
    uint64_t step = header >> 4;
    if (step == kSeqEscape && !GetVarint(blob, step)) {
      return absl::DataLossError("run_detail: truncated member");
    }
    int64_t changes[4] = {0, 0, 0, 0};
    for (int bit = 0; bit < 4; ++bit) {
      uint64_t v = 0;
      if ((header & (1 << bit)) == 0) continue;
      if (!GetVarint(blob, v)) return absl::DataLossError("run_detail: truncated member");
      changes[bit] = UnZigZag(v);
    }
    RunMember m;
    m.seq = prev.seq + step;
    prev_dt += changes[0];
    m.first_us = prev.first_us + prev_dt;
    m.payload_bytes = prev.payload_bytes + changes[1];
    m.wire_bytes = m.payload_bytes + Overhead(prev) + changes[2];
    m.audio_bytes = prev.audio_bytes + changes[3];
    out.push_back(m);
    prev = m;
  }
  return out;
}

}  // namespace relaytap::recorder::query

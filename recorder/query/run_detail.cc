#include "recorder/query/run_detail.h"

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

// Each member is one varint, then what else changed since the previous member:
//   bits 0-1: the seq step 1..3 (0: a varint with the step follows);
//   bit 2: a sizes byte follows (bit 0 payload, bit 1 framing overhead = wire bytes minus payload
//          bytes, bit 2 audio bytes changed), then a zigzag varint of each change in that order;
//   bits 3+: zigzag(this inter-arrival time minus the previous one).
// A member at a steady cadence with steady sizes costs one byte; arrival jitter up to about
// +-0.5 ms costs one more.
constexpr uint64_t kStepBits = 3;
constexpr uint64_t kSizesFollow = 4;
constexpr int kSizeFields = 3;

int64_t Overhead(const RunMember& m) { return m.wire_bytes - m.payload_bytes; }

}  // namespace

void EncodeRunMember(std::string& blob, const RunMember& prev, int64_t& prev_dt,
                     const RunMember& m) {
  if (blob.empty()) blob.push_back(kDetailVersion);
  const int64_t dt = m.first_us - prev.first_us;
  const int64_t sizes[kSizeFields] = {m.payload_bytes - prev.payload_bytes,
                                      Overhead(m) - Overhead(prev),
                                      m.audio_bytes - prev.audio_bytes};
  uint8_t changed = 0;
  for (int f = 0; f < kSizeFields; ++f) {
    if (sizes[f] != 0) changed |= static_cast<uint8_t>(1 << f);
  }
  const uint64_t step = m.seq - prev.seq;
  const uint64_t short_step = step >= 1 && step <= kStepBits ? step : 0;
  PutVarint(blob, (ZigZag(dt - prev_dt) << 3) | (changed ? kSizesFollow : 0) | short_step);
  if (short_step == 0) PutVarint(blob, step);
  if (changed) blob.push_back(static_cast<char>(changed));
  for (int64_t change : sizes) {
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
  const auto truncated = [] { return absl::DataLossError("run_detail: truncated member"); };
  std::vector<RunMember> out;
  RunMember prev{first_seq, first_us, 0, 0, 0};
  int64_t prev_dt = 0;
  while (!blob.empty()) {
    uint64_t head = 0, step = 0;
    if (!GetVarint(blob, head)) return truncated();
    step = head & kStepBits;
    if (step == 0 && !GetVarint(blob, step)) return truncated();
    int64_t sizes[kSizeFields] = {0, 0, 0};
    if (head & kSizesFollow) {
      if (blob.empty()) return truncated();
      const auto changed = static_cast<uint8_t>(blob.front());
      blob.remove_prefix(1);
      for (int f = 0; f < kSizeFields; ++f) {
        uint64_t v = 0;
        if ((changed & (1 << f)) == 0) continue;
        if (!GetVarint(blob, v)) return truncated();
        sizes[f] = UnZigZag(v);
      }
    }
    RunMember m;
    m.seq = prev.seq + step;
    prev_dt += UnZigZag(head >> 3);
    m.first_us = prev.first_us + prev_dt;
    m.payload_bytes = prev.payload_bytes + sizes[0];
    m.wire_bytes = m.payload_bytes + Overhead(prev) + sizes[1];
    m.audio_bytes = prev.audio_bytes + sizes[2];
    out.push_back(m);
    prev = m;
  }
  return out;
}

}  // namespace relaytap::recorder::query

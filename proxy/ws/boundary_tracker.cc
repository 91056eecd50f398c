#include "proxy/ws/boundary_tracker.h"

#include <algorithm>
#include <limits>

namespace relaytap::proxy::ws {
namespace {

size_t HeaderLength(uint8_t b1) {
  const uint8_t len7 = b1 & 0x7f;
  const size_t ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
  return 2 + ext + ((b1 & 0x80) != 0 ? 4 : 0);
}

bool KnownOpcode(uint8_t op) { return op <= 0x2 || (op >= 0x8 && op <= 0xA); }

}  // namespace

size_t ParseFrameHeader(std::span<const uint8_t> bytes, FrameHeader* out) {
  if (bytes.size() < 2) return 0;
  const size_t need = HeaderLength(bytes[1]);
  if (bytes.size() < need) return 0;
  FrameHeader h;
  h.fin = (bytes[0] & 0x80) != 0;
  h.rsv1 = (bytes[0] & 0x40) != 0;
  h.opcode = bytes[0] & 0x0f;
  h.masked = (bytes[1] & 0x80) != 0;
  const uint8_t len7 = bytes[1] & 0x7f;
  size_t pos = 2;
  if (len7 == 126) {
    h.payload_len = (uint64_t{bytes[2]} << 8) | bytes[3];
    pos = 4;
  } else if (len7 == 127) {
    for (int i = 0; i < 8; ++i) h.payload_len = (h.payload_len << 8) | bytes[2 + i];
    if ((h.payload_len >> 63) != 0) return std::numeric_limits<size_t>::max();
    pos = 10;
  } else {
    h.payload_len = len7;
  }
  if (h.masked) std::copy_n(bytes.begin() + pos, 4, h.mask);
  h.header_len = need;
  *out = h;
  return need;
}

size_t BoundaryTracker::ConsumeHeader(std::span<const uint8_t> bytes) {
  size_t used = 0;
  while (used < bytes.size() && header_have_ < header_need_) {
    header_[header_have_++] = bytes[used++];
    if (header_have_ == 2) header_need_ = HeaderLength(header_[1]);
  }
  if (used > 0) at_boundary_ = false;  // inside a frame header now
  if (header_have_ == header_need_) HeaderDone();
  return used;
}

void BoundaryTracker::HeaderDone() {
  FrameHeader h;
  if (ParseFrameHeader(std::span<const uint8_t>(header_, header_have_), &h) != header_have_ ||
      !KnownOpcode(h.opcode)) {
    failed_ = true;
    return;
  }
  const bool control = h.opcode >= 0x8;
  if (control && (!h.fin || h.payload_len > 125)) {
    failed_ = true;
    return;
  }
  fin_ = h.fin;
  opcode_ = h.opcode;
  payload_left_ = h.payload_len;
  in_payload_ = true;
  header_have_ = 0;
  header_need_ = 2;
  at_boundary_ = false;
}

size_t BoundaryTracker::ConsumeToBoundary(std::span<const uint8_t> bytes) {
  size_t used = 0;
  while (used < bytes.size() && !failed_) {
    if (!in_payload_) {
      used += ConsumeHeader(bytes.subspan(used));
      if (failed_ || !in_payload_) continue;
    }
    const uint64_t take = std::min<uint64_t>(payload_left_, bytes.size() - used);
    used += take;
    payload_left_ -= take;
    if (payload_left_ > 0) continue;
    in_payload_ = false;
    if (opcode_ >= 0x8) {
      // A control frame: a boundary only when no fragmented message is open around it.
      at_boundary_ = !in_fragmented_;
    } else {
      in_fragmented_ = !fin_;
      at_boundary_ = fin_;
      if (fin_) ++messages_;
    }
    if (at_boundary_) break;
  }
  if (failed_) at_boundary_ = false;
  return failed_ ? bytes.size() : used;
}

void BoundaryTracker::Consume(std::span<const uint8_t> bytes) {
  size_t used = 0;
  // Each round consumes at least one byte, so this ends within bytes.size() rounds.
  while (used < bytes.size()) used += ConsumeToBoundary(bytes.subspan(used));
}

}  // namespace relaytap::proxy::ws

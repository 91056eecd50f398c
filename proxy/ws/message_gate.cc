#include "proxy/ws/message_gate.h"

#include <zlib.h>

#include <algorithm>
#include <limits>

#include "proxy/ws/extensions.h"

namespace relaytap::proxy::ws {
namespace {}  // namespace

void MessageGate::Emit(std::string bytes, bool candidate, std::vector<GateSegment>* out) {
  if (bytes.empty()) return;
  if (!candidate && !out->empty() && !out->back().candidate) {
    out->back().bytes += bytes;
    return;
  }
  GateSegment seg;
  seg.candidate = candidate;
  seg.bytes = std::move(bytes);
  if (candidate) seg.header = header_;
  out->push_back(std::move(seg));
}

void MessageGate::StartFrame(std::vector<GateSegment>* out) {
  const bool data = header_.opcode < 0x8;
  candidate_ = header_.fin && header_.opcode == 0x1 && !in_fragmented_ &&
               header_.payload_len <= max_candidate_bytes_;
  if (data) in_fragmented_ = !header_.fin;
  if (!candidate_) {
    Emit(std::move(pending_), false, out);
    pending_.clear();
    passthrough_left_ = header_.payload_len;
  }
}

void MessageGate::Feed(std::span<const uint8_t> bytes, std::vector<GateSegment>* out) {
  const char* data = reinterpret_cast<const char*>(bytes.data());
  size_t pos = 0;
  while (pos < bytes.size() || (have_header_ && candidate_ &&
                                pending_.size() == header_.header_len + header_.payload_len)) {
    if (failed_) {
      Emit(std::string(data + pos, bytes.size() - pos), false, out);
      return;
    }
    if (!have_header_) {
      pending_.push_back(data[pos++]);
      const size_t n =
          ParseFrameHeader(std::span<const uint8_t>(
                               reinterpret_cast<const uint8_t*>(pending_.data()), pending_.size()),
                           &header_);
      if (n == std::numeric_limits<size_t>::max()) {
        failed_ = true;
        Emit(std::move(pending_), false, out);
        pending_.clear();
        continue;
      }
      if (n == 0) continue;
      have_header_ = true;
      StartFrame(out);
      continue;
    }
    if (candidate_) {
      const size_t want = header_.header_len + header_.payload_len - pending_.size();
      const size_t take = std::min(want, bytes.size() - pos);
      pending_.append(data + pos, take);
      pos += take;
      if (take == want) {
        Emit(std::move(pending_), true, out);
        pending_.clear();
        have_header_ = false;
      }
      continue;
    }
    const uint64_t take = std::min<uint64_t>(passthrough_left_, bytes.size() - pos);
    Emit(std::string(data + pos, take), false, out);
    pos += take;
    passthrough_left_ -= take;
    if (passthrough_left_ == 0) have_header_ = false;
  }
}

absl::StatusOr<std::string> CandidatePayload(const GateSegment& frame, size_t max_bytes) {
  const FrameHeader& h = frame.header;
  std::string payload = frame.bytes.substr(h.header_len);
  if (h.masked) {
    for (size_t i = 0; i < payload.size(); ++i) payload[i] ^= static_cast<char>(h.mask[i % 4]);
  }
  if (!h.rsv1) return payload;
  payload.append(reinterpret_cast<const char*>(kDeflateTail), sizeof(kDeflateTail));
  z_stream zs{};
  if (inflateInit2(&zs, -15) != Z_OK) return absl::InternalError("inflateInit2 failed");
  std::string out;
  zs.next_in = reinterpret_cast<Bytef*>(payload.data());
  zs.avail_in = static_cast<uInt>(payload.size());
  char buf[16 * 1024];
  int rc = Z_OK;
  // Each round either produces output or consumes all input; bounded by max_bytes.
  while (zs.avail_in > 0 && out.size() <= max_bytes) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_SYNC_FLUSH);
    out.append(buf, sizeof(buf) - zs.avail_out);
    if (rc != Z_OK && rc != Z_BUF_ERROR) break;
    if (rc == Z_BUF_ERROR && zs.avail_out != 0) break;
  }
  inflateEnd(&zs);
  if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
    return absl::InvalidArgumentError("cannot inflate the message");
  }
  if (out.size() > max_bytes) return absl::InvalidArgumentError("message too large");
  return out;
}

}  // namespace relaytap::proxy::ws

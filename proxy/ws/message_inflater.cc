#include "proxy/ws/message_inflater.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "base/str_cat.h"
#include "proxy/ws/extensions.h"
#include "proxy/ws/unmask.h"

namespace relaytap::proxy::ws {
namespace {

constexpr size_t kChunkBytes = 64 * 1024;
// Inflating with the largest window is valid whatever window the sender compressed with, and it
// sidesteps zlib's lack of support for 8-bit raw windows.
constexpr int kInflateWindowBits = 15;
constexpr size_t kMaxWindowBytes = size_t{1} << kInflateWindowBits;
// zlib counts input in uInt; feed huge spans in slices well below that.
constexpr size_t kMaxInflateSlice = size_t{1} << 30;

}  // namespace

MessageInflater::MessageInflater(bool no_context_takeover)
    : no_context_takeover_(no_context_takeover) {}

MessageInflater::~MessageInflater() {
  if (zlib_ready_) inflateEnd(zs_.get());
}

absl::StatusOr<std::unique_ptr<MessageInflater>> MessageInflater::Create(bool no_context_takeover) {
  std::unique_ptr<MessageInflater> inf(new MessageInflater(no_context_takeover));
  inf->zs_ = std::make_unique<z_stream>();
  if (inflateInit2(inf->zs_.get(), -kInflateWindowBits) != Z_OK) {
    return absl::InternalError("inflateInit2 failed");
  }
  inf->zlib_ready_ = true;
  inf->scratch_ = std::make_unique<uint8_t[]>(kChunkBytes);
  inf->inflated_ = std::make_unique<uint8_t[]>(kChunkBytes);
  return inf;
}

void MessageInflater::StartMessage() {
  inflating_ = true;
  stream_ended_ = false;
}

absl::Status MessageInflater::Feed(const uint8_t* data, size_t n,
                                   const std::array<uint8_t, 4>* mask, uint64_t offset,
                                   Output out) {
  if (!active()) return absl::OkStatus();
  if (mask == nullptr) return Inflate(data, n, out);
  for (size_t done = 0; done < n && active();) {
    const size_t chunk = std::min(kChunkBytes, n - done);
    std::memcpy(scratch_.get(), data + done, chunk);
    Unmask(scratch_.get(), chunk, *mask, offset);
    if (absl::Status s = Inflate(scratch_.get(), chunk, out); !s.ok()) return s;
    done += chunk;
    offset += chunk;
  }
  return absl::OkStatus();
}

// Inflates `n` bytes, handing each output chunk to `out`. Once `out` wants no more, inflation
// continues only with context takeover, so that the shared window stays in sync for later
// messages.
absl::Status MessageInflater::Inflate(const uint8_t* data, size_t n, Output out) {
  while (n > 0) {
    const size_t slice = std::min(n, kMaxInflateSlice);
    zs_->next_in = const_cast<Bytef*>(data);
    zs_->avail_in = static_cast<uInt>(slice);
    for (;;) {
      zs_->next_out = inflated_.get();
      zs_->avail_out = static_cast<uInt>(kChunkBytes);
      const int rc = inflate(zs_.get(), Z_SYNC_FLUSH);
      const bool wanted = out(inflated_.get(), kChunkBytes - zs_->avail_out);
      // With context takeover the window must follow the sender, so inflating goes on (and
      // costs what it costs the application); without, it can stop.
      if (!wanted && no_context_takeover_) inflating_ = false;
      if (rc == Z_STREAM_END) {
        stream_ended_ = true;
        return absl::OkStatus();
      }
      if (rc == Z_BUF_ERROR) break;  // no progress possible: input exhausted
      if (rc != Z_OK) {
        return absl::DataLossError(
            StrCat("inflate failed: ", zs_->msg != nullptr ? zs_->msg : "error ", rc));
      }
      if (!inflating_) return absl::OkStatus();
      if (zs_->avail_in == 0 && zs_->avail_out != 0) break;
    }
    data += slice;
    n -= slice;
  }
  return absl::OkStatus();
}

absl::Status MessageInflater::FinishMessage(Output out) {
  if (active()) {
    if (absl::Status s = Inflate(kDeflateTail, sizeof(kDeflateTail), out); !s.ok()) return s;
  }
  ResetAfterMessage();
  return absl::OkStatus();
}

void MessageInflater::ResetAfterMessage() {
  if (no_context_takeover_ || !inflating_) {
    inflateReset(zs_.get());
    return;
  }
  if (!stream_ended_) return;
  // The sender closed its deflate stream (BFINAL); keep its window for the next message.
  std::vector<Bytef> window(kMaxWindowBytes);
  uInt window_len = 0;
  inflateGetDictionary(zs_.get(), window.data(), &window_len);
  inflateReset(zs_.get());
  if (window_len > 0) inflateSetDictionary(zs_.get(), window.data(), window_len);
}

}  // namespace relaytap::proxy::ws

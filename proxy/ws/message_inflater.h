#pragma once
// The frame tap's permessage-deflate decompressor for one direction (RFC 7692): each compressed
// message is a raw deflate stream, closed by the empty-block tail the sender stripped, and with
// context takeover the next message starts from this one's window. The tap makes one on the
// first compressed message of a direction, so a session without the extension (the Realtime
// API's usual case) holds none of zlib's state or the two 64 KiB chunk buffers.
//
// It only decompresses: the caller receives the output in chunks and keeps what it wants (the
// tap's caps and budget). When the caller wants no more of a message, inflating stops only where
// nothing depends on it: with context takeover the window must follow the sender, so the rest of
// the message is inflated and discarded.
// Thread rule: one tap's; not shared.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

struct z_stream_s;

namespace relaytap::proxy::ws {

class MessageInflater {
 public:
  // Receives each chunk of output; returns whether the caller still wants this message's output.
  using Output = absl::FunctionRef<bool(const uint8_t* data, size_t n)>;

  // zlib's state (raw deflate, the largest window) and the chunk buffers; an error when zlib
  // cannot start.
  static absl::StatusOr<std::unique_ptr<MessageInflater>> Create(bool no_context_takeover);
  ~MessageInflater();
  MessageInflater(const MessageInflater&) = delete;
  MessageInflater& operator=(const MessageInflater&) = delete;

  // A compressed message starts.
  void StartMessage();
  // Inflates `n` bytes of the message's payload. `mask`: the frame's masking key, applied from
  // payload position `offset` on (a client's frames); the input is left as it is.
  absl::Status Feed(const uint8_t* data, size_t n, const std::array<uint8_t, 4>* mask,
                    uint64_t offset, Output out);
  // The message's last frame ended: inflates the tail the sender stripped, then resets the
  // stream or, with context takeover, keeps the window for the next message.
  absl::Status FinishMessage(Output out);

 private:
  explicit MessageInflater(bool no_context_takeover);
  absl::Status Inflate(const uint8_t* data, size_t n, Output out);
  void ResetAfterMessage();
  bool active() const { return inflating_ && !stream_ended_; }

  const bool no_context_takeover_;
  std::unique_ptr<z_stream_s> zs_;
  bool zlib_ready_ = false;
  bool inflating_ = false;     // still feeding zlib for this message
  bool stream_ended_ = false;  // the sender finished a deflate stream (BFINAL) in this message
  std::unique_ptr<uint8_t[]> scratch_;   // unmasked compressed input
  std::unique_ptr<uint8_t[]> inflated_;  // inflate output chunk
};

}  // namespace relaytap::proxy::ws

#pragma once
// A scripted ByteStream for testing the relay without sockets, in the manner of Beast's
// test::stream: reads return the scripted chunks and errors in order (then wait for more, or for
// Reset), and the N-th write can be made to fail. One io thread; no locks.

#include <algorithm>
#include <chrono>
#include <deque>
#include <optional>
#include <string>
#include <tuple>
#include <utility>

#include "proxy/stream/byte_stream.h"

namespace relaytap::testing {

class FakeByteStream : public proxy::ByteStream {
 public:
  explicit FakeByteStream(Executor ex) : wake_(ex) {}

  // Scripts the next read: `bytes`, then `ec` (e.g. net::error::eof) if set.
  void PushRead(std::string bytes, error_code ec = {}) {
    reads_.emplace_back(std::move(bytes), ec);
    wake_.cancel();
  }
  // Makes the write with this 1-based index fail with `ec` (broken_pipe by default).
  void FailWriteAt(int n, error_code ec = net::error::broken_pipe) {
    fail_write_at_ = n;
    write_error_ = ec;
  }

  // Serves the relay's fast path (TryReadSome, TryWriteSome) too: a scripted read is returned
  // without waiting, and each TryWriteSome takes at most `room` bytes (0: the socket is always
  // full), so a chunk is written partly there and the rest by WriteAll.
  void OfferFastPath(size_t room) {
    fast_path_ = true;
    room_ = room;
  }
  size_t fast_reads() const { return fast_reads_; }
  size_t fast_written() const { return fast_written_; }

  // The peer answers our FIN with its own: after ShutdownSend, the next read is EOF.
  void EofAfterShutdown() { eof_after_shutdown_ = true; }

  const std::string& written() const { return written_; }
  bool shut_down() const { return shut_down_; }
  bool was_reset() const { return reset_; }

  net::awaitable<std::tuple<error_code, size_t>> ReadSome(net::mutable_buffer buf) override {
    co_await WaitForScript();
    if (reads_.empty()) {
      // Reset by us: the read is aborted. A failed write broke the connection: so do reads.
      co_return std::make_tuple(broken_ && !reset_ ? error_code(net::error::connection_reset)
                                                   : error_code(net::error::operation_aborted),
                                0);
    }
    co_return TakeRead(buf);
  }
  std::optional<std::tuple<error_code, size_t>> TryReadSome(net::mutable_buffer buf) override {
    if (!fast_path_ || reads_.empty()) return std::nullopt;
    ++fast_reads_;
    return TakeRead(buf);
  }
  std::tuple<error_code, size_t> TryWriteSome(net::const_buffer buf) override {
    if (!fast_path_) return {error_code{}, 0};
    if (std::optional<error_code> failed = CountWrite()) return {*failed, 0};
    const size_t n = std::min(room_, buf.size());
    written_.append(static_cast<const char*>(buf.data()), n);
    fast_written_ += n;
    return {error_code{}, n};
  }
  bool HasBufferedInput() const override { return false; }
  net::awaitable<std::tuple<error_code>> WaitReadable() override {
    co_await WaitForScript();
    co_return std::make_tuple(error_code{});
  }
  net::awaitable<std::tuple<error_code, size_t>> WriteAll(net::const_buffer buf) override {
    if (std::optional<error_code> failed = CountWrite()) co_return std::make_tuple(*failed, 0);
    written_.append(static_cast<const char*>(buf.data()), buf.size());
    co_return std::make_tuple(error_code{}, buf.size());
  }
  void SetTimeout(std::chrono::milliseconds) override {}
  net::awaitable<void> ShutdownSend() override {
    shut_down_ = true;
    if (eof_after_shutdown_) PushRead("", net::error::eof);
    co_return;
  }
  void Reset() override {
    reset_ = true;
    wake_.cancel();
  }
  void Close() override { Reset(); }
  bool is_tls() const override { return false; }
  TcpStream& tcp() override { std::abort(); }  // the relay never asks a fake for its socket

 private:
  std::tuple<error_code, size_t> TakeRead(net::mutable_buffer buf) {
    auto& [bytes, ec] = reads_.front();
    size_t n = net::buffer_copy(buf, net::buffer(bytes));
    bytes.erase(0, n);
    error_code result;
    if (bytes.empty()) {
      result = ec;
      reads_.pop_front();
    }
    return {result, n};
  }
  // One more write (either path): its failure, if it is the one scripted to fail.
  std::optional<error_code> CountWrite() {
    ++writes_;
    if (reset_) return error_code(net::error::bad_descriptor);
    if (writes_ == fail_write_at_) {
      broken_ = true;
      wake_.cancel();
      return write_error_;
    }
    return std::nullopt;
  }

  // Until a read is scripted or the stream is reset (bounded by the test's own deadline).
  net::awaitable<void> WaitForScript() {
    while (reads_.empty() && !reset_ && !broken_) {
      wake_.expires_after(std::chrono::seconds(30));
      auto [ec] = co_await wake_.async_wait();
      if (!ec) break;  // the 30 s bound: the read then fails as aborted
    }
  }

  Timer wake_;
  std::deque<std::pair<std::string, error_code>> reads_;
  std::string written_;
  int writes_ = 0;
  int fail_write_at_ = 0;
  error_code write_error_;
  bool shut_down_ = false;
  bool reset_ = false;
  bool broken_ = false;
  bool eof_after_shutdown_ = false;
  bool fast_path_ = false;
  size_t room_ = 0;
  size_t fast_reads_ = 0;
  size_t fast_written_ = 0;
};

}  // namespace relaytap::testing

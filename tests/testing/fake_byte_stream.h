#pragma once
// A scripted ByteStream for testing the relay without sockets, in the manner of Beast's
// test::stream: reads return the scripted chunks and errors in order (then wait for more, or for
// Reset), and the N-th write can be made to fail. One io thread; no locks.

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

  // The peer answers our FIN with its own: after ShutdownSend, the next read is EOF.
  void EofAfterShutdown() { eof_after_shutdown_ = true; }

  const std::string& written() const { return written_; }
  bool shut_down() const { return shut_down_; }
  bool was_reset() const { return reset_; }

  Awaitable<std::tuple<error_code, size_t>> ReadSome(net::mutable_buffer buf) override {
    co_await WaitForScript();
    if (reads_.empty()) {
      // Reset by us: the read is aborted. A failed write broke the connection: so do reads.
      co_return std::make_tuple(broken_ && !reset_ ? error_code(net::error::connection_reset)
                                                   : error_code(net::error::operation_aborted),
                                0);
    }
    auto& [bytes, ec] = reads_.front();
    size_t n = net::buffer_copy(buf, net::buffer(bytes));
    bytes.erase(0, n);
    error_code result;
    if (bytes.empty()) {
      result = ec;
      reads_.pop_front();
    }
    co_return std::make_tuple(result, n);
  }
  bool HasBufferedInput() const override { return false; }
  Awaitable<std::tuple<error_code>> WaitReadable() override {
    co_await WaitForScript();
    co_return std::make_tuple(error_code{});
  }
  Awaitable<std::tuple<error_code, size_t>> WriteAll(net::const_buffer buf) override {
    ++writes_;
    if (reset_) co_return std::make_tuple(error_code(net::error::bad_descriptor), 0);
    if (writes_ == fail_write_at_) {
      broken_ = true;
      wake_.cancel();
      co_return std::make_tuple(write_error_, 0);
    }
    written_.append(static_cast<const char*>(buf.data()), buf.size());
    co_return std::make_tuple(error_code{}, buf.size());
  }
  void SetTimeout(std::chrono::milliseconds) override {}
  Awaitable<void> ShutdownSend() override {
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
  TcpSocket& socket() override { std::abort(); }  // the relay never asks a fake for its socket

 private:
  // Until a read is scripted or the stream is reset (bounded by the test's own deadline).
  Awaitable<void> WaitForScript() {
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
};

}  // namespace relaytap::testing

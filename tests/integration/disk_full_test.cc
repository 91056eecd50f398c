// A real small filesystem under the store while realtime traffic flows (#15): a tmpfs the test
// mounts, so the free space the recorder sees and the ENOSPC SQLite meets are the kernel's. The
// relay must be unaffected (every message echoed byte for byte), the loss must be one gap row,
// and the store must stay intact. Mounting needs CAP_SYS_ADMIN (CI runs as root); without it
// the tests are skipped and say why, and recorder_test's DiskLimitsTest still covers the logic.
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "base/str_cat.h"
#include "recorder/recorder.h"
#include "tests/integration/relay_test_support.h"
#include "tests/testing/proxy_harness.h"
#include "tests/testing/sqlite_query.h"
#include "tests/testing/wait.h"

namespace relaytap::testing {
namespace {

namespace websocket = boost::beast::websocket;
using TlsWebSocket = websocket::stream<beast::ssl_stream<beast::tcp_stream>&>;

// A message whose redacted row is about 60 KB (identifier keys are kept), so that a few dozen
// fill megabytes; `i` keeps every one distinct.
std::string BulkyEvent(int i) {
  std::string s = StrCat(R"({"type":"session.update","event_id":"event_)", i, R"(","session":{)");
  for (int k = 0; k < 4000; ++k) s += StrCat("\"field_", k, "\":", k == 0 ? i : k, ",");
  return s + R"("end":true}})";
}

class DiskFullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshDir("disk_full");
    fs_ = dir_ / "fs";
    std::filesystem::create_directories(fs_);
    if (mount("tmpfs", fs_.c_str(), "tmpfs", 0, "size=32m,mode=0700") != 0) {
      GTEST_SKIP() << "cannot mount a tmpfs for the store (" << std::strerror(errno)
                   << "): needs CAP_SYS_ADMIN";
    }
    mounted_ = true;
    // Space the test frees later: the recorder resumes once it is gone.
    std::ofstream(fs_ / "filler", std::ios::binary) << std::string(16u << 20, 'x');
  }

  void TearDown() override {
    harness_.reset();
    if (recorder_) (void)recorder_->Close();
    recorder_.reset();
    if (mounted_ && !getenv("KEEP_FS")) umount2(fs_.c_str(), MNT_DETACH);
  }

  void Start(uint64_t min_free_bytes) {
    recorder::RecorderOptions ro;
    ro.db_path = (fs_ / "relaytap.db").string();
    ro.key_dir = dir_.string();
    ro.batch_interval = absl::Milliseconds(20);
    ro.disk.min_free_bytes = min_free_bytes;
    auto rec = recorder::Recorder::Open(ro);
    ASSERT_TRUE(rec.ok()) << rec.status();
    recorder_ = std::move(*rec);
    ProxyHarness::Options o;
    o.sink = recorder_.get();
    harness_ = std::make_unique<ProxyHarness>(std::move(o));
  }

  // Sends `count` bulky messages on one realtime session, each echoed by the fake upstream;
  // returns how many came back byte-identical.
  int EchoMany(int first, int count) {
    auto c = harness_->InterceptedClient();
    TlsWebSocket ws(c->tls());
    beast::get_lowest_layer(c->tls()).expires_never();
    ws.set_option(
        websocket::stream_base::timeout{std::chrono::seconds(20), std::chrono::seconds(20), false});
    ws.handshake(kAzureHost, "/openai/v1/realtime?model=gpt-realtime&echo=1");
    beast::flat_buffer created;
    ws.read(created);
    ws.text(true);
    int same = 0;
    for (int i = first; i < first + count; ++i) {
      const std::string m = BulkyEvent(i);
      ws.write(net::buffer(m));
      beast::flat_buffer echo;
      ws.read(echo);
      if (beast::buffers_to_string(echo.data()) == m) ++same;
    }
    ws.close(websocket::close_reason(websocket::close_code::normal, "done"));
    return same;
  }

  std::string Db() const { return (fs_ / "relaytap.db").string(); }

  std::filesystem::path dir_, fs_;
  bool mounted_ = false;
  std::unique_ptr<recorder::Recorder> recorder_;
  std::unique_ptr<ProxyHarness> harness_;
};

// Under --min-free the recorder pauses before the disk is full: one low_disk gap row, the relay
// unaffected, and recording resumes when space is freed.
TEST_F(DiskFullTest, FloorPausesRecordingBeforeTheFilesystemFillsAndResumes) {
  // The floor leaves room for what a batch writes before the writer looks again (WAL included).
  Start(/*min_free_bytes=*/12u << 20);
  ASSERT_EQ(EchoMany(0, 60), 60);  // ~7 MB of rows into the ~16 MB left: past the floor
  ASSERT_TRUE(WaitFor(
      [&] { return Query(Db(), "SELECT COUNT(*) FROM gaps WHERE reason = 'low_disk'") == "1"; },
      "the low_disk gap row"));
  const uint64_t written_in_pause = recorder_->stats().written;
  ASSERT_EQ(EchoMany(400, 10), 10);
  std::filesystem::remove(fs_ / "filler");  // space is back
  ASSERT_EQ(EchoMany(1000, 3), 3);
  ASSERT_TRUE(WaitFor(
      [&] {
        return Query(Db(), "SELECT COUNT(*) FROM events WHERE event_id = 'event_1002'") == "2";
      },
      "events after the pause"));
  harness_.reset();
  ASSERT_TRUE(recorder_->Close().ok());
  const recorder::RecorderStats s = recorder_->stats();
  EXPECT_EQ(s.dropped, 0u);
  EXPECT_GT(s.lost_in_failed_writes, 10u);
  EXPECT_GT(s.written, written_in_pause);
  EXPECT_EQ(Query(Db(),
                  "SELECT COUNT(*) || '|' || SUM(dropped_observations) || '|' || reason "
                  "FROM gaps"),
            StrCat("1|", s.lost_in_failed_writes, "|low_disk"));
  EXPECT_EQ(Query(Db(), "PRAGMA integrity_check"), "ok");
}

// With no floor the filesystem really fills: SQLite meets ENOSPC, the relay is unaffected, the
// loss is one write_failed gap once space is back, and the store is intact.
TEST_F(DiskFullTest, AFullFilesystemCostsRecordingNotTheRelay) {
  Start(/*min_free_bytes=*/0);
  ASSERT_EQ(EchoMany(0, 160), 160);  // ~19 MB of rows (and their WAL) into ~16 MB
  ASSERT_TRUE(WaitFor([&] { return recorder_->stats().write_failures > 0; }, "a failed batch"));
  // Until the writer has dealt with all of it, written or lost (it leaves observations queued
  // while it waits to reopen the store).
  ASSERT_TRUE(WaitFor(
      [&] {
        const recorder::RecorderStats st = recorder_->stats();
        return st.written + st.lost_in_failed_writes == st.accepted;
      },
      "the writer to deal with every accepted observation"));
  std::filesystem::remove(fs_ / "filler");
  ASSERT_EQ(EchoMany(1000, 3), 3);
  ASSERT_TRUE(WaitFor([&] { return recorder_->stats().gaps_written > 0; }, "the gap row"));
  ASSERT_TRUE(WaitFor(
      [&] {
        return Query(Db(), "SELECT COUNT(*) FROM events WHERE event_id = 'event_1002'") == "2";
      },
      "events after space is back"));
  harness_.reset();
  ASSERT_TRUE(recorder_->Close().ok());
  // A disk that is really full may let a small batch through between failures: each outage is
  // a gap of its own, and together they count every observation lost.
  EXPECT_EQ(Query(Db(),
                  "SELECT (COUNT(*) > 0) || '|' || group_concat(DISTINCT reason) || '|' "
                  "|| SUM(dropped_observations) FROM gaps"),
            StrCat("1|write_failed|", recorder_->stats().lost_in_failed_writes));
  // Sent and echoed.
  EXPECT_EQ(Query(Db(), "SELECT COUNT(*) FROM events WHERE event_id = 'event_1002'"), "2");
  EXPECT_EQ(Query(Db(), "PRAGMA integrity_check"), "ok");
}

}  // namespace
}  // namespace relaytap::testing

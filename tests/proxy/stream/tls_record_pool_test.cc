// OpenSSL's record buffers from a per-thread pool (proxy/stream/tls_record_pool.h). Its own
// binary: the pool is OpenSSL's allocator for the whole process, installed here before main, as
// `relaytap proxy` installs it before OpenSSL allocates anything.
#include "proxy/stream/tls_record_pool.h"

#include <openssl/crypto.h>

#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/proxy/stream/tls_byte_stream_fixture.h"

namespace relaytap::proxy::tls_stream_testing {
namespace {

using tls::kPooledMax;
using tls::kPooledMin;
using tls::kPooledPerThread;
using tls::PooledBlocksOnThisThread;
using tls::PooledTakesOnThisThread;

const bool kInstalled = tls::PoolTlsRecordBuffers();

// OpenSSL refuses a new allocator only once it allocated with its own; ours stays installable.
TEST(TlsRecordPoolTest, InstalledBeforeOpenSslAllocated) {
  EXPECT_TRUE(kInstalled);
  OPENSSL_free(OPENSSL_malloc(64));
  EXPECT_TRUE(tls::PoolTlsRecordBuffers());
}

TEST(TlsRecordPoolTest, ARecordSizedBlockIsTakenAgainMostRecentFirst) {
  ASSERT_TRUE(kInstalled);
  const size_t held = PooledBlocksOnThisThread();
  const uint64_t takes = PooledTakesOnThisThread();
  void* a = OPENSSL_malloc(17 * 1024);
  void* b = OPENSSL_malloc(17 * 1024);
  ASSERT_NE(a, nullptr);
  OPENSSL_free(a);
  OPENSSL_free(b);
  EXPECT_EQ(PooledBlocksOnThisThread(), held + 2);
  void* c = OPENSSL_malloc(16 * 1024 + 700);
  EXPECT_EQ(c, b) << "the block freed last comes first";
  EXPECT_EQ(PooledTakesOnThisThread(), takes + 1);
  static_cast<char*>(c)[16 * 1024 + 699] = 1;  // the whole request is usable (ASan checks)
  OPENSSL_free(c);
  // Other sizes are malloc's: neither kept nor taken from the pool.
  const size_t before_small = PooledBlocksOnThisThread();
  OPENSSL_free(OPENSSL_malloc(kPooledMin - 1024));
  OPENSSL_free(OPENSSL_malloc(64 * 1024));
  EXPECT_EQ(PooledBlocksOnThisThread(), before_small);
  void* z = OPENSSL_zalloc(kPooledMax);
  ASSERT_NE(z, nullptr);
  EXPECT_EQ(static_cast<unsigned char*>(z)[kPooledMax - 1], 0) << "zalloc still zeroes";
  OPENSSL_free(z);
}

TEST(TlsRecordPoolTest, AThreadKeepsAtMostItsShareAndFreesItOnExit) {
  ASSERT_TRUE(kInstalled);
  size_t held_at_end = 0;
  std::thread t([&] {
    std::vector<void*> blocks;
    for (size_t i = 0; i < 3 * kPooledPerThread; ++i) blocks.push_back(OPENSSL_malloc(17000));
    for (void* p : blocks) OPENSSL_free(p);
    held_at_end = PooledBlocksOnThisThread();
  });
  t.join();
  EXPECT_EQ(held_at_end, kPooledPerThread);  // the rest went back to malloc; LSan checks the exit
}

TEST(TlsRecordPoolTest, ReallocOfAPooledBlockIsMallocs) {
  ASSERT_TRUE(kInstalled);
  char* p = static_cast<char*>(OPENSSL_malloc(17000));
  ASSERT_NE(p, nullptr);
  p[0] = 'x';
  p = static_cast<char*>(OPENSSL_realloc(p, 40000));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p[0], 'x');
  p[39999] = 'y';
  EXPECT_EQ(OPENSSL_realloc(p, 0), nullptr);  // frees, as OpenSSL's own realloc
}

// TLS streams on the pool: every byte arrives, and the record buffers came from it.
using TlsRecordPoolStreamTest = TlsByteStreamFixture;

TEST_F(TlsRecordPoolStreamTest, TlsStreamsTakeTheirRecordBuffersFromThePool) {
  ASSERT_TRUE(kInstalled);
  std::unique_ptr<TlsByteStream> ours;
  std::unique_ptr<PeerStream> peer;
  ASSERT_TRUE(Handshaken(ours, peer));
  const uint64_t takes = PooledTakesOnThisThread();
  constexpr int kMessages = 100;
  std::string sent, got;
  error_code write_ec, read_ec;
  ASSERT_TRUE(RunAll({
      [&]() -> Awaitable<void> {
        for (int i = 0; i < kMessages && !write_ec; ++i) {
          const std::string m = Pattern(6400, i);
          sent += m;
          std::tie(write_ec, std::ignore) = co_await ours->WriteAll(net::buffer(m));
        }
      },
      [&]() -> Awaitable<void> {
        std::string in(6400, '\0');
        for (int i = 0; i < kMessages && !read_ec; ++i) {
          std::tie(read_ec, std::ignore) =
              co_await net::async_read(*peer, net::buffer(in), net::transfer_all(), Token{});
          got += in;
        }
      },
  }));
  EXPECT_FALSE(write_ec) << DescribeError(write_ec);
  EXPECT_FALSE(read_ec) << DescribeError(read_ec);
  EXPECT_TRUE(got == sent);
  // Our stream releases its write buffer after each message and takes it again for the next.
  EXPECT_GE(PooledTakesOnThisThread() - takes, static_cast<uint64_t>(kMessages / 2));
}

}  // namespace
}  // namespace relaytap::proxy::tls_stream_testing

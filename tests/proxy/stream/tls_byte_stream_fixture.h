#pragma once
// The fixture of the TlsByteStream tests (tls_byte_stream_test.cc, tls_byte_stream_end_test.cc):
// a loopback TCP pair, our stream on one end and an Asio ssl::stream peer on the other, both
// driven as coroutines on one io_context, every run bounded in time.

#include <unistd.h>

#include <csignal>
#include <exception>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "proxy/stream/errors.h"
#include "proxy/stream/tls_byte_stream.h"
#include "proxy/tls/cert_authority.h"
#include "proxy/tls/contexts.h"

namespace relaytap::proxy::tls_stream_testing {

namespace fs = std::filesystem;
using PeerStream = ssl::stream<TcpStream>;

inline constexpr auto kRunLimit = std::chrono::seconds(60);
inline constexpr std::string_view kHost = "api.example.test";

inline fs::path TestRoot() {
  return fs::path(::testing::TempDir()) /
         ("relaytap_tls_stream_test_" + std::to_string(::getpid()));
}

inline std::string Pattern(size_t n, int seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 31 + seed) % 251);
  return s;
}

class TlsByteStreamFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    std::signal(SIGPIPE, SIG_DFL);  // a send() without MSG_NOSIGNAL would kill the test
    auto ca = tls::CertAuthority::LoadOrCreate(
        TestRoot() / ::testing::UnitTest::GetInstance()->current_test_info()->name(),
        {.patterns = {"*.example.test"}});
    ASSERT_TRUE(ca.ok()) << ca.status();
    ca_ = std::move(*ca);
    auto server = tls::MakeDownstreamContext(*ca_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ctx_ = std::move(*server);
    auto client = tls::MakeUpstreamContext(ca_->cert_path());
    ASSERT_TRUE(client.ok()) << client.status();
    client_ctx_ = std::move(*client);
    acceptor_.emplace(ioc_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(TestRoot(), ec);
  }

  // A connected pair: {ours (accepted), peer (connecting)}.
  std::pair<TcpStream, TcpStream> Connect() {
    TcpStream peer(ioc_.get_executor());
    peer.socket().connect(acceptor_->local_endpoint());
    TcpStream ours(ioc_.get_executor());
    acceptor_->accept(ours.socket());
    return {std::move(ours), std::move(peer)};
  }

  std::unique_ptr<TlsByteStream> MakeServer(TcpStream s, std::string early = {}) {
    auto made = TlsByteStream::Create(std::move(s.socket()), *server_ctx_, TlsRole::kServer,
                                      std::move(early));
    EXPECT_TRUE(made.ok()) << made.status();
    if (!made.ok()) return nullptr;
    EXPECT_TRUE(tls::PrepareDownstreamSsl((*made)->native_handle(), *ca_, kHost).ok());
    return *std::move(made);
  }

  std::unique_ptr<PeerStream> MakePeerClient(TcpStream s, ssl::context& ctx) {
    auto peer = std::make_unique<PeerStream>(std::move(s), ctx);
    EXPECT_TRUE(tls::PrepareUpstreamSsl(peer->native_handle(), kHost).ok());
    return peer;
  }

  // Runs the coroutines to completion (bounded); true if all finished.
  ::testing::AssertionResult RunAll(std::vector<std::function<Awaitable<void>()>> tasks) {
    size_t done = 0;
    for (auto& t : tasks) {
      net::co_spawn(ioc_, t(), [&done](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
        ++done;
      });
    }
    ioc_.run_for(kRunLimit);
    ioc_.restart();
    if (done == tasks.size()) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << done << " of " << tasks.size() << " tasks finished";
  }

  // Our server stream and an Asio client peer, handshaken.
  ::testing::AssertionResult Handshaken(std::unique_ptr<TlsByteStream>& ours,
                                        std::unique_ptr<PeerStream>& peer) {
    auto [a, b] = Connect();
    ours = MakeServer(std::move(a));
    peer = MakePeerClient(std::move(b), *client_ctx_);
    error_code oec, pec;
    auto ok = RunAll({[&]() -> Awaitable<void> { oec = co_await ours->Handshake({}); },
                      [&]() -> Awaitable<void> {
                        std::tie(pec) =
                            co_await peer->async_handshake(ssl::stream_base::client, Token{});
                      }});
    if (!ok) return ok;
    if (oec || pec) {
      return ::testing::AssertionFailure()
             << "ours: " << DescribeError(oec) << " peer: " << DescribeError(pec);
    }
    return ::testing::AssertionSuccess();
  }

  net::io_context ioc_;
  std::optional<tcp::acceptor> acceptor_;
  std::unique_ptr<tls::CertAuthority> ca_;
  std::unique_ptr<ssl::context> server_ctx_;
  std::unique_ptr<ssl::context> client_ctx_;
};

}  // namespace relaytap::proxy::tls_stream_testing

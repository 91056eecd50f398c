#pragma once
// The fixture of the fake upstream's own tests (fake_upstream_test.cc, fake_upstream_ws_test.cc):
// a FakeUpstream on 127.0.0.1:0, restartable with other options, and one-request fetches.

#include <gtest/gtest.h>

#include <memory>
#include <utility>

#include "tests/tools/fake_upstream_client.h"
#include "tests/tools/fake_upstream_test_support.h"
#include "tools/fake_upstream/fake_upstream.h"
#include "tools/stream/strand_net.h"

namespace relaytap::tools::fake_upstream::testing {

class FakeUpstreamFixture : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(Options{}); }

  void StartServer(Options options) {
    server_.reset();
    auto server = FakeUpstream::Start(std::move(options));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    ASSERT_NE(server_->port(), 0);
  }

  // One request on a fresh plain connection.
  std::pair<error_code, StringResponse> Fetch(StringRequest req) {
    return FetchOnce(server_->port(), std::move(req));
  }

  std::unique_ptr<FakeUpstream> server_;
};

}  // namespace relaytap::tools::fake_upstream::testing

#pragma once
// Small helpers shared by the loopback relay tests in this folder.

#include <string>

#include "tests/testing/proxy_harness.h"

namespace relaytap::testing {

// A GET for `target` with only a Host header.
inline http::request<http::string_body> Get(const std::string& target, const std::string& host) {
  http::request<http::string_body> r{http::verb::get, target, 11};
  r.set(http::field::host, host);
  return r;
}

}  // namespace relaytap::testing

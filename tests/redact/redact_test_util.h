#pragma once
// Shared fixtures for the redact tests.

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "redact/fingerprint.h"
#include "redact/policy.h"

namespace relaytap::redact::testing {

inline const Fingerprinter& TestFingerprinter() {
  static const Fingerprinter fp(std::string("test-key-0123456789abcdef"));
  return fp;
}

inline const Policy& DefaultPolicy() {
  static const Policy p = [] {
    absl::StatusOr<Policy> d = Policy::Default();
    if (!d.ok()) std::abort();
    return *d;
  }();
  return p;
}

// StatusIs(code, substring) as an AssertionResult (Abseil 20220623 has no matchers).
inline ::testing::AssertionResult StatusIs(const absl::Status& st, absl::StatusCode code,
                                           std::string_view substring) {
  if (st.code() == code && std::string(st.message()).find(substring) != std::string::npos) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "status is " << st.ToString() << ", want code " << static_cast<int>(code)
         << " containing '" << substring << "'";
}

inline bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

}  // namespace relaytap::redact::testing

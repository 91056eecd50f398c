#pragma once
// What the store's answers read from a store file, for tests that check what `stats` and `report`
// (attempts, failures), `diff` (profiles) and the HAR export (exchanges) will see.

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "recorder/query/store_reader.h"

namespace relaytap::testing {

struct StoreAnswers {
  std::vector<recorder::query::Attempt> attempts;
  std::vector<recorder::query::Failure> failures;
  std::vector<recorder::query::Profile> profiles;
  std::vector<recorder::query::RecordedExchange> exchanges;
};

// Over the whole store; a test failure (and empty lists) when it cannot be read.
inline StoreAnswers ReadStoreAnswers(const std::string& db_path) {
  StoreAnswers a;
  auto reader = recorder::query::StoreReader::Open(db_path);
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return a;
  auto take = [](auto result, auto& into) {
    EXPECT_TRUE(result.ok()) << result.status();
    if (result.ok()) into = std::move(*result);
  };
  take((*reader)->Attempts({}), a.attempts);
  take((*reader)->Failures({}), a.failures);
  take((*reader)->Profiles({}), a.profiles);
  take((*reader)->Exchanges({}), a.exchanges);
  return a;
}

}  // namespace relaytap::testing

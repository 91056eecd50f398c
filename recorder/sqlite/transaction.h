#pragma once
// RAII transaction: Begin() issues BEGIN IMMEDIATE (the writer takes the write lock up front, so a
// busy database fails at BEGIN rather than half-way); an uncommitted transaction is rolled back
// when this object dies. Thread rule: same as the Database.

#include "absl/status/status.h"

namespace relaytap::recorder::sqlite {

class Database;

class Transaction {
 public:
  explicit Transaction(Database& db) : db_(db) {}
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  absl::Status Begin();
  absl::Status Commit();
  void Rollback();
  bool is_active() const { return active_; }

 private:
  Database& db_;
  bool active_ = false;
};

}  // namespace relaytap::recorder::sqlite

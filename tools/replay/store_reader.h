#pragma once
// Reads a relaytap store (SQLite, schema v1) read-only, through the recorder's sqlite wrappers.
// Thread rule: one thread at a time (like recorder::sqlite::Database). Load everything replay
// needs up front; the server never touches SQLite.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/replay/recording.h"

namespace relaytap::recorder::sqlite {
class Database;
}

namespace relaytap::tools::replay {

class StoreReader {
 public:
  // Errors: NotFound for a missing file; FailedPrecondition for a file that is not SQLite or not
  // a relaytap store (names the missing tables); Unavailable when SQLite cannot open it.
  static absl::StatusOr<std::unique_ptr<StoreReader>> Open(const std::string& path);
  ~StoreReader();

  // Sessions and exchanges (that opened no session), ordered by time.
  absl::StatusOr<std::vector<ListEntry>> List();
  // `key`: a ws_sessions id ("12") or a session id ("sess_…"). NotFound for an unknown key.
  absl::StatusOr<RecordedSession> LoadSession(const std::string& key);
  // `id`: an exchanges id. NotFound for an unknown id.
  absl::StatusOr<RecordedExchange> LoadExchange(const std::string& id);
  // Every session and every exchange that opened no session, in time order (for --all).
  absl::Status LoadAll(std::vector<RecordedSession>* sessions,
                       std::vector<RecordedExchange>* exchanges);

 private:
  explicit StoreReader(std::unique_ptr<recorder::sqlite::Database> db);
  absl::StatusOr<RecordedExchange> ExchangeById(int64_t id);
  absl::StatusOr<RecordedSession> SessionById(int64_t id);
  absl::Status LoadEvents(RecordedSession& session);

  std::unique_ptr<recorder::sqlite::Database> db_;
  std::string path_;
};

}  // namespace relaytap::tools::replay

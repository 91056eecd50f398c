#pragma once
// What `relaytap replay` reads from a relaytap store: the list of sessions and exchanges, and
// each one in full (events in order, the upgrade, the response to serve again). Read-only, like
// every reader in recorder/query (opened by OpenStoreReadOnly).
// Thread rule: one thread at a time (like recorder::sqlite::Database). Replay loads everything
// it needs up front; its server never touches SQLite.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "recorder/query/replay_rows.h"

namespace relaytap::recorder::sqlite {
class Database;
}

namespace relaytap::recorder::query {

class ReplayReader {
 public:
  // Errors: NotFound for a missing file; FailedPrecondition for a file that is not SQLite or not
  // a relaytap store (names the missing tables); Unavailable when SQLite cannot open it.
  static absl::StatusOr<std::unique_ptr<ReplayReader>> Open(const std::string& path);
  ~ReplayReader();

  // Sessions and exchanges (that opened no session), ordered by time.
  absl::StatusOr<std::vector<ListEntry>> List();
  // `key`: a ws_sessions id ("12") or a session id ("sess_…"). NotFound for an unknown key.
  absl::StatusOr<RecordedSession> LoadSession(const std::string& key);
  // `id`: an exchanges id. NotFound for an unknown id.
  absl::StatusOr<ReplayExchange> LoadExchange(const std::string& id);
  // Every session and every exchange that opened no session, in time order (for --all).
  absl::Status LoadAll(std::vector<RecordedSession>* sessions,
                       std::vector<ReplayExchange>* exchanges);

 private:
  explicit ReplayReader(std::unique_ptr<sqlite::Database> db);
  absl::StatusOr<ReplayExchange> ExchangeById(int64_t id);
  absl::StatusOr<RecordedSession> SessionById(int64_t id);
  absl::Status LoadEvents(RecordedSession& session);

  std::unique_ptr<sqlite::Database> db_;
  std::string path_;
};

}  // namespace relaytap::recorder::query

#pragma once
// The read-only way into a relaytap store, for the commands that answer questions from it
// (`relaytap stats`, and the other incident answers as they arrive). It opens the file read-only
// (a running proxy keeps writing it: WAL readers never block the writer, nor it them), checks
// that it is a relaytap store of a version this binary reads, and returns typed rows. Everything
// it returns was redacted before it was stored.
//
// Thread rule: one thread at a time (one SQLite connection).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"

namespace relaytap::recorder::sqlite {
class Database;
}

namespace relaytap::recorder::query {

// Attempts that started in [since_us, until_us) (microseconds since the epoch); unset = open.
struct TimeWindow {
  std::optional<int64_t> since_us;
  std::optional<int64_t> until_us;
};

// One attempt: a WebSocket upgrade request (a realtime session attempt, whether it was answered
// 101 or not, including guard rejections) or another HTTP exchange.
struct Attempt {
  bool session = false;  // a WebSocket upgrade
  int64_t start_us = 0;  // the request's start
  std::string host;
  // The Azure deployment: from the path (/openai/deployments/X/...) or the `deployment` query
  // parameter, else the GA path's `model` query parameter (which names the deployment on Azure).
  std::string deployment;
  std::string region;       // x-ms-region
  std::string api_version;  // api-version query parameter ("" on the GA path)
  std::string user_agent;
  std::string path_kind;  // "ga_v1", "preview", "deployments", "openai_v1" or "other"
  std::string client;     // the app's address (ip:port) as the proxy saw it
  std::optional<int64_t> clock_skew_ms;  // local time minus Azure's Date, when Azure sent one
  // The outcome class: the session's when the upgrade opened one, else the exchange's.
  std::string outcome;
  int status = 0;                      // upstream (or relaytap's own) status; 0: none
  std::optional<int64_t> retry_count;  // x-stainless-retry-count
  bool guard_saw_retry = false;        // the retry guard judged the attempt a retry
  // Latencies in milliseconds, where they apply.
  std::optional<double> upgrade_ms;          // request start -> response head (any status)
  std::optional<double> session_created_ms;  // session open -> first session.created
  std::optional<double> first_delta_ms;      // first response.create -> first audio/text delta
  std::optional<double> duration_ms;         // exchange start -> end; session open -> close
  int64_t bytes = 0;                         // WebSocket bytes both ways (sessions)
  int64_t tokens = 0;                        // sum of response.done usage.total_tokens
  // How the request authenticated: comma-joined kinds (api_key_header, bearer_jwt,
  // bearer_ephemeral, bearer_key, query_key, subprotocol_key) or "none"; "" if not recorded.
  std::string auth_kind;
  std::optional<int64_t> jwt_exp;  // a bearer JWT's exp claim (Unix seconds)
  // A bearer JWT's audience and tenant: identifiers, or "hmac:…" fingerprints of values that are
  // not; "" when absent (and in stores older than schema version 4).
  std::string jwt_aud, jwt_tid;
  // The machine that recorded it: its run's hostname ("" when the run recorded none).
  std::string machine;
  // The subject of the root its connection's upstream chain was verified against ("" when not
  // recorded): a TLS-inspecting proxy shows here as its own CA.
  std::string tls_root;
};

// Opens a relaytap store read-only after checking that it is one (and not newer than this
// binary). Shared by every reader of the store. `path` may name a rotated set, a glob
// ('relaytap*.db') or a folder (every *.db in it), read as one store (recorder/query/store_set.h).
absl::StatusOr<std::unique_ptr<sqlite::Database>> OpenStoreReadOnly(const std::string& path);
// Several stores read as one (one per host of a fleet, say): every file or set `paths` names,
// merged as a set is. One path is OpenStoreReadOnly(path).
absl::StatusOr<std::unique_ptr<sqlite::Database>> OpenStoreReadOnly(
    const std::vector<std::string>& paths);

// The schema version of `db` (0 when it records none) after checking that it is a relaytap store
// this binary reads; FailedPrecondition naming `path` otherwise.
absl::StatusOr<int> CheckStore(sqlite::Database& db, const std::string& path);

// One event of a realtime session, as placed on its timeline.
struct EventMark {
  double rel_ms = 0;      // since the session opened
  std::string direction;  // "client" (app -> Azure) or "server" (Azure -> app)
  std::string type;
};

// One failure (an exchange or a realtime session whose outcome is not ok), with what Azure
// Support asks for. Empty strings where the store has nothing.
struct Failure {
  std::string kind;   // "exchange" or "ws_session"
  int64_t at_us = 0;  // the request's start (exchange) or the first failure (session)
  std::string host, resource, deployment, model, api_version, transport, path_kind;
  int status = 0;
  std::optional<int64_t> close_code;
  std::string outcome, error_type, error_code;
  std::string message;  // Azure's error message as recorded (scrubbed of secrets), or relaytap's
  std::string apim_request_id, x_request_id, region, session_id, response_id;
  std::optional<int64_t> retry_count;
  std::string user_agent;
  bool local = false;  // relaytap answered it itself (guard rejection, failed dial, ...)
  std::optional<int64_t> session_ref;            // the session's row, for its events
  std::vector<EventMark> events_before_failure;  // filled by StoreReader::EventsBefore
  std::string machine;                           // as Attempt::machine
};

// What one attempt looked like, for comparing a working group of attempts with a failing one
// (`relaytap diff`). Strings are empty where the store has nothing.
struct Profile {
  int64_t start_us = 0;
  bool session = false;
  std::string outcome, host, region, deployment, model, api_version, path_kind, auth_kind;
  std::string user_agent, client, subprotocol, extensions, tls_version, alpn, session_id;
  std::vector<std::string> event_types;  // the session's first events, in order
  std::string session_update;            // the first session.update's redacted payload
  std::string response_create;           // the first response.create's redacted payload
  std::optional<double> upgrade_ms, duration_ms;
  std::string machine;  // as Attempt::machine
  int64_t exchange_id = 0;
  std::string call_outcome;  // a WebRTC call set-up's outcome ("answered", ...), else ""
};

// One WebRTC call set-up (schema version 7; a store written before has none), with the token it
// used and the sideband sessions that joined it. Strings are empty where the store has nothing.
struct Call {
  int64_t start_us = 0;
  int64_t exchange_id = 0;
  std::string endpoint;  // "ga_calls" or "preview_realtimertc"
  std::string host, deployment, outcome, error_code, error_message, call_id;
  std::string apim_request_id, x_request_id, region;
  int status = 0;
  std::optional<double> answer_ms;
  std::optional<bool> token_expired_before_call;  // unset: its token's issuance was not seen
  int64_t sideband_sessions = 0;
};

// One recorded exchange as the store keeps it (headers and bodies already redacted), with the
// connection's dial timings when this exchange opened the connection.
struct RecordedExchange {
  int64_t id = 0;
  std::string method, host, path, scheme;  // scheme: "https" when intercepted, else "http"
  int port = 0;
  int status = 0;
  std::string request_headers, response_headers;  // JSON arrays of [name, value]
  std::string request_body, response_body;        // redacted; "" when none
  int64_t request_start_us = 0;
  std::optional<int64_t> response_headers_us, first_body_byte_us, end_us;
  // Dial timings (microseconds) when this exchange opened its connection, else unset.
  std::optional<int64_t> dns_us, connect_us, tls_us;
  std::string server_address;  // ip:port dialled
  uint64_t connection_id = 0;
  std::optional<int64_t> session_ref;  // the WebSocket session a 101 opened
};

// One WebSocket message of a session (payload redacted), valid only during the callback that
// receives it (the payload points into SQLite's row).
struct MessageView {
  int64_t at_us = 0;
  bool from_client = false;
  int opcode = 0;
  std::string_view payload;
};

// One local check (`relaytap probe --db`, schema version 7).
struct LocalCheck {
  int64_t run_us = 0;
  std::string tool;
  std::string url;  // without secrets
  std::string host;
  std::string verdict;       // "ok" or "failed"
  std::string failed_stage;  // empty when ok
  int64_t ms = 0;
  std::string session_id, response_id, apim_request_id;
};

class StoreReader {
 public:
  // Opens `path` read-only. NotFound when there is no such file, FailedPrecondition when it is
  // not a relaytap store or is newer than this binary understands.
  static absl::StatusOr<std::unique_ptr<StoreReader>> Open(const std::string& path);
  // Several stores (or sets) read as one; each row names the machine that recorded it.
  static absl::StatusOr<std::unique_ptr<StoreReader>> Open(const std::vector<std::string>& paths);
  ~StoreReader();
  StoreReader(const StoreReader&) = delete;
  StoreReader& operator=(const StoreReader&) = delete;

  // Every attempt in `window`, oldest first.
  absl::StatusOr<std::vector<Attempt>> Attempts(const TimeWindow& window);

  // Every failure that started in `window`, oldest first; `session_id` (if not empty) keeps only
  // that realtime session's.
  absl::StatusOr<std::vector<Failure>> Failures(const TimeWindow& window,
                                                const std::string& session_id = "");

  // The last `limit` events of session `session_ref` up to and including `until_us`, oldest
  // first. A run of audio events is one event, its type "200 × response.output_audio.delta".
  absl::StatusOr<std::vector<EventMark>> EventsBefore(int64_t session_ref, int64_t until_us,
                                                      int limit);

  // What every attempt in `window` looked like, oldest first; a session's first `max_events`
  // event types.
  absl::StatusOr<std::vector<Profile>> Profiles(const TimeWindow& window, int max_events = 64);

  // Every WebRTC call set-up that started in `window`, oldest first (store_reader_calls.cc).
  absl::StatusOr<std::vector<Call>> Calls(const TimeWindow& window);

  // Every exchange that started in `window`, oldest first.
  absl::StatusOr<std::vector<RecordedExchange>> Exchanges(const TimeWindow& window);
  // Calls `fn` with each text and binary message of session `session_ref`, in order (streamed:
  // a session may hold hundreds of thousands).
  absl::Status ForEachMessage(int64_t session_ref, absl::FunctionRef<void(const MessageView&)> fn);

  // The local checks run in `window`, oldest first; none in a store older than version 7.
  absl::StatusOr<std::vector<LocalCheck>> LocalChecks(const TimeWindow& window);

  // Runs of audio events by the kind of their run_fingerprint (redact/fingerprint.h): "hmac:"
  // from relaytap before the bulk fingerprint, "siphash:" since. Equal audio gives equal
  // fingerprints only within one kind. Both 0 before schema version 5.
  struct AudioFingerprintKinds {
    int64_t hmac_runs = 0;
    int64_t siphash_runs = 0;
  };
  absl::StatusOr<AudioFingerprintKinds> AudioFingerprints();

  // The time zone of the most recent recording run: its name as recorded (may be empty) and its
  // UTC offset in seconds at the run's start.
  struct RecordedZone {
    std::string name;
    int64_t utc_offset_s = 0;
  };
  absl::StatusOr<RecordedZone> LatestZone();

  const std::string& path() const { return path_; }

 private:
  StoreReader(std::unique_ptr<sqlite::Database> db, std::string path);
  std::unique_ptr<sqlite::Database> db_;
  std::string path_;
};

}  // namespace relaytap::recorder::query

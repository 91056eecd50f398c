#pragma once
// `relaytap diff`: what differs between a working group of attempts and a failing one, ranked by
// how well each field separates them. A field's score is the total variation distance between
// its value distributions in the two groups (0: the same mix, 1: no value in common); fields
// with a score of 0 are not differences and are left out. Compared: host, region, deployment,
// model, API version, path dialect, auth kind (never the credential), user agent, subprotocol,
// extensions, TLS version, ALPN, outcome, a WebRTC call set-up's outcome, the recording machine,
// the redacted shape of the first session.update and response.create, the first point where the
// usual event-type sequences diverge, and timings.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "recorder/query/store_reader.h"

namespace relaytap::tools::diff {

// `field=value` or `field!=value` terms joined by commas; every term must hold. Fields: outcome,
// deployment, model, host, region, api_version, client, user_agent, session, machine (the
// recording host's name). Empty: everything.
class Selector {
 public:
  static absl::StatusOr<Selector> Parse(std::string_view text);
  bool Matches(const recorder::query::Profile& p) const;
  bool empty() const { return terms_.empty(); }

 private:
  struct Term {
    std::string field;
    std::string value;
    bool negated = false;
  };
  std::vector<Term> terms_;
};

struct Difference {
  std::string field;
  double score = 0;                          // 0..1: how well the field separates the groups
  std::map<std::string, int64_t> good, bad;  // value -> attempts
  std::string note;                          // for sequences and timings: what differs, in words
};

struct DiffResult {
  int64_t good_attempts = 0, bad_attempts = 0;
  int64_t good_calls = 0, bad_calls = 0;  // of the attempts, WebRTC call set-ups
  std::vector<Difference> differences;    // highest score first
};

DiffResult Compare(const std::vector<recorder::query::Profile>& good,
                   const std::vector<recorder::query::Profile>& bad);

// The structure of a redacted JSON payload: its key paths with value types, no values
// ({"a":{"b":1}} -> "a.b:number"); "" for an empty payload, "(not json)" otherwise.
std::string ShapeOf(const std::string& payload);

std::string FormatJson(const DiffResult& r);
std::string FormatTable(const DiffResult& r);

}  // namespace relaytap::tools::diff

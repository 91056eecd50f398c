#pragma once
// The events that carry a response's first audio or text (GA and beta names). The first-delta
// latency of a realtime response runs from its response.create to the first of these, in the
// store's answers (recorder/query) and in the live metrics (metrics/tally) alike.

#include <array>
#include <string_view>

namespace relaytap::recorder {

inline constexpr std::array<std::string_view, 6> kFirstDeltaTypes = {
    "response.output_audio.delta",
    "response.audio.delta",
    "response.output_text.delta",
    "response.text.delta",
    "response.output_audio_transcript.delta",
    "response.audio_transcript.delta"};

// The same list as an SQL tuple: a literal, so that it concatenates into a query's literal. The
// static_assert below holds it to kFirstDeltaTypes, item by item and in order.
#define RELAYTAP_FIRST_DELTA_TYPES_SQL                                                     \
  "('response.output_audio.delta', 'response.audio.delta', 'response.output_text.delta', " \
  "'response.text.delta', 'response.output_audio_transcript.delta', "                      \
  "'response.audio_transcript.delta')"

namespace first_delta_internal {

// True when `sql` is "('a', 'b', ...)" listing exactly `items`, in order.
template <size_t N>
constexpr bool SqlTupleLists(std::string_view sql, const std::array<std::string_view, N>& items) {
  if (!sql.starts_with("(") || !sql.ends_with(")")) return false;
  sql = sql.substr(1, sql.size() - 2);
  for (size_t i = 0; i < N; ++i) {
    const std::string_view quoted = sql.substr(0, items[i].size() + 2);
    if (quoted.size() != items[i].size() + 2 || quoted.front() != '\'' || quoted.back() != '\'' ||
        quoted.substr(1, items[i].size()) != items[i]) {
      return false;
    }
    sql.remove_prefix(quoted.size());
    if (i + 1 < N) {
      if (!sql.starts_with(", ")) return false;
      sql.remove_prefix(2);
    }
  }
  return sql.empty();
}

static_assert(SqlTupleLists(RELAYTAP_FIRST_DELTA_TYPES_SQL, kFirstDeltaTypes),
              "RELAYTAP_FIRST_DELTA_TYPES_SQL must list kFirstDeltaTypes");

}  // namespace first_delta_internal
}  // namespace relaytap::recorder

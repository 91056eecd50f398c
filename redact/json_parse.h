#pragma once
// Parsing JSON into a DOM that keeps the document's key order (nlohmann::ordered_json), in time
// linear in the text. ordered_json::parse looks up every new key by a linear scan of its object,
// which is quadratic for an object with many keys (a hostile 64 MB message would stall the
// writer thread); this parser appends keys directly and indexes an object's keys once it is
// large. Duplicate keys behave as in ordered_json::parse: the first position, the last value.
// Pure; thread-safe.

#include <cstddef>
#include <string_view>

#include "nlohmann/json.hpp"

namespace relaytap::redact {

// The values (scalars, arrays and objects) one parse may build. A DOM costs some 50 to 100 bytes
// per value, so this bounds what one message can cost the writer whatever its text: 29 KB of
// compressed "[]," once asked for ten million values, over a gigabyte (#14 item 4). A realtime
// event has tens to a few thousand values.
inline constexpr size_t kMaxJsonValues = 200'000;

// Parses `text` without exceptions and without recursion (any nesting depth is safe). Returns a
// discarded value when `text` is not exactly one JSON value, or when it holds more than
// `max_values` values (then `*over_budget` is set, if given, and parsing stopped there).
nlohmann::ordered_json ParseOrderedJson(std::string_view text, size_t max_values = kMaxJsonValues,
                                        bool* over_budget = nullptr);

}  // namespace relaytap::redact

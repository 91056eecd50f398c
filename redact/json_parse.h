#pragma once
// Parsing JSON into a DOM that keeps the document's key order (nlohmann::ordered_json), in time
// linear in the text. ordered_json::parse looks up every new key by a linear scan of its object,
// which is quadratic for an object with many keys (a hostile 64 MB message would stall the
// writer thread); this parser appends keys directly and indexes an object's keys once it is
// large. Duplicate keys behave as in ordered_json::parse: the first position, the last value.
// Pure; thread-safe.

#include <string_view>

#include "nlohmann/json.hpp"

namespace relaytap::redact {

// Parses `text` without exceptions and without recursion (any nesting depth is safe). Returns a
// discarded value when `text` is not exactly one JSON value.
nlohmann::ordered_json ParseOrderedJson(std::string_view text);

}  // namespace relaytap::redact

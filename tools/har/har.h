#pragma once
// `relaytap export --har`: the store as HAR 1.2, which Chrome DevTools and other HAR viewers open.
// One entry per exchange, with timings from the recorded stages, headers and bodies as the
// redaction policy kept them, and for WebSocket sessions Chrome's `_webSocketMessages` (type
// send/receive, time, opcode, data = the redacted payload). Nothing leaves the store that the
// store did not already hold.

#include <string>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "recorder/query/store_reader.h"

namespace relaytap::tools::har {

// Writes the HAR document (JSON text) of every exchange in `window` to `write`, in pieces (about
// a megabyte each). `write` returns false when it could not write; the export then stops with
// Unavailable.
absl::Status WriteHar(recorder::query::StoreReader& reader,
                      const recorder::query::TimeWindow& window,
                      const std::string& relaytap_version,
                      absl::FunctionRef<bool(std::string_view)> write);

// The same document as one string.
absl::StatusOr<std::string> ExportHar(recorder::query::StoreReader& reader,
                                      const recorder::query::TimeWindow& window,
                                      const std::string& relaytap_version);

}  // namespace relaytap::tools::har

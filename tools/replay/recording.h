#pragma once
// The recorded sessions and exchanges replay serves, as recorder/query reads them from the store
// (already redacted), under the names the replay code uses.

#include "recorder/query/replay_rows.h"

namespace relaytap::tools::replay {

using recorder::query::HeaderList;
using recorder::query::ListEntry;
using recorder::query::RecordedEvent;
using recorder::query::RecordedSession;
using recorder::query::ReplayExchange;

}  // namespace relaytap::tools::replay

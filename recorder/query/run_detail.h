#pragma once
// The numbers of a run of audio events (schema version 5, events.run_detail): each member's
// sequence number, arrival time and sizes as varints, written by the recorder and read back by
// replay and the HAR export. Pure.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace relaytap::recorder::query {

// One member as the run blob keeps it.
struct RunMember {
  uint64_t seq = 0;
  int64_t first_us = 0;
  int64_t wire_bytes = 0;
  int64_t payload_bytes = 0;
  int64_t audio_bytes = 0;  // decoded audio bytes (0 for transcript deltas)
  bool operator==(const RunMember&) const = default;
};

// Appends `m` to `blob` as varints relative to `prev` (the previous member; for the first member
// {seq, first_us} of the row itself and zero sizes). `prev_dt` is the previous inter-arrival
// time and is updated. Only changes are written: a member that arrives at the previous member's
// interval with the previous member's sizes costs one byte.
void EncodeRunMember(std::string& blob, const RunMember& prev, int64_t& prev_dt,
                     const RunMember& m);
// Every member of a blob; `first_seq` / `first_us` are the row's. DataLoss for a malformed blob.
absl::StatusOr<std::vector<RunMember>> DecodeRunDetail(std::string_view blob, uint64_t first_seq,
                                                       int64_t first_us);

}  // namespace relaytap::recorder::query

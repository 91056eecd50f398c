#pragma once
// Sizes an operator types on the command line or in a config file: "4GiB", "500M", "1g",
// "65536". Units are binary (K = KiB = 1024); a plain number is bytes. Pure.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace relaytap {

// Digits, optional blanks, an optional unit: B, K/KB/KiB, M/MB/MiB, G/GB/GiB, T/TB/TiB (any case).
// Errors name what was expected.
absl::StatusOr<uint64_t> ParseByteSize(std::string_view text);

// "512 B", "64.0 KiB", "4.0 GiB": one decimal for KiB and up.
std::string FormatByteSize(uint64_t bytes);

}  // namespace relaytap

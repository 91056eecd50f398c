#pragma once
// What the commands that read a store (stats, report, diff, export, replay, prune) share on the
// command line: --db, --since and --until, and writing their answer to a file or stdout.

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "base/private_file.h"
#include "base/status_macros.h"
#include "base/str_cat.h"

namespace relaytap::tools {

struct StoreFlags {
  // One store, or (for the commands that read several) one per --db, read as one.
  std::vector<std::string> dbs = {"relaytap.db"};
  std::string since, until;
};

// --db for a command that reads a store; a set (glob or folder) is read as one store
// (recorder/query/store_set.h).
inline void AddDbFlag(CLI::App* cmd, std::string& db) {
  cmd->add_option("--db", db,
                  "the relaytap store to read: a file, or a rotated set as a quoted glob "
                  "('relaytap*.db') or a folder (every *.db in it)")
      ->capture_default_str();
}

// How many stores a command reads: one (export) or several (stats, report, diff).
enum class Stores { kOne, kSeveral };

// `what` names the rows the window selects ("attempts", "exchanges").
inline void AddStoreFlags(CLI::App* cmd, StoreFlags& f, const std::string& what, Stores stores) {
  if (stores == Stores::kOne) {
    cmd->add_option("--db", f.dbs,
                    "the relaytap store to read: a file, or a rotated set as a quoted glob "
                    "('relaytap*.db') or a folder (every *.db in it)")
        ->expected(1)
        ->capture_default_str();
  } else {
    cmd->add_option("--db", f.dbs,
                    "the relaytap store to read: a file, or a rotated set as a quoted glob "
                    "('relaytap*.db') or a folder (every *.db in it); repeat it to read several "
                    "stores as one (one per host: rows name the machine that recorded them)")
        ->allow_extra_args(false)
        ->capture_default_str();
  }
  cmd->add_option("--since", f.since,
                  what + " that started at or after this time: RFC 3339 or relative (-2h, -1d)");
  cmd->add_option("--until", f.until, what + " that started before this time");
}

// Prints "relaytap COMMAND: message" to stderr and returns `code`, the process's exit code.
inline int Fail(std::string_view command, const absl::Status& st, int code) {
  std::cerr << "relaytap " << command << ": " << st.message() << "\n";
  return code;
}

// The exit code for a failed step: 2 when the input is wrong (no such file, not a relaytap store,
// a bad flag or selector), 1 when reading a good store failed.
inline int ExitCodeFor(const absl::Status& st) {
  switch (st.code()) {
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kInvalidArgument:
      return 2;
    default:
      return 1;
  }
}

// Writes `text` to `path`, or to stdout when `path` is empty or "-". A file is written whole to
// PATH.partial and renamed: a write that fails half-way (a full disk) never leaves a truncated
// answer under the name asked for, nor destroys an earlier one.
inline absl::Status WriteOutput(const std::string& path, const std::string& text) {
  if (path.empty() || path == "-") {
    std::cout << text;
    return absl::OkStatus();
  }
  // Made from the store, so as private as the store (base/private_file.h).
  const std::string partial = path + ".partial";
  RELAYTAP_RETURN_IF_ERROR(MakePrivateFile(partial, /*truncate=*/true));
  std::ofstream out(partial, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  std::error_code ec;
  if (out) std::filesystem::rename(partial, path, ec);
  if (!out || ec) {
    std::filesystem::remove(partial, ec);
    return absl::UnavailableError(StrCat("cannot write ", path));
  }
  return absl::OkStatus();
}

}  // namespace relaytap::tools

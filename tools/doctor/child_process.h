#pragma once
// Runs a program with an explicit environment, its stdout and stderr captured (each capped), and
// kills its whole process group when it outlives its deadline. For `relaytap doctor`'s clients.

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace relaytap::tools::doctor {

struct ChildResult {
  bool started = false;
  std::string start_error;  // why it could not start
  bool timed_out = false;   // killed at its deadline
  int exit_code = -1;       // -1 when killed by a signal
  std::string out;          // stdout, at most kMaxChildOutput bytes
  std::string err;          // stderr, likewise
};

inline constexpr size_t kMaxChildOutput = 256 * 1024;

// The value of `name` in `env` ("NAME=value" entries); empty when unset.
std::string EnvValue(const std::vector<std::string>& env, std::string_view name);

// `env` with `name` set to `value` (replacing any earlier entry).
void SetEnv(std::vector<std::string>& env, std::string_view name, std::string_view value);

// The executable `name` in the directories of `path_value` (a PATH); empty when none.
std::filesystem::path FindProgram(std::string_view name, std::string_view path_value);

// Runs `argv` (argv[0] an absolute path) with `env`, in its own process group, stdin from
// /dev/null. After `timeout` the group gets SIGKILL and the result says timed_out.
ChildResult RunChild(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                     std::chrono::milliseconds timeout);

}  // namespace relaytap::tools::doctor

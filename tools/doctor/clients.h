#pragma once
// The runtimes `relaytap doctor` checks and the tiny clients it runs for them. The client scripts
// are embedded here, written to a private temporary directory for the run and removed after;
// nothing is fetched.

#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace relaytap::tools::doctor {

enum class Program { kCurl, kPython, kNode };

struct ClientCheck {
  std::string_view name;       // "python-requests": what --runtime takes and the report names
  Program program;             // the interpreter (or curl itself)
  std::string_view library;    // argument to the script: "requests", "ws"; empty for curl
  std::string_view trust_key;  // its row in proxy/tls/trust_table.h
  bool websocket = false;      // goes to wss://check.relaytap.invalid/ws instead of https://
};

std::span<const ClientCheck> AllClientChecks();
const ClientCheck* FindClientCheck(std::string_view name);

std::string_view ProgramName(Program p);  // "curl", "python3", "node"

// A directory only this user can read (0700) holding the client scripts; removed, with them, by
// the destructor.
class ScriptDir {
 public:
  static absl::StatusOr<ScriptDir> Create();
  ScriptDir(ScriptDir&& other) noexcept;
  ScriptDir& operator=(ScriptDir&&) = delete;
  ScriptDir(const ScriptDir&) = delete;
  ~ScriptDir();

  const std::filesystem::path& dir() const { return dir_; }
  // The script a program runs (empty for curl, which needs none).
  std::filesystem::path ScriptFor(Program p) const;

 private:
  explicit ScriptDir(std::filesystem::path dir) : dir_(std::move(dir)) {}
  std::filesystem::path dir_;
};

// The scripts' text, for tests.
std::string_view PythonClientScript();
std::string_view NodeClientScript();

}  // namespace relaytap::tools::doctor

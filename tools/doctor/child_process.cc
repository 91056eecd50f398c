#include "tools/doctor/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "base/str_cat.h"

namespace relaytap::tools::doctor {
namespace {

using Clock = std::chrono::steady_clock;

// Closes its descriptors when it goes out of scope.
struct Pipe {
  int read = -1;
  int write = -1;
  ~Pipe() {
    if (read >= 0) ::close(read);
    if (write >= 0) ::close(write);
  }
  bool Open() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return false;
    read = fds[0];
    write = fds[1];
    return true;
  }
  void CloseWrite() {
    if (write >= 0) ::close(write);
    write = -1;
  }
};

int MillisLeft(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() <= 0 ? 0 : static_cast<int>(left.count());
}

std::vector<char*> CStrings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (const std::string& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

// Starts the child in its own process group with stdout/stderr on the pipes.
int Spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env, Pipe& out,
          Pipe& err, pid_t* pid) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out.write, 1);
  posix_spawn_file_actions_adddup2(&actions, err.write, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  std::vector<char*> args = CStrings(argv);
  std::vector<char*> envp = CStrings(env);
  const int rc = ::posix_spawn(pid, args[0], &actions, &attr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  return rc;
}

// Reads both pipes until they close or the deadline passes. False on the deadline.
bool DrainUntil(Pipe& out, Pipe& err, ChildResult& r, Clock::time_point deadline) {
  std::array<pollfd, 2> fds = {pollfd{out.read, POLLIN, 0}, pollfd{err.read, POLLIN, 0}};
  std::array<std::string*, 2> sinks = {&r.out, &r.err};
  char buf[4096];
  while (fds[0].fd >= 0 || fds[1].fd >= 0) {
    const int left = MillisLeft(deadline);
    if (left == 0) return false;
    const int n = ::poll(fds.data(), fds.size(), left);
    if (n < 0 && errno != EINTR) return false;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t got = ::read(fds[i].fd, buf, sizeof(buf));
      if (got > 0) {
        const size_t room = kMaxChildOutput - std::min(kMaxChildOutput, sinks[i]->size());
        sinks[i]->append(buf, std::min(room, static_cast<size_t>(got)));
      } else if (got == 0 || errno != EINTR) {
        fds[i].fd = -1;  // closed (the Pipe closes the descriptor)
      }
    }
  }
  return true;
}

// Waits for the child's exit until the deadline, polling (the pipes may close before it exits),
// without reaping it: its process group stays reserved until the caller has killed what is left
// of it. False on the deadline.
bool AwaitExitUntil(pid_t pid, ChildResult& r, Clock::time_point deadline) {
  for (;;) {
    siginfo_t info;
    std::memset(&info, 0, sizeof(info));
    const int rc = ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT);
    if (rc == 0 && info.si_pid == pid) {
      r.exit_code = info.si_code == CLD_EXITED ? info.si_status : -1;
      return true;
    }
    if (rc != 0 && errno != EINTR) return true;  // not our child any more
    if (MillisLeft(deadline) == 0) return false;
    ::poll(nullptr, 0, 10);
  }
}

}  // namespace

std::string EnvValue(const std::vector<std::string>& env, std::string_view name) {
  for (const std::string& e : env) {
    if (e.size() > name.size() && e[name.size()] == '=' && e.compare(0, name.size(), name) == 0) {
      return e.substr(name.size() + 1);
    }
  }
  return "";
}

void SetEnv(std::vector<std::string>& env, std::string_view name, std::string_view value) {
  std::erase_if(env, [&](const std::string& e) {
    return e.size() > name.size() && e[name.size()] == '=' && e.compare(0, name.size(), name) == 0;
  });
  env.push_back(StrCat(name, "=", value));
}

std::filesystem::path FindProgram(std::string_view name, std::string_view path_value) {
  size_t start = 0;
  while (start <= path_value.size()) {
    size_t end = path_value.find(':', start);
    if (end == std::string_view::npos) end = path_value.size();
    const std::string_view dir = path_value.substr(start, end - start);
    if (!dir.empty()) {
      const std::filesystem::path candidate = std::filesystem::path(dir) / name;
      struct stat st;
      if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
          ::access(candidate.c_str(), X_OK) == 0) {
        return candidate;
      }
    }
    start = end + 1;
  }
  return {};
}

ChildResult RunChild(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                     std::chrono::milliseconds timeout) {
  ChildResult r;
  Pipe out, err;
  if (argv.empty() || !out.Open() || !err.Open()) {
    r.start_error = argv.empty() ? "no program" : StrCat("pipe: ", std::strerror(errno));
    return r;
  }
  pid_t pid = 0;
  if (const int rc = Spawn(argv, env, out, err, &pid); rc != 0) {
    r.start_error = StrCat("starting ", argv[0], ": ", std::strerror(rc));
    return r;
  }
  r.started = true;
  out.CloseWrite();
  err.CloseWrite();
  const Clock::time_point deadline = Clock::now() + timeout;
  r.timed_out = !DrainUntil(out, err, r, deadline) || !AwaitExitUntil(pid, r, deadline);
  if (r.timed_out) r.exit_code = -1;
  // Whatever happened, nothing of the child's group outlives this call. The child is not reaped
  // yet, so its group id cannot have been reused.
  ::kill(-pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);  // SIGKILL cannot be ignored: this returns at once
  return r;
}

}  // namespace relaytap::tools::doctor

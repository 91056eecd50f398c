#!/usr/bin/env bash
# The test command (CI runs exactly this): installs what is missing, checks that every C++ file is
# clang-format clean, then
#   - builds what ships with the `ci` preset (release, warnings are errors, in build/release so that
#     run.sh reuses it), the relaytap binary, and runs the real clients (curl, Python, Node,
#     Chromium) against it, and promtool on configs/prometheus/ and on its /metrics;
#   - builds every test and the benchmark's load generator under the `asan` preset (clang,
#     AddressSanitizer + UBSan, warnings are errors) and runs the tests there (unit, integration,
#     and the fake upstream's own tests);
#   - builds the libFuzzer targets (the clang `fuzz` preset, beside the sanitized tests at the
#     lowest priority) and runs each for a few seconds from its seed corpus (scripts/fuzz.sh);
#   - last, a smoke run of the benchmark (scripts/bench.sh --smoke: fails only if the benchmark
#     itself breaks, never on its figures) with the release relaytap and the sanitized load
#     generator, which the smoke checks for memory errors too (its figures mean nothing anyway),
#     and of the profile by owner (scripts/profile.sh), where perf may sample.
# Each test is built and run once, sanitized: compiling the suite a second time, optimised, took
# half of CI's build time. The optimised build that ships is what the real clients and the
# benchmark exercise.
# Exits non-zero on the first failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

JOBS="${RELAYTAP_JOBS:-$(nproc)}"
START=$SECONDS

banner() {
  printf '\n==== [%4ds] %s ====\n' "$((SECONDS - START))" "$*"
}

trap 'rc=$?; kill $(jobs -p) 2>/dev/null || true; if [ $rc -ne 0 ]; then banner "FAILED (exit $rc)"; fi' EXIT

banner "1/8 install dependencies"
bash scripts/install-deps.sh

banner "2/8 check formatting (clang-format)"
bash scripts/check-format.sh

banner "3/8 build ci: the relaytap binary (release, -Werror)"
cmake --preset ci
cmake --build --preset ci -j"$JOBS" --target relaytap

# A build that waits on tests is started beside them at the lowest priority: it takes only the
# CPU the tests leave idle (they spend much of their time waiting on sockets and timers), so the
# tests run as fast as alone and the build is partly done when they end. Its output goes to LOG,
# printed when it is awaited.
start_beside() {  # LOG COMMAND...: runs COMMAND niced in the background; sets BESIDE_PID
  local log="$1"
  shift
  mkdir -p "$(dirname "$log")"
  nice -n 19 bash -c "$*" >"$log" 2>&1 &
  BESIDE_PID=$!
}
await_beside() {  # PID LOG: waits for it, prints its output, fails if it failed
  local rc=0
  wait "$1" || rc=$?
  tail -n 30 "$2"
  [ "$rc" -eq 0 ] || { echo "failed (exit $rc); full output in $2"; return "$rc"; }
}

banner "4/8 real clients against the release binary (the asan build starts beside them)"
start_beside build/logs/asan-configure.log "cmake --preset asan"
ASAN_CONFIGURE_PID=$BESIDE_PID
ctest --preset ci -L clients
# promtool on configs/prometheus/ and on one real scrape of that binary's --metrics (~1 s).
bash scripts/check-prometheus.sh build/release/tools/relaytap

banner "5/8 build asan: every test and the load generator (clang, ASan + UBSan, -Werror)"
await_beside "$ASAN_CONFIGURE_PID" build/logs/asan-configure.log
cmake --build --preset asan -j"$JOBS" --target relaytap_tests relaytap_loadgen

banner "6/8 test asan (unit, integration; the fuzz targets build beside them)"
start_beside build/logs/fuzz-build.log \
  "cmake --preset fuzz && cmake --build --preset fuzz -j$JOBS"
FUZZ_BUILD_PID=$BESIDE_PID
# The tests bind port 0 and wait with bounded helpers (never on wall-clock), so they run in
# parallel; RELAYTAP_TEST_JOBS=1 runs them one at a time.
TEST_JOBS="${RELAYTAP_TEST_JOBS:-$JOBS}"
ctest --preset asan -L 'unit|integration' --parallel "$TEST_JOBS"

banner "7/8 fuzz (each target ${RELAYTAP_FUZZ_SECONDS:-5} s)"
await_beside "$FUZZ_BUILD_PID" build/logs/fuzz-build.log
# Fails on any crash, leak, hang or broken invariant; the input is kept in build/fuzz/artifacts.
RELAYTAP_FUZZ_NO_BUILD=1 RELAYTAP_FUZZ_PARALLEL="${RELAYTAP_FUZZ_PARALLEL:-$JOBS}" \
  bash scripts/fuzz.sh "${RELAYTAP_FUZZ_SECONDS:-5}"

banner "8/8 benchmark smoke (direct, relaytap, recording, mitmproxy) and profile smoke"
bash scripts/bench.sh --smoke --out build/release/bench-smoke.json \
  --loadgen build/asan/tools/bench/relaytap_loadgen
# The profile of the proxy's CPU by owner (scripts/profile.sh), where this machine lets perf
# sample: fails if the script breaks, never on its figures.
if perf stat -e cpu-clock -- true >/dev/null 2>&1; then
  bash scripts/profile.sh --duration 6 --sessions 10 \
    --loadgen build/asan/tools/bench/relaytap_loadgen
else
  echo "profile smoke skipped: perf cannot sample on this machine"
fi

banner "ALL PASSED"

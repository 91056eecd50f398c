#!/usr/bin/env bash
# The test command (CI runs exactly this): installs what is missing, checks that every C++ file is
# clang-format clean, then
#   - builds what ships with the `ci` preset (release, warnings are errors, in build/release so that
#     run.sh reuses it), the relaytap binary, and runs the real clients (curl, Python, Node,
#     Chromium) against it;
#   - builds every test and the benchmark's load generator under the `asan` preset (clang,
#     AddressSanitizer + UBSan, warnings are errors) and runs the tests there (unit, integration,
#     and the fake upstream's own tests);
#   - builds the libFuzzer targets (the clang `fuzz` preset) and runs each for a few seconds from
#     its seed corpus (scripts/fuzz.sh);
#   - last, a smoke run of the benchmark (scripts/bench.sh --smoke: fails only if the benchmark
#     itself breaks, never on its figures) with the release relaytap and the sanitized load
#     generator, which the smoke checks for memory errors too (its figures mean nothing anyway).
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

trap 'rc=$?; if [ $rc -ne 0 ]; then banner "FAILED (exit $rc)"; fi' EXIT

banner "1/8 install dependencies"
bash scripts/install-deps.sh

banner "2/8 check formatting (clang-format)"
bash scripts/check-format.sh

banner "3/8 build ci: the relaytap binary (release, -Werror)"
cmake --preset ci
cmake --build --preset ci -j"$JOBS" --target relaytap

banner "4/8 real clients against the release binary"
ctest --preset ci -L clients

banner "5/8 build asan: every test and the load generator (clang, ASan + UBSan, -Werror)"
cmake --preset asan
cmake --build --preset asan -j"$JOBS" --target relaytap_tests relaytap_loadgen

banner "6/8 test asan (unit, integration)"
# The tests bind port 0 and wait with bounded helpers (never on wall-clock), so they run in
# parallel; RELAYTAP_TEST_JOBS=1 runs them one at a time.
TEST_JOBS="${RELAYTAP_TEST_JOBS:-$JOBS}"
ctest --preset asan -L 'unit|integration' --parallel "$TEST_JOBS"

banner "7/8 fuzz (each target ${RELAYTAP_FUZZ_SECONDS:-5} s)"
# Fails on any crash, leak, hang or broken invariant; the input is kept in build/fuzz/artifacts.
RELAYTAP_FUZZ_PARALLEL="${RELAYTAP_FUZZ_PARALLEL:-$JOBS}" \
  bash scripts/fuzz.sh "${RELAYTAP_FUZZ_SECONDS:-5}"

banner "8/8 benchmark smoke (direct, relaytap, recording, mitmproxy)"
bash scripts/bench.sh --smoke --out build/release/bench-smoke.json \
  --loadgen build/asan/tools/bench/relaytap_loadgen

banner "ALL PASSED"

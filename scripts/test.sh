#!/usr/bin/env bash
# The test command (CI runs exactly this): installs what is missing, checks that every C++ file is
# clang-format clean, builds the `ci` preset (the release build with warnings as errors, in
# build/release so that run.sh reuses it) and runs every test (unit, integration, clients), then
# builds the asan preset and runs the unit and integration tests under AddressSanitizer + UBSan
# (all but the fake upstream's own tests, label `tooling`), then builds the libFuzzer targets (the
# clang `fuzz` preset) and runs each for a few seconds from its seed corpus (scripts/fuzz.sh), and
# last a smoke run of the benchmark (scripts/bench.sh --smoke: fails only if the benchmark itself
# breaks, never on its figures).
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

banner "3/8 build ci (release, warnings are errors)"
cmake --preset ci
cmake --build --preset ci -j"$JOBS"

banner "4/8 test release (unit, integration, clients)"
# The tests bind port 0 and wait with bounded helpers (never on wall-clock), so they run in
# parallel; RELAYTAP_TEST_JOBS=1 runs them one at a time.
TEST_JOBS="${RELAYTAP_TEST_JOBS:-$JOBS}"
ctest --preset ci --parallel "$TEST_JOBS"

banner "5/8 build asan"
cmake --preset asan
cmake --build --preset asan -j"$JOBS" --target relaytap_sanitized_tests

banner "6/8 test asan (unit, integration)"
ctest --preset asan -L 'unit|integration' -LE tooling --parallel "$TEST_JOBS"

banner "7/8 fuzz (each target ${RELAYTAP_FUZZ_SECONDS:-10} s)"
# Fails on any crash, leak, hang or broken invariant; the input is kept in build/fuzz/artifacts.
RELAYTAP_FUZZ_PARALLEL="${RELAYTAP_FUZZ_PARALLEL:-$JOBS}" \
  bash scripts/fuzz.sh "${RELAYTAP_FUZZ_SECONDS:-10}"

banner "8/8 benchmark smoke (direct, relaytap, recording, mitmproxy)"
bash scripts/bench.sh --smoke --out build/release/bench-smoke.json

banner "ALL PASSED"

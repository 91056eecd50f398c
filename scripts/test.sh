#!/usr/bin/env bash
# The test command (CI runs exactly this): installs what is missing, builds the release preset and
# runs every test (unit, integration, clients), then builds the asan preset and runs the unit and
# integration tests under AddressSanitizer + UBSan, and last a smoke run of the benchmark
# (scripts/bench.sh --smoke: fails only if the benchmark itself breaks, never on its figures).
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

banner "1/6 install dependencies"
bash scripts/install-deps.sh

banner "2/6 build release"
cmake --preset release
cmake --build --preset release -j"$JOBS"

banner "3/6 test release (unit, integration, clients)"
# The tests bind port 0 and wait with bounded helpers (never on wall-clock), so they run in
# parallel; RELAYTAP_TEST_JOBS=1 runs them one at a time.
TEST_JOBS="${RELAYTAP_TEST_JOBS:-$JOBS}"
ctest --preset release --parallel "$TEST_JOBS"

banner "4/6 build asan"
cmake --preset asan
cmake --build --preset asan -j"$JOBS" --target relaytap_tests

banner "5/6 test asan (unit, integration)"
ctest --preset asan -L 'unit|integration' --parallel "$TEST_JOBS"

banner "6/6 benchmark smoke (direct, relaytap, recording, mitmproxy)"
bash scripts/bench.sh --smoke --out build/release/bench-smoke.json

banner "ALL PASSED"

#!/usr/bin/env bash
# Builds the libFuzzer targets (the `fuzz` preset: clang, ASan + UBSan, tests/fuzz only) and runs
# each for SECONDS (default 10) from a scratch copy of its seed corpus (tests/fuzz/corpus/<target>,
# so the repository is not modified). Prints per target: run time, executions, exec/s, corpus
# size and the result; exits non-zero if any target crashed, leaked, timed out or broke an
# invariant (the input is saved in build/fuzz/artifacts/<target>/: add it to the corpus when the
# fix is in).
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#   RELAYTAP_FUZZ_PARALLEL=N   run N targets at a time (default 1)
#   RELAYTAP_FUZZ_NO_BUILD=1   reuse build/fuzz as it is
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SECS="${1:-10}"
shift $(($# > 0 ? 1 : 0))
ALL_TARGETS=(frame_tap_fuzz http_head_fuzz json_redact_fuzz redact_text_fuzz sdp_shape_fuzz session_cap_fuzz)
TARGETS=("$@")
[ "${#TARGETS[@]}" -gt 0 ] || TARGETS=("${ALL_TARGETS[@]}")
PARALLEL="${RELAYTAP_FUZZ_PARALLEL:-1}"
JOBS="${RELAYTAP_JOBS:-$(nproc)}"
BUILD=build/fuzz
OUT="$BUILD/runs"

# Largest input per target: a few times the largest seed, small enough to stay fast.
max_len() {
  case "$1" in
    redact_text_fuzz) echo 4096 ;;
    http_head_fuzz) echo 8192 ;;
    *) echo 16384 ;;
  esac
}

if [ "${RELAYTAP_FUZZ_NO_BUILD:-0}" != 1 ]; then
  nice cmake --preset fuzz >/dev/null
  nice cmake --build --preset fuzz -j"$JOBS"
fi

run_one() {
  local t="$1" corpus="$OUT/$1/corpus" artifacts="$BUILD/artifacts/$1/" log="$OUT/$1/log"
  rm -rf "$OUT/$t"
  mkdir -p "$corpus" "$artifacts"
  cp tests/fuzz/corpus/"$t"/* "$corpus"/
  local start=$SECONDS rc=0
  # -timeout: one input taking 10 s is a hang; -rss_limit_mb: memory growth is a finding too.
  nice "$BUILD/tests/fuzz/$t" -max_total_time="$SECS" -max_len="$(max_len "$t")" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts" "$corpus" \
    >"$log" 2>&1 || rc=$?
  local took=$((SECONDS - start))
  local execs cov files kb result=OK
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  execs="${execs:-0}"
  cov="$(grep -ao 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)"
  files="$(find "$corpus" -type f | wc -l)"
  kb="$(du -sk --apparent-size "$corpus" | cut -f1)"
  if [ "$rc" -ne 0 ]; then
    result="FAILED (exit $rc): $(grep -m1 -E 'ERROR: |invariant broken|deadly signal' "$log" || true)"
    result="$result; see $log and $artifacts"
  fi
  printf '%-18s %5ds %11s execs %7s exec/s  cov %5s  corpus %5s files %6s KB  %s\n' "$t" \
    "$took" "$execs" "$((execs / (took > 0 ? took : 1)))" "${cov:-?}" "$files" "$kb" "$result" \
    >"$OUT/$t.summary"
  return "$rc"
}

mkdir -p "$OUT"
failed=0
pids=()
for t in "${TARGETS[@]}"; do
  run_one "$t" &
  pids+=($!)
  if [ "${#pids[@]}" -ge "$PARALLEL" ]; then
    wait "${pids[0]}" || failed=1
    pids=("${pids[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p" || failed=1; done

echo "fuzz: ${SECS}s per target"
for t in "${TARGETS[@]}"; do cat "$OUT/$t.summary"; done
exit "$failed"

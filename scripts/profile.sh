#!/usr/bin/env bash
# relaytap's own share of the proxy's CPU (issue #19's rule, BENCHMARKS.md): runs one workload
# through `relaytap proxy` against the benchmark's TLS echo upstream (relaytap_loadgen upstream),
# samples the proxy with `perf record` in the middle of the run, and groups the samples by who
# spends them (scripts/profile_shares.py): the kernel, OpenSSL, the C library, SQLite and
# relaytap's own code. The own share is Asio + relaytap's code + malloc/free + memcpy. Several
# runs print each run's groups and the median own share. Loopback only. Needs perf (Debian:
# apt-get install linux-perf) and permission to profile (root, or kernel.perf_event_paranoid <= 1).
#
#   scripts/profile.sh [--workload realtime|saturate] [--sessions 50] [--duration 12] [--record]
#                      [--runs 1] [--freq 3999] [--relaytap BIN] [--loadgen BIN] [--keep DIR]
# --record: the proxy records to a temporary store (default: --no-record). --keep DIR keeps each
# run's perf.data and report there.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RELAYTAP="$ROOT/build/release/tools/relaytap"
LOADGEN="$ROOT/build/release/tools/bench/relaytap_loadgen"
WORKLOAD=realtime
SESSIONS=""
DURATION=12
RECORD=0
RUNS=1
FREQ=3999
KEEP=""

while [ $# -gt 0 ]; do
  case "$1" in
    --workload) WORKLOAD="$2"; shift ;;
    --sessions) SESSIONS="$2"; shift ;;
    --duration) DURATION="$2"; shift ;;
    --record) RECORD=1 ;;
    --runs) RUNS="$2"; shift ;;
    --freq) FREQ="$2"; shift ;;
    --relaytap) RELAYTAP="$2"; shift ;;
    --loadgen) LOADGEN="$2"; shift ;;
    --keep) KEEP="$2"; shift ;;
    -h|--help) sed -n '2,14p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "profile: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
case "$WORKLOAD" in
  realtime) SESSIONS=${SESSIONS:-50} ;;
  saturate) SESSIONS=${SESSIONS:-4} ;;
  *) echo "profile: --workload is realtime or saturate, not $WORKLOAD" >&2; exit 2 ;;
esac
if [ "$DURATION" -lt 6 ]; then echo "profile: --duration must be at least 6 (s)" >&2; exit 2; fi
command -v perf >/dev/null || { echo "profile: perf is missing (apt-get install linux-perf)" >&2; exit 2; }
for bin in "$RELAYTAP" "$LOADGEN"; do
  [ -x "$bin" ] || { echo "profile: $bin is missing (cmake --build --preset release)" >&2; exit 2; }
done

# shellcheck source=lib/workdir.sh
source "$ROOT/scripts/lib/workdir.sh"
use_workdir relaytap-profile
log() { printf '[profile %4ds] %s\n' "$SECONDS" "$*" >&2; }
# shellcheck source=lib/wait_line.sh
source "$ROOT/scripts/lib/wait_line.sh"
# shellcheck source=lib/echo_upstream.sh
source "$ROOT/scripts/lib/echo_upstream.sh"

start_echo_upstream "$LOADGEN"
TARGET="$ECHO_TARGET"
log "upstream on $TARGET; $WORKLOAD, $SESSIONS sessions, ${DURATION} s, recording $([ $RECORD = 1 ] && echo on || echo off), $RUNS run(s)"

OWN=()
for run in $(seq "$RUNS"); do
  rec=(--no-record)
  [ "$RECORD" = 1 ] && rec=(--db "$WORK/run$run.db")
  "$RELAYTAP" proxy --listen 127.0.0.1:0 --ca-dir "$WORK/relaytap-ca" --upstream-ca "$WORK/leaf.pem" \
    --intercept localhost "${rec[@]}" >"$WORK/proxy.out" 2>"$WORK/proxy.log" &
  proxy=$!
  PIDS+=("$proxy")
  addr="127.0.0.1:$(wait_line "$WORK/proxy.out" '^relaytap proxy listening on .*:\([0-9]*\)$')"
  ca="$("$RELAYTAP" ca path --ca-dir "$WORK/relaytap-ca")"
  "$LOADGEN" "$WORKLOAD" --target "$TARGET" --ca "$ca" --proxy "$addr" --sessions "$SESSIONS" \
    --duration "$DURATION" --watch-pid "$proxy" >"$WORK/load.json" 2>"$WORK/load.err" &
  load=$!
  # The middle of the run: sessions open, not yet draining.
  sleep 3
  perf record -F "$FREQ" -p "$proxy" -o "$WORK/perf.data" -- sleep $((DURATION - 4)) \
    >/dev/null 2>"$WORK/perf.err" || { cat "$WORK/perf.err" >&2; exit 1; }
  wait "$load" || { cat "$WORK/load.err" >&2; exit 1; }
  kill -TERM "$proxy" 2>/dev/null || true
  wait "$proxy" 2>/dev/null || true
  perf report -i "$WORK/perf.data" --no-children --sort dso,sym --stdio 2>/dev/null \
    >"$WORK/report.txt"
  echo "== run $run: $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["msgs_per_s"], "msgs/s,", round(d["proxy_cpu_s_per_gb"], 2), "proxy CPU s/GB (profiled)")' "$WORK/load.json")"
  python3 "$ROOT/scripts/profile_shares.py" "$WORK/report.txt"
  OWN+=("$(python3 "$ROOT/scripts/profile_shares.py" --own "$WORK/report.txt")")
  if [ -n "$KEEP" ]; then
    mkdir -p "$KEEP/run$run"
    cp "$WORK/perf.data" "$WORK/report.txt" "$WORK/load.json" "$KEEP/run$run/"
  fi
  rm -f "$WORK/perf.data" "$WORK/run$run.db"*
done
python3 -c 'import statistics,sys; v=[float(x) for x in sys.argv[1:]]; print("own share per run:", ", ".join(f"{x:.1f} %" for x in v), f"| median {statistics.median(v):.1f} %")' "${OWN[@]}"

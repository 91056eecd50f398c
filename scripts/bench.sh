#!/usr/bin/env bash
# Benchmarks relaytap (issue #5, BENCHMARKS.md): in ONE invocation, on this machine, the same
# workloads run four ways against the benchmark's TLS echo upstream (relaytap_loadgen upstream):
#   direct        client -> upstream (TLS)
#   relaytap      client -> relaytap proxy --no-record -> upstream
#   relaytap_rec  client -> relaytap proxy (recording to a temporary database) -> upstream
#   mitmproxy     client -> mitmdump -> upstream
# Workloads: realtime cadence (per --sessions N), saturation, HTTP JSON + SSE, idle sessions (on a
# fresh proxy, RSS per session) and the proxy's CPU seconds per GB. Prints one table, writes JSON.
# Exits non-zero only if the benchmark itself breaks (a path carried nothing), never on figures.
#
#   scripts/bench.sh [--smoke] [--sessions "50 200 1000"] [--duration 10] [--idle 10000 (0: skip)]
#                    [--sat-sessions 4] [--http-connections 8] [--modes "direct relaytap ..."]
#                    [--repeat 1] [--out FILE.json] [--relaytap BIN] [--relaytap-b BIN]
#                    [--loadgen BIN]
# --repeat N runs every mode's workloads N times, the modes in turn (round 1: each mode, round 2:
# each mode, ...), and reports the median of each figure per mode and the ratios between those
# medians, plus each judged figure's spread. --relaytap-b BIN adds the modes relaytap_b and
# relaytap_rec_b (the same with BIN, e.g. main's binary): list them in --modes to compare two
# builds in one run; the report then has ab_* ratios (A over B, from the medians).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RELAYTAP="$ROOT/build/release/tools/relaytap"
LOADGEN="$ROOT/build/release/tools/bench/relaytap_loadgen"
SESSIONS="50 200 1000"
DURATION=10
IDLE=10000
SAT_SESSIONS=4
HTTP_CONNECTIONS=8
SSE_REQUESTS=20
DRAIN=5
SETTLE=2
MODES="direct relaytap relaytap_rec mitmproxy"
OUT="$ROOT/build/bench.json"
PRESET=full
REPEAT=1
RELAYTAP_B=""

while [ $# -gt 0 ]; do
  case "$1" in
    --smoke)
      PRESET=smoke SESSIONS="10" DURATION=1 IDLE=100 SAT_SESSIONS=2 HTTP_CONNECTIONS=2
      SSE_REQUESTS=3 DRAIN=2 SETTLE=0.3 ;;
    --sessions) SESSIONS="$2"; shift ;;
    --duration) DURATION="$2"; shift ;;
    --idle) IDLE="$2"; shift ;;
    --sat-sessions) SAT_SESSIONS="$2"; shift ;;
    --http-connections) HTTP_CONNECTIONS="$2"; shift ;;
    --modes) MODES="$2"; shift ;;
    --repeat) REPEAT="$2"; shift ;;
    --relaytap-b) RELAYTAP_B="$2"; shift ;;
    --out) OUT="$2"; shift ;;
    --relaytap) RELAYTAP="$2"; shift ;;
    --loadgen) LOADGEN="$2"; shift ;;
    -h|--help) sed -n '2,20p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "bench: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

# The default binaries are built (or brought up to date) here: the load generator is not part of
# the default build.
if [ "$RELAYTAP" = "$ROOT/build/release/tools/relaytap" ] &&
   [ "$LOADGEN" = "$ROOT/build/release/tools/bench/relaytap_loadgen" ]; then
  if [ ! -f "$ROOT/build/release/CMakeCache.txt" ]; then
    cmake --preset release >&2
  fi
  cmake --build "$ROOT/build/release" -j"${RELAYTAP_JOBS:-$(nproc)}" \
    --target relaytap relaytap_loadgen >&2
fi
if ! [[ "$REPEAT" =~ ^[1-9][0-9]*$ ]]; then
  echo "bench: --repeat wants a count of 1 or more, not '$REPEAT'" >&2
  exit 2
fi
if [[ " $MODES " == *"_b "* ]] && [ -z "$RELAYTAP_B" ]; then
  echo "bench: the modes relaytap_b and relaytap_rec_b need --relaytap-b BIN" >&2
  exit 2
fi
for bin in "$RELAYTAP" "$LOADGEN" ${RELAYTAP_B:+"$RELAYTAP_B"}; do
  if [ ! -x "$bin" ]; then
    echo "bench: $bin missing; build it: cmake --preset release && cmake --build --preset release --target relaytap relaytap_loadgen" >&2
    exit 2
  fi
done

# mitmproxy (Debian's mitmdump) is installed here when missing: CI machines are fresh.
if [[ " $MODES " == *" mitmproxy "* ]] && ! command -v mitmdump >/dev/null 2>&1; then
  echo "bench: installing mitmproxy (mitmdump)"
  SUDO=()
  [ "$(id -u)" -ne 0 ] && SUDO=(sudo)
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends mitmproxy
fi

# Every idle session holds 2 descriptors in a proxy (client + upstream side).
NOTES=()
want_fds=$((2 * IDLE + 1024))
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt "$want_fds" ]; then
  capped=$(((hard - 1024) / 2))
  NOTES+=("idle sessions capped at $capped (ulimit -Hn $hard < $want_fds needed for $IDLE)")
  IDLE=$capped
  want_fds=$hard
fi
soft=$(ulimit -n)
if [ "$soft" != unlimited ] && [ "$soft" -lt "$want_fds" ]; then ulimit -n "$want_fds"; fi

# shellcheck source=lib/workdir.sh
source "$ROOT/scripts/lib/workdir.sh"
use_workdir relaytap-bench

log() { printf '[bench %4ds] %s\n' "$SECONDS" "$*" >&2; }

# Stops one process we started: SIGTERM, then SIGKILL after 10 s.
stop_pid() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# shellcheck source=lib/wait_line.sh
source "$ROOT/scripts/lib/wait_line.sh"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# A CA and a leaf for "localhost" for the upstream.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -keyout "$WORK/ca.key" -out "$WORK/ca.pem" -subj "/CN=relaytap bench CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/leaf.key" \
  -out "$WORK/leaf.csr" -subj "/CN=localhost" 2>/dev/null
printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=critical,CA:FALSE" \
  "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" > "$WORK/leaf.ext"
openssl x509 -req -in "$WORK/leaf.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca.key" \
  -CAcreateserial -days 2 -extfile "$WORK/leaf.ext" -out "$WORK/leaf.pem" 2>/dev/null

"$LOADGEN" upstream --cert "$WORK/leaf.pem" --key "$WORK/leaf.key" >"$WORK/upstream.out" 2>&1 &
PIDS+=($!)
UPSTREAM_PORT=$(wait_line "$WORK/upstream.out" '^listening on .*:\([0-9]*\)$')
TARGET="localhost:$UPSTREAM_PORT"
log "upstream on $TARGET; modes: $MODES; preset $PRESET"

PROXY_PID=""
PROXY_ADDR=""
CLIENT_CA=""
# Starts the proxy of MODE (none for direct); sets PROXY_PID, PROXY_ADDR, CLIENT_CA.
start_proxy() {
  local mode=$1 tag=$2
  PROXY_PID="" PROXY_ADDR="" CLIENT_CA="$WORK/ca.pem"
  case "$mode" in
    direct) return 0 ;;
    relaytap|relaytap_rec|relaytap_b|relaytap_rec_b)
      local rec=(--no-record) bin="$RELAYTAP"
      [ "${mode%_b}" = relaytap_rec ] && rec=(--db "$WORK/$tag.db")
      [ "${mode%_b}" != "$mode" ] && bin="$RELAYTAP_B"
      # The previous round's file holds the previous proxy's port: gone before the new one writes.
      rm -f "$WORK/$tag.out"
      "$bin" proxy --listen 127.0.0.1:0 --ca-dir "$WORK/relaytap-ca" \
        --upstream-ca "$WORK/ca.pem" --intercept localhost "${rec[@]}" \
        >"$WORK/$tag.out" 2>"$WORK/$tag.log" &
      PROXY_PID=$!
      PIDS+=("$PROXY_PID")
      PROXY_ADDR="127.0.0.1:$(wait_line "$WORK/$tag.out" '^relaytap proxy listening on .*:\([0-9]*\)$')"
      CLIENT_CA="$("$RELAYTAP" ca path --ca-dir "$WORK/relaytap-ca")" ;;
    mitmproxy)
      local port
      port=$(free_port)
      mitmdump -q --listen-host 127.0.0.1 --listen-port "$port" --set confdir="$WORK/mitmproxy" \
        --set ssl_verify_upstream_trusted_ca="$WORK/ca.pem" >"$WORK/$tag.log" 2>&1 &
      PROXY_PID=$!
      PIDS+=("$PROXY_PID")
      for _ in $(seq 300); do
        (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        kill -0 "$PROXY_PID" 2>/dev/null || { cat "$WORK/$tag.log" >&2; return 1; }
        sleep 0.1
      done
      PROXY_ADDR="127.0.0.1:$port"
      CLIENT_CA="$WORK/mitmproxy/mitmproxy-ca-cert.pem" ;;
    *) echo "bench: unknown mode $mode" >&2; return 2 ;;
  esac
}

# Runs one workload through the current proxy; appends {"mode","figures"} to results.jsonl.
run_load() {
  local mode=$1 workload=$2; shift 2
  local args=(--target "$TARGET" --ca "$CLIENT_CA" --drain "$DRAIN" --settle "$SETTLE")
  [ -n "$PROXY_ADDR" ] && args+=(--proxy "$PROXY_ADDR")
  [ -n "$PROXY_PID" ] && args+=(--watch-pid "$PROXY_PID")
  log "$mode: $workload $*"
  local out
  out=$(timeout 900 "$LOADGEN" "$workload" "${args[@]}" "$@")
  printf '{"mode":"%s","round":%d,"figures":%s}\n' "$mode" "$ROUND" "$out" >>"$WORK/results.jsonl"
}

# The recorder's closing line ("N observations written, M dropped, G gaps recorded").
recorder_summary() {
  local mode=$1 tag=$2
  local line
  line=$(grep -o 'recorder closed: .*' "$WORK/$tag.log" | tail -1 || true)
  printf '{"mode":"%s","round":%d,"recorder":"%s"}\n' "$mode" "$ROUND" "${line//\"/}" \
    >>"$WORK/results.jsonl"
}

# CPU time the hypervisor gave to other guests during the run (the steal column of /proc/stat): on
# a shared VM it is what makes runs of the same binary differ, so the report states it.
cpu_steal_ticks() { awk '/^cpu /{print $9}' /proc/stat; }
STEAL_START=$(cpu_steal_ticks)
WALL_START=$SECONDS

# One round: every mode's workloads, one mode after the other.
run_round() {
  for mode in $MODES; do
    start_proxy "$mode" "$mode"
    for n in $SESSIONS; do
      run_load "$mode" realtime --sessions "$n" --duration "$DURATION"
    done
    run_load "$mode" saturate --sessions "$SAT_SESSIONS" --duration "$DURATION"
    run_load "$mode" http --sessions "$HTTP_CONNECTIONS" --duration "$DURATION" \
      --sse-requests "$SSE_REQUESTS"
    if [ -n "$PROXY_PID" ]; then
      stop_pid "$PROXY_PID"
      [ "${mode%_b}" = relaytap_rec ] && recorder_summary "$mode" "$mode"
      rm -f "$WORK/$mode.db" "$WORK/$mode.db-wal" "$WORK/$mode.db-shm"
      # Idle scale on a fresh proxy so earlier traffic does not blur the RSS per session
      # (--idle 0 skips it).
      if [ "$IDLE" -gt 0 ]; then
        start_proxy "$mode" "$mode-idle"
        run_load "$mode" idle --sessions "$IDLE" --open-concurrency 64
        stop_pid "$PROXY_PID"
        rm -f "$WORK/$mode-idle.db" "$WORK/$mode-idle.db-wal" "$WORK/$mode-idle.db-shm"
      fi
    fi
  done
}

for ROUND in $(seq "$REPEAT"); do
  [ "$REPEAT" -gt 1 ] && log "round $ROUND of $REPEAT"
  run_round
done

export BENCH_STEAL_S BENCH_WALL_S
BENCH_STEAL_S=$(awk -v a="$STEAL_START" -v b="$(cpu_steal_ticks)" -v hz="$(getconf CLK_TCK)" \
  'BEGIN{printf "%.2f", (b - a) / hz}')
BENCH_WALL_S=$((SECONDS - WALL_START))

NOTES_JSON=$(printf '%s\n' "${NOTES[@]+"${NOTES[@]}"}" | python3 -c \
  'import json,sys; print(json.dumps([l.strip() for l in sys.stdin if l.strip()]))')
python3 "$ROOT/scripts/bench_report.py" "$WORK/results.jsonl" "$OUT" "$PRESET" "$NOTES_JSON"

#!/usr/bin/env bash
# CPU per /metrics scrape of `relaytap proxy --metrics` while it holds N open realtime sessions
# (default 1000, idle, opened by the benchmark's load generator through the proxy to its TLS echo
# upstream). The proxy's CPU time (utime + stime from /proc/PID/stat) over SCRAPES back-to-back
# scrapes, minus its CPU time over an equally long window without scrapes, divided by SCRAPES.
# Usage: scripts/scrape-cost.sh [--sessions N] [--scrapes N] [--relaytap BIN] [--loadgen BIN]
# Builds nothing: cmake --build --preset ci --target relaytap relaytap_loadgen first.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RELAYTAP="$ROOT/build/release/tools/relaytap"
LOADGEN="$ROOT/build/release/tools/bench/relaytap_loadgen"
SESSIONS=1000
SCRAPES=500
while [ $# -gt 0 ]; do
  case "$1" in
    --sessions) SESSIONS="$2"; shift ;;
    --scrapes) SCRAPES="$2"; shift ;;
    --relaytap) RELAYTAP="$2"; shift ;;
    --loadgen) LOADGEN="$2"; shift ;;
    *) echo "usage: $0 [--sessions N] [--scrapes N] [--relaytap BIN] [--loadgen BIN]" >&2; exit 2 ;;
  esac
  shift
done

# shellcheck source=lib/workdir.sh
source "$ROOT/scripts/lib/workdir.sh"
use_workdir relaytap-scrape-cost

# shellcheck source=lib/wait_line.sh
source "$ROOT/scripts/lib/wait_line.sh"
# shellcheck source=lib/echo_upstream.sh
source "$ROOT/scripts/lib/echo_upstream.sh"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

start_echo_upstream "$LOADGEN"
TARGET="$ECHO_TARGET"

"$RELAYTAP" proxy --listen 127.0.0.1:0 --metrics 127.0.0.1:0 --ca-dir "$WORK/ca" \
  --upstream-ca "$WORK/leaf.pem" --intercept localhost --db "$WORK/relaytap.db" \
  >"$WORK/proxy.out" 2>"$WORK/proxy.log" &
PROXY=$!
PIDS+=("$PROXY")
PROXY_ADDR="127.0.0.1:$(wait_line "$WORK/proxy.out" '^relaytap proxy listening on .*:\([0-9]*\)$')"
URL="$(wait_line "$WORK/proxy.log" '.*metrics on \(http:[^ ]*\/metrics\).*')"

# Holds the sessions open (idle) long enough for both measuring windows.
"$LOADGEN" idle --target "$TARGET" --proxy "$PROXY_ADDR" --ca "$("$RELAYTAP" ca path --ca-dir "$WORK/ca")" \
  --sessions "$SESSIONS" --open-concurrency 64 --settle 120 >"$WORK/idle.out" 2>&1 &
PIDS+=($!)
open=0
for _ in $(seq 600); do  # up to 60 s
  open=$(curl -s --max-time 5 "$URL" | awk '/^relaytap_open_connections /{print $2}')
  [ "${open:-0}" -ge "$SESSIONS" ] && break
  sleep 0.1
done
if [ "${open:-0}" -lt "$SESSIONS" ]; then
  echo "scrape-cost: only ${open:-0} of $SESSIONS sessions open" >&2
  exit 1
fi
sleep 2  # let the opening burst's recording settle

HZ=$(getconf CLK_TCK)
before=$(cpu_ticks "$PROXY")
start=$(date +%s.%N)
for _ in $(seq "$SCRAPES"); do curl -s --max-time 5 "$URL" >/dev/null; done
end=$(date +%s.%N)
scraped=$(( $(cpu_ticks "$PROXY") - before ))
window=$(awk -v a="$start" -v b="$end" 'BEGIN{print b - a}')
before=$(cpu_ticks "$PROXY")
sleep "$window"
idle=$(( $(cpu_ticks "$PROXY") - before ))
bytes=$(curl -s --max-time 5 "$URL" | wc -c)
awk -v s="$scraped" -v i="$idle" -v n="$SCRAPES" -v hz="$HZ" -v w="$window" -v o="$open" \
  -v b="$bytes" 'BEGIN{
  printf "open sessions %d; %d scrapes in %.2f s; proxy CPU %.3f s scraping, %.3f s idle window\n",
    o, n, w, s / hz, i / hz;
  printf "CPU per scrape: %.1f us (%d bytes per /metrics body)\n", (s - i) / hz / n * 1e6, b }'

#!/usr/bin/env bash
# Checks configs/prometheus/ with promtool (Debian's prometheus package) and the /metrics body of
# a real relaytap: `relaytap proxy --metrics` on loopback ports of its own choosing, one scrape,
# `promtool check metrics` on it. Usage: scripts/check-prometheus.sh [RELAYTAP_BINARY]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$(realpath -m "${1:-$ROOT/build/release/tools/relaytap}")"  # before the cd below
cd "$ROOT/configs/prometheus"
promtool check config prometheus.yml
promtool check config federate.yml
promtool check rules relaytap.rules.yml

WORK="$(mktemp -d)"
PID=""
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

"$BIN" proxy --listen 127.0.0.1:0 --metrics 127.0.0.1:0 --db "$WORK/relaytap.db" \
  --ca-dir "$WORK/ca" >"$WORK/out.log" 2>"$WORK/err.log" &
PID=$!
URL=""
for _ in $(seq 1 100); do  # up to 10 s
  URL="$(grep -o 'metrics on http://[^ ]*/metrics' "$WORK/err.log" | sed 's/^metrics on //' || true)"
  [ -n "$URL" ] && break
  kill -0 "$PID" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$URL" ]; then
  echo "check-prometheus: relaytap did not report its metrics address:" >&2
  cat "$WORK/err.log" >&2
  exit 1
fi
curl -sS --max-time 10 "$URL" >"$WORK/metrics.txt"
grep -q '^# TYPE relaytap_ws_sessions_total counter' "$WORK/metrics.txt"
promtool check metrics <"$WORK/metrics.txt"
echo "check-prometheus: configs and a real scrape ($URL) pass promtool"

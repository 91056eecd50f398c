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
#                    [--out FILE.json] [--relaytap BIN] [--loadgen BIN]
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
    --out) OUT="$2"; shift ;;
    --relaytap) RELAYTAP="$2"; shift ;;
    --loadgen) LOADGEN="$2"; shift ;;
    -h|--help) sed -n '2,16p' "${BASH_SOURCE[0]}"; exit 0 ;;
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
for bin in "$RELAYTAP" "$LOADGEN"; do
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

WORK="$(mktemp -d /tmp/relaytap-bench.XXXXXX)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

log() { printf '[bench %4ds] %s\n' "$SECONDS" "$*" >&2; }

# Stops one process we started: SIGTERM, then SIGKILL after 10 s.
stop_pid() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# Waits (bounded) until FILE has a line matching REGEX; prints the first capture group.
wait_line() {
  local file=$1 regex=$2
  for _ in $(seq 300); do
    local got
    got=$(sed -n "s/$regex/\\1/p" "$file" | head -1)
    if [ -n "$got" ]; then echo "$got"; return 0; fi
    sleep 0.1
  done
  echo "bench: timed out waiting for '$regex' in $file:" >&2
  cat "$file" >&2
  return 1
}

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
    relaytap|relaytap_rec)
      local rec=(--no-record)
      [ "$mode" = relaytap_rec ] && rec=(--db "$WORK/$tag.db")
      "$RELAYTAP" proxy --listen 127.0.0.1:0 --ca-dir "$WORK/relaytap-ca" \
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
  printf '{"mode":"%s","figures":%s}\n' "$mode" "$out" >>"$WORK/results.jsonl"
}

# The recorder's closing line ("N observations written, M dropped, G gaps recorded").
recorder_summary() {
  local mode=$1 tag=$2
  local line
  line=$(grep -o 'recorder closed: .*' "$WORK/$tag.log" | tail -1 || true)
  printf '{"mode":"%s","recorder":"%s"}\n' "$mode" "${line//\"/}" >>"$WORK/results.jsonl"
}

# CPU time the hypervisor gave to other guests during the run (the steal column of /proc/stat): on
# a shared VM it is what makes runs of the same binary differ, so the report states it.
cpu_steal_ticks() { awk '/^cpu /{print $9}' /proc/stat; }
STEAL_START=$(cpu_steal_ticks)
WALL_START=$SECONDS

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
    [ "$mode" = relaytap_rec ] && recorder_summary "$mode" "$mode"
    # Idle scale on a fresh proxy so earlier traffic does not blur the RSS per session
    # (--idle 0 skips it).
    if [ "$IDLE" -gt 0 ]; then
      start_proxy "$mode" "$mode-idle"
      run_load "$mode" idle --sessions "$IDLE" --open-concurrency 64
      stop_pid "$PROXY_PID"
    fi
  fi
done

export BENCH_STEAL_S BENCH_WALL_S
BENCH_STEAL_S=$(awk -v a="$STEAL_START" -v b="$(cpu_steal_ticks)" -v hz="$(getconf CLK_TCK)" \
  'BEGIN{printf "%.2f", (b - a) / hz}')
BENCH_WALL_S=$((SECONDS - WALL_START))

NOTES_JSON=$(printf '%s\n' "${NOTES[@]+"${NOTES[@]}"}" | python3 -c \
  'import json,sys; print(json.dumps([l.strip() for l in sys.stdin if l.strip()]))')
python3 - "$WORK/results.jsonl" "$OUT" "$PRESET" "$NOTES_JSON" <<'PY'
import datetime, json, os, sys

rows = [json.loads(l) for l in open(sys.argv[1])]
out_path, preset, notes = sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
modes = []
by = {}  # (mode, workload, sessions) -> figures
recorder = {}
for r in rows:
    if "recorder" in r:
        recorder[r["mode"]] = r["recorder"]
        continue
    f = r["figures"]
    if r["mode"] not in modes:
        modes.append(r["mode"])
    by[(r["mode"], f["workload"], f.get("sessions", f.get("connections")))] = f

broken = []
for (mode, w, n), f in by.items():
    if w in ("realtime", "saturate") and (f["opened"] == 0 or f["received"] == 0):
        broken.append(f"{mode} {w} n={n}: nothing relayed ({f.get('errors')})")
    if w == "http" and (f["requests_ok"] == 0 or f["sse_ok"] == 0):
        broken.append(f"{mode} http: no request or SSE answered ({f.get('errors')})")
    if w == "idle" and f["opened"] == 0:
        broken.append(f"{mode} idle: no session opened ({f.get('errors')})")

def get(mode, w, n=None):
    for (m, ww, nn), f in by.items():
        if m == mode and ww == w and (n is None or nn == n):
            return f
    return None

def ratio(a, b):
    return None if a is None or b in (None, 0) else a / b

def fmt(v, spec=".2f"):
    return "-" if v is None else format(v, spec)

lines = []
def row(*cols, widths=(14, 8, 6, 8, 8, 8, 8, 8, 7, 7, 8, 9)):
    lines.append("  ".join(str(c).rjust(w) if i else str(c).ljust(w)
                           for i, (c, w) in enumerate(zip(cols, widths))))

realtime_ns = sorted({n for (m, w, n) in by if w == "realtime"})
summary = {"preset": preset, "notes": notes, "realtime": {}, "ratios": {}, "targets": {}}
for n in realtime_ns:
    lines.append(f"realtime cadence: {n} sessions, one ~6.5 KB append per 20 ms each, echoed")
    row("mode", "echoed", "echo%", "p50 ms", "p99 ms", "p99.9ms", "max ms", "unsent", "lost", ">100ms",
        "+p99 ms", "CPU s/GB")
    direct = get("direct", "realtime", n)
    for mode in modes:
        f = get(mode, "realtime", n)
        if not f:
            continue
        lat = f["latency"]
        added = None if not direct else lat["p99_ms"] - direct["latency"]["p99_ms"]
        f["added_p50_ms"] = None if not direct else lat["p50_ms"] - direct["latency"]["p50_ms"]
        f["added_p99_ms"] = added
        f["added_p999_ms"] = None if not direct else lat["p999_ms"] - direct["latency"]["p999_ms"]
        due = f["sent"] + f.get("unsent", 0)
        f["echoed_fraction"] = f["received"] / due if due else None
        row(mode, f["received"], fmt(f["echoed_fraction"] and 100 * f["echoed_fraction"], ".1f"),
            fmt(lat["p50_ms"]), fmt(lat["p99_ms"]), fmt(lat["p999_ms"]),
            fmt(lat["max_ms"]), f.get("unsent", 0), f["lost"], lat["delayed_over_100ms"],
            fmt(added), fmt(f.get("proxy_cpu_s_per_gb")))
    lines.append("")

lines.append("saturation / HTTP / idle / CPU")
row("mode", "msgs/s", "MB/s", "req/s", "http p99", "SSE 1st", "idle", "KiB/sess", "CPU s/GB",
    widths=(14, 9, 8, 8, 8, 8, 7, 9, 9))
for mode in modes:
    s, h, i = get(mode, "saturate"), get(mode, "http"), get(mode, "idle")
    row(mode, fmt(s and s["msgs_per_s"], ".0f"), fmt(s and s["mb_per_s_each_way"], ".1f"),
        fmt(h and h["req_per_s"], ".0f"), fmt(h and h["p99_ms"]), fmt(h and h["sse_ttfe_p50_ms"]),
        i["opened"] if i else "-", fmt(i and i.get("rss_kib_per_session"), ".1f"),
        fmt(s and s.get("proxy_cpu_s_per_gb"), ".2f"))
lines.append("(echo%: echoed / due; latency and +p99 (added against direct) describe only the "
             "echoed messages, so read them together with echo%)")
lines.append("(unsent: due before the end of the run but not yet sent: the client could not keep "
             "the 20 ms cadence; lost: sent, never echoed within the drain time)")
lines.append("(MB/s: payload per direction; SSE 1st: p50 ms to the first event; CPU s/GB: the "
             "proxy's utime+stime over that run per GB relayed, both directions: the same work at "
             "the same cadence, so it depends little on how busy the machine is)")

def sat(mode, key="msgs_per_s"):
    f = get(mode, "saturate")
    return f and f[key]
R = summary["ratios"]
R["saturation_relaytap_over_direct"] = ratio(sat("relaytap"), sat("direct"))
R["saturation_relaytap_rec_over_direct"] = ratio(sat("relaytap_rec"), sat("direct"))
R["saturation_relaytap_rec_over_mitmproxy"] = ratio(sat("relaytap_rec"), sat("mitmproxy"))
R["saturation_mitmproxy_over_relaytap"] = ratio(sat("mitmproxy"), sat("relaytap"))
R["saturation_recording_on_over_off"] = ratio(sat("relaytap_rec"), sat("relaytap"))
hr = lambda m: (get(m, "http") or {}).get("req_per_s")
R["http_relaytap_over_direct"] = ratio(hr("relaytap"), hr("direct"))
R["http_mitmproxy_over_relaytap"] = ratio(hr("mitmproxy"), hr("relaytap"))
R["http_recording_on_over_off"] = ratio(hr("relaytap_rec"), hr("relaytap"))
cpu = lambda m: (get(m, "saturate") or {}).get("proxy_cpu_s_per_gb")
R["cpu_per_gb_mitmproxy_over_relaytap"] = ratio(cpu("mitmproxy"), cpu("relaytap"))
R["cpu_per_gb_recording_on_over_off"] = ratio(cpu("relaytap_rec"), cpu("relaytap"))
for n in realtime_ns:
    rcpu = lambda m: (get(m, "realtime", n) or {}).get("proxy_cpu_s_per_gb")
    R[f"cadence_{n}_cpu_per_gb_recording_on_over_off"] = ratio(rcpu("relaytap_rec"), rcpu("relaytap"))
lines.append("")
lines.append("ratios (same run): " + ", ".join(f"{k}={fmt(v)}" for k, v in R.items()))

T = summary["targets"]
rt200 = get("relaytap_rec", "realtime", 200)
if rt200 and "added_p99_ms" in rt200:
    T["realtime_200_added_p99_le_1ms"] = rt200["added_p99_ms"] is not None and rt200["added_p99_ms"] <= 1
    T["realtime_200_none_over_100ms"] = rt200["latency"]["delayed_over_100ms"] == 0
    T["realtime_200_zero_lost_or_unsent"] = rt200["lost"] == 0 and rt200.get("unsent", 0) == 0
v = R["saturation_relaytap_rec_over_direct"]
if v is not None:
    T["saturation_ge_50pct_direct"] = v >= 0.5
v = R["saturation_relaytap_rec_over_mitmproxy"]
if v is not None:
    T["saturation_ge_10x_mitmproxy"] = v >= 10
i = get("relaytap_rec", "idle")
if i and i.get("rss_kib_per_session") is not None:
    T["idle_le_64kib_per_session"] = i["rss_kib_per_session"] <= 64
v = R["saturation_recording_on_over_off"]
if v is not None:
    T["recording_costs_le_15pct"] = v >= 0.85
lines.append("targets (recording on): " + (", ".join(
    f"{k}={'met' if ok else 'MISSED'}" for k, ok in T.items()) or "none evaluated"))
for mode, line in recorder.items():
    lines.append(f"{mode} {line}")
steal_s, wall_s = float(os.environ["BENCH_STEAL_S"]), int(os.environ["BENCH_WALL_S"])
steal_share = steal_s / (wall_s * os.cpu_count()) if wall_s else None
lines.append(f"machine: {os.cpu_count()} cores; {steal_s:.1f} s of CPU stolen by the hypervisor in "
             f"the {wall_s} s run ({fmt(steal_share and 100 * steal_share, '.1f')}% of the cores' "
             "time; runs with more steal are slower and noisier)")
for n in notes:
    lines.append("note: " + n)

summary.update({
    "date_utc": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
    "machine": {"nproc": os.cpu_count(), "loadavg": open("/proc/loadavg").read().split()[:3],
                "steal_s": steal_s, "wall_s": wall_s, "steal_share": steal_share},
    "recorder": recorder,
    "results": [{"mode": m, **f} for (m, w, n), f in by.items()],
})
os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
with open(out_path, "w") as fh:
    json.dump(summary, fh, indent=1)
print("\n".join(lines))
print(f"\nJSON: {out_path}")
if broken:
    print("bench: BROKEN:\n  " + "\n  ".join(broken), file=sys.stderr)
    sys.exit(1)
PY

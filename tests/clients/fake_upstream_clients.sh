#!/usr/bin/env bash
# Real clients straight to `relaytap fake-upstream` (no proxy): curl on the HTTPS endpoints and the
# injected HTTP faults, Python websocket-client and Node ws on the realtime endpoints, the printed
# start-up commands, and clear start-up errors for bad fault settings.
# Run by run_clients.sh with RT_BIN, RT_WORK (holding upstream/leaf.pem, leaf.key, ca.pem).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BIN="$RT_BIN"
CERTS="$RT_WORK/upstream"
OUT="$RT_WORK/fake-clients"
mkdir -p "$OUT"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
FAILS=0
PIDS=()

check() {  # check <description> <command...>
  local what=$1; shift
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; FAILS=$((FAILS + 1)); fi
}
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
}
trap cleanup EXIT

# start <name> <flags...> : starts a TLS fake upstream, sets PORT from its first line (<= 20 s).
start() {
  local name=$1; shift
  "$BIN" fake-upstream --listen 127.0.0.1:0 --tls-cert "$CERTS/leaf.pem" \
    --tls-key "$CERTS/leaf.key" --tls-ca "$CERTS/ca.pem" "$@" \
    >"$OUT/$name.out" 2>"$OUT/$name.err" &
  PIDS+=($!)
  PORT=""
  for _ in $(seq 1 200); do
    PORT="$(head -n1 "$OUT/$name.out" 2>/dev/null |
      sed -n 's#^relaytap fake-upstream listening on https://127\.0\.0\.1:\([0-9][0-9]*\)$#\1#p')"
    [ -n "$PORT" ] && return 0
    sleep 0.1
  done
  echo "FAIL $name did not start"; cat "$OUT/$name.err"
  return 1
}

start main --stream realtime --audio-ms 200 --seed 7 \
  --rule broken:upgrade_5xx=100 --rule busy:session_429=100 --rule gpt-down:http_5xx=100 ||
  exit 1
MAIN_PORT=$PORT
start faulty --fault response_failed=100 --fault http_429=100 --retry-after-ms 2500 || exit 1
FAULT_PORT=$PORT
cat >"$OUT/profile.json" <<'JSON'
{"seed": 5, "rates": {"response_failed": 0.8}, "period_s": 3600,
 "windows": [{"from_s": 600, "to_s": 900, "rates": {"response_failed": 15}}],
 "deployments": {"prof-down": {"session_5xx": 100}}, "params": {"session_status": 502}}
JSON
start profiled --profile "$OUT/profile.json" || exit 1
PROFILE_PORT=$PORT

# --- the printed start-up commands -----------------------------------------------------------
out="$(cat "$OUT/main.out")"
check "prints the GA realtime URL" grep -qF "wss://127.0.0.1:$MAIN_PORT/openai/v1/realtime?model=" <<<"$out"
check "prints the relaytap proxy command" grep -qF \
  "relaytap proxy --connect-to contoso.openai.azure.com:443:127.0.0.1:$MAIN_PORT --upstream-ca $CERTS/ca.pem" <<<"$out"
check "prints the rules and the seed" grep -qF "deployment broken: upgrade_5xx 100%" <<<"$out"
check "prints the seed" grep -qF -- "--seed 7 repeats this run" <<<"$out"
# The printed ephemeral-token command works as printed.
token_cmd="$(sed -n 's/^  ephemeral token: *//p' "$OUT/main.out")"
check "the printed ephemeral-token curl returns value ek_..." \
  bash -c "$token_cmd | grep -q '\"value\":\"ek_'"

# --- curl on the HTTPS endpoints ---------------------------------------------------------------
URL="https://127.0.0.1:$MAIN_PORT"
C=(curl -sS --cacert "$CERTS/ca.pem" -H 'api-key: test' -H 'content-type: application/json')
body="$("${C[@]}" -X POST "$URL/openai/realtimeapi/sessions?api-version=2025-04-01-preview" \
  -d '{"model":"gpt-realtime","voice":"alloy"}')"
check "preview sessions: sess_ id and client_secret ek_" \
  bash -c "grep -q '\"id\":\"sess_' <<<'$body' && grep -q '\"client_secret\":{[^}]*\"value\":\"ek_' <<<'$body'"
code="$("${C[@]}" -o "$OUT/busy.body" -D "$OUT/busy.h" -w '%{http_code}' -X POST \
  "$URL/openai/v1/realtime/client_secrets" -d '{"session":{"model":"busy"}}')"
check "rule busy:session_429=100 -> 429 ($code)" test "$code" = 429
check "429 carries retry-after-ms" grep -qi '^retry-after-ms: 1500' "$OUT/busy.h"
check "429 carries apim-request-id" grep -qi '^apim-request-id: ' "$OUT/busy.h"
"${C[@]}" -N "$URL/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21" \
  -d '{"messages":[],"stream":true}' >"$OUT/sse.txt"
check "chat completions SSE ends with [DONE]" grep -q '^data: \[DONE\]' "$OUT/sse.txt"
code="$("${C[@]}" -o /dev/null -w '%{http_code}' \
  "$URL/openai/deployments/gpt-down/chat/completions?api-version=2024-10-21" -d '{}')"
check "rule gpt-down:http_5xx=100 -> 500 ($code)" test "$code" = 500
code="$("${C[@]}" -o /dev/null -D "$OUT/faulty.h" -w '%{http_code}' \
  "https://127.0.0.1:$FAULT_PORT/openai/v1/responses" -d '{"model":"gpt-4o"}')"
check "--fault http_429=100 -> 429 ($code)" test "$code" = 429
check "--retry-after-ms 2500 -> retry-after-ms: 2500" grep -qi '^retry-after-ms: 2500' "$OUT/faulty.h"
check "the 429 carries x-ms-retry-after-ms too by default" \
  grep -qi '^x-ms-retry-after-ms: 2500' "$OUT/faulty.h"
start xms --fault http_429=100 --retry-after-ms 1200 --retry-headers x-ms-retry-after-ms || exit 1
code="$("${C[@]}" -o /dev/null -D "$OUT/xms.h" -w '%{http_code}' \
  "https://127.0.0.1:$PORT/openai/v1/responses" -d '{"model":"gpt-4o"}')"
check "--retry-headers x-ms-retry-after-ms: 429 ($code) with only that header" \
  bash -c "grep -qi '^x-ms-retry-after-ms: 1200' '$OUT/xms.h' &&
           ! grep -qi '^retry-after' '$OUT/xms.h'"
check "--retry-headers is in the fault summary" \
  grep -qF "429 retry headers: x-ms-retry-after-ms" "$OUT/xms.out"
rc=0
"$BIN" fake-upstream --listen 127.0.0.1:0 --retry-headers retry-after,x-retry \
  >/dev/null 2>"$OUT/bad-retry-headers.err" || rc=$?
check "--retry-headers with an unknown name: exit 2 naming it ($rc)" \
  bash -c "[ $rc -eq 2 ] && grep -qF \"retry header 'x-retry' is not one of\" '$OUT/bad-retry-headers.err'"

code="$("${C[@]}" -o /dev/null -w '%{http_code}' -X POST \
  "https://127.0.0.1:$PROFILE_PORT/openai/v1/realtime/client_secrets" -d '{"session":{"model":"prof-down"}}')"
check "--profile rule prof-down:session_5xx with session_status 502 -> $code" test "$code" = 502
check "--profile summary names the window and the profile's seed" grep -qF \
  "window 600-900 s: response_failed 15% (windows repeat every 3600 s); deployment prof-down: session_5xx 100%; latency 0 ms; seed 5" \
  "$OUT/profiled.out"

# --- --tls: a leaf for --azure-host from relaytap's own CA; the printed curl line works as is ---
"$BIN" fake-upstream --listen 127.0.0.1:0 --tls --ca-dir "$OUT/own-ca" \
  >"$OUT/own.out" 2>"$OUT/own.err" &
PIDS+=($!)
for _ in $(seq 1 200); do grep -q 'ephemeral token:' "$OUT/own.out" 2>/dev/null && break; sleep 0.1; done
check "--tls creates relaytap's CA (key 0600)" test "$(stat -c %a "$OUT/own-ca/relaytap-ca.key" 2>/dev/null)" = 600
own_curl="$(sed -n 's/^  ephemeral token: *//p' "$OUT/own.out")"
check "--tls prints curl with --cacert and --connect-to for the Azure host" grep -qF -- \
  "--cacert $OUT/own-ca/relaytap-ca.pem --connect-to contoso.openai.azure.com:443:127.0.0.1:" <<<"$own_curl"
check "--tls: the printed ephemeral-token curl verifies TLS and returns ek_" \
  bash -c "$own_curl | grep -q '\"value\":\"ek_'"
check "--tls prints the proxy command with --upstream-ca of relaytap's CA" grep -qF -- \
  "--upstream-ca $OUT/own-ca/relaytap-ca.pem" "$OUT/own.out"

# --- WebSocket clients -------------------------------------------------------------------------
if RT_FAKE_PORT=$MAIN_PORT RT_FAULT_PORT=$FAULT_PORT RT_UPSTREAM_CA="$CERTS/ca.pem" \
  timeout 60 "$PY" "$HERE/fake_upstream_ws_test.py"; then
  echo "ok   python websocket-client"
else
  echo "FAIL python websocket-client"; FAILS=$((FAILS + 1))
fi
if command -v node >/dev/null 2>&1 && [ -d "$HERE/node/node_modules/ws" ]; then
  if RT_FAKE_PORT=$MAIN_PORT RT_UPSTREAM_CA="$CERTS/ca.pem" \
    timeout 60 node "$HERE/node/fake_upstream_test.mjs"; then
    echo "ok   node ws"
  else
    echo "FAIL node ws"; FAILS=$((FAILS + 1))
  fi
else
  echo "FAIL node ws: node or tests/clients/node/node_modules missing"; FAILS=$((FAILS + 1))
fi

# --- bad fault settings: a clear error and exit 2, nothing started ----------------------------
printf '{"rates": {"response_failed": 15, "reset": 90}}' >"$OUT/bad-profile.json"
bad_start() {  # bad_start <expected message> <flags...>
  local expected=$1; shift
  local rc=0
  timeout 10 "$BIN" fake-upstream --listen 127.0.0.1:0 "$@" >"$OUT/bad.out" 2>"$OUT/bad.err" || rc=$?
  [ $rc -eq 2 ] && grep -qF "$expected" "$OUT/bad.err" && [ ! -s "$OUT/bad.out" ]
}
check "--profile with rates over 100% -> exit 2" bad_start "response faults add up to more than 100%" \
  --profile "$OUT/bad-profile.json"
check "--profile missing file -> exit 2" bad_start "cannot read" --profile "$OUT/none.json"
check "--fault unknown -> exit 2 naming the known faults" bad_start "known: upgrade_5xx" --fault explode=5
check "--rule malformed -> exit 2" bad_start "DEPLOYMENT:NAME=PERCENT" --rule nocolon

# SIGTERM: exits 0 and reports the injected faults.
kill -TERM "${PIDS[1]}"
rc=0; wait "${PIDS[1]}" || rc=$?
check "SIGTERM -> exit 0 ($rc)" test $rc -eq 0
check "reports the injected faults on exit" grep -q 'faults injected: .*response_failed 1' "$OUT/faulty.err"

echo "fake upstream clients: $FAILS failure(s)"
[ $FAILS -eq 0 ]

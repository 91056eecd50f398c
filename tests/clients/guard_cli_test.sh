#!/usr/bin/env bash
# `relaytap proxy --guard ...` start-up checks: an invalid policy is a clear error and exit 2,
# before anything listens; the same for the guard keys of a --config file. Then a guard set only
# in the --config file rejects a retry over its cap through a real proxy, and flags override it.
# Env: RT_BIN, RT_CA_DIR, RT_WORK, RT_FAKE_PORT, RT_UPSTREAM_CA, RT_INTERCEPT.
set -u
fail=0
expect_exit2() {
  local what=$1 want=$2; shift 2
  local out rc=0
  out="$(timeout 20 "$RT_BIN" proxy --listen 127.0.0.1:0 --ca-dir "$RT_CA_DIR" --no-record "$@" 2>&1)" || rc=$?
  if [ "$rc" -eq 2 ] && printf '%s' "$out" | grep -q -- "$want"; then
    echo "ok   $what"
  else
    echo "FAIL $what (exit $rc): $out"
    fail=1
  fi
}
d="$RT_WORK/guard-cli"
mkdir -p "$d"
echo '{"attempt_cap": {"max_attempts": 0}}' >"$d/zero.json"
echo '{"attempt_cap": {"max_atempts": 2}}' >"$d/typo.json"
echo '{"window_ms": ' >"$d/broken.json"
expect_exit2 "value out of range names the key" "attempt_cap.max_attempts must be at least 1" \
  --guard enforce --guard-policy "$d/zero.json"
expect_exit2 "unknown key names the key" "unknown key attempt_cap.max_atempts" \
  --guard observe --guard-policy "$d/typo.json"
expect_exit2 "broken JSON names the file" "broken.json: the policy is not valid JSON" \
  --guard enforce --guard-policy "$d/broken.json"
expect_exit2 "missing file names the file" "cannot read guard policy $d/missing.json" \
  --guard enforce --guard-policy "$d/missing.json"
expect_exit2 "bad knob flag" "budget_percent must be between 0 and 100" \
  --guard enforce --guard-budget-percent 150
# The policy is checked even with --guard off, so a typo is found before the incident.
expect_exit2 "checked with --guard off too" "unknown key" --guard-policy "$d/typo.json"

# The guard keys of --config: the same rules, and the message names the config key.
echo '{"guard": "on"}' >"$d/cfg-mode.json"
echo '{"guard": "enforce", "guard_max_attempts": 0}' >"$d/cfg-zero.json"
echo '{"guard_budget_percent": "10"}' >"$d/cfg-type.json"
echo '{"guard_cooldown_ms": 100000}' >"$d/cfg-cooldown.json"
echo '{"guard_mode": "enforce"}' >"$d/cfg-unknown.json"
echo "{\"guard\": \"enforce\", \"guard_policy\": \"$d/typo.json\"}" >"$d/cfg-policy.json"
expect_exit2 "config: bad guard mode names the key" \
  "config key 'guard' must be \"off\", \"observe\" or \"enforce\"" --config "$d/cfg-mode.json"
expect_exit2 "config: knob out of range names the key" \
  "config key 'guard_max_attempts': attempt_cap.max_attempts must be at least 1" \
  --config "$d/cfg-zero.json"
expect_exit2 "config: knob of the wrong type names the key" \
  "config key 'guard_budget_percent' must be a number" --config "$d/cfg-type.json"
expect_exit2 "config: knob against the policy names the key" \
  "config key 'guard_cooldown_ms': circuit_breaker.max_cooldown_ms must be >= cooldown_ms" \
  --config "$d/cfg-cooldown.json"
expect_exit2 "config: unknown guard key" "unknown config key 'guard_mode'" \
  --config "$d/cfg-unknown.json"
expect_exit2 "config: guard_policy file is checked" "unknown key attempt_cap.max_atempts" \
  --config "$d/cfg-policy.json"
# A guard only in the config file: enforce, 1 attempt per request.
echo '{"guard": "enforce", "guard_max_attempts": 1}' >"$d/cfg-enforce.json"
expect_exit2 "a bad knob flag over a good file names the flag" \
  "--guard-max-attempts: attempt_cap.max_attempts must be at least 1" \
  --config "$d/cfg-enforce.json" --guard-max-attempts 0

PID=""
stop_proxy() {
  [ -n "$PID" ] || return 0
  kill -TERM "$PID" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$PID" 2>/dev/null || true
  wait "$PID" 2>/dev/null || true
  PID=""
}
trap stop_proxy EXIT
# The main proxy's intercept patterns: others would re-issue the shared CA under it.
INTERCEPT_ARGS=()
IFS=, read -r -a _patterns <<<"$RT_INTERCEPT"
for p in "${_patterns[@]}"; do INTERCEPT_ARGS+=(--intercept "$p"); done
start_proxy() {  # start_proxy NAME ARGS... : sets PORT, or empty if it did not start in 20 s
  local name=$1; shift
  PORT=""
  "$RT_BIN" proxy --listen 127.0.0.1:0 --ca-dir "$RT_CA_DIR" --no-record "${INTERCEPT_ARGS[@]}" \
    --upstream-ca "$RT_UPSTREAM_CA" \
    --connect-to "contoso.openai.azure.com:443:127.0.0.1:$RT_FAKE_PORT" "$@" \
    >"$d/$name.out" 2>"$d/$name.err" &
  PID=$!
  for _ in $(seq 1 200); do
    PORT="$(sed -n 's#^relaytap proxy listening on 127\.0\.0\.1:\([0-9][0-9]*\).*#\1#p' \
      "$d/$name.out" 2>/dev/null | head -n1)"
    [ -n "$PORT" ] && return 0
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "FAIL $name: proxy did not start: $(cat "$d/$name.err")"
  fail=1
}
CHAT_URL="https://contoso.openai.azure.com/openai/deployments/cfg/chat/completions"
CHAT_URL="$CHAT_URL?api-version=2024-10-21"
attempt() {  # attempt RETRY_COUNT : prints "<status> <x-relaytap-guard>"
  local hdr="$d/attempt.headers"
  : >"$hdr"
  curl -sS --max-time 20 --noproxy '' --proxy "http://127.0.0.1:$PORT" \
    --cacert "$RT_CA_DIR/relaytap-ca.pem" -o /dev/null -D "$hdr" \
    -H 'content-type: application/json' -H "x-stainless-retry-count: $1" \
    --data '{"messages":[]}' "$CHAT_URL" >/dev/null 2>&1 || true
  local status guard
  status="$(sed -n 's#^HTTP/[0-9.]* \([0-9]*\).*#\1#p' "$hdr" | tail -n1)"
  guard="$(sed -n 's#^x-relaytap-guard: *\([a-z_]*\).*#\1#Ip' "$hdr" | tail -n1)"
  echo "${status:-none} ${guard:-none}"
}
expect_attempt() {  # expect_attempt WHAT RETRY_COUNT WANT
  local got
  got="$(attempt "$2")"
  if [ "$got" = "$3" ]; then
    echo "ok   $1 ($got)"
  else
    echo "FAIL $1: got '$got', want '$3'"
    fail=1
  fi
}
start_proxy cfg-enforce --config "$d/cfg-enforce.json"
if [ -n "$PORT" ]; then
  if grep -q "retry guard: enforce (max_attempts 1" "$d/cfg-enforce.err"; then
    echo "ok   config file guard: the start-up line says enforce, max_attempts 1"
  else
    echo "FAIL config file guard: start-up line: $(grep 'retry guard' "$d/cfg-enforce.err")"; fail=1
  fi
  expect_attempt "config file guard: first attempt forwarded" 0 "200 none"
  expect_attempt "config file guard: retry over the cap answered locally" 1 "429 attempt_cap"
fi
stop_proxy
start_proxy cfg-flag-knob --config "$d/cfg-enforce.json" --guard-max-attempts 3
[ -z "$PORT" ] || expect_attempt "--guard-max-attempts overrides the file's knob" 1 "200 none"
stop_proxy
start_proxy cfg-flag-mode --config "$d/cfg-enforce.json" --guard off
[ -z "$PORT" ] || expect_attempt "--guard off overrides the file's mode" 1 "200 none"
stop_proxy
exit $fail

#!/usr/bin/env bash
# `relaytap proxy --guard ...` start-up checks: an invalid policy is a clear error and exit 2,
# before anything listens. Env: RT_BIN, RT_CA_DIR, RT_WORK.
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
exit $fail

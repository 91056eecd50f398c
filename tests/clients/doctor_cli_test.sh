#!/usr/bin/env bash
# `relaytap doctor` as an operator runs it, against the suite's proxy: curl, Debian's python3
# libraries and node's ws not trusting the CA (exit 1, the fix lines printed), then trusting it as
# the fix lines say (exit 0, JSON); no proxy at all (exit 1, said plainly, nothing sent); usage
# errors (exit 2). Env from run_clients.sh.
set -uo pipefail

W="$RT_WORK/doctor"
mkdir -p "$W"
PY=/usr/bin/python3
fails=0
ok()  { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
# A clean environment: no trust variables; Debian's python3 first; ws from the suite's modules.
CLEAN=(env -i "PATH=/usr/bin:/bin:$PATH" "HOME=$HOME" LANG=C.UTF-8
       "NODE_PATH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/node/node_modules")
PROXY="HTTPS_PROXY=http://127.0.0.1:$RT_PROXY_PORT"
RUNTIMES=(--runtime curl --runtime python-requests --runtime python-websocket-client
          --runtime node-ws)

# 1. Through the proxy, trusting nothing: each runtime found fails on the CA, with its fix.
rc=0
"${CLEAN[@]}" "$PROXY" "$RT_BIN" doctor --ca-dir "$RT_CA_DIR" "${RUNTIMES[@]}" \
  >"$W/untrusted.txt" 2>&1 || rc=$?
if [ $rc -eq 1 ] && grep -q "trusts the CA: no" "$W/untrusted.txt" &&
   grep -q "export CURL_CA_BUNDLE=" "$W/untrusted.txt" &&
   ! grep -q "^\[ok\]" "$W/untrusted.txt"; then
  ok "untrusted: exit 1, fix lines printed"
else
  bad "untrusted: exit $rc"; cat "$W/untrusted.txt"
fi

# 2. The fix lines applied (the shell's way: eval the export lines): every runtime found passes.
fix="$(grep -E '^ +(export|relaytap ca env) ' "$W/untrusted.txt" | sed -E 's/^ +//; s/^relaytap /"$RT_BIN" /' | awk '!seen[$0]++')"
rc=0
"${CLEAN[@]}" "$PROXY" RT_BIN="$RT_BIN" bash -c "$fix
exec \"\$RT_BIN\" doctor --ca-dir '$RT_CA_DIR' --format json --db '$W/doctor.db' $(printf '%q ' "${RUNTIMES[@]}")" \
  >"$W/fixed.json" 2>"$W/fixed.err" || rc=$?
summary="$("$PY" -c 'import json,sys; d=json.load(open(sys.argv[1]))
print(d["summary"]["failed"], " ".join(r["name"]+":"+r["verdict"] for r in d["runtimes"]))' \
  "$W/fixed.json" 2>&1)"
if [ $rc -eq 0 ] && [[ "$summary" == 0\ * ]] && [[ "$summary" == *curl:ok* ]]; then
  ok "fixed: exit 0 ($summary)"
else
  bad "fixed: exit $rc, $summary"; echo "$fix"; head -c 800 "$W/fixed.err"
fi

# The same run, recorded with --db: one row per runtime, listed by report under Local checks.
rows="$(sqlite3 "$W/doctor.db" "SELECT tool || ':' || verdict FROM probes ORDER BY id" 2>&1 | tr '\n' ' ')"
"$RT_BIN" report --db "$W/doctor.db" >"$W/doctor_report.md" 2>&1
if [[ "$rows" == *"doctor curl:ok "* ]] && grep -q "doctor curl \`https://check.relaytap.invalid/\`: ok" "$W/doctor_report.md"; then
  ok "--db: recorded ($rows) and reported"
else
  bad "--db: rows '$rows'"; cat "$W/doctor_report.md"
fi

# 3. No proxy at all: said plainly, exit 1.
rc=0
"${CLEAN[@]}" "$RT_BIN" doctor --ca-dir "$RT_CA_DIR" --runtime curl >"$W/noproxy.txt" 2>&1 || rc=$?
if [ $rc -eq 1 ] && grep -q "the app would not use relaytap at all" "$W/noproxy.txt" &&
   grep -q "export HTTPS_PROXY=" "$W/noproxy.txt"; then
  ok "no proxy: exit 1, said plainly"
else
  bad "no proxy: exit $rc"; cat "$W/noproxy.txt"
fi

# 4. Usage errors: exit 2.
for args in "--runtime cobol" "--format xml" "--timeout-ms 0" "--proxy socks5://127.0.0.1:1"; do
  rc=0
  # shellcheck disable=SC2086
  "$RT_BIN" doctor $args >/dev/null 2>"$W/usage.err" || rc=$?
  if [ $rc -eq 2 ]; then ok "usage error exits 2: $args"; else bad "usage $args: exit $rc"; fi
done

exit $((fails > 0))

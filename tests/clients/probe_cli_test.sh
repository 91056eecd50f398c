#!/usr/bin/env bash
# `relaytap probe` as an operator runs it: through the proxy taken from HTTPS_PROXY, with a key
# from --key-env (a canary that must not be printed), --repeat and JSON; NO_PROXY sending it
# direct; a closed port failing at tcp (exit 1); usage errors (exit 2). Env from run_clients.sh.
set -uo pipefail

W="$RT_WORK/probe"
mkdir -p "$W"
PY=/usr/bin/python3
fails=0
ok()  { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
URL="wss://contoso.openai.azure.com/openai/v1/realtime?model=gpt-realtime"
KEY="CANARY_PROBE_KEY_0123456789abcdef"

# 1. Through relaytap (HTTPS_PROXY), every stage, twice, JSON.
rc=0
HTTPS_PROXY="http://127.0.0.1:$RT_PROXY_PORT" PROBE_KEY="$KEY" "$RT_BIN" probe "$URL" \
  --ca "$RT_PROXY_CA" --key-env PROBE_KEY --realtime --repeat 2 --interval-ms 50 \
  --format json >"$W/proxy.json" 2>"$W/proxy.err" || rc=$?
summary="$("$PY" -c 'import json,sys; d=json.load(open(sys.argv[1]))
r=d["runs"][0]; t=[s["name"]+":"+s["status"] for s in r["stages"]]
print(d["summary"]["ok"], d["summary"]["failed"], r["stages"][1]["detail"]["proxy_connect"]["status"], " ".join(t))' "$W/proxy.json" 2>&1)"
if [ $rc -eq 0 ] && [[ "$summary" == "2 0 200 dns:ok tcp:ok tls:ok https:ok websocket:ok realtime:ok" ]]; then
  ok "through HTTPS_PROXY: 2 runs ok, every stage ok ($summary)"
else
  bad "through HTTPS_PROXY: exit $rc, $summary"; head -c 600 "$W/proxy.err"
fi
if grep -q CANARY "$W/proxy.json" "$W/proxy.err"; then bad "the key was printed"; else ok "the key is not in stdout or stderr"; fi

# 2. NO_PROXY covers the host: straight to the fake upstream by --connect-to.
rc=0
HTTPS_PROXY="http://127.0.0.1:$RT_PROXY_PORT" NO_PROXY=".openai.azure.com" "$RT_BIN" probe "$URL" \
  --connect-to "contoso.openai.azure.com:443:127.0.0.1:$RT_FAKE_PORT" --ca "$RT_UPSTREAM_CA" \
  >"$W/direct.txt" 2>&1 || rc=$?
if [ $rc -eq 0 ] && grep -q "verdict: OK" "$W/direct.txt" && ! grep -q CONNECT "$W/direct.txt"; then
  ok "NO_PROXY: direct, verdict OK"
else
  bad "NO_PROXY: exit $rc"; cat "$W/direct.txt"
fi

# 3. A closed port: failed at tcp, exit 1, the rest skipped.
dead="$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
rc=0
"$RT_BIN" probe "$URL" --no-proxy --connect-to "contoso.openai.azure.com:443:127.0.0.1:$dead" \
  >"$W/dead.txt" 2>&1 || rc=$?
if [ $rc -eq 1 ] && grep -q "verdict: FAILED at tcp" "$W/dead.txt"; then
  ok "closed port: exit 1, FAILED at tcp"
else
  bad "closed port: exit $rc"; cat "$W/dead.txt"
fi

# 4. --db: the runs go into a store (direct, with the canary key, and the closed port's failure),
# `report` lists them under "Local checks", and the key is in no byte of the store's files.
rc=0
PROBE_KEY="$KEY" "$RT_BIN" probe "$URL" --no-proxy --key-env PROBE_KEY --realtime --repeat 2 \
  --interval-ms 10 --connect-to "contoso.openai.azure.com:443:127.0.0.1:$RT_FAKE_PORT" \
  --ca "$RT_UPSTREAM_CA" --db "$W/probes.db" >"$W/db_ok.txt" 2>&1 || rc=$?
rc2=0
"$RT_BIN" probe "$URL" --no-proxy --connect-to "contoso.openai.azure.com:443:127.0.0.1:$dead" \
  --db "$W/probes.db" >"$W/db_dead.txt" 2>&1 || rc2=$?
rows="$(sqlite3 "$W/probes.db" "SELECT verdict || ':' || COALESCE(failed_stage, '-') || ':' || (session_id IS NOT NULL) || ':' || (apim_request_id IS NOT NULL) FROM probes ORDER BY run_us" 2>&1 | tr '\n' ' ')"
if [ $rc -eq 0 ] && [ $rc2 -eq 1 ] && [ "$rows" = "ok:-:1:1 ok:-:1:1 failed:tcp:0:0 " ]; then
  ok "--db: three runs recorded ($rows)"
else
  bad "--db: exits $rc/$rc2, rows '$rows'"; cat "$W/db_ok.txt"
fi
mode="$(stat -c %a "$W/probes.db")"
if [ "$mode" = "600" ]; then ok "--db store is 0600"; else bad "--db store mode $mode"; fi
"$RT_BIN" report --db "$W/probes.db" >"$W/db_report.md" 2>&1
"$RT_BIN" report --db "$W/probes.db" --format html >"$W/db_report.html" 2>&1
if grep -q "## Local checks (3)" "$W/db_report.md" && grep -q "FAILED at tcp" "$W/db_report.md" &&
   grep -q "model=gpt-realtime" "$W/db_report.md" && grep -q 'id="local-checks"' "$W/db_report.html"; then
  ok "report shows the local checks (md and html)"
else
  bad "report: no local checks"; cat "$W/db_report.md"
fi
if cat "$W"/probes.db* | grep -aq CANARY; then bad "the key is in the store"; else ok "the key is in no byte of the store"; fi

# 5. Usage errors: exit 2.
for args in "ftp://example.invalid/" "$URL --key-env RELAYTAP_PROBE_UNSET_VARIABLE" \
            "https://example.invalid/ --realtime" "$URL --format xml"; do
  rc=0
  # shellcheck disable=SC2086
  "$RT_BIN" probe $args >/dev/null 2>"$W/usage.err" || rc=$?
  if [ $rc -eq 2 ]; then ok "usage error exit 2: $args"; else bad "usage '$args': exit $rc"; fi
done

exit $fails

#!/usr/bin/env bash
# Real third-party clients through `relaytap proxy`, against `relaytap fake-upstream` on loopback.
#   run_clients.sh <relaytap-binary>
# Creates a throwaway upstream CA + leaf for contoso.openai.azure.com, starts the fake upstream and
# the proxy on ephemeral ports, runs every client test, prints "N passed, M failed" last.
set -euo pipefail

if [ $# -lt 1 ]; then
  echo "usage: $0 <relaytap-binary>" >&2
  exit 2
fi
RELAYTAP="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

WORK="$(mktemp -d "${TMPDIR:-/tmp}/relaytap-clients.XXXXXX")"
FAKE_PID=""
PROXY_PID=""

stop() {
  local pid=$1
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
  stop "$PROXY_PID"
  stop "$FAKE_PID"
  if [ -n "${KEEP_WORK:-}" ]; then echo "work dir kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- throwaway upstream CA + leaf (EC P-256) ---------------------------------------------------
mk_certs() {
  local d="$WORK/upstream"
  mkdir -p "$d"
  cat >"$d/ca.cnf" <<'CNF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = relaytap client-test upstream CA
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
CNF
  cat >"$d/leaf.cnf" <<'CNF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = contoso.openai.azure.com
[v3_leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
# localhost + 127.0.0.1 too: the blind-tunnel and literal-IP checks reach the fake upstream by those.
subjectAltName = DNS:contoso.openai.azure.com, DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
CNF
  openssl ecparam -name prime256v1 -genkey -noout -out "$d/ca.key" 2>/dev/null
  openssl req -x509 -new -key "$d/ca.key" -sha256 -days 2 -config "$d/ca.cnf" \
    -extensions v3_ca -out "$d/ca.pem" 2>/dev/null
  openssl ecparam -name prime256v1 -genkey -noout -out "$d/leaf.key" 2>/dev/null
  openssl req -new -key "$d/leaf.key" -config "$d/leaf.cnf" -out "$d/leaf.csr" 2>/dev/null
  openssl x509 -req -in "$d/leaf.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
    -sha256 -days 2 -extfile "$d/leaf.cnf" -extensions v3_leaf -out "$d/leaf.pem" 2>/dev/null
  openssl verify -x509_strict -CAfile "$d/ca.pem" "$d/leaf.pem" >/dev/null
}

# wait_port <stdout-file> <pid> <sed-regex> : prints the port from the first stdout line (≤ 20 s).
wait_port() {
  local file=$1 pid=$2 re=$3 line port
  for _ in $(seq 1 200); do
    if [ -s "$file" ]; then
      line="$(head -n1 "$file")"
      port="$(printf '%s\n' "$line" | sed -n "$re")"
      if [ -n "$port" ]; then echo "$port"; return 0; fi
    fi
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.1
  done
  return 1
}

mk_certs
CA_DIR="$WORK/proxy-ca"
mkdir -p "$CA_DIR"

# --stream burst: the short response (5 audio deltas at once) the client tests below expect.
"$RELAYTAP" fake-upstream --listen 127.0.0.1:0 --stream burst \
  --tls-cert "$WORK/upstream/leaf.pem" --tls-key "$WORK/upstream/leaf.key" \
  >"$WORK/fake.out" 2>"$WORK/fake.err" &
FAKE_PID=$!
if ! FAKE_PORT="$(wait_port "$WORK/fake.out" "$FAKE_PID" 's#^relaytap fake-upstream listening on https://127\.0\.0\.1:\([0-9][0-9]*\).*#\1#p')"; then
  echo "FAIL: fake-upstream did not start"; cat "$WORK/fake.out" "$WORK/fake.err" >&2
  exit 1
fi

# Every proxy started on $CA_DIR uses these patterns (RT_INTERCEPT): the CA is name-constrained to
# the patterns, and a proxy with other ones would re-issue it under the running one.
RT_INTERCEPT='*.openai.azure.com,*.cognitiveservices.azure.com,*.services.ai.azure.com,api.openai.com,127.0.0.1'
INTERCEPT_ARGS=()
IFS=, read -r -a _patterns <<<"$RT_INTERCEPT"
for p in "${_patterns[@]}"; do INTERCEPT_ARGS+=(--intercept "$p"); done
"$RELAYTAP" proxy --listen 127.0.0.1:0 --ca-dir "$CA_DIR" --db "$WORK/relaytap.db" \
  --upstream-ca "$WORK/upstream/ca.pem" \
  --connect-to "contoso.openai.azure.com:443:127.0.0.1:$FAKE_PORT" "${INTERCEPT_ARGS[@]}" \
  --log-level "${RELAYTAP_LOG_LEVEL:-info}" \
  >"$WORK/proxy.out" 2>"$WORK/proxy.err" &
PROXY_PID=$!
if ! PROXY_PORT="$(wait_port "$WORK/proxy.out" "$PROXY_PID" 's#^relaytap proxy listening on 127\.0\.0\.1:\([0-9][0-9]*\).*#\1#p')"; then
  echo "FAIL: proxy did not start"; cat "$WORK/proxy.out" "$WORK/proxy.err" >&2
  exit 1
fi
echo "fake-upstream on 127.0.0.1:$FAKE_PORT, proxy on 127.0.0.1:$PROXY_PORT"

export RT_BIN="$RELAYTAP"
export RT_PROXY_PORT="$PROXY_PORT"
export RT_FAKE_PORT="$FAKE_PORT"
export RT_CA_DIR="$CA_DIR"
export RT_INTERCEPT
export RT_PROXY_CA="$CA_DIR/relaytap-ca.pem"
export RT_PROXY_PID="$PROXY_PID"
export RT_UPSTREAM_CA="$WORK/upstream/ca.pem"
export RT_WORK="$WORK"
# The clients must reach the proxy and nothing else: no inherited proxy settings.
unset HTTPS_PROXY HTTP_PROXY ALL_PROXY https_proxy http_proxy all_proxy NO_PROXY no_proxy
unset SSL_CERT_FILE REQUESTS_CA_BUNDLE NODE_EXTRA_CA_CERTS CURL_CA_BUNDLE

PASSED=0
FAILED=0
FAILED_NAMES=()
run_test() {
  local name=$1; shift
  echo "---- $name"
  local rc=0
  timeout --kill-after=5 120 "$@" >"$WORK/$name.log" 2>&1 || rc=$?
  sed 's/^/    /' "$WORK/$name.log"
  if [ $rc -eq 0 ]; then
    echo "PASS $name"
    PASSED=$((PASSED + 1))
  else
    echo "FAIL $name (exit $rc)"
    FAILED=$((FAILED + 1))
    FAILED_NAMES+=("$name")
  fi
  if ! kill -0 "$PROXY_PID" 2>/dev/null; then
    echo "FAIL proxy exited during $name"
    FAILED=$((FAILED + 1))
    FAILED_NAMES+=("proxy-alive-after-$name")
  fi
}

run_test curl bash "$HERE/curl_test.sh"
run_test python_ws "$PY" "$HERE/python_ws_test.py"
run_test python_strict_tls "$PY" "$HERE/python_strict_tls_test.py"
run_test ca_constraints_openssl bash "$HERE/ca_constraints_test.sh"
run_test canary_plant "$PY" "$HERE/canary_test.py"
# run_node_test <name> <module> <script> : a Node client test that needs node_modules/<module>.
run_node_test() {
  local name=$1 module=$2 script=$3
  if command -v node >/dev/null 2>&1 && [ -d "$HERE/node/node_modules/$module" ]; then
    run_test "$name" env NODE_EXTRA_CA_CERTS="$RT_PROXY_CA" node "$HERE/node/$script"
  else
    echo "FAIL $name: node or tests/clients/node/node_modules/$module missing (run scripts/install-deps.sh)"
    FAILED=$((FAILED + 1))
    FAILED_NAMES+=("$name")
  fi
}
run_node_test node_ws ws ws_test.mjs
# A message that inflates a thousandfold: relayed, and the proxy's memory stays bounded (#14).
run_node_test inflate_bomb ws inflate_bomb_test.mjs
run_test guard_cli bash "$HERE/guard_cli_test.sh"
# The official openai SDK against a second proxy started with --guard enforce.
run_node_test openai_sdk_guard openai openai_guard_test.mjs
run_test fake_upstream_clients bash "$HERE/fake_upstream_clients.sh"
# A session whose response fails: the report checks below need a failure with ids and events.
run_test python_failed_session "$PY" "$HERE/python_failed_session.py"
# relaytap probe through the proxy (HTTPS_PROXY) and direct, its exit codes, the key unprinted.
run_test probe_cli bash "$HERE/probe_cli_test.sh"
# relaytap doctor: runtimes that do not trust the CA, then do as its fix lines say.
run_test doctor_cli bash "$HERE/doctor_cli_test.sh"

# The proxy must stop cleanly on SIGTERM with exit 0.
rc=0
kill -TERM "$PROXY_PID" 2>/dev/null || true
for _ in $(seq 1 100); do kill -0 "$PROXY_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$PROXY_PID" 2>/dev/null; then
  echo "FAIL proxy_sigterm: still running 10 s after SIGTERM"
  FAILED=$((FAILED + 1)); FAILED_NAMES+=("proxy_sigterm")
else
  wait "$PROXY_PID" || rc=$?
  if [ $rc -eq 0 ]; then
    echo "PASS proxy_sigterm"; PASSED=$((PASSED + 1))
  else
    echo "FAIL proxy_sigterm (exit $rc)"; FAILED=$((FAILED + 1)); FAILED_NAMES+=("proxy_sigterm")
  fi
fi
PROXY_PID=""

# Nothing planted may reach the database or the logs; the correlation ids must.
check() {
  local name=$1; shift
  if "$@"; then echo "PASS $name"; PASSED=$((PASSED + 1));
  else echo "FAIL $name"; FAILED=$((FAILED + 1)); FAILED_NAMES+=("$name"); fi
}
no_canary() {
  local f found=0
  for f in "$WORK/relaytap.db" "$WORK/relaytap.db-wal" "$WORK/relaytap.db-shm" \
           "$WORK/proxy.err" "$WORK/proxy.out"; do
    [ -f "$f" ] || continue
    if grep -a -q CANARY "$f"; then echo "    canary found in $f"; found=1; fi
  done
  [ $found -eq 0 ]
}
db_has() {  # db_has <sql> : the query returns a non-empty, non-zero first value
  local v
  v="$(sqlite3 "$WORK/relaytap.db" "$1" 2>&1)" || { echo "    $v"; return 1; }
  echo "    $1 -> $v"
  [ -n "$v" ] && [ "$v" != "0" ]
}
check canary_absent_from_db_and_logs no_canary
check db_has_sessions db_has "SELECT count(*) FROM ws_sessions WHERE session_id LIKE 'sess_%'"
check db_has_response_ids db_has "SELECT count(*) FROM events WHERE response_id LIKE 'resp_%'"
check db_has_apim_request_ids db_has "SELECT count(*) FROM exchanges WHERE apim_request_id <> ''"
# The inflate bomb, both ways: its full size and the limit it passed, none of its content.
check db_records_bomb_as_metadata db_has "SELECT count(*) = 2 FROM events WHERE type = 'conversation.item.create' AND payload_bytes = 30000076 AND truncated = 1 AND payload = '{\"redacted\":\"over_limit\",\"limit\":\"expansion_ratio\",\"len\":30000076}'"
check db_integrity db_has "SELECT CASE WHEN (SELECT integrity_check FROM pragma_integrity_check) = 'ok' THEN 1 ELSE 0 END"

# The answer commands on what the real clients recorded.
stats_counts_sessions() {
  local out
  out="$("$RELAYTAP" stats --db "$WORK/relaytap.db" --format json 2>&1)" || { echo "    $out"; return 1; }
  python3 -c 'import json,sys; t=json.load(sys.stdin)["totals"]; print("    sessions", t["sessions"], "exchanges", t["exchanges"]); sys.exit(0 if t["sessions"] > 0 else 1)' <<<"$out" &&
    ! grep -q CANARY <<<"$out"
}
diff_runs_clean() {  # the store against itself: no differences, and nothing planted in the output
  local out
  out="$("$RELAYTAP" diff --db "$WORK/relaytap.db" --against "$WORK/relaytap.db" --format json 2>&1)" ||
    { echo "    $out"; return 1; }
  python3 -c 'import json,sys; d=json.load(sys.stdin); print("    attempts", d["good_attempts"]); sys.exit(0 if d["good_attempts"] > 0 and d["differences"] == [] else 1)' <<<"$out" &&
    ! grep -q CANARY <<<"$out"
}
report_names_request_ids() {
  local out
  out="$("$RELAYTAP" report --db "$WORK/relaytap.db" --format md 2>&1)" || { echo "    $out"; return 1; }
  grep -q "# relaytap incident report" <<<"$out" && ! grep -q CANARY <<<"$out"
}
report_html_in_chromium() {  # the HTML report in headless chromium: drawn, ids shown, nothing fetched
  if ! "$RELAYTAP" report --db "$WORK/relaytap.db" --format html --out "$WORK/report.html" \
         >"$WORK/report-html.out" 2>&1 ||
     ! "$RELAYTAP" report --db "$WORK/relaytap.db" --format json --out "$WORK/report.json" \
         >>"$WORK/report-html.out" 2>&1; then
    sed 's/^/    /' "$WORK/report-html.out"
    return 1
  fi
  if grep -a -q CANARY "$WORK/report.html"; then echo "    canary found in the HTML report"; return 1; fi
  if ! command -v node >/dev/null 2>&1 || [ ! -d "$HERE/node/node_modules/playwright-core" ] ||
     [ ! -x /usr/bin/chromium ]; then
    echo "    node, tests/clients/node/node_modules/playwright-core or /usr/bin/chromium missing (run scripts/install-deps.sh)"
    return 1
  fi
  # Every failure's ids, and each failed realtime session's event count (its timeline's marks).
  local args
  mapfile -t args < <(python3 -c '
import json, sys
failures = json.load(open(sys.argv[1]))["failures"]
counts = [str(len(f["events_before_failure"])) for f in failures if f["kind"] == "ws_session"]
ids = {f[k] for f in failures for k in ("apim_request_id", "x_request_id", "session_id", "response_id") if f[k]}
print("--timeline-events"); print(",".join(counts))
for i in sorted(ids): print(i)' "$WORK/report.json")
  if [ "${#args[@]}" -lt 3 ] || [ "${args[1]}" = "" ]; then
    echo "    the recording has no failed realtime session with ids to look for: ${args[*]}"
    return 1
  fi
  echo "    ${args[*]}"
  timeout --kill-after=5 90 node "$HERE/node/report_html_test.mjs" "$WORK/report.html" "${args[@]}" 2>&1 |
    sed 's/^/    /'
  return "${PIPESTATUS[0]}"
}
har_is_valid() {
  if ! "$RELAYTAP" export --db "$WORK/relaytap.db" --har "$WORK/relaytap.har" >"$WORK/export.out" 2>&1; then
    sed 's/^/    /' "$WORK/export.out"
    return 1
  fi
  if ! command -v node >/dev/null 2>&1 || [ ! -d "$HERE/node/node_modules/har-validator" ]; then
    echo "    node or tests/clients/node/node_modules/har-validator missing (run scripts/install-deps.sh)"
    return 1
  fi
  node "$HERE/node/har_validate.mjs" "$WORK/relaytap.har" 2>&1 | sed 's/^/    /'
  return "${PIPESTATUS[0]}"
}
exits_2() {  # exits_2 <command...> : the command fails with exit code 2 and says why
  local rc=0
  "$@" >/dev/null 2>"$WORK/exit.err" || rc=$?
  sed 's/^/    /' "$WORK/exit.err"
  [ "$rc" -eq 2 ] && [ -s "$WORK/exit.err" ]
}
# Store management on what the clients recorded: split it in two by time with export --sqlite,
# read the two as a set (a folder and a glob) and get the one store's answers; prune a copy.
set_equals_one() {
  local mid one dir glob
  mid="$(sqlite3 "$WORK/relaytap.db" "SELECT strftime('%Y-%m-%dT%H:%M:%fZ', request_start_us / 1e6, 'unixepoch') FROM exchanges ORDER BY request_start_us LIMIT 1 OFFSET (SELECT COUNT(*) / 2 FROM exchanges)")"
  mkdir -p "$WORK/set"
  "$RELAYTAP" export --db "$WORK/relaytap.db" --sqlite "$WORK/set/relaytap.db" --until "$mid" &&
    "$RELAYTAP" export --db "$WORK/relaytap.db" --sqlite "$WORK/set/relaytap-b.db" --since "$mid" ||
    return 1
  [ "$(stat -c %a "$WORK/set/relaytap.db")" = 600 ] || { echo "    copy is not 0600"; return 1; }
  one="$("$RELAYTAP" stats --db "$WORK/relaytap.db" --format json --tz UTC)" || return 1
  dir="$("$RELAYTAP" stats --db "$WORK/set" --format json --tz UTC)" || return 1
  glob="$("$RELAYTAP" stats --db "$WORK/set/relaytap*.db" --format json --tz UTC)" || return 1
  echo "    split at $mid"
  [ "$one" = "$dir" ] && [ "$one" = "$glob" ] || { echo "    stats differ"; return 1; }
  "$RELAYTAP" report --db "$WORK/relaytap.db" --format json --tz UTC >"$WORK/report-one.json" &&
    "$RELAYTAP" report --db "$WORK/set" --format json --tz UTC >"$WORK/report-set.json" &&
    python3 -c 'import json,sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
for r in (a, b): r["summary"].pop("db")
sys.exit(0 if a == b else 1)' "$WORK/report-one.json" "$WORK/report-set.json"
}
prune_a_copy() {
  local out
  "$RELAYTAP" export --db "$WORK/relaytap.db" --sqlite "$WORK/pruned.db" || return 1
  out="$("$RELAYTAP" prune --db "$WORK/pruned.db" --before +1m --dry-run)" || return 1
  echo "    $out" | head -1
  [ "$(sqlite3 "$WORK/pruned.db" 'SELECT COUNT(*) FROM runs')" != 0 ] || return 1
  "$RELAYTAP" prune --db "$WORK/pruned.db" --before +1m | sed 's/^/    /' &&
    [ "$(sqlite3 "$WORK/pruned.db" 'SELECT (SELECT COUNT(*) FROM runs) + (SELECT COUNT(*) FROM events)')" = 0 ] &&
    [ "$(sqlite3 "$WORK/pruned.db" 'PRAGMA integrity_check')" = ok ] &&
    "$RELAYTAP" stats --db "$WORK/pruned.db" >/dev/null 2>&1
}
echo "not a database" >"$WORK/not-a-store.db"
check stats_counts_sessions stats_counts_sessions
check stats_missing_store_exits_2 exits_2 "$RELAYTAP" stats --db "$WORK/missing.db"
check report_non_store_exits_2 exits_2 "$RELAYTAP" report --db "$WORK/not-a-store.db"
check diff_bad_selector_exits_2 exits_2 "$RELAYTAP" diff --db "$WORK/relaytap.db" \
  --good colour=red --bad outcome=ok
check export_bad_since_exits_2 exits_2 "$RELAYTAP" export --db "$WORK/relaytap.db" --har - \
  --since yesterday
check report_runs report_names_request_ids
check report_html_in_chromium report_html_in_chromium
check diff_runs diff_runs_clean
check har_export_valid har_is_valid
check store_set_answers_equal_one_store set_equals_one
check export_sqlite_refuses_to_overwrite exits_2 "$RELAYTAP" export --db "$WORK/relaytap.db" \
  --sqlite "$WORK/set/relaytap.db"
check set_glob_matching_nothing_exits_2 exits_2 "$RELAYTAP" stats --db "$WORK/nothing*.db"
check prune_a_copy prune_a_copy

if [ $FAILED -ne 0 ]; then
  echo "---- proxy stderr (last 60 lines)"
  tail -n 60 "$WORK/proxy.err" | sed 's/^/    /'
  echo "---- fake-upstream stderr (last 20 lines)"
  tail -n 20 "$WORK/fake.err" | sed 's/^/    /'
  echo "failed: ${FAILED_NAMES[*]}"
fi
echo "$PASSED passed, $FAILED failed"
[ $FAILED -eq 0 ]

#!/usr/bin/env bash
# curl through relaytap: intercepted HTTPS POST, SSE streaming, untrusted-CA rejection,
# `relaytap ca env` trust, and a blind tunnel. Env from run_clients.sh: RT_BIN RT_PROXY_PORT
# RT_FAKE_PORT RT_CA_DIR RT_PROXY_CA RT_UPSTREAM_CA RT_WORK.
set -euo pipefail

PROXY="http://127.0.0.1:${RT_PROXY_PORT}"
BASE="https://contoso.openai.azure.com"
W="$RT_WORK/curl"
mkdir -p "$W"
PY=/usr/bin/python3
fails=0
ok()   { echo "ok   $*"; }
bad()  { echo "FAIL $*"; fails=$((fails + 1)); }
C=(curl -sS --max-time 20 --noproxy '' --proxy "$PROXY")

json_field() {  # json_field FILE KEY
  "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

# 1. POST /echo, body byte-identical upstream (sha256 reported by the fake upstream).
head -c 200000 /dev/urandom >"$W/body.bin"
want="$(sha256sum "$W/body.bin" | cut -d' ' -f1)"
code="$("${C[@]}" --cacert "$RT_PROXY_CA" -o "$W/echo.json" -w '%{http_code}' \
  -H 'api-key: test-key' -H 'content-type: application/octet-stream' \
  --data-binary "@$W/body.bin" "$BASE/echo?api-version=2024-10-21")" || code="curl-exit-$?"
if [ "$code" = 200 ] && [ "$(json_field "$W/echo.json" body_sha256)" = "$want" ] &&
   [ "$(json_field "$W/echo.json" method)" = POST ]; then
  ok "POST /echo 200, body_sha256 matches"
else
  bad "POST /echo: code=$code body=$(head -c 400 "$W/echo.json" 2>/dev/null)"
fi

# 2. SSE: 5 data events then [DONE], streamed.
if "${C[@]}" -N --cacert "$RT_PROXY_CA" "$BASE/sse?events=5&interval_ms=100" >"$W/sse.txt"; then
  n="$(grep -c '^data: {' "$W/sse.txt" || true)"
  done_n="$(grep -c '^data: \[DONE\]' "$W/sse.txt" || true)"
  if [ "$n" = 5 ] && [ "$done_n" = 1 ]; then
    ok "SSE: 5 events + [DONE]"
  else
    bad "SSE: $n events, $done_n [DONE]: $(head -c 400 "$W/sse.txt")"
  fi
else
  bad "SSE: curl exit $?"
fi

# 3. System store only: relaytap's CA is not trusted there, so curl must refuse.
rc=0
"${C[@]}" -o /dev/null "$BASE/echo" 2>"$W/untrusted.err" || rc=$?
if [ $rc -eq 60 ] || [ $rc -eq 35 ]; then
  ok "system store only: curl rejects the proxy CA (exit $rc)"
else
  bad "system store only: expected curl exit 60, got $rc: $(cat "$W/untrusted.err")"
fi
# ...and the proxy is still serving.
code="$("${C[@]}" --cacert "$RT_PROXY_CA" -o /dev/null -w '%{http_code}' "$BASE/echo")" || code="curl-exit-$?"
if [ "$code" = 200 ]; then ok "proxy still serving after the rejected handshake"; else bad "after rejection: $code"; fi

# 4. eval "$(relaytap ca env)" then plain curl (CURL_CA_BUNDLE).
env_out="$("$RT_BIN" ca env --ca-dir "$RT_CA_DIR")"
code="$(
  eval "$env_out"
  [ -n "${CURL_CA_BUNDLE:-}" ] && [ -f "$CURL_CA_BUNDLE" ] || { echo "no-bundle"; exit 0; }
  "${C[@]}" -o /dev/null -w '%{http_code}' "$BASE/echo" || echo "curl-exit-$?"
)"
if [ "$code" = 200 ]; then ok "ca env: plain curl trusts the proxy"; else bad "ca env: $code; env: $env_out"; fi

# 5. A host outside the intercept patterns is tunnelled blind: curl sees the upstream's own cert.
code="$("${C[@]}" --cacert "$RT_UPSTREAM_CA" -o "$W/tunnel.json" -w '%{http_code}' \
  "https://localhost:${RT_FAKE_PORT}/echo")" || code="curl-exit-$?"
if [ "$code" = 200 ]; then ok "blind tunnel shows the upstream certificate"; else bad "tunnel: $code"; fi

# 6. The self-check host, answered by relaytap itself: the JSON names the proxy and the CA's
# SHA-256 fingerprint, equal to what openssl computes from the CA file.
code="$("${C[@]}" --cacert "$RT_PROXY_CA" -o "$W/check.json" -w '%{http_code}' \
  https://check.relaytap.invalid/)" || code="curl-exit-$?"
fp="$(openssl x509 -noout -fingerprint -sha256 -in "$RT_PROXY_CA" | sed 's/^.*=//')"
if [ "$code" = 200 ] && [ "$(json_field "$W/check.json" proxy)" = relaytap ] &&
   [ "$(json_field "$W/check.json" intercepted)" = True ] &&
   [ "$(json_field "$W/check.json" ca_fingerprint)" = "$fp" ]; then
  ok "self-check: $(cat "$W/check.json")"
else
  bad "self-check: code=$code body=$(head -c 400 "$W/check.json" 2>/dev/null) want fp $fp"
fi
# ...without the CA: curl refuses, and that is the finding.
rc=0
"${C[@]}" -o /dev/null https://check.relaytap.invalid/ 2>/dev/null || rc=$?
if [ $rc -eq 60 ] || [ $rc -eq 35 ]; then ok "self-check without the CA: curl exit $rc"; else bad "self-check untrusted: exit $rc"; fi

exit $fails

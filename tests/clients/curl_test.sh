#!/usr/bin/env bash
# curl through relaytap: intercepted HTTPS POST, SSE streaming, untrusted-CA rejection,
# `relaytap ca env` trust, a blind tunnel, the self-check host and a WebRTC call set-up. Env from run_clients.sh: RT_BIN RT_PROXY_PORT
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

# 7. A WebRTC call set-up as a browser app makes it: an ephemeral token, then the SDP offer with
# it; the proxy relays the SDP answer and Location, and records the call with its token (stats
# reads it from the live store within a bounded wait).
code="$("${C[@]}" --cacert "$RT_PROXY_CA" -o "$W/token.json" -w '%{http_code}' \
  -H 'api-key: test-key' -H 'content-type: application/json' \
  -d '{"session":{"type":"realtime","model":"gpt-realtime"}}' \
  "$BASE/openai/v1/realtime/client_secrets")" || code="curl-exit-$?"
token="$(json_field "$W/token.json" value 2>/dev/null || true)"
printf 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:CurlUfrag\r\na=ice-pwd:CurlPwdCanary0123456789\r\na=fingerprint:sha-256 AB:CD\r\na=setup:actpass\r\na=rtpmap:111 opus/48000/2\r\n' >"$W/offer.sdp"
code="$("${C[@]}" --cacert "$RT_PROXY_CA" -o "$W/answer.sdp" -D "$W/call.head" \
  -w '%{http_code}' -H "authorization: Bearer $token" -H 'content-type: application/sdp' \
  --data-binary "@$W/offer.sdp" "$BASE/openai/v1/realtime/calls")" || code="curl-exit-$?"
if [ "$code" = 201 ] && grep -qi '^location: /v1/realtime/calls/rtc_' "$W/call.head" &&
   head -c 3 "$W/answer.sdp" | grep -q 'v=0'; then
  ok "WebRTC call set-up: 201, Location rtc_..., an SDP answer"
else
  bad "WebRTC call set-up: code=$code token=${token:0:3}... $(head -c 300 "$W/call.head" 2>/dev/null)"
fi
calls=""
for _ in $(seq 1 50); do
  calls="$("$RT_BIN" stats --db "$RT_WORK/relaytap.db" --format json 2>/dev/null |
    "$PY" -c 'import json,sys; c=json.load(sys.stdin)["calls"]; print(c["by_outcome"].get("answered", 0))' 2>/dev/null || true)"
  [ "${calls:-0}" -ge 1 ] 2>/dev/null && break
  sleep 0.1
done
if [ "${calls:-0}" -ge 1 ] 2>/dev/null && ! grep -qa 'CurlPwdCanary' "$RT_WORK/relaytap.db" "$RT_WORK/relaytap.db-wal" 2>/dev/null; then
  ok "relaytap stats counts the answered call; the offer's ICE password is not in the store"
else
  bad "WebRTC call in the store: answered=$calls"
fi

exit $fails

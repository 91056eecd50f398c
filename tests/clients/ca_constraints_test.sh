#!/usr/bin/env bash
# The name-constrained CA with OpenSSL's own tools (issue #14 item 5): `openssl s_client` through
# the proxy verifies the leaf strictly; `openssl verify -CAfile ca.pem leaf.pem` accepts it; an SNI
# other than the CONNECT host is refused; a leaf minted by hand with the CA's key for a host
# outside the intercept patterns fails `openssl verify`; `relaytap ca rotate` keeps the previous
# CA and exits 2 on a bad pattern. Env from run_clients.sh: RT_BIN RT_PROXY_PORT RT_CA_DIR
# RT_PROXY_CA RT_WORK.
set -euo pipefail

W="$RT_WORK/ca_constraints"
mkdir -p "$W"
HOST=contoso.openai.azure.com
fails=0
ok()  { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }

s_client() {  # s_client SNI : one handshake through the proxy's CONNECT to $HOST:443
  timeout 20 openssl s_client -proxy "127.0.0.1:${RT_PROXY_PORT}" -connect "$HOST:443" \
    -servername "$1" -CAfile "$RT_PROXY_CA" -verify_return_error -x509_strict \
    -verify_hostname "$1" -showcerts </dev/null 2>&1 || true
}

# 1. openssl s_client verifies the leaf strictly against the constrained CA.
s_client "$HOST" >"$W/ok.txt"
if grep -q 'Verify return code: 0 (ok)' "$W/ok.txt"; then
  ok "s_client through the proxy: Verify return code 0"
else
  bad "s_client through the proxy did not verify"; sed 's/^/    /' "$W/ok.txt" | tail -20
fi

# 2. openssl verify -CAfile ca.pem leaf.pem, the leaf as the proxy presented it.
sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' "$W/ok.txt" |
  awk '/BEGIN/{n++} n==1' >"$W/leaf.pem"
if openssl verify -x509_strict -purpose sslserver -verify_hostname "$HOST" \
     -CAfile "$RT_PROXY_CA" "$W/leaf.pem" >"$W/verify.txt" 2>&1; then
  ok "openssl verify -CAfile ca.pem leaf.pem: OK"
else
  bad "openssl verify rejected the proxy's leaf"; sed 's/^/    /' "$W/verify.txt"
fi
if openssl x509 -in "$RT_PROXY_CA" -noout -text | grep -A8 'Name Constraints: critical' |
     grep -q 'DNS:.openai.azure.com'; then
  ok "the CA carries critical name constraints"
else
  bad "no critical name constraints in $RT_PROXY_CA"
fi

# 3. An SNI naming another host inside CONNECT $HOST is refused (no certificate at all).
s_client www.google.com >"$W/sni.txt"
if grep -qi 'handshake failure' "$W/sni.txt" && ! grep -q 'BEGIN CERTIFICATE' "$W/sni.txt"; then
  ok "SNI www.google.com inside CONNECT $HOST: handshake failure, no certificate"
else
  bad "SNI mismatch was not refused"; sed 's/^/    /' "$W/sni.txt" | tail -20
fi

# 4. A leaf for www.google.com minted by hand with the CA's key fails verification.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/evil.key" \
  -subj "/O=hand minted" -out "$W/evil.csr" 2>/dev/null
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:www.google.com\n' >"$W/evil.ext"
openssl x509 -req -in "$W/evil.csr" -CA "$RT_PROXY_CA" -CAkey "$RT_CA_DIR/relaytap-ca.key" \
  -set_serial 4242 -days 2 -extfile "$W/evil.ext" -out "$W/evil.pem" 2>/dev/null
if openssl verify -CAfile "$RT_PROXY_CA" "$W/evil.pem" >"$W/evil.txt" 2>&1; then
  bad "a hand-minted leaf for www.google.com verified"
elif grep -q 'permitted subtree violation' "$W/evil.txt"; then
  ok "hand-minted leaf for www.google.com: permitted subtree violation"
else
  bad "hand-minted leaf failed for another reason"; sed 's/^/    /' "$W/evil.txt"
fi

# 5. relaytap ca rotate: a new CA, the previous one kept, exit 2 on a bad pattern.
ROT="$W/rot-ca"
"$RT_BIN" ca path --ca-dir "$ROT" >/dev/null
cp "$ROT/relaytap-ca.pem" "$W/first.pem"
rc=0
"$RT_BIN" ca rotate --ca-dir "$ROT" >"$W/rotate.txt" 2>&1 || rc=$?
if [ $rc -eq 0 ] && cmp -s "$W/first.pem" "$ROT/relaytap-ca.pem.previous" &&
   ! cmp -s "$W/first.pem" "$ROT/relaytap-ca.pem" &&
   [ "$(stat -c %a "$ROT/relaytap-ca.key.previous")" = 600 ] &&
   grep -q 'must trust the new CA' "$W/rotate.txt"; then
  ok "ca rotate: new CA, previous kept (key 0600), exit 0"
else
  bad "ca rotate (exit $rc)"; sed 's/^/    /' "$W/rotate.txt"
fi
rc=0
"$RT_BIN" ca rotate --ca-dir "$ROT" --intercept 'a.*.example' >/dev/null 2>&1 || rc=$?
if [ $rc -eq 2 ]; then ok "ca rotate with a bad pattern: exit 2"; else bad "bad pattern exit $rc"; fi

[ $fails -eq 0 ]

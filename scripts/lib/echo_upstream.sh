# Sourced by the scripts that measure relaytap against the benchmark's TLS echo upstream
# (profile.sh, scrape-cost.sh). Needs WORK (a temporary directory), PIDS (the processes to stop)
# and wait_line (lib/wait_line.sh).

# start_echo_upstream LOADGEN: makes a self-signed certificate for localhost ($WORK/leaf.pem, the
# proxy's --upstream-ca), starts `LOADGEN upstream` on it, adds it to PIDS and sets ECHO_TARGET
# (localhost:PORT).
start_echo_upstream() {
  local loadgen=$1
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -keyout "$WORK/leaf.key" -out "$WORK/leaf.pem" -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
  "$loadgen" upstream --cert "$WORK/leaf.pem" --key "$WORK/leaf.key" >"$WORK/upstream.out" 2>&1 &
  PIDS+=($!)
  ECHO_TARGET="localhost:$(wait_line "$WORK/upstream.out" '^listening on .*:\([0-9]*\)$')"
}

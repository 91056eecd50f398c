#!/usr/bin/env bash
# Installs what relaytap needs to build and test on Debian 12. Idempotent: when every package is
# already installed it does not touch apt, so reruns take a second.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

PACKAGES=(
  build-essential cmake ninja-build pkg-config libboost1.81-dev libssl-dev nlohmann-json3-dev
  libsqlite3-dev libabsl-dev libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev zlib1g-dev
  python3 python3-websocket curl sqlite3 openssl ca-certificates
  python3-requests python3-httpx python3-aiohttp  # tests/integration/doctor_test.cc runs them
  clang-format  # scripts/check-format.sh (CI fails on unformatted C++)
  clang libclang-rt-14-dev  # scripts/fuzz.sh: clang++ and libFuzzer (libclang_rt.fuzzer)
  lld  # the asan preset links with it: about a third of GNU ld's time per test executable
  mitmproxy  # scripts/bench.sh compares against mitmdump
  linux-perf  # scripts/profile.sh: relaytap's own share of the proxy's CPU (issue #19)
  tinyproxy squid  # tests/integration/upstream_proxy_test.cc starts both on loopback
  prometheus  # tests/integration/prometheus_test.cc scrapes relaytap; promtool checks (CI)
  chromium  # tests/clients/node/report_html_test.mjs renders the HTML report headless
)

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  fi
fi

is_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

APT_UPDATED=0
apt_install() {
  if [ "${#SUDO[@]}" -eq 0 ] && [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: need root (or sudo) to install: $*" >&2
    exit 1
  fi
  if [ "$APT_UPDATED" -eq 0 ]; then
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
    APT_UPDATED=1
  fi
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
}

missing=()
for p in "${PACKAGES[@]}"; do
  is_installed "$p" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  apt_install "${PACKAGES[@]}"
else
  echo "install-deps: all Debian packages present"
fi

# Node: use whatever node is there (e.g. nodesource); otherwise Debian's.
if ! command -v node >/dev/null 2>&1; then
  echo "install-deps: node missing, installing Debian's nodejs npm"
  apt_install nodejs npm
fi

NODE_DIR="$ROOT/tests/clients/node"
if [ -f "$NODE_DIR/package.json" ]; then
  if [ -f "$NODE_DIR/package-lock.json" ]; then
    # Skip when node_modules already matches the lock file (npm writes this copy on install).
    if [ -f "$NODE_DIR/node_modules/.package-lock.json" ] &&
       [ "$NODE_DIR/node_modules/.package-lock.json" -nt "$NODE_DIR/package-lock.json" ]; then
      echo "install-deps: node modules up to date"
    else
      (cd "$NODE_DIR" && npm ci --no-audit --no-fund)
    fi
  else
    (cd "$NODE_DIR" && npm install --no-audit --no-fund)
  fi
fi
echo "install-deps: done"

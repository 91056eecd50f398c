#!/usr/bin/env bash
# The run command: installs what is missing, builds the release preset and runs the proxy.
# Extra arguments go to `relaytap proxy` (default: listens on 127.0.0.1:8080).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/install-deps.sh >&2
cmake --preset release >&2
# Only the relaytap binary: the tests and benchmark tools are built by scripts/test.sh.
cmake --build --preset release -j"${RELAYTAP_JOBS:-$(nproc)}" --target relaytap >&2
# Put `relaytap` on PATH (for `relaytap ca env` in the app's shell) when we may.
if [ -w /usr/local/bin ]; then
  ln -sf "$ROOT/build/release/tools/relaytap" /usr/local/bin/relaytap
  echo "relaytap is on PATH: /usr/local/bin/relaytap -> $ROOT/build/release/tools/relaytap" >&2
else
  echo "relaytap binary: $ROOT/build/release/tools/relaytap (add it to PATH)" >&2
fi
exec build/release/tools/relaytap proxy "$@"

#!/usr/bin/env bash
# The run command: installs what is missing, builds the release preset and runs the proxy.
# Extra arguments go to `relaytap proxy` (default: listens on 127.0.0.1:8080).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/install-deps.sh >&2
cmake --preset release >&2
cmake --build --preset release -j"${RELAYTAP_JOBS:-$(nproc)}" >&2
exec build/release/tools/relaytap proxy "$@"

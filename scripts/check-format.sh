#!/usr/bin/env bash
# Fails when a C++ file is not formatted as .clang-format says, and names the files. Fix with
#   clang-format -i FILE...
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if ! command -v clang-format >/dev/null 2>&1; then
  echo "check-format: clang-format is missing (bash scripts/install-deps.sh installs it)" >&2
  exit 1
fi
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files '*.cc' '*.h')
else
  mapfile -t files < <(find base redact recorder proxy tools tests -name '*.cc' -o -name '*.h')
fi
# Many files per clang-format process, one process per core: one process per file took 14 s.
# --dry-run --Werror names every unclean file in its diagnostics ("FILE:LINE:COL: error: ...").
rc=0
out="$(printf '%s\0' "${files[@]}" |
  xargs -0 -n 64 -P "$(nproc)" clang-format --dry-run --Werror 2>&1 >/dev/null)" || rc=$?
mapfile -t bad < <(grep -oE '^[^:]+\.(cc|h):[0-9]+:[0-9]+: (error|warning):' <<<"$out" |
  cut -d: -f1 | sort -u)
if [ "$rc" -ne 0 ] && [ "${#bad[@]}" -eq 0 ]; then
  echo "check-format: clang-format failed (exit $rc):" >&2
  echo "$out" >&2
  exit 1
fi
if [ "${#bad[@]}" -gt 0 ]; then
  echo "check-format: ${#bad[@]} of ${#files[@]} files are not clang-format clean:" >&2
  printf '  %s\n' "${bad[@]}" >&2
  echo "fix with: clang-format -i ${bad[*]}" >&2
  exit 1
fi
echo "check-format: ${#files[@]} files clean"

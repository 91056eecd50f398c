# Sourced by the scripts that start processes beside a temporary directory (bench.sh,
# scrape-cost.sh, profile.sh).

# use_workdir PREFIX: makes WORK (/tmp/PREFIX.XXXXXX) and PIDS (the processes to stop), and on exit
# stops every process in PIDS (SIGTERM, then waits for it) and removes WORK.
use_workdir() {
  WORK="$(mktemp -d "/tmp/$1.XXXXXX")"
  PIDS=()
  trap cleanup_workdir EXIT
}

cleanup_workdir() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}

# Sourced by scripts that start a process and read what it prints (bench.sh, scrape-cost.sh,
# profile.sh).

# wait_line FILE REGEX: waits (bounded, 30 s) until FILE has a line matching REGEX and prints the
# regex's first capture group; on timeout prints FILE to stderr and fails.
wait_line() {
  local file=$1 regex=$2
  for _ in $(seq 300); do
    local got
    got=$(sed -n "s/$regex/\\1/p" "$file" | head -1)
    if [ -n "$got" ]; then echo "$got"; return 0; fi
    sleep 0.1
  done
  echo "$(basename "$0" .sh): timed out waiting for '$regex' in $file:" >&2
  cat "$file" >&2
  return 1
}

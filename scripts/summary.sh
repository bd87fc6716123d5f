#!/usr/bin/env bash
# Sums the per-suite results of every language's test runs into one closing line:
# "N passed, N failed". Each argument is a log file of cargo test / node --test / pytest output.
set -euo pipefail
passed=0; failed=0; skipped=0
for log in "$@"; do
  [ -f "$log" ] || continue
  # cargo test: "test result: ok. 5 passed; 0 failed; 1 ignored; ..."
  while read -r p f i; do
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + i))
  done < <(sed -nE 's/^test result: [a-zA-Z]+\. ([0-9]+) passed; ([0-9]+) failed; ([0-9]+) ignored.*/\1 \2 \3/p' "$log")
  # node --test: "# pass 12" / "# fail 0" / "# skipped 0"
  while read -r k n; do
    case "$k" in pass) passed=$((passed + n));; fail) failed=$((failed + n));; skipped) skipped=$((skipped + n));; esac
  done < <(sed -nE 's/^# (pass|fail|skipped) ([0-9]+)$/\1 \2/p' "$log")
  # pytest: "=== 10 passed, 1 failed, 2 skipped in 0.5s ==="
  line=$(grep -E '^=+ .*(passed|failed).* in [0-9.]+s' "$log" | tail -1 || true)
  if [ -n "$line" ]; then
    n=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+' || echo 0); passed=$((passed + n))
    n=$(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+' || echo 0); failed=$((failed + n))
    n=$(grep -oE '[0-9]+ skipped' <<<"$line" | grep -oE '[0-9]+' || echo 0); skipped=$((skipped + n))
  fi
done
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
[ "$failed" -eq 0 ]

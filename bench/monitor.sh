#!/usr/bin/env bash
# Times `safetynet monitor` against a parse-only pass over the same files.
# Target (issue): monitoring must take at most 2x the time of reading and parsing.
#
# usage: bench/monitor.sh [HOUSEHOLDS] [SETTLEMENTS] [RUNS]
#   defaults: 1,000,000 households, 5,000,000 settlements (and as many claims), 3 runs.
# Data go to ${BENCH_DIR:-/tmp/safetynet-bench-monitor}; they are generated once per size.
set -euo pipefail
cd "$(dirname "$0")/.."
H=${1:-1000000}
S=${2:-$((H * 5))}
RUNS=${3:-3}
DIR=${BENCH_DIR:-/tmp/safetynet-bench-monitor}/h$H-s$S
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}

cargo build --release -p safetynet >/dev/null
BIN=$CARGO_TARGET_DIR/release/safetynet

if [ ! -f "$DIR/thresholds.toml" ]; then
  echo "generating $H households, $S settlements into $DIR"
  python3 bench/monitor_gen.py "$DIR" "$H" "$S"
fi
du -sh "$DIR"/*.csv

args=(--quiet monitor --year 2024 --persons "$DIR/persons.csv" --households "$DIR/households.csv"
      --claims "$DIR/claims.csv" --settlements "$DIR/settlements.csv" --thresholds "$DIR/thresholds.toml"
      --out "$DIR/alerts.csv")

best() { # best wall time of RUNS runs of the command, in seconds
  local best=""
  for _ in $(seq "$RUNS"); do
    local t0 t1 d
    t0=$(date +%s.%N)
    "$@" 2>/dev/null
    t1=$(date +%s.%N)
    d=$(echo "$t1 - $t0" | bc)
    if [ -z "$best" ] || [ "$(echo "$d < $best" | bc)" = 1 ]; then best=$d; fi
  done
  echo "$best"
}

cat "$DIR"/*.csv >/dev/null # warm the page cache
parse=$(best "$BIN" "${args[@]}" --parse-only)
full=$(best "$BIN" "${args[@]}")
ratio=$(echo "scale=2; $full / $parse" | bc)
echo "households=$H settlements=$S claims=$S cores=$(nproc)"
echo "parse-only: ${parse}s  monitor: ${full}s  ratio: ${ratio} (target <= 2)"
echo "alerts: $(($(wc -l < "$DIR/alerts.csv") - 1))"

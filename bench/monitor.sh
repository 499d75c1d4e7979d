#!/usr/bin/env bash
# Times `safetynet monitor` against a parse-only pass over the same files.
# Target (issue): monitoring must take at most 2x the time of reading and parsing.
#
# usage: bench/monitor.sh [HOUSEHOLDS] [SETTLEMENTS] [RUNS]
#   defaults: 1,000,000 households, 5,000,000 settlements (and as many claims), 3 runs.
# Data go to ${BENCH_DIR:-/work/bench-data/monitor}; they are generated once per size.
# The two commands run interleaved RUNS times; the best wall time of each is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
H=${1:-1000000}
S=${2:-$((H * 5))}
RUNS=${3:-3}
DIR=${BENCH_DIR:-/work/bench-data/monitor}/h$H-s$S
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}

# SAFETYNET may name a built binary; otherwise the release build is made.
if [ -z "${SAFETYNET:-}" ]; then cargo build --release -p safetynet >/dev/null; fi
BIN=${SAFETYNET:-$CARGO_TARGET_DIR/release/safetynet}
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"

if [ ! -f "$DIR/thresholds.toml" ]; then
  echo "generating $H households, $S settlements into $DIR"
  python3 bench/monitor_gen.py "$DIR" "$H" "$S"
fi
du -sh "$DIR"/*.csv

args=(--quiet monitor --year 2024 --persons "$DIR/persons.csv" --households "$DIR/households.csv"
      --claims "$DIR/claims.csv" --settlements "$DIR/settlements.csv" --thresholds "$DIR/thresholds.toml"
      --out "$DIR/alerts.csv")

timed() { # timed LABEL CMD...: prints "LABEL wall_s peak_kb"
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$DIR/.time" "$@" >/dev/null 2>"$DIR/.err" || { cat "$DIR/.err" >&2; exit 1; }
  echo "$label $(cat "$DIR/.time")"
}
cat "$DIR"/*.csv >/dev/null # warm the page cache
: >"$DIR/.runs"
for _ in $(seq "$RUNS"); do # interleaved, so that both see the same machine
  timed parse "$BIN" "${args[@]}" --parse-only | tee -a "$DIR/.runs"
  timed monitor "$BIN" "${args[@]}" | tee -a "$DIR/.runs"
done
best() { awk -v l="$1" '$1 == l && (b == "" || $2 < b) { b = $2 } END { print b }' "$DIR/.runs"; }
rss() { awk -v l="$1" '$1 == l && $3 > m { m = $3 } END { print m }' "$DIR/.runs"; }
parse=$(best parse); full=$(best monitor)
echo "households=$H settlements=$S claims=$S persons=$(($(wc -l <"$DIR/persons.csv") - 1)) cores=$(nproc)"
echo "best of $RUNS: parse-only ${parse}s (peak $(rss parse) KB), monitor ${full}s (peak $(rss monitor) KB)"
awk -v p="$parse" -v m="$full" 'BEGIN { printf "monitor / parse-only = %.2f (target <= 2)\n", m / p }'
echo "alerts: $(($(wc -l < "$DIR/alerts.csv") - 1))"

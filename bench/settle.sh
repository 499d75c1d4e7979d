#!/usr/bin/env bash
# Batch settlement benchmark (issue 3): CSV in, CSV out.
#
#   bench/settle.sh [CLAIMS] [PERSONS] [RUNS]     defaults: 5,000,000 claims, 1,000,000 persons, 3 runs
#
# In one run, interleaved RUNS times, best wall time of each kept:
#   parse   safetynet settle --parse-only   (read and check persons and claims, nothing settled)
#   settle  safetynet settle --out          (read, settle, write the settlement CSV)
#   duckdb  bench/settle_duckdb.py          (the same settlement as SQL window functions)
# then checks that DuckDB's output equals SafetyNet's claim by claim, to the fen.
# Targets: settle <= 2 x parse; duckdb >= 10 x settle; peak RSS <= ~100 bytes a claim.
# Data (bench/settle_gen.py) go to ${BENCH_DIR:-/work/bench-data}/settle-cCLAIMS-pPERSONS.
# Needs GNU time at /usr/bin/time and `pip install duckdb`.
set -euo pipefail
cd "$(dirname "$0")/.."
C=${1:-5000000}
P=${2:-1000000}
RUNS=${3:-3}
DIR=${BENCH_DIR:-/work/bench-data}/settle-c$C-p$P
POLICY=bench/settle_policy.toml
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p safetynet
BIN=$CARGO_TARGET_DIR/release/safetynet

if [ ! -f "$DIR/claims.csv" ]; then
  echo "generating $C claims of $P persons into $DIR"
  python3 bench/settle_gen.py "$DIR" "$C" "$P"
fi
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "data: $C claims ($(du -h "$DIR/claims.csv" | cut -f1)), $P persons ($(du -h "$DIR/persons.csv" | cut -f1))"
cat "$DIR"/claims.csv "$DIR"/persons.csv >/dev/null # warm the page cache

# timed LABEL CMD...: runs CMD under GNU time, prints "LABEL wall_s peak_kb"
timed() {
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$DIR/.time" "$@" >/dev/null 2>"$DIR/.err" || { cat "$DIR/.err" >&2; exit 1; }
  echo "$label $(cat "$DIR/.time")"
}
args=(--quiet settle --policy "$POLICY" --persons "$DIR/persons.csv" --claims "$DIR/claims.csv")
: >"$DIR/.runs"
for i in $(seq "$RUNS"); do
  timed parse "$BIN" "${args[@]}" --parse-only | tee -a "$DIR/.runs"
  timed settle "$BIN" "${args[@]}" --out "$DIR/settled.csv" | tee -a "$DIR/.runs"
  python3 bench/settle_duckdb.py "$DIR/persons.csv" "$DIR/claims.csv" "$DIR/duckdb.csv" |
    sed -n 's/.*duckdb_seconds=\([0-9.]*\).*/duckdb \1 0/p' | tee -a "$DIR/.runs"
done
best() { awk -v l="$1" '$1 == l && (b == "" || $2 < b) { b = $2 } END { print b }' "$DIR/.runs"; }
rss() { awk -v l="$1" '$1 == l && $3 > m { m = $3 } END { print m }' "$DIR/.runs"; }
parse=$(best parse); settle=$(best settle); duck=$(best duckdb)
echo "best of $RUNS: parse-only ${parse}s (peak $(rss parse) KB), settle ${settle}s (peak $(rss settle) KB), duckdb ${duck}s"
awk -v p="$parse" -v s="$settle" -v d="$duck" -v kb="$(rss settle)" -v c="$C" 'BEGIN {
  printf "settle / parse-only = %.2f (target <= 2)\n", s / p
  printf "duckdb / settle     = %.1f (target >= 10)\n", d / s
  printf "settle peak RSS     = %.0f bytes a claim (target <= ~100)\n", kb * 1024 / c }'
python3 bench/settle_duckdb.py "$DIR/persons.csv" "$DIR/claims.csv" "$DIR/duckdb.csv" --check "$DIR/settled.csv" |
  grep -v duckdb_seconds

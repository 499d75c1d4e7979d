#!/usr/bin/env bash
# Reading settle's input files at the best readers' speed (issue 21).
#
#   bench/settle_read.sh [CLAIMS] [PERSONS] [RUNS]   defaults: 5,000,000 claims, 1,000,000 persons, 3 runs
#
# In one run, interleaved RUNS times, best wall time of each kept:
#   parse-1     safetynet settle --parse-only, claims read by one thread (SAFETYNET_READ_THREADS=1)
#   parse       safetynet settle --parse-only, claims read on every core (the default)
#   duckdb_read DuckDB reads the same claims file and sums its costs (read_csv, every core)
# Both parse runs read and check the persons and the claims (resident-ID
# checksums, dates, money, persons known); DuckDB only types the columns.
# Target: parse <= duckdb_read. Data as bench/settle.sh (bench/settle_gen.py).
# Needs GNU time at /usr/bin/time and `pip install duckdb`.
set -euo pipefail
cd "$(dirname "$0")/.."
C=${1:-5000000}
P=${2:-1000000}
RUNS=${3:-3}
DIR=${BENCH_DIR:-/work/bench-data}/settle-c$C-p$P
POLICY=bench/settle_policy.toml
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
[ -n "${SAFETYNET:-}" ] || cargo build --release -q -p safetynet
BIN=${SAFETYNET:-$CARGO_TARGET_DIR/release/safetynet}
if [ ! -f "$DIR/claims.csv" ]; then
  echo "generating $C claims of $P persons into $DIR"
  python3 bench/settle_gen.py "$DIR" "$C" "$P"
fi
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "data: $C claims ($(du -h "$DIR/claims.csv" | cut -f1)), $P persons ($(du -h "$DIR/persons.csv" | cut -f1))"
cat "$DIR"/claims.csv "$DIR"/persons.csv >/dev/null # warm the page cache
timed() {
  local label=$1; shift
  /usr/bin/time -f "%e %M %U" -o "$DIR/.time" "$@" >/dev/null 2>"$DIR/.err" || { cat "$DIR/.err" >&2; exit 1; }
  echo "$label $(cat "$DIR/.time")"
}
args=(--quiet settle --policy "$POLICY" --persons "$DIR/persons.csv" --claims "$DIR/claims.csv" --parse-only)
: >"$DIR/.read-runs"
for i in $(seq "$RUNS"); do
  timed parse-1 env SAFETYNET_READ_THREADS=1 "$BIN" "${args[@]}" | tee -a "$DIR/.read-runs"
  timed parse "$BIN" "${args[@]}" | tee -a "$DIR/.read-runs"
  timed duckdb_read python3 -c "
import duckdb, sys, time
t = time.time()
n, s = duckdb.sql(\"SELECT count(*), sum(total_cost) FROM read_csv('$DIR/claims.csv', header = true)\").fetchall()[0]
print(n, s, time.time() - t, file=sys.stderr)" | tee -a "$DIR/.read-runs"
done
best() { awk -v l="$1" '$1 == l && (b == "" || $2 < b) { b = $2 } END { print b }' "$DIR/.read-runs"; }
rss() { awk -v l="$1" '$1 == l && $3 > m { m = $3 } END { print m }' "$DIR/.read-runs"; }
one=$(best parse-1); par=$(best parse); duck=$(best duckdb_read)
echo "best of $RUNS (wall s, columns: label wall peak_kb user_s above): parse one thread ${one}, every core ${par} (peak $(rss parse) KB), duckdb read ${duck}"
awk -v o="$one" -v p="$par" -v d="$duck" 'BEGIN {
  printf "one thread / every core = %.2f\n", o / p
  printf "parse / duckdb read     = %.2f (target <= 1)\n", p / d }'

#!/usr/bin/env bash
# Import benchmark (issue 2): N persons from CSV into SQLite against merely reading,
# parsing and validating the same file.
#
#   bench/import.sh [PERSONS] [RUNS]          defaults: 1,000,000 persons, 3 runs
#
# Data: `safetynet synth --scale province --province 64 --claims-per-person 0`
# (Ningxia, written once under ${BENCH_DIR:-/work/bench-data}/import); the first
# PERSONS persons are taken, with their households. The store is prepared once with
# the province's regions and those households (persons refer to households, which
# refer to villages), copied, and each run imports the persons into a fresh copy:
#   parse   crates/ingest/examples/parse_only.rs persons FILE  (ingest::read_file, what
#           `import` does before it opens the store)
#   import  safetynet --db COPY import persons FILE            (read, check references, write)
# Runs are interleaved and the best wall time of each is kept. Target: import <= 3 x parse.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
RUNS=${2:-3}
DIR=${BENCH_DIR:-/work/bench-data}/import
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
# SAFETYNET may name a built binary (so that a rebuild by someone else does not
# change the binary between runs); otherwise the release build is made.
if [ -z "${SAFETYNET:-}" ]; then cargo build --release -q -p safetynet; fi
cargo build --release -q -p ingest --example parse_only
BIN=${SAFETYNET:-$CARGO_TARGET_DIR/release/safetynet}
PARSE=$CARGO_TARGET_DIR/release/examples/parse_only
mkdir -p "$DIR"
if [ ! -f "$DIR/synth/persons.csv" ]; then
  "$BIN" --quiet synth --scale province --province 64 --seed 1 --claims-per-person 0 --out "$DIR/synth"
fi
if [ ! -f "$DIR/persons-$N.csv" ]; then
  head -n $((N + 1)) "$DIR/synth/persons.csv" >"$DIR/persons-$N.csv"
  # The households those persons belong to (column household_id of both files).
  awk -F, 'NR == FNR { if (FNR == 1) { for (i = 1; i <= NF; i++) if ($i == "household_id") c = i } else keep[$c] = 1; next }
           FNR == 1 { for (i = 1; i <= NF; i++) if ($i == "household_id") d = i; print; next }
           ($d in keep)' "$DIR/persons-$N.csv" "$DIR/synth/households.csv" >"$DIR/households-$N.csv"
fi
rows=$(($(wc -l <"$DIR/persons-$N.csv") - 1))
[ "$rows" -eq "$N" ] || { echo "the synthetic province has only $rows persons" >&2; exit 1; }
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "data: $N persons ($(du -h "$DIR/persons-$N.csv" | cut -f1)), $(($(wc -l <"$DIR/households-$N.csv") - 1)) households"

BASE=$DIR/base-$N.db
if [ ! -f "$BASE" ]; then # built under another name, renamed once complete
  rm -f "$BASE"*
  /usr/bin/time -f "setup: regions imported in %e s" "$BIN" --quiet --db "$BASE.part" import regions "$DIR/synth/regions.csv"
  /usr/bin/time -f "setup: households imported in %e s" "$BIN" --quiet --db "$BASE.part" import households "$DIR/households-$N.csv"
  # Fold SQLite's write-ahead log into the file, so that copying the file copies the store.
  python3 -c "import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute('PRAGMA wal_checkpoint(TRUNCATE)')" "$BASE.part"
  mv "$BASE.part" "$BASE"
  rm -f "$BASE.part"*
fi
cat "$DIR/persons-$N.csv" >/dev/null # warm the page cache

timed() {
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$DIR/.time" "$@" >/dev/null 2>"$DIR/.err" || { cat "$DIR/.err" >&2; exit 1; }
  echo "$label $(cat "$DIR/.time")"
}
: >"$DIR/.runs"
for i in $(seq "$RUNS"); do
  timed parse "$PARSE" persons "$DIR/persons-$N.csv" | tee -a "$DIR/.runs"
  rm -f "$DIR/run.db"*
  cp "$BASE" "$DIR/run.db"
  sync
  timed import "$BIN" --quiet --db "$DIR/run.db" import persons "$DIR/persons-$N.csv" | tee -a "$DIR/.runs"
done
"$BIN" --db "$DIR/run.db" import persons "$DIR/persons-$N.csv" # the same file again: all unchanged
best() { awk -v l="$1" '$1 == l && (b == "" || $2 < b) { b = $2 } END { print b }' "$DIR/.runs"; }
rss() { awk -v l="$1" '$1 == l && $3 > m { m = $3 } END { print m }' "$DIR/.runs"; }
parse=$(best parse); import=$(best import)
echo "best of $RUNS: parse+validate ${parse}s (peak $(rss parse) KB), import into SQLite ${import}s (peak $(rss import) KB)"
awk -v p="$parse" -v i="$import" 'BEGIN { printf "import / parse = %.2f (target <= 3)\n", i / p }'
rm -f "$DIR/run.db"*

#!/usr/bin/env bash
# Importing N new claims into a SQLite store (the store half of issue 7's "indicator
# refresh after importing 10 thousand new claims"; the refresh half is bench/refresh.sh).
#
#   bench/import_claims.sh [N] [RUNS]        defaults: 10,000 claims, 3 runs
#
# Needs the prepared store of bench/import.sh (regions and households of 1 million
# synthetic persons, ${BENCH_DIR:-/work/bench-data}/import/base-1000000.db): run that first.
# A copy gets the first N persons of bench/import.sh's file; each run then imports N
# claims (one per person, made here with awk) into a fresh copy of that store.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}
RUNS=${2:-3}
DIR=${BENCH_DIR:-/work/bench-data}/import
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
if [ -z "${SAFETYNET:-}" ]; then cargo build --release -q -p safetynet; fi
BIN=${SAFETYNET:-$CARGO_TARGET_DIR/release/safetynet}
[ -f "$DIR/base-1000000.db" ] || { echo "run bench/import.sh first (it prepares $DIR/base-1000000.db)" >&2; exit 1; }
head -n $((N + 1)) "$DIR/persons-1000000.csv" >"$DIR/persons-$N.csv"
awk -F, -v OFS=, 'FNR == 1 { for (i = 1; i <= NF; i++) if ($i == "person_id") c = i
                             print "claim_id,person_id,facility_level,kind,admitted,discharged,total_cost,eligible_cost,diagnosis"; next }
  { d = 1 + (FNR % 28); printf "N%08d,%s,county,inpatient,2024-03-%02d,2024-03-%02d,%d.%02d,%d.00,I10\n",
      FNR, $c, d, d, 1000 + FNR % 9000, FNR % 100, 800 + FNR % 200 }' "$DIR/persons-$N.csv" >"$DIR/claims-$N.csv"
rm -f "$DIR/claims-base.db"*
cp "$DIR/base-1000000.db" "$DIR/claims-base.db"
/usr/bin/time -f "setup: $N persons imported in %e s" "$BIN" --quiet --db "$DIR/claims-base.db" import persons "$DIR/persons-$N.csv"
# Fold SQLite's write-ahead log into the file, so that copying the file copies the store.
python3 -c "import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute('PRAGMA wal_checkpoint(TRUNCATE)')" "$DIR/claims-base.db"
for _ in $(seq "$RUNS"); do
  rm -f "$DIR/claims-run.db"*
  cp "$DIR/claims-base.db" "$DIR/claims-run.db"
  /usr/bin/time -f "import $N claims: wall %e s, peak RSS %M KB" "$BIN" --quiet --db "$DIR/claims-run.db" import claims "$DIR/claims-$N.csv"
done
rm -f "$DIR/claims-run.db"* "$DIR/claims-base.db"*

#!/usr/bin/env bash
# The overview page (GET /) on large stores (issue 6: under 200 ms on
# province-scale data).
#
#   bench/overview.sh [REQUESTS]        default: 20 timed requests a store
#
# 1. Real rows: the store of bench/import.sh (3,622 regions of synthetic Ningxia,
#    309,898 households) plus its 1,000,000 persons and one claim a person
#    (1,000,000 claims, made here with awk), imported with `safetynet import`.
#    The first request after the import refreshes the figures of every village.
# 2. National size: the same store plus figures for 484,500 villages in 2,850
#    counties (13 rows each: the registry and 12 months), written straight into
#    `village_figures` and `county_figures` with sqlite3 from Python, because a
#    national registry takes hours to build here. It times the read the page pays
#    once the figures are current.
# web_load serves each store in-process, settles a few claims, then times GET / as
# an administrator of the whole country. Needs bench/import.sh run first.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-20}
DIR=${BENCH_DIR:-/work/bench-data}/import
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
if [ -z "${SAFETYNET:-}" ]; then cargo build --release -q -p safetynet; fi
cargo build --release -q -p web --example web_load
BIN=${SAFETYNET:-$CARGO_TARGET_DIR/release/safetynet}
LOAD=$CARGO_TARGET_DIR/release/examples/web_load
[ -f "$DIR/base-1000000.db" ] || { echo "run bench/import.sh first (it prepares $DIR/base-1000000.db)" >&2; exit 1; }
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"

if [ ! -f "$DIR/overview-1m.db" ]; then
  rm -f "$DIR/overview-part.db"*
  cp "$DIR/base-1000000.db" "$DIR/overview-part.db"
  "$BIN" --quiet --db "$DIR/overview-part.db" import persons "$DIR/persons-1000000.csv"
  awk -F, 'FNR == 1 { print "claim_id,person_id,facility_level,kind,admitted,discharged,total_cost,eligible_cost,diagnosis"; next }
    { d = 1 + (FNR % 28); printf "N%08d,%s,county,inpatient,2024-03-%02d,2024-03-%02d,%d.%02d,%d.00,I10\n",
        FNR, $1, d, d, 1000 + FNR % 9000, FNR % 100, 800 + FNR % 200 }' "$DIR/persons-1000000.csv" >"$DIR/claims-1m.csv"
  "$BIN" --quiet --db "$DIR/overview-part.db" import claims "$DIR/claims-1m.csv"
  python3 -c "import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute('PRAGMA wal_checkpoint(TRUNCATE)')" "$DIR/overview-part.db"
  mv "$DIR/overview-part.db" "$DIR/overview-1m.db"
fi

echo "== 1 M persons, 1 M claims (the first request refreshes every village)"
rm -f "$DIR/overview-run.db"*
cp "$DIR/overview-1m.db" "$DIR/overview-run.db"
"$LOAD" --db "$DIR/overview-run.db" --requests 100 --concurrency 4 --seconds 10 --overview "$N" 2>/dev/null | grep overview

echo "== the same plus national-size figures (484,500 villages, 2,850 counties)"
python3 - "$DIR/overview-run.db" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
vrows, crows = [], []
for k in range(2850):
    county = (650000000000 + k * 1000000) if k < 999 else (660000000000 + (k - 999) * 1000000)
    crows.append((county, 0, 30 * 170, 100 * 170, 20 * 170, 170, 0, 0, 0))
    crows += [(county, 202400 + m, 0, 0, 0, 0, 25 * 170, 100000 * 170, 20000 * 170) for m in range(1, 13)]
    for i in range(170):
        v = county + (i + 1) * 1000
        vrows.append((v, 0, 30, 100, 20, 1, 0, 0, 0))
        vrows += [(v, 202400 + m, 0, 0, 0, 0, 25, 100000, 20000) for m in range(1, 13)]
c.executemany("INSERT INTO village_figures VALUES (?,?,?,?,?,?,?,?,?)", vrows)
c.executemany("INSERT INTO county_figures VALUES (?,?,?,?,?,?,?,?,?)", crows)
c.commit()
print(f"figures: {c.execute('SELECT COUNT(*) FROM village_figures').fetchone()[0]} village rows, "
      f"{c.execute('SELECT COUNT(*) FROM county_figures').fetchone()[0]} county rows")
EOF
"$LOAD" --db "$DIR/overview-run.db" --requests 10 --concurrency 2 --seconds 10 --overview "$N" 2>/dev/null | grep overview
rm -f "$DIR/overview-run.db"*

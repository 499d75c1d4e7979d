#!/usr/bin/env bash
# The kept indicator facts of two builds side by side (issue 18: claim facts
# sliced by facility level, the households' spending among the village facts,
# the report compared with the province and the nation).
#
#   BEFORE=path/to/old/safetynet AFTER=path/to/new/safetynet bench/kept_levels.sh [CLAIMS_PER_PERSON] [SPREAD]
#        defaults: 2.5 claims a person; new claims for every 100th person
#
# Data (made once under ${BENCH_DIR:-/work/bench-data}/levels): `safetynet synth
# --scale county --seed 1 --year 2024` (one county, 100,000 households). For
# each build, a fresh SQLite store: migrate, import, the demo policy stored for
# the nation, the year settled; then, timed, one command each:
#   build    the first report of 2024 (builds and keeps the year's facts)
#   again    the same report, nothing stale
#   refresh  after 1,000 new claims (one every SPREAD-th person) imported and
#            settled: the report that refreshes the stale persons (and, after,
#            their villages)
#   regions  (AFTER only) the report with --compare regions
# and the sizes of the kept facts (bytes of the encoded facts, rows).
set -euo pipefail
cd "$(dirname "$0")/.."
PER=${1:-2.5}
SPREAD=${2:-100}
DIR=${BENCH_DIR:-/work/bench-data}/levels
: "${BEFORE:?the old binary}" "${AFTER:?the new binary}"
mkdir -p "$DIR"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
if [ ! -f "$DIR/synth/claims.csv" ]; then
  "$AFTER" --quiet synth --scale county --seed 1 --year 2024 --claims-per-person "$PER" --out "$DIR/synth"
fi
S=$DIR/synth
echo "data: $(($(wc -l <"$S/households.csv") - 1)) households, $(($(wc -l <"$S/persons.csv") - 1)) persons, $(($(wc -l <"$S/claims.csv") - 1)) claims"
awk -F, -v OFS=, -v every="$SPREAD" 'FNR == 1 { for (i = 1; i <= NF; i++) if ($i == "person_id") c = i
    print "claim_id,person_id,facility_level,kind,admitted,discharged,total_cost,eligible_cost,diagnosis"; next }
  (FNR - 2) % every == 0 && made < 1000 { made++; d = 1 + (made % 28)
    printf "NEW%07d,%s,county,inpatient,2024-11-%02d,2024-11-%02d,%d.00,%d.00,I10\n", made, $c, d, d, 3000 + made % 9000, 2500 }' \
  "$S/persons.csv" >"$DIR/new.csv"
REPORT=(report --year 2024 --level province,city,county,township --period month)
sizes() {
  python3 - "$1" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
parts = []
for t in ("indicator_facts", "indicator_claim_facts", "indicator_person_facts", "indicator_coverage"):
    n, b = c.execute(f"SELECT COUNT(*), COALESCE(SUM(LENGTH(facts)), 0) FROM {t}").fetchone()
    parts.append(f"{t} {n:,} rows {b / 1e6:.2f} MB")
print("kept: " + "; ".join(parts))
EOF
}
for which in ${WHICH:-BEFORE AFTER}; do
  BIN=${!which}
  DB=$DIR/$which.db
  rm -f "$DB"*
  echo "== $which ($BIN)"
  "$BIN" --quiet --db "$DB" migrate >/dev/null
  for kind in regions households persons facilities practitioners claims thresholds; do
    "$BIN" --quiet --db "$DB" import "$kind" "$S/$kind.csv" >/dev/null
  done
  "$BIN" --quiet --db "$DB" settle --store-policy "$S/policy.toml" --region "" --year 2024 --actor bench >/dev/null
  /usr/bin/time -f "settle: %e s" "$BIN" --quiet --db "$DB" settle --year 2024 --actor bench >/dev/null
  /usr/bin/time -f "build (first report): %e s, peak RSS %M KB" "$BIN" --quiet --db "$DB" "${REPORT[@]}" --out "$DIR/$which.csv"
  sizes "$DB"
  /usr/bin/time -f "again (nothing stale): %e s" "$BIN" --quiet --db "$DB" "${REPORT[@]}" --out "$DIR/$which.csv"
  "$BIN" --quiet --db "$DB" import claims "$DIR/new.csv" >/dev/null
  "$BIN" --quiet --db "$DB" settle --year 2024 --actor bench >/dev/null
  python3 -c "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); print('stale: villages', c.execute('SELECT COUNT(*) FROM indicator_dirty').fetchone()[0], 'persons', c.execute('SELECT COUNT(*) FROM indicator_dirty_persons').fetchone()[0])" "$DB"
  /usr/bin/time -f "refresh (1,000 new claims, every $SPREAD-th person): %e s" "$BIN" --quiet --db "$DB" "${REPORT[@]}" --out "$DIR/$which.csv"
  if [ "$which" = AFTER ]; then
    /usr/bin/time -f "regions (--compare regions): %e s" "$BIN" --quiet --db "$DB" "${REPORT[@]}" --compare regions --out "$DIR/regions.csv"
    /usr/bin/time -f "regions, one county's scope: %e s" "$BIN" --quiet --db "$DB" report --year 2024 --level county,township --period month --region 341122 --compare regions --out "$DIR/regions.csv"
  fi
done

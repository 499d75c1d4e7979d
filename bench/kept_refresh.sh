#!/usr/bin/env bash
# Indicator refresh after importing N new claims into a province-scale store (issue 7:
# under 5 seconds), with the indicator facts kept in the store.
#
#   bench/kept_refresh.sh [N] [RUNS] [SPREAD] [PERSONS]
#        defaults: 10,000 claims, 3 runs, spread 1, 1,000,000 persons
#
# Data (made once under ${BENCH_DIR:-/work/bench-data}/kept): `safetynet synth --scale
# province --province 64 --seed 1 --year 2024` (synthetic Ningxia: 4.8 M persons, 12 M
# claims), cut to its first PERSONS persons with their households and claims, imported
# into SQLite as the demo does, the demo policy stored for the nation, every 2024 claim
# settled, households monitored, and one report run, which builds the kept facts of
# 2024. The N new claims (inpatient, November 2024) go one each to every SPREAD-th
# person of the persons file from the first on: SPREAD 1 puts them in the first
# villages of the file (a county's hospital batch); a larger SPREAD spreads them over
# the whole province, which makes most villages stale.
#
# Each run takes a fresh copy of the prepared store and times, one command each:
#   import   safetynet import claims NEW.csv
#   settle   safetynet settle --year 2024          (settles only the new claims)
#   report   safetynet report --year 2024 ...      (refreshes the stale persons and villages, then reports)
#   again    the same report with nothing changed  (what a report costs from kept facts)
#   monitor  safetynet monitor --year 2024, then the report again (alerts raised and
#            updated across the province make their villages stale)
# and once, for comparison, the report with the kept facts dropped (the first build).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}
RUNS=${2:-3}
SPREAD=${3:-1}
PERSONS=${4:-1000000}
DIR=${BENCH_DIR:-/work/bench-data}/kept
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
if [ -z "${SAFETYNET:-}" ]; then cargo build --release -q -p safetynet; fi
BIN=${SAFETYNET:-$CARGO_TARGET_DIR/release/safetynet}
mkdir -p "$DIR"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
REPORT=(report --year 2024 --level province,city,county,township --period month --out "$DIR/report.csv")

if [ ! -f "$DIR/base.db" ]; then
  [ -f "$DIR/synth/claims.csv" ] || "$BIN" --quiet synth --scale province --province 64 --seed 1 --year 2024 --out "$DIR/synth"
  mkdir -p "$DIR/cut"
  cp "$DIR/synth/"{regions,facilities,practitioners,thresholds}.csv "$DIR/synth/policy.toml" "$DIR/cut/"
  head -n $((PERSONS + 1)) "$DIR/synth/persons.csv" >"$DIR/cut/persons.csv"
  # The households and claims of those persons (by the column's name in each file).
  for f in households claims; do
    key=$([ $f = households ] && echo household_id || echo person_id)
    awk -F, -v k="$key" 'NR == FNR { if (FNR == 1) { for (i = 1; i <= NF; i++) if ($i == k) c = i } else keep[$c] = 1; next }
         FNR == 1 { for (i = 1; i <= NF; i++) if ($i == k) d = i; print; next }
         ($d in keep)' "$DIR/cut/persons.csv" "$DIR/synth/$f.csv" >"$DIR/cut/$f.csv"
  done
  rm -f "$DIR/part.db"*
  /usr/bin/time -f "prepare: migrate %e s" "$BIN" --quiet --db "$DIR/part.db" migrate
  for kind in regions households persons facilities practitioners claims thresholds; do
    /usr/bin/time -f "prepare: import $kind %e s" "$BIN" --quiet --db "$DIR/part.db" import "$kind" "$DIR/cut/$kind.csv"
  done
  "$BIN" --quiet --db "$DIR/part.db" settle --store-policy "$DIR/cut/policy.toml" --region "" --year 2024 --actor bench
  /usr/bin/time -f "prepare: settle %e s" "$BIN" --quiet --db "$DIR/part.db" settle --year 2024 --actor bench
  /usr/bin/time -f "prepare: monitor %e s" "$BIN" --quiet --db "$DIR/part.db" monitor --year 2024 --actor bench
  /usr/bin/time -f "prepare: first report (builds the kept facts) %e s, peak RSS %M KB" \
    "$BIN" --quiet --db "$DIR/part.db" "${REPORT[@]}"
  python3 -c "import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute('PRAGMA wal_checkpoint(TRUNCATE)')" "$DIR/part.db"
  mv "$DIR/part.db" "$DIR/base.db"
fi
python3 - "$DIR/base.db" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
parts = []
for what, sql in [("villages with households", "SELECT COUNT(DISTINCT village_code) FROM households"),
                  ("households", "SELECT COUNT(*) FROM households"), ("persons", "SELECT COUNT(*) FROM persons"),
                  ("claims", "SELECT COUNT(*) FROM claims"), ("settlements", "SELECT COUNT(*) FROM settlements"),
                  ("alerts", "SELECT COUNT(*) FROM alerts"),
                  ("village-years of kept facts", "SELECT COUNT(*) FROM indicator_facts"),
                  ("person-years of kept claim facts", "SELECT COUNT(*) FROM indicator_person_facts")]:
    parts.append("{:,} {}".format(c.execute(sql).fetchone()[0], what))
print("store: " + ", ".join(parts))
EOF

awk -F, -v OFS=, -v n="$N" -v every="$SPREAD" 'FNR == 1 { for (i = 1; i <= NF; i++) if ($i == "person_id") c = i
    print "claim_id,person_id,facility_level,kind,admitted,discharged,total_cost,eligible_cost,diagnosis"; next }
  (FNR - 2) % every == 0 && made < n { made++; d = 1 + (made % 28)
    printf "NEW%07d,%s,county,inpatient,2024-11-%02d,2024-11-%02d,%d.%02d,%d.00,I10\n",
      made, $c, d, d, 1000 + made % 9000, made % 100, 800 + made % 200 }' "$DIR/cut/persons.csv" >"$DIR/new.csv"
echo "new claims: $(($(wc -l <"$DIR/new.csv") - 1)), every $SPREAD-th person"

for _ in $(seq "$RUNS"); do
  rm -f "$DIR/run.db"*
  cp "$DIR/base.db" "$DIR/run.db"
  /usr/bin/time -f "import: %e s" "$BIN" --quiet --db "$DIR/run.db" import claims "$DIR/new.csv"
  /usr/bin/time -f "settle: %e s" "$BIN" --quiet --db "$DIR/run.db" settle --year 2024 --actor bench >/dev/null
  python3 -c "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); print('stale villages:', c.execute('SELECT COUNT(*) FROM indicator_dirty').fetchone()[0], 'stale persons:', c.execute('SELECT COUNT(*) FROM indicator_dirty_persons').fetchone()[0])" "$DIR/run.db"
  /usr/bin/time -f "report (refresh + report): %e s, peak RSS %M KB" "$BIN" --quiet --db "$DIR/run.db" "${REPORT[@]}"
  /usr/bin/time -f "again (nothing stale): %e s" "$BIN" --quiet --db "$DIR/run.db" "${REPORT[@]}"
  # Monitoring after the settlement raises and updates alerts across the
  # province: the villages' registry and alert facts are recomputed.
  /usr/bin/time -f "monitor: %e s" "$BIN" --quiet --db "$DIR/run.db" monitor --year 2024 --actor bench >/dev/null
  python3 -c "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); print('stale villages:', c.execute('SELECT COUNT(*) FROM indicator_dirty').fetchone()[0])" "$DIR/run.db"
  /usr/bin/time -f "report after monitoring (refresh + report): %e s, peak RSS %M KB" "$BIN" --quiet --db "$DIR/run.db" "${REPORT[@]}"
done
python3 -c "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); [c.execute(f'DELETE FROM {t}') for t in ('indicator_years', 'indicator_facts', 'indicator_coverage', 'indicator_claim_facts', 'indicator_person_facts')]; c.commit()" "$DIR/run.db"
/usr/bin/time -f "rebuilt from scratch (the first build): %e s, peak RSS %M KB" "$BIN" --quiet --db "$DIR/run.db" "${REPORT[@]}"
rm -f "$DIR/run.db"*

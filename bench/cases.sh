#!/usr/bin/env bash
# The overdue cases of a province-sized store (issue 15): 10 million households,
# 100,000 open cases awaiting verification and 900,000 closed ones, on SQLite and
# on PostgreSQL. Target: the overdue list answers in < 200 ms.
#
#   bench/cases.sh [HOUSEHOLDS] [OPEN_CASES]     defaults: 10,000,000 and 100,000
#
# The store is migrated by safetynet, then filled by SQL (a province of 25
# counties, 250 townships and 10,000 villages; households spread evenly; open
# cases with deadlines from 60 days before "today" to 30 days after, half of them
# assigned; nine closed cases for each open one). crates/app/examples/cases_overdue.rs
# then times `App::cases` (the function behind the cases page and the API) for
# the nation, the province and one county: the first page (100) of the overdue
# cases, and of the open cases, p50 and max of 20 runs after a warm-up.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000000}
OPEN=${2:-100000}
DIR=${BENCH_DIR:-/work/bench-data}/cases
PG=${SAFETYNET_BENCH_PG:-postgres://postgres@127.0.0.1:5432}
TODAY=2026-06-30
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p safetynet
cargo build --release -q -p app --example cases_overdue
BIN=$CARGO_TARGET_DIR/release/safetynet
EX=$CARGO_TARGET_DIR/release/examples/cases_overdue
mkdir -p "$DIR"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "data: $N households, $OPEN open cases, $((OPEN * 9)) closed cases"

# The filling SQL, for both engines: a numbers table n(i) is the one dialect difference.
fill_sql() { # $1: the numbers source of 0..N-1 as "n(i)"
  local nums=$1
  cat <<SQL
INSERT INTO regions (code, name, level, parent_code) VALUES (640000000000, 'P', 'province', NULL), (640100000000, 'C', 'city', 640000000000);
INSERT INTO regions (code, name, level, parent_code)
  SELECT 640100000000 + d * 1000000, 'county ' || d, 'county', 640100000000 FROM $(printf "$nums" 25) WHERE d >= 1;
INSERT INTO regions (code, name, level, parent_code)
  SELECT 640100000000 + (d / 10 + 1) * 1000000 + (d % 10 + 1) * 1000, 'township', 'township', 640100000000 + (d / 10 + 1) * 1000000
  FROM $(printf "$nums" 249);
INSERT INTO regions (code, name, level, parent_code)
  SELECT 640100000000 + (d / 400 + 1) * 1000000 + ((d / 40) % 10 + 1) * 1000 + d % 40 + 1, 'village', 'village',
         640100000000 + (d / 400 + 1) * 1000000 + ((d / 40) % 10 + 1) * 1000
  FROM $(printf "$nums" 9999);
INSERT INTO households (household_id, village_code, size, income)
  SELECT 'H' || (100000000 + d), 640100000000 + ((d % 10000) / 400 + 1) * 1000000 + (((d % 10000) / 40) % 10 + 1) * 1000 + d % 40 + 1, 3, 2000000
  FROM $(printf "$nums" $((N - 1)));
INSERT INTO cases (household_id, village_code, state, source, opened_at, opened_by, assignee, due, close_due, updated_at)
  SELECT 'H' || (100000000 + d * $((N / OPEN / 10)) ), 640100000000 + (((d * $((N / OPEN / 10))) % 10000) / 400 + 1) * 1000000 + ((((d * $((N / OPEN / 10))) % 10000) / 40) % 10 + 1) * 1000 + (d * $((N / OPEN / 10))) % 40 + 1,
         CASE WHEN d % 10 = 0 THEN (CASE WHEN d % 20 = 0 THEN 'open' ELSE 'assigned' END) ELSE 'closed' END, 'alert',
         '2026-01-01T00:00:00Z', 'bench', CASE WHEN d % 20 = 10 THEN 'officer ' || (d % 7) ELSE '' END,
         $(printf "$DUE" "d"), $(printf "$CLOSE_DUE" "d"), '2026-01-01T00:00:00Z'
  FROM $(printf "$nums" $((OPEN * 10 - 1)));
SQL
}

echo "== SQLite"
DB=$DIR/cases-$N.db
if [ ! -f "$DB" ]; then
  rm -f "$DB.part"*
  "$BIN" --quiet --db "$DB.part" migrate
  DUE="date('$TODAY', ((%s / 10) %% 90 - 60) || ' days')"
  CLOSE_DUE="date('$TODAY', ((%s / 10) %% 90 + 105) || ' days')"
  fill_sql "(WITH RECURSIVE n(d) AS (SELECT 0 UNION ALL SELECT d + 1 FROM n WHERE d < %s) SELECT d FROM n)" >"$DIR/fill-sqlite.sql"
  /usr/bin/time -f "filled in %e s" python3 -c "
import sqlite3, sys
c = sqlite3.connect(sys.argv[1]); c.executescript(open(sys.argv[2]).read()); c.execute('ANALYZE'); c.commit()
c.execute('PRAGMA wal_checkpoint(TRUNCATE)')" "$DB.part" "$DIR/fill-sqlite.sql"
  mv "$DB.part" "$DB"
fi
"$EX" "$DB" "$TODAY" nation 64 640101

echo "== PostgreSQL"
PGDB=safetynet_bench_cases_$N
if ! psql "$PG/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$PGDB'" | grep -q 1; then
  psql -q "$PG/postgres" -c "CREATE DATABASE ${PGDB}_part"
  "$BIN" --quiet --db "$PG/${PGDB}_part" migrate
  DUE="DATE '$TODAY' + ((%s / 10) %% 90 - 60)::int"
  CLOSE_DUE="DATE '$TODAY' + ((%s / 10) %% 90 + 105)::int"
  fill_sql "(SELECT generate_series(0, %s) AS d) n" >"$DIR/fill-pg.sql"
  /usr/bin/time -f "filled in %e s" psql -q -v ON_ERROR_STOP=1 "$PG/${PGDB}_part" -f "$DIR/fill-pg.sql"
  psql -q "$PG/${PGDB}_part" -c "VACUUM ANALYZE"
  psql -q "$PG/postgres" -c "ALTER DATABASE ${PGDB}_part RENAME TO $PGDB"
fi
"$EX" "$PG/$PGDB" "$TODAY" nation 64 640101

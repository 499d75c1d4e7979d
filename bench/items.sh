#!/usr/bin/env bash
# Issue 16: itemised bills against the catalogue (docs/catalogue.md).
#
#   bench/items.sh [RUNS] [REQUESTS] [ITEMS]     defaults: 3 runs, 20000 requests, 50 items
#
# 1. Real time, in-process (web_load: client and server on the same cores), 16
#    keep-alive connections, 10,000 persons in 300 villages: POST
#    /api/v1/settlements with totals only against the same with a bill of ITEMS
#    items priced against a stored catalogue of 200 items; interleaved, RUNS
#    times each, a fresh store each time; on SQLite (a file) and on PostgreSQL
#    (a fresh database on SAFETYNET_BENCH_PG, default
#    postgres://postgres@127.0.0.1:5432/postgres; skipped when unreachable).
# 2. Batch, SQLite: one store filled by web_load --setup-only (the persons, the
#    hospital, the policy, the catalogue), copied for each run; a hospital's day
#    of 10,000 claims (web_load --day-files):
#      totals:   import claims (the eligible cost typed) + settle --year 2024
#      itemised: import claims + import claim_items (ITEMS lines a claim) + settle --year 2024
#    interleaved, RUNS times each; the best of each, and their ratio. The two
#    stores' settlements are compared: the same payments and out-of-pocket, to
#    the fen, claim by claim.
# 3. Batch, PostgreSQL (when reachable): the same, each run on a copy of a
#    database filled the same way (CREATE DATABASE ... TEMPLATE), both stores'
#    settlements compared the same way (dumped and diffed).
# 4. Real time through the real server (release `safetynet serve` on a
#    loopback port; web_load --target from 16 keep-alive connections, SECONDS
#    seconds a run, default 20): totals only against ITEMS items a claim,
#    interleaved, RUNS times each, a fresh store each time, on SQLite (and
#    PostgreSQL when reachable); req/s, p50, p99.
# PARTS=rt, PARTS=batch (both engines), PARTS=server runs one part only.
# NO_BUILD=1 uses the binaries already built in CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
REQUESTS=${2:-20000}
ITEMS=${3:-50}
DIR=${BENCH_DIR:-/work/bench-data}/items
PG=${SAFETYNET_BENCH_PG:-postgres://postgres@127.0.0.1:5432/postgres}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
# USE_EXAMPLE=1: the steps by the example items_batch (the same calls as the
# command line's, built with web_load: no release build of the CLI needed).
if [ -z "${SAFETYNET:-}" ] && [ -z "${USE_EXAMPLE:-}" ]; then cargo build --release -q -p safetynet; fi
[ -n "${NO_BUILD:-}" ] || cargo build --release -q -p web --example web_load --example items_batch
BIN=${SAFETYNET:-$CARGO_TARGET_DIR/release/safetynet}
LOAD=$CARGO_TARGET_DIR/release/examples/web_load
EX=$CARGO_TARGET_DIR/release/examples/items_batch
if [ -n "${USE_EXAMPLE:-}" ]; then
  import_claims() { "$EX" "$1" import-claims "$2"; }
  import_items() { "$EX" "$1" import-items "$2"; }
  settle_year() { "$EX" "$1" settle 2024 2>/dev/null; }
  serve_on() { "$EX" "$1" serve "$2"; }
else
  import_claims() { "$BIN" --quiet --db "$1" import claims "$2"; }
  import_items() { "$BIN" --quiet --db "$1" import claim_items "$2"; }
  settle_year() { "$BIN" --quiet --db "$1" settle --year 2024 >/dev/null; }
  serve_on() { "$BIN" --quiet --db "$1" serve --addr "$2"; }
fi
rm -rf "$DIR" && mkdir -p "$DIR"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"

now() { date +%s.%N; }
# CPU seconds (user + system) the finished children of this shell have used:
# the machine is shared, so CPU time is given beside the wall time.
# (`times` runs in this shell, not in a command substitution's subshell.)
cpu_to() {
  times >"$DIR/.times"
  printf -v "$1" '%s' "$(tail -1 "$DIR/.times" | awk '{ split($1, u, "m"); split($2, s, "m"); printf "%.3f", u[1] * 60 + u[2] + s[1] * 60 + s[2] }')"
}
pg_ok=no
if psql "$PG" -qAtc 'SELECT 1' >/dev/null 2>&1; then pg_ok=yes; fi

PARTS=${PARTS:-all}
SECS=${SECONDS_A_RUN:-20}
if [ "$PARTS" = all ] || [ "$PARTS" = rt ]; then
echo "== real time: $REQUESTS claims, 16 connections, totals only vs $ITEMS items a claim"
for run in $(seq 1 "$RUNS"); do
  for items in 0 "$ITEMS"; do
    rm -f "$DIR/rt.db"*
    printf 'sqlite     items=%-3s run %s: ' "$items" "$run"
    "$LOAD" --db "$DIR/rt.db" --requests "$REQUESTS" --concurrency 16 --overview 0 --items "$items" 2>/dev/null | grep '^settlements'
    if [ "$pg_ok" = yes ]; then
      name="sn_bench_items_$$_${run}_$items"
      psql "$PG" -qAtc "CREATE DATABASE $name" >/dev/null
      url="${PG%/*}/$name"
      printf 'postgresql items=%-3s run %s: ' "$items" "$run"
      "$LOAD" --db "$url" --requests "$REQUESTS" --concurrency 16 --overview 0 --items "$items" 2>/dev/null | grep '^settlements'
      psql "$PG" -qAtc "DROP DATABASE $name WITH (FORCE)" >/dev/null
    fi
  done
done

fi

# One server run: fill a fresh store (with the catalogue), serve it, load it.
serve_one() {
  local engine=$1 db=$2 items=$3
  local token port timed server
  token=$("$LOAD" --db "$db" --persons 10000 --villages 300 --setup-only --items "$items" 2>/dev/null | sed -n 's/^token: //p')
  [ -n "$token" ] || { echo "no token from the setup" >&2; exit 1; }
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  serve_on "$db" "127.0.0.1:$port" >"$DIR/serve.log" 2>&1 &
  timed=$!
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  printf '%-10s items=%-3s load %s: ' "$engine" "$items" "$(cut -d' ' -f1-3 /proc/loadavg)"
  "$LOAD" --target "127.0.0.1:$port" --token "$token" --persons 10000 --villages 300 --items "$items" \
    --requests 100000000 --seconds "$SECS" --concurrency 16 | grep '^settlements'
  kill "$timed" 2>/dev/null || true
  wait "$timed" 2>/dev/null || true
}

if [ "$PARTS" = all ] || [ "$PARTS" = server ]; then
echo "== real time through the release server: $SECS s a run, 16 connections, totals only vs $ITEMS items a claim"
for run in $(seq 1 "$RUNS"); do
  for items in 0 "$ITEMS"; do
    rm -f "$DIR/srv.db"*
    serve_one sqlite "$DIR/srv.db" "$items"
    if [ "$pg_ok" = yes ]; then
      name="sn_bench_items_srv_$$_${run}_$items"
      psql "$PG" -qAtc "CREATE DATABASE $name" >/dev/null
      serve_one postgresql "${PG%/*}/$name" "$items"
      psql "$PG" -qAtc "DROP DATABASE $name WITH (FORCE)" >/dev/null
    fi
  done
done
fi
[ "$PARTS" = all ] || [ "$PARTS" = batch ] || exit 0

echo "== batch: a hospital's day of 10,000 claims, totals only vs $ITEMS items a claim (SQLite)"
"$LOAD" --db "$DIR/base.db" --setup-only --items "$ITEMS" --day-files "$DIR/day" --day-claims 10000 >/dev/null
# The store's last writes may still lie in its write-ahead log: into the file
# before it is copied.
sqlite3 "$DIR/base.db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
ls -l "$DIR/day"
best_t=999999
best_i=999999
for run in $(seq 1 "$RUNS"); do
  # A write-ahead log a step left beside the last run's copy would be read
  # into the new copy: gone first.
  rm -f "$DIR/totals.db-wal" "$DIR/totals.db-shm" "$DIR/itemised.db-wal" "$DIR/itemised.db-shm"
  cp "$DIR/base.db" "$DIR/totals.db"
  cpu_to c0
  t0=$(now)
  import_claims "$DIR/totals.db" "$DIR/day/claims_totals.csv"
  t1=$(now)
  settle_year "$DIR/totals.db"
  t2=$(now)
  cpu_to c2
  cp "$DIR/base.db" "$DIR/itemised.db"
  cpu_to c3
  t3=$(now)
  import_claims "$DIR/itemised.db" "$DIR/day/claims_itemised.csv"
  t4=$(now)
  import_items "$DIR/itemised.db" "$DIR/day/claim_items.csv"
  t5=$(now)
  settle_year "$DIR/itemised.db"
  t6=$(now)
  cpu_to c6
  tt=$(echo "$t2 - $t0" | bc)
  ti=$(echo "$t6 - $t3" | bc)
  printf 'run %s: totals %.2f s (import %.2f, settle %.2f); itemised %.2f s (import claims %.2f, import items %.2f, settle %.2f)\n' \
    "$run" "$tt" "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)" \
    "$ti" "$(echo "$t4 - $t3" | bc)" "$(echo "$t5 - $t4" | bc)" "$(echo "$t6 - $t5" | bc)"
  printf '       CPU of our processes: totals %.2f s, itemised %.2f s, ratio %.2f (the PostgreSQL server not counted)\n' \
    "$(echo "$c2 - $c0" | bc)" "$(echo "$c6 - $c3" | bc)" "$(echo "scale=4; ($c6 - $c3) / ($c2 - $c0)" | bc)"
  best_t=$(echo "if ($tt < $best_t) $tt else $best_t" | bc)
  best_i=$(echo "if ($ti < $best_i) $ti else $best_i" | bc)
done
printf 'best: totals %.2f s, itemised %.2f s, ratio %.2f\n' "$best_t" "$best_i" "$(echo "scale=4; $best_i / $best_t" | bc)"
# The same settlements, claim by claim, to the fen.
diff=$(sqlite3 "$DIR/itemised.db" "ATTACH '$DIR/totals.db' AS t;
  SELECT COUNT(*) FROM settlements s JOIN t.settlements u ON u.claim_id = s.claim_id AND u.facility_id = s.facility_id
  WHERE s.out_of_pocket <> u.out_of_pocket OR s.eligible_cost <> u.eligible_cost
     OR (SELECT group_concat(amount) FROM (SELECT amount FROM settlement_payments p WHERE p.claim_id = s.claim_id AND p.facility_id = s.facility_id ORDER BY position))
     <> (SELECT group_concat(amount) FROM (SELECT amount FROM t.settlement_payments p WHERE p.claim_id = s.claim_id AND p.facility_id = s.facility_id ORDER BY position));")
count=$(sqlite3 "$DIR/itemised.db" "SELECT COUNT(*) FROM settlements")
items=$(sqlite3 "$DIR/itemised.db" "SELECT COALESCE(SUM(line_count), 0) FROM claim_bills")
echo "settled $count claims with $items items; settlements that differ from the totals-only store: $diff"
[ "$diff" = 0 ] && [ "$count" = 10000 ] && [ "$items" = $((10000 * ITEMS)) ]

[ "$pg_ok" = yes ] || exit 0
echo "== batch: the same on PostgreSQL"
base="sn_bench_items_base_$$"
psql "$PG" -qAtc "CREATE DATABASE $base" >/dev/null
"$LOAD" --db "${PG%/*}/$base" --setup-only --items "$ITEMS" --day-files "$DIR/day_pg" --day-claims 10000 >/dev/null 2>&1
best_t=999999
best_i=999999
tdb="sn_bench_items_t_$$"
idb="sn_bench_items_i_$$"
for run in $(seq 1 "$RUNS"); do
  for d in "$tdb" "$idb"; do psql "$PG" -qAtc "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null; done
  psql "$PG" -qAtc "CREATE DATABASE $tdb TEMPLATE $base" >/dev/null
  cpu_to c0
  t0=$(now)
  import_claims "${PG%/*}/$tdb" "$DIR/day_pg/claims_totals.csv"
  t1=$(now)
  settle_year "${PG%/*}/$tdb"
  t2=$(now)
  cpu_to c2
  psql "$PG" -qAtc "CREATE DATABASE $idb TEMPLATE $base" >/dev/null
  cpu_to c3
  t3=$(now)
  import_claims "${PG%/*}/$idb" "$DIR/day_pg/claims_itemised.csv"
  t4=$(now)
  import_items "${PG%/*}/$idb" "$DIR/day_pg/claim_items.csv"
  t5=$(now)
  settle_year "${PG%/*}/$idb"
  t6=$(now)
  cpu_to c6
  tt=$(echo "$t2 - $t0" | bc)
  ti=$(echo "$t6 - $t3" | bc)
  printf 'run %s: totals %.2f s (import %.2f, settle %.2f); itemised %.2f s (import claims %.2f, import items %.2f, settle %.2f)\n' \
    "$run" "$tt" "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)" \
    "$ti" "$(echo "$t4 - $t3" | bc)" "$(echo "$t5 - $t4" | bc)" "$(echo "$t6 - $t5" | bc)"
  printf '       CPU of our processes: totals %.2f s, itemised %.2f s, ratio %.2f (the PostgreSQL server not counted)\n' \
    "$(echo "$c2 - $c0" | bc)" "$(echo "$c6 - $c3" | bc)" "$(echo "scale=4; ($c6 - $c3) / ($c2 - $c0)" | bc)"
  best_t=$(echo "if ($tt < $best_t) $tt else $best_t" | bc)
  best_i=$(echo "if ($ti < $best_i) $ti else $best_i" | bc)
done
printf 'best: totals %.2f s, itemised %.2f s, ratio %.2f\n' "$best_t" "$best_i" "$(echo "scale=4; $best_i / $best_t" | bc)"
dump() {
  psql "${PG%/*}/$1" -qAtc "SELECT s.claim_id, s.facility_id, s.out_of_pocket, s.eligible_cost,
    (SELECT string_agg(amount::text, ',' ORDER BY position) FROM settlement_payments p
      WHERE p.claim_id = s.claim_id AND p.facility_id = s.facility_id)
    FROM settlements s ORDER BY 1, 2"
}
dump "$tdb" >"$DIR/pg_totals.txt"
dump "$idb" >"$DIR/pg_itemised.txt"
count=$(wc -l <"$DIR/pg_itemised.txt")
items=$(psql "${PG%/*}/$idb" -qAtc "SELECT COALESCE(SUM(line_count), 0) FROM claim_bills")
pdiff=$(diff "$DIR/pg_totals.txt" "$DIR/pg_itemised.txt" | grep -c '^>' || true)
echo "settled $count claims with $items items; settlements that differ from the totals-only database: $pdiff"
for d in "$tdb" "$idb" "$base"; do psql "$PG" -qAtc "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null; done
[ "$pdiff" = 0 ] && [ "$count" = 10000 ] && [ "$items" = $((10000 * ITEMS)) ]

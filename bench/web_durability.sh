#!/usr/bin/env bash
# Real-time settlement under load, with the server killed (kill -9) in the
# middle: no acknowledged settlement may be lost, none counted twice. On SQLite
# (the default) or on PostgreSQL (DB=postgres://.../ADMIN_DB: a database of its
# own is created there and dropped at the end), where a second scenario kills the
# database's backends instead, while the server keeps running.
#
#   bench/web_durability.sh [SECONDS_BEFORE_KILL] [CONNECTIONS]   defaults: 5 s, 16
#   DB=postgres://postgres@127.0.0.1:5432/postgres bench/web_durability.sh
#
# 1. web_load --setup-only fills a fresh store (10,000 persons, 300 villages, the
#    test policy) and makes an API token;
# 2. `safetynet serve` serves that store on a free loopback port;
# 3. web_load --target drives POST /api/v1/settlements from CONNECTIONS keep-alive
#    connections and writes the claim IDs answered 201 to acks.txt;
# 4. after SECONDS_BEFORE_KILL the server gets SIGKILL;
# 5. the store is opened again and checked (sqlite3, or psql):
#    - every acknowledged claim has its settlement row (lost = 0);
#    - no claim has two settlements (the primary key), and each person's
#      accumulator for each fund equals the sum of that fund's payments over the
#      person's settlements of unvoided claims (double-counted = 0; a voided
#      claim keeps its settlement row, but its payments left the accumulators);
#    - a second serve opens the store and answers /healthz (it is not corrupt).
# PostgreSQL, scenario 2 (on the same store, the server of step 5 serving):
# 6. the same load; after SECONDS_BEFORE_KILL every backend of the store's
#    database is terminated (pg_terminate_backend), twice, a second apart; the
#    server is not touched; requests answered otherwise than 201 are counted;
# 7. after the load, a short load of 500 claims must be acknowledged in full
#    (the pool reconnected: it serves again), and the check of step 5 runs over
#    both loads' acknowledgements.
# Needs sqlite3 (apt-get install sqlite3) or psql.
set -euo pipefail
cd "$(dirname "$0")/.."
KILL_AFTER=${1:-5}
CONC=${2:-16}
DIR=${BENCH_DIR:-/work/bench-data}/durability
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
if [ -z "${SAFETYNET:-}" ] && [ -z "${NO_BUILD:-}" ]; then cargo build --release -q -p safetynet; fi
[ -n "${NO_BUILD:-}" ] || cargo build --release -q -p web --example web_load
BIN=${SAFETYNET:-$CARGO_TARGET_DIR/release/safetynet}
LOAD=$CARGO_TARGET_DIR/release/examples/web_load
rm -rf "$DIR" && mkdir -p "$DIR"
ADMIN=${DB:-}
if [ -n "$ADMIN" ]; then
  NAME="sn_durability_$$"
  psql "$ADMIN" -qAtc "CREATE DATABASE $NAME" >/dev/null
  STORE="${ADMIN%/*}/$NAME"
  trap 'psql "$ADMIN" -qAtc "DROP DATABASE IF EXISTS $NAME WITH (FORCE)" >/dev/null' EXIT
else
  STORE=$DIR/store.db
fi
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); store: ${ADMIN:+PostgreSQL }${STORE##*/}"
TOKEN=$("$LOAD" --db "$STORE" --persons 10000 --villages 300 --setup-only | sed -n 's/^token: //p')
[ -n "$TOKEN" ] || { echo "no token from the setup" >&2; exit 1; }
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

serve() {
  "$BIN" --quiet --db "$STORE" serve --addr "127.0.0.1:$PORT" >>"$DIR/serve.log" 2>&1 &
  SERVER=$!
  up=no
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && { up=yes; break; }
    sleep 0.1
  done
}

load() { # SECONDS ACKS [REQUESTS]
  "$LOAD" --target "127.0.0.1:$PORT" --token "$TOKEN" --persons 10000 --villages 300 \
    --requests "${3:-100000000}" --seconds "$1" --concurrency "$CONC" --acks "$2"
}

# Lost, double-counted and settled-but-unacknowledged, over the acknowledged IDs in $1.
check() {
  local acks=$1
  local lost_sql="SELECT 'lost', COUNT(*) FROM acks a LEFT JOIN settlements s ON s.claim_id = a.claim_id WHERE s.claim_id IS NULL;"
  local double_sql="SELECT 'double-counted', COUNT(*) FROM accumulators a WHERE a.paid <> COALESCE((SELECT SUM(p.amount)
     FROM settlement_payments p JOIN settlements s ON s.claim_id = p.claim_id AND s.facility_id = p.facility_id
     JOIN claims c ON c.claim_id = s.claim_id AND c.facility_id = s.facility_id
     WHERE s.person_id = a.person_id AND s.year = a.year AND p.tier = a.tier AND NOT c.voided), 0);"
  local extra_sql="SELECT 'settled but unacknowledged (in flight at the kill)', COUNT(*) FROM settlements s LEFT JOIN acks a ON a.claim_id = s.claim_id WHERE a.claim_id IS NULL;"
  if [ -n "$ADMIN" ]; then
    psql "$STORE" -qAt -F, -v ON_ERROR_STOP=1 <<SQL
CREATE TEMP TABLE acks (claim_id TEXT PRIMARY KEY);
\copy acks FROM '$acks'
SELECT 'acknowledged', COUNT(*) FROM acks;
SELECT 'stored settlements', COUNT(*) FROM settlements;
$lost_sql
$double_sql
$extra_sql
SQL
  else
    sqlite3 "$STORE" "CREATE TEMP TABLE acks (claim_id TEXT PRIMARY KEY);" \
      ".mode csv" ".import $acks acks" \
      "SELECT 'acknowledged', COUNT(*) FROM acks;" \
      "SELECT 'stored settlements', COUNT(*) FROM settlements;" \
      "$lost_sql" "$double_sql" "$extra_sql"
  fi
}

serve
load $((KILL_AFTER + 5)) "$DIR/acks.txt" &
CLIENT=$!
sleep "$KILL_AFTER"
kill -9 "$SERVER"
echo "server killed with SIGKILL after ${KILL_AFTER} s under load"
wait "$CLIENT"
wait "$SERVER" 2>/dev/null || true

acked=$(wc -l <"$DIR/acks.txt")
check "$DIR/acks.txt" | tee "$DIR/check.txt"
lost=$(awk -F, '$1 == "lost" { print $2 }' "$DIR/check.txt")
double=$(awk -F, '$1 == "double-counted" { print $2 }' "$DIR/check.txt")
serve
ok=$up
echo "kill -9 of the server: acknowledged $acked; lost $lost; double-counted $double; store serves again: $ok"
result=0
[ "$lost" = 0 ] && [ "$double" = 0 ] && [ "$ok" = yes ] || result=1

if [ -n "$ADMIN" ] && [ "$ok" = yes ]; then
  echo "== backends of $NAME terminated under load, the server left running"
  load $((KILL_AFTER + 5)) "$DIR/acks2.txt" | tee "$DIR/load2.txt" &
  CLIENT=$!
  sleep "$KILL_AFTER"
  for _ in 1 2; do
    n=$(psql "$ADMIN" -qAtc "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = '$NAME' AND pid <> pg_backend_pid()) t")
    echo "terminated $n backends"
    sleep 1
  done
  wait "$CLIENT"
  refused=$(awk '/answered with another status/ { print $2 }' "$DIR/load2.txt")
  load 30 "$DIR/acks3.txt" 500 | tee "$DIR/load3.txt"
  again=$(wc -l <"$DIR/acks3.txt")
  cat "$DIR/acks.txt" "$DIR/acks2.txt" "$DIR/acks3.txt" >"$DIR/acks_all.txt"
  check "$DIR/acks_all.txt" | tee "$DIR/check2.txt"
  lost2=$(awk -F, '$1 == "lost" { print $2 }' "$DIR/check2.txt")
  double2=$(awk -F, '$1 == "double-counted" { print $2 }' "$DIR/check2.txt")
  serves=no
  [ "$again" = 500 ] && serves=yes
  echo "backends terminated: acknowledged $(wc -l <"$DIR/acks2.txt"); not acknowledged (error answers) ${refused:-0}; lost $lost2; double-counted $double2; serves again (500 of 500 after): $serves"
  [ "$lost2" = 0 ] && [ "$double2" = 0 ] && [ "$serves" = yes ] || result=1
fi
kill "$SERVER" 2>/dev/null || true
wait "$SERVER" 2>/dev/null || true
exit $result

#!/usr/bin/env bash
# Real-time settlement under load on SQLite, with the server killed (kill -9) in
# the middle: no acknowledged settlement may be lost, none counted twice.
#
#   bench/web_durability.sh [SECONDS_BEFORE_KILL] [CONNECTIONS]   defaults: 5 s, 16
#
# 1. web_load --setup-only fills a fresh store (10,000 persons, 300 villages, the
#    test policy) and makes an API token;
# 2. `safetynet serve` serves that store on a free loopback port;
# 3. web_load --target drives POST /api/v1/settlements from CONNECTIONS keep-alive
#    connections and writes the claim IDs answered 201 to acks.txt;
# 4. after SECONDS_BEFORE_KILL the server gets SIGKILL;
# 5. the store is opened again and checked with sqlite3:
#    - every acknowledged claim has its settlement row (lost = 0);
#    - no claim has two settlements (the primary key), and each person's
#      accumulator for each fund equals the sum of that fund's payments over the
#      person's settlements of unvoided claims (double-counted = 0; a voided
#      claim keeps its settlement row, but its payments left the accumulators);
#    - a second serve opens the store and answers /healthz (it is not corrupt).
# Needs sqlite3 (apt-get install sqlite3).
set -euo pipefail
cd "$(dirname "$0")/.."
KILL_AFTER=${1:-5}
CONC=${2:-16}
DIR=${BENCH_DIR:-/work/bench-data}/durability
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
if [ -z "${SAFETYNET:-}" ]; then cargo build --release -q -p safetynet; fi
cargo build --release -q -p web --example web_load
BIN=${SAFETYNET:-$CARGO_TARGET_DIR/release/safetynet}
LOAD=$CARGO_TARGET_DIR/release/examples/web_load
rm -rf "$DIR" && mkdir -p "$DIR"
DB=$DIR/store.db
TOKEN=$("$LOAD" --db "$DB" --persons 10000 --villages 300 --setup-only | sed -n 's/^token: //p')
[ -n "$TOKEN" ] || { echo "no token from the setup" >&2; exit 1; }
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$BIN" --quiet --db "$DB" serve --addr "127.0.0.1:$PORT" >"$DIR/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
"$LOAD" --target "127.0.0.1:$PORT" --token "$TOKEN" --persons 10000 --villages 300 \
  --requests 100000000 --seconds $((KILL_AFTER + 5)) --concurrency "$CONC" --acks "$DIR/acks.txt" &
CLIENT=$!
sleep "$KILL_AFTER"
kill -9 "$SERVER"
echo "server killed with SIGKILL after ${KILL_AFTER} s under load"
wait "$CLIENT"
wait "$SERVER" 2>/dev/null || true

acked=$(wc -l <"$DIR/acks.txt")
sqlite3 "$DB" "CREATE TEMP TABLE acks (claim_id TEXT PRIMARY KEY);" \
  ".mode csv" ".import $DIR/acks.txt acks" \
  "SELECT 'acknowledged', COUNT(*) FROM acks;" \
  "SELECT 'stored settlements', COUNT(*) FROM settlements;" \
  "SELECT 'lost', COUNT(*) FROM acks a LEFT JOIN settlements s ON s.claim_id = a.claim_id WHERE s.claim_id IS NULL;" \
  "SELECT 'double-counted', COUNT(*) FROM accumulators a WHERE a.paid <> COALESCE((SELECT SUM(p.amount)
     FROM settlement_payments p JOIN settlements s ON s.claim_id = p.claim_id AND s.facility_id = p.facility_id
     JOIN claims c ON c.claim_id = s.claim_id AND c.facility_id = s.facility_id
     WHERE s.person_id = a.person_id AND s.year = a.year AND p.tier = a.tier AND NOT c.voided), 0);" \
  "SELECT 'settled but unacknowledged (in flight at the kill)', COUNT(*) FROM settlements s LEFT JOIN acks a ON a.claim_id = s.claim_id WHERE a.claim_id IS NULL;" \
  | tee "$DIR/check.txt"
lost=$(awk -F, '$1 == "lost" { print $2 }' "$DIR/check.txt")
double=$(awk -F, '$1 == "double-counted" { print $2 }' "$DIR/check.txt")
"$BIN" --quiet --db "$DB" serve --addr "127.0.0.1:$PORT" >>"$DIR/serve.log" 2>&1 &
SERVER=$!
ok=no
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && { ok=yes; break; }
  sleep 0.1
done
kill "$SERVER" 2>/dev/null || true
wait "$SERVER" 2>/dev/null || true
echo "acknowledged $acked; lost $lost; double-counted $double; store serves again: $ok"
[ "$lost" = 0 ] && [ "$double" = 0 ] && [ "$ok" = yes ]

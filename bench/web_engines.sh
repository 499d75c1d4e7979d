#!/usr/bin/env bash
# Issue 21: real-time settlement over HTTP on SQLite and on PostgreSQL, in the
# same run, against a release server.
#
#   bench/web_engines.sh [SECONDS] [CONNECTIONS] [RUNS]   defaults: 20 s, 16, 2
#
# For each run and each engine, a fresh store: web_load --setup-only fills it
# (10,000 persons, 300 villages, the test policy) and makes an API token;
# `safetynet serve` serves it on a free loopback port under /usr/bin/time (its
# peak memory); web_load --target drives POST /api/v1/settlements from
# CONNECTIONS keep-alive connections for SECONDS and reports req/s, p50, p99.
# SQLite is a file; PostgreSQL a database of its own on SAFETYNET_BENCH_PG
# (default postgres://postgres@127.0.0.1:5432/postgres), dropped afterwards
# (skipped when the server is unreachable). Engines alternate within a run, so
# that both see the same load of the machine (printed before each).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-20}
CONC=${2:-16}
RUNS=${3:-2}
DIR=${BENCH_DIR:-/work/bench-data}/web_engines
PG=${SAFETYNET_BENCH_PG:-postgres://postgres@127.0.0.1:5432/postgres}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
if [ -z "${SAFETYNET:-}" ]; then cargo build --release -q -p safetynet; fi
cargo build --release -q -p web --example web_load
BIN=${SAFETYNET:-$CARGO_TARGET_DIR/release/safetynet}
LOAD=$CARGO_TARGET_DIR/release/examples/web_load
rm -rf "$DIR" && mkdir -p "$DIR"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
pg_ok=no
if psql "$PG" -qAtc 'SELECT 1' >/dev/null 2>&1; then pg_ok=yes; fi

# One engine: fill, serve, load, stop; prints the load line and the peak memory.
one() {
  local engine=$1 db=$2
  local token port timed server
  token=$("$LOAD" --db "$db" --persons 10000 --villages 300 --setup-only | sed -n 's/^token: //p')
  [ -n "$token" ] || { echo "no token from the setup" >&2; exit 1; }
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  /usr/bin/time -f %M -o "$DIR/mem.txt" "$BIN" --quiet --db "$db" serve --addr "127.0.0.1:$port" >"$DIR/serve.log" 2>&1 &
  timed=$!
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  printf '%-10s load %s: ' "$engine" "$(cut -d' ' -f1-3 /proc/loadavg)"
  "$LOAD" --target "127.0.0.1:$port" --token "$token" --persons 10000 --villages 300 \
    --requests 100000000 --seconds "$SECS" --concurrency "$CONC" | grep '^settlements' | tr '\n' ' '
  server=$(pgrep -P "$timed" || true)
  [ -n "$server" ] && kill "$server"
  wait "$timed" || true
  echo "server peak RSS $(tail -1 "$DIR/mem.txt") KiB"
}

echo "== POST /api/v1/settlements, $CONC connections, $SECS s each, 10,000 persons"
for run in $(seq 1 "$RUNS"); do
  rm -f "$DIR/rt.db"*
  one "sqlite" "$DIR/rt.db"
  if [ "$pg_ok" = yes ]; then
    name="sn_bench_web_$$_$run"
    psql "$PG" -qAtc "CREATE DATABASE $name" >/dev/null
    one "postgresql" "${PG%/*}/$name"
    psql "$PG" -qAtc "DROP DATABASE $name WITH (FORCE)" >/dev/null
  fi
done

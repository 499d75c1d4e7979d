#!/usr/bin/env bash
# The network alerts of a province kept in a store (docs/coverage.md, "Kept
# alerts and the cases they raise"): the whole recompute against the
# incremental one after one posting changes, on SQLite and on PostgreSQL.
# The network is synth's at the scale of a province (`synth --scale province`),
# with a seeded history laid over it; see crates/app/examples/network_alerts_bench.rs.
#
# Rerun from the repository root: bash bench/network_alerts.sh [PROVINCE] [CHANGES]
#   PROVINCE: default 34 (Anhui); CHANGES: postings changed one at a time, default 5.
#   BENCH_DIR: where the SQLite file goes (default /work/bench-data).
#   PG_URL: a PostgreSQL server's maintenance database (default
#   postgres://postgres@127.0.0.1:5432/postgres); the database BENCH_PG_DB
#   (default network_alerts_bench) is made afresh there and dropped after.
#   PG_URL=none skips PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --release -q -p app --example network_alerts_bench
B="$CARGO_TARGET_DIR/release/examples/network_alerts_bench"
DIR="${BENCH_DIR:-/work/bench-data}"
PROVINCE="${1:-34}"
CHANGES="${2:-5}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
PG_DB="${BENCH_PG_DB:-network_alerts_bench}"
mkdir -p "$DIR"
echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== SQLite ($DIR/network_alerts.db)"
rm -f "$DIR/network_alerts.db" "$DIR/network_alerts.db-wal" "$DIR/network_alerts.db-shm"
/usr/bin/time -f "wall %e s, max RSS %M KB" "$B" "$DIR/network_alerts.db" "$PROVINCE" "$CHANGES"
rm -f "$DIR/network_alerts.db" "$DIR/network_alerts.db-wal" "$DIR/network_alerts.db-shm"
echo "== load: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$PG_URL" != none ]; then
  echo "== PostgreSQL ($PG_DB)"
  psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $PG_DB" -c "CREATE DATABASE $PG_DB"
  /usr/bin/time -f "wall %e s, max RSS %M KB" "$B" "${PG_URL%/*}/$PG_DB" "$PROVINCE" "$CHANGES"
  psql "$PG_URL" -qc "DROP DATABASE $PG_DB"
  echo "== load: $(cut -d' ' -f1-3 /proc/loadavg)"
fi

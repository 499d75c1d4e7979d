#!/usr/bin/env bash
# Coverage from the network's history on a synthetic province (docs/coverage.md,
# "History", "Network alerts"): the projection without history, one snapshot,
# the projection from history (a snapshot per horizon), and the network alerts
# of one year. Rerun from the repository root: bash bench/history.sh [PROVINCE]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --release -q -p app --example history_bench
B="$CARGO_TARGET_DIR/release/examples/history_bench"
echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for run in 1 2 3; do
  echo "== run $run"
  /usr/bin/time -f "wall %e s, max RSS %M KB" "$B" "${1:-34}"
done

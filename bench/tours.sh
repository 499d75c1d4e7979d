#!/usr/bin/env bash
# Issue 17: the tour planner on generated cases where capacity binds, and
# against VROOM (pyvroom) on the same instances.
# Rerun from the repository root: bash bench/tours.sh
# VROOM_PY names a Python with pyvroom installed (default: python3).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
PY="${VROOM_PY:-python3}"
OUT="${TOURS_OUT:-$(mktemp -d)}"
cargo build --release -q -p coverage --example tours_bench
B="$CARGO_TARGET_DIR/release/examples/tours_bench"
echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== ours on cases A to E"; /usr/bin/time -f "wall %e s, max RSS %M KB" "$B" cases
echo "== the weekly plan on cases A to E"; /usr/bin/time -f "wall %e s, max RSS %M KB" "$B" weekly
echo "== the weekly plan, 3 outreach half-days a doctor"; "$B" weekly 3
[ -n "${WEEKLY_ONLY:-}" ] && exit 0
for c in A B C D; do
  "$B" export "$c" "$OUT/tours_$c.json"
  echo "== case $c against VROOM"
  /usr/bin/time -f "vroom wall %e s, max RSS %M KB" "$PY" bench/planner_vroom.py "$OUT/tours_$c.json" 5 1
done

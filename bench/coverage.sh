#!/usr/bin/env bash
# Coverage benchmarks: national blank spots, projection and straight-line reach;
# Dijkstra on a 10M-node road graph; the roving planner on a county and a province.
# Rerun from the repository root: bash bench/coverage.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --release -q -p coverage --example coverage_bench
B="$CARGO_TARGET_DIR/release/examples/coverage_bench"
echo "== machine: $(nproc) cores, $(free -g | awk '/Mem/{print $2}') GiB"
echo "== national registry (2,850 counties)"; /usr/bin/time -f "wall %e s, max RSS %M KB" "$B" registry 2850
echo "== road graph (10M nodes)"; /usr/bin/time -f "wall %e s, max RSS %M KB" "$B" roads 10000000
echo "== planner, one county"; "$B" plan 1
echo "== planner, a province (92 counties)"; "$B" plan 92

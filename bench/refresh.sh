#!/usr/bin/env bash
# Indicator refresh benchmark (issue 7): a province-scale indicator cube (24,960
# villages x 12 months, 399,360 households, 1.6 million persons, BASE settled claims)
# refreshed after NEW claims, timed in-process (extract facts + apply the delta),
# checked equal to a full rebuild. Runs RUNS times; take the best.
#
#   bench/refresh.sh [BASE] [NEW] [RUNS]      defaults: 2,000,000 base claims, 10,000 new, 3 runs
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p indicators --example refresh_bench
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
for _ in $(seq "${3:-3}"); do
  /usr/bin/time -f "wall %e s, peak RSS %M KB" "$CARGO_TARGET_DIR/release/examples/refresh_bench" "${1:-2000000}" "${2:-10000}"
done

#!/usr/bin/env bash
# Times `safetynet synth` at the county and province scales: wall time, CPU time,
# peak memory (GNU time), rows/s and MB/s (printed by the command itself).
#
#   bench/synth.sh [PROVINCE] [CLAIMS_PER_PERSON]
#
# PROVINCE defaults to 64 (Ningxia, 22 counties, a run of about a minute on 2 cores);
# 34 (Anhui, 119 counties) is the design's province size. Output goes under
# ${BENCH_DIR:-/work/bench-data}/synth and is removed afterwards unless KEEP=1.
# SAFETYNET may point at a built binary; otherwise the release build is made.
set -euo pipefail
cd "$(dirname "$0")/.."
PROVINCE="${1:-64}"
CPP="${2:-2.5}"
OUT="${BENCH_DIR:-/work/bench-data}/synth"
if [ -z "${SAFETYNET:-}" ]; then
  cargo build --release -q -p safetynet
  SAFETYNET="${CARGO_TARGET_DIR:-target}/release/safetynet"
fi
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "needs GNU time at /usr/bin/time" >&2; exit 1; }
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"

run() {
  local name="$1"; shift
  rm -rf "$OUT/$name"
  echo "== safetynet synth $* --out $OUT/$name"
  # The command prints its counts, rows/s and MB/s; GNU time adds CPU and memory.
  "$TIME" -f "   wall %e s, user %U s, sys %S s, peak RSS %M KB" "$SAFETYNET" synth --out "$OUT/$name" "$@" 2>&1 |
    sed 's/^/   /'
  du -sh "$OUT/$name" | awk '{print "   on disk " $1}'
}

run small --scale small --seed 1
run county --scale county --seed 1
run province --scale province --province "$PROVINCE" --seed 1 --claims-per-person "$CPP"
run province-no-claims --scale province --province "$PROVINCE" --seed 1 --claims-per-person 0
[ "${KEEP:-0}" = 1 ] || rm -rf "$OUT"

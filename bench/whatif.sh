#!/usr/bin/env bash
# What-if benchmark (issue 7): a draft policy against the policy in force over the
# claims of 1 million persons, against one batch settlement of the same claims.
#
#   bench/whatif.sh [HOUSEHOLDS] [CLAIMS] [RUNS]    defaults: 303,000 households (about
#                                                  1,000,000 persons), 5,000,000 claims, 3 runs
#
# Data: bench/monitor_gen.py (households, persons, claims, thresholds) under
# ${BENCH_DIR:-/work/bench-data}/whatif-hHOUSEHOLDS-cCLAIMS. Interleaved RUNS times, best wall time kept:
#   settle  safetynet settle --policy bench/settle_policy.toml --persons --claims --out
#   whatif  safetynet whatif --policy-in-force bench/settle_policy.toml --draft bench/whatif_draft.toml
#           (reads the four files, settles the claims under both policies, monitors both, compares by county)
# Target: whatif <= 3 x settle.
set -euo pipefail
cd "$(dirname "$0")/.."
H=${1:-303000}
C=${2:-5000000}
RUNS=${3:-3}
DIR=${BENCH_DIR:-/work/bench-data}/whatif-h$H-c$C
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
# SAFETYNET may name a built binary (so that a rebuild by someone else does not
# change the binary between runs); otherwise the release build is made.
if [ -z "${SAFETYNET:-}" ]; then cargo build --release -q -p safetynet; fi
BIN=${SAFETYNET:-$CARGO_TARGET_DIR/release/safetynet}
if [ ! -f "$DIR/thresholds.toml" ]; then
  echo "generating $H households, $C claims into $DIR"
  python3 bench/monitor_gen.py "$DIR" "$H" "$C"
  rm -f "$DIR/settlements.csv" # not used here
fi
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "data: $(($(wc -l <"$DIR/persons.csv") - 1)) persons, $H households, $C claims ($(du -h "$DIR/claims.csv" | cut -f1))"
cat "$DIR"/*.csv >/dev/null # warm the page cache

timed() {
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$DIR/.time" "$@" >/dev/null 2>"$DIR/.err" || { cat "$DIR/.err" >&2; exit 1; }
  echo "$label $(cat "$DIR/.time")"
}
: >"$DIR/.runs"
for i in $(seq "$RUNS"); do
  timed settle "$BIN" --quiet settle --policy bench/settle_policy.toml --persons "$DIR/persons.csv" \
    --claims "$DIR/claims.csv" --out "$DIR/settled.csv" | tee -a "$DIR/.runs"
  timed whatif "$BIN" --quiet whatif --year 2024 --policy-in-force bench/settle_policy.toml \
    --draft bench/whatif_draft.toml --persons "$DIR/persons.csv" --households "$DIR/households.csv" \
    --claims "$DIR/claims.csv" --thresholds "$DIR/thresholds.toml" --out "$DIR/whatif.csv" | tee -a "$DIR/.runs"
done
best() { awk -v l="$1" '$1 == l && (b == "" || $2 < b) { b = $2 } END { print b }' "$DIR/.runs"; }
rss() { awk -v l="$1" '$1 == l && $3 > m { m = $3 } END { print m }' "$DIR/.runs"; }
settle=$(best settle); whatif=$(best whatif)
echo "best of $RUNS: settle ${settle}s (peak $(rss settle) KB), whatif ${whatif}s (peak $(rss whatif) KB)"
awk -v s="$settle" -v w="$whatif" 'BEGIN { printf "whatif / settle = %.2f (target <= 3)\n", w / s }'
echo "comparison rows: $(($(wc -l <"$DIR/whatif.csv") - 1))"

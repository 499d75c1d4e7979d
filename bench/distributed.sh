#!/usr/bin/env bash
# The proof on one machine of issue 19 (docs/distributed.md): a synthetic county
# settled, monitored and counted on a local Spark cluster of two executors, each
# result compared with the single-machine engines of the release binary.
#
#   bench/distributed.sh [--out DIR] [--scale small|county] [--seed N]
#                        [--claims-per-person X] [--keep]
#
# Needs: the release binary (SAFETYNET, default target/release/safetynet; built
# when missing), Java 17, and a Python (PYTHON, default python3) with pyspark,
# pyarrow and the safetynet_engines wheel (spark/ci.sh installs them).
# Leaves in DIR: policy.toml, persons.csv, claims.csv (the settlement contract's
# inputs) and settlements.csv (the cluster's), with the single machine's files
# beside them (*.single.csv) and summary.json. Its last line reads
#   distributed: N claims, K executors, equal: yes|no
# and it exits non-zero unless every result is equal and K >= 2.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT=""
SCALE="small"
SEED=1
CPP=""
KEEP=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) OUT="$2"; shift 2 ;;
    --scale) SCALE="$2"; shift 2 ;;
    --seed) SEED="$2"; shift 2 ;;
    --claims-per-person) CPP="$2"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

PY="${PYTHON:-python3}"
BIN="${SAFETYNET:-$ROOT/target/release/safetynet}"
if [[ ! -x "$BIN" ]]; then
  echo "building the release binary ($BIN)" >&2
  (cd "$ROOT" && cargo build --release -q -p safetynet)
fi
YEAR=2024
WORK="$(mktemp -d "${TMPDIR:-/tmp}/safetynet-distributed.XXXXXX")"
cleanup() { if [[ $KEEP -eq 0 ]]; then rm -rf "$WORK"; else echo "work files kept in $WORK" >&2; fi; }
trap cleanup EXIT
OUT="${OUT:-$WORK/out}"
mkdir -p "$OUT"
export PYTHONPATH="$ROOT/spark${PYTHONPATH:+:$PYTHONPATH}"
export PYSPARK_PYTHON="${PYSPARK_PYTHON:-$(command -v "$PY")}"
S="$WORK/synth"

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
# "CPU WALL": the CPU seconds (user + system) and the wall seconds of a command.
cpu_of() {
  local f="$WORK/time.$RANDOM" t0; t0=$(now)
  /usr/bin/env bash -c 'TIMEFORMAT="%U %S"; { time "$@" >/dev/null 2>&1; } 2>'"$f" _ "$@"
  awk -v wall="$(since "$t0")" '{ printf "%.2f %s", $1 + $2, wall }' "$f"
}

echo "== synthesise a county (scale $SCALE, seed $SEED)" >&2
synth_args=(synth --out "$S" --scale "$SCALE" --seed "$SEED" --year "$YEAR")
[[ -n "$CPP" ]] && synth_args+=(--claims-per-person "$CPP")
"$BIN" --quiet "${synth_args[@]}" >&2
cp "$S/policy.toml" "$S/persons.csv" "$S/claims.csv" "$OUT/"

echo "== the Parquet export" >&2
DB="$WORK/store.db"
for kind in regions households persons facilities practitioners claims thresholds; do
  "$BIN" --quiet --db "$DB" import "$kind" "$S/$kind.csv" >&2
done
"$BIN" --quiet --db "$DB" settle --store-policy "$S/policy.toml" --region "" --year "$YEAR" --actor bench >&2
"$BIN" --quiet --db "$DB" export --year "$YEAR" --parquet "$WORK/export" >&2
INPUT="safetynet export --parquet"

# A draft policy for the what-if: the synthetic policy with the safety net's
# yearly ceilings lowered by a fifth (test data, not a rule).
"$PY" - "$S/policy.toml" "$WORK/draft.toml" <<'PYEOF'
import re, sys
src = open(sys.argv[1]).read()
def lower(m):
    body = re.sub(r"(\d+)", lambda n: str(int(n.group(1)) * 4 // 5), m.group(2))
    return m.group(1) + body
out = re.sub(r"(oop_cap\s*=\s*)(\{[^}]*\}|\d+)", lower, src)
out = re.sub(r'^name\s*=\s*"([^"]*)"', r'name = "\1 (draft)"', out, count=1, flags=re.M)
open(sys.argv[2], "w").write(out)
PYEOF

echo "== the single machine" >&2
read -r single_settle_cpu single_settle_wall <<<"$(cpu_of "$BIN" --quiet settle --policy "$S/policy.toml" \
  --persons "$S/persons.csv" --claims "$S/claims.csv" --out "$OUT/settlements.single.csv")"
"$BIN" --quiet monitor --year "$YEAR" --persons "$S/persons.csv" --households "$S/households.csv" --claims "$S/claims.csv" \
  --settlements "$OUT/settlements.single.csv" --thresholds "$S/thresholds.csv" --out "$OUT/alerts.single.csv" 2>/dev/null
report_args=(report --year "$YEAR" --persons "$S/persons.csv" --households "$S/households.csv" --claims "$S/claims.csv"
  --settlements "$OUT/settlements.single.csv" --alerts "$OUT/alerts.single.csv"
  --level province,city,county,township,village --period month --out "$OUT/report.single.csv")
report_args+=(--facilities "$S/facilities.csv")
FACILITIES=(--facilities)
"$BIN" --quiet "${report_args[@]}"
"$BIN" --quiet whatif --policy-in-force "$S/policy.toml" --draft "$WORK/draft.toml" --persons "$S/persons.csv" \
  --households "$S/households.csv" --claims "$S/claims.csv" --thresholds "$S/thresholds.csv" --year "$YEAR" \
  --out "$OUT/whatif.single.csv"
N=$(($(wc -l < "$OUT/settlements.single.csv") - 1))

echo "== the cluster: local-cluster[2,1,1024]" >&2
t0=$(now)
"$PY" -m safetynet_spark run --export "$WORK/export" --out "$WORK/results" --master 'local-cluster[2,1,1024]' \
  --partitions 4 --buckets 8 --alerts-from cluster "${FACILITIES[@]}" --report-out "$OUT/report.cluster.csv" \
  --draft "$WORK/draft.toml" --whatif-out "$OUT/whatif.cluster.csv" --summary "$OUT/summary.json" >&2
cluster_wall=$(since "$t0")
"$PY" -m safetynet_spark csv --results "$WORK/results" --settlements "$OUT/settlements.csv" --alerts "$OUT/alerts.cluster.csv"

equal=yes
check() {
  if cmp -s "$1" "$2"; then echo "equal: $3" >&2
  else echo "NOT EQUAL: $3 ($1 vs $2)" >&2; diff <(head -c 200000 "$1") <(head -c 200000 "$2") | head -5 >&2; equal=no; fi
}
check "$OUT/settlements.single.csv" "$OUT/settlements.csv" "settlements, to the fen ($N claims)"
check "$OUT/alerts.single.csv" "$OUT/alerts.cluster.csv" "alerts ($(($(wc -l < "$OUT/alerts.single.csv") - 1)))"
check "$OUT/report.single.csv" "$OUT/report.cluster.csv" "indicators by month at every level ($(($(wc -l < "$OUT/report.single.csv") - 1)) rows)"
check "$OUT/whatif.single.csv" "$OUT/whatif.cluster.csv" "what-if by county"

read -r K settle_s <<<"$("$PY" - "$OUT/summary.json" <<'PYEOF'
import json, sys
s = json.load(open(sys.argv[1]))
print(len(s["executors"]), s["timings_s"]["settlement"])
PYEOF
)"
awk -v n="$N" -v cpu="$single_settle_cpu" -v wall="$single_settle_wall" -v s="$settle_s" -v all="$cluster_wall" 'BEGIN {
  single = n / (cpu > 0 ? cpu : wall); cluster = n / (s * 2)
  printf "single binary: %d claims settled in %.2f s wall, %.2f s CPU: %.0f claims per core-second\n", n, wall, cpu, single
  printf "cluster: settlement job %.2f s on 2 executor cores: %.0f claims per core-second (%.1fx below the binary); whole run %.0f s\n", s, cluster, single / cluster, all
}' >&2
echo "input: $INPUT; executors: $("$PY" -c 'import json,sys; print(", ".join(json.load(open(sys.argv[1]))["executors"]))' "$OUT/summary.json")" >&2
[[ "$K" -ge 2 ]] || equal=no
echo "distributed: $N claims, $K executors, equal: $equal"
[[ "$equal" == yes ]]

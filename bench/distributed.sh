#!/usr/bin/env bash
# The proof on one machine of issue 19 (docs/distributed.md): a synthetic county
# settled, monitored and counted on a local Spark cluster of two executors, each
# result compared with the single-machine engines of the release binary.
#
#   bench/distributed.sh [--out DIR] [--scale small|county] [--seed N]
#                        [--claims-per-person X] [--keep]
#                        [--settle-only] [--buckets N] [--executor-memory M]
#                        [--settlement files|rows] [--repeat N]
#
# Needs: the release binary (SAFETYNET, default target/release/safetynet; built
# when missing), Java 17, and a Python (PYTHON, default python3) with pyspark,
# pyarrow and the safetynet_engines wheel (spark/ci.sh installs them).
# Leaves in DIR: policy.toml, persons.csv, claims.csv (the settlement contract's
# inputs) and settlements.csv (the cluster's), with the single machine's files
# beside them (*.single.csv) and summary.json. Its last line reads
#   distributed: N claims, K executors, equal: yes|no
# and it exits non-zero unless every result is equal and K >= 2.
# --settle-only runs and compares the settlement alone (the per-core figure at
# county scale, where the what-if's whole-area group needs more than 1 GB
# executors); --buckets sets the settlement's partitions (default 8);
# --settlement picks the settlement job (files: Arrow from the export's files to
# the results', the default; rows: through Spark's rows, jobs.settle); --repeat
# runs the settlement job N times in one session (the first is the figure of
# record, the later ones the job on warm executors).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT=""
SCALE="small"
SEED=1
CPP=""
KEEP=0
SETTLE_ONLY=0
BUCKETS=8
EXEC_MEM=1g
SETTLEMENT=files
REPEAT=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) OUT="$2"; shift 2 ;;
    --scale) SCALE="$2"; shift 2 ;;
    --seed) SEED="$2"; shift 2 ;;
    --claims-per-person) CPP="$2"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --settle-only) SETTLE_ONLY=1; shift ;;
    --buckets) BUCKETS="$2"; shift 2 ;;
    --executor-memory) EXEC_MEM="$2"; shift 2 ;;
    --settlement) SETTLEMENT="$2"; shift 2 ;;
    --repeat) REPEAT="$2"; shift 2 ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
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
FACILITIES=(--facilities)
if [[ $SETTLE_ONLY -eq 0 ]]; then
  "$BIN" --quiet monitor --year "$YEAR" --persons "$S/persons.csv" --households "$S/households.csv" --claims "$S/claims.csv" \
    --settlements "$OUT/settlements.single.csv" --thresholds "$S/thresholds.csv" --out "$OUT/alerts.single.csv" 2>/dev/null
  report_args=(report --year "$YEAR" --persons "$S/persons.csv" --households "$S/households.csv" --claims "$S/claims.csv"
    --settlements "$OUT/settlements.single.csv" --alerts "$OUT/alerts.single.csv"
    --level province,city,county,township,village --period month --out "$OUT/report.single.csv")
  report_args+=(--facilities "$S/facilities.csv")
  "$BIN" --quiet "${report_args[@]}"
  "$BIN" --quiet whatif --policy-in-force "$S/policy.toml" --draft "$WORK/draft.toml" --persons "$S/persons.csv" \
    --households "$S/households.csv" --claims "$S/claims.csv" --thresholds "$S/thresholds.csv" --year "$YEAR" \
    --out "$OUT/whatif.single.csv"
fi
N=$(($(wc -l < "$OUT/settlements.single.csv") - 1))

MEM_MB=$(awk -v m="$EXEC_MEM" 'BEGIN { n = m + 0; if (m ~ /[gG]$/) n *= 1024; print n }')
echo "== the cluster: local-cluster[2,1,$MEM_MB]" >&2
cluster_args=(--partitions 4 --buckets "$BUCKETS" --executor-memory "$EXEC_MEM" --settlement "$SETTLEMENT"
  --repeat "$REPEAT" --summary "$OUT/summary.json")
if [[ $SETTLE_ONLY -eq 1 ]]; then
  cluster_args+=(--jobs settle)
else
  cluster_args+=(--alerts-from cluster "${FACILITIES[@]}" --report-out "$OUT/report.cluster.csv"
    --draft "$WORK/draft.toml" --whatif-out "$OUT/whatif.cluster.csv")
fi
t0=$(now)
"$PY" -m safetynet_spark run --export "$WORK/export" --out "$WORK/results" --master "local-cluster[2,1,$MEM_MB]" \
  "${cluster_args[@]}" >&2
cluster_wall=$(since "$t0")
csv_args=(--settlements "$OUT/settlements.csv")
[[ $SETTLE_ONLY -eq 0 ]] && csv_args+=(--alerts "$OUT/alerts.cluster.csv")
"$PY" -m safetynet_spark csv --results "$WORK/results" "${csv_args[@]}"

equal=yes
check() {
  if cmp -s "$1" "$2"; then echo "equal: $3" >&2
  else echo "NOT EQUAL: $3 ($1 vs $2)" >&2; diff <(head -c 200000 "$1") <(head -c 200000 "$2") | head -5 >&2; equal=no; fi
}
check "$OUT/settlements.single.csv" "$OUT/settlements.csv" "settlements, to the fen ($N claims)"
if [[ $SETTLE_ONLY -eq 0 ]]; then
  check "$OUT/alerts.single.csv" "$OUT/alerts.cluster.csv" "alerts ($(($(wc -l < "$OUT/alerts.single.csv") - 1)))"
  check "$OUT/report.single.csv" "$OUT/report.cluster.csv" "indicators by month at every level ($(($(wc -l < "$OUT/report.single.csv") - 1)) rows)"
  check "$OUT/whatif.single.csv" "$OUT/whatif.cluster.csv" "what-if by county"
fi

read -r K settle_s settle_cpu <<<"$("$PY" - "$OUT/summary.json" <<'PYEOF'
import json, sys
s = json.load(open(sys.argv[1]))
print(len(s["executors"]), s["timings_s"]["settlement"], s.get("executor_cpu_s", {}).get("settlement", 0))
PYEOF
)"
# Two figures for the cluster: its wall time on the 2 executor cores (what a
# busy machine inflates), and the CPU its executors' processes (JVMs and
# Python workers) used for the job.
awk -v n="$N" -v cpu="$single_settle_cpu" -v wall="$single_settle_wall" -v s="$settle_s" -v scpu="$settle_cpu" -v all="$cluster_wall" 'BEGIN {
  single = n / (cpu > 0 ? cpu : wall); cluster = n / (s * 2)
  printf "single binary: %d claims settled in %.2f s wall, %.2f s CPU: %.0f claims per core-second\n", n, wall, cpu, single
  printf "cluster: settlement job %.2f s on 2 executor cores: %.0f claims per core-second (%.1fx below the binary); whole run %.0f s\n", s, cluster, single / cluster, all
  if (scpu > 0) printf "cluster: settlement job used %.2f s of executor CPU: %.0f claims per CPU-second (%.1fx below the binary)\n", scpu, n / scpu, single / (n / scpu)
}' >&2
"$PY" - "$OUT/summary.json" "$N" "$single_settle_cpu" <<'PYEOF' >&2
import json, sys
runs = json.load(open(sys.argv[1])).get("settlement_runs", [])
n, single = int(sys.argv[2]), float(sys.argv[3])
for i, r in enumerate(runs):
    line = f"cluster: settlement run {i + 1} of {len(runs)}: {r['wall_s']:.2f} s wall"
    if r.get("executor_cpu_s"):
        per = n / r["executor_cpu_s"]
        line += f", {r['executor_cpu_s']:.2f} s executor CPU: {per:.0f} claims per CPU-second ({n / single / per:.1f}x below the binary)"
    print(line)
    if r.get("task_cpu_s"):
        print("  the Python workers' CPU by step (s): " + ", ".join(f"{k} {v:.2f}" for k, v in r["task_cpu_s"].items()))
PYEOF
echo "input: $INPUT; settlement job: $SETTLEMENT; executors: $("$PY" -c 'import json,sys; print(", ".join(json.load(open(sys.argv[1]))["executors"]))' "$OUT/summary.json")" >&2
[[ "$K" -ge 2 ]] || equal=no
echo "distributed: $N claims, $K executors, equal: $equal"
[[ "$equal" == yes ]]

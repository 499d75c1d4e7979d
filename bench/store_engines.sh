#!/usr/bin/env bash
# The store on both engines (issue 21): the same batch steps on SQLite and on
# PostgreSQL, over one generated data set, with the same release binary.
#
#   bench/store_engines.sh [--scale small|county] [--runs N] [--db PATH_OR_URL]...
#
#   --scale  the data set, `safetynet synth --scale S --seed 1 --year 2024`:
#            small (default: the demo county, 6,194 households, 20,016 persons,
#            49,963 claims) or county (120,360 households, 388,590 persons,
#            955,102 claims)
#   --runs   how many times the whole pipeline runs on each store (default 1);
#            each figure is the best of the runs
#   --no-overview  leave the overview step out (and the web_load example unbuilt)
#   --db     a store to run on, given once per store: a SQLite path or a
#            postgres:// URL (a database the script may drop and create again:
#            its name must start with bench). Default: a SQLite file under
#            $BENCH_DIR/engines-SCALE and postgres://postgres@127.0.0.1:5432/bench_engines
#
# Each run starts from empty stores (`safetynet migrate`) and times, one step at a
# time, each step on every store in turn (interleaved, so that both engines see
# the same load):
#   import     every file of the data set: regions, households, persons,
#              facilities, practitioners, claims, thresholds (seven commands, summed)
#   settle     `settle --year 2024` (the demo policy stored for the nation first,
#              untimed): every stored claim settled
#   monitor    `monitor --year 2024`: households monitored over the store
#   report     `report --year 2024 --level county,township --period month`: the
#              first report of the year, which builds the kept indicator facts
#   report2    the same report again (nothing stale)
#   files      (once a run, no store) `settle --policy --persons --claims --out`:
#              the same claims settled from the data set's files, the yardstick
#              of issue 21 (settle --year <= 3 x files, the first report <= 2 x)
#   overview   the web overview (GET /) on the store, through the web_load example
#              (it adds one village region and a user, settles nothing): six reads
#              as an administrator of the nation; the figures of every village are
#              refreshed by the server's start or by the first read, whichever comes
#              first. The step's time is the slowest read
# and prints seconds per step per store, the ratio PostgreSQL / SQLite, and the
# peak resident memory of each step's process (GNU time's %M where /usr/bin/time
# exists, else getrusage of the child through a Python wrapper; the script says
# which), and the settle and first report of each store against the files'
# settlement of the same run. The PostgreSQL server's own memory is not counted. SQLite's figure
# includes the pages of the store file its memory map touched.
# The reports of the stores are compared: they must be equal to the byte.
# PostgreSQL's statistics are as the server leaves them: with autovacuum off (as
# on the machine of BENCHMARKS.md) the tables are never analysed and deleted
# rows are never vacuumed during the run.
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE=small
RUNS=1
OVERVIEW=1
DBS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --scale) SCALE=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --db) DBS+=("$2"); shift 2 ;;
    --no-overview) OVERVIEW=0; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
DIR=${BENCH_DIR:-/work/bench-data}/engines-$SCALE
mkdir -p "$DIR"
[ ${#DBS[@]} -gt 0 ] || DBS=("$DIR/store.db" "postgres://postgres@127.0.0.1:5432/bench_engines")
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
if [ -z "${SAFETYNET:-}" ]; then cargo build --release -q -p safetynet; fi
BIN=${SAFETYNET:-$CARGO_TARGET_DIR/release/safetynet}
LOAD=${WEB_LOAD:-$CARGO_TARGET_DIR/release/examples/web_load}
if [ -z "${WEB_LOAD:-}" ] && [ "$OVERVIEW" = 1 ]; then cargo build --release -q -p web --example web_load; fi
YEAR=2024
REPORT=(report --year $YEAR --level county,township --period month)

if [ -x /usr/bin/time ]; then
  MEM="GNU time (/usr/bin/time -f %M: peak RSS of the step's process)"
  timed() { # OUT CMD...: wall seconds and peak RSS in KB into OUT
    local out=$1; shift
    /usr/bin/time -f '%e %M' -o "$out" "$@"
  }
else
  MEM="getrusage(RUSAGE_CHILDREN).ru_maxrss through a Python wrapper"
  timed() {
    local out=$1; shift
    python3 -c 'import resource, subprocess, sys, time
t = time.monotonic(); rc = subprocess.call(sys.argv[2:]); e = time.monotonic() - t
open(sys.argv[1], "w").write("%.2f %d\n" % (e, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(rc)' "$out" "$@"
  }
fi

engine() { case "$1" in postgres://*|postgresql://*) echo PostgreSQL ;; *) echo SQLite ;; esac; }

# A fresh, empty store.
reset() {
  local db=$1
  case "$db" in
    postgres://*|postgresql://*)
      local name=${db##*/}; name=${name%%\?*}
      case "$name" in bench*) ;; *) echo "refusing to drop $name: a benchmark database's name starts with bench" >&2; exit 2 ;; esac
      local admin=${db%/*}/postgres
      psql -q "$admin" -c "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name" >/dev/null ;;
    *) rm -f "$db" "$db"-wal "$db"-shm ;;
  esac
  "$BIN" --quiet --db "$db" migrate >/dev/null
}

drop() {
  local db=$1
  case "$db" in
    postgres://*|postgresql://*)
      local name=${db##*/}; name=${name%%\?*}
      psql -q "${db%/*}/postgres" -c "DROP DATABASE IF EXISTS $name" >/dev/null ;;
    *) rm -f "$db" "$db"-wal "$db"-shm ;;
  esac
}

# The data set, made once.
if [ ! -f "$DIR/synth/claims.csv" ]; then
  "$BIN" --quiet synth --scale "$SCALE" --seed 1 --year $YEAR --out "$DIR/synth.part"
  rm -rf "$DIR/synth"; mv "$DIR/synth.part" "$DIR/synth"
fi
S=$DIR/synth
rows() { echo $(($(wc -l <"$S/$1.csv") - 1)); }
echo "data: safetynet synth --scale $SCALE --seed 1 --year $YEAR: $(rows households) households, $(rows persons) persons, $(rows claims) claims, $(rows regions) regions, $(rows facilities) facilities, $(rows practitioners) practitioners"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "binary: $BIN; memory: $MEM"
for db in "${DBS[@]}"; do echo "store: $(engine "$db") $db"; done

RES=$DIR/results.tsv # run step store seconds peak_kb load1
: >"$RES"
T=$DIR/time.out
note() { # run step db seconds kb
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$(cut -d' ' -f1 /proc/loadavg)" >>"$RES"
}
step() { # run step db CMD...: times one command
  local run=$1 name=$2 db=$3; shift 3
  timed "$T" "$BIN" --quiet --db "$db" "$@" >"$DIR/step.log" 2>&1 || { cat "$DIR/step.log" >&2; echo "$name failed on $db" >&2; exit 1; }
  read -r secs kb <"$T"
  note "$run" "$name" "$db" "$secs" "$kb"
  echo "  run $run  $(engine "$db")  $name  ${secs} s  ${kb} KB  (load $(cut -d' ' -f1 /proc/loadavg))"
}

for run in $(seq "$RUNS"); do
  for db in "${DBS[@]}"; do reset "$db"; done
  # import: seven commands, one step
  for db in "${DBS[@]}"; do
    total=0; peak=0; each=""
    for kind in regions households persons facilities practitioners claims thresholds; do
      timed "$T" "$BIN" --quiet --db "$db" import "$kind" "$S/$kind.csv" >"$DIR/step.log" 2>&1 \
        || { cat "$DIR/step.log" >&2; echo "import $kind failed on $db" >&2; exit 1; }
      read -r secs kb <"$T"
      total=$(python3 -c "print(round($total + $secs, 2))"); peak=$((kb > peak ? kb : peak)); each="$each $kind $secs"
    done
    note "$run" import "$db" "$total" "$peak"
    echo "  run $run  $(engine "$db")  import  ${total} s  ${peak} KB  (load $(cut -d' ' -f1 /proc/loadavg)):$each"
    "$BIN" --quiet --db "$db" settle --store-policy "$S/policy.toml" --region "" --year $YEAR --actor bench >/dev/null
  done
  # The yardstick: the same claims settled from the files, in the same run.
  timed "$T" "$BIN" --quiet settle --policy "$S/policy.toml" --persons "$S/persons.csv" --claims "$S/claims.csv" \
    --out "$DIR/files-settlements.csv" >"$DIR/step.log" 2>&1 || { cat "$DIR/step.log" >&2; echo "settle from files failed" >&2; exit 1; }
  read -r secs kb <"$T"
  note "$run" files files "$secs" "$kb"
  echo "  run $run  files  settle --policy --persons --claims  ${secs} s  ${kb} KB  (load $(cut -d' ' -f1 /proc/loadavg))"
  rm -f "$DIR/files-settlements.csv"
  for db in "${DBS[@]}"; do step "$run" settle "$db" settle --year $YEAR --actor bench; done
  for db in "${DBS[@]}"; do step "$run" monitor "$db" monitor --year $YEAR --actor bench; done
  i=0
  for db in "${DBS[@]}"; do step "$run" report "$db" "${REPORT[@]}" --out "$DIR/report-$i.csv"; i=$((i + 1)); done
  i=0
  for db in "${DBS[@]}"; do step "$run" report2 "$db" "${REPORT[@]}" --out "$DIR/report2-$i.csv"; i=$((i + 1)); done
  for db in "${DBS[@]}"; do
    [ "$OVERVIEW" = 1 ] || break
    timed "$T" "$LOAD" --db "$db" --persons 0 --villages 1 --requests 0 --concurrency 1 --overview 6 >"$DIR/step.log" 2>&1 \
      || { cat "$DIR/step.log" >&2; echo "overview failed on $db" >&2; exit 1; }
    read -r _ kb <"$T"
    line=$(grep '^overview:' "$DIR/step.log")
    max=$(sed -E 's/.*max ([0-9.]+) ms.*/\1/' <<<"$line")
    note "$run" overview "$db" "$(python3 -c "print(round($max / 1000, 3))")" "$kb"
    echo "  run $run  $(engine "$db")  $line  ${kb} KB  (load $(cut -d' ' -f1 /proc/loadavg))"
  done
  # The reports of every store must agree.
  for f in report report2; do
    for j in $(seq 1 $((${#DBS[@]} - 1))); do
      cmp -s "$DIR/$f-0.csv" "$DIR/$f-$j.csv" || { echo "the ${f}s of ${DBS[0]} and ${DBS[$j]} differ" >&2; exit 1; }
    done
  done
  [ ${#DBS[@]} -lt 2 ] || echo "  run $run: the reports of every store are equal ($(wc -l <"$DIR/report-0.csv") lines)"
done
for db in "${DBS[@]}"; do drop "$db"; done

python3 - "$RES" "${DBS[@]}" <<'EOF'
import sys
res, dbs = sys.argv[1], sys.argv[2:]
best, loads = {}, []
for line in open(res):
    run, step, db, secs, kb, load = line.rstrip("\n").split("\t")
    k = (step, db)
    s, m = float(secs), int(kb)
    b = best.get(k)
    best[k] = (min(b[0], s), max(b[1], m)) if b else (s, m)
    loads.append(float(load))
steps = ["import", "settle", "monitor", "report", "report2", "overview"]
names = {"import": "import (7 files)", "settle": "settle --year", "monitor": "monitor --year",
         "report": "report, first of the year", "report2": "report again", "overview": "overview, slowest read"}
eng = lambda d: "PostgreSQL" if d.startswith(("postgres://", "postgresql://")) else "SQLite"
head = ["step"] + [f"{eng(d)} s" for d in dbs]
sq = next((d for d in dbs if eng(d) == "SQLite"), None)
pg = next((d for d in dbs if eng(d) == "PostgreSQL"), None)
if sq and pg:
    head.append("PostgreSQL / SQLite")
head += [f"{eng(d)} peak MB" for d in dbs]
print()
print("| " + " | ".join(head) + " |")
print("|" + "---|" * len(head))
steps = [s for s in steps if all((s, d) in best for d in dbs)]
for s in steps:
    row = [names[s]] + [f"{best[(s, d)][0]:.2f}" if s != "overview" else f"{best[(s, d)][0]:.3f}" for d in dbs]
    if sq and pg:
        a, b = best[(s, sq)][0], best[(s, pg)][0]
        row.append(f"{b / a:.2f}" if a > 0 else "-")
    row += [f"{best[(s, d)][1] / 1024:.0f}" for d in dbs]
    print("| " + " | ".join(row) + " |")
files = best.get(("files", "files"))
if files:
    print(f"\nsettle from files (the yardstick): {files[0]:.2f} s, peak {files[1] / 1024:.0f} MB")
    for d in dbs:
        print(f"  {eng(d)}: settle --year {best[('settle', d)][0] / files[0]:.2f} x files (target <= 3), "
              f"first report {best[('report', d)][0] / files[0]:.2f} x files (target <= 2)")
print(f"\nbest of {max(1, len(loads) // max(1, len(dbs) * len(steps) + 1))} run(s); load average (1 min) while measuring: {min(loads):.2f} to {max(loads):.2f}")
EOF

"""The settlement job over the export's files, with Spark moving Arrow, not rows.

`jobs.settle` takes DataFrames: every claim goes through Spark's rows (the
Parquet scan turned into rows, the shuffle, the rows turned into Arrow for the
Python worker and back, the cache, the Parquet writes), and those per-row costs,
not the engine, set its pace (BENCHMARKS.md, "Issue 19"). This job keeps the
claims in Arrow from the export's files to the results' files:

1. map: one task per row group of each input file (claims, persons, and with
   the store's policies the accumulators and the settled claims) reads the
   columns the engine takes (pyarrow), gives each row its bucket by a fixed
   hash of `person_id` (`person_buckets`), and emits one Arrow IPC stream per
   bucket it has rows for: a few records of some megabytes, not a record a
   claim;
2. shuffle: Spark's shuffle moves those records by bucket (`partitionBy`);
3. reduce: one task per bucket joins its streams, settles them in one
   `Settler.settle_persons` call, as `jobs.settle` does, and writes the
   bucket's settlements and accumulators as Parquet files (pyarrow) into a
   staging directory;
4. commit, on the driver: if any claim named a person not in the persons, the
   staging directory is removed and the run refused (nothing written);
   otherwise the files of the successful task attempts move into
   `settlements/` and `accumulators/`, then `_SUCCESS`.

Spark still schedules, retries and shuffles; the files are read and written where
the driver and the workers see the same paths (a shared or mounted file system,
as `datasets.manifest` already assumes)."""

from __future__ import annotations

import contextlib
import gc
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Tuple

import pyarrow as pa
import pyarrow.parquet as pq

from . import session

# The inputs, by side: 0 claims, 1 persons, 2 accumulators, 3 settled claims.
CLAIMS, PERSONS, ACCUMULATORS, SETTLED = 0, 1, 2, 3
_NAMES = {CLAIMS: "claims", PERSONS: "persons", ACCUMULATORS: "accumulators", SETTLED: "settled"}


def _files(export: str, name: str) -> List[str]:
    """Every `*.parquet` under `export/name`, at any depth (as `datasets.read`),
    hidden and `_` files left out."""
    root = Path(export) / name
    if not root.is_dir():
        return []
    out = []
    for p in sorted(root.rglob("*.parquet")):
        rel = p.relative_to(root).parts
        if any(part.startswith((".", "_")) for part in rel):
            continue
        out.append(str(p))
    return out


def _schema(files: List[str]) -> Optional[pa.Schema]:
    """The union of the files' schemas (a column of one file only is null in the others)."""
    if not files:
        return None
    return pa.unify_schemas([pq.read_schema(f) for f in files])


def _splits(side: int, files: List[str]) -> List[Tuple[int, str, List[int]]]:
    """One split per row group (a file without row groups: one split, for its schema)."""
    out = []
    for f in files:
        n = pq.ParquetFile(f).metadata.num_row_groups
        out.extend((side, f, [g]) for g in range(n))
        if n == 0:
            out.append((side, f, []))
    return out


def _columns(side: int, schemas: Dict[int, pa.Schema]) -> List[str]:
    """The columns the engine call takes from each side, as `jobs.settle` takes them."""
    from .jobs import CLAIM_COLUMNS

    persons = schemas[PERSONS]
    if side == CLAIMS:
        return CLAIM_COLUMNS + ([] if "region_code" in persons.names else ["region_code"])
    if side == PERSONS:
        return ["person_id", "status"] + [c for c in ("enrolled", "region_code") if c in persons.names]
    if side == ACCUMULATORS:
        return ["person_id", "year", "tier", "base", "oop", "paid"]
    return ["claim_id", "facility_id", "person_id"]


def _target(side: int, schemas: Dict[int, pa.Schema]) -> pa.Schema:
    """The Arrow schema each side's streams carry: the columns taken, typed as in
    the files (a column no file has, `facility_id`: text, all null)."""
    fields = []
    for c in _columns(side, schemas):
        s = schemas[side]
        fields.append(s.field(c).with_nullable(True) if c in s.names else pa.field(c, pa.string()))
    return pa.schema(fields)


def _read(path: str, groups: List[int], target: pa.Schema) -> pa.Table:
    f = pq.ParquetFile(path)
    have = [c for c in target.names if c in f.schema_arrow.names]
    t = f.read_row_groups(groups, columns=have, use_threads=False) if groups else f.schema_arrow.empty_table().select(have)
    cols = [t.column(c).cast(fl.type) if c in have else pa.nulls(t.num_rows, fl.type) for c, fl in zip(target.names, target)]
    return pa.Table.from_arrays(cols, schema=target)


# Dictionary encoding for the columns of few values only: on the IDs and the
# amounts it is tried and dropped again (a third of the writes' time).
DICTIONARY = {
    "settlements": [
        "facility_id", "year", "payments.list.element.tier", "policy_id", "policy_version", "status", "discharged",
        "region_code",
    ],
    "accumulators": ["year", "tier"],
}
# The pieces' Arrow IPC compression (None, "lz4" or "zstd"): fewer bytes for
# Spark to move through its shuffle, against the Python workers' (de)compression.
IPC_COMPRESSION = "lz4"


@contextlib.contextmanager
def _no_cycle_collection():
    """Python's cycle collector off for a task: the task makes no cycles, and
    each full collection walks every object of the worker (pyspark, pyarrow)
    for nothing (about 0.4 s of CPU a county's job, measured with perf)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _ipc(t: pa.Table, compression: Optional[str]) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, t.schema, options=pa.ipc.IpcWriteOptions(compression=compression)) as w:
        w.write_table(t)
    return sink.getvalue().to_pybytes()


def _by_bucket(t: pa.Table, buckets: int) -> Iterator[Tuple[int, pa.Table]]:
    """The rows of `t` by the bucket of their `person_id`."""
    import safetynet_engines as eng

    if t.num_rows == 0:
        return
    rows, counts = eng.bucket_rows(t.select(["person_id"]), "person_id", buckets)
    t = t.combine_chunks().take(rows.column(0))
    start = 0
    for k, n in enumerate(counts):
        if n:
            yield k, t.slice(start, n)
        start += n


def settle_export(
    spark,
    export: str,
    out: str,
    *,
    policy_toml: Optional[str] = None,
    buckets: int = 16,
    ipc_compression: Optional[str] = IPC_COMPRESSION,
) -> Dict[str, object]:
    """Settles the export's claims not yet settled, as `jobs.settle` with the
    export's datasets, and writes `out/settlements` and `out/accumulators`.
    `policy_toml`: one policy for every claim, from zero accumulators and with
    no claim taken as settled (as `run --policy`); otherwise the export's
    policies in force, its accumulators and its settled claims. Returns
    `without_policy` (claims whose village has no policy, `(village, year) ->
    claims`), `settled` (the claims settled) and `cpu_s` (the Python
    workers' CPU by step: `read`, `split` (into buckets) and `map` (the whole
    map task, the pieces handed to Spark included); `gather` (the pieces
    read back), `engine`, `write` and `reduce` (the whole reduce task)). A claim of a person not among the persons refuses the run, as
    `jobs.settle` does: a ValueError, nothing written."""
    from .jobs import ACCUMULATORS as ACC_DDL
    from .jobs import SETTLEMENTS as SETTLEMENTS_DDL
    from .jobs import _arrow

    # The workers do not share the driver's working directory.
    export, out = os.path.abspath(export), os.path.abspath(out)
    files = {PERSONS: _files(export, "persons"), CLAIMS: _files(export, "claims")}
    if policy_toml is None:
        files[ACCUMULATORS] = _files(export, "accumulators")
        files[SETTLED] = _files(export, "settled")
    if not files[PERSONS] or not files[CLAIMS]:
        raise ValueError(f"{export}: the export has no claims or no persons")
    schemas = {side: _schema(f) for side, f in files.items() if f}
    targets = {side: _target(side, schemas) for side in schemas}
    if policy_toml is not None:
        source = ("toml", policy_toml)
    else:
        pfiles = _files(export, "policies")
        if not pfiles:
            raise ValueError(f"{export}: the export has no policies (or give one policy file)")
        source = ("table", pa.concat_tables([pq.read_table(f) for f in pfiles], promote_options="default"))
    splits = [s for side in targets for s in _splits(side, files[side])]
    out_schemas = {"settlements": _arrow(SETTLEMENTS_DDL), "accumulators": _arrow(ACC_DDL)}
    staging = Path(out) / "_temporary" / f"settle-{uuid.uuid4().hex}"
    tracker = session.tracker()
    key = ("settler-files", uuid.uuid4().hex)
    sc = spark.sparkContext

    steps = {k: sc.accumulator(0.0) for k in ("read", "split", "map", "gather", "engine", "write", "reduce")}

    def split_rows(parts: Iterable[Tuple[int, str, List[int]]]) -> Iterator[Tuple[int, Tuple[int, bytes]]]:
        # The task's CPU by step, in the Python worker (`map`: the whole task,
        # the pieces' Arrow IPC and their handing to Spark included).
        c0 = time.process_time()
        with _no_cycle_collection():
            for side, path, groups in parts:
                session.mark(tracker)
                c1 = time.process_time()
                t = _read(path, groups, targets[side])
                c2 = time.process_time()
                pieces = list(_by_bucket(t, buckets))
                steps["read"].add(c2 - c1)
                steps["split"].add(time.process_time() - c2)
                for k, piece in pieces:
                    yield k, (side, _ipc(piece, ipc_compression))
        steps["map"].add(time.process_time() - c0)

    def settle_bucket(index: int, rows: Iterator[Tuple[int, Tuple[int, bytes]]]) -> Iterator[dict]:
        with _no_cycle_collection():
            yield from _settle_bucket(index, rows)

    def _settle_bucket(index: int, rows: Iterator[Tuple[int, Tuple[int, bytes]]]) -> Iterator[dict]:
        from . import jobs

        import safetynet_engines as eng

        session.mark(tracker)
        c0 = time.process_time()
        got: Dict[int, List[pa.Table]] = {}
        for _k, (side, data) in rows:
            got.setdefault(side, []).append(pa.ipc.open_stream(data).read_all())
        if not got:
            steps["reduce"].add(time.process_time() - c0)
            return
        tables = {side: pa.concat_tables(ts) if len(ts) > 1 else ts[0] for side, ts in got.items()}
        empty = lambda side: targets[side].empty_table()  # noqa: E731
        settler = jobs._engine(
            key, lambda: eng.Settler.from_toml(source[1]) if source[0] == "toml" else eng.Settler(source[1])
        )
        acc, done = tables.get(ACCUMULATORS), tables.get(SETTLED)
        c1 = time.process_time()
        s, a, w, o = settler.settle_persons(
            tables.get(CLAIMS, empty(CLAIMS)),
            tables.get(PERSONS, empty(PERSONS)),
            acc if acc is not None and acc.num_rows else None,
            done if done is not None and done.num_rows else None,
        )
        c2 = time.process_time()
        orphans = pa.table(o)
        written = {}
        if orphans.num_rows == 0:
            attempt = uuid.uuid4().hex[:12]
            for name, batch in (("settlements", s), ("accumulators", a)):
                t = jobs.conform(pa.table(batch), out_schemas[name])
                if t.num_rows == 0:
                    continue
                d = staging / name
                d.mkdir(parents=True, exist_ok=True)
                path = d / f"part-{index:05d}-{attempt}.parquet"
                pq.write_table(t, path, compression="snappy", use_dictionary=DICTIONARY[name])
                written[name] = str(path)
        first = None
        if orphans.num_rows:
            first = min(zip(orphans.column("claim_id").to_pylist(), orphans.column("person_id").to_pylist()))
        steps["gather"].add(c1 - c0)
        steps["engine"].add(c2 - c1)
        c3 = time.process_time()
        steps["write"].add(c3 - c2)
        message = {
            "bucket": index,
            "files": written,
            "settled": len(s),
            "orphans": orphans.num_rows,
            "first_orphan": first,
            "without_policy": pa.table(w).to_pylist(),
        }
        steps["reduce"].add(time.process_time() - c0)
        yield message

    try:
        messages = (
            sc.parallelize(splits, max(1, len(splits)))
            .mapPartitions(split_rows)
            .partitionBy(buckets, lambda k: k)
            .mapPartitionsWithIndex(settle_bucket)
            .collect()
        )
        orphans = sum(m["orphans"] for m in messages)
        if orphans:
            first = min(m["first_orphan"] for m in messages if m["first_orphan"] is not None)
            raise ValueError(
                f"{orphans} claim(s) name a person who is not in the persons "
                f"(first: claim {first[0]}, person {first[1]}); nothing was settled"
            )
        for name, schema in out_schemas.items():
            target = Path(out) / name
            if target.exists():
                shutil.rmtree(target)
            target.mkdir(parents=True)
            moved = 0
            for m in sorted(messages, key=lambda m: m["bucket"]):
                if name in m["files"]:
                    os.replace(m["files"][name], target / f"part-{m['bucket']:05d}.parquet")
                    moved += 1
            if moved == 0:
                # No rows: one empty file, so that the dataset has its schema.
                pq.write_table(schema.empty_table(), target / "part-00000.parquet", compression="snappy")
            (target / "_SUCCESS").touch()
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        try:
            (Path(out) / "_temporary").rmdir()
        except OSError:
            pass
    without: Dict[Tuple[str, int], int] = {}
    for m in messages:
        for r in m["without_policy"]:
            k = (r["village_code"], int(r["year"]))
            without[k] = without.get(k, 0) + int(r["claims"])
    cpu = {k: round(a.value, 3) for k, a in steps.items()}
    return {"without_policy": without, "settled": sum(m["settled"] for m in messages), "cpu_s": cpu}

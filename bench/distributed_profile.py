"""Where the cluster's settlement job spends its time (issue 19, BENCHMARKS.md).

Runs the job's stages cumulatively over an export, each as its own Spark job
ending in the `noop` sink (nothing written), and prints the wall and executor
CPU seconds of each:

  read      the claims' and persons' Parquet, the columns the job takes
  shuffle   + the one shuffle by person (repartition into --buckets)
  arrow     + the partitions handed to Python workers as Arrow and back (the
            worker returns nothing)
  engine    + the engine call (Settler.settle_persons) and its results turned
            back into Spark rows
  job       jobs.settle as `python -m safetynet_spark run` runs it: the results
            kept (persisted), the orphan check, the Parquet writes

Usage (after bench/distributed.sh --keep left an export; PYTHONPATH=spark):

  python bench/distributed_profile.py --export DIR [--master local-cluster[2,1,1024]]
         [--buckets 8] [--policy FILE] [--repeat 2]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import pyarrow as pa
from pyspark.sql import functions as F

from safetynet_spark import datasets, jobs, session


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--export", required=True)
    p.add_argument("--master", default="local-cluster[2,1,1024]")
    p.add_argument("--buckets", type=int, default=8)
    p.add_argument("--policy", help="one policy file (default: the export's policies)")
    p.add_argument("--repeat", type=int, default=2, help="runs of each stage; the last is reported")
    args = p.parse_args()

    spark = session.start(args.master, partitions=4)
    out = Path(tempfile.mkdtemp(prefix="safetynet-profile-"))
    try:
        read = lambda name: datasets.read(spark, args.export, name)  # noqa: E731
        claims, persons = read("claims"), read("persons")
        policy_toml = Path(args.policy).read_text() if args.policy else None
        policies = None if policy_toml else read("policies")
        n = claims.count()
        person_cols = ["person_id", "status"] + [c for c in ("enrolled", "region_code") if c in persons.columns]
        sided = lambda df, k: df.withColumn("_side", F.lit(k).cast("byte"))  # noqa: E731
        rows = sided(claims.select(*jobs.CLAIM_COLUMNS), 0).unionByName(
            sided(persons.select(*person_cols), 1), allowMissingColumns=True
        )
        shuffled = rows.repartition(args.buckets, "person_id")

        def nothing(batches):
            for _ in batches:
                pass
            return iter(())

        source = ("toml", policy_toml) if policy_toml else ("table", jobs._small(policies))
        claim_set = list(jobs.CLAIM_COLUMNS)

        def engine(batches):
            import pyarrow.compute as pc

            import safetynet_engines as eng

            got = [b for b in batches if b.num_rows]
            if not got:
                return
            t = pa.Table.from_batches(got)
            settler = eng.Settler.from_toml(source[1]) if source[0] == "toml" else eng.Settler(source[1])
            which = t.column("_side")
            s, a, w, o = settler.settle_persons(
                t.filter(pc.equal(which, 0)).select(claim_set), t.filter(pc.equal(which, 1)).select(person_cols)
            )
            schema = jobs._arrow(jobs.SETTLE_OUT)
            parts = {"s": pa.table(s), "a": pa.table(a), "w": pa.table(w), "o": pa.table(o)}
            yield from jobs.tagged(parts, schema).to_batches()

        def stage(name, action):
            for _ in range(args.repeat):
                t, c = time.time(), session.local_executor_cpu()
                action()
                wall, cpu = time.time() - t, (session.local_executor_cpu() or 0) - (c or 0)
            print(f"{name:8s} {wall:7.2f} s wall {cpu:7.2f} s executor CPU  {n / max(cpu, 1e-9):9.0f} claims per CPU-second",
                  flush=True)

        noop = lambda df: df.write.format("noop").mode("overwrite").save()  # noqa: E731
        with session.arrow_batches(jobs.SETTLE_BATCH):
            stage("read", lambda: noop(rows))
            stage("shuffle", lambda: noop(shuffled))
            stage("arrow", lambda: noop(shuffled.mapInArrow(nothing, "x bigint")))
            stage("engine", lambda: noop(shuffled.mapInArrow(engine, jobs.SETTLE_OUT)))

        def whole():
            s = jobs.settle(spark, claims, persons, policies=policies, policy_toml=policy_toml, buckets=args.buckets)
            datasets.write(s["settlements"], str(out), "settlements")
            datasets.write(s["accumulators"], str(out), "accumulators")
            s["without_policy"].groupBy().agg(F.sum("claims")).collect()
            s["_all"].unpersist()

        stage("job", whole)
        print(f"claims: {n}; buckets: {args.buckets}; master: {args.master}")
    finally:
        spark.stop()
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()

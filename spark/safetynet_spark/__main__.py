"""`python -m safetynet_spark run|csv ...` (docs/distributed.md)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Dict, Optional

from pyspark.sql import functions as F


def _text(path: Optional[str]) -> Optional[str]:
    return Path(path).read_text() if path else None


def run(args: argparse.Namespace) -> int:
    from . import datasets, jobs, session, settle_files

    spark = session.start(args.master, partitions=args.partitions, executor_memory=args.executor_memory)
    timings: Dict[str, float] = {}
    counts: Dict[str, int] = {}
    executor_cpu: Dict[str, float] = {}
    try:
        m = datasets.manifest(args.export)
        year = int(m["year"])
        read = lambda name: datasets.read(spark, args.export, name)  # noqa: E731
        households, persons, claims = read("households"), read("persons"), read("claims")
        settled = read("settled")
        out = args.out
        datasets.start_result(args.export, out)
        jobs_asked = set(args.jobs.split(","))
        policy_toml = _text(args.policy)

        runs = []
        for _ in range(max(1, args.repeat)):
            t, cpu0 = time.time(), session.local_executor_cpu()
            task_cpu = None
            if args.settlement == "files":
                # Arrow from the export's files to the results' files (settle_files).
                done = settle_files.settle_export(
                    spark, args.export, out, policy_toml=policy_toml, buckets=args.buckets
                )
                without = sum(done["without_policy"].values())
                task_cpu = done["cpu_s"]
            else:
                s = jobs.settle(
                    spark, claims, persons,
                    policies=None if policy_toml else read("policies"),
                    policy_toml=policy_toml,
                    accumulators=None if policy_toml else read("accumulators"),
                    settled=None if policy_toml else settled,
                    buckets=args.buckets,
                )
                datasets.write(s["settlements"], out, "settlements")
                datasets.write(s["accumulators"], out, "accumulators")
                without = s["without_policy"].groupBy().agg(F.sum("claims").alias("n")).collect()[0]["n"] or 0
                s["_all"].unpersist()
            run_ = {"wall_s": round(time.time() - t, 2)}
            cpu1 = session.local_executor_cpu()
            if cpu0 is not None and cpu1 is not None:
                # The executors' CPU for the job, where they run on this machine.
                run_["executor_cpu_s"] = round(cpu1 - cpu0, 2)
            if task_cpu is not None:
                run_["task_cpu_s"] = task_cpu
            runs.append(run_)
        # The first run is the figure of record (a fresh session, as a batch
        # starts); later runs (--repeat) show the job on warm executors.
        timings["settlement"] = runs[0]["wall_s"]
        if "executor_cpu_s" in runs[0]:
            executor_cpu["settlement"] = runs[0]["executor_cpu_s"]
        counts["claims_settled"] = spark.read.parquet(f"{out}/settlements").count()
        counts["claims_without_policy"] = int(without)

        mine = spark.read.parquet(f"{out}/settlements")
        every = mine.select("claim_id", "facility_id", "person_id", "year", "out_of_pocket", "payments", "region_code")
        if settled is not None and not policy_toml:
            every = every.unionByName(settled.select(*every.columns))
        every = every.where(F.col("year") == year)

        if "warnings" in jobs_asked or "indicators" in jobs_asked:
            t = time.time()
            alerts = jobs.warnings(spark, year, households, persons, claims, every, read("thresholds"), _text(args.rules))
            datasets.write(alerts, out, "alerts")
            timings["warnings"] = time.time() - t
            counts["alerts"] = spark.read.parquet(f"{out}/alerts").count()

        if "indicators" in jobs_asked:
            t = time.time()
            if args.alerts_from == "cluster":
                alert_dates = spark.read.parquet(f"{out}/alerts").select(
                    "household_id", "rule", "year", F.lit(None).cast("date").alias("raised_on"),
                    F.lit(None).cast("date").alias("assisted_on"), F.col("village_code").alias("region_code"),
                )
            else:
                alert_dates = read("alert_dates")
            f = jobs.indicator_facts(
                spark, year, households, persons, claims, every,
                alert_dates=alert_dates, cases=read("cases"), contracts=read("contracts"),
                facilities=read("facilities") if args.facilities else None,
            )
            datasets.write(f["village_facts"], out, "village_facts")
            datasets.write(f["person_facts"], out, "person_facts")
            marks = read("indicator_marks")
            if marks is not None:
                datasets.write(marks, out, "indicator_marks", partitions=1)
            timings["indicator_facts"] = time.time() - t
            if args.report_out:
                t = time.time()
                sums = jobs.rollup(spark.read.parquet(f"{out}/village_facts"), spark.read.parquet(f"{out}/person_facts"))
                csv = jobs.report(spark, year, sums, args.levels.split(","), args.period, _text(args.indicators), args.buckets)
                Path(args.report_out).write_bytes(csv)
                timings["indicator_rollup_report"] = time.time() - t

        if "whatif" in jobs_asked and args.draft:
            t = time.time()
            draft = _text(args.draft)
            common = dict(buckets=args.buckets)
            a = jobs.settle(spark, claims, persons, policies=None if policy_toml else read("policies"),
                            policy_toml=policy_toml, **common)
            b = jobs.settle(spark, claims, persons, policy_toml=draft, **common)
            th = read("thresholds")
            alerts_a = jobs.warnings(spark, year, households, persons, claims, a["settlements"], th, _text(args.rules))
            alerts_b = jobs.warnings(spark, year, households, persons, claims, b["settlements"], th, _text(args.rules))
            csv = jobs.whatif(spark, households, persons, a["settlements"], b["settlements"], alerts_a, alerts_b,
                              whole_area=not args.no_whole_area)
            if args.whatif_out:
                Path(args.whatif_out).write_bytes(csv)
            timings["whatif"] = time.time() - t

        execs = sorted(session.executors())
        summary = {"year": year, "timings_s": timings, "executor_cpu_s": executor_cpu, "counts": counts, "executors": execs}
        summary["settlement_runs"] = runs
        print(json.dumps(summary, indent=2))
        if args.summary:
            Path(args.summary).write_text(json.dumps(summary, indent=2))
        return 0
    finally:
        spark.stop()


def to_csv(args: argparse.Namespace) -> int:
    """The cluster's results as the binary's files, for a byte-for-byte check."""
    import pyarrow.dataset as ds

    import safetynet_engines as eng

    def table(name: str):
        return ds.dataset(f"{args.results}/{name}", format="parquet").to_table()

    if args.settlements:
        Path(args.settlements).write_bytes(eng.settlements_csv(table("settlements")))
    if args.alerts:
        Path(args.alerts).write_bytes(eng.alerts_csv(table("alerts")))
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m safetynet_spark")
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run the jobs over an export and write the results")
    r.add_argument("--export", required=True, help="the export directory (safetynet export --parquet)")
    r.add_argument("--out", required=True, help="the result directory (for safetynet import ...)")
    r.add_argument("--master", help="Spark master (default: as spark-submit sets it)")
    r.add_argument("--partitions", type=int, default=8, help="shuffle partitions")
    r.add_argument("--buckets", type=int, default=16, help="groups of persons per settlement engine call")
    r.add_argument("--executor-memory", default="1g")
    r.add_argument("--settlement", choices=["files", "rows"], default="files",
                   help="the settlement job: Arrow from the export's files to the results' files (files), "
                        "or Spark's rows (rows: jobs.settle, as the what-if settles)")
    r.add_argument("--jobs", default="settle,warnings,indicators,whatif")
    r.add_argument("--policy", help="one policy file for every claim (as safetynet settle --policy), "
                                     "instead of the export's policies in force")
    r.add_argument("--repeat", type=int, default=1,
                   help="run the settlement job this many times in the session (the first is the figure of "
                        "record; the others show it on warm executors)")
    r.add_argument("--rules", help="a region's rules file over the default rules")
    r.add_argument("--draft", help="the draft policy of the what-if")
    r.add_argument("--no-whole-area", action="store_true", help="what-if: counties only, no 'all' rows")
    r.add_argument("--alerts-from", choices=["export", "cluster"], default="export",
                   help="the alerts the indicators count: the store's (export) or this run's")
    r.add_argument("--facilities", action="store_true", help="judge treatment in county by the facilities' regions")
    r.add_argument("--report-out", help="also roll the facts up and write the report CSV here")
    r.add_argument("--levels", default="province,city,county,township,village")
    r.add_argument("--period", default="month")
    r.add_argument("--indicators", help="an indicator definitions file over the shipped ones")
    r.add_argument("--whatif-out", help="write the what-if CSV here")
    r.add_argument("--summary", help="write timings, counts and executors as JSON here")
    r.set_defaults(func=run)
    v = sub.add_parser("csv", help="results as the binary's CSV files")
    v.add_argument("--results", required=True)
    v.add_argument("--settlements")
    v.add_argument("--alerts")
    v.set_defaults(func=to_csv)
    args = p.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())

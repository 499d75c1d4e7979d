"""The jobs on a local Spark: the settlement job (shuffled by person, several
engine calls) gives what one engine call gives, and the bundling of a village's
inputs hands each call whole tables. Takes about half a minute (Spark's start)."""

from __future__ import annotations

import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import safetynet_engines as eng  # noqa: E402
from test_engines import CASES, claims_of  # noqa: E402

from safetynet_spark import jobs, session, settle_files  # noqa: E402


def test_settlement_job_equals_one_engine_call():
    case = CASES / "01_worked_example"
    policy = (case / "policy.toml").read_text()
    claims = claims_of(case)
    village = pa.array(["340102001001"] * claims.num_rows)
    spark = session.start("local[2]", partitions=4)
    try:
        cdf = spark.createDataFrame(claims.drop(["status"]).append_column("region_code", village))
        pdf = spark.createDataFrame(
            pa.table({"person_id": claims.column("person_id"), "status": claims.column("status")})
        ).distinct()
        out = jobs.settle(spark, cdf, pdf, policy_toml=policy, buckets=3)
        got = out["settlements"].toArrow()
        acc = out["accumulators"].toArrow()
        # The claims settled already are skipped; the rest go on from the
        # accumulators stored for them.
        first = claims.sort_by([("discharged", "ascending"), ("claim_id", "ascending")]).slice(0, 2)
        _, acc1, _ = eng.Settler.from_toml(policy).settle(first)
        settled_df = spark.createDataFrame(
            first.select(["claim_id", "person_id"]).append_column("facility_id", pa.nulls(2, pa.string()))
        )
        rest = jobs.settle(spark, cdf, pdf, policy_toml=policy, buckets=3, settled=settled_df,
                           accumulators=spark.createDataFrame(pa.table(acc1)))
        rest_got = rest["settlements"].toArrow()
        # A claim of a person outside the persons is refused, not dropped.
        lone = pdf.where(pdf.person_id != claims.column("person_id")[0].as_py())
        try:
            jobs.settle(spark, cdf, lone, policy_toml=policy, buckets=3)
            raise AssertionError("a claim of an unknown person was settled or dropped")
        except ValueError as e:
            assert "not in the persons" in str(e) and claims.column("person_id")[0].as_py() in str(e), e
    finally:
        spark.stop()
    want, want_acc, _ = eng.Settler.from_toml(policy).settle(claims)
    assert eng.settlements_csv(got) == eng.settlements_csv(want)
    keep = set(first.column("claim_id").to_pylist())
    rest_want, _, _ = eng.Settler.from_toml(policy).settle(
        claims.filter(pa.array([c not in keep for c in claims.column("claim_id").to_pylist()])), pa.table(acc1)
    )
    assert rest_got.num_rows == claims.num_rows - 2
    assert eng.settlements_csv(rest_got) == eng.settlements_csv(rest_want)
    key = lambda r: (r["person_id"], r["year"], r["tier"])  # noqa: E731
    assert sorted(acc.to_pylist(), key=key) == sorted(pa.table(want_acc).to_pylist(), key=key)


def _export(root: Path, claims: pa.Table, persons: pa.Table, **more: pa.Table) -> None:
    """An export's datasets as `safetynet export --parquet` lays them out, the
    claims in two files of several row groups (several map tasks)."""
    half = claims.num_rows // 2
    for name, parts in {"claims": [claims.slice(0, half), claims.slice(half)], "persons": [persons],
                        **{k: [v] for k, v in more.items()}}.items():
        for i, t in enumerate(parts):
            d = root / name / "province=34"
            d.mkdir(parents=True, exist_ok=True)
            pq.write_table(t, d / f"part-{i:05d}.parquet", row_group_size=2)


def _read(out: Path, name: str) -> pa.Table:
    return ds.dataset(out / name, format="parquet").to_table()


def test_settlement_from_files_equals_one_engine_call(tmp_path):
    case = CASES / "01_worked_example"
    policy = (case / "policy.toml").read_text()
    claims = claims_of(case)
    village = pa.array(["340102001001"] * claims.num_rows)
    cl = claims.drop(["status", "enrolled"]).append_column("region_code", village)
    ids = claims.column("person_id").to_pylist()
    seen = sorted(set(ids))
    status = dict(zip(ids, claims.column("status").to_pylist()))
    persons = pa.table({"person_id": seen, "status": [status[p] for p in seen],
                        "region_code": ["340102001001"] * len(seen)})
    # The claims settled already, with the accumulators they left, and the
    # store's policies (the one in force for the village and year).
    first = claims.sort_by([("discharged", "ascending"), ("claim_id", "ascending")]).slice(0, 2)
    _, acc1, _ = eng.Settler.from_toml(policy).settle(first)
    settled = first.select(["claim_id", "person_id"]).append_column("facility_id", pa.nulls(2, pa.string()))
    year = claims.column("discharged")[0].as_py().year
    policies = pa.table({"id": [7], "region": ["34"], "year": [year], "version": [2], "source": [policy]})
    export = tmp_path / "export"
    _export(export, cl, persons, accumulators=pa.table(acc1), settled=settled, policies=policies)
    # One person missing from the persons: refused, nothing written.
    lone = tmp_path / "lone"
    _export(lone, cl, persons.filter(pa.array([p != ids[0] for p in seen])))
    spark = session.start("local[2]", partitions=4)
    try:
        whole = settle_files.settle_export(spark, str(export), str(tmp_path / "a"), policy_toml=policy, buckets=3)
        rest = settle_files.settle_export(spark, str(export), str(tmp_path / "b"), buckets=3)
        try:
            settle_files.settle_export(spark, str(lone), str(tmp_path / "c"), policy_toml=policy, buckets=3)
            raise AssertionError("a claim of an unknown person was settled or dropped")
        except ValueError as e:
            assert "not in the persons" in str(e) and ids[0] in str(e), e
        assert not (tmp_path / "c" / "settlements").exists()
        assert not (tmp_path / "c" / "_temporary").exists()
        # Spark reads what the tasks wrote, as the later jobs do.
        assert spark.read.parquet(str(tmp_path / "a" / "settlements")).count() == claims.num_rows
        schema = jobs._arrow(jobs.SETTLEMENTS)
    finally:
        spark.stop()
    want, want_acc, _ = eng.Settler.from_toml(policy).settle(claims)
    assert whole["settled"] == claims.num_rows and not whole["without_policy"]
    assert eng.settlements_csv(_read(tmp_path / "a", "settlements")) == eng.settlements_csv(want)
    key = lambda r: (r["person_id"], r["year"], r["tier"])  # noqa: E731
    got_acc = _read(tmp_path / "a", "accumulators").to_pylist()
    assert sorted(got_acc, key=key) == sorted(pa.table(want_acc).to_pylist(), key=key)
    # From the store's policies, its accumulators and settled claims: what one
    # engine call over everything gives.
    s, a, _, _ = eng.Settler(policies).settle_persons(cl, persons, pa.table(acc1), settled)
    by_claim = lambda t: t.sort_by("claim_id").to_pylist()  # noqa: E731
    got = _read(tmp_path / "b", "settlements")
    assert rest["settled"] == claims.num_rows - 2 == got.num_rows
    assert by_claim(got) == by_claim(jobs.conform(pa.table(s), schema))
    assert {r["policy_id"] for r in got.to_pylist()} == {7}
    assert sorted(_read(tmp_path / "b", "accumulators").to_pylist(), key=key) == sorted(
        pa.table(a).to_pylist(), key=key)


if __name__ == "__main__":
    test_settlement_job_equals_one_engine_call()
    print("ok")

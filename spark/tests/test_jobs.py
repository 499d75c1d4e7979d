"""The jobs on a local Spark: the settlement job (shuffled by person, several
engine calls) gives what one engine call gives, and the bundling of a village's
inputs hands each call whole tables. Takes about half a minute (Spark's start)."""

from __future__ import annotations

import sys
from pathlib import Path

import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import safetynet_engines as eng  # noqa: E402
from test_engines import CASES, claims_of  # noqa: E402

from safetynet_spark import jobs, session  # noqa: E402


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


if __name__ == "__main__":
    test_settlement_job_equals_one_engine_call()
    print("ok")

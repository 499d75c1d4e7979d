"""The extension module against the engines' own cases (no Spark).

Run: `python -m pytest spark/tests` (or `python spark/tests/test_engines.py`)."""

from __future__ import annotations

import random
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

import safetynet_engines as eng

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "crates" / "settle" / "tests" / "cases"


def read_strings(path: Path) -> pa.Table:
    names = pcsv.read_csv(path, read_options=pcsv.ReadOptions(skip_rows_after_names=10**9)).column_names
    return pcsv.read_csv(
        path,
        convert_options=pcsv.ConvertOptions(column_types={n: pa.string() for n in names}, strings_can_be_null=True),
    )


def fen(t: pa.Table, col: str) -> pa.Array:
    return pa.table(eng.yuan_to_fen(t.select([col]), col)).column("fen")


def claims_of(case: Path) -> pa.Table:
    c = read_strings(case / "claims.csv")
    p = read_strings(case / "persons.csv")
    status = dict(zip(p.column("person_id").to_pylist(), p.column("status").to_pylist()))
    enrolled = (
        dict(zip(p.column("person_id").to_pylist(), p.column("enrolled").to_pylist()))
        if "enrolled" in p.column_names else {}
    )
    date = lambda col: pc.strptime(c.column(col), format="%Y-%m-%d", unit="s").cast(pa.date32())  # noqa: E731
    return pa.table({
        "claim_id": c.column("claim_id"),
        "person_id": c.column("person_id"),
        "facility_level": c.column("facility_level"),
        "kind": c.column("kind"),
        "discharged": date("discharged"),
        "total_cost": fen(c, "total_cost"),
        "eligible_cost": fen(c, "eligible_cost"),
        "status": pa.array([status[x] for x in c.column("person_id").to_pylist()]),
        "enrolled": pa.array([enrolled.get(x) for x in c.column("person_id").to_pylist()], pa.string()),
        **({"referred": c.column("referred")} if "referred" in c.column_names else {}),
    })


def cases():
    return sorted(d for d in CASES.iterdir() if (d / "expected.csv").exists())


def test_every_settlement_case_to_the_fen():
    assert cases(), "no settlement cases found"
    for case in cases():
        settler = eng.Settler.from_toml((case / "policy.toml").read_text())
        s, _, w = settler.settle(claims_of(case))
        assert w.num_rows == 0
        got = eng.settlements_csv(s).decode()
        assert got == (case / "expected.csv").read_text(), case.name


def test_row_order_does_not_matter_and_accumulators_carry_over():
    case = CASES / "01_worked_example"
    settler = eng.Settler.from_toml((case / "policy.toml").read_text())
    claims = claims_of(case)
    whole, acc, _ = settler.settle(claims)
    rows = list(range(claims.num_rows))
    random.Random(7).shuffle(rows)
    shuffled, _, _ = settler.settle(claims.take(rows))
    assert eng.settlements_csv(shuffled) == eng.settlements_csv(whole)
    # The year in two batches: the second continues from the first's accumulators.
    order = pc.sort_indices(claims, [("discharged", "ascending"), ("claim_id", "ascending")])
    first, second = claims.take(order[:2]), claims.take(order[2:])
    s1, a1, _ = settler.settle(first)
    s2, a2, _ = settler.settle(second, pa.table(a1))
    both = pa.concat_tables([pa.table(s1), pa.table(s2)])
    assert eng.settlements_csv(both) == eng.settlements_csv(whole)
    end = {(r["person_id"], r["tier"]): r for r in pa.table(acc).to_pylist()}
    for r in pa.table(a2).to_pylist():
        assert end[(r["person_id"], r["tier"])] == r


def test_store_policies_in_force_by_village_and_year():
    case = CASES / "01_worked_example"
    src = (case / "policy.toml").read_text()
    policies = pa.table({
        "id": pa.array([7, 8], pa.int64()), "region": ["", "99"], "year": pa.array([2024, 2024], pa.int64()),
        "version": pa.array([1, 1], pa.int64()), "source": [src, src],
    })
    claims = claims_of(case)
    first = claims.column("person_id")[0].as_py()
    villages = ["610102001001" if x == first else "340102001001" for x in claims.column("person_id").to_pylist()]
    s, _, w = eng.Settler(policies).settle(claims.append_column("region_code", pa.array(villages)))
    assert set(pa.table(s).column("policy_id").to_pylist()) == {7}
    assert pa.table(w).num_rows == 0
    # A policy of another year covers nothing: every claim left without one.
    other = policies.set_column(2, "year", pa.array([2023, 2023], pa.int64()))
    s, _, w = eng.Settler(other).settle(claims.append_column("region_code", pa.array(villages)))
    assert pa.table(s).num_rows == 0 and sum(pa.table(w).column("claims").to_pylist()) == claims.num_rows


def persons_of(claims: pa.Table) -> pa.Table:
    """The distinct persons of `claims` with their status and enrolment."""
    seen = {}
    for r in claims.select(["person_id", "status", "enrolled"]).to_pylist():
        seen.setdefault(r["person_id"], r)
    return pa.Table.from_pylist(list(seen.values()))


def test_persons_from_their_own_table_settle_the_same_and_orphans_come_back():
    for case in cases():
        settler = eng.Settler.from_toml((case / "policy.toml").read_text())
        claims = claims_of(case)
        want, want_acc, _ = settler.settle(claims)
        persons = persons_of(claims)
        # The persons in another order, one more without claims.
        extra = pa.Table.from_pylist(
            [{"person_id": "340102198001010018", "status": "ordinary", "enrolled": None}], schema=persons.schema
        )
        persons = pa.concat_tables([persons.take(list(reversed(range(persons.num_rows)))), extra])
        s, a, w, o = settler.settle_persons(claims.drop(["status", "enrolled"]), persons)
        assert eng.settlements_csv(s) == eng.settlements_csv(want), case.name
        assert pa.table(a).to_pylist() == pa.table(want_acc).to_pylist(), case.name
        assert pa.table(o).num_rows == 0
    # A claim whose person is missing is not settled: it comes back, named.
    case = CASES / "01_worked_example"
    settler = eng.Settler.from_toml((case / "policy.toml").read_text())
    claims = claims_of(case)
    first = claims.column("person_id")[0].as_py()
    persons = persons_of(claims)
    lone = persons.filter(pc.not_equal(persons.column("person_id"), first))
    s, _, _, o = settler.settle_persons(claims.drop(["status"]), lone)
    o = pa.table(o)
    mine = pc.equal(claims.column("person_id"), first)
    assert o.num_rows == pc.sum(mine).as_py() > 0
    assert set(o.column("person_id").to_pylist()) == {first}
    assert pa.table(s).num_rows == claims.num_rows - o.num_rows
    # Claims settled already are skipped: the rest continue from their accumulators.
    persons = persons_of(claims)
    order = pc.sort_indices(claims, [("discharged", "ascending"), ("claim_id", "ascending")])
    first_two, rest = claims.take(order[:2]), claims.take(order[2:])
    _, acc1, _ = settler.settle(first_two)
    done = first_two.select(["claim_id"]).append_column("facility_id", pa.nulls(2, pa.string()))
    s2, _, _, _ = settler.settle_persons(claims.drop(["status"]), persons, pa.table(acc1), done)
    assert eng.settlements_csv(s2) == eng.settlements_csv(settler.settle(rest, pa.table(acc1))[0])
    assert pa.table(s2).num_rows == rest.num_rows
    # A person listed twice is refused.
    try:
        settler.settle_persons(claims, pa.concat_tables([persons, persons.slice(0, 1)]))
    except eng.InputError as e:
        assert f"persons: row {persons.num_rows + 1}: column person_id" in str(e), e
    else:
        raise AssertionError("a person listed twice was accepted")
    # A claim key used twice is refused, the later row named with the first;
    # a repeat of a claim settled already is skipped with it.
    again = pa.concat_tables([claims, claims.slice(1, 1)])
    try:
        settler.settle_persons(again.drop(["status"]), persons)
    except eng.InputError as e:
        assert f"claims: row {claims.num_rows + 1}: column claim_id" in str(e) and "first on row 2" in str(e), e
    else:
        raise AssertionError("a claim used twice was accepted")
    twice_done = pa.concat_tables([claims, first_two.slice(0, 1)])
    s3, _, _, _ = settler.settle_persons(twice_done.drop(["status"]), persons, pa.table(acc1), done)
    assert pa.table(s3).num_rows == rest.num_rows


def test_persons_village_chooses_the_policy():
    case = CASES / "01_worked_example"
    src = (case / "policy.toml").read_text()
    policies = pa.table({
        "id": pa.array([7, 8], pa.int64()), "region": ["34", "61"], "year": pa.array([2024, 2024], pa.int64()),
        "version": pa.array([1, 1], pa.int64()), "source": [src, src],
    })
    claims = claims_of(case)
    persons = persons_of(claims)
    first = persons.column("person_id")[0].as_py()
    villages = ["610102001001" if x == first else "340102001001" for x in persons.column("person_id").to_pylist()]
    s, _, w, _ = eng.Settler(policies).settle_persons(
        claims.drop(["status"]), persons.append_column("region_code", pa.array(villages))
    )
    s = pa.table(s)
    by_person = dict(zip(s.column("person_id").to_pylist(), s.column("policy_id").to_pylist()))
    assert by_person[first] == 8 and set(v for k, v in by_person.items() if k != first) == {7}
    village_of = dict(zip(persons.column("person_id").to_pylist(), villages))
    assert all(village_of[p] == v for p, v in zip(s.column("person_id").to_pylist(), s.column("region_code").to_pylist()))
    assert pa.table(w).num_rows == 0
    # Without a village anywhere, the store's policies cannot choose.
    try:
        eng.Settler(policies).settle_persons(claims.drop(["status"]), persons)
    except eng.InputError as e:
        assert "region_code" in str(e), e
    else:
        raise AssertionError("claims without a village were settled under the store's policies")


def test_bad_input_names_table_row_and_column():
    case = CASES / "01_worked_example"
    settler = eng.Settler.from_toml((case / "policy.toml").read_text())
    claims = claims_of(case)
    ids = claims.column("person_id").to_pylist()
    ids[1] = "340102198001010010"  # wrong check digit
    bad = claims.set_column(1, "person_id", pa.array(ids))
    try:
        settler.settle(bad)
    except eng.InputError as e:
        assert "claims: row 2: column person_id" in str(e), e
    else:
        raise AssertionError("a bad resident ID was accepted")
    try:
        settler.settle(claims.drop(["status"]))
    except eng.InputError as e:
        assert "claims: no column \"status\"" in str(e), e
    else:
        raise AssertionError("a missing column was accepted")


def test_monitoring_example_of_the_docs():
    """docs/monitoring.md, "Example" (crates/cli/tests/monitor_cli.rs)."""
    def pid(area: str, n: int) -> str:
        body = f"{area}19800101{n:03d}"
        w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
        return body + "10X98765432"[sum(int(a) * b for a, b in zip(body, w)) % 11]

    p = [pid("341122", i) for i in range(1, 7)]
    households = pa.table({
        "household_id": ["H1", "H2", "H3", "H4"],
        "village_code": ["341122100201", "341122100202", "351122100201", "341122100201"],
        "size": pa.array([2, 4, 1, 3], pa.int64()),
        "income": pa.array([2_000_000, 6_000_000, 500_000, 3_000_000], pa.int64()),
        "consumption": pa.array([1_500_000, None, None, None], pa.int64()),
    })
    persons = pa.table({
        "person_id": p[:5], "household_id": ["H1", "H1", "H2", "H3", "H4"],
        "status": ["lifted", "general", "general", "general", "low_income"],
    })
    settlements = pa.table({
        "person_id": [p[0], p[1], p[0], p[2], p[3]],
        "year": pa.array([2024, 2024, 2023, 2024, 2024], pa.int64()),
        "out_of_pocket": pa.array([500_000, 340_001, 99_999, 1_680_000, 60_000], pa.int64()),
    })
    d = lambda s: pa.scalar(__import__("datetime").date.fromisoformat(s), pa.date32())  # noqa: E731
    claims = pa.table({
        "claim_id": ["K1", "K3", "K2"], "person_id": [p[4]] * 3,
        "facility_level": ["county"] * 3, "kind": ["inpatient"] * 3,
        "admitted": pa.array([d("2024-01-05"), d("2024-03-01"), d("2024-03-01")]),
        "discharged": pa.array([d("2024-01-10"), d("2024-03-05"), d("2024-03-05")]),
        "total_cost": pa.array([100, 100, 100], pa.int64()), "eligible_cost": pa.array([100, 100, 100], pa.int64()),
        "diagnosis": ["I10", "C34.1", "C16.9"],
    })
    thresholds = pa.table({
        "region": ["34", "341122"], "year": pa.array([2024, 2024], pa.int64()),
        "rural_income": pa.array([1_957_500, 1_680_000], pa.int64()),
        "monitoring_line": pa.array([700_000, 700_000], pa.int64()),
    })
    alerts, missing = eng.Monitor(2024, thresholds).alerts(households, persons, claims, settlements)
    assert pa.table(missing).column("household_id").to_pylist() == ["H3"]
    assert eng.alerts_csv(alerts).decode() == (
        "rule,household_id,village_code,year,value,threshold\n"
        "catastrophic_10,H1,341122100201,2024,8400.01,1500.00\n"
        "catastrophic_10,H2,341122100202,2024,16800.00,6000.00\n"
        "catastrophic_10,H3,351122100201,2024,600.00,500.00\n"
        "catastrophic_25,H1,341122100201,2024,8400.01,3750.00\n"
        "catastrophic_25,H2,341122100202,2024,16800.00,15000.00\n"
        "impoverishing,H1,341122100201,2024,5800.00,7000.00\n"
        "medical_burden_poor,H1,341122100201,2024,8400.01,8400.00\n"
        "serious_diagnosis,H4,341122100201,2024,C16.9,\n"
    )


if __name__ == "__main__":
    for name, f in list(globals().items()):
        if name.startswith("test_") and callable(f):
            f()
            print("ok", name)


FIXED_BUCKETS = [2, 7, 7, 1, 7, 3, 7, 5]


def test_person_buckets_are_fixed_and_spread():
    ids = [f"3401020010{i:08d}" for i in range(80_000)]
    got = pa.table(eng.person_buckets(pa.table({"person_id": ids}), "person_id", 8)).column("bucket").to_pylist()
    # Fixed across processes and releases: the map tasks of the settlement job
    # (settle_files) send a person's rows from different files to one bucket.
    assert got[:8] == FIXED_BUCKETS, got[:8]
    counts = [got.count(k) for k in range(8)]
    assert all(9_500 <= c <= 10_500 for c in counts), counts
    # The rows grouped by bucket, each bucket's in order.
    rows, counts = eng.bucket_rows(pa.table({"person_id": ids}), "person_id", 8)
    assert counts == [got.count(k) for k in range(8)]
    assert rows.column(0).to_pylist() == [i for k in range(8) for i, b in enumerate(got) if b == k]
    try:
        eng.person_buckets(pa.table({"person_id": ids[:1]}), "person_id", 0)
        raise AssertionError("0 buckets accepted")
    except eng.InputError:
        pass

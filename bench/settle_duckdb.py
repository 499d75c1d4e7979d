#!/usr/bin/env python3
"""The settlement of bench/settle_policy.toml written as SQL window functions in
DuckDB (an embedded analytical database), as an analyst would write it: CSV in,
CSV out. The baseline of bench/settle.sh.

usage: settle_duckdb.py PERSONS CLAIMS OUT [--runs N] [--check SAFETYNET_OUT]

Times N runs (default 1) of read + settle + write and prints the best wall time as
`duckdb_seconds=S`. With --check, compares OUT with SafetyNet's output claim by
claim (every money column, to the fen) and prints the column totals of both.

Money is integer fen; every product of a rate and an amount is rounded half up
with integer arithmetic (rates in ten-thousandths), as docs/settlement.md says.
Running sums are per person and policy year (the year of `discharged`), ordered by
(discharged, claim_id). Needs `pip install duckdb`.
"""
import argparse
import os
import time

import duckdb

LEVELS = ["village", "township", "county", "municipal", "provincial", "out_of_province"]
YUAN = 100  # fen
BP = 10_000  # rates in ten-thousandths


def by_level(col, values):
    """A CASE over the facility level giving an integer per level."""
    arms = " ".join("WHEN '%s' THEN %d" % (lvl, v) for lvl, v in zip(LEVELS, values))
    return "(CASE %s %s END)" % (col, arms)


def rnd(expr):
    """round half up of expr / 10000 for expr >= 0 (integer arithmetic)."""
    return "((%s + 5000) // 10000)" % expr


def capped(raw, cap):
    """Payment under an annual cap: the running sum of raw capped, minus the same before this claim."""
    return "(least(sum(%s) OVER w, %s) - least(sum(%s) OVER w - %s, %s))" % (raw, cap, raw, raw, cap)


def bands_f(s, d, rates):
    """F(S) of the spec in fen x 1e-4: bands up to 50,000 and 100,000 yuan above D, then the rest."""
    a, b = 50_000 * YUAN, 100_000 * YUAN
    return "(%d * least(greatest(%s - %s, 0), %d) + %d * least(greatest(%s - %s - %d, 0), %d) + %d * greatest(%s - %s - %d, 0))" % (
        rates[0], s, d, a, rates[1], s, d, a, b - a, rates[2], s, d, b)


def settle_sql(persons, claims, out):
    huge = 1 << 60
    ded_gen = by_level("lvl", [v * YUAN for v in [100, 200, 500, 800, 1200, 1500]])
    rate_gen = by_level("lvl", [9000, 9000, 8000, 7000, 6000, 5000])
    ded_poor = by_level("lvl", [v * YUAN for v in [50, 100, 250, 400, 600, 750]])
    rate_poor = by_level("lvl", [9500, 9500, 8500, 7500, 6500, 5500])
    general = "status = 'general'"
    d2 = "(CASE WHEN %s THEN %d ELSE %d END)" % (general, 15_000 * YUAN, 7_500 * YUAN)
    s1, s0 = "sum(e1) OVER w", "(sum(e1) OVER w - e1)"
    f_gen = lambda s: rnd(bands_f(s, d2, [6000, 7000, 8000]))
    f_poor = lambda s: rnd(bands_f(s, d2, [6500, 7500, 8500]))
    cap2 = "(CASE WHEN %s THEN %d ELSE %d END)" % (general, 400_000 * YUAN, huge)
    d3 = "(CASE WHEN status IN ('lifted', 'monitored') THEN %d ELSE 0 END)" % (1_000 * YUAN)
    r3 = "(CASE status WHEN 'special_hardship' THEN 10000 WHEN 'low_income' THEN 7000 " \
         "WHEN 'lifted' THEN 6000 WHEN 'monitored' THEN 6000 ELSE 0 END)"
    cap3 = "(CASE status WHEN 'special_hardship' THEN %d WHEN 'low_income' THEN %d ELSE %d END)" % (
        50_000 * YUAN, 30_000 * YUAN, 20_000 * YUAN)
    oop_cap = 3_000 * YUAN
    w = "WINDOW w AS (PARTITION BY person_id, yr ORDER BY discharged, claim_id ROWS UNBOUNDED PRECEDING)"
    yuan = lambda c: "printf('%%d.%%02d', %s // 100, %s %% 100) AS %s" % (c, c, c.split('.')[-1])
    return f"""
COPY (
WITH c AS (
  SELECT c.claim_id, c.person_id, year(c.discharged) AS yr, c.discharged, c.facility_level AS lvl, c.kind,
         CAST(c.total_cost * 100 AS BIGINT) AS total_cost, CAST(c.eligible_cost * 100 AS BIGINT) AS eligible_cost,
         p.status
  FROM read_csv('{claims}', header = true,
                columns = {{'claim_id': 'VARCHAR', 'person_id': 'VARCHAR', 'facility_level': 'VARCHAR',
                            'kind': 'VARCHAR', 'admitted': 'DATE', 'discharged': 'DATE',
                            'total_cost': 'DECIMAL(18,2)', 'eligible_cost': 'DECIMAL(18,2)',
                            'diagnosis': 'VARCHAR', 'facility_id': 'VARCHAR'}}) c
  JOIN read_csv('{persons}', header = true,
                columns = {{'person_id': 'VARCHAR', 'status': 'VARCHAR'}}) p USING (person_id)
),
-- basic: per-level claim deductible and rate, variants by status and kind, one annual cap
t1 AS (
  SELECT *, CASE
      WHEN kind = 'inpatient' AND {general} THEN {rnd(f"greatest(eligible_cost - {ded_gen}, 0) * {rate_gen}")}
      WHEN kind = 'inpatient' THEN {rnd(f"greatest(eligible_cost - {ded_poor}, 0) * {rate_poor}")}
      WHEN kind = 'chronic_outpatient' THEN {rnd("eligible_cost * 6000")}
      ELSE 0 END AS raw1
  FROM c
),
p1 AS (SELECT *, {capped("raw1", 300_000 * YUAN)} AS basic FROM t1 {w}),
-- critical: marginal bands over the year's cumulative base above the annual deductible
p2 AS (
  SELECT *, CASE WHEN {general}
      THEN least({f_gen(s1)}, {cap2}) - least({f_gen(s0)}, {cap2})
      ELSE least({f_poor(s1)}, {cap2}) - least({f_poor(s0)}, {cap2}) END AS critical
  FROM (SELECT *, eligible_cost - basic AS e1 FROM p1) {w}
),
-- assistance: annual deductible on the cumulative base, rate by status, annual cap
t3 AS (
  SELECT *, {rnd(f"(greatest(sum(e2) OVER w - {d3}, 0) - greatest(sum(e2) OVER w - e2 - {d3}, 0)) * {r3}")} AS raw3
  FROM (SELECT *, e1 - critical AS e2 FROM p2) {w}
),
p3 AS (SELECT *, {capped("raw3", cap3)} AS assistance FROM t3 {w}),
-- safety net: the poor's yearly unpaid eligible cost on inpatient claims stays at or under the cap
t4 AS (
  SELECT *, CASE WHEN NOT {general} AND kind = 'inpatient' THEN e2 - assistance ELSE 0 END AS b4
  FROM p3
),
p4 AS (
  SELECT *, b4 - (least(sum(b4) OVER w, {oop_cap}) - least(sum(b4) OVER w - b4, {oop_cap})) AS safety_net
  FROM t4 {w}
)
SELECT claim_id, person_id, yr AS year, {yuan("total_cost")}, {yuan("eligible_cost")}, {yuan("basic")},
       {yuan("critical")}, {yuan("assistance")}, {yuan("safety_net")},
       printf('%d.%02d', (total_cost - basic - critical - assistance - safety_net) // 100,
              (total_cost - basic - critical - assistance - safety_net) % 100) AS out_of_pocket
FROM p4
) TO '{out}' (HEADER, DELIMITER ',')
"""


def check(con, ours, theirs):
    cols = ["total_cost", "eligible_cost", "basic", "critical", "assistance", "safety_net", "out_of_pocket"]
    load = lambda f: "read_csv('%s', header = true, all_varchar = true)" % f
    conv = lambda t, c: "CAST(CAST(%s.%s AS DECIMAL(18,2)) * 100 AS BIGINT)" % (t, c)
    con.execute(f"CREATE TEMP TABLE a AS SELECT * FROM {load(ours)}")
    con.execute(f"CREATE TEMP TABLE b AS SELECT * FROM {load(theirs)}")
    n_a, n_b = con.execute("SELECT (SELECT count(*) FROM a), (SELECT count(*) FROM b)").fetchone()
    diff = " OR ".join("%s <> %s" % (conv("a", c), conv("b", c)) for c in cols)
    differ, joined = con.execute(
        f"SELECT count(*) FILTER (WHERE {diff} OR a.year <> b.year), count(*) FROM a JOIN b USING (claim_id)").fetchone()
    print("check: duckdb %d rows, safetynet %d rows, %d joined by claim_id, %d differ in any column" % (
        n_a, n_b, joined, differ))
    for name, t in (("duckdb   ", "a"), ("safetynet", "b")):
        sums = con.execute("SELECT %s FROM %s" % (", ".join("sum(%s)" % conv(t, c) for c in cols), t)).fetchone()
        print("totals %s (yuan): " % name + ", ".join("%s %d.%02d" % (c, s // 100, s % 100) for c, s in zip(cols, sums)))
    if differ:
        print(con.execute(
            f"SELECT a.*, b.* FROM a JOIN b USING (claim_id) WHERE {diff} LIMIT 5").fetchall())
    return differ == 0 and n_a == n_b == joined


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("persons")
    ap.add_argument("claims")
    ap.add_argument("out")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--check")
    a = ap.parse_args()
    sql = settle_sql(os.path.abspath(a.persons), os.path.abspath(a.claims), os.path.abspath(a.out))
    best = None
    for _ in range(a.runs):
        con = duckdb.connect()
        t = time.perf_counter()
        con.execute(sql)
        s = time.perf_counter() - t
        con.close()
        best = s if best is None else min(best, s)
    print("duckdb %s threads=%s duckdb_seconds=%.2f" % (
        duckdb.__version__, duckdb.connect().execute("SELECT current_setting('threads')").fetchone()[0], best))
    if a.check:
        ok = check(duckdb.connect(), a.out, a.check)
        print("check: " + ("SAME to the fen" if ok else "DIFFERENT"))
        raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()

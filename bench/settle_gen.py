#!/usr/bin/env python3
"""Writes a synthetic persons file and claims file for the settlement benchmark.

usage: settle_gen.py DIR [CLAIMS [PERSONS [SEED]]]   (defaults: 5,000,000 and 1,000,000)

Persons get valid GB 11643 resident IDs and a status mix like a poor county's;
claims spread over 2024 (a few in 2025) with costs from a long-tailed distribution,
so caps, bands and deductibles all come into play. Rows are written in random
order: the settlement must not depend on it.
"""
import datetime
import os
import random
import sys

WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECK = "10X98765432"


def resident_id(i):
    birth = datetime.date(1940, 1, 1) + datetime.timedelta(days=i // 900)
    seq = i % 900 + 1
    body = "340102%s%03d" % (birth.strftime("%Y%m%d"), seq)
    s = sum(int(c) * w for c, w in zip(body, WEIGHTS))
    return body + CHECK[s % 11]


def main():
    out = sys.argv[1]
    n_claims = int(sys.argv[2]) if len(sys.argv) > 2 else 5_000_000
    n_persons = int(sys.argv[3]) if len(sys.argv) > 3 else 1_000_000
    rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 7)
    os.makedirs(out, exist_ok=True)
    statuses = ["general"] * 80 + ["lifted"] * 10 + ["monitored"] * 4 + ["low_income"] * 4 + ["special_hardship"] * 2
    ids = [resident_id(i) for i in range(n_persons)]
    with open(os.path.join(out, "persons.csv"), "w", newline="") as f:
        f.write("person_id,status\n")
        for pid in ids:
            f.write("%s,%s\n" % (pid, rng.choice(statuses)))
    levels = ["village"] * 2 + ["township"] * 4 + ["county"] * 6 + ["municipal"] * 3 + ["provincial"] * 2 + ["out_of_province"]
    kinds = ["inpatient"] * 6 + ["outpatient"] * 2 + ["chronic_outpatient"] * 2
    start = datetime.date(2024, 1, 1).toordinal()
    days = [datetime.date.fromordinal(start + d).isoformat() for d in range(400)]
    # Claim numbers scrambled by a bijection of [0, 1e9) (unique, not in file order),
    # and dates random, so the file is not in settlement order.
    with open(os.path.join(out, "claims.csv"), "w", newline="") as f:
        f.write("claim_id,person_id,facility_level,kind,admitted,discharged,total_cost,eligible_cost,diagnosis,facility_id\n")
        buf = []
        for k in range(n_claims):
            pid = ids[rng.randrange(n_persons)]
            d = min(int(rng.expovariate(1 / 180)), 399)
            stay = rng.randrange(0, 15)
            adm = days[max(0, d - stay)]
            total = int(rng.lognormvariate(8.5, 1.3) * 100)
            total = min(total, 200_000_000)
            eligible = total * rng.randrange(60, 101) // 100
            buf.append("C%09d,%s,%s,%s,%s,%s,%d.%02d,%d.%02d,I10,F%04d\n" % (
                (k * 987_654_321 + 12_345) % 1_000_000_000, pid, rng.choice(levels), rng.choice(kinds), adm, days[d],
                total // 100, total % 100, eligible // 100, eligible % 100, rng.randrange(10000)))
            if len(buf) >= 100_000:
                f.write("".join(buf))
                buf.clear()
        f.write("".join(buf))


if __name__ == "__main__":
    main()

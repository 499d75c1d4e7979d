#!/usr/bin/env python3
"""Generates input files for `safetynet monitor` at a stated size.

usage: monitor_gen.py OUT_DIR [HOUSEHOLDS] [SETTLEMENTS] [SEED]

Writes households.csv, persons.csv (3 people a household on average),
claims.csv and settlements.csv (one claim per settlement, 95% in the year
monitored), thresholds.toml. Resident IDs carry valid GB 11643 check digits.
Deterministic for a seed.
"""
import os
import random
import sys
from datetime import date, timedelta

WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECK = "10X98765432"
YEAR = 2024


def resident_id(n):
    """The n-th resident ID of a county: birth dates over 60 years, 1000 sequence numbers a day."""
    birth = date(1950, 1, 1) + timedelta(days=n // 1000)
    body = "341122" + birth.strftime("%Y%m%d") + "%03d" % (n % 1000)
    s = sum(int(c) * w for c, w in zip(body, WEIGHTS))
    return body + CHECK[s % 11]


def main():
    out = sys.argv[1]
    households = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    settlements = int(sys.argv[3]) if len(sys.argv) > 3 else 5 * households
    rnd = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 7)
    os.makedirs(out, exist_ok=True)
    statuses = ["general"] * 8 + ["lifted", "monitored", "low_income", "special_hardship"]
    diagnoses = ["J18.9", "I10", "E11.9", "K35.8", "S72.0", "N18.5", "I63.9", "C16.9", "C34.1", "M17.1", "O80", "J44.1"]
    levels = ["village", "township", "county", "county", "municipal", "provincial"]
    persons = []
    with open(os.path.join(out, "households.csv"), "w") as h, open(os.path.join(out, "persons.csv"), "w") as p:
        h.write("household_id,village_code,size,income,consumption,food\n")
        p.write("person_id,household_id,name,status,status_since\n")
        pid = 0
        for i in range(households):
            hid = "H%07d" % i
            size = rnd.choice([1, 2, 2, 3, 3, 3, 4, 4, 5, 6])
            if rnd.random() < 0.001:
                village = "351122%03d%03d" % (101 + i % 30, 201 + i % 20)  # no threshold
            else:
                village = "341122%03d%03d" % (101 + i % 30, 201 + (i // 30) % 30)
            income = rnd.randint(6000, 30000) * size
            cons = "%d.%02d" % (income * rnd.randint(60, 95) // 100, rnd.randint(0, 99)) if rnd.random() < 0.5 else ""
            h.write("%s,%s,%d,%d,%s,\n" % (hid, village, size, income, cons))
            status = rnd.choice(statuses)
            for k in range(size):
                rid = resident_id(pid)
                pid += 1
                persons.append(rid)
                p.write("%s,%s,P%d,%s,2020-01-01\n" % (rid, hid, k, status if k == 0 else rnd.choice(statuses)))
    with open(os.path.join(out, "claims.csv"), "w") as c, open(os.path.join(out, "settlements.csv"), "w") as s:
        c.write("claim_id,person_id,facility_level,kind,admitted,discharged,total_cost,eligible_cost,diagnosis\n")
        s.write("claim_id,person_id,year,total_cost,eligible_cost,basic,critical,assistance,safety_net,out_of_pocket\n")
        for i in range(settlements):
            rid = persons[rnd.randrange(len(persons))]
            year = YEAR if rnd.random() < 0.95 else YEAR - 1
            admitted = date(year, 1, 1) + timedelta(days=rnd.randrange(360))
            discharged = admitted + timedelta(days=rnd.randrange(5))
            total = int(rnd.lognormvariate(7.0, 1.2) * 100)
            eligible = total * rnd.randint(70, 100) // 100
            oop = total - eligible + (eligible * rnd.randint(5, 40)) // 100
            basic = total - oop
            cid = "C%08d" % i
            dx = rnd.choice(diagnoses)
            c.write("%s,%s,%s,inpatient,%s,%s,%d.%02d,%d.%02d,%s\n" % (
                cid, rid, rnd.choice(levels), admitted, discharged,
                total // 100, total % 100, eligible // 100, eligible % 100, dx))
            s.write("%s,%s,%d,%d.%02d,%d.%02d,%d.%02d,0.00,0.00,0.00,%d.%02d\n" % (
                cid, rid, discharged.year, total // 100, total % 100, eligible // 100, eligible % 100,
                basic // 100, basic % 100, oop // 100, oop % 100))
    with open(os.path.join(out, "thresholds.toml"), "w") as t:
        t.write('[[threshold]]\nregion = "34"\nyear = %d\nrural_income = 19575\nmonitoring_line = 7000\n\n' % YEAR)
        t.write('[[threshold]]\nregion = "341122"\nyear = %d\nrural_income = 16800\nmonitoring_line = 7000\n' % YEAR)


if __name__ == "__main__":
    main()

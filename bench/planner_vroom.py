#!/usr/bin/env python3
"""Issue 17: the tour planner against VROOM on the same generated instances.

Reads an instance exported by `tours_bench export CASE FILE.json` (sites, then
villages, one travel matrix in minutes, the settings and our plan's figures)
and hands it to VROOM (pyvroom) as a vehicle routing problem:

- one vehicle per doctor's tour (doctors x tours_per_doctor a facility), leaving
  from and returning to its facility, with a time window of one half-day
  (travel and service both count, as in ours);
- one job per village that is not dispatched, with the service time and a
  priority of population scaled to 1..100 (VROOM's priorities are whole numbers
  up to 100: it first maximises the sum of priorities, then minimises travel);
- durations: the same matrix in whole seconds.

VROOM's routes are then measured as ours are: covered population, and the
monthly travel (each tour's exact minutes from the matrix, times the visits a
month); a route that overruns the half-day once measured exactly is counted.

    python3 bench/planner_vroom.py FILE.json [exploration_level] [threads]
"""
import json
import sys
import time

import vroom


def main():
    path = sys.argv[1]
    exploration = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    with open(path) as f:
        inst = json.load(f)
    s = inst["settings"]
    sites, villages, minutes = inst["sites"], inst["villages"], inst["minutes"]
    n_sites = len(sites)
    seconds = [[int(round(x * 60)) for x in row] for row in minutes]
    halfday = int(s["halfday_minutes"] * 60)
    service = int(round(s["service_minutes"] * 60))
    pmax = max(v["population"] for v in villages)

    problem = vroom.Input()
    problem.set_durations_matrix(profile="car", matrix_input=seconds)
    vehicle_site = {}
    vid = 0
    for si, site in enumerate(sites):
        for _ in range(site["doctors"] * s["tours_per_doctor"]):
            vid += 1
            vehicle_site[vid] = si
            problem.add_vehicle(vroom.Vehicle(vid, start=si, end=si, time_window=vroom.TimeWindow(0, halfday)))
    jobs = 0
    for i, v in enumerate(villages):
        if v["eligible"]:
            jobs += 1
            priority = max(1, round(100 * v["population"] / pmax))
            problem.add_job(vroom.Job(i + 1, location=n_sites + i, default_service=service, priority=priority))

    t0 = time.perf_counter()
    sol = problem.solve(exploration_level=exploration, nb_threads=threads)
    elapsed = time.perf_counter() - t0

    covered, travel, tours, toured, over = 0, 0.0, 0, 0, 0
    for vehicle, grp in sol.routes.groupby("vehicle_id"):
        seq = [int(r.location_index) for r in grp.itertuples() if str(r.type) == "job"]
        if not seq:
            continue
        tours += 1
        toured += len(seq)
        site = vehicle_site[int(vehicle)]
        stops = [site] + seq + [site]
        t = sum(minutes[a][b] for a, b in zip(stops, stops[1:]))
        if t + len(seq) * s["service_minutes"] > s["halfday_minutes"] + 1e-6:
            over += 1
        travel += t * s["visits_per_month"]
        covered += sum(villages[x - n_sites]["population"] for x in seq)

    ours = inst["ours"]
    out = {
        "case": inst["case"],
        "villages": len(villages),
        "jobs": jobs,
        "vehicles": vid,
        "ours": ours,
        "vroom": {
            "tours": tours,
            "toured": toured,
            "covered": covered,
            "travel": round(travel, 1),
            "seconds": round(elapsed, 3),
            "overrun_routes": over,
            "exploration_level": exploration,
            "threads": threads,
        },
        "covered_ratio_ours_to_vroom": round(ours["covered"] / covered, 4) if covered else None,
        "travel_ratio_ours_to_vroom": round(ours["travel"] / travel, 4) if travel else None,
        "vroom_within_our_bound": covered <= ours["population_bound"],
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()

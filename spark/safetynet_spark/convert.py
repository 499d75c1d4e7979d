"""TEMPORARY: the synthetic county's CSV files as the Parquet export, for
bench/distributed.sh until `safetynet export --year Y --parquet DIR` is there.

It follows the exchange contract (datasets, columns, types, hive partitions by
province, manifest) for what `safetynet synth` writes: households, persons,
claims of the year, facilities, thresholds and the one policy (region "" = the
nation, version 1); the store-only datasets (accumulators, settled, contracts,
alert_dates, cases, indicator_marks) are written empty. Amounts become fen by the
domain's own parser (`safetynet_engines.yuan_to_fen`). Remove once the export
exists."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

import safetynet_engines as eng


def _read(path: Path) -> pa.Table:
    names = pcsv.read_csv(path, read_options=pcsv.ReadOptions(skip_rows_after_names=10**9)).column_names
    types = {n: pa.string() for n in names}
    return pcsv.read_csv(
        path,
        convert_options=pcsv.ConvertOptions(column_types=types, strings_can_be_null=True, quoted_strings_can_be_null=False),
    )


def _fen(t: pa.Table, col: str) -> pa.Array:
    return pa.table(eng.yuan_to_fen(t.select([col]), col)).column("fen").combine_chunks()


def _date(t: pa.Table, col: str) -> pa.Array:
    return pc.strptime(t.column(col), format="%Y-%m-%d", unit="s").cast(pa.date32())


def _write(root: Path, name: str, t: pa.Table, partitioned: bool = True) -> None:
    if not partitioned:
        (root / name).mkdir(parents=True, exist_ok=True)
        pq.write_table(t, root / name / "part-00000.parquet", compression="snappy")
        return
    provinces = sorted(set(t.column("province").to_pylist())) or ["00"]
    for p in provinces:
        part = t.filter(pc.equal(t.column("province"), p)) if t.num_rows else t
        d = root / name / f"province={p}"
        d.mkdir(parents=True, exist_ok=True)
        pq.write_table(part, d / "part-00000.parquet", compression="snappy")


def convert(synth: str, out: str, year: int) -> dict:
    src, root = Path(synth), Path(out)
    root.mkdir(parents=True, exist_ok=False)
    rows = {}

    h = _read(src / "households.csv")
    village = h.column("village_code")
    households = pa.table({
        "household_id": h.column("household_id"),
        "village_code": village,
        "size": pc.cast(h.column("size"), pa.int64()),
        "income": _fen(h, "income"),
        "consumption": _fen(h, "consumption") if "consumption" in h.column_names else pa.nulls(h.num_rows, pa.int64()),
        "food": _fen(h, "food") if "food" in h.column_names else pa.nulls(h.num_rows, pa.int64()),
        "province": pc.utf8_slice_codeunits(village, 0, 2),
        "region_code": village,
    })
    village_of = dict(zip(h.column("household_id").to_pylist(), village.to_pylist()))

    p = _read(src / "persons.csv")
    pv = pa.array([village_of[x] for x in p.column("household_id").to_pylist()], pa.string())
    diagnoses = p.column("diagnoses") if "diagnoses" in p.column_names else pa.nulls(p.num_rows, pa.string())
    persons = pa.table({
        "person_id": p.column("person_id"),
        "household_id": p.column("household_id"),
        "name": p.column("name"),
        "status": p.column("status"),
        "status_since": _date(p, "status_since"),
        "diagnoses": diagnoses,
        "province": pc.utf8_slice_codeunits(pv, 0, 2),
        "region_code": pv,
    })
    person_village = dict(zip(p.column("person_id").to_pylist(), pv.to_pylist()))

    c = _read(src / "claims.csv")
    discharged = _date(c, "discharged")
    c = c.filter(pc.equal(pc.year(discharged), year))
    discharged = _date(c, "discharged")
    cv = pa.array([person_village.get(x) for x in c.column("person_id").to_pylist()], pa.string())
    claims = pa.table({
        "claim_id": c.column("claim_id"),
        "person_id": c.column("person_id"),
        "facility_level": c.column("facility_level"),
        "kind": c.column("kind"),
        "admitted": _date(c, "admitted"),
        "discharged": discharged,
        "total_cost": _fen(c, "total_cost"),
        "eligible_cost": _fen(c, "eligible_cost"),
        "diagnosis": c.column("diagnosis") if "diagnosis" in c.column_names else pa.nulls(c.num_rows, pa.string()),
        "facility_id": c.column("facility_id") if "facility_id" in c.column_names else pa.nulls(c.num_rows, pa.string()),
        "year": pa.array([year] * c.num_rows, pa.int64()),
        "province": pc.utf8_slice_codeunits(cv, 0, 2),
        "region_code": cv,
    })

    for name, t in [("households", households), ("persons", persons), ("claims", claims)]:
        _write(root, name, t)
        rows[name] = t.num_rows
    empty = {
        "accumulators": "person_id string, year int64, tier string, base int64, oop int64, paid int64",
        "contracts": "person_id string, practitioner_id string, signed date32",
        "alert_dates": "household_id string, rule string, year int64, raised_on date32, assisted_on date32",
        "cases": "household_id string, due date32, verified_on date32",
    }
    for name, cols in empty.items():
        fields = [pa.field(n, {"string": pa.string(), "int64": pa.int64(), "date32": pa.date32()}[t])
                  for n, t in (x.split() for x in cols.split(", "))]
        fields += [pa.field("province", pa.string()), pa.field("region_code", pa.string())]
        _write(root, name, pa.Table.from_pylist([], pa.schema(fields)))
        rows[name] = 0
    settled_schema = pa.schema([
        ("claim_id", pa.string()), ("person_id", pa.string()), ("year", pa.int64()), ("total_cost", pa.int64()),
        ("eligible_cost", pa.int64()), ("out_of_pocket", pa.int64()),
        ("payments", pa.list_(pa.struct([("tier", pa.string()), ("amount", pa.int64())]))),
        ("policy_id", pa.int64()), ("policy_version", pa.int64()), ("status", pa.string()),
        ("province", pa.string()), ("region_code", pa.string()),
    ])
    _write(root, "settled", pa.Table.from_pylist([], settled_schema))
    rows["settled"] = 0

    f = _read(src / "facilities.csv")
    facilities = pa.table({n: f.column(n) for n in ["facility_id", "name", "kind", "region_code"]})
    _write(root, "facilities", facilities, partitioned=False)
    rows["facilities"] = facilities.num_rows
    t = _read(src / "thresholds.csv")
    thresholds = pa.table({
        "region": t.column("region"),
        "year": pc.cast(t.column("year"), pa.int64()),
        "rural_income": _fen(t, "rural_income"),
        "monitoring_line": _fen(t, "monitoring_line"),
    })
    _write(root, "thresholds", thresholds, partitioned=False)
    rows["thresholds"] = thresholds.num_rows
    source = (src / "policy.toml").read_text()
    policies = pa.table({
        "id": pa.array([1], pa.int64()), "region": pa.array([""]), "year": pa.array([year], pa.int64()),
        "version": pa.array([1], pa.int64()), "name": pa.array(["synth"]), "source": pa.array([source]),
    })
    _write(root, "policies", policies, partitioned=False)
    rows["policies"] = 1
    marks = pa.Table.from_pylist([], pa.schema([("kind", pa.string()), ("id", pa.string()), ("version", pa.int64())]))
    _write(root, "indicator_marks", marks, partitioned=False)
    rows["indicator_marks"] = 0
    manifest = {
        "format": "safetynet-parquet",
        "format_version": 1,
        "schema_version": 0,
        "year": year,
        "region": "",
        "exported_at": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "provinces": sorted(set(households.column("province").to_pylist())),
        "rows": rows,
        "converted_from_csv": True,
    }
    (root / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return manifest

"""The jobs: settlement, warnings, indicators and the policy what-if.

Python moves data only. Each job shuffles its inputs so that what one engine call
needs lies together (a person's claims; a village's households, members, claims
and settlements; a county's households and both scenarios), hands those groups to
`safetynet_engines` as Arrow tables, and gets Arrow back."""

from __future__ import annotations

import uuid
from typing import Callable, Dict, Iterator, List, Optional

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import to_arrow_schema
from pyspark.sql.types import StructType, _parse_datatype_string

from . import session

# Result schemas (the Parquet contract's, plus what the jobs keep for themselves).
PAYMENTS = "array<struct<tier:string,amount:bigint>>"
SETTLEMENTS = (
    "claim_id string, facility_id string, person_id string, year bigint, total_cost bigint, eligible_cost bigint, "
    f"out_of_pocket bigint, payments {PAYMENTS}, policy_id bigint, policy_version bigint, status string, "
    "discharged date, region_code string"
)
ACCUMULATORS = "person_id string, year bigint, tier string, base bigint, oop bigint, paid bigint"
WITHOUT_POLICY = "village_code string, year bigint, claims bigint"
ALERTS = (
    "rule string, household_id string, village_code string, year bigint, value bigint, value_text string, "
    "threshold bigint, threshold_text string"
)
VILLAGE_FACTS = "year bigint, village_code string, facts binary"
PERSON_FACTS = "year bigint, person_id string, village_code string, facts binary, unsettled bigint"
EXPANDED = "region_code string, level string, month bigint, measure bigint, slice bigint, value bigint"
REPORT_LINES = "level string, region_code string, period bigint, line string"
WHATIF_LINES = "county string, seq bigint, line string"

_engines: Dict[tuple, object] = {}  # per Python worker: engines built once per job


def _engine(key: tuple, build: Callable[[], object]):
    e = _engines.get(key)
    if e is None:
        e = _engines[key] = build()
    return e


def _struct(ddl: str) -> StructType:
    return _parse_datatype_string(ddl)


def _arrow(ddl: str) -> pa.Schema:
    return to_arrow_schema(_struct(ddl))


def conform(t, schema: pa.Schema, **constants) -> pa.Table:
    """`t`'s columns in the order and Arrow types Spark expects (`schema`, made
    on the driver by `_arrow`); absent columns null, `constants` filled in."""
    t = pa.table(t) if not isinstance(t, pa.Table) else t
    cols = []
    for f in schema:
        if f.name in constants:
            cols.append(pa.array([constants[f.name]] * t.num_rows, f.type))
        elif f.name in t.column_names:
            cols.append(t.column(f.name).cast(f.type))
        else:
            cols.append(pa.nulls(t.num_rows, f.type))
    return pa.Table.from_arrays(cols, schema=schema)


def tagged(parts: Dict[str, pa.Table], schema: pa.Schema) -> pa.Table:
    """Several results of one call in one table, told apart by `_kind`."""
    return pa.concat_tables([conform(t, schema, _kind=k) for k, t in parts.items()])


def split(df: DataFrame, kind: str, ddl: str) -> DataFrame:
    return df.where(F.col("_kind") == kind).select(*[f.name for f in _struct(ddl).fields])


def bundle(key: str, frames: Dict[str, DataFrame]) -> DataFrame:
    """One row per `key` holding, for each frame, its rows of that key as a list
    of structs: several inputs shuffled to the same place for one engine call."""
    out: Optional[DataFrame] = None
    for name, df in frames.items():
        agg = df.groupBy(key).agg(F.collect_list(F.struct(*df.columns)).alias(name))
        out = agg if out is None else out.join(agg, on=key, how="full_outer")
    return out


def unbundle(batch: pa.RecordBatch, names: List[str]) -> Dict[str, pa.Table]:
    """The frames of a batch of bundles, each as one table (all keys together)."""
    out = {}
    for n in names:
        flat = batch.column(n).flatten()
        out[n] = pa.Table.from_batches([pa.RecordBatch.from_struct_array(flat)])
    return out


def _empty(spark: SparkSession, ddl: str) -> DataFrame:
    return spark.createDataFrame([], _struct(ddl))


def _small(df: Optional[DataFrame]) -> Optional[pa.Table]:
    """A small dataset (policies, thresholds, facilities) collected once on the
    driver and handed to every task."""
    if df is None:
        return None
    return df.toArrow()


# --------------------------------------------------------------------------- settlement

SETTLE_OUT = "_kind string, " + SETTLEMENTS + ", tier string, base bigint, oop bigint, paid bigint, village_code string, claims bigint"
# Rows a Python worker of the settlement job gets per Arrow batch: a
# partition's claims, persons and accumulators are read whole before the engine
# call, so large batches only save per-batch costs.
SETTLE_BATCH = 1 << 16
CLAIM_COLUMNS = [
    "claim_id", "facility_id", "person_id", "facility_level", "kind", "discharged", "total_cost", "eligible_cost",
]


def settle(
    spark: SparkSession,
    claims: DataFrame,
    persons: DataFrame,
    *,
    policies: Optional[DataFrame] = None,
    policy_toml: Optional[str] = None,
    accumulators: Optional[DataFrame] = None,
    settled: Optional[DataFrame] = None,
    buckets: int = 16,
) -> Dict[str, DataFrame]:
    """Settles the claims not yet `settled`: the claims, the persons, their
    stored `accumulators` and the claims `settled` already shuffled together
    once, by a hash of `person_id` into `buckets` partitions, each partition one
    engine call (`Settler.settle_persons`), which skips the settled claims, puts
    each person's claims in
    `(discharged, claim_id, facility_id)` order (a claim is keyed by its ID and
    facility) and settles them from the person's accumulators, under
    `policy_toml` (one policy for every claim) or the export's `policies` (the
    one in force per village and year). Returns `settlements`, `accumulators` and
    `without_policy` (claims whose village has no policy, by village), computed
    and kept (persisted) before it returns. A claim of a person not among
    `persons` is refused, as the binary refuses it: a ValueError, nothing
    settled."""
    if "facility_id" not in claims.columns:
        claims = claims.withColumn("facility_id", F.lit(None).cast("string"))
    # The person's status, enrolment for the year where the export gives it
    # (absent: enrolled, as the binary's files) and village travel once per
    # person, not with every claim; the claims keep their village only where the
    # persons have none (the export's claims carry their person's village).
    person_cols = ["person_id", "status"] + [c for c in ("enrolled", "region_code") if c in persons.columns]
    claim_cols = CLAIM_COLUMNS + (["region_code"] if "region_code" not in persons.columns else [])
    acc_cols = [f.name for f in _struct(ACCUMULATORS).fields]
    # One dataset of the inputs, `_side` telling them apart (0 claim, 1 person,
    # 2 accumulator, 3 settled claim): one shuffle puts a person's rows together.
    def sided(df: DataFrame, k: int) -> DataFrame:
        return df.withColumn("_side", F.lit(k).cast("byte"))

    rows = sided(claims.select(*claim_cols), 0).unionByName(sided(persons.select(*person_cols), 1), allowMissingColumns=True)
    if accumulators is not None:
        rows = rows.unionByName(sided(accumulators.select(*acc_cols), 2), allowMissingColumns=True)
    # The claims settled already go to their person's partition too (3), where
    # the engine call skips them, by the whole key (a null facility is none).
    if settled is not None:
        done = settled.select("claim_id", "facility_id", "person_id")
        rows = rows.unionByName(sided(done, 3), allowMissingColumns=True)
    rows = rows.repartition(buckets, "person_id")
    source = ("toml", policy_toml) if policy_toml is not None else ("table", _small(policies))
    key = ("settler", uuid.uuid4().hex)
    tracker = session.tracker()
    schema = _arrow(SETTLE_OUT)
    claim_set, person_set = list(claim_cols), list(person_cols)
    has_acc, has_done = accumulators is not None, settled is not None

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import pyarrow.compute as pc

        import safetynet_engines as eng

        got = [b for b in batches if b.num_rows]
        if not got:
            return
        t = pa.Table.from_batches(got)
        session.mark(tracker)
        settler = _engine(
            key, lambda: eng.Settler.from_toml(source[1]) if source[0] == "toml" else eng.Settler(source[1])
        )
        which = t.column("_side")
        part = lambda k, cols: t.filter(pc.equal(which, k)).select(cols)  # noqa: E731
        acc_t = part(2, acc_cols) if has_acc else None
        done_t = part(3, ["claim_id", "facility_id"]) if has_done else None
        s, a, w, o = settler.settle_persons(
            part(0, claim_set),
            part(1, person_set),
            acc_t if acc_t is not None and acc_t.num_rows else None,
            done_t if done_t is not None and done_t.num_rows else None,
        )
        yield from tagged({"s": pa.table(s), "a": pa.table(a), "w": pa.table(w), "o": pa.table(o)}, schema).to_batches()

    with session.arrow_batches(SETTLE_BATCH):
        out = rows.mapInArrow(run, SETTLE_OUT).persist()
        # Computes and keeps every result, and counts the claims refused.
        first = (
            out.where(F.col("_kind") == "o")
            .agg(F.count(F.lit(1)).alias("n"), F.min(F.struct("claim_id", "person_id")).alias("first"))
            .collect()[0]
        )
    if first["n"]:
        out.unpersist()
        raise ValueError(
            f"{first['n']} claim(s) name a person who is not in the persons "
            f"(first: claim {first['first']['claim_id']}, person {first['first']['person_id']}); nothing was settled"
        )
    return {
        "settlements": split(out, "s", SETTLEMENTS),
        "accumulators": split(out, "a", ACCUMULATORS),
        "without_policy": split(out, "w", WITHOUT_POLICY),
        "_all": out,
    }


# --------------------------------------------------------------------------- warnings

def warnings(
    spark: SparkSession,
    year: int,
    households: DataFrame,
    persons: DataFrame,
    claims: DataFrame,
    settlements: DataFrame,
    thresholds: DataFrame,
    rules_toml: Optional[str] = None,
) -> DataFrame:
    """The alerts of `year`: a village's households, members, claims and settled
    out-of-pocket costs bundled together (`region_code`, the household's village),
    measured and judged by `Monitor.alerts`. `settlements`: every settled claim of
    the year (`person_id, year, out_of_pocket, region_code`)."""
    frames = {
        "households": households.select(
            "household_id", "village_code", "size", "income", "consumption", "food",
            F.col("village_code").alias("region_code"),
        ),
        "persons": persons.select("person_id", "household_id", "status", "region_code"),
        "claims": claims.select(
            "claim_id", "person_id", "facility_level", "kind", "admitted", "discharged", "total_cost",
            "eligible_cost", "diagnosis", "facility_id", "region_code",
        ),
        "settlements": settlements.select("person_id", "year", "out_of_pocket", "region_code"),
    }
    names = list(frames)
    bundled = bundle("region_code", frames)
    th = _small(thresholds)
    key = ("monitor", uuid.uuid4().hex)
    tracker = session.tracker()
    schema = _arrow(ALERTS)

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import safetynet_engines as eng

        session.mark(tracker)
        monitor = _engine(key, lambda: eng.Monitor(year, th, rules_toml))
        for b in batches:
            t = unbundle(b, names)
            alerts, _missing = monitor.alerts(t["households"], t["persons"], t["claims"], t["settlements"])
            yield from conform(pa.table(alerts), schema).to_batches()

    return bundled.mapInArrow(run, ALERTS)


# --------------------------------------------------------------------------- indicators

def indicator_facts(
    spark: SparkSession,
    year: int,
    households: DataFrame,
    persons: DataFrame,
    claims: DataFrame,
    settlements: DataFrame,
    alert_dates: Optional[DataFrame] = None,
    cases: Optional[DataFrame] = None,
    contracts: Optional[DataFrame] = None,
    facilities: Optional[DataFrame] = None,
) -> Dict[str, DataFrame]:
    """The kept facts of `year`, as the store keeps them: `village_facts`
    (registry, alerts, cases, households' spending; by village) and
    `person_facts` (claims; by person),
    each village's inputs bundled for one `Facts` call."""
    hh = households.select(
        "household_id", "village_code", "size", "income", "consumption", "food",
        F.col("village_code").alias("region_code"),
    )
    ps = persons.select("person_id", "household_id", "name", "status", "status_since", "diagnoses", "region_code")
    village_frames = {"households": hh, "persons": ps}
    if alert_dates is not None:
        village_frames["alert_dates"] = alert_dates.select(
            "household_id", "year", "raised_on", "assisted_on", "region_code"
        )
    if cases is not None:
        village_frames["cases"] = cases.select("household_id", "due", "verified_on", "close_due", "closed_on", "region_code")
    if contracts is not None:
        village_frames["contracts"] = contracts.select("person_id", "region_code")
    # The households' spending measures (SDG 3.8.2) add up their members' claims.
    village_frames["claims"] = claims.select("claim_id", "person_id", "discharged", "facility_id", "region_code")
    village_frames["settlements"] = settlements.select("claim_id", "facility_id", "out_of_pocket", "region_code")
    person_frames = {
        "households": hh,
        "persons": ps,
        "claims": claims.select(
            "claim_id", "person_id", "facility_level", "kind", "admitted", "discharged", "total_cost",
            "eligible_cost", "diagnosis", "facility_id", "region_code",
        ),
        "settlements": settlements.select("claim_id", "facility_id", "out_of_pocket", "payments", "region_code"),
    }
    fac = _small(facilities.select("facility_id", "region_code")) if facilities is not None else None
    key = ("facts", uuid.uuid4().hex)
    tracker = session.tracker()
    vschema, pschema = _arrow(VILLAGE_FACTS), _arrow(PERSON_FACTS)
    vnames, pnames = list(village_frames), list(person_frames)

    def villages(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import safetynet_engines as eng

        session.mark(tracker)
        facts = _engine(key, lambda: eng.Facts(year, fac))
        for b in batches:
            t = unbundle(b, vnames)
            out = facts.village_facts(
                t["households"], t["persons"], t.get("alert_dates"), t.get("cases"), t.get("contracts"),
                t.get("claims"), t.get("settlements"),
            )
            yield from conform(pa.table(out), vschema).to_batches()

    def persons_(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import safetynet_engines as eng

        session.mark(tracker)
        facts = _engine(key, lambda: eng.Facts(year, fac))
        for b in batches:
            t = unbundle(b, pnames)
            out = facts.person_facts(t["households"], t["persons"], t["claims"], t["settlements"])
            yield from conform(pa.table(out), pschema).to_batches()

    return {
        "village_facts": bundle("region_code", village_frames).mapInArrow(villages, VILLAGE_FACTS),
        "person_facts": bundle("region_code", person_frames).mapInArrow(persons_, PERSON_FACTS),
    }


def rollup(village_facts: DataFrame, person_facts: DataFrame) -> DataFrame:
    """Every fact summed by region (village and every level above), month,
    measure and slice: `region_code, level, month, measure, slice, value`."""
    tracker = session.tracker()
    schema = _arrow(EXPANDED)

    def expand(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import safetynet_engines as eng

        session.mark(tracker)
        for b in batches:
            yield from conform(pa.table(eng.expand_facts(b)), schema).to_batches()

    both = village_facts.select("village_code", "facts").unionByName(person_facts.select("village_code", "facts"))
    expanded = both.mapInArrow(expand, EXPANDED)
    keys = ["region_code", "level", "month", "measure", "slice"]
    return expanded.groupBy(*keys).agg(F.sum("value").alias("value")).where(F.col("value") != 0)


def report(
    spark: SparkSession,
    year: int,
    sums: DataFrame,
    levels: List[str],
    period: str = "year",
    indicators_toml: Optional[str] = None,
    buckets: int = 16,
) -> bytes:
    """The report CSV of `safetynet report --level L --period P` from the rolled-up
    sums: each level's regions drawn by `report_lines` on the workers, the lines
    ordered as the report orders them (level as asked, region code, period)."""
    import safetynet_engines as eng

    tracker = session.tracker()
    schema = _arrow(REPORT_LINES)

    def lines(t: pa.Table) -> pa.Table:
        import safetynet_engines as eng

        session.mark(tracker)
        level = t.column("level")[0].as_py()
        out = pa.table(eng.report_lines(year, level, period, t, indicators_toml))
        return conform(out, schema, level=level)

    rows = (
        sums.where(F.col("level").isin(levels))
        .withColumn("_bucket", F.pmod(F.xxhash64("region_code"), F.lit(buckets)))
        .groupBy("level", "_bucket")
        .applyInArrow(lines, REPORT_LINES)
        .toArrow()
        .to_pylist()
    )
    rank = {lv: i for i, lv in enumerate(levels)}
    rows.sort(key=lambda r: (rank[r["level"]], r["region_code"], r["period"]))
    header = eng.report_header(indicators_toml)
    return (header + "".join(r["line"] + "\n" for r in rows)).encode()


# --------------------------------------------------------------------------- what-if

def whatif(
    spark: SparkSession,
    households: DataFrame,
    persons: DataFrame,
    in_force: DataFrame,
    draft: DataFrame,
    alerts_in_force: DataFrame,
    alerts_draft: DataFrame,
    whole_area: bool = True,
) -> bytes:
    """The what-if CSV of `safetynet whatif`: both settlements of the year (all
    its claims from zero accumulators) and both alert sets bundled by county
    (the first six digits of the village), compared by `whatif_lines`; the
    whole area's rows (`all`) from one more call over everything when
    `whole_area` (a province; nationally, leave them out)."""
    rules = sorted(
        {r["rule"] for r in alerts_in_force.select("rule").unionByName(alerts_draft.select("rule")).distinct().collect()}
    )
    county = F.substring("region_code", 1, 6)
    hh = households.select("household_id", "village_code", F.col("village_code").alias("region_code"))
    frames = {
        "households": hh,
        "persons": persons.select("person_id", "household_id", "region_code"),
        "settled_in_force": in_force.select("person_id", "out_of_pocket", "payments", "region_code"),
        "settled_draft": draft.select("person_id", "out_of_pocket", "payments", "region_code"),
        "alerts_in_force": alerts_in_force.select("rule", "household_id", F.col("village_code").alias("region_code")),
        "alerts_draft": alerts_draft.select("rule", "household_id", F.col("village_code").alias("region_code")),
    }
    names = list(frames)
    tracker = session.tracker()
    schema = _arrow(WHATIF_LINES)

    def run(keep_all: bool):
        def f(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            import safetynet_engines as eng

            session.mark(tracker)
            for b in batches:
                t = unbundle(b, names)
                out = pa.table(eng.whatif_lines(*(t[n] for n in names), rules))
                mask = [(c == "all") == keep_all for c in out.column("county").to_pylist()]
                yield from conform(out.filter(pa.array(mask)), schema).to_batches()

        return f

    keyed = {n: df.withColumn("_county", county) for n, df in frames.items()}
    rows = bundle("_county", keyed).mapInArrow(run(False), WHATIF_LINES).toArrow().to_pylist()
    rows.sort(key=lambda r: (r["county"], r["seq"]))
    if whole_area:
        everything = {n: df.withColumn("_all", F.lit(0)) for n, df in frames.items()}
        total = bundle("_all", everything).mapInArrow(run(True), WHATIF_LINES).toArrow().to_pylist()
        rows += sorted(total, key=lambda r: r["seq"])
    header = "county,county_name,item,in_force,draft,difference\n"
    return (header + "".join(r["line"] + "\n" for r in rows)).encode()

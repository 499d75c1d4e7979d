//! The export of a year for a cluster's jobs (docs/parquet.md): everything the
//! settlement, the warnings and the indicators of a policy year read, from the
//! store, as Parquet datasets in a new directory, with a manifest. The records
//! stream from the store in pages into the files (the year's claims, the
//! registry); the smaller reads (settlements and accumulators of the year,
//! alerts, cases, contracts, the network) are read whole.
//!
//! The directory is written whole or not at all (`ingest::parquet::OutDir`).

use chrono::{DateTime, Utc};
use domain::{Claim, Facility, Household, Person, Practitioner, Region, RegionCode, Threshold};
use ingest::parquet::{Cell, Col, ColType, DatasetWriter, OutDir, ParquetError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use store::{Scope, Store, StoreError};

/// The manifest's `format`.
pub const FORMAT: &str = "safetynet-parquet";
/// The manifest's `format_version`: the version of docs/parquet.md.
pub const FORMAT_VERSION: u32 = 1;

/// `DIR/manifest.json` of an export, copied into every result directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub format_version: u32,
    /// The store's schema version ([`store::SCHEMA_VERSION`]).
    pub schema_version: i64,
    pub year: i32,
    /// The region prefix exported; `""` for the whole store.
    pub region: String,
    pub exported_at: DateTime<Utc>,
    /// The provinces with rows, two digits each.
    pub provinces: Vec<String>,
    /// Rows per dataset.
    pub rows: BTreeMap<String, u64>,
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Parquet(#[from] ParquetError),
    #[error("{0}")]
    Other(String),
}

use ColType::{Boolean, Date32, Float64, Int64, Payments, Utf8};

const PROVINCE: Col = Col::req("province", Utf8);
const REGION_CODE: Col = Col::req("region_code", Utf8);

pub const HOUSEHOLDS: &[Col] = &[
    Col::req("household_id", Utf8),
    Col::req("village_code", Utf8),
    Col::req("size", Int64),
    Col::req("income", Int64),
    Col::opt("consumption", Int64),
    Col::opt("food", Int64),
    PROVINCE,
    REGION_CODE,
];
pub const PERSONS: &[Col] = &[
    Col::req("person_id", Utf8),
    Col::req("household_id", Utf8),
    Col::req("name", Utf8),
    Col::req("status", Utf8),
    Col::req("status_since", Date32),
    Col::opt("diagnoses", Utf8),
    Col::req("enrolled", Boolean),
    PROVINCE,
    REGION_CODE,
];
pub const CLAIMS: &[Col] = &[
    Col::req("claim_id", Utf8),
    Col::req("person_id", Utf8),
    Col::req("facility_level", Utf8),
    Col::req("kind", Utf8),
    Col::req("admitted", Date32),
    Col::req("discharged", Date32),
    Col::req("total_cost", Int64),
    Col::req("eligible_cost", Int64),
    Col::opt("diagnosis", Utf8),
    Col::opt("facility_id", Utf8),
    Col::req("year", Int64),
    PROVINCE,
    REGION_CODE,
];
pub const ACCUMULATORS: &[Col] = &[
    Col::req("person_id", Utf8),
    Col::req("year", Int64),
    Col::req("tier", Utf8),
    Col::req("base", Int64),
    Col::req("oop", Int64),
    Col::req("paid", Int64),
    PROVINCE,
    REGION_CODE,
];
/// The settlement columns of `settled` (and of the results' `settlements`).
pub const SETTLEMENTS: &[Col] = &[
    Col::req("claim_id", Utf8),
    Col::opt("facility_id", Utf8),
    Col::req("person_id", Utf8),
    Col::req("year", Int64),
    Col::req("total_cost", Int64),
    Col::req("eligible_cost", Int64),
    Col::req("out_of_pocket", Int64),
    Col::req("payments", Payments),
    Col::req("policy_id", Int64),
    Col::req("policy_version", Int64),
    Col::req("status", Utf8),
];
const SETTLED: &[Col] = &[
    SETTLEMENTS[0],
    SETTLEMENTS[1],
    SETTLEMENTS[2],
    SETTLEMENTS[3],
    SETTLEMENTS[4],
    SETTLEMENTS[5],
    SETTLEMENTS[6],
    SETTLEMENTS[7],
    SETTLEMENTS[8],
    SETTLEMENTS[9],
    SETTLEMENTS[10],
    PROVINCE,
    REGION_CODE,
];
const CONTRACTS: &[Col] = &[
    Col::req("person_id", Utf8),
    Col::req("practitioner_id", Utf8),
    Col::req("signed", Date32),
    PROVINCE,
    REGION_CODE,
];
const ALERT_DATES: &[Col] = &[
    Col::req("household_id", Utf8),
    Col::req("rule", Utf8),
    Col::req("year", Int64),
    Col::req("raised_on", Date32),
    Col::opt("assisted_on", Date32),
    PROVINCE,
    REGION_CODE,
];
const CASES: &[Col] = &[
    Col::req("household_id", Utf8),
    Col::req("due", Date32),
    Col::opt("verified_on", Date32),
    Col::req("close_due", Date32),
    Col::opt("closed_on", Date32),
    PROVINCE,
    REGION_CODE,
];
const REGIONS: &[Col] = &[
    Col::req("code", Utf8),
    Col::req("name", Utf8),
    Col::req("level", Utf8),
    Col::opt("urban_rural", Int64),
    Col::opt("population", Int64),
    Col::opt("lon", Float64),
    Col::opt("lat", Float64),
];
const FACILITIES: &[Col] = &[
    Col::req("facility_id", Utf8),
    Col::req("name", Utf8),
    Col::req("kind", Utf8),
    Col::opt("grade", Utf8),
    Col::req("region_code", Utf8),
    Col::opt("lon", Float64),
    Col::opt("lat", Float64),
];
const PRACTITIONERS: &[Col] = &[
    Col::req("practitioner_id", Utf8),
    Col::req("facility_id", Utf8),
    Col::req("qualification", Utf8),
    Col::req("gp", Boolean),
    Col::req("active", Boolean),
    Col::req("birth_date", Date32),
    Col::opt("name", Utf8),
];
const THRESHOLDS: &[Col] = &[
    Col::req("region", Utf8),
    Col::req("year", Int64),
    Col::req("rural_income", Int64),
    Col::req("monitoring_line", Int64),
];
const POLICIES: &[Col] = &[
    Col::req("id", Int64),
    Col::req("region", Utf8),
    Col::req("year", Int64),
    Col::req("version", Int64),
    Col::req("name", Utf8),
    Col::req("source", Utf8),
];
pub const INDICATOR_MARKS: &[Col] = &[Col::req("kind", Utf8), Col::req("id", Utf8), Col::req("version", Int64)];

/// The province of a region code, two digits.
fn province(v: RegionCode) -> String {
    format!("{:012}", v.as_u64())[..2].to_string()
}

/// The `province` and `region_code` cells of a village.
fn place(v: RegionCode) -> [Cell; 2] {
    [Cell::str(province(v)), Cell::str(format!("{:012}", v.as_u64()))]
}

fn with_place(mut row: Vec<Cell>, v: RegionCode) -> Vec<Cell> {
    row.extend(place(v));
    row
}

/// One partitioned dataset being written, with its provinces.
struct Out<'a> {
    w: DatasetWriter,
    provinces: &'a mut BTreeSet<String>,
}

impl Out<'_> {
    fn push(&mut self, v: RegionCode, row: Vec<Cell>) -> Result<(), ParquetError> {
        let p = province(v);
        let row = with_place(row, v);
        self.w.push(&p, row)?;
        if !self.provinces.contains(&p) {
            self.provinces.insert(p);
        }
        Ok(())
    }
}

/// Writes the export of `year` for the villages inside `scope` into `dir` (a
/// new or empty directory); `progress` is told the rows written so far.
pub async fn export_year(
    store: &Store,
    dir: &Path,
    scope: &Scope,
    year: i32,
    progress: &(dyn Fn(u64) + Send + Sync),
) -> Result<Manifest, ExportError> {
    let started = std::time::Instant::now();
    let out = OutDir::create(dir)?;
    let root = out.path().to_path_buf();
    let mut rows: BTreeMap<String, u64> = BTreeMap::new();
    let mut provinces = BTreeSet::new();
    let mut done = 0u64;
    let mut tick = |n: usize| {
        done += n as u64;
        progress(done);
    };
    // The stale marks first: what the rows below were read after.
    let village_marks = store.indicator_dirty().await?;
    let person_marks = store.indicator_dirty_persons().await?;

    // Households, and their villages.
    let mut villages: HashMap<String, RegionCode> = HashMap::new();
    let mut o = Out { w: DatasetWriter::new(&root, "households", HOUSEHOLDS, true)?, provinces: &mut provinces };
    store
        .export::<Household, ParquetError>(scope, |chunk| {
            tick(chunk.len());
            for h in chunk {
                villages.insert(h.household_id.clone(), h.village_code);
                let row = vec![
                    Cell::str(&h.household_id),
                    Cell::str(format!("{:012}", h.village_code.as_u64())),
                    Cell::int(h.size as i64),
                    Cell::int(h.income.0),
                    Cell::Int(h.consumption.map(|f| f.0)),
                    Cell::Int(h.food.map(|f| f.0)),
                ];
                o.push(h.village_code, row)?;
            }
            Ok(())
        })
        .await?;
    rows.insert("households".into(), o.w.finish()?);

    // Persons, and their villages.
    let mut lives: HashMap<u64, RegionCode> = HashMap::new();
    let mut o = Out { w: DatasetWriter::new(&root, "persons", PERSONS, true)?, provinces: &mut provinces };
    let mut orphans = 0u64;
    let enrolled = store.enrolled_persons(scope, year).await?;
    store
        .export::<Person, ParquetError>(scope, |chunk| {
            tick(chunk.len());
            for p in chunk {
                let Some(&v) = villages.get(&p.household_id) else {
                    orphans += 1;
                    continue;
                };
                lives.insert(p.person_id.as_u64(), v);
                let diagnoses = p.diagnoses.join(";");
                let row = vec![
                    Cell::str(p.person_id.to_string()),
                    Cell::str(&p.household_id),
                    Cell::str(&p.name),
                    Cell::str(p.status.as_str()),
                    Cell::date(p.status_since),
                    Cell::opt_str(&diagnoses),
                    Cell::Bool(Some(enrolled.contains(&p.person_id))),
                ];
                o.push(v, row)?;
            }
            Ok(())
        })
        .await?;
    if orphans > 0 {
        return Err(ExportError::Other(format!(
            "{orphans} persons of the region have no household in it; the store changed during the export, run it again"
        )));
    }
    rows.insert("persons".into(), o.w.finish()?);

    // The year's claims, without the voided ones.
    let mut o = Out { w: DatasetWriter::new(&root, "claims", CLAIMS, true)?, provinces: &mut provinces };
    store
        .year_claims::<ParquetError>(scope, year, |chunk| {
            tick(chunk.len());
            for (c, v) in chunk {
                o.push(v, claim_row(&c, year))?;
            }
            Ok(())
        })
        .await?;
    rows.insert("claims".into(), o.w.finish()?);

    // Accumulators and settlements already kept.
    let mut o = Out { w: DatasetWriter::new(&root, "accumulators", ACCUMULATORS, true)?, provinces: &mut provinces };
    let accs = store.year_accumulators(scope, year).await?;
    tick(accs.len());
    for a in accs {
        let row = vec![
            Cell::str(a.person.to_string()),
            Cell::int(year as i64),
            Cell::str(a.tier),
            Cell::int(a.acc.base.0),
            Cell::int(a.acc.unpaid.0),
            Cell::int(a.acc.paid.0),
        ];
        o.push(a.village, row)?;
    }
    rows.insert("accumulators".into(), o.w.finish()?);
    let mut o = Out { w: DatasetWriter::new(&root, "settled", SETTLED, true)?, provinces: &mut provinces };
    let settled = store.year_settlements(scope, year).await?;
    tick(settled.len());
    for s in settled {
        let row = vec![
            Cell::str(&s.claim_id),
            Cell::opt_str(&s.facility_id),
            Cell::str(s.person.to_string()),
            Cell::int(s.year as i64),
            Cell::int(s.total_cost.0),
            Cell::int(s.eligible_cost.0),
            Cell::int(s.out_of_pocket.0),
            Cell::Payments(s.payments.iter().map(|(t, a)| (t.clone(), a.0)).collect()),
            Cell::int(s.policy_id),
            Cell::int(s.policy_version),
            Cell::str(s.status.as_str()),
        ];
        o.push(s.village, row)?;
    }
    rows.insert("settled".into(), o.w.finish()?);

    // Contracts, alerts and cases, as the indicators read them.
    let mut o = Out { w: DatasetWriter::new(&root, "contracts", CONTRACTS, true)?, provinces: &mut provinces };
    let mut contracts: Vec<_> = store.contracts(scope).await?.into_iter().collect();
    contracts.sort_by_key(|(p, _)| p.as_u64());
    tick(contracts.len());
    for (person, c) in contracts {
        let Some(&v) = lives.get(&person.as_u64()) else { continue };
        o.push(v, vec![Cell::str(person.to_string()), Cell::str(c.doctor), Cell::date(c.signed)])?;
    }
    rows.insert("contracts".into(), o.w.finish()?);
    let mut o = Out { w: DatasetWriter::new(&root, "alert_dates", ALERT_DATES, true)?, provinces: &mut provinces };
    let alerts = store.alert_dates(scope, year).await?;
    tick(alerts.len());
    for a in alerts {
        let row = vec![
            Cell::str(a.household_id),
            Cell::str(a.rule),
            Cell::int(a.year as i64),
            Cell::date(a.raised_on),
            Cell::Date(a.assisted_on),
        ];
        o.push(a.village, row)?;
    }
    rows.insert("alert_dates".into(), o.w.finish()?);
    let mut o = Out { w: DatasetWriter::new(&root, "cases", CASES, true)?, provinces: &mut provinces };
    let cases = store.case_dates(scope, year).await?;
    tick(cases.len());
    for c in cases {
        let Some(&v) = villages.get(&c.household_id) else { continue };
        let row = vec![
            Cell::str(c.household_id),
            Cell::date(c.due),
            Cell::Date(c.verified_on),
            Cell::date(c.close_due),
            Cell::Date(c.closed_on),
        ];
        o.push(v, row)?;
    }
    rows.insert("cases".into(), o.w.finish()?);

    // The small datasets.
    let mut w = DatasetWriter::new(&root, "regions", REGIONS, false)?;
    store
        .export::<Region, ParquetError>(scope, |chunk| {
            for r in chunk {
                w.push(
                    "",
                    vec![
                        Cell::str(format!("{:012}", r.code.as_u64())),
                        Cell::str(r.name),
                        Cell::str(r.level.as_str()),
                        Cell::Int(r.urban_rural.map(i64::from)),
                        Cell::Int(r.population.map(i64::from)),
                        Cell::F64(r.lon),
                        Cell::F64(r.lat),
                    ],
                )?;
            }
            Ok(())
        })
        .await?;
    rows.insert("regions".into(), w.finish()?);
    let mut w = DatasetWriter::new(&root, "facilities", FACILITIES, false)?;
    store
        .export::<Facility, ParquetError>(scope, |chunk| {
            for f in chunk {
                w.push(
                    "",
                    vec![
                        Cell::str(f.facility_id),
                        Cell::str(f.name),
                        Cell::str(f.kind.as_str()),
                        Cell::Str(f.grade.map(|g| g.0.to_string())),
                        Cell::str(format!("{:012}", f.region_code.as_u64())),
                        Cell::F64(f.lon),
                        Cell::F64(f.lat),
                    ],
                )?;
            }
            Ok(())
        })
        .await?;
    rows.insert("facilities".into(), w.finish()?);
    let mut w = DatasetWriter::new(&root, "practitioners", PRACTITIONERS, false)?;
    store
        .export::<Practitioner, ParquetError>(scope, |chunk| {
            for p in chunk {
                w.push(
                    "",
                    vec![
                        Cell::str(p.practitioner_id),
                        Cell::str(p.facility_id),
                        Cell::str(p.qualification.as_str()),
                        Cell::Bool(Some(p.gp)),
                        Cell::Bool(Some(p.active)),
                        Cell::date(p.birth_date),
                        Cell::opt_str(&p.name),
                    ],
                )?;
            }
            Ok(())
        })
        .await?;
    rows.insert("practitioners".into(), w.finish()?);
    let mut w = DatasetWriter::new(&root, "thresholds", THRESHOLDS, false)?;
    store
        .export::<Threshold, ParquetError>(scope, |chunk| {
            for t in chunk.into_iter().filter(|t| t.year == year) {
                w.push(
                    "",
                    vec![
                        Cell::str(t.region),
                        Cell::int(t.year as i64),
                        Cell::int(t.rural_income.0),
                        Cell::int(t.monitoring_line.0),
                    ],
                )?;
            }
            Ok(())
        })
        .await?;
    rows.insert("thresholds".into(), w.finish()?);
    let mut w = DatasetWriter::new(&root, "policies", POLICIES, false)?;
    for p in store.year_policy_candidates(scope, year).await? {
        w.push(
            "",
            vec![
                Cell::int(p.id),
                Cell::str(p.region),
                Cell::int(p.year as i64),
                Cell::int(p.version),
                Cell::str(p.name),
                Cell::str(p.source),
            ],
        )?;
    }
    rows.insert("policies".into(), w.finish()?);
    let mut w = DatasetWriter::new(&root, "indicator_marks", INDICATOR_MARKS, false)?;
    for (v, version) in village_marks {
        let Ok(code) = RegionCode::from_u64(v as u64) else { continue };
        if scope.contains(code) {
            w.push("", vec![Cell::str("village"), Cell::str(format!("{v:012}")), Cell::int(version)])?;
        }
    }
    for (p, version) in person_marks {
        if lives.contains_key(&(p as u64)) {
            let Ok(id) = domain::ResidentId::from_u64(p as u64) else { continue };
            w.push("", vec![Cell::str("person"), Cell::str(id.to_string()), Cell::int(version)])?;
        }
    }
    rows.insert("indicator_marks".into(), w.finish()?);

    let manifest = Manifest {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        schema_version: store::SCHEMA_VERSION,
        year,
        region: scope.prefix().to_string(),
        exported_at: Utc::now(),
        provinces: provinces.into_iter().collect(),
        rows,
    };
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| ExportError::Other(e.to_string()))?;
    let path = root.join("manifest.json");
    std::fs::write(&path, text + "\n").map_err(|error| ParquetError::Io { path, error })?;
    out.commit()?;
    tracing::info!(year, region = scope.prefix(), elapsed = ?started.elapsed(), "exported a year as Parquet");
    Ok(manifest)
}

fn claim_row(c: &Claim, year: i32) -> Vec<Cell> {
    vec![
        Cell::str(&c.claim_id),
        Cell::str(c.person_id.to_string()),
        Cell::str(c.facility_level.as_str()),
        Cell::str(c.kind.as_str()),
        Cell::date(c.admitted),
        Cell::date(c.discharged),
        Cell::int(c.total_cost.0),
        Cell::int(c.eligible_cost.0),
        Cell::opt_str(&c.diagnosis),
        Cell::opt_str(&c.facility_id),
        Cell::int(year as i64),
    ]
}

/// Reads the manifest of an export (or of a result directory, which carries a
/// copy), refusing another format or another schema version than this store's.
pub fn read_manifest(dir: &Path) -> Result<Manifest, String> {
    let path = dir.join("manifest.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let m: Manifest =
        serde_json::from_str(&text).map_err(|e| format!("{} is not an export's manifest: {e}", path.display()))?;
    if m.format != FORMAT || m.format_version != FORMAT_VERSION {
        return Err(format!(
            "{}: the format is {} version {}, not {FORMAT} version {FORMAT_VERSION}",
            path.display(),
            m.format,
            m.format_version
        ));
    }
    if m.schema_version != store::SCHEMA_VERSION {
        return Err(format!(
            "{}: the export was made from a store of schema version {}, this one is {}; export again",
            path.display(),
            m.schema_version,
            store::SCHEMA_VERSION
        ));
    }
    Ok(m)
}

//! The results of a cluster's jobs loaded back into the store (docs/parquet.md,
//! "Results"): settlements with their persons' accumulators, alerts, and the
//! kept indicator facts. Each directory carries the export's manifest (the year
//! and the region); every row is checked, the store's references included, and
//! any bad row refuses the whole directory with every bad row listed as
//! `FILE: row N: column C: reason`. Each load writes in one transaction, by the
//! store's own bulk paths (those of `settle --year`, of a monitor run, of the
//! indicators' refresh), and is recorded as an import run, refused or not.

use crate::export::{read_manifest, Manifest};
use chrono::NaiveDate;
use domain::alert::{Figure, Finding};
use domain::settlement::TierAccumulator;
use domain::{Fen, Household, Person, PovertyStatus, RegionCode, ResidentId};
use ingest::parquet::{dataset_files, read_file, Batch, CellError, ParquetError};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use store::{
    FactsWrite, ImportRunRow, ImportStatus, LoadAccumulator, LoadRow, LoadSettlement, LoadedSettlements, PersonFacts,
    Scope, Store, StoreError, YearFacts,
};

/// Why a result directory was not loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadRefused {
    /// Rows are bad, or do not fit the store: every one is listed.
    #[error("{dir}: refused, {} bad row{}; nothing was imported into {kind}", .errors.len(), if .errors.len() == 1 { "" } else { "s" })]
    Rows { dir: String, kind: &'static str, errors: Vec<CellError> },
    /// The directory cannot be read as results (no manifest, a missing dataset,
    /// a file that is not Parquet).
    #[error("cannot import {kind} from {dir}: {reason}")]
    Unreadable { dir: String, kind: &'static str, reason: String },
    /// The store failed.
    #[error("importing {kind} from {dir}: {source}")]
    Store { dir: String, kind: &'static str, source: StoreError },
}

/// What a load of alerts did.
pub type AlertsLoaded = crate::monitoring::MonitorRun;

/// What a load of indicator facts wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FactsLoaded {
    pub villages: u64,
    pub persons: u64,
    /// Stale marks cleared.
    pub cleared: u64,
    /// Whether the year now counts as built.
    pub complete: bool,
}

/// A load's context: the directory, its manifest, the rows checked.
struct Load<'a> {
    dir: String,
    kind: &'static str,
    manifest: Manifest,
    scope: Scope,
    errors: Vec<CellError>,
    rows: u64,
    root: &'a Path,
}

impl<'a> Load<'a> {
    fn open(root: &'a Path, kind: &'static str) -> Result<Load<'a>, LoadRefused> {
        let dir = root.display().to_string();
        let unreadable = |reason: String| LoadRefused::Unreadable { dir: dir.clone(), kind, reason };
        if !root.is_dir() {
            return Err(unreadable("not a directory".into()));
        }
        let manifest = read_manifest(root).map_err(unreadable)?;
        let scope = Scope::new(&manifest.region).map_err(|e| unreadable(format!("the manifest's region: {e}")))?;
        Ok(Load { dir, kind, manifest, scope, errors: Vec::new(), rows: 0, root })
    }

    fn unreadable(&self, e: impl std::fmt::Display) -> LoadRefused {
        LoadRefused::Unreadable { dir: self.dir.clone(), kind: self.kind, reason: e.to_string() }
    }

    /// Every batch of every file of a dataset; a missing column refuses the file
    /// (one error for it, its rows not read).
    fn each(
        &mut self,
        dataset: &str,
        mut row: impl FnMut(&Batch<'_>, &mut Vec<CellError>) -> Result<(), CellError>,
    ) -> Result<(), LoadRefused> {
        let files = dataset_files(self.root, dataset).map_err(|e| self.unreadable(e))?;
        for f in files {
            let name = f.display().to_string();
            let errors = &mut self.errors;
            let mut n = 0u64;
            let r = read_file(&f, |b, offset| {
                let b = Batch { file: &name, batch: b, offset };
                n += b.rows() as u64;
                if let Err(e) = row(&b, errors) {
                    errors.push(e);
                    return Err(ParquetError::Format { path: f.clone(), reason: "stop".into() });
                }
                Ok(())
            });
            self.rows += n;
            match r {
                Ok(_) => {}
                Err(ParquetError::Format { reason, .. }) if reason == "stop" => {}
                Err(e) => return Err(self.unreadable(e)),
            }
        }
        Ok(())
    }

    fn refused(&mut self) -> Option<LoadRefused> {
        (!self.errors.is_empty()).then(|| LoadRefused::Rows {
            dir: self.dir.clone(),
            kind: self.kind,
            errors: std::mem::take(&mut self.errors),
        })
    }

    fn store_failed(&self, source: StoreError) -> LoadRefused {
        LoadRefused::Store { dir: self.dir.clone(), kind: self.kind, source }
    }

    /// Records the run with its report; returns the result.
    async fn record<T>(&self, store: &Store, actor: &str, result: Result<T, LoadRefused>) -> Result<T, LoadRefused> {
        let report = match &result {
            Ok(_) => String::new(),
            Err(LoadRefused::Rows { errors, .. }) => errors.iter().map(|e| format!("{e}\n")).collect(),
            Err(e) => format!("{e}\n"),
        };
        let run = ImportRunRow {
            id: 0,
            kind: self.kind.to_string(),
            file_name: self.dir.clone(),
            rows: self.rows,
            status: if result.is_ok() { ImportStatus::Accepted } else { ImportStatus::Refused },
            errors: report,
            actor: actor.to_string(),
            at: chrono::Utc::now(),
            scope: self.manifest.region.clone(),
        };
        let recorded = store.record_import_run(&run).await;
        let value = result?;
        recorded.map_err(|e| self.store_failed(e))?;
        Ok(value)
    }
}

/// A required value, or an error naming the column.
fn need<T>(b: &Batch<'_>, i: usize, col: &str, v: Option<T>) -> Result<T, CellError> {
    v.ok_or_else(|| b.err(i, col, "is empty (null); a value is required"))
}

fn money(b: &Batch<'_>, i: usize, col: &str, v: Option<i64>) -> Result<Fen, CellError> {
    let v = need(b, i, col, v)?;
    if v < 0 {
        return Err(b.err(i, col, format!("the amount {v} fen is negative")));
    }
    Ok(Fen(v))
}

fn resident(b: &Batch<'_>, i: usize, col: &str, v: Option<&str>) -> Result<ResidentId, CellError> {
    let v = need(b, i, col, v)?;
    ResidentId::parse(v).map_err(|e| b.err(i, col, e.to_string()))
}

fn village(b: &Batch<'_>, i: usize, col: &str, v: Option<&str>) -> Result<RegionCode, CellError> {
    let v = need(b, i, col, v)?;
    RegionCode::parse(v).map_err(|e| b.err(i, col, e.to_string()))
}

fn same_year(b: &Batch<'_>, i: usize, v: Option<i64>, year: i32) -> Result<(), CellError> {
    let v = need(b, i, "year", v)?;
    if v != year as i64 {
        return Err(b.err(i, "year", format!("{v} is not the year exported ({year})")));
    }
    Ok(())
}

/// Collects a row's result: a bad row is listed and the load goes on.
fn keep<T>(errors: &mut Vec<CellError>, r: Result<T, CellError>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            errors.push(e);
            None
        }
    }
}

/// `safetynet import settlements DIR`: loads a cluster's settlements of the
/// exported year with their persons' accumulators (see `Store::load_settlements`),
/// by `actor`; the store is then as after `settle --year`.
pub async fn load_settlements(store: &Store, dir: &Path, actor: &str) -> Result<LoadedSettlements, LoadRefused> {
    let mut load = Load::open(dir, "settlements")?;
    let result = settlements_of(store, &mut load, actor).await;
    load.record(store, actor, result).await
}

async fn settlements_of(store: &Store, load: &mut Load<'_>, actor: &str) -> Result<LoadedSettlements, LoadRefused> {
    let year = load.manifest.year;
    let mut rows: Vec<LoadSettlement> = Vec::new();
    let mut at: Vec<(String, u64)> = Vec::new();
    load.each("settlements", |b, errors| {
        let ids = b.strs("claim_id")?;
        let facilities = b.strs("facility_id")?;
        let persons = b.strs("person_id")?;
        let years = b.ints("year")?;
        let (total, eligible, oop) = (b.ints("total_cost")?, b.ints("eligible_cost")?, b.ints("out_of_pocket")?);
        let pays = b.pays("payments")?;
        let (pid, pver, status) = (b.ints("policy_id")?, b.ints("policy_version")?, b.strs("status")?);
        for i in 0..b.rows() {
            let row = (|| {
                let claim_id = need(b, i, "claim_id", ids.get(i))?.to_string();
                if claim_id.is_empty() {
                    return Err(b.err(i, "claim_id", "is empty"));
                }
                let person = resident(b, i, "person_id", persons.get(i))?;
                same_year(b, i, years.get(i), year)?;
                let total_cost = money(b, i, "total_cost", total.get(i))?;
                let eligible_cost = money(b, i, "eligible_cost", eligible.get(i))?;
                let out_of_pocket = money(b, i, "out_of_pocket", oop.get(i))?;
                let entries = pays.get(i).map_err(|e| b.err(i, "payments", e))?;
                let entries = need(b, i, "payments", entries)?;
                let mut payments = Vec::with_capacity(entries.len());
                for (tier, amount) in entries {
                    if amount < 0 {
                        return Err(b.err(i, "payments", format!("the payment of {tier} is negative ({amount} fen)")));
                    }
                    payments.push((tier, Fen(amount)));
                }
                let paid: i64 = payments.iter().map(|(_, a)| a.0).sum();
                if paid + out_of_pocket.0 != total_cost.0 {
                    return Err(b.err(
                        i,
                        "out_of_pocket",
                        format!(
                            "the payments ({}) and the out-of-pocket ({out_of_pocket}) do not add up to the total cost ({total_cost})",
                            Fen(paid)
                        ),
                    ));
                }
                let status: PovertyStatus =
                    need(b, i, "status", status.get(i))?.parse().map_err(|e: domain::DomainError| b.err(i, "status", e.to_string()))?;
                Ok(LoadSettlement {
                    claim_id,
                    facility_id: facilities.get(i).unwrap_or_default().to_string(),
                    person,
                    total_cost,
                    eligible_cost,
                    out_of_pocket,
                    payments,
                    policy_id: need(b, i, "policy_id", pid.get(i))?,
                    policy_version: need(b, i, "policy_version", pver.get(i))?,
                    status,
                })
            })();
            if let Some(r) = keep(errors, row) {
                rows.push(r);
                at.push((b.file.to_string(), b.row(i)));
            }
        }
        Ok(())
    })?;
    let mut accs: Vec<LoadAccumulator> = Vec::new();
    let mut acc_at: Vec<(String, u64)> = Vec::new();
    load.each("accumulators", |b, errors| {
        let persons = b.strs("person_id")?;
        let years = b.ints("year")?;
        let tiers = b.strs("tier")?;
        let (base, oop, paid) = (b.ints("base")?, b.ints("oop")?, b.ints("paid")?);
        for i in 0..b.rows() {
            let row = (|| {
                let person = resident(b, i, "person_id", persons.get(i))?;
                same_year(b, i, years.get(i), year)?;
                let tier = need(b, i, "tier", tiers.get(i))?.to_string();
                let acc = TierAccumulator {
                    base: money(b, i, "base", base.get(i))?,
                    unpaid: money(b, i, "oop", oop.get(i))?,
                    paid: money(b, i, "paid", paid.get(i))?,
                };
                Ok(LoadAccumulator { person, tier, acc })
            })();
            if let Some(r) = keep(errors, row) {
                accs.push(r);
                acc_at.push((b.file.to_string(), b.row(i)));
            }
        }
        Ok(())
    })?;
    if let Some(refused) = load.refused() {
        return Err(refused);
    }
    let engine = crate::settlement::engine();
    let loaded = store
        .load_settlements(engine, &load.scope, year, &rows, &accs, actor)
        .await
        .map_err(|e| load.store_failed(e))?;
    match loaded {
        Ok(done) => {
            tracing::info!(
                year,
                settlements = done.settlements,
                persons = done.persons,
                "loaded a cluster's settlements"
            );
            Ok(done)
        }
        Err(problems) => {
            load.errors = problems
                .into_iter()
                .map(|p| {
                    let (file, row) = match p.row {
                        LoadRow::Settlement(i) => &at[i],
                        LoadRow::Accumulator(i) => &acc_at[i],
                    };
                    CellError { file: file.clone(), row: *row, column: p.column.to_string(), reason: p.reason }
                })
                .collect();
            Err(load.refused().expect("problems were found"))
        }
    }
}

/// The households of a scope, by id.
async fn households(store: &Store, scope: &Scope) -> Result<HashMap<String, RegionCode>, StoreError> {
    let mut out = HashMap::new();
    store
        .export::<Household, std::convert::Infallible>(scope, |chunk| {
            out.extend(chunk.into_iter().map(|h| (h.household_id, h.village_code)));
            Ok(())
        })
        .await?;
    Ok(out)
}

/// `safetynet import alerts DIR`: loads a cluster's findings of the exported
/// year as a monitor run over the store does with its own (see
/// `monitoring::after_findings`), the patient ledger as of `as_of`.
pub async fn load_alerts(
    store: &Store,
    dir: &Path,
    as_of: NaiveDate,
    actor: &str,
) -> Result<AlertsLoaded, LoadRefused> {
    let mut load = Load::open(dir, "alerts")?;
    let result = alerts_of(store, &mut load, as_of, actor).await;
    load.record(store, actor, result).await
}

async fn alerts_of(
    store: &Store,
    load: &mut Load<'_>,
    as_of: NaiveDate,
    actor: &str,
) -> Result<AlertsLoaded, LoadRefused> {
    let year = load.manifest.year;
    let scope = load.scope.clone();
    let homes = households(store, &scope).await.map_err(|e| load.store_failed(e))?;
    let mut findings: Vec<Finding> = Vec::new();
    let mut seen: HashMap<(String, String), u64> = HashMap::new();
    load.each("alerts", |b, errors| {
        let (rules, hids, villages, years) =
            (b.strs("rule")?, b.strs("household_id")?, b.strs("village_code")?, b.ints("year")?);
        let (value, value_text) = (b.ints("value")?, b.strs("value_text")?);
        let (threshold, threshold_text) = (b.ints("threshold")?, b.strs("threshold_text")?);
        for i in 0..b.rows() {
            let row = (|| {
                let rule = need(b, i, "rule", rules.get(i))?.to_string();
                if rule.is_empty() {
                    return Err(b.err(i, "rule", "is empty"));
                }
                let household_id = need(b, i, "household_id", hids.get(i))?.to_string();
                let village_code = village(b, i, "village_code", villages.get(i))?;
                same_year(b, i, years.get(i), year)?;
                match homes.get(&household_id) {
                    None => {
                        return Err(b.err(
                            i,
                            "household_id",
                            format!(
                                "the household {household_id} is not in the store inside the region {:?}",
                                scope.prefix()
                            ),
                        ))
                    }
                    Some(v) if *v != village_code => {
                        return Err(b.err(
                            i,
                            "village_code",
                            format!("the household lives in {v} in the store, not {village_code}"),
                        ))
                    }
                    Some(_) => {}
                }
                let value = match (value.get(i), value_text.get(i)) {
                    (Some(v), None) => Figure::Money(Fen(v)),
                    (None, Some(t)) => Figure::Text(t.to_string()),
                    _ => return Err(b.err(i, "value", "exactly one of value (fen) and value_text must be given")),
                };
                let threshold = match (threshold.get(i), threshold_text.get(i)) {
                    (Some(v), None) => Some(Figure::Money(Fen(v))),
                    (None, Some(t)) => Some(Figure::Text(t.to_string())),
                    (None, None) => None,
                    _ => return Err(b.err(i, "threshold", "threshold and threshold_text are both given")),
                };
                if let Some(first) = seen.insert((rule.clone(), household_id.clone()), b.row(i)) {
                    return Err(b.err(
                        i,
                        "household_id",
                        format!("the rule {rule} warns this household twice (first at row {first})"),
                    ));
                }
                Ok(Finding { rule, household_id, village_code, year, value, threshold })
            })();
            if let Some(f) = keep(errors, row) {
                findings.push(f);
            }
        }
        Ok(())
    })?;
    if let Some(refused) = load.refused() {
        return Err(refused);
    }
    // The findings in the engine's order: by rule, then household.
    findings.sort_by(|a, b| a.rule.cmp(&b.rule).then_with(|| a.household_id.cmp(&b.household_id)));
    let inputs = store.monitor_inputs(&scope, year).await.map_err(|e| load.store_failed(e))?;
    crate::monitoring::after_findings(store, &scope, year, as_of, &inputs, &findings, actor).await.map_err(
        |e| match e {
            crate::monitoring::MonitorRunError::Store(s) => load.store_failed(s),
            other => load.unreadable(other),
        },
    )
}

/// `safetynet import indicator-facts DIR`: replaces the kept indicator facts of
/// the exported year and region with a cluster's, in one transaction (see
/// docs/parquet.md for the stale marks and when the year counts as built).
pub async fn load_indicator_facts(store: &Store, dir: &Path, actor: &str) -> Result<FactsLoaded, LoadRefused> {
    let mut load = Load::open(dir, "indicator-facts")?;
    let result = facts_of(store, &mut load).await;
    load.record(store, actor, result).await
}

async fn facts_of(store: &Store, load: &mut Load<'_>) -> Result<FactsLoaded, LoadRefused> {
    let year = load.manifest.year;
    let scope = load.scope.clone();
    crate::kept::check_year(year, domain::time::china_today()).map_err(|e| load.unreadable(e))?;
    let mut regions: HashSet<RegionCode> = HashSet::new();
    let mut lives: HashMap<u64, RegionCode> = HashMap::new();
    {
        let homes = households(store, &scope).await.map_err(|e| load.store_failed(e))?;
        let r = store
            .export::<domain::Region, std::convert::Infallible>(&scope, |chunk| {
                regions.extend(chunk.into_iter().map(|r| r.code));
                Ok(())
            })
            .await;
        r.map_err(|e| load.store_failed(e))?;
        let r = store
            .export::<Person, std::convert::Infallible>(&scope, |chunk| {
                for p in chunk {
                    if let Some(v) = homes.get(&p.household_id) {
                        lives.insert(p.person_id.as_u64(), *v);
                    }
                }
                Ok(())
            })
            .await;
        r.map_err(|e| load.store_failed(e))?;
    }
    let mut rows: Vec<(i64, Vec<u8>)> = Vec::new();
    let mut seen: HashSet<RegionCode> = HashSet::new();
    load.each("village_facts", |b, errors| {
        let (years, villages, facts) = (b.ints("year")?, b.strs("village_code")?, b.bins("facts")?);
        for i in 0..b.rows() {
            let row = (|| {
                same_year(b, i, years.get(i), year)?;
                let v = village(b, i, "village_code", villages.get(i))?;
                if !scope.contains(v) || !regions.contains(&v) {
                    return Err(b.err(
                        i,
                        "village_code",
                        format!("the village {v} is not in the store inside the region {:?}", scope.prefix()),
                    ));
                }
                if !seen.insert(v) {
                    return Err(b.err(i, "village_code", format!("the village {v} comes twice")));
                }
                let bytes = need(b, i, "facts", facts.get(i))?;
                indicators::stored::decode(v, bytes).map_err(|e| b.err(i, "facts", e.to_string()))?;
                Ok((v.as_u64() as i64, bytes.to_vec()))
            })();
            if let Some(r) = keep(errors, row) {
                rows.push(r);
            }
        }
        Ok(())
    })?;
    let mut persons: Vec<PersonFacts> = Vec::new();
    let mut seen: HashSet<u64> = HashSet::new();
    load.each("person_facts", |b, errors| {
        let (years, ids, villages) = (b.ints("year")?, b.strs("person_id")?, b.strs("village_code")?);
        let (facts, unsettled) = (b.bins("facts")?, b.ints("unsettled")?);
        for i in 0..b.rows() {
            let row = (|| {
                same_year(b, i, years.get(i), year)?;
                let p = resident(b, i, "person_id", ids.get(i))?;
                let v = village(b, i, "village_code", villages.get(i))?;
                match lives.get(&p.as_u64()) {
                    None => {
                        return Err(b.err(
                            i,
                            "person_id",
                            format!(
                                "the person {} is not in the store inside the region {:?}",
                                p.masked(),
                                scope.prefix()
                            ),
                        ))
                    }
                    Some(home) if *home != v => {
                        return Err(b.err(
                            i,
                            "village_code",
                            format!("the person lives in {home} in the store, not {v}"),
                        ))
                    }
                    Some(_) => {}
                }
                if !seen.insert(p.as_u64()) {
                    return Err(b.err(i, "person_id", format!("the person {} comes twice", p.masked())));
                }
                let bytes = need(b, i, "facts", facts.get(i))?;
                indicators::stored::decode(v, bytes).map_err(|e| b.err(i, "facts", e.to_string()))?;
                let n = need(b, i, "unsettled", unsettled.get(i))?;
                if n < 0 {
                    return Err(b.err(i, "unsettled", format!("{n} is negative")));
                }
                Ok(PersonFacts {
                    person: p.as_u64() as i64,
                    village: v.as_u64() as i64,
                    facts: bytes.to_vec(),
                    unsettled: n,
                })
            })();
            if let Some(r) = keep(errors, row) {
                persons.push(r);
            }
        }
        Ok(())
    })?;
    let mut clear: Vec<(i64, i64)> = Vec::new();
    let mut clear_persons: Vec<(i64, i64)> = Vec::new();
    load.each("indicator_marks", |b, errors| {
        let (kinds, ids, versions) = (b.strs("kind")?, b.strs("id")?, b.ints("version")?);
        for i in 0..b.rows() {
            let row = (|| {
                let version = need(b, i, "version", versions.get(i))?;
                match need(b, i, "kind", kinds.get(i))? {
                    "village" => Ok((true, village(b, i, "id", ids.get(i))?.as_u64() as i64, version)),
                    "person" => Ok((false, resident(b, i, "id", ids.get(i))?.as_u64() as i64, version)),
                    other => Err(b.err(i, "kind", format!("{other:?} is neither village nor person"))),
                }
            })();
            match keep(errors, row) {
                Some((true, id, v)) => clear.push((id, v)),
                Some((false, id, v)) => clear_persons.push((id, v)),
                None => {}
            }
        }
        Ok(())
    })?;
    if let Some(refused) = load.refused() {
        return Err(refused);
    }
    store.keep_indicator_year(year).await.map_err(|e| load.store_failed(e))?;
    let years = store.indicator_years().await.map_err(|e| load.store_failed(e))?;
    // The marks are of villages and persons, for every year kept: cleared only
    // when this is the only one.
    let only = years.iter().all(|y| y.year == year);
    if !only {
        clear.clear();
        clear_persons.clear();
    }
    let complete = load.manifest.region.is_empty() || years.iter().any(|y| y.year == year && y.complete);
    let done = FactsLoaded {
        villages: rows.len() as u64,
        persons: persons.len() as u64,
        cleared: (clear.len() + clear_persons.len()) as u64,
        complete,
    };
    let write = FactsWrite {
        ranges: vec![scope.code_range()],
        years: vec![YearFacts { year, rows, claims: Some(persons) }],
        clear,
        clear_persons,
        completes: if load.manifest.region.is_empty() { vec![year] } else { Vec::new() },
    };
    store.write_indicator_facts(&write, &crate::kept::merge).await.map_err(|e| load.store_failed(e))?;
    tracing::info!(year, villages = done.villages, persons = done.persons, "loaded a cluster's indicator facts");
    Ok(done)
}

//! The patient ledger of classified treatment (the "three batches") over the
//! store: one line per person and year, as the application computes it (`monitor::patient_ledger`),
//! replaced by each monitor run of the year, with the family-doctor contract kept
//! across runs (a person records it; a run does not know it).

use crate::db::{begin_write, now, on_pool, Page, Scope, Store};
use crate::error::{corrupt, Ctx, StoreError};
use crate::settlements::region_of;
use crate::vals::placeholders;
use chrono::{DateTime, NaiveDate, Utc};
use domain::ledger::{Batch, Contract, LedgerEntry, TreatmentStatus};
use domain::{Fen, RegionCode, ResidentId};
use serde::Serialize;
use std::collections::HashMap;

/// A line of the ledger as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredLedgerEntry {
    pub year: i32,
    pub person: ResidentId,
    pub household_id: String,
    pub village: RegionCode,
    pub batch: Batch,
    /// The diagnosis code that put the person in the batch.
    pub diagnosis: String,
    /// The catalogue's name of the disease; empty for the severe batch.
    pub disease: String,
    pub status: TreatmentStatus,
    /// `None` when there is no claim of the disease in the year.
    pub treated_in_county: Option<bool>,
    pub year_cost: Fen,
    pub contract: Option<Contract>,
    pub updated_at: DateTime<Utc>,
}

/// What storing a year's ledger did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LedgerCounts {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Lines of the year in scope that the new ledger no longer has.
    pub removed: u64,
    /// Entries of households outside the scope (ignored).
    pub outside_scope: u64,
}

/// Filters of a ledger listing; the default lists everything in scope.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LedgerQuery {
    pub year: Option<i32>,
    pub batch: Option<Batch>,
    pub status: Option<TreatmentStatus>,
    pub person: Option<ResidentId>,
}

fn batch_of(s: &str, ctx: &str) -> Result<Batch, StoreError> {
    [Batch::Serious, Batch::Chronic, Batch::Severe]
        .into_iter()
        .find(|b| b.as_str() == s)
        .ok_or_else(|| corrupt(ctx, s, "not a batch"))
}

fn treatment_of(s: &str, ctx: &str) -> Result<TreatmentStatus, StoreError> {
    [TreatmentStatus::ToTreat, TreatmentStatus::InTreatment, TreatmentStatus::Treated]
        .into_iter()
        .find(|b| b.as_str() == s)
        .ok_or_else(|| corrupt(ctx, s, "not a treatment status"))
}

type LedgerTuple = (
    i64,
    i64,
    String,
    i64,
    String,
    String,
    String,
    String,
    Option<bool>,
    i64,
    String,
    Option<NaiveDate>,
    DateTime<Utc>,
);
const LEDGER_COLS: &str = "l.year, l.person_id, l.household_id, l.village_code, l.batch, l.diagnosis, l.disease, \
     l.treatment_status, l.treated_in_county, l.year_cost, l.contract_doctor, l.contract_signed, l.updated_at";

fn entry_from(t: LedgerTuple, ctx: &str) -> Result<StoredLedgerEntry, StoreError> {
    Ok(StoredLedgerEntry {
        year: t.0 as i32,
        person: crate::registry::resident_id(t.1, ctx)?,
        household_id: t.2,
        village: region_of(t.3, ctx)?,
        batch: batch_of(&t.4, ctx)?,
        diagnosis: t.5,
        disease: t.6,
        status: treatment_of(&t.7, ctx)?,
        treated_in_county: t.8,
        year_cost: Fen(t.9),
        contract: match (t.10.is_empty(), t.11) {
            (false, Some(signed)) => Some(Contract { doctor: t.10, signed }),
            _ => None,
        },
        updated_at: t.12,
    })
}

impl Store {
    /// Replaces the ledger of `year` inside the scope with `entries` (from
    /// `monitor::patient_ledger`): new lines are inserted, changed ones updated,
    /// lines no longer there removed; an entry without a contract keeps the one
    /// stored. Running it again on the same entries changes nothing.
    pub async fn put_ledger(
        &self,
        scope: &Scope,
        year: i32,
        entries: &[LedgerEntry],
    ) -> Result<LedgerCounts, StoreError> {
        let ctx = format!("storing the patient ledger of {year}");
        let (lo, hi) = scope.code_range();
        let at = now();
        let existing_sql = format!(
            "SELECT {LEDGER_COLS} FROM patient_ledger l WHERE l.year = $1 AND l.village_code BETWEEN $2 AND $3"
        );
        on_pool!(self, p => async {
            let mut tx = begin_write(p, &ctx).await?;
            let villages: Vec<(String, i64)> =
                sqlx::query_as("SELECT household_id, village_code FROM households WHERE village_code BETWEEN $1 AND $2")
                    .bind(lo)
                    .bind(hi)
                    .fetch_all(&mut *tx)
                    .await
                    .ctx(&ctx)?;
            let villages: HashMap<String, i64> = villages.into_iter().collect();
            let rows: Vec<LedgerTuple> =
                sqlx::query_as(&existing_sql).bind(year as i64).bind(lo).bind(hi).fetch_all(&mut *tx).await.ctx(&ctx)?;
            let mut old: HashMap<ResidentId, StoredLedgerEntry> = HashMap::with_capacity(rows.len());
            for t in rows {
                let e = entry_from(t, &ctx)?;
                old.insert(e.person, e);
            }
            let mut counts = LedgerCounts::default();
            let mut write: Vec<(StoredLedgerEntry, i64)> = Vec::new();
            let mut seen = std::collections::HashSet::new();
            for e in entries {
                let Some(&village) = villages.get(&e.household_id) else {
                    counts.outside_scope += 1;
                    continue;
                };
                if !seen.insert(e.person_id) {
                    return Err(StoreError::Rejected {
                        context: ctx,
                        reason: format!("person {} appears twice in the ledger", e.person_id.masked()),
                    });
                }
                let prev = old.get(&e.person_id);
                let new = StoredLedgerEntry {
                    year,
                    person: e.person_id,
                    household_id: e.household_id.clone(),
                    village: region_of(village, &ctx)?,
                    batch: e.batch,
                    diagnosis: e.diagnosis.clone(),
                    disease: e.disease.clone(),
                    status: e.status,
                    treated_in_county: e.treated_in_county,
                    year_cost: e.year_cost,
                    contract: e.contract.clone().or_else(|| prev.and_then(|p| p.contract.clone())),
                    updated_at: at,
                };
                match prev {
                    None => counts.inserted += 1,
                    Some(p) if StoredLedgerEntry { updated_at: p.updated_at, ..new.clone() } == *p => {
                        counts.unchanged += 1;
                        continue;
                    }
                    Some(_) => counts.updated += 1,
                }
                write.push((new, village));
            }
            let gone: Vec<i64> =
                old.keys().filter(|k| !seen.contains(*k)).map(|k| k.as_u64() as i64).collect();
            counts.removed = gone.len() as u64;
            for chunk in gone.chunks(10_000) {
                let sql = format!(
                    "DELETE FROM patient_ledger WHERE year = $1 AND person_id IN ({})",
                    crate::vals::list(2, chunk.len())
                );
                let mut q = sqlx::query(&sql).bind(year as i64);
                for id in chunk {
                    q = q.bind(*id);
                }
                q.execute(&mut *tx).await.ctx(&ctx)?;
            }
            const COLS: usize = 13;
            for chunk in write.chunks(self.max_binds() / COLS) {
                let sql = format!(
                    "INSERT INTO patient_ledger (year, person_id, household_id, village_code, batch, diagnosis, disease,
                     treatment_status, treated_in_county, year_cost, contract_doctor, contract_signed, updated_at)
                     VALUES {} ON CONFLICT (year, person_id) DO UPDATE SET household_id = excluded.household_id,
                     village_code = excluded.village_code, batch = excluded.batch, diagnosis = excluded.diagnosis,
                     disease = excluded.disease, treatment_status = excluded.treatment_status,
                     treated_in_county = excluded.treated_in_county, year_cost = excluded.year_cost,
                     contract_doctor = excluded.contract_doctor, contract_signed = excluded.contract_signed,
                     updated_at = excluded.updated_at",
                    placeholders(chunk.len(), COLS)
                );
                let mut q = sqlx::query(&sql);
                for (e, village) in chunk {
                    q = q
                        .bind(year as i64)
                        .bind(e.person.as_u64() as i64)
                        .bind(e.household_id.as_str())
                        .bind(*village)
                        .bind(e.batch.as_str())
                        .bind(e.diagnosis.as_str())
                        .bind(e.disease.as_str())
                        .bind(e.status.as_str())
                        .bind(e.treated_in_county)
                        .bind(e.year_cost.0)
                        .bind(e.contract.as_ref().map(|c| c.doctor.as_str()).unwrap_or(""))
                        .bind(e.contract.as_ref().map(|c| c.signed))
                        .bind(at);
                }
                q.execute(&mut *tx).await.ctx(&ctx)?;
            }
            tx.commit().await.ctx(&ctx)?;
            Ok(counts)
        }.await)
    }

    /// A page of the ledger inside the scope, newest year first, then by batch
    /// (serious, chronic, severe), household and person.
    pub async fn ledger(
        &self,
        scope: &Scope,
        q: &LedgerQuery,
        page: Page,
    ) -> Result<Vec<StoredLedgerEntry>, StoreError> {
        let ctx = "reading the patient ledger";
        let (lo, hi) = scope.code_range();
        let mut cond = vec!["l.village_code BETWEEN $1 AND $2".to_string()];
        let mut binds: Vec<Result<i64, String>> = vec![Ok(lo), Ok(hi)];
        if let Some(y) = q.year {
            binds.push(Ok(y as i64));
            cond.push(format!("l.year = ${}", binds.len()));
        }
        if let Some(b) = q.batch {
            binds.push(Err(b.as_str().to_string()));
            cond.push(format!("l.batch = ${}", binds.len()));
        }
        if let Some(s) = q.status {
            binds.push(Err(s.as_str().to_string()));
            cond.push(format!("l.treatment_status = ${}", binds.len()));
        }
        if let Some(p) = q.person {
            binds.push(Ok(p.as_u64() as i64));
            cond.push(format!("l.person_id = ${}", binds.len()));
        }
        binds.push(Ok(page.lim()));
        binds.push(Ok(page.off()));
        let sql = format!(
            "SELECT {LEDGER_COLS} FROM patient_ledger l WHERE {} ORDER BY l.year DESC,
             CASE l.batch WHEN 'serious' THEN 0 WHEN 'chronic' THEN 1 ELSE 2 END, l.household_id, l.person_id
             LIMIT ${} OFFSET ${}",
            cond.join(" AND "),
            binds.len() - 1,
            binds.len()
        );
        let rows: Vec<LedgerTuple> = on_pool!(self, p => {
            let mut qq = sqlx::query_as(&sql);
            for b in &binds {
                qq = match b {
                    Ok(v) => qq.bind(*v),
                    Err(v) => qq.bind(v.as_str()),
                };
            }
            qq.fetch_all(p).await.ctx(ctx)?
        });
        rows.into_iter().map(|t| entry_from(t, ctx)).collect()
    }

    /// The family-doctor contracts of the persons living inside the scope
    /// (wherever they lived when it was signed), signed (`doctor_contracts`) or
    /// recorded on a ledger line, the latest signed for each person: what a monitor run hands to
    /// `monitor::patient_ledger`, and what the indicators count by the village
    /// the person lives in.
    pub async fn contracts(&self, scope: &Scope) -> Result<HashMap<ResidentId, Contract>, StoreError> {
        let ctx = "reading family-doctor contracts";
        let (lo, hi) = scope.code_range();
        let rows: Vec<(i64, String, NaiveDate)> = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT x.person_id, x.doctor, x.signed FROM (
                     SELECT l.person_id, l.contract_doctor AS doctor, l.contract_signed AS signed FROM patient_ledger l
                     JOIN persons p ON p.person_id = l.person_id JOIN households h ON h.household_id = p.household_id
                     WHERE h.village_code BETWEEN $1 AND $2 AND l.contract_doctor <> '' AND l.contract_signed IS NOT NULL
                     UNION ALL
                     SELECT k.person_id, k.practitioner_id, k.signed FROM doctor_contracts k
                     JOIN persons p ON p.person_id = k.person_id JOIN households h ON h.household_id = p.household_id
                     WHERE h.village_code BETWEEN $1 AND $2
                 ) x ORDER BY x.signed",
            )
            .bind(lo)
            .bind(hi)
            .fetch_all(p)
            .await
            .ctx(ctx)?
        });
        let mut out = HashMap::with_capacity(rows.len());
        for (person, doctor, signed) in rows {
            out.insert(crate::registry::resident_id(person, ctx)?, Contract { doctor, signed });
        }
        Ok(out)
    }

    /// Records a person's family-doctor contract on their ledger lines inside the
    /// scope (every year's). Returns the lines changed: 0 when the person has none
    /// in scope.
    pub async fn set_contract(
        &self,
        scope: &Scope,
        person: ResidentId,
        contract: &Contract,
    ) -> Result<u64, StoreError> {
        let ctx = "recording a family-doctor contract";
        if contract.doctor.trim().is_empty() {
            return Err(StoreError::Rejected { context: ctx.into(), reason: "the doctor must be named".into() });
        }
        let (lo, hi) = scope.code_range();
        let at = now();
        on_pool!(self, p => async {
            let mut tx = begin_write(p, ctx).await?;
            let n = sqlx::query(
                "UPDATE patient_ledger SET contract_doctor = $1, contract_signed = $2, updated_at = $3
                 WHERE person_id = $4 AND village_code BETWEEN $5 AND $6",
            )
            .bind(contract.doctor.trim())
            .bind(contract.signed)
            .bind(at)
            .bind(person.as_u64() as i64)
            .bind(lo)
            .bind(hi)
            .execute(&mut *tx)
            .await
            .ctx(ctx)?
            .rows_affected();
            tx.commit().await.ctx(ctx)?;
            Ok(n)
        }.await)
    }
}

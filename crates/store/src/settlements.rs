//! Settlement over the store (docs/settlement.md): policies per region and year,
//! versioned; the real-time settlement of one claim against the person's stored
//! accumulators; voiding a claim and re-settling the person's year; the batch
//! settlement of a year's stored claims; and reading settlements back.
//!
//! The arithmetic is the application's, through [`crate::engine`]: this module
//! reads what the engine needs, hands it over inside the transaction, and writes
//! back what it returns, each operation in one transaction.
//!
//! Concurrency: a real-time settlement, a void and a batch take the person's row
//! lock before they read the accumulators (PostgreSQL: `SELECT ... FOR UPDATE` on
//! the person, the batch on all its persons in key order; SQLite: the write lock of
//! `BEGIN IMMEDIATE`, which serialises every writer). Two claims of one person at
//! the same moment therefore settle one after the other, each seeing the other's
//! accumulators.
//!
//! Order: the real-time path settles claims in the order they arrive, which is the
//! order of `(discharged, claim_id, facility_id)` when hospitals send bills as
//! patients leave; a void re-settles the person's remaining claims of the year in
//! that order, as the batch does.
//!
//! Keys: a claim is keyed by its ID and the facility that submitted it
//! ([`ClaimKey`], migration 14), and so are its settlement and payments; every
//! read or write of one claim names both, and a claim outside the caller's
//! scope is answered as one that is not stored.

use crate::db::{begin_write, now, on_pool, Backend, Scope, Store};
use crate::engine::{SettlementEngine, SettlementRules};
use crate::error::{corrupt, Ctx, StoreError};
use crate::vals::{list, pg_copy, pg_insert, placeholders, PgArray, PG_ROWS_A_STATEMENT};
use chrono::{DateTime, NaiveDate, Utc};
use domain::settlement::{ClaimInput, TierAccumulator};
use domain::{Claim, ClaimKey, Fen, PovertyStatus, RegionCode, ResidentId};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

/// One stored version of a region's policy for a year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyRecord {
    pub id: i64,
    /// A region code prefix: `""` (the nation), 2, 4, 6, 9 or 12 digits.
    pub region: String,
    pub year: i32,
    /// 1, 2, ... per region and year; the highest is in force.
    pub version: i64,
    /// The policy file's `name`.
    pub name: String,
    pub actor: String,
    pub created_at: DateTime<Utc>,
    /// The TOML text as it was given.
    pub source: String,
}

/// The outcome of settling one claim in real time.
#[derive(Debug, Clone, Serialize)]
pub struct RealtimeSettlement {
    pub claim: Claim,
    pub person: ResidentId,
    /// The policy year: the calendar year of discharge.
    pub year: i32,
    /// The person's status the claim was settled with.
    pub status: PovertyStatus,
    /// Whether the person was enrolled in basic insurance for the year when the
    /// claim was settled (docs/settlement.md, "Enrolment").
    pub enrolled: bool,
    /// The policy version that settled it.
    pub policy: PolicyRecord,
    /// The payments with their tier names, in the policy's tier order.
    pub payments: Vec<(String, Fen)>,
    pub out_of_pocket: Fen,
    /// The claim's total cost.
    pub total: Fen,
    /// True when this is the stored result of an earlier settlement of the same claim.
    pub replayed: bool,
    /// What each tier did and why, in words a clerk can read to the patient.
    pub explanation: String,
    /// The bill's items as priced against the catalogue (none for a claim of
    /// totals only).
    pub items: Vec<domain::items::PricedItem>,
}

/// How one claim's settlement changed when a void re-settled its person's year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClaimChange {
    pub claim_id: String,
    pub facility_id: String,
    pub old: Vec<(String, Fen)>,
    pub old_out_of_pocket: Fen,
    /// Zeros for the voided claim itself.
    pub new: Vec<(String, Fen)>,
    pub new_out_of_pocket: Fen,
}

/// The outcome of voiding a claim.
#[derive(Debug, Clone, Serialize)]
pub struct VoidOutcome {
    pub claim_id: String,
    pub facility_id: String,
    pub person: ResidentId,
    pub year: i32,
    /// The policy version that settled the voided claim, and re-settled the year.
    pub policy: PolicyRecord,
    /// The claims whose settlement changed, as old and new figures, in the order
    /// the year's claims settle; the voided claim itself appears with zeros as
    /// its new figures (a full refund).
    pub changes: Vec<ClaimChange>,
    /// The remaining claims' new settlements, in the order they settle: the claim,
    /// the payments in the policy's tier order, and what the patient pays.
    pub settlements: Vec<(ClaimKey, Vec<Fen>, Fen)>,
}

/// What a batch settlement of stored claims did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BatchCounts {
    /// Claims settled by this run.
    pub settled: u64,
    /// Claims of the year in scope that were settled before (left as they were).
    pub already_settled: u64,
    /// Voided claims of the year in scope (skipped).
    pub voided: u64,
    /// Claims left unsettled because no policy covers their region and year.
    pub without_policy: u64,
    /// Per village, the claims without a policy: reported, not guessed.
    pub missing_policies: Vec<(RegionCode, u64)>,
    /// Persons whose accumulators this run advanced.
    pub persons: u64,
}

/// A settlement as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredSettlement {
    pub claim_id: String,
    pub facility_id: String,
    pub person: ResidentId,
    pub year: i32,
    pub discharged: NaiveDate,
    pub status: PovertyStatus,
    pub policy_id: Option<i64>,
    pub policy_version: Option<i64>,
    pub total_cost: Fen,
    pub eligible_cost: Fen,
    /// Tier name and payment, in the policy's tier order.
    pub payments: Vec<(String, Fen)>,
    pub out_of_pocket: Fen,
    pub settled_at: DateTime<Utc>,
    pub settled_by: String,
    pub voided: bool,
    /// Stored for real-time settlements; `None` for batch ones (see [`Store::explain_stored`]).
    pub explanation: Option<String>,
    /// Whether the person was enrolled for the year when the claim was settled.
    pub enrolled: bool,
}

// ---- helpers shared by the operations ----

pub(crate) const CLAIM_COLS: &str =
    "c.claim_id, c.person_id, c.facility_level, c.kind, c.admitted, c.discharged, c.total_cost, c.eligible_cost, c.diagnosis, c.facility_id, c.referred";

pub(crate) type ClaimTuple = (String, i64, String, String, NaiveDate, NaiveDate, i64, i64, String, String, bool);

pub(crate) fn claim_from(t: ClaimTuple) -> Result<Claim, StoreError> {
    let ctx = "reading claims";
    Ok(Claim {
        claim_id: t.0,
        person_id: crate::registry::resident_id(t.1, ctx)?,
        facility_level: t.2.parse().map_err(|e| corrupt(ctx, &t.2, e))?,
        kind: t.3.parse().map_err(|e| corrupt(ctx, &t.3, e))?,
        admitted: t.4,
        discharged: t.5,
        total_cost: Fen(t.6),
        eligible_cost: Fen(t.7),
        diagnosis: t.8,
        facility_id: t.9,
        referred: t.10,
    })
}

/// A row of [`CLAIM_COLS`] read through SQLite's own interface.
pub(crate) fn claim_tuple(r: &crate::raw::Row<'_>) -> Result<ClaimTuple, String> {
    Ok((
        r.text(0)?.to_string(),
        r.int(1),
        r.text(2)?.to_string(),
        r.text(3)?.to_string(),
        r.date(4)?,
        r.date(5)?,
        r.int(6),
        r.int(7),
        r.text(8)?.to_string(),
        r.text(9)?.to_string(),
        r.int(10) != 0,
    ))
}

pub(crate) fn status_of(s: &str, ctx: &str) -> Result<PovertyStatus, StoreError> {
    s.parse().map_err(|e| corrupt(ctx, s, e))
}

pub(crate) fn region_of(v: i64, ctx: &str) -> Result<RegionCode, StoreError> {
    RegionCode::from_u64(v as u64).map_err(|e| corrupt(ctx, v, e))
}

/// A payment as read: claim, facility, tier, amount.
pub(crate) type PayRow = (String, String, String, i64);
type ClaimVoided = (String, i64, String, String, NaiveDate, NaiveDate, i64, i64, String, String, bool, bool);
type VoidHead = (i64, i64, bool, i64, Option<i64>, Option<String>);
type PersonYearRow = (String, String, NaiveDate, String, String, i64, i64, String, i64, bool, bool);
pub(crate) type PolicyTuple = (i64, String, i64, i64, String, String, DateTime<Utc>, String);
pub(crate) const POLICY_COLS: &str = "id, region, year, version, name, actor, created_at, source";

pub(crate) fn policy_from(t: PolicyTuple) -> PolicyRecord {
    PolicyRecord {
        id: t.0,
        region: t.1,
        year: t.2 as i32,
        version: t.3,
        name: t.4,
        actor: t.5,
        created_at: t.6,
        source: t.7,
    }
}

/// The rules of a stored policy, from the application's engine.
pub(crate) fn rules_of(
    engine: &dyn SettlementEngine,
    rec: &PolicyRecord,
) -> Result<Arc<dyn SettlementRules>, StoreError> {
    engine.rules(rec).map_err(|e| corrupt("reading a stored policy", format!("{} {}", rec.region, rec.year), e))
}

/// Accumulators in tier order from stored rows (tier, base, unpaid, paid).
pub(crate) fn accumulators_from(rules: &dyn SettlementRules, rows: &[(String, i64, i64, i64)]) -> Vec<TierAccumulator> {
    let mut acc = vec![TierAccumulator::default(); rules.tiers().len()];
    for (tier, base, unpaid, paid) in rows {
        if let Some(i) = rules.tiers().iter().position(|n| n == tier) {
            acc[i] = TierAccumulator { base: Fen(*base), unpaid: Fen(*unpaid), paid: Fen(*paid) };
        }
    }
    acc
}

pub(crate) fn named(rules: &dyn SettlementRules, payments: &[Fen]) -> Vec<(String, Fen)> {
    rules.tiers().iter().cloned().zip(payments.iter().copied()).collect()
}

/// Writes the audit row of a settlement or a void inside its own transaction, so
/// that what was acknowledged was audited (the application's audit writer
/// commits later, in its own transaction). The object is the claim's key as
/// [`ClaimKey`] writes it (`C1 at F1`).
macro_rules! audit_in {
    ($tx:ident, $at:expr, $actor:expr, $action:expr, $claim_id:expr, $village:expr, $detail:expr, $ctx:expr) => {
        sqlx::query(
            "INSERT INTO audit_log (at, actor, action, object_kind, object_id, region_code, detail)
             VALUES ($1, $2, $3, 'claim', $4, $5, $6)",
        )
        .bind(crate::db::ts($at))
        .bind($actor.as_str())
        .bind($action)
        .bind($claim_id)
        .bind($village.as_u64() as i64)
        .bind(&$detail)
        .execute(&mut *$tx)
        .await
        .ctx(&$ctx)?
    };
}

/// How many times [`Store::settle_realtime_batch`] settles a group again after
/// a transient failure before it answers with the failure.
pub const TRANSIENT_RETRIES: u32 = 5;

/// The answer for a claim that is not stored, or not inside the caller's scope:
/// the same, so that another county's claim keys are not revealed.
fn not_found_claim(key: &ClaimKey) -> StoreError {
    StoreError::NotFound { kind: "claim", key: key.to_string() }
}

/// The answer for a facility that is not stored, or not inside the caller's
/// scope: the same, for the same reason.
pub(crate) fn not_found_facility(id: &str) -> StoreError {
    StoreError::NotFound { kind: "facility", key: id.to_string() }
}

/// Claims per transaction of a batch settlement over the store (whole villages
/// are kept together, so a chunk may be larger by one village).
pub const SETTLE_CHUNK: i64 = 200_000;

/// A settlement a batch writes.
pub(crate) struct BatchRow<'a> {
    pub(crate) claim_id: &'a str,
    pub(crate) facility_id: &'a str,
    pub(crate) person: i64,
    pub(crate) policy_id: i64,
    pub(crate) policy_version: i64,
    pub(crate) total_cost: i64,
    pub(crate) eligible_cost: i64,
    pub(crate) out_of_pocket: i64,
    pub(crate) status: &'a str,
    pub(crate) enrolled: bool,
}

/// What a run of a batch settlement writes, in its transaction: the
/// settlements, their payments `(claim, facility, position, tier, amount)`, and the
/// persons' accumulators `(person, tier, accumulator)` of the year.
pub(crate) struct Batch<'a> {
    pub(crate) year: i64,
    pub(crate) at: DateTime<Utc>,
    pub(crate) actor: &'a str,
    pub(crate) settled: Vec<BatchRow<'a>>,
    pub(crate) payments: Vec<(&'a str, &'a str, i64, &'a str, i64)>,
    pub(crate) accumulators: Vec<(i64, &'a str, TierAccumulator)>,
}

const BATCH_SETTLEMENT_COLS: [&str; 13] = [
    "claim_id",
    "facility_id",
    "person_id",
    "year",
    "policy_id",
    "policy_version",
    "total_cost",
    "eligible_cost",
    "out_of_pocket",
    "status",
    "settled_at",
    "settled_by",
    "enrolled",
];
const BATCH_ACCUMULATORS_UPSERT: &str =
    "ON CONFLICT (person_id, year, tier) DO UPDATE SET base = excluded.base, oop = excluded.oop, paid = excluded.paid";

/// Writes a run of a batch settlement inside `tx`, as the engine does best.
pub(crate) async fn write_batch<DB: BatchWrite>(
    tx: &mut sqlx::Transaction<'_, DB>,
    batch: &Batch<'_>,
    max_binds: usize,
    ctx: &str,
) -> Result<(), StoreError> {
    DB::write_batch(&mut **tx, batch, max_binds, ctx).await
}

/// How each engine writes a run of a batch settlement.
pub(crate) trait BatchWrite: sqlx::Database {
    fn write_batch(
        conn: &mut Self::Connection,
        batch: &Batch<'_>,
        max_binds: usize,
        ctx: &str,
    ) -> impl std::future::Future<Output = Result<(), StoreError>> + Send;
}

/// SQLite: multi-row `INSERT ... VALUES` statements of [`SQLITE_BATCH_ROWS`] rows,
/// each prepared once and stepped again and again through SQLite's own
/// interface (`raw.rs`), its parameters bound by position with the texts
/// borrowed from the batch. (sqlx binds each value by name and copies each text,
/// and parses every statement again: for the 4 to 5 million rows of a county's
/// year that cost more than SQLite's own work.) The rows stored are those sqlx
/// would store: instants as its RFC 3339 text, booleans as 0 and 1.
impl BatchWrite for sqlx::Sqlite {
    async fn write_batch(
        conn: &mut Self::Connection,
        batch: &Batch<'_>,
        _max_binds: usize,
        ctx: &str,
    ) -> Result<(), StoreError> {
        use crate::vals::Val;
        let cols = BATCH_SETTLEMENT_COLS.join(", ");
        let at = batch.at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false);
        let (at, year, actor) = (at.as_str(), batch.year, batch.actor);
        let settlement_sql = |n: usize| {
            format!("INSERT INTO settlements ({cols}) VALUES {}", placeholders(n, BATCH_SETTLEMENT_COLS.len()))
        };
        let payment_sql = |n: usize| {
            format!(
                "INSERT INTO settlement_payments (claim_id, facility_id, position, tier, amount) VALUES {}",
                placeholders(n, 5)
            )
        };
        let accumulator_sql = |n: usize| {
            format!(
                "INSERT INTO accumulators (person_id, year, tier, base, oop, paid) VALUES {} {BATCH_ACCUMULATORS_UPSERT}",
                placeholders(n, 6)
            )
        };
        let mut handle = conn.lock_handle().await.ctx(ctx)?;
        crate::raw::blocking(|| -> Result<(), crate::raw::RawError> {
            crate::raw::execute_mapped(&mut handle, settlement_sql, &batch.settled, SQLITE_BATCH_ROWS, |r| {
                [
                    Val::text(r.claim_id),
                    Val::text(r.facility_id),
                    Val::int(r.person),
                    Val::int(year),
                    Val::int(r.policy_id),
                    Val::int(r.policy_version),
                    Val::int(r.total_cost),
                    Val::int(r.eligible_cost),
                    Val::int(r.out_of_pocket),
                    Val::text(r.status),
                    Val::text(at),
                    Val::text(actor),
                    Val::B(r.enrolled),
                ]
            })?;
            crate::raw::execute_mapped(&mut handle, payment_sql, &batch.payments, SQLITE_BATCH_ROWS, |p| {
                [Val::text(p.0), Val::text(p.1), Val::int(p.2), Val::text(p.3), Val::int(p.4)]
            })?;
            crate::raw::execute_mapped(&mut handle, accumulator_sql, &batch.accumulators, SQLITE_BATCH_ROWS, |a| {
                [
                    Val::int(a.0),
                    Val::int(year),
                    Val::text(a.1),
                    Val::int(a.2.base.0),
                    Val::int(a.2.unpaid.0),
                    Val::int(a.2.paid.0),
                ]
            })
        })
        .map_err(|e| e.into_store(ctx.to_string()))
    }
}

/// Rows a statement of a batch settlement's writes on SQLite (settlements have
/// 13 columns: under a thousand parameters a statement).
const SQLITE_BATCH_ROWS: usize = 64;

/// PostgreSQL: the settlements and their payments by `COPY ... FROM STDIN`
/// (`vals::pg_copy`), each table one stream whatever its number of rows; the
/// accumulators, which may be stored already, by one `INSERT ... SELECT * FROM
/// unnest(...) ON CONFLICT` of an array a column (up to [`PG_ROWS_A_STATEMENT`]
/// rows). The statement triggers of `fresh.rs` then run once a table: they mark
/// the persons of each statement, and a person's claims lie spread over the
/// whole batch (they go in the order of discharge).
impl BatchWrite for sqlx::Postgres {
    async fn write_batch(
        conn: &mut Self::Connection,
        batch: &Batch<'_>,
        _max_binds: usize,
        ctx: &str,
    ) -> Result<(), StoreError> {
        // Microseconds, truncated, as sqlx sends an instant.
        let at = batch.at.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string();
        let (year, actor) = (batch.year, batch.actor);
        pg_copy(
            conn,
            "settlements",
            &BATCH_SETTLEMENT_COLS,
            &batch.settled,
            |r, l| {
                l.text(r.claim_id)
                    .text(r.facility_id)
                    .int(r.person)
                    .int(year)
                    .int(r.policy_id)
                    .int(r.policy_version)
                    .int(r.total_cost)
                    .int(r.eligible_cost)
                    .int(r.out_of_pocket)
                    .text(r.status)
                    .text(&at)
                    .text(actor)
                    .bool(r.enrolled);
            },
            ctx,
        )
        .await?;
        let cols = ["claim_id", "facility_id", "position", "tier", "amount"];
        pg_copy(
            conn,
            "settlement_payments",
            &cols,
            &batch.payments,
            |p, l| {
                l.text(p.0).text(p.1).int(p.2).text(p.3).int(p.4);
            },
            ctx,
        )
        .await?;
        for chunk in batch.accumulators.chunks(PG_ROWS_A_STATEMENT) {
            let arrays = vec![
                PgArray::I(chunk.iter().map(|r| Some(r.0)).collect()),
                PgArray::I(vec![Some(batch.year); chunk.len()]),
                PgArray::T(chunk.iter().map(|r| Some(r.1)).collect()),
                PgArray::I(chunk.iter().map(|r| Some(r.2.base.0)).collect()),
                PgArray::I(chunk.iter().map(|r| Some(r.2.unpaid.0)).collect()),
                PgArray::I(chunk.iter().map(|r| Some(r.2.paid.0)).collect()),
            ];
            let cols = ["person_id", "year", "tier", "base", "oop", "paid"];
            pg_insert(conn, "accumulators", &cols, arrays, BATCH_ACCUMULATORS_UPSERT, ctx).await?;
        }
        Ok(())
    }
}

/// The unsettled, unvoided claims `c` of the year `$1` with their persons `p` and
/// households `h`, of the villages `$2..=$3`. The year's claims are read from
/// its index alone (`c0`: the index holds the claims' keys), each checked against
/// the settlements' key, and only the unsettled ones are read whole: a year of
/// millions of settled claims costs a walk of an index, not a join of every row.
const UNSETTLED: &str = "claims c0 CROSS JOIN claims c CROSS JOIN persons p CROSS JOIN households h
     WHERE c0.year = $1
     AND NOT EXISTS (SELECT 1 FROM settlements s WHERE s.claim_id = c0.claim_id AND s.facility_id = c0.facility_id)
     AND c.claim_id = c0.claim_id AND c.facility_id = c0.facility_id AND NOT c.voided AND p.person_id = c.person_id
     AND h.household_id = p.household_id AND h.village_code BETWEEN $2 AND $3";

/// The same claims as [`UNSETTLED`], found from the villages down: the households
/// of the villages `$2..=$3` (their village's index), their persons, and each
/// person's claims of the year (the claims' `(person_id, year)` index). Its work
/// is the claims of those villages only, where [`UNSETTLED`] walks every claim
/// of the year and joins each unsettled one to its village before it can leave
/// it out: a run of a year's first settlement, split into several runs of
/// villages, walked and joined the whole year once a run (six passes over
/// 955,000 claims for a county; each now reads its own).
const UNSETTLED_BY_VILLAGE: &str = "households h CROSS JOIN persons p CROSS JOIN claims c
     WHERE h.village_code BETWEEN $2 AND $3 AND p.household_id = h.household_id
     AND c.person_id = p.person_id AND c.year = $1 AND NOT c.voided
     AND NOT EXISTS (SELECT 1 FROM settlements s WHERE s.claim_id = c.claim_id AND s.facility_id = c.facility_id)";

/// The claims of a run of a batch settlement, inside its transaction.
async fn read_unsettled<DB: BatchRead>(
    tx: &mut sqlx::Transaction<'_, DB>,
    sql: &str,
    year: i64,
    lo: i64,
    hi: i64,
    ctx: &str,
) -> Result<Vec<UnsettledClaim>, StoreError> {
    DB::unsettled(&mut **tx, sql, year, lo, hi, ctx).await
}

/// A claim a batch settles, with its person's status, village and enrolment.
type UnsettledClaim = (Claim, PovertyStatus, RegionCode, bool);

/// How each engine reads the claims of a run of a batch settlement.
pub(crate) trait BatchRead: sqlx::Database {
    /// The rows of `sql` (the columns of [`CLAIM_COLS`], the person's status, the
    /// village, whether enrolled) with `$1` the year and `$2..=$3` the villages.
    fn unsettled(
        conn: &mut Self::Connection,
        sql: &str,
        year: i64,
        lo: i64,
        hi: i64,
        ctx: &str,
    ) -> impl std::future::Future<Output = Result<Vec<UnsettledClaim>, StoreError>> + Send;
}

fn unsettled_from(
    t: ClaimTuple,
    status: &str,
    village: i64,
    enrolled: bool,
    ctx: &str,
) -> Result<UnsettledClaim, StoreError> {
    Ok((claim_from(t)?, status_of(status, ctx)?, region_of(village, ctx)?, enrolled))
}

/// SQLite: read where SQLite holds the rows (`raw.rs`), not a message a row.
impl BatchRead for sqlx::Sqlite {
    async fn unsettled(
        conn: &mut Self::Connection,
        sql: &str,
        year: i64,
        lo: i64,
        hi: i64,
        ctx: &str,
    ) -> Result<Vec<UnsettledClaim>, StoreError> {
        use crate::vals::Val;
        let mut handle = conn.lock_handle().await.ctx(ctx)?;
        let mut out = Vec::new();
        let mut bad: Option<StoreError> = None;
        crate::raw::blocking(|| {
            crate::raw::query_each(&mut handle, sql, &[Val::int(year), Val::int(lo), Val::int(hi)], |r| {
                let t = claim_tuple(r)?;
                match unsettled_from(t, r.text(11)?, r.int(12), r.int(13) != 0, ctx) {
                    Ok(c) => out.push(c),
                    Err(e) => {
                        bad.get_or_insert(e);
                    }
                }
                Ok(())
            })
        })
        .map_err(|e| e.into_store(ctx.to_string()))?;
        match bad {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }
}

/// PostgreSQL: rows decoded by sqlx.
impl BatchRead for sqlx::Postgres {
    async fn unsettled(
        conn: &mut Self::Connection,
        sql: &str,
        year: i64,
        lo: i64,
        hi: i64,
        ctx: &str,
    ) -> Result<Vec<UnsettledClaim>, StoreError> {
        type Row =
            (String, i64, String, String, NaiveDate, NaiveDate, i64, i64, String, String, bool, String, i64, bool);
        let rows: Vec<Row> = sqlx::query_as(sql).bind(year).bind(lo).bind(hi).fetch_all(&mut *conn).await.ctx(ctx)?;
        rows.into_iter()
            .map(|r| unsettled_from((r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8, r.9, r.10), &r.11, r.12, r.13, ctx))
            .collect()
    }
}

impl Store {
    /// Stores a new version of the policy of a region (a code prefix, `""` for the
    /// nation) for a year, under its `name`, as the text given. The application
    /// checks the text before (`app::settlement::put_policy`).
    pub async fn put_policy(
        &self,
        region_prefix: &str,
        year: i32,
        name: &str,
        source_toml: &str,
        actor: &str,
    ) -> Result<PolicyRecord, StoreError> {
        let region = Scope::new(region_prefix)?.prefix().to_string();
        let ctx = format!("storing the policy for region {:?} and year {year}", region);
        let at = now();
        let t: PolicyTuple = on_pool!(self, p => async {
            let mut tx = begin_write(p, &ctx).await?;
            if self.backend() == Backend::Postgres {
                // Two versions stored at once get distinct numbers.
                sqlx::query("SELECT pg_advisory_xact_lock(7061967)").execute(&mut *tx).await.ctx(&ctx)?;
            }
            let current: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM policies WHERE region = $1 AND year = $2")
                .bind(&region)
                .bind(year as i64)
                .fetch_one(&mut *tx)
                .await
                .ctx(&ctx)?;
            let t: PolicyTuple = sqlx::query_as(&format!(
                "INSERT INTO policies (region, year, version, name, source, actor, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {POLICY_COLS}"
            ))
            .bind(&region)
            .bind(year as i64)
            .bind(current.unwrap_or(0) + 1)
            .bind(name)
            .bind(source_toml)
            .bind(actor)
            .bind(at)
            .fetch_one(&mut *tx)
            .await
            .ctx(&ctx)?;
            tx.commit().await.ctx(&ctx)?;
            Ok::<_, StoreError>(t)
        }.await)?;
        Ok(policy_from(t))
    }

    /// The policies of `year` that may govern a village: every version of every
    /// region whose code is a prefix of the village's. Which one is in force is
    /// the application's choice.
    pub async fn policy_candidates(&self, village: RegionCode, year: i32) -> Result<Vec<PolicyRecord>, StoreError> {
        let sql = format!("SELECT {POLICY_COLS} FROM policies WHERE year = $1 AND $2 LIKE region || '%'");
        let rows: Vec<PolicyTuple> = on_pool!(self, p => {
            sqlx::query_as(&sql)
                .bind(year as i64)
                .bind(village.to_string())
                .fetch_all(p)
                .await
                .ctx("looking up the policy")?
        });
        Ok(rows.into_iter().map(policy_from).collect())
    }

    /// The policies in force that concern a scope: the latest version of each
    /// region and year whose region lies inside the scope or above it (a
    /// province's policy applies to its counties). Ordered by region, then year.
    pub async fn policies(&self, scope: &Scope) -> Result<Vec<PolicyRecord>, StoreError> {
        let sql = format!(
            "SELECT {POLICY_COLS} FROM policies t WHERE (t.region LIKE $1 OR $2 LIKE t.region || '%')
             AND t.version = (SELECT MAX(u.version) FROM policies u WHERE u.region = t.region AND u.year = t.year)
             ORDER BY t.region, t.year"
        );
        let rows: Vec<PolicyTuple> = on_pool!(self, p => {
            sqlx::query_as(&sql)
                .bind(format!("{}%", scope.prefix()))
                .bind(scope.prefix())
                .fetch_all(p)
                .await
                .ctx("listing policies")?
        });
        Ok(rows.into_iter().map(policy_from).collect())
    }

    /// Every stored version of a region's policy for a year, oldest first.
    pub async fn policy_versions(&self, region_prefix: &str, year: i32) -> Result<Vec<PolicyRecord>, StoreError> {
        let region = Scope::new(region_prefix)?.prefix().to_string();
        let sql = format!("SELECT {POLICY_COLS} FROM policies WHERE region = $1 AND year = $2 ORDER BY version");
        let rows: Vec<PolicyTuple> = on_pool!(self, p => {
            sqlx::query_as(&sql).bind(&region).bind(year as i64).fetch_all(p).await.ctx("listing policy versions")?
        });
        Ok(rows.into_iter().map(policy_from).collect())
    }

    async fn policy_by_id(&self, id: i64) -> Result<Option<PolicyRecord>, StoreError> {
        let sql = format!("SELECT {POLICY_COLS} FROM policies WHERE id = $1");
        let t: Option<PolicyTuple> = on_pool!(self, p => {
            sqlx::query_as(&sql).bind(id).fetch_optional(p).await.ctx("reading a policy")?
        });
        Ok(t.map(policy_from))
    }

    /// Settles one claim in real time, atomically, in one transaction:
    /// - a claim that names a facility: the facility must be in the store and
    ///   inside `scope` (else [`StoreError::NotFound`], the same for both, so that
    ///   another county's facilities are not revealed); a claim without one is of
    ///   the empty facility (the application requires one of its callers);
    /// - the person must be in the store and inside `scope` (else [`StoreError::NotFound`]);
    /// - the claim row is stored if it is new; claims are keyed by facility and
    ///   ID, so another facility's claim of the same ID is another claim;
    /// - the same claim again (same facility and `claim_id`, same data) gives the
    ///   stored result unchanged, `replayed = true`, and is not counted twice;
    /// - a different claim under a stored key, or a voided claim, is refused
    ///   ([`StoreError::Constraint`]);
    /// - the policy is the one in force for the person's village and the claim's
    ///   year; none is refused ([`StoreError::Rejected`]);
    /// - the person's accumulators for the year advance by the claim.
    pub async fn settle_realtime(
        &self,
        engine: &dyn SettlementEngine,
        scope: &Scope,
        claim: &Claim,
        items: &[domain::items::PricedItem],
        actor: &str,
    ) -> Result<RealtimeSettlement, StoreError> {
        let mut one = self
            .settle_realtime_batch(engine, &[(scope.clone(), claim.clone(), actor.to_string(), items.to_vec())])
            .await?;
        one.pop().expect("one result for one claim")
    }

    /// Settles claims in real time as [`Store::settle_realtime`] does each, all in
    /// one transaction and so with one sync to disk (group commit): a refused
    /// claim leaves the others standing. The outer error is for the transaction as
    /// a whole (then nothing was stored); the inner results are each claim's, in
    /// order, and stand once this returns.
    ///
    /// SQLite settles the group claim by claim, each in a savepoint. PostgreSQL
    /// settles it with a few set-based statements for the whole group (see
    /// `realtime.rs`), or claim by claim where that path declines (a claim
    /// already stored, a key twice in the group) or a write refuses the group as
    /// a whole. There several groups settle at the same time, each on its own
    /// connection; a group that hits a transient failure (a deadlock or
    /// serialisation failure, a connection lost or its backend terminated, also
    /// during the commit) is settled again from the start, up to
    /// [`TRANSIENT_RETRIES`] times, before any answer is given: what was not
    /// committed is settled afresh, and what was committed before the
    /// connection broke is found stored and answered as a replay, never counted
    /// twice.
    pub async fn settle_realtime_batch(
        &self,
        engine: &dyn SettlementEngine,
        items: &[(Scope, Claim, String, Vec<domain::items::PricedItem>)],
    ) -> Result<Vec<Result<RealtimeSettlement, StoreError>>, StoreError> {
        let crate::db::Pool::Pg(pool) = &self.pool else {
            return self.settle_realtime_serial(engine, items).await;
        };
        let mut tries = 0;
        loop {
            // A group of one claim too: the set-based path takes five round
            // trips (begin, read, accumulators, write, commit), the claim's
            // own about a dozen.
            let r = match self.settle_realtime_set(pool, engine, items).await {
                Ok(Some(out)) => Ok(out),
                Ok(None) => self.settle_realtime_serial(engine, items).await,
                Err(e) if e.is_transient() => Err(e),
                // A write refused for the group as a whole (another facility's
                // claim under a key, stored meanwhile): claim by claim, so
                // that the refusal is that claim's alone.
                Err(e) => {
                    tracing::debug!(error = %e, "set-based settlement refused; settling claim by claim");
                    self.settle_realtime_serial(engine, items).await
                }
            };
            match r {
                Err(e) if e.is_transient() && tries < TRANSIENT_RETRIES => {
                    tries += 1;
                    tracing::warn!(error = %e, try_ = tries, claims = items.len(), "settling again after a transient failure");
                    tokio::time::sleep(std::time::Duration::from_millis(5 << tries)).await;
                }
                r => return r,
            }
        }
    }

    /// [`Store::settle_realtime_batch`] claim by claim, each in a savepoint (on
    /// PostgreSQL, a claim's transient failure fails the group, to be settled
    /// again, rather than being that claim's answer).
    async fn settle_realtime_serial(
        &self,
        engine: &dyn SettlementEngine,
        items: &[(Scope, Claim, String, Vec<domain::items::PricedItem>)],
    ) -> Result<Vec<Result<RealtimeSettlement, StoreError>>, StoreError> {
        let ctx = match items {
            [(_, c, _, _)] => format!("settling claim {}", c.claim_id),
            _ => format!("settling {} claims", items.len()),
        };
        let at = now();
        // One claim alone needs no savepoint: refused, its transaction is undone.
        let single = items.len() == 1;
        on_pool!(self, p => async {
            let mut tx = begin_write(p, &ctx).await?;
            let mut out = Vec::with_capacity(items.len());
            // What the claims settled feed, for the unit of work (see `fresh.rs`).
            let mut inserted = crate::fresh::Inserted::default();
            for (scope, claim, actor, bill) in items {
                if !single {
                    sqlx::query("SAVEPOINT claim").execute(&mut *tx).await.ctx(&ctx)?;
                }
                let r: Result<RealtimeSettlement, StoreError> = async {
                    let ctx = format!("settling claim {}", claim.claim_id);
                    if claim.eligible_cost.0 < 0 || claim.eligible_cost > claim.total_cost {
                        return Err(StoreError::Rejected {
                            context: ctx,
                            reason: "the eligible cost must lie between 0 and the total cost".into(),
                        });
                    }
                    let person_id = claim.person_id.as_u64() as i64;
                    let year = claim.year();
                    let lock = if self.backend() == Backend::Postgres { " FOR UPDATE OF p" } else { "" };
                    let person_sql = format!(
                        "SELECT p.status, h.village_code FROM persons p JOIN households h ON h.household_id = p.household_id
                         WHERE p.person_id = $1{lock}"
                    );
                    let claim_sql =
                        format!("SELECT {CLAIM_COLS}, c.voided FROM claims c WHERE c.claim_id = $1 AND c.facility_id = $2");
                    let key = claim.claim_key().to_string();
                    let policy_sql =
                        format!("SELECT {POLICY_COLS} FROM policies WHERE year = $1 AND $2 LIKE region || '%'");
                        if !claim.facility_id.is_empty() {
                            let region: Option<i64> =
                                sqlx::query_scalar("SELECT region_code FROM facilities WHERE facility_id = $1")
                                    .bind(&claim.facility_id)
                                    .fetch_optional(&mut *tx)
                                    .await
                                    .ctx(&ctx)?;
                            let inside = match region {
                                Some(r) => scope.contains(region_of(r, &ctx)?),
                                None => false,
                            };
                            if !inside {
                                return Err(not_found_facility(&claim.facility_id));
                            }
                        }
                        let person: Option<(String, i64)> =
                            sqlx::query_as(&person_sql).bind(person_id).fetch_optional(&mut *tx).await.ctx(&ctx)?;
                        let Some((status, village)) = person else {
                            return Err(StoreError::NotFound { kind: "person", key: claim.person_id.masked() });
                        };
                        let village = region_of(village, &ctx)?;
                        if !scope.contains(village) {
                            return Err(StoreError::NotFound { kind: "person", key: claim.person_id.masked() });
                        }
                        let status = status_of(&status, &ctx)?;
                        let enrolled: Option<i64> =
                            sqlx::query_scalar("SELECT year FROM enrolments WHERE person_id = $1 AND year = $2")
                                .bind(person_id)
                                .bind(year as i64)
                                .fetch_optional(&mut *tx)
                                .await
                                .ctx(&ctx)?;
                        let enrolled = enrolled.is_some();
                        let stored_row: Option<ClaimVoided> =
                            sqlx::query_as(&claim_sql)
                                .bind(&claim.claim_id)
                                .bind(&claim.facility_id)
                                .fetch_optional(&mut *tx)
                                .await
                                .ctx(&ctx)?;
                        let mut is_new = true;
                        // The items of a claim found stored, as stored.
                        let mut stored: Option<Vec<domain::items::PricedItem>> = None;
                        if let Some(t) = stored_row {
                            let voided = t.11;
                            let old = claim_from((t.0, t.1, t.2, t.3, t.4, t.5, t.6, t.7, t.8, t.9, t.10))?;
                            if old != *claim {
                                return Err(StoreError::Constraint {
                                    context: ctx,
                                    detail: format!(
                                        "claim {key} is in the store with different data; void it and settle the correction under a new claim_id"
                                    ),
                                });
                            }
                            if voided {
                                return Err(StoreError::Constraint {
                                    context: ctx,
                                    detail: format!("claim {key} was voided"),
                                });
                            }
                            is_new = false;
                            let stored_items = crate::items::read_items!(tx, &claim.claim_key(), ctx);
                            let lines = |b: &[domain::items::PricedItem]| -> Vec<(String, i64, i64, i64)> {
                                b.iter().map(|i| (i.item_code.clone(), i.quantity.0, i.unit_price.0, i.amount.0)).collect()
                            };
                            if !bill.is_empty() && lines(bill) != lines(&stored_items) {
                                return Err(StoreError::Constraint {
                                    context: ctx,
                                    detail: format!(
                                        "claim {key} is in the store with other items; void it and settle the correction under a new claim_id"
                                    ),
                                });
                            }
                            stored = Some(stored_items);
                            type Done = (Option<i64>, String, i64, Option<String>, bool);
                            let done: Option<Done> = sqlx::query_as(
                                "SELECT policy_id, status, out_of_pocket, explanation, enrolled FROM settlements
                                 WHERE claim_id = $1 AND facility_id = $2",
                            )
                            .bind(&claim.claim_id)
                            .bind(&claim.facility_id)
                            .fetch_optional(&mut *tx)
                            .await
                            .ctx(&ctx)?;
                            if let Some((policy_id, st, oop, explanation, was_enrolled)) = done {
                                let pays: Vec<(String, i64)> = sqlx::query_as(
                                    "SELECT tier, amount FROM settlement_payments WHERE claim_id = $1 AND facility_id = $2
                                     ORDER BY position",
                                )
                                .bind(&claim.claim_id)
                                .bind(&claim.facility_id)
                                .fetch_all(&mut *tx)
                                .await
                                .ctx(&ctx)?;
                                let rec: Option<PolicyTuple> = match policy_id {
                                    Some(id) => sqlx::query_as(&format!("SELECT {POLICY_COLS} FROM policies WHERE id = $1"))
                                        .bind(id)
                                        .fetch_optional(&mut *tx)
                                        .await
                                        .ctx(&ctx)?,
                                    None => None,
                                };
                                let rec = rec
                                    .map(policy_from)
                                    .ok_or_else(|| corrupt(&ctx, &key, "the settlement names no stored policy"))?;
                                // A replay is answered from the store: a read, audited as such.
                                let detail = format!("out of pocket {}", Fen(oop));
                                let actor = actor.to_string();
                                audit_in!(tx, at, actor, "settle_replayed", &key, village, detail, ctx);
                                let rules = rules_of(engine, &rec)?;
                                let payments: Vec<(String, Fen)> = rules
                                    .tiers()
                                    .iter()
                                    .map(|n| {
                                        let paid = pays.iter().find(|(t, _)| t == n).map(|(_, a)| Fen(*a));
                                        (n.clone(), paid.unwrap_or(Fen::ZERO))
                                    })
                                    .collect();
                                return Ok(RealtimeSettlement {
                                    claim: claim.clone(),
                                    person: claim.person_id,
                                    year,
                                    status: status_of(&st, &ctx)?,
                                    enrolled: was_enrolled,
                                    policy: rec,
                                    payments,
                                    out_of_pocket: Fen(oop),
                                    total: claim.total_cost,
                                    replayed: true,
                                    explanation: explanation.unwrap_or_default(),
                                    items: stored.take().unwrap_or_default(),
                                });
                            }
                        }
                        let candidates: Vec<PolicyTuple> = sqlx::query_as(&policy_sql)
                            .bind(year as i64)
                            .bind(village.to_string())
                            .fetch_all(&mut *tx)
                            .await
                            .ctx(&ctx)?;
                        let mut candidates: Vec<PolicyRecord> = candidates.into_iter().map(policy_from).collect();
                        let Some(k) = engine.in_force(&candidates, village, year) else {
                            return Err(StoreError::Rejected {
                                context: ctx,
                                reason: format!("no settlement policy covers region {village} in {year}"),
                            });
                        };
                        let rec = candidates.swap_remove(k);
                        let rules = rules_of(engine, &rec)?;
                        let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(
                            "SELECT tier, base, oop, paid FROM accumulators WHERE person_id = $1 AND year = $2",
                        )
                        .bind(person_id)
                        .bind(year as i64)
                        .fetch_all(&mut *tx)
                        .await
                        .ctx(&ctx)?;
                        let mut acc = accumulators_from(rules.as_ref(), &rows);
                        let input = ClaimInput { enrolled, ..ClaimInput::from(claim) };
                        let explanation = rules.explain(&input, status, &acc);
                        let (payments, out_of_pocket) = rules.settle(&input, status, &mut acc);
                        if is_new {
                            sqlx::query(
                                "INSERT INTO claims (claim_id, person_id, facility_level, kind, admitted, discharged, year,
                                 total_cost, eligible_cost, diagnosis, facility_id, referred)
                                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                            )
                            .bind(&claim.claim_id)
                            .bind(person_id)
                            .bind(claim.facility_level.as_str())
                            .bind(claim.kind.as_str())
                            .bind(claim.admitted)
                            .bind(claim.discharged)
                            .bind(year as i64)
                            .bind(claim.total_cost.0)
                            .bind(claim.eligible_cost.0)
                            .bind(&claim.diagnosis)
                            .bind(&claim.facility_id)
                            .bind(claim.referred)
                            .execute(&mut *tx)
                            .await
                            .ctx(&ctx)?;
                            if !bill.is_empty() {
                                crate::items::insert_items(&mut tx, &[(&claim.claim_key(), bill.as_slice())], &ctx)
                                    .await?;
                            }
                        }
                        sqlx::query(
                            "INSERT INTO settlements (claim_id, person_id, year, policy_id, policy_version, total_cost, eligible_cost,
                             out_of_pocket, status, settled_at, settled_by, explanation, facility_id, enrolled)
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                        )
                        .bind(&claim.claim_id)
                        .bind(person_id)
                        .bind(year as i64)
                        .bind(rec.id)
                        .bind(rec.version)
                        .bind(claim.total_cost.0)
                        .bind(claim.eligible_cost.0)
                        .bind(out_of_pocket.0)
                        .bind(status.as_str())
                        .bind(at)
                        .bind(actor)
                        .bind(&explanation)
                        .bind(&claim.facility_id)
                        .bind(enrolled)
                        .execute(&mut *tx)
                        .await
                        .ctx(&ctx)?;
                        let pay_sql = format!(
                            "INSERT INTO settlement_payments (claim_id, facility_id, position, tier, amount) VALUES {}",
                            placeholders(rules.tiers().len(), 5)
                        );
                        let mut q = sqlx::query(&pay_sql);
                        for (i, (name, amount)) in rules.tiers().iter().zip(&payments).enumerate() {
                            q = q.bind(&claim.claim_id).bind(&claim.facility_id).bind(i as i64).bind(name).bind(amount.0);
                        }
                        q.execute(&mut *tx).await.ctx(&ctx)?;
                        inserted.claims_of(person_id, Some(village.as_u64() as i64));
                        let acc_sql = format!(
                            "INSERT INTO accumulators (person_id, year, tier, base, oop, paid) VALUES {}
                             ON CONFLICT (person_id, year, tier) DO UPDATE SET base = excluded.base, oop = excluded.oop, paid = excluded.paid",
                            placeholders(rules.tiers().len(), 6)
                        );
                        let mut q = sqlx::query(&acc_sql);
                        for (name, a) in rules.tiers().iter().zip(&acc) {
                            q = q.bind(person_id).bind(year as i64).bind(name).bind(a.base.0).bind(a.unpaid.0).bind(a.paid.0);
                        }
                        q.execute(&mut *tx).await.ctx(&ctx)?;
                        // The audit row commits with the settlement: an acknowledged
                        // settlement always has it.
                        let detail = format!("out of pocket {out_of_pocket}");
                        let actor = actor.to_string();
                        audit_in!(tx, at, actor, "settle", &key, village, detail, ctx);
                        Ok(RealtimeSettlement {
                            claim: claim.clone(),
                            person: claim.person_id,
                            year,
                            status,
                            enrolled,
                            payments: named(rules.as_ref(), &payments),
                            out_of_pocket,
                            total: claim.total_cost,
                            policy: rec,
                            replayed: false,
                            explanation,
                            items: match stored {
                                Some(s) if bill.is_empty() => s,
                                _ => bill.clone(),
                            },
                        })
                }
                .await;
                if let Err(e) = r {
                    if e.is_transient() {
                        return Err(e);
                    }
                    if single {
                        return Ok(vec![Err(e)]);
                    }
                    sqlx::query("ROLLBACK TO SAVEPOINT claim").execute(&mut *tx).await.ctx(&ctx)?;
                    sqlx::query("RELEASE SAVEPOINT claim").execute(&mut *tx).await.ctx(&ctx)?;
                    out.push(Err(e));
                    continue;
                }
                if !single {
                    sqlx::query("RELEASE SAVEPOINT claim").execute(&mut *tx).await.ctx(&ctx)?;
                }
                out.push(r);
            }
            crate::fresh::commit(tx, inserted, &ctx).await?;
            Ok(out)
        }.await)
    }

    /// Voids a settled claim (a refund, a correction) and re-settles the person's
    /// remaining settled claims of the year from zero in `(discharged, claim_id,
    /// facility_id)` order under the policy that settled the voided claim; the changed
    /// settlements and the person-year's accumulators are rewritten, all in one
    /// transaction. The voided claim and its settlement stay in the store, flagged,
    /// for the record.
    pub async fn void_claim(
        &self,
        engine: &dyn SettlementEngine,
        scope: &Scope,
        key: &ClaimKey,
        actor: &str,
    ) -> Result<VoidOutcome, StoreError> {
        let ctx = format!("voiding claim {key}");
        let claim_id = key.claim_id.as_str();
        let lock = if self.backend() == Backend::Postgres { " FOR UPDATE OF p" } else { "" };
        let head_sql = format!(
            "SELECT c.person_id, c.year, c.voided, h.village_code, s.policy_id, s.claim_id
             FROM claims c JOIN persons p ON p.person_id = c.person_id JOIN households h ON h.household_id = p.household_id
             LEFT JOIN settlements s ON s.claim_id = c.claim_id AND s.facility_id = c.facility_id
             WHERE c.claim_id = $1 AND c.facility_id = $2{lock}"
        );
        let at = now();
        let (rec, person, year, changes, settlements) = on_pool!(self, p => async {
            let mut tx = begin_write(p, &ctx).await?;
            let head: Option<VoidHead> = sqlx::query_as(&head_sql)
                .bind(claim_id)
                .bind(&key.facility_id)
                .fetch_optional(&mut *tx)
                .await
                .ctx(&ctx)?;
            let Some((person_id, year, voided, village, policy_id, settled)) = head else {
                return Err(not_found_claim(key));
            };
            if !scope.contains(region_of(village, &ctx)?) {
                return Err(not_found_claim(key));
            }
            if voided {
                return Err(StoreError::Constraint { context: ctx, detail: format!("claim {key} is voided already") });
            }
            if settled.is_none() {
                return Err(StoreError::Constraint {
                    context: ctx,
                    detail: format!("claim {key} has not been settled; there is nothing to void"),
                });
            }
            let t: Option<PolicyTuple> = match policy_id {
                Some(id) => sqlx::query_as(&format!("SELECT {POLICY_COLS} FROM policies WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await
                    .ctx(&ctx)?,
                None => None,
            };
            let rec = policy_from(t.ok_or_else(|| corrupt(&ctx, key, "the settlement names no stored policy"))?);
            let rules = rules_of(engine, &rec)?;
            let claims = person_year(&mut tx, rules.tiers(), person_id, year, &ctx).await?;
            // The payments written again, for the unit of work (see `fresh.rs`).
            let mut inserted = crate::fresh::Inserted::default();
            // The remaining claims settled again from zero, in settlement order.
            let zero = vec![Fen::ZERO; rules.tiers().len()];
            let mut acc = vec![TierAccumulator::default(); rules.tiers().len()];
            let mut changes = Vec::new();
            let mut rewrite = Vec::new();
            let mut settlements = Vec::new();
            for c in &claims {
                let this = c.key == *key;
                let (new_p, new_o) = if this {
                    (zero.clone(), Fen::ZERO)
                } else {
                    let (p, o) = rules.settle(&c.input, c.status, &mut acc);
                    settlements.push((c.key.clone(), p.clone(), o));
                    (p, o)
                };
                if new_p != c.payments || new_o != c.out_of_pocket {
                    changes.push(ClaimChange {
                        claim_id: c.key.claim_id.clone(),
                        facility_id: c.key.facility_id.clone(),
                        old: named(rules.as_ref(), &c.payments),
                        old_out_of_pocket: c.out_of_pocket,
                        new: named(rules.as_ref(), &new_p),
                        new_out_of_pocket: new_o,
                    });
                    if !this {
                        rewrite.push((c.key.clone(), new_p, new_o));
                    }
                }
            }
            // Each change kept as an adjustment (new minus old), for the
            // facilities' reconciliation (`desk.rs`): the void itself and the
            // corrections of the person's other claims.
            let cause = key.to_string();
            for ch in &changes {
                let prior: DateTime<Utc> =
                    sqlx::query_scalar("SELECT settled_at FROM settlements WHERE claim_id = $1 AND facility_id = $2")
                        .bind(&ch.claim_id)
                        .bind(&ch.facility_id)
                        .fetch_one(&mut *tx)
                        .await
                        .ctx(&ctx)?;
                let kind = if ch.claim_id == key.claim_id && ch.facility_id == key.facility_id {
                    "void"
                } else {
                    "correction"
                };
                let adj: i64 = sqlx::query_scalar(
                    "INSERT INTO settlement_adjustments
                     (claim_id, facility_id, kind, at, prior_settled_at, cause, out_of_pocket, actor)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                )
                .bind(&ch.claim_id)
                .bind(&ch.facility_id)
                .bind(kind)
                .bind(at)
                .bind(prior)
                .bind(&cause)
                .bind((ch.new_out_of_pocket - ch.old_out_of_pocket).0)
                .bind(actor)
                .fetch_one(&mut *tx)
                .await
                .ctx(&ctx)?;
                let adj_sql = format!(
                    "INSERT INTO settlement_adjustment_payments (adjustment_id, position, tier, amount) VALUES {}",
                    placeholders(ch.new.len(), 4)
                );
                let mut q = sqlx::query(&adj_sql);
                for (i, ((name, n), (_, o))) in ch.new.iter().zip(&ch.old).enumerate() {
                    q = q.bind(adj).bind(i as i64).bind(name).bind((*n - *o).0);
                }
                if !ch.new.is_empty() {
                    q.execute(&mut *tx).await.ctx(&ctx)?;
                }
            }
            sqlx::query(
                "UPDATE claims SET voided = TRUE, voided_at = $1, voided_by = $2 WHERE claim_id = $3 AND facility_id = $4",
            )
            .bind(at)
            .bind(actor)
            .bind(claim_id)
            .bind(&key.facility_id)
            .execute(&mut *tx)
            .await
            .ctx(&ctx)?;
            for (id, payments, out_of_pocket) in &rewrite {
                sqlx::query(
                    "UPDATE settlements SET out_of_pocket = $1, policy_id = $2, policy_version = $3, settled_at = $4,
                     settled_by = $5, explanation = NULL WHERE claim_id = $6 AND facility_id = $7",
                )
                .bind(out_of_pocket.0)
                .bind(rec.id)
                .bind(rec.version)
                .bind(at)
                .bind(actor)
                .bind(&id.claim_id)
                .bind(&id.facility_id)
                .execute(&mut *tx)
                .await
                .ctx(&ctx)?;
                sqlx::query("DELETE FROM settlement_payments WHERE claim_id = $1 AND facility_id = $2")
                    .bind(&id.claim_id)
                    .bind(&id.facility_id)
                    .execute(&mut *tx)
                    .await
                    .ctx(&ctx)?;
                let pay_sql = format!(
                    "INSERT INTO settlement_payments (claim_id, facility_id, position, tier, amount) VALUES {}",
                    placeholders(rules.tiers().len(), 5)
                );
                let mut q = sqlx::query(&pay_sql);
                for (i, (name, amount)) in rules.tiers().iter().zip(payments).enumerate() {
                    q = q.bind(&id.claim_id).bind(&id.facility_id).bind(i as i64).bind(name).bind(amount.0);
                }
                q.execute(&mut *tx).await.ctx(&ctx)?;
                inserted.claims_of(person_id, Some(village));
            }
            sqlx::query("DELETE FROM accumulators WHERE person_id = $1 AND year = $2")
                .bind(person_id)
                .bind(year)
                .execute(&mut *tx)
                .await
                .ctx(&ctx)?;
            let acc_sql = format!(
                "INSERT INTO accumulators (person_id, year, tier, base, oop, paid) VALUES {}",
                placeholders(rules.tiers().len(), 6)
            );
            let mut q = sqlx::query(&acc_sql);
            for (name, a) in rules.tiers().iter().zip(&acc) {
                q = q.bind(person_id).bind(year).bind(name).bind(a.base.0).bind(a.unpaid.0).bind(a.paid.0);
            }
            q.execute(&mut *tx).await.ctx(&ctx)?;
            let actor = actor.to_string();
            let detail = format!("{} settlements of the year changed", changes.len());
            let object = key.to_string();
            audit_in!(tx, at, actor, "void_claim", &object, region_of(village, &ctx)?, detail, ctx);
            crate::fresh::commit(tx, inserted, &ctx).await?;
            Ok::<_, StoreError>((rec, person_id, year, changes, settlements))
        }.await)?;
        Ok(VoidOutcome {
            claim_id: key.claim_id.clone(),
            facility_id: key.facility_id.clone(),
            person: crate::registry::resident_id(person, "voiding a claim")?,
            year: year as i32,
            policy: rec,
            changes,
            settlements,
        })
    }

    /// Settles every unsettled, unvoided claim of `year` inside `scope`, in
    /// `(discharged, claim_id, facility_id)` order on top of the accumulators stored, each claim
    /// under the policy in force for its person's village; the results are stored.
    /// A claim whose region has no policy for the year is left unsettled and
    /// counted per village, not guessed.
    ///
    /// The work goes by runs of whole villages of about [`SETTLE_CHUNK`] claims,
    /// each in one transaction: a person's year lies in one village, so every
    /// chunk settles whole person-years, memory stays flat on a province, and a run
    /// that stops half-way leaves whole villages settled; running it again settles
    /// the rest (settled claims are never settled twice).
    pub async fn settle_stored(
        &self,
        engine: &dyn SettlementEngine,
        scope: &Scope,
        year: i32,
        actor: &str,
    ) -> Result<BatchCounts, StoreError> {
        self.settle_stored_in_chunks(engine, scope, year, actor, SETTLE_CHUNK).await
    }

    /// [`Store::settle_stored`] with runs of about `chunk` claims (for tests).
    #[doc(hidden)]
    pub async fn settle_stored_in_chunks(
        &self,
        engine: &dyn SettlementEngine,
        scope: &Scope,
        year: i32,
        actor: &str,
        chunk: i64,
    ) -> Result<BatchCounts, StoreError> {
        let ctx = format!("settling the stored claims of {year}");
        let (lo, hi) = scope.code_range();
        // The scope's settled claims (voided or not): counted from the year's
        // index for every region, else from the scope's households down.
        let settled_sql = if scope.prefix().is_empty() {
            "SELECT COUNT(*) FROM settlements s WHERE s.year = $1 AND $2 <= $3"
        } else {
            "SELECT COUNT(*) FROM households h CROSS JOIN persons p CROSS JOIN settlements s
             WHERE p.household_id = h.household_id AND s.person_id = p.person_id AND s.year = $1
             AND h.village_code BETWEEN $2 AND $3"
        };
        // The scope's voided claims (few; a partial index holds them), and how many
        // of them had been settled.
        let voided_sql = "SELECT COUNT(*),
                    COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM settlements s
                        WHERE s.claim_id = c.claim_id AND s.facility_id = c.facility_id) THEN 1 ELSE 0 END), 0)
             FROM claims c JOIN persons p ON p.person_id = c.person_id JOIN households h ON h.household_id = p.household_id
             WHERE c.voided AND c.year = $1 AND h.village_code BETWEEN $2 AND $3";
        let villages_sql =
            format!("SELECT h.village_code, COUNT(*) FROM {UNSETTLED} GROUP BY h.village_code ORDER BY h.village_code");
        type Read = (i64, (i64, i64), Vec<(i64, i64)>);
        let (settled, (voided, voided_settled), villages): Read = on_pool!(self, p => {
            let settled = sqlx::query_scalar(settled_sql).bind(year as i64).bind(lo).bind(hi).fetch_one(p).await.ctx(&ctx)?;
            let voided = sqlx::query_as(voided_sql).bind(year as i64).bind(lo).bind(hi).fetch_one(p).await.ctx(&ctx)?;
            let villages = sqlx::query_as(&villages_sql).bind(year as i64).bind(lo).bind(hi).fetch_all(p).await.ctx(&ctx)?;
            (settled, voided, villages)
        });
        let already = settled - voided_settled;
        let mut counts = BatchCounts { voided: voided as u64, already_settled: already as u64, ..Default::default() };
        // Runs of whole villages of about `chunk` claims, covering lo..=hi.
        let mut ranges: Vec<(i64, i64)> = Vec::new();
        let (mut start, mut in_run) = (lo, 0i64);
        for (village, n) in villages {
            if in_run > 0 && in_run + n > chunk.max(1) {
                ranges.push((start, village - 1));
                (start, in_run) = (village, 0);
            }
            in_run += n;
        }
        if in_run > 0 {
            ranges.push((start, hi));
        }
        // Several runs: each reads its villages' claims from the villages down
        // (see [`UNSETTLED_BY_VILLAGE`]); one run (a few new claims among a year
        // settled before) walks the year's index once. PostgreSQL always goes
        // from the villages (it plans the joins itself).
        let by_village = ranges.len() > 1 || self.backend() == Backend::Postgres;
        for (a, b) in ranges {
            let part = self.settle_range(engine, a, b, year, actor, by_village).await?;
            counts.settled += part.settled;
            counts.without_policy += part.without_policy;
            counts.persons += part.persons;
            counts.missing_policies.extend(part.missing_policies);
        }
        counts.missing_policies.sort();
        Ok(counts)
    }

    /// Settles the unsettled claims of `year` of the villages whose codes lie in
    /// `lo..=hi`, in one transaction (see [`Store::settle_stored`]).
    async fn settle_range(
        &self,
        engine: &dyn SettlementEngine,
        lo: i64,
        hi: i64,
        year: i32,
        actor: &str,
        by_village: bool,
    ) -> Result<BatchCounts, StoreError> {
        let ctx = format!("settling the stored claims of {year} in villages {lo} to {hi}");
        let at = now();
        let backend = self.backend();
        let from = if by_village { UNSETTLED_BY_VILLAGE } else { UNSETTLED };
        // PostgreSQL locks the persons first, in key order, and reads their claims
        // in a second statement, which sees whatever a real-time settlement it
        // waited for committed.
        let lock_sql = format!(
            "SELECT p.person_id FROM persons p WHERE p.person_id IN (SELECT c.person_id FROM {from})
             ORDER BY p.person_id FOR UPDATE OF p"
        );
        let claims_sql = format!(
            "SELECT {CLAIM_COLS}, p.status, h.village_code,
                    EXISTS (SELECT 1 FROM enrolments e WHERE e.person_id = c.person_id AND e.year = c.year)
             FROM {from}"
        );
        let policies_sql = format!("SELECT {POLICY_COLS} FROM policies WHERE year = $1 ORDER BY region, version");
        type Rules = Arc<dyn SettlementRules>;
        let max_binds = self.max_binds();
        on_pool!(self, p => async {
            let mut tx = begin_write(p, &ctx).await?;
            if backend == Backend::Postgres {
                sqlx::query(&lock_sql).bind(year as i64).bind(lo).bind(hi).execute(&mut *tx).await.ctx(&ctx)?;
            }
            let mut counts = BatchCounts::default();
            let mut claims = read_unsettled(&mut tx, &claims_sql, year as i64, lo, hi, &ctx).await?;
            if claims.is_empty() {
                tx.commit().await.ctx(&ctx)?;
                return Ok(counts);
            }
            // Every policy of the year; the engine says which is in force where,
            // and the rules of each one in force are read once.
            let all: Vec<PolicyTuple> = sqlx::query_as(&policies_sql).bind(year as i64).fetch_all(&mut *tx).await.ctx(&ctx)?;
            let all: Vec<PolicyRecord> = all.into_iter().map(policy_from).collect();
            let mut rules: HashMap<usize, Rules> = HashMap::new();
            // Settlement order: (discharged, claim_id, facility_id).
            claims.sort_by(|a, b| {
                (a.0.discharged, &a.0.claim_id, &a.0.facility_id).cmp(&(b.0.discharged, &b.0.claim_id, &b.0.facility_id))
            });
            let mut stored_acc: HashMap<i64, Vec<(String, i64, i64, i64)>> = HashMap::new();
            // The accumulators of the persons of the claims read (not a second walk
            // of the year's claims).
            let mut pids: Vec<i64> = claims.iter().map(|c| c.0.person_id.as_u64() as i64).collect();
            pids.sort_unstable();
            pids.dedup();
            for part in pids.chunks((max_binds - 1).max(1)) {
                let acc_sql = format!(
                    "SELECT a.person_id, a.tier, a.base, a.oop, a.paid FROM accumulators a
                     WHERE a.year = $1 AND a.person_id IN ({})",
                    list(2, part.len())
                );
                let mut q = sqlx::query_as(&acc_sql).bind(year as i64);
                for pid in part {
                    q = q.bind(*pid);
                }
                let acc_rows: Vec<(i64, String, i64, i64, i64)> = q.fetch_all(&mut *tx).await.ctx(&ctx)?;
                for (pid, tier, base, oop, paid) in acc_rows {
                    stored_acc.entry(pid).or_default().push((tier, base, oop, paid));
                }
            }
            let mut village_policy: HashMap<RegionCode, Option<usize>> = HashMap::new();
            let mut accs: HashMap<i64, (usize, Vec<TierAccumulator>)> = HashMap::new();
            let mut missing: HashMap<RegionCode, u64> = HashMap::new();
            // claim index, policy index, payments, out-of-pocket
            let mut results: Vec<(usize, usize, Vec<Fen>, Fen)> = Vec::with_capacity(claims.len());
            for (i, (c, status, village, enrolled)) in claims.iter().enumerate() {
                let pi = match village_policy.get(village) {
                    Some(pi) => *pi,
                    None => {
                        let code = village.to_string();
                        let candidates: Vec<usize> =
                            (0..all.len()).filter(|&k| code.starts_with(all[k].region.as_str())).collect();
                        let mine: Vec<PolicyRecord> = candidates.iter().map(|&k| all[k].clone()).collect();
                        let pi = engine.in_force(&mine, *village, year).map(|j| candidates[j]);
                        if let Some(k) = pi {
                            if let std::collections::hash_map::Entry::Vacant(e) = rules.entry(k) {
                                e.insert(rules_of(engine, &all[k])?);
                            }
                        }
                        village_policy.insert(*village, pi);
                        pi
                    }
                };
                let Some(pi) = pi else {
                    *missing.entry(*village).or_default() += 1;
                    continue;
                };
                let r = &rules[&pi];
                let pid = c.person_id.as_u64() as i64;
                let (_, acc) = accs.entry(pid).or_insert_with(|| {
                    (pi, accumulators_from(r.as_ref(), stored_acc.get(&pid).map(|v| v.as_slice()).unwrap_or(&[])))
                });
                let input = ClaimInput { enrolled: *enrolled, ..ClaimInput::from(c) };
                let (payments, out_of_pocket) = r.settle(&input, *status, acc);
                results.push((i, pi, payments, out_of_pocket));
            }
            counts.settled = results.len() as u64;
            counts.without_policy = missing.values().sum();
            counts.missing_policies = missing.into_iter().collect();
            counts.missing_policies.sort();
            counts.persons = accs.len() as u64;
            let mut settled: Vec<BatchRow<'_>> = results
                .iter()
                .map(|(i, pi, _, oop)| {
                    let (c, status, _, enrolled) = &claims[*i];
                    let rec = &all[*pi];
                    BatchRow {
                        claim_id: c.claim_id.as_str(),
                        facility_id: c.facility_id.as_str(),
                        person: c.person_id.as_u64() as i64,
                        policy_id: rec.id,
                        policy_version: rec.version,
                        total_cost: c.total_cost.0,
                        eligible_cost: c.eligible_cost.0,
                        out_of_pocket: oop.0,
                        status: status.as_str(),
                        enrolled: *enrolled,
                    }
                })
                .collect();
            let mut pays: Vec<(&str, &str, i64, &str, i64)> = results
                .iter()
                .flat_map(|(i, pi, p, _)| {
                    let (id, f) = (claims[*i].0.claim_id.as_str(), claims[*i].0.facility_id.as_str());
                    rules[pi].tiers().iter().zip(p).enumerate().map(move |(k, (n, a))| (id, f, k as i64, n.as_str(), a.0))
                })
                .collect();
            let mut acc_out: Vec<(i64, &str, TierAccumulator)> = Vec::new();
            for (pid, (pi, acc)) in &accs {
                for (n, a) in rules[pi].tiers().iter().zip(acc) {
                    acc_out.push((*pid, n.as_str(), *a));
                }
            }
            // Each table's rows in the order of its key: a run's claims lie
            // spread over the whole key space (they come by village and
            // discharge), so rows in that order would insert into the key's
            // B-tree at random leaves; in key order each leaf is visited once.
            settled.sort_unstable_by(|a, b| (a.claim_id, a.facility_id).cmp(&(b.claim_id, b.facility_id)));
            pays.sort_unstable_by(|a, b| (a.0, a.1, a.2).cmp(&(b.0, b.1, b.2)));
            acc_out.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
            let batch = Batch { year: year as i64, at, actor, settled, payments: pays, accumulators: acc_out };
            write_batch(&mut tx, &batch, max_binds, &ctx).await?;
            // The persons and villages of the claims settled, for the unit of
            // work (see `fresh.rs`).
            let mut inserted = crate::fresh::Inserted::default();
            for (i, ..) in &results {
                let (c, _, village, _) = &claims[*i];
                inserted.claims_of(c.person_id.as_u64() as i64, Some(village.as_u64() as i64));
            }
            crate::fresh::commit(tx, inserted, &ctx).await?;
            Ok(counts)
        }.await)
    }

    /// The settlements of a person inside the scope (voided ones flagged), in
    /// `(discharged, claim_id, facility_id)` order; empty for a person outside it.
    pub async fn settlements_of(&self, scope: &Scope, person: ResidentId) -> Result<Vec<StoredSettlement>, StoreError> {
        self.read_settlements(scope, "s.person_id = $3", SettlementKey::Person(person.as_u64() as i64)).await
    }

    /// One settlement by its claim's key, if it is stored and inside the scope.
    pub async fn settlement(&self, scope: &Scope, key: &ClaimKey) -> Result<Option<StoredSettlement>, StoreError> {
        Ok(self
            .read_settlements(scope, "s.claim_id = $3 AND s.facility_id = $4", SettlementKey::Claim(key))
            .await?
            .pop())
    }

    /// The facilities at which a claim ID is stored, of the claims of persons
    /// inside the scope, in order: for a claim named without its facility (the
    /// command line), which must be one. Another county's claims are not named.
    pub async fn claim_facilities(&self, scope: &Scope, claim_id: &str) -> Result<Vec<String>, StoreError> {
        let (lo, hi) = scope.code_range();
        let sql = "SELECT c.facility_id FROM claims c JOIN persons p ON p.person_id = c.person_id
             JOIN households h ON h.household_id = p.household_id
             WHERE c.claim_id = $1 AND h.village_code BETWEEN $2 AND $3 ORDER BY c.facility_id";
        on_pool!(self, p => {
            sqlx::query_scalar(sql)
                .bind(claim_id)
                .bind(lo)
                .bind(hi)
                .fetch_all(p)
                .await
                .ctx(format!("looking up the facilities of claim {claim_id}"))
        })
    }

    async fn read_settlements(
        &self,
        scope: &Scope,
        filter: &str,
        key: SettlementKey<'_>,
    ) -> Result<Vec<StoredSettlement>, StoreError> {
        let ctx = "reading settlements";
        let (lo, hi) = scope.code_range();
        let sql = format!(
            "SELECT s.claim_id, s.person_id, s.year, c.discharged, s.status, s.policy_id, s.policy_version, s.total_cost,
                    s.eligible_cost, s.out_of_pocket, s.settled_at, s.settled_by, c.voided, s.explanation, s.facility_id,
                    s.enrolled
             FROM settlements s JOIN claims c ON c.claim_id = s.claim_id AND c.facility_id = s.facility_id
             JOIN persons p ON p.person_id = s.person_id JOIN households h ON h.household_id = p.household_id
             WHERE h.village_code BETWEEN $1 AND $2 AND {filter} ORDER BY c.discharged, s.claim_id, s.facility_id"
        );
        let pay_sql = format!(
            "SELECT sp.claim_id, sp.facility_id, sp.tier, sp.amount FROM settlement_payments sp
             JOIN settlements s ON s.claim_id = sp.claim_id AND s.facility_id = sp.facility_id
             JOIN persons p ON p.person_id = s.person_id JOIN households h ON h.household_id = p.household_id
             WHERE h.village_code BETWEEN $1 AND $2 AND {filter} ORDER BY sp.claim_id, sp.facility_id, sp.position"
        );
        type Row = (
            String,
            i64,
            i64,
            NaiveDate,
            String,
            Option<i64>,
            Option<i64>,
            i64,
            i64,
            i64,
            DateTime<Utc>,
            String,
            bool,
            Option<String>,
            String,
            bool,
        );
        let (rows, pays): (Vec<Row>, Vec<PayRow>) = on_pool!(self, p => {
            macro_rules! bind_key {
                ($q:expr) => {
                    match key {
                        SettlementKey::Person(v) => $q.bind(v),
                        SettlementKey::Claim(k) => $q.bind(&k.claim_id).bind(&k.facility_id),
                    }
                };
            }
            let q = sqlx::query_as(&sql).bind(lo).bind(hi);
            let rows: Vec<Row> = bind_key!(q).fetch_all(p).await.ctx(ctx)?;
            let q = sqlx::query_as(&pay_sql).bind(lo).bind(hi);
            let pays: Vec<PayRow> = bind_key!(q).fetch_all(p).await.ctx(ctx)?;
            (rows, pays)
        });
        let mut by_claim: HashMap<(String, String), Vec<(String, Fen)>> = HashMap::new();
        for (c, f, t, a) in pays {
            by_claim.entry((c, f)).or_default().push((t, Fen(a)));
        }
        rows.into_iter()
            .map(|r| {
                Ok(StoredSettlement {
                    payments: by_claim.remove(&(r.0.clone(), r.14.clone())).unwrap_or_default(),
                    facility_id: r.14,
                    claim_id: r.0,
                    person: crate::registry::resident_id(r.1, ctx)?,
                    year: r.2 as i32,
                    discharged: r.3,
                    status: status_of(&r.4, ctx)?,
                    policy_id: r.5,
                    policy_version: r.6,
                    total_cost: Fen(r.7),
                    eligible_cost: Fen(r.8),
                    out_of_pocket: Fen(r.9),
                    settled_at: r.10,
                    settled_by: r.11,
                    voided: r.12,
                    explanation: r.13,
                    enrolled: r.15,
                })
            })
            .collect()
    }

    /// Why a stored claim settled as it did: the text stored with a real-time
    /// settlement, or, for a batch one, the explanation recomputed by replaying
    /// the person's settled claims of the year in `(discharged, claim_id,
    /// facility_id)` order up to it. `None` when the claim is not settled or lies
    /// outside the scope.
    pub async fn explain_stored(
        &self,
        engine: &dyn SettlementEngine,
        scope: &Scope,
        key: &ClaimKey,
    ) -> Result<Option<String>, StoreError> {
        let Some(s) = self.settlement(scope, key).await? else { return Ok(None) };
        if let Some(text) = s.explanation {
            return Ok(Some(text));
        }
        let Some(id) = s.policy_id else { return Ok(None) };
        let Some(rec) = self.policy_by_id(id).await? else { return Ok(None) };
        let rules = rules_of(engine, &rec)?;
        let ctx = format!("explaining claim {key}");
        let person = s.person.as_u64() as i64;
        let claims = on_pool!(self, p => async {
            let mut tx = p.begin().await.ctx(&ctx)?;
            let r = person_year(&mut tx, rules.tiers(), person, s.year as i64, &ctx).await;
            tx.commit().await.ctx(&ctx)?;
            r
        }.await)?;
        let mut acc = vec![TierAccumulator::default(); rules.tiers().len()];
        for c in &claims {
            if c.key == *key {
                return Ok(Some(rules.explain(&c.input, c.status, &acc)));
            }
            rules.settle(&c.input, c.status, &mut acc);
        }
        Ok(None)
    }
}

#[derive(Clone, Copy)]
enum SettlementKey<'a> {
    Person(i64),
    Claim(&'a ClaimKey),
}

/// A settled claim of a person's year, with its stored settlement.
struct YearClaim {
    key: ClaimKey,
    status: PovertyStatus,
    input: ClaimInput,
    /// In the order of the tiers asked for.
    payments: Vec<Fen>,
    out_of_pocket: Fen,
}

/// A person's settled, unvoided claims of a year in `(discharged, claim_id,
/// facility_id)` order, with their stored settlements aligned to `tiers`.
async fn person_year<DB>(
    tx: &mut sqlx::Transaction<'static, DB>,
    tiers: &[String],
    person_id: i64,
    year: i64,
    ctx: &str,
) -> Result<Vec<YearClaim>, StoreError>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    i64: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB> + for<'r> sqlx::Decode<'r, DB>,
    String: for<'r> sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    NaiveDate: for<'r> sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    bool: for<'r> sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    let rows: Vec<PersonYearRow> = sqlx::query_as(
        "SELECT c.claim_id, c.facility_id, c.discharged, c.facility_level, c.kind, c.total_cost, c.eligible_cost, s.status,
                s.out_of_pocket, s.enrolled, c.referred
         FROM claims c JOIN settlements s ON s.claim_id = c.claim_id AND s.facility_id = c.facility_id
         WHERE c.person_id = $1 AND c.year = $2 AND NOT c.voided ORDER BY c.discharged, c.claim_id, c.facility_id",
    )
    .bind(person_id)
    .bind(year)
    .fetch_all(&mut **tx)
    .await
    .ctx(ctx)?;
    let pays: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT sp.claim_id, sp.facility_id, sp.tier, sp.amount FROM settlement_payments sp
         JOIN claims c ON c.claim_id = sp.claim_id AND c.facility_id = sp.facility_id
         WHERE c.person_id = $1 AND c.year = $2 AND NOT c.voided",
    )
    .bind(person_id)
    .bind(year)
    .fetch_all(&mut **tx)
    .await
    .ctx(ctx)?;
    let mut by_claim: HashMap<ClaimKey, Vec<Fen>> = HashMap::new();
    for (c, f, tier, amount) in pays {
        if let Some(i) = tiers.iter().position(|n| *n == tier) {
            by_claim.entry(ClaimKey { facility_id: f, claim_id: c }).or_insert_with(|| vec![Fen::ZERO; tiers.len()])
                [i] = Fen(amount);
        }
    }
    let mut claims = Vec::with_capacity(rows.len());
    for (id, facility, _discharged, level, kind, total, eligible, status, oop, enrolled, referred) in rows {
        let key = ClaimKey { facility_id: facility, claim_id: id };
        let input = ClaimInput {
            level: level.parse().map_err(|e| corrupt(ctx, &level, e))?,
            kind: kind.parse().map_err(|e| corrupt(ctx, &kind, e))?,
            total_cost: Fen(total),
            eligible_cost: Fen(eligible),
            enrolled,
            referred,
        };
        let payments = by_claim.remove(&key).unwrap_or_else(|| vec![Fen::ZERO; tiers.len()]);
        claims.push(YearClaim { key, status: status_of(&status, ctx)?, input, payments, out_of_pocket: Fen(oop) });
    }
    Ok(claims)
}

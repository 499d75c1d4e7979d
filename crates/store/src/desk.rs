//! The hospital desk (migration 16, docs/desk.md): admissions under "treat
//! first, pay later" (先诊疗后付费) with the patient's instalments, and the
//! adjustments a void makes to settlements (the void itself and the corrections
//! of the person's other claims), kept so that a facility's daily
//! reconciliation shows them as lines of their own.
//!
//! What a patient owes on an admission is read, never stored: the
//! out-of-pocket of the settlement of the claim the admission names, while that
//! claim is not voided. A payment is taken in the transaction that reads the
//! balance, so two clerks cannot take more than is owed between them.

use crate::db::{begin_write, now, on_pool, Backend, Page, Scope, Store};
use crate::error::{corrupt, Ctx, StoreError};
use crate::settlements::region_of;
use chrono::{DateTime, NaiveDate, Utc};
use domain::{Fen, PovertyStatus, RegionCode, ResidentId};
use sqlx::Row;

/// Migration 25: the facility a clerk's account is bound to (`NULL`: any of
/// its region scope), and whether a claim came with a referral (转诊; older
/// claims were not marked: not referred, which only a policy entry with
/// `when.referred` for levels above the county can tell apart).
pub(crate) const V25: &str = r#"
ALTER TABLE users ADD COLUMN facility_id TEXT;
ALTER TABLE claims ADD COLUMN referred BOOLEAN NOT NULL DEFAULT FALSE
"#;

/// Migration 16: admissions, their payments, and the adjustments of settlements
/// made by voids. A released migration: never edited; a change is a new one.
pub(crate) const V16: &str = r#"
CREATE TABLE admissions (
    id {id},
    person_id BIGINT NOT NULL REFERENCES persons (person_id),
    facility_id TEXT NOT NULL REFERENCES facilities (facility_id),
    region_code BIGINT NOT NULL,
    admitted DATE NOT NULL,
    status TEXT NOT NULL,
    deposit_waived BOOLEAN NOT NULL,
    claim_id TEXT,
    created_by TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX admissions_facility ON admissions (facility_id, admitted);
CREATE INDEX admissions_region ON admissions (region_code);
CREATE INDEX admissions_person ON admissions (person_id);
CREATE UNIQUE INDEX admissions_claim ON admissions (facility_id, claim_id);

CREATE TABLE admission_payments (
    id {id},
    admission_id BIGINT NOT NULL REFERENCES admissions (id),
    amount BIGINT NOT NULL CHECK (amount > 0),
    paid_on DATE NOT NULL,
    method TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX admission_payments_admission ON admission_payments (admission_id);

CREATE TABLE settlement_adjustments (
    id {id},
    claim_id TEXT NOT NULL,
    facility_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('void', 'correction')),
    at TIMESTAMPTZ NOT NULL,
    prior_settled_at TIMESTAMPTZ NOT NULL,
    cause TEXT NOT NULL,
    out_of_pocket BIGINT NOT NULL,
    actor TEXT NOT NULL
);
CREATE INDEX settlement_adjustments_facility ON settlement_adjustments (facility_id, at);
CREATE INDEX settlement_adjustments_claim ON settlement_adjustments (claim_id, facility_id);

CREATE TABLE settlement_adjustment_payments (
    adjustment_id BIGINT NOT NULL REFERENCES settlement_adjustments (id),
    position BIGINT NOT NULL,
    tier TEXT NOT NULL,
    amount BIGINT NOT NULL,
    PRIMARY KEY (adjustment_id, position)
)
"#;

/// An admission to record.
#[derive(Debug, Clone)]
pub struct NewAdmission {
    pub person: ResidentId,
    pub facility_id: String,
    pub admitted: NaiveDate,
}

/// A payment to take on an admission.
#[derive(Debug, Clone)]
pub struct NewAdmissionPayment {
    pub amount: Fen,
    pub paid_on: NaiveDate,
    pub method: String,
}

/// A payment taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAdmissionPayment {
    pub id: i64,
    pub amount: Fen,
    pub paid_on: NaiveDate,
    pub method: String,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

/// An admission as kept, with what is owed on it and what was paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAdmission {
    pub id: i64,
    pub person: ResidentId,
    pub name: String,
    pub village: RegionCode,
    pub facility_id: String,
    /// The facility's region (the admission's scope).
    pub region: RegionCode,
    pub admitted: NaiveDate,
    /// The patient's status when admitted.
    pub status: PovertyStatus,
    pub deposit_waived: bool,
    /// The claim the bill was settled as, at the admission's facility.
    pub claim_id: Option<String>,
    /// True when that claim has been voided since.
    pub claim_voided: bool,
    /// The claim's discharge day (when the patient's share fell due).
    pub discharged: Option<NaiveDate>,
    /// The settlement's out-of-pocket, while the claim is settled and not voided.
    pub owed: Fen,
    pub paid: Fen,
    pub payments: Vec<StoredAdmissionPayment>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

impl StoredAdmission {
    /// What is still owed (negative: paid beyond what is owed now, to refund).
    pub fn balance(&self) -> Fen {
        self.owed - self.paid
    }
}

/// A settlement at a facility as the reconciliation reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacilitySettlement {
    pub claim_id: String,
    pub person: ResidentId,
    pub settled_at: DateTime<Utc>,
    pub voided: bool,
    /// The payments as stored now, in the policy's tier order.
    pub payments: Vec<(String, Fen)>,
    pub out_of_pocket: Fen,
}

/// A void or a correction of a settlement, as differences (new minus old).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettlementAdjustment {
    pub claim_id: String,
    pub person: ResidentId,
    pub facility_id: String,
    /// `void` or `correction`.
    pub kind: String,
    pub at: DateTime<Utc>,
    /// When the settlement adjusted had been made (or last re-settled).
    pub prior_settled_at: DateTime<Utc>,
    /// The voided claim's key that caused it.
    pub cause: String,
    pub payments: Vec<(String, Fen)>,
    pub out_of_pocket: Fen,
}

/// An adjustment as read: id, claim, person, kind, at, prior settled at, cause, out-of-pocket.
type AdjustmentRow = (i64, String, i64, String, DateTime<Utc>, DateTime<Utc>, String, i64);

fn rejected(ctx: &str, reason: impl Into<String>) -> StoreError {
    StoreError::Rejected { context: ctx.to_string(), reason: reason.into() }
}

fn not_found(id: i64) -> StoreError {
    StoreError::NotFound { kind: "admission", key: id.to_string() }
}

const ADMISSION_COLS: &str = "a.id, a.person_id, p.name, h.village_code, a.facility_id, a.region_code, a.admitted,
    a.status, a.deposit_waived, a.claim_id, a.created_by, a.created_at, c.voided AS claim_voided, c.discharged AS claim_discharged,
    s.out_of_pocket AS settled_oop,
    (SELECT CAST(COALESCE(SUM(x.amount), 0) AS BIGINT) FROM admission_payments x WHERE x.admission_id = a.id) AS paid";

const ADMISSION_FROM: &str = "admissions a JOIN persons p ON p.person_id = a.person_id
    JOIN households h ON h.household_id = p.household_id
    LEFT JOIN claims c ON c.claim_id = a.claim_id AND c.facility_id = a.facility_id
    LEFT JOIN settlements s ON s.claim_id = a.claim_id AND s.facility_id = a.facility_id";

macro_rules! admission_of {
    ($r:expr) => {{
        let r = $r;
        let ctx = "reading an admission";
        let id: i64 = r.try_get("id").ctx(ctx)?;
        let person: i64 = r.try_get("person_id").ctx(ctx)?;
        let status: String = r.try_get("status").ctx(ctx)?;
        let claim_id: Option<String> = r.try_get("claim_id").ctx(ctx)?;
        let voided: Option<bool> = r.try_get("claim_voided").ctx(ctx)?;
        let oop: Option<i64> = r.try_get("settled_oop").ctx(ctx)?;
        let claim_voided = claim_id.is_some() && voided.unwrap_or(false);
        let owed = match (&claim_id, voided, oop) {
            (Some(_), Some(false), Some(o)) => Fen(o),
            _ => Fen::ZERO,
        };
        StoredAdmission {
            id,
            person: crate::registry::resident_id(person, ctx)?,
            name: r.try_get("name").ctx(ctx)?,
            village: region_of(r.try_get("village_code").ctx(ctx)?, ctx)?,
            facility_id: r.try_get("facility_id").ctx(ctx)?,
            region: region_of(r.try_get("region_code").ctx(ctx)?, ctx)?,
            admitted: r.try_get("admitted").ctx(ctx)?,
            status: status.parse().map_err(|e| corrupt(&format!("admission {id}"), &status, e))?,
            deposit_waived: r.try_get("deposit_waived").ctx(ctx)?,
            claim_id,
            claim_voided,
            discharged: r.try_get("claim_discharged").ctx(ctx)?,
            owed,
            paid: Fen(r.try_get::<i64, _>("paid").ctx(ctx)?),
            payments: Vec::new(),
            created_by: r.try_get("created_by").ctx(ctx)?,
            created_at: r.try_get("created_at").ctx(ctx)?,
        }
    }};
}

impl Store {
    /// Admits a person at a facility: both must lie inside the scope (either
    /// outside is answered as unknown). The person's status is read in the
    /// transaction and kept; `waive` decides from it whether the deposit is
    /// waived (the rule is the application's).
    pub async fn admit(
        &self,
        scope: &Scope,
        a: &NewAdmission,
        waive: &(dyn Fn(PovertyStatus) -> bool + Sync),
        actor: &str,
    ) -> Result<StoredAdmission, StoreError> {
        let ctx = format!("admitting {} at {}", a.person, a.facility_id);
        let at = now();
        let id = on_pool!(self, p => async {
            let mut tx = begin_write(p, &ctx).await?;
            let person: Option<(String, i64)> = sqlx::query_as(
                "SELECT p.status, h.village_code FROM persons p JOIN households h ON h.household_id = p.household_id
                 WHERE p.person_id = $1",
            )
            .bind(a.person.as_u64() as i64)
            .fetch_optional(&mut *tx)
            .await
            .ctx(&ctx)?;
            let Some((status, village)) = person else {
                return Err(StoreError::NotFound { kind: "person", key: a.person.to_string() });
            };
            if !scope.contains(region_of(village, &ctx)?) {
                return Err(StoreError::NotFound { kind: "person", key: a.person.to_string() });
            }
            let region: Option<i64> = sqlx::query_scalar("SELECT region_code FROM facilities WHERE facility_id = $1")
                .bind(&a.facility_id)
                .fetch_optional(&mut *tx)
                .await
                .ctx(&ctx)?;
            let region = match region {
                Some(r) if scope.contains(region_of(r, &ctx)?) => r,
                _ => return Err(StoreError::NotFound { kind: "facility", key: a.facility_id.clone() }),
            };
            let st: PovertyStatus = status.parse().map_err(|e| corrupt(&ctx, &status, e))?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO admissions (person_id, facility_id, region_code, admitted, status, deposit_waived,
                 claim_id, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $8) RETURNING id",
            )
            .bind(a.person.as_u64() as i64)
            .bind(&a.facility_id)
            .bind(region)
            .bind(a.admitted)
            .bind(st.as_str())
            .bind(waive(st))
            .bind(actor)
            .bind(at)
            .fetch_one(&mut *tx)
            .await
            .ctx(&ctx)?;
            tx.commit().await.ctx(&ctx)?;
            Ok::<_, StoreError>(id)
        }.await)?;
        self.admission(scope, id).await?.ok_or_else(|| not_found(id))
    }

    /// Names the claim an admission's bill was settled as: a claim of the
    /// admission's person at its facility, settled and not voided, named by no
    /// other admission. An admission whose claim was voided may name another
    /// (the bill settled again); one whose claim stands may not.
    pub async fn link_admission_claim(
        &self,
        scope: &Scope,
        id: i64,
        claim_id: &str,
    ) -> Result<StoredAdmission, StoreError> {
        let ctx = format!("naming claim {claim_id} on admission {id}");
        let (lo, hi) = scope.code_range();
        on_pool!(self, p => async {
            let mut tx = begin_write(p, &ctx).await?;
            let head: Option<(i64, String, Option<String>)> = sqlx::query_as(
                "SELECT person_id, facility_id, claim_id FROM admissions WHERE id = $1 AND region_code BETWEEN $2 AND $3",
            )
            .bind(id)
            .bind(lo)
            .bind(hi)
            .fetch_optional(&mut *tx)
            .await
            .ctx(&ctx)?;
            let Some((person, facility, current)) = head else { return Err(not_found(id)) };
            if let Some(cur) = &current {
                let voided: Option<bool> =
                    sqlx::query_scalar("SELECT voided FROM claims WHERE claim_id = $1 AND facility_id = $2")
                        .bind(cur)
                        .bind(&facility)
                        .fetch_optional(&mut *tx)
                        .await
                        .ctx(&ctx)?;
                if cur == claim_id {
                    return Err(StoreError::Constraint {
                        context: ctx,
                        detail: format!("the admission names claim {claim_id} already"),
                    });
                }
                if voided == Some(false) {
                    return Err(StoreError::Constraint {
                        context: ctx,
                        detail: format!("the admission's bill is settled as claim {cur}, which stands (void it first)"),
                    });
                }
            }
            let claim: Option<(i64, bool, Option<String>)> = sqlx::query_as(
                "SELECT c.person_id, c.voided, s.claim_id FROM claims c
                 LEFT JOIN settlements s ON s.claim_id = c.claim_id AND s.facility_id = c.facility_id
                 WHERE c.claim_id = $1 AND c.facility_id = $2",
            )
            .bind(claim_id)
            .bind(&facility)
            .fetch_optional(&mut *tx)
            .await
            .ctx(&ctx)?;
            match claim {
                None => {
                    return Err(StoreError::NotFound { kind: "claim", key: format!("{claim_id} at {facility}") })
                }
                Some((of, _, _)) if of != person => {
                    return Err(rejected(&ctx, format!("claim {claim_id} is another patient's")))
                }
                Some((_, true, _)) => return Err(rejected(&ctx, format!("claim {claim_id} is voided"))),
                Some((_, _, None)) => return Err(rejected(&ctx, format!("claim {claim_id} is not settled yet"))),
                Some(_) => {}
            }
            let taken: Option<i64> =
                sqlx::query_scalar("SELECT id FROM admissions WHERE facility_id = $1 AND claim_id = $2")
                    .bind(&facility)
                    .bind(claim_id)
                    .fetch_optional(&mut *tx)
                    .await
                    .ctx(&ctx)?;
            if let Some(other) = taken {
                return Err(StoreError::Constraint {
                    context: ctx,
                    detail: format!("claim {claim_id} is named by admission {other} already"),
                });
            }
            sqlx::query("UPDATE admissions SET claim_id = $1 WHERE id = $2")
                .bind(claim_id)
                .bind(id)
                .execute(&mut *tx)
                .await
                .ctx(&ctx)?;
            tx.commit().await.ctx(&ctx)?;
            Ok::<_, StoreError>(())
        }.await)?;
        self.admission(scope, id).await?.ok_or_else(|| not_found(id))
    }

    /// Takes a payment on an admission, in the transaction that reads what is
    /// still owed: a payment above the balance (or on a bill not settled) is
    /// refused as a conflict and nothing is written.
    pub async fn record_admission_payment(
        &self,
        scope: &Scope,
        id: i64,
        pay: &NewAdmissionPayment,
        actor: &str,
    ) -> Result<StoredAdmission, StoreError> {
        let ctx = format!("taking a payment on admission {id}");
        if pay.amount <= Fen::ZERO {
            return Err(rejected(&ctx, "amount: a payment must be more than zero"));
        }
        let (lo, hi) = scope.code_range();
        let lock = if self.backend() == Backend::Postgres { " FOR UPDATE" } else { "" };
        let head_sql = String::from(
            "SELECT a.claim_id, c.voided, s.out_of_pocket FROM admissions a
             LEFT JOIN claims c ON c.claim_id = a.claim_id AND c.facility_id = a.facility_id
             LEFT JOIN settlements s ON s.claim_id = a.claim_id AND s.facility_id = a.facility_id
             WHERE a.id = $1 AND a.region_code BETWEEN $2 AND $3",
        );
        let lock_sql = format!("SELECT id FROM admissions WHERE id = $1{lock}");
        let at = now();
        on_pool!(self, p => async {
            let mut tx = begin_write(p, &ctx).await?;
            // Two payments on one admission wait for each other (PostgreSQL;
            // SQLite's writers take turns already).
            sqlx::query(&lock_sql).bind(id).execute(&mut *tx).await.ctx(&ctx)?;
            let head: Option<(Option<String>, Option<bool>, Option<i64>)> =
                sqlx::query_as(&head_sql).bind(id).bind(lo).bind(hi).fetch_optional(&mut *tx).await.ctx(&ctx)?;
            let Some((claim, voided, oop)) = head else { return Err(not_found(id)) };
            let owed = match (claim, voided, oop) {
                (Some(_), Some(false), Some(o)) => Fen(o),
                _ => {
                    return Err(StoreError::Constraint {
                        context: ctx,
                        detail: "the bill has not been settled (or its settlement was voided): nothing is owed yet"
                            .into(),
                    })
                }
            };
            let paid: i64 = sqlx::query_scalar(
                "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM admission_payments WHERE admission_id = $1",
            )
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .ctx(&ctx)?;
            let balance = owed - Fen(paid);
            if pay.amount > balance {
                return Err(StoreError::Constraint {
                    context: ctx,
                    detail: format!(
                        "amount: {} is more than the balance owed, {} (owed {}, paid {})",
                        pay.amount,
                        balance.max(Fen::ZERO),
                        owed,
                        Fen(paid)
                    ),
                });
            }
            sqlx::query(
                "INSERT INTO admission_payments (admission_id, amount, paid_on, method, recorded_by, recorded_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id)
            .bind(pay.amount.0)
            .bind(pay.paid_on)
            .bind(&pay.method)
            .bind(actor)
            .bind(at)
            .execute(&mut *tx)
            .await
            .ctx(&ctx)?;
            tx.commit().await.ctx(&ctx)?;
            Ok::<_, StoreError>(())
        }.await)?;
        self.admission(scope, id).await?.ok_or_else(|| not_found(id))
    }

    /// An admission inside the scope (by its facility's region), with its
    /// payments; `None` for one unknown or outside the scope alike.
    pub async fn admission(&self, scope: &Scope, id: i64) -> Result<Option<StoredAdmission>, StoreError> {
        let (lo, hi) = scope.code_range();
        let sql = format!(
            "SELECT {ADMISSION_COLS} FROM {ADMISSION_FROM} WHERE a.id = $1 AND a.region_code BETWEEN $2 AND $3"
        );
        on_pool!(self, p => {
            let Some(r) = sqlx::query(&sql).bind(id).bind(lo).bind(hi).fetch_optional(p).await.ctx("reading an admission")?
            else {
                return Ok(None);
            };
            let mut a = admission_of!(&r);
            let rows: Vec<(i64, i64, NaiveDate, String, String, DateTime<Utc>)> = sqlx::query_as(
                "SELECT id, amount, paid_on, method, recorded_by, recorded_at FROM admission_payments
                 WHERE admission_id = $1 ORDER BY paid_on, id",
            )
            .bind(id)
            .fetch_all(p)
            .await
            .ctx("reading an admission's payments")?;
            a.payments = rows
                .into_iter()
                .map(|(id, amount, paid_on, method, recorded_by, recorded_at)| StoredAdmissionPayment {
                    id,
                    amount: Fen(amount),
                    paid_on,
                    method,
                    recorded_by,
                    recorded_at,
                })
                .collect();
            Ok(Some(a))
        })
    }

    /// Admissions inside the scope, of one facility and one person where named,
    /// the oldest first (payments not read: see [`Store::admission`]).
    /// `unpaid` keeps those with a balance still owed (the arrears).
    pub async fn admissions(
        &self,
        scope: &Scope,
        facility: Option<&str>,
        person: Option<ResidentId>,
        unpaid: bool,
        page: Page,
    ) -> Result<Vec<StoredAdmission>, StoreError> {
        let (lo, hi) = scope.code_range();
        let owing = if unpaid {
            " AND a.claim_id IS NOT NULL AND c.voided = FALSE AND s.out_of_pocket >
             (SELECT COALESCE(SUM(x.amount), 0) FROM admission_payments x WHERE x.admission_id = a.id)"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {ADMISSION_COLS} FROM {ADMISSION_FROM}
             WHERE a.region_code BETWEEN $1 AND $2 AND ($3 = '' OR a.facility_id = $3) AND ($4 = 0 OR a.person_id = $4)
             {owing}
             ORDER BY a.admitted, a.id LIMIT $5 OFFSET $6"
        );
        on_pool!(self, p => {
            let rows = sqlx::query(&sql)
                .bind(lo)
                .bind(hi)
                .bind(facility.unwrap_or(""))
                .bind(person.map(|p| p.as_u64() as i64).unwrap_or(0))
                .bind(page.lim())
                .bind(page.off())
                .fetch_all(p)
                .await
                .ctx("listing admissions")?;
            rows.iter().map(|r| Ok(admission_of!(r))).collect()
        })
    }

    /// One page of a facility's open admissions inside the scope, the desk's
    /// list: those with no claim named, the claim voided, or a balance owed or
    /// to refund. In `(admitted, id)` order, after the key `after` (the last
    /// row of the page before; `None` for the first page), at most `limit`.
    /// Keyset paging: a page costs its own rows, and an admission paid up or
    /// added between two pages neither repeats nor shifts the next one.
    pub async fn open_admissions(
        &self,
        scope: &Scope,
        facility: &str,
        after: Option<(NaiveDate, i64)>,
        limit: u32,
    ) -> Result<Vec<StoredAdmission>, StoreError> {
        let (lo, hi) = scope.code_range();
        let keyset = if after.is_some() { " AND (a.admitted > $4 OR (a.admitted = $4 AND a.id > $5))" } else { "" };
        let sql = format!(
            "SELECT {ADMISSION_COLS} FROM {ADMISSION_FROM}
             WHERE a.region_code BETWEEN $1 AND $2 AND a.facility_id = $3 {keyset}
             AND (a.claim_id IS NULL OR c.voided = TRUE
                  OR COALESCE(s.out_of_pocket, 0) <> (SELECT COALESCE(SUM(x.amount), 0) FROM admission_payments x WHERE x.admission_id = a.id))
             ORDER BY a.admitted, a.id LIMIT {}",
            limit.clamp(1, 10_000)
        );
        on_pool!(self, p => {
            let mut q = sqlx::query(&sql).bind(lo).bind(hi).bind(facility);
            if let Some((day, id)) = after {
                q = q.bind(day).bind(id);
            }
            let rows = q.fetch_all(p).await.ctx("listing a facility's open admissions")?;
            rows.iter().map(|r| Ok(admission_of!(r))).collect()
        })
    }

    /// What the reconciliation of a facility reads: its settlements last made
    /// (or re-made) at or after `since`, and the adjustments of its claims made
    /// at or after `since`. A facility unknown or outside the scope is answered
    /// as unknown.
    pub async fn facility_settlements(
        &self,
        scope: &Scope,
        facility: &str,
        since: DateTime<Utc>,
    ) -> Result<(Vec<FacilitySettlement>, Vec<SettlementAdjustment>), StoreError> {
        let ctx = format!("reading the settlements of facility {facility}");
        on_pool!(self, p => {
            let region: Option<i64> = sqlx::query_scalar("SELECT region_code FROM facilities WHERE facility_id = $1")
                .bind(facility)
                .fetch_optional(p)
                .await
                .ctx(&ctx)?;
            match region {
                Some(r) if scope.contains(region_of(r, &ctx)?) => {}
                _ => return Err(StoreError::NotFound { kind: "facility", key: facility.to_string() }),
            }
            let heads: Vec<(String, i64, DateTime<Utc>, bool, i64)> = sqlx::query_as(
                "SELECT s.claim_id, s.person_id, s.settled_at, c.voided, s.out_of_pocket FROM settlements s
                 JOIN claims c ON c.claim_id = s.claim_id AND c.facility_id = s.facility_id
                 WHERE s.facility_id = $1 AND s.settled_at >= $2 ORDER BY s.settled_at, s.claim_id",
            )
            .bind(facility)
            .bind(since)
            .fetch_all(p)
            .await
            .ctx(&ctx)?;
            let pays: Vec<(String, String, i64)> = sqlx::query_as(
                "SELECT sp.claim_id, sp.tier, sp.amount FROM settlement_payments sp
                 JOIN settlements s ON s.claim_id = sp.claim_id AND s.facility_id = sp.facility_id
                 WHERE s.facility_id = $1 AND s.settled_at >= $2 ORDER BY sp.claim_id, sp.position",
            )
            .bind(facility)
            .bind(since)
            .fetch_all(p)
            .await
            .ctx(&ctx)?;
            let mut by_claim: std::collections::HashMap<String, Vec<(String, Fen)>> = Default::default();
            for (claim, tier, amount) in pays {
                by_claim.entry(claim).or_default().push((tier, Fen(amount)));
            }
            let mut settled = Vec::with_capacity(heads.len());
            for (claim_id, person, settled_at, voided, oop) in heads {
                settled.push(FacilitySettlement {
                    payments: by_claim.remove(&claim_id).unwrap_or_default(),
                    person: crate::registry::resident_id(person, &ctx)?,
                    claim_id,
                    settled_at,
                    voided,
                    out_of_pocket: Fen(oop),
                });
            }
            let adj: Vec<AdjustmentRow> = sqlx::query_as(
                "SELECT a.id, a.claim_id, c.person_id, a.kind, a.at, a.prior_settled_at, a.cause, a.out_of_pocket
                 FROM settlement_adjustments a
                 JOIN claims c ON c.claim_id = a.claim_id AND c.facility_id = a.facility_id
                 WHERE a.facility_id = $1 AND a.at >= $2 ORDER BY a.at, a.id",
            )
            .bind(facility)
            .bind(since)
            .fetch_all(p)
            .await
            .ctx(&ctx)?;
            let adj_pays: Vec<(i64, String, i64)> = sqlx::query_as(
                "SELECT ap.adjustment_id, ap.tier, ap.amount FROM settlement_adjustment_payments ap
                 JOIN settlement_adjustments a ON a.id = ap.adjustment_id
                 WHERE a.facility_id = $1 AND a.at >= $2 ORDER BY ap.adjustment_id, ap.position",
            )
            .bind(facility)
            .bind(since)
            .fetch_all(p)
            .await
            .ctx(&ctx)?;
            let mut by_adj: std::collections::HashMap<i64, Vec<(String, Fen)>> = Default::default();
            for (id, tier, amount) in adj_pays {
                by_adj.entry(id).or_default().push((tier, Fen(amount)));
            }
            let mut adjustments = Vec::with_capacity(adj.len());
            for (id, claim_id, person, kind, at, prior_settled_at, cause, oop) in adj {
                adjustments.push(SettlementAdjustment {
                    claim_id,
                    person: crate::registry::resident_id(person, &ctx)?,
                    facility_id: facility.to_string(),
                    kind,
                    at,
                    prior_settled_at,
                    cause,
                    payments: by_adj.remove(&id).unwrap_or_default(),
                    out_of_pocket: Fen(oop),
                });
            }
            Ok((settled, adjustments))
        })
    }
}

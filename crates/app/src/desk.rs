//! The hospital desk (docs/desk.md): "treat first, pay later" (先诊疗后付费).
//! A patient is admitted at a facility, the deposit waived when they are
//! entitled; once the bill is settled (real-time settlement), the admission
//! names its claim and the patient's share of the settlement is owed on it; the
//! desk takes that share in instalments, never above what is still owed; the
//! facility's arrears list the admissions with a balance, the oldest first.
//!
//! Every write is checked here (plausibility) and in the store's transaction
//! (scope, balance), and audited after it.

use crate::access::Scope;
use crate::model::{AppError, AppResult};
use crate::service::scope;
use crate::App;
use chrono::NaiveDate;
use domain::{Fen, PovertyStatus, ResidentId};
use store::{NewAdmission, NewAdmissionPayment, Page};

pub use store::{StoredAdmission as Admission, StoredAdmissionPayment as AdmissionPayment};

/// The ways a patient pays at the desk: the value and its words.
pub const PAYMENT_METHODS: &[(&str, &str)] =
    &[("cash", "现金"), ("card", "银行卡"), ("mobile", "移动支付"), ("transfer", "转账")];

/// The most days an admission may lie in the past when recorded (a year and a
/// little: a bill of last year still comes to the desk).
pub const ADMITTED_DAYS_BACK: i64 = 400;

/// Whether a patient of this status is admitted without a deposit: the poor
/// statuses (special hardship, low income, lifted, monitored) are entitled,
/// general rural residents are not (docs/desk.md).
pub fn deposit_waived(status: PovertyStatus) -> bool {
    status.is_poor()
}

/// The most admissions a page of the desk shows.
pub const DESK_PAGE_MAX: u32 = 200;

/// Where a page of the desk's open admissions starts: after the admission of
/// this day and ID. Written `YYYY-MM-DD.ID` in links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeskKey {
    pub admitted: NaiveDate,
    pub id: i64,
}

impl std::fmt::Display for DeskKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.admitted, self.id)
    }
}

impl std::str::FromStr for DeskKey {
    type Err = String;
    fn from_str(s: &str) -> Result<DeskKey, String> {
        let bad = || format!("after: {s:?} is not a page key (YYYY-MM-DD.ID, as the next-page link gives)");
        let (day, id) = s.trim().split_once('.').ok_or_else(bad)?;
        let admitted = NaiveDate::parse_from_str(day, "%Y-%m-%d").map_err(|_| bad())?;
        let id = id.parse::<i64>().ok().filter(|v| *v > 0).ok_or_else(bad)?;
        Ok(DeskKey { admitted, id })
    }
}

/// An admission in the arrears, with the days since its bill fell due.
#[derive(Debug, Clone)]
pub struct Arrear {
    pub admission: Admission,
    /// Days from the discharge to the day the list is drawn.
    pub days_outstanding: i64,
}

/// A facility's arrears, and the collection indicator of its waived admissions.
#[derive(Debug, Clone)]
pub struct Arrears {
    pub facility_id: String,
    pub as_of: NaiveDate,
    /// The admissions with a balance owed, the longest outstanding first.
    pub rows: Vec<Arrear>,
    /// The sum of the balances.
    pub total: Fen,
    /// Waived admissions whose bill is settled with a share owed by the patient.
    pub waived_settled: u64,
    /// Of those, the ones paid up.
    pub waived_paid_up: u64,
}

impl Arrears {
    /// The share of waived admissions whose patient's share is paid up (None
    /// without any).
    pub fn paid_up_share(&self) -> Option<f64> {
        (self.waived_settled > 0).then(|| self.waived_paid_up as f64 / self.waived_settled as f64)
    }
}

/// The refusal of a record of another facility to a clerk bound to one.
pub(crate) fn other_facility(s: &Scope, facility_id: &str, what: &str) -> AppError {
    AppError::Forbidden(format!(
        "your account is bound to facility {}: {what} is of facility {facility_id}, which you may not handle",
        s.facility().unwrap_or_default()
    ))
}

/// [`App::refuse_other_facility`] without the audit, for reads.
pub(crate) fn check_facility(s: &Scope, facility_id: &str, what: &str) -> AppResult<()> {
    if s.allows_facility(facility_id) {
        Ok(())
    } else {
        Err(other_facility(s, facility_id, what))
    }
}

fn invalid(s: impl Into<String>) -> AppError {
    AppError::Invalid(s.into())
}

impl App {
    /// Refuses, with [`AppError::Forbidden`], the work of a clerk bound to one
    /// facility on a record (`what`: a claim, an admission) of any other
    /// (stored or not, of their county or another: the answer is the same),
    /// and audits the refusal; passes everyone else (their region is checked
    /// by the store). docs/desk.md, "A clerk's facility".
    pub async fn refuse_other_facility(&self, s: &Scope, facility_id: &str, actor: &str, what: &str) -> AppResult<()> {
        if s.allows_facility(facility_id) {
            return Ok(());
        }
        let own = s.facility().unwrap_or_default();
        let detail = format!("refused: {what} of facility {facility_id}; the account is bound to facility {own}");
        // Filed under the facility's region when it lies in the clerk's; any
        // other facility, stored or not, is refused alike, revealing nothing.
        let sc = scope(s)?;
        let stored = self.store().get::<domain::Facility>(facility_id.trim()).await?;
        let region = stored.map(|f| f.region_code).filter(|r| sc.contains(*r));
        self.audit_event(actor, "facility_refused", what.to_string(), detail, region).await?;
        Err(other_facility(s, facility_id, what))
    }

    /// Admits a person at a facility, both inside the scope, on `admitted` (not
    /// in the future, at most [`ADMITTED_DAYS_BACK`] days back). The deposit is
    /// waived by [`deposit_waived`] on the status the store reads.
    pub async fn admit(
        &self,
        s: &Scope,
        person: ResidentId,
        facility_id: &str,
        admitted: NaiveDate,
        actor: &str,
    ) -> AppResult<Admission> {
        let today = domain::time::china_today();
        if admitted > today {
            return Err(invalid(format!("admitted: {admitted} is in the future")));
        }
        if (today - admitted).num_days() > ADMITTED_DAYS_BACK {
            return Err(invalid(format!(
                "admitted: {admitted} is more than {ADMITTED_DAYS_BACK} days ago; check the date"
            )));
        }
        let facility_id = facility_id.trim();
        if facility_id.is_empty() {
            return Err(invalid("facility_id: name the facility"));
        }
        self.refuse_other_facility(s, facility_id, actor, "the admission").await?;
        let a = {
            let _turn = self.writing().await;
            let new = NewAdmission { person, facility_id: facility_id.to_string(), admitted };
            self.store().admit(&scope(s)?, &new, &deposit_waived, actor).await?
        };
        let detail = format!(
            "person {} at {} admitted {}, status {}, deposit {}",
            a.person,
            a.facility_id,
            a.admitted,
            a.status,
            if a.deposit_waived { "waived" } else { "taken" }
        );
        self.audit_event(actor, "admission_create", format!("admission {}", a.id), detail, Some(a.region)).await?;
        Ok(a)
    }

    /// Names the claim (at the admission's facility) its bill was settled as.
    pub async fn link_admission_claim(&self, s: &Scope, id: i64, claim_id: &str, actor: &str) -> AppResult<Admission> {
        let claim_id = claim_id.trim();
        if claim_id.is_empty() || claim_id.chars().count() > 64 || claim_id.chars().any(char::is_control) {
            return Err(invalid("claim_id: 1 to 64 characters, no control characters"));
        }
        if let Some(before) = self.store().admission(&scope(s)?, id).await? {
            self.refuse_other_facility(s, &before.facility_id, actor, &format!("admission {id}")).await?;
        }
        let a = {
            let _turn = self.writing().await;
            self.store().link_admission_claim(&scope(s)?, id, claim_id).await?
        };
        let detail = format!("person {}, claim {} at {}, owed {}", a.person, claim_id, a.facility_id, a.owed);
        self.audit_event(actor, "admission_claim", format!("admission {id}"), detail, Some(a.region)).await?;
        Ok(a)
    }

    /// Takes a payment of the patient's share on an admission: more than zero,
    /// not above the balance, paid on a day not in the future nor before the
    /// admission, by one of [`PAYMENT_METHODS`].
    pub async fn take_admission_payment(
        &self,
        s: &Scope,
        id: i64,
        amount: Fen,
        paid_on: NaiveDate,
        method: &str,
        actor: &str,
    ) -> AppResult<Admission> {
        if amount <= Fen::ZERO {
            return Err(invalid("amount: a payment must be more than zero"));
        }
        if paid_on > domain::time::china_today() {
            return Err(invalid(format!("paid_on: {paid_on} is in the future")));
        }
        let method = method.trim();
        if !PAYMENT_METHODS.iter().any(|(m, _)| *m == method) {
            let known: Vec<&str> = PAYMENT_METHODS.iter().map(|(m, _)| *m).collect();
            return Err(invalid(format!("method: {method:?} is not one of {}", known.join(", "))));
        }
        let sc = scope(s)?;
        let Some(before) = self.store().admission(&sc, id).await? else {
            return Err(AppError::NotFound(format!("admission {id} is not in the store")));
        };
        self.refuse_other_facility(s, &before.facility_id, actor, &format!("admission {id}")).await?;
        if paid_on < before.admitted {
            return Err(invalid(format!("paid_on: {paid_on} is before the admission ({})", before.admitted)));
        }
        let a = {
            let _turn = self.writing().await;
            let pay = NewAdmissionPayment { amount, paid_on, method: method.to_string() };
            self.store().record_admission_payment(&sc, id, &pay, actor).await?
        };
        let detail = format!(
            "person {}, {} paid on {} by {}; owed {}, paid {}, balance {}",
            a.person,
            amount,
            paid_on,
            method,
            a.owed,
            a.paid,
            a.balance()
        );
        self.audit_event(actor, "admission_payment", format!("admission {id}"), detail, Some(a.region)).await?;
        Ok(a)
    }

    /// An admission inside the scope (by its facility), with its payments; one
    /// of another facility than a bound clerk's is refused.
    pub async fn admission(&self, s: &Scope, id: i64) -> AppResult<Option<Admission>> {
        let a = self.store().admission(&scope(s)?, id).await?;
        if let Some(a) = &a {
            check_facility(s, &a.facility_id, &format!("admission {id}"))?;
        }
        Ok(a)
    }

    /// The admissions of a person inside the scope, the oldest first; for a
    /// clerk bound to a facility, those at that facility.
    pub async fn admissions_of(&self, s: &Scope, person: ResidentId) -> AppResult<Vec<Admission>> {
        let all = self.store().admissions(&scope(s)?, s.facility(), Some(person), false, Page::first(1000)).await?;
        Ok(all)
    }

    /// A facility inside the scope; one outside it is answered as unknown, and
    /// another than a bound clerk's is refused ([`AppError::Forbidden`]).
    pub async fn facility_in_scope(&self, s: &Scope, facility_id: &str) -> AppResult<domain::Facility> {
        let sc = scope(s)?;
        match self.store().get::<domain::Facility>(facility_id).await? {
            Some(f) if sc.contains(f.region_code) => {
                check_facility(s, facility_id, "the facility")?;
                Ok(f)
            }
            _ => Err(AppError::NotFound(format!("facility {facility_id:?} is not in the store"))),
        }
    }

    /// Every admission of a facility inside the scope (one outside it is
    /// answered as unknown), the oldest first.
    pub async fn facility_admissions(&self, s: &Scope, facility_id: &str) -> AppResult<Vec<Admission>> {
        self.facility_in_scope(s, facility_id).await?;
        Ok(self.store().admissions(&scope(s)?, Some(facility_id), None, false, Page::first(u32::MAX)).await?)
    }

    /// One page of a facility's open admissions (the desk's list: no claim
    /// named, the claim voided, or a balance owed or to refund), in
    /// `(admitted, id)` order after the key `after`, at most `limit` (1 to
    /// [`DESK_PAGE_MAX`]); with the key to ask for the next page when there is
    /// one. The facility as [`App::facility_in_scope`] checks it.
    pub async fn open_admissions(
        &self,
        s: &Scope,
        facility_id: &str,
        after: Option<DeskKey>,
        limit: u32,
    ) -> AppResult<(Vec<Admission>, Option<DeskKey>)> {
        self.facility_in_scope(s, facility_id).await?;
        let limit = limit.clamp(1, DESK_PAGE_MAX);
        let after = after.map(|k| (k.admitted, k.id));
        let mut rows = self.store().open_admissions(&scope(s)?, facility_id, after, limit + 1).await?;
        let next = if rows.len() > limit as usize {
            rows.truncate(limit as usize);
            rows.last().map(|a| DeskKey { admitted: a.admitted, id: a.id })
        } else {
            None
        };
        Ok((rows, next))
    }

    /// The arrears of a facility inside the scope (one outside it is answered as
    /// unknown) on `as_of`: the admissions with a balance, the longest
    /// outstanding first; with the share of waived admissions paid up.
    pub async fn arrears(&self, s: &Scope, facility_id: &str, as_of: NaiveDate) -> AppResult<Arrears> {
        let all = self.facility_admissions(s, facility_id).await?;
        let mut waived_settled = 0;
        let mut waived_paid_up = 0;
        let mut rows = Vec::new();
        for a in all {
            let standing = a.claim_id.is_some() && !a.claim_voided;
            if a.deposit_waived && standing && a.owed > Fen::ZERO {
                waived_settled += 1;
                if a.balance() <= Fen::ZERO {
                    waived_paid_up += 1;
                }
            }
            if standing && a.balance() > Fen::ZERO {
                let due = a.discharged.unwrap_or(a.admitted);
                rows.push(Arrear { days_outstanding: (as_of - due).num_days().max(0), admission: a });
            }
        }
        rows.sort_by(|x, y| y.days_outstanding.cmp(&x.days_outstanding).then(x.admission.id.cmp(&y.admission.id)));
        let total = rows.iter().map(|r| r.admission.balance()).sum();
        Ok(Arrears { facility_id: facility_id.to_string(), as_of, rows, total, waived_settled, waived_paid_up })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_desk_key_is_written_and_read_back() {
        let k = DeskKey { admitted: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(), id: 42 };
        assert_eq!(k.to_string(), "2026-03-01.42");
        assert_eq!("2026-03-01.42".parse::<DeskKey>().unwrap(), k);
        for bad in ["", "42", "2026-03-01", "2026-13-01.4", "2026-03-01.0", "2026-03-01.x"] {
            assert!(bad.parse::<DeskKey>().unwrap_err().contains("page key"), "{bad:?}");
        }
    }
}

//! The daily work (docs/work.md): township officers open cases for households
//! at risk, assign them with a deadline, verify them on a visit, record
//! assistance and close them; village doctors and cadres record visits,
//! follow-ups and family-doctor contracts. Every change is checked here, kept
//! by the store in one transaction, and written to the audit log with what it
//! changed.

use crate::access::Scope;
use crate::model::{AppError, AppResult};
use crate::service::{scope, App};
use chrono::{Duration, NaiveDate};
use domain::work::{CaseFacts, CaseMove, CaseState, CloseReason, DoctorContract, Visit, VisitKind};
use domain::{PovertyStatus, RegionCode, ResidentId};
use store::{CaseQuery, CaseRules, NewCase, Page, StoredCase, StoredContract, StoredVisit};

/// Days to verify a case where no region sets its own deadline.
pub const DEFAULT_VERIFY_DAYS: i64 = 15;

/// The statuses whose holders become monitored (监测对象) when the verification
/// of their household's case decides so; the others are under assistance
/// programmes of their own already.
pub const BECOME_MONITORED: [PovertyStatus; 2] = [PovertyStatus::General, PovertyStatus::Lifted];

/// The rules of a case's moves.
pub struct Rules {
    /// The day the move is made: no visit or measure may be dated after it.
    pub today: NaiveDate,
}

impl CaseRules for Rules {
    fn check(&self, f: &CaseFacts, mv: &CaseMove) -> Result<CaseState, String> {
        use CaseState::*;
        if f.state == Closed {
            return Err("the case is closed".into());
        }
        match mv {
            CaseMove::Assign { assignee, due } => {
                if assignee.trim().is_empty() {
                    return Err("assignee: the responsible person must be named".into());
                }
                if *due < self.today {
                    return Err(format!("due: {due} has passed"));
                }
                Ok(if f.state == Open { Assigned } else { f.state })
            }
            CaseMove::Verify { visit, .. } => {
                if visit.kind != VisitKind::Verification {
                    return Err("the visit of a verification is of kind verification".into());
                }
                if visit.date > self.today {
                    return Err(format!("date: {} is in the future", visit.date));
                }
                Ok(if f.state.awaits_verification() { Verified } else { f.state })
            }
            CaseMove::Measure(m) => {
                if f.state.awaits_verification() {
                    return Err("verify the case first: assistance follows the verification".into());
                }
                if m.date > self.today {
                    return Err(format!("date: {} is in the future", m.date));
                }
                Ok(Assisting)
            }
            CaseMove::Close { reason: CloseReason::RiskEliminated, .. } => {
                let Some(last_measure) = f.last_measure.filter(|_| f.measures > 0) else {
                    return Err("risk eliminated needs at least one assistance measure recorded".into());
                };
                match f.last_verification {
                    Some(v) if v >= last_measure => Ok(Closed),
                    _ => Err(format!(
                        "risk eliminated needs a verification visit on or after the last measure ({last_measure})"
                    )),
                }
            }
            CaseMove::Close { reason: CloseReason::NoRisk, note, .. } => {
                if f.measures > 0 {
                    return Err("assistance was given: close as risk eliminated after a verification visit".into());
                }
                if f.monitored != Some(false) {
                    return Err("no risk needs a verification that decided the household is not monitored".into());
                }
                if note.trim().is_empty() {
                    return Err("note: say why there is no risk".into());
                }
                Ok(Closed)
            }
        }
    }
}

/// Days to close a case where no region sets its own: the time a household's
/// measures are given to take hold before the case is judged (docs/work.md).
pub const DEFAULT_CLOSE_DAYS: i64 = 180;

/// The deadlines of a case opened on `today` in `village`, to verify it and to
/// close it: each the days set for the longest region prefix of the village's
/// code that sets them, else the default.
pub fn due_in(
    deadlines: &[(String, i64, Option<i64>)],
    village: RegionCode,
    today: NaiveDate,
) -> (NaiveDate, NaiveDate) {
    let code = village.to_string();
    let applying = || deadlines.iter().filter(|(r, _, _)| code.starts_with(r.as_str()));
    let verify = applying().max_by_key(|(r, _, _)| r.len()).map_or(DEFAULT_VERIFY_DAYS, |(_, d, _)| *d);
    let close = applying()
        .filter_map(|(r, _, c)| c.map(|c| (r.len(), c)))
        .max_by_key(|(len, _)| *len)
        .map_or(DEFAULT_CLOSE_DAYS, |(_, c)| c);
    (today + Duration::days(verify), today + Duration::days(close))
}

/// The region a code prefix names, as a 12-digit code; `None` for the nation.
pub fn region_of_prefix(prefix: &str) -> Option<RegionCode> {
    let p = prefix.trim();
    if p.is_empty() {
        return None;
    }
    format!("{p:0<12}").parse().ok()
}

/// A listing of cases as users ask for it.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub state: Option<CaseState>,
    /// Only the open cases.
    pub open: bool,
    /// Only those awaiting verification past their deadline.
    pub overdue: bool,
    pub assignee: Option<String>,
    pub household: Option<String>,
    pub limit: usize,
}

/// A move of a case as a user asks for it; the application fills in what the
/// store needs (the default deadline, the statuses that become monitored).
#[derive(Debug, Clone)]
pub enum CaseRequest {
    Assign { assignee: String, due: Option<NaiveDate> },
    Verify { visit: Visit, monitored: bool },
    Measure(domain::work::CaseMeasure),
    Close { reason: CloseReason, note: String },
}

fn page(limit: usize) -> Page {
    Page::first(if limit == 0 { 100 } else { limit.min(100_000) } as u32)
}

impl App {
    /// The deadlines, to verify and to close, of a case opened today in
    /// `village`.
    pub async fn case_due(&self, village: RegionCode, today: NaiveDate) -> AppResult<(NaiveDate, NaiveDate)> {
        Ok(due_in(&self.store().case_deadlines().await?, village, today))
    }

    /// Sets the days to verify and to close the cases opened in `region` (a
    /// code prefix inside the scope); `close_days` `None` keeps the default.
    pub async fn set_case_deadline(
        &self,
        s: &Scope,
        region: &str,
        days: i64,
        close_days: Option<i64>,
        actor: &str,
    ) -> AppResult<()> {
        let inside = store::Scope::new(region).map_err(|e| AppError::Invalid(format!("region: {e}")))?;
        if !inside.prefix().starts_with(s.prefix()) {
            return Err(AppError::NotFound(format!("region {region:?} is not in your scope")));
        }
        {
            let _turn = self.writing().await;
            self.store().set_case_deadline(region, days, close_days).await?;
        }
        let close = close_days.unwrap_or(DEFAULT_CLOSE_DAYS);
        let detail = format!("verify within {days} days, close within {close} days");
        self.audit_event(actor, "case_deadline", format!("region {region:?}"), detail, region_of_prefix(region)).await
    }

    /// Cases inside the scope, the overdue ones first.
    pub async fn cases(&self, s: &Scope, f: &CaseFilter, today: NaiveDate) -> AppResult<Vec<StoredCase>> {
        let q = CaseQuery {
            state: f.state,
            open_only: f.open,
            overdue_on: f.overdue.then_some(today),
            assignee: f.assignee.clone().filter(|a| !a.trim().is_empty()),
            household: f.household.clone().filter(|h| !h.trim().is_empty()),
        };
        Ok(self.store().cases(&scope(s)?, &q, today, page(f.limit)).await?)
    }

    pub async fn case(&self, s: &Scope, id: i64) -> AppResult<Option<StoredCase>> {
        Ok(self.store().case(&scope(s)?, id).await?)
    }

    /// Opens a case for a household inside the scope by hand (`officer`) or
    /// after a visit (`visit`).
    pub async fn open_case(
        &self,
        s: &Scope,
        household: &str,
        source: &'static str,
        note: &str,
        actor: &str,
        today: NaiveDate,
    ) -> AppResult<StoredCase> {
        let scope = scope(s)?;
        let village = self
            .store()
            .get::<domain::Household>(household.trim())
            .await?
            .filter(|h| scope.contains(h.village_code))
            .ok_or_else(|| AppError::NotFound(format!("household {household:?} is not in your scope")))?
            .village_code;
        let (due, close_due) = self.case_due(village, today).await?;
        let c = NewCase {
            household_id: household.trim().to_string(),
            source,
            due,
            close_due,
            note: note.trim().to_string(),
        };
        let case = {
            let _turn = self.writing().await;
            self.store().open_case(&scope, &c, actor).await?
        };
        self.audit_event(
            actor,
            "case_open",
            format!("case {}", case.id),
            format!("household {}, {source}, due {due}, close by {close_due}: {}", case.household_id, c.note),
            Some(village),
        )
        .await?;
        Ok(case)
    }

    /// Joins the open alerts inside the scope to their households' cases,
    /// opening the cases missing (after a monitor run).
    pub async fn join_alerts_to_cases(&self, s: &Scope, actor: &str, today: NaiveDate) -> AppResult<(usize, usize)> {
        let _turn = self.writing().await;
        let deadlines = self.store().case_deadlines().await?;
        let due = move |v: RegionCode| due_in(&deadlines, v, today);
        Ok(self.store().join_alerts_to_cases(&scope(s)?, &due, actor).await?)
    }

    /// The user a case of `village` may be assigned to: an active account that
    /// does the casework and whose scope holds the village. Answers the user name
    /// as stored; anything else is refused with the reason, without saying
    /// whether an account of that name exists elsewhere.
    pub(crate) async fn responsible(&self, name: &str, village: RegionCode) -> AppResult<String> {
        let refused = || {
            AppError::Invalid(format!(
                "assignee: {name:?} is not an active user who does the casework in village {village}; \
                 assign the case to an officer of the township or county"
            ))
        };
        let user = self.user_by_name(name).await?.ok_or_else(refused)?;
        if !user.active || !user.role.may(crate::access::Permission::Work) || !user.scope.admits(village) {
            return Err(refused());
        }
        Ok(user.username)
    }

    /// Moves a case made on `version` (see [`Rules`]).
    pub async fn move_case(
        &self,
        s: &Scope,
        id: i64,
        version: i64,
        req: CaseRequest,
        actor: &str,
        today: NaiveDate,
    ) -> AppResult<StoredCase> {
        let scope = scope(s)?;
        let mv = match req {
            CaseRequest::Assign { assignee, due } => {
                let case = self.store().case(&scope, id).await?;
                let case = case.ok_or_else(|| AppError::NotFound(format!("case {id} is not in your scope")))?;
                // The stored name, as the account spells it.
                let assignee = self.responsible(assignee.trim(), case.village).await?;
                let due = match due {
                    Some(d) => d,
                    None => self.case_due(case.village, today).await?.0,
                };
                CaseMove::Assign { assignee, due }
            }
            CaseRequest::Verify { visit, monitored } => {
                CaseMove::Verify { visit, monitored, to_monitor: BECOME_MONITORED.to_vec() }
            }
            CaseRequest::Measure(m) => {
                if let Some(why) = self.amount_limits().await?.check_measure(&m.kind, m.amount) {
                    return Err(AppError::Invalid(why));
                }
                CaseMove::Measure(m)
            }
            CaseRequest::Close { reason, note } => CaseMove::Close { reason, note, on: today },
        };
        let case = {
            let _turn = self.writing().await;
            self.store().move_case(&Rules { today }, &scope, id, version, &mv, actor).await?
        };
        let detail = case.events.last().map(|e| format!("{:?} -> {}: {}", e.from, e.to, e.detail)).unwrap_or_default();
        self.audit_event(actor, &format!("case_{}", mv.action()), format!("case {id}"), detail, Some(case.village))
            .await?;
        Ok(case)
    }

    /// Records household visits and follow-ups inside the scope, all or none.
    pub async fn record_visits(
        &self,
        s: &Scope,
        visits: &[(String, Visit, Option<i64>)],
        actor: &str,
        today: NaiveDate,
    ) -> AppResult<Vec<i64>> {
        for (label, v, _) in visits {
            if v.date > today {
                return Err(AppError::Invalid(format!("{label}: date {} is in the future", v.date)));
            }
        }
        let ids = {
            let _turn = self.writing().await;
            self.store().record_visits(&scope(s)?, visits, actor).await?
        };
        let detail = match visits {
            [(_, v, case)] => format!(
                "{} visit of household {} on {}{}",
                v.kind.as_str(),
                v.household_id,
                v.date,
                case.map(|c| format!(" for case {c}")).unwrap_or_default()
            ),
            _ => format!("{} visits", visits.len()),
        };
        let target = if ids.len() == 1 { format!("visit {}", ids[0]) } else { "visits".into() };
        self.audit_event(actor, "visit_record", target, detail, region_of_prefix(s.prefix())).await?;
        Ok(ids)
    }

    pub async fn visits(
        &self,
        s: &Scope,
        household: Option<&str>,
        person: Option<ResidentId>,
        limit: usize,
    ) -> AppResult<Vec<StoredVisit>> {
        Ok(self.store().visits(&scope(s)?, household, person, page(limit)).await?)
    }

    /// Records family-doctor contracts inside the scope, all or none.
    pub async fn sign_contracts(
        &self,
        s: &Scope,
        contracts: &[(String, DoctorContract)],
        actor: &str,
    ) -> AppResult<Vec<i64>> {
        let ids = {
            let _turn = self.writing().await;
            self.store().sign_contracts(&scope(s)?, contracts, actor).await?
        };
        let detail = match contracts {
            [(_, k)] => format!("{} with {}, {} to {}", k.person_id, k.practitioner_id, k.signed, k.ends),
            _ => format!("{} contracts", contracts.len()),
        };
        let target = if ids.len() == 1 { format!("contract {}", ids[0]) } else { "contracts".into() };
        self.audit_event(actor, "contract_sign", target, detail, region_of_prefix(s.prefix())).await?;
        Ok(ids)
    }

    /// Adds a disease to a region's own serious or chronic list; the region
    /// must lie inside the officer's scope. The next monitor run's patient
    /// ledger applies it.
    pub async fn add_catalogue_entry(
        &self,
        s: &Scope,
        kind: &str,
        region: &str,
        entry: &domain::CatalogueEntry,
        actor: &str,
    ) -> AppResult<()> {
        let region = store::Scope::new(region).map_err(|e| AppError::Invalid(format!("region: {e}")))?;
        if !region.prefix().starts_with(s.prefix()) || region.prefix().is_empty() && !s.prefix().is_empty() {
            return Err(AppError::NotFound(format!("region {:?} is not in your scope", region.prefix())));
        }
        {
            let _turn = self.writing().await;
            self.store().add_catalogue_entry(kind, &region, entry).await?;
        }
        let detail = format!("{} ({}): {}", entry.name_zh, entry.name_en, entry.icd10_prefixes.join(";"));
        let target = format!("{kind} catalogue of {:?}", region.prefix());
        self.audit_event(actor, "catalogue_add", target, detail, region_of_prefix(region.prefix())).await
    }

    pub async fn doctor_contracts(
        &self,
        s: &Scope,
        person: Option<ResidentId>,
        limit: usize,
    ) -> AppResult<Vec<StoredContract>> {
        Ok(self.store().doctor_contracts(&scope(s)?, person, page(limit)).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::work::CaseMeasure;
    use domain::Fen;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn facts(state: CaseState) -> CaseFacts {
        CaseFacts {
            id: 1,
            state,
            version: 1,
            village: "640522100001".parse().unwrap(),
            assignee: String::new(),
            measures: 0,
            last_measure: None,
            last_verification: None,
            monitored: None,
        }
    }

    fn close(reason: CloseReason) -> CaseMove {
        CaseMove::Close { reason, note: "checked".into(), on: day("2026-07-01") }
    }

    #[test]
    fn risk_eliminated_needs_a_measure_and_a_later_verification() {
        let r = Rules { today: day("2026-06-30") };
        let mut f = facts(CaseState::Assisting);
        assert!(r.check(&f, &close(CloseReason::RiskEliminated)).unwrap_err().contains("at least one"));
        f.measures = 1;
        f.last_measure = Some(day("2026-05-10"));
        f.last_verification = Some(day("2026-05-01"));
        assert!(r.check(&f, &close(CloseReason::RiskEliminated)).unwrap_err().contains("on or after"));
        f.last_verification = Some(day("2026-05-10"));
        assert_eq!(r.check(&f, &close(CloseReason::RiskEliminated)), Ok(CaseState::Closed));
    }

    #[test]
    fn no_risk_needs_a_verification_that_found_none_and_no_assistance() {
        let r = Rules { today: day("2026-06-30") };
        let mut f = facts(CaseState::Verified);
        assert!(r.check(&f, &close(CloseReason::NoRisk)).is_err());
        f.monitored = Some(false);
        assert_eq!(r.check(&f, &close(CloseReason::NoRisk)), Ok(CaseState::Closed));
        f.measures = 1;
        assert!(r.check(&f, &close(CloseReason::NoRisk)).unwrap_err().contains("assistance was given"));
    }

    #[test]
    fn assistance_follows_verification_and_closed_cases_do_not_move() {
        let r = Rules { today: day("2026-06-30") };
        let m = CaseMove::Measure(CaseMeasure {
            kind: "medical assistance".into(),
            amount: Fen(50_000),
            fund: "civil affairs".into(),
            date: day("2026-06-01"),
            note: String::new(),
        });
        assert!(r.check(&facts(CaseState::Assigned), &m).unwrap_err().contains("verify the case first"));
        assert_eq!(r.check(&facts(CaseState::Verified), &m), Ok(CaseState::Assisting));
        assert_eq!(r.check(&facts(CaseState::Closed), &m), Err("the case is closed".into()));
        let a = CaseMove::Assign { assignee: "li".into(), due: day("2026-07-15") };
        assert_eq!(r.check(&facts(CaseState::Open), &a), Ok(CaseState::Assigned));
        assert_eq!(r.check(&facts(CaseState::Assisting), &a), Ok(CaseState::Assisting));
        let late = CaseMove::Assign { assignee: "li".into(), due: day("2026-06-01") };
        assert!(r.check(&facts(CaseState::Open), &late).unwrap_err().contains("has passed"));
    }

    #[test]
    fn the_deadline_is_the_longest_prefix_s_or_fifteen_days() {
        let v: RegionCode = "640522100001".parse().unwrap();
        let d = day("2026-06-01");
        assert_eq!(due_in(&[], v, d), (day("2026-06-16"), day("2026-11-28")));
        let set =
            vec![("64".to_string(), 20, Some(90)), ("640522".to_string(), 10, None), ("65".to_string(), 5, Some(30))];
        assert_eq!(due_in(&set, v, d), (day("2026-06-11"), day("2026-08-30")), "the province's days to close hold");
        let set = vec![("640522".to_string(), 10, None)];
        assert_eq!(due_in(&set, v, d), (day("2026-06-11"), day("2026-11-28")), "the default days to close");
    }
}

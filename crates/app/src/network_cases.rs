//! Network alerts kept, and the network cases they open (docs/work.md,
//! "Network cases"): the network alerts of a scope ([`crate::network_alerts`])
//! computed and handed to the store to be kept, one alert per gap however
//! often it is computed, resolved when a computation no longer finds it; each
//! new alert opens a case of the township and county that must fill the gap,
//! with the deadlines of the place (`case_deadlines`, as households' cases),
//! moved by [`NetworkRules`] on the version the user saw, and audited.

use crate::access::Scope;
use crate::model::{AppError, AppResult, NetworkData};
use crate::network_alerts::{network_alerts_at, NetworkAlert, MAX_YEARS};
use crate::service::{scope, App};
use crate::work::due_in;
use chrono::NaiveDate;
use coverage::Settings;
use domain::work::{CaseState, NetworkCaseFacts, NetworkCaseMove, NetworkCloseReason};
use domain::{add_years, RegionCode};
use std::collections::BTreeSet;
use store::{FoundNetworkAlert, NetworkCaseQuery, NetworkCaseRules, NetworkRaise, Page};
pub use store::{StoredNetworkAlert, StoredNetworkCase};

/// The rules of a network case's moves.
pub struct NetworkRules {
    /// The day the move is made: nothing may be dated after it.
    pub today: NaiveDate,
}

impl NetworkCaseRules for NetworkRules {
    fn check(&self, f: &NetworkCaseFacts, mv: &NetworkCaseMove) -> Result<CaseState, String> {
        use CaseState::*;
        if f.state == Closed {
            return Err("the case is closed".into());
        }
        let dated = |on: &NaiveDate, note: &str, what: &str| {
            if *on > self.today {
                return Err(format!("date: {on} is in the future"));
            }
            if note.trim().is_empty() {
                return Err(format!("note: say {what}"));
            }
            Ok(())
        };
        match mv {
            NetworkCaseMove::Assign { assignee, due } => {
                if assignee.trim().is_empty() {
                    return Err("assignee: the responsible person must be named".into());
                }
                if *due < self.today {
                    return Err(format!("due: {due} has passed"));
                }
                Ok(if f.state == Open { Assigned } else { f.state })
            }
            NetworkCaseMove::Verify { on, note } => {
                dated(on, note, "what was found on the ground")?;
                Ok(if f.state.awaits_verification() { Verified } else { f.state })
            }
            NetworkCaseMove::Step { on, note } => {
                if f.state.awaits_verification() {
                    return Err("verify the case first: the steps to fill the gap follow the verification".into());
                }
                dated(on, note, "what was done")?;
                Ok(Assisting)
            }
            NetworkCaseMove::Close { reason: NetworkCloseReason::Filled, .. } => {
                if !f.alert_resolved {
                    return Err("filled needs the network alert resolved: compute the network alerts again once the \
                                posting (or the doctor, the clinic) is recorded"
                        .into());
                }
                Ok(Closed)
            }
            NetworkCaseMove::Close { reason: NetworkCloseReason::Planned, on, plan, .. } => {
                if *on > self.today {
                    return Err(format!("date: {on} is in the future"));
                }
                if f.covering_plan.is_none() {
                    return Err(match plan {
                        Some(p) => format!(
                            "plan_id: plan {p} is not in force on {on} with a line for {}: put the plan that \
                             serves the place in force first (docs/plans.md)",
                            f.region
                        ),
                        None => format!(
                            "planned needs a kept plan in force on {on} with a line for {}: save the plan, approve \
                             it and put it in force first (docs/plans.md)",
                            f.region
                        ),
                    });
                }
                Ok(Closed)
            }
            NetworkCaseMove::Close { reason: NetworkCloseReason::NotNeeded, note, .. } => {
                if f.state.awaits_verification() {
                    return Err("not needed follows a verification on the ground".into());
                }
                if note.trim().is_empty() {
                    return Err("note: say why the gap needs no filling".into());
                }
                Ok(Closed)
            }
        }
    }
}

/// What a computation and its keeping did, with the horizon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raised {
    pub today: NaiveDate,
    pub until: NaiveDate,
    /// The alerts computed.
    pub found: usize,
    /// Computed at this many places only (the incremental recompute after a
    /// change); `None`: over the whole scope.
    pub places: Option<usize>,
    pub kept: NetworkRaise,
}

/// A move of a network case as a user asks for it.
#[derive(Debug, Clone)]
pub enum NetworkCaseRequest {
    /// `due` absent: the place's days to verify, from today.
    Assign {
        assignee: String,
        due: Option<NaiveDate>,
    },
    Verify {
        on: NaiveDate,
        note: String,
    },
    Step {
        on: NaiveDate,
        note: String,
    },
    /// Closed as planned, by the plan `plan` (its id) where given, else by
    /// the plan in force that covers the place.
    Close {
        reason: NetworkCloseReason,
        note: String,
        plan: Option<i64>,
    },
}

/// A listing of network cases.
#[derive(Debug, Clone, Default)]
pub struct NetworkCaseFilter {
    pub state: Option<CaseState>,
    pub open: bool,
    /// Only those awaiting verification past their deadline.
    pub overdue: bool,
    pub limit: usize,
}

/// A computed alert as the store keeps it: its first change names what made it.
pub fn found(a: &NetworkAlert) -> FoundNetworkAlert {
    let first = a.changes.first();
    FoundNetworkAlert {
        kind: a.kind.as_str().to_string(),
        region: a.region_code,
        name: a.name.clone(),
        township: a.township,
        county: a.county,
        blank_from: a.from,
        change: first.map_or("other", |c| c.change.as_str()).to_string(),
        practitioner_id: first.and_then(|c| c.practitioner_id.clone()),
        facility_id: first.and_then(|c| c.facility_id.clone()),
        detail: a.causes.join("; "),
    }
}

fn page(limit: usize) -> Page {
    Page::first(if limit == 0 { 100 } else { limit.min(100_000) } as u32)
}

fn not_in_scope(id: i64) -> AppError {
    AppError::NotFound(format!("network case {id} is not in your scope"))
}

impl App {
    /// Computes the network alerts of the scope from `today` to `years` ahead
    /// and keeps them: new gaps raised, each with a case; gaps found again
    /// kept as they are; gaps no longer found (blank from a day within the
    /// horizon) resolved. Audited.
    pub async fn raise_network_alerts(
        &self,
        s: &Scope,
        today: NaiveDate,
        years: i32,
        settings: &Settings,
        actor: &str,
    ) -> AppResult<Raised> {
        if !(0..=MAX_YEARS).contains(&years) {
            return Err(AppError::Invalid(format!("years: {years} is not 0 to {MAX_YEARS}")));
        }
        let alerts = self.network_alerts(s, today, years, settings).await?;
        let until = add_years(today, years);
        let rows: Vec<FoundNetworkAlert> = alerts.iter().map(found).collect();
        let kept = {
            let _turn = self.writing().await;
            let deadlines = self.store().case_deadlines().await?;
            let due = move |r: RegionCode| due_in(&deadlines, r, today);
            self.store().keep_network_alerts(&scope(s)?, &rows, until, None, &due, actor).await?
        };
        let detail = format!(
            "{} found up to {until}: {} raised (cases {}), {} seen again, {} resolved",
            rows.len(),
            kept.raised.len(),
            kept.raised.iter().map(|(_, c)| c.to_string()).collect::<Vec<_>>().join(", "),
            kept.seen,
            kept.resolved.len()
        );
        let region = crate::work::region_of_prefix(s.prefix());
        self.audit_event(actor, "network_alerts_raise", format!("scope {:?}", s.prefix()), detail, region).await?;
        Ok(Raised { today, until, found: rows.len(), places: None, kept })
    }

    /// The places inside the scope whose network alerts a change of these
    /// practitioners (a posting, a qualification) or facilities (their days,
    /// their place) may change: see [`crate::network_alerts::places_of`]. Read from
    /// the store as it stands: call it after the change, and, for a change
    /// that can take a place away (a facility moved), before it as well.
    pub async fn network_places(
        &self,
        s: &Scope,
        practitioners: &[String],
        facilities: &[String],
    ) -> AppResult<BTreeSet<RegionCode>> {
        Ok(self.store().network_places(&scope(s)?, practitioners, facilities).await?.into_iter().collect())
    }

    /// The incremental recompute: computes the network alerts of `places`
    /// only (inside the scope), from `today` to `years` ahead, over the part
    /// of the network around them ([`crate::network_alerts::network_alerts_at`]),
    /// and keeps them as [`App::raise_network_alerts`] would keep those of the
    /// whole scope, at those places: new gaps raised with their cases, gaps
    /// found again kept, gaps kept there and no longer found resolved. The
    /// alerts kept at other places are left as they are. Audited.
    pub async fn raise_network_alerts_at(
        &self,
        s: &Scope,
        places: &BTreeSet<RegionCode>,
        today: NaiveDate,
        years: i32,
        settings: &Settings,
        actor: &str,
    ) -> AppResult<Raised> {
        if !(0..=MAX_YEARS).contains(&years) {
            return Err(AppError::Invalid(format!("years: {years} is not 0 to {MAX_YEARS}")));
        }
        let until = add_years(today, years);
        let places: BTreeSet<RegionCode> = places.iter().copied().filter(|c| s.admits(*c)).collect();
        if places.is_empty() {
            return Ok(Raised { today, until, found: 0, places: Some(0), kept: NetworkRaise::default() });
        }
        let codes: Vec<RegionCode> = places.iter().copied().collect();
        let n = self.store().network_history_at(&scope(s)?, &codes).await?;
        let h = NetworkData {
            regions: n.regions,
            facilities: n.facilities,
            practitioners: n.practitioners,
            postings: n.postings,
            qualifications: n.qualifications,
        };
        let settings = *settings;
        let at = places.clone();
        let alerts = tokio::task::spawn_blocking(move || network_alerts_at(&h, &at, today, until, &settings))
            .await
            .map_err(|e| AppError::Store(format!("computing the network alerts failed: {e}")))??;
        let rows: Vec<FoundNetworkAlert> = alerts.iter().map(found).collect();
        let kept = {
            let _turn = self.writing().await;
            let deadlines = self.store().case_deadlines().await?;
            let due = move |r: RegionCode| due_in(&deadlines, r, today);
            self.store().keep_network_alerts(&scope(s)?, &rows, until, Some(&codes), &due, actor).await?
        };
        let detail = format!(
            "{} found at {} places up to {until}: {} raised (cases {}), {} seen again, {} resolved",
            rows.len(),
            codes.len(),
            kept.raised.len(),
            kept.raised.iter().map(|(_, c)| c.to_string()).collect::<Vec<_>>().join(", "),
            kept.seen,
            kept.resolved.len()
        );
        let region = if codes.len() == 1 { Some(codes[0]) } else { crate::work::region_of_prefix(s.prefix()) };
        self.audit_event(actor, "network_alerts_raise", format!("scope {:?}", s.prefix()), detail, region).await?;
        Ok(Raised { today, until, found: rows.len(), places: Some(codes.len()), kept })
    }

    /// The network alerts kept inside the scope, open ones first, each with its case.
    pub async fn kept_network_alerts(
        &self,
        s: &Scope,
        open_only: bool,
        limit: usize,
    ) -> AppResult<Vec<StoredNetworkAlert>> {
        Ok(self.store().kept_network_alerts(&scope(s)?, open_only, page(limit)).await?)
    }

    /// Network cases inside the scope, the overdue ones first.
    pub async fn network_cases(
        &self,
        s: &Scope,
        f: &NetworkCaseFilter,
        today: NaiveDate,
    ) -> AppResult<Vec<StoredNetworkCase>> {
        let q = NetworkCaseQuery { state: f.state, open_only: f.open, overdue_on: f.overdue.then_some(today) };
        Ok(self.store().network_cases(&scope(s)?, &q, today, page(f.limit)).await?)
    }

    pub async fn network_case(&self, s: &Scope, id: i64) -> AppResult<Option<StoredNetworkCase>> {
        Ok(self.store().network_case(&scope(s)?, id).await?)
    }

    /// Moves a network case made on `version` (see [`NetworkRules`]); audited.
    pub async fn move_network_case(
        &self,
        s: &Scope,
        id: i64,
        version: i64,
        req: NetworkCaseRequest,
        actor: &str,
        today: NaiveDate,
    ) -> AppResult<StoredNetworkCase> {
        let scope = scope(s)?;
        let mv = match req {
            NetworkCaseRequest::Assign { assignee, due } => {
                let case = self.store().network_case(&scope, id).await?.ok_or_else(|| not_in_scope(id))?;
                let assignee = self.responsible(assignee.trim(), case.region).await?;
                let due = match due {
                    Some(d) => d,
                    None => self.case_due(case.region, today).await?.0,
                };
                NetworkCaseMove::Assign { assignee, due }
            }
            NetworkCaseRequest::Verify { on, note } => NetworkCaseMove::Verify { on, note },
            NetworkCaseRequest::Step { on, note } => NetworkCaseMove::Step { on, note },
            NetworkCaseRequest::Close { reason, note, plan } => {
                if plan.is_some() && reason != NetworkCloseReason::Planned {
                    return Err(AppError::Invalid(format!(
                        "plan_id: only a case closed as planned names its plan, not one closed as {}",
                        reason.as_str()
                    )));
                }
                NetworkCaseMove::Close { reason, note, on: today, plan }
            }
        };
        let case = {
            let _turn = self.writing().await;
            self.store().move_network_case(&NetworkRules { today }, &scope, id, version, &mv, actor).await?
        };
        let detail = case.events.last().map(|e| format!("{:?} -> {}: {}", e.from, e.to, e.detail)).unwrap_or_default();
        let action = format!("network_case_{}", mv.action());
        self.audit_event(actor, &action, format!("network case {id}"), detail, Some(case.region)).await?;
        Ok(case)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn facts(state: CaseState, resolved: bool) -> NetworkCaseFacts {
        NetworkCaseFacts {
            id: 1,
            state,
            version: 1,
            region: "341122100201".parse().unwrap(),
            assignee: String::new(),
            steps: 0,
            alert_resolved: resolved,
            covering_plan: None,
        }
    }

    fn close(reason: NetworkCloseReason, note: &str) -> NetworkCaseMove {
        NetworkCaseMove::Close { reason, note: note.into(), on: day("2026-07-01"), plan: None }
    }

    #[test]
    fn filled_needs_the_alert_resolved_and_the_others_a_note() {
        let r = NetworkRules { today: day("2026-07-01") };
        let filled = close(NetworkCloseReason::Filled, "");
        assert!(r.check(&facts(CaseState::Open, false), &filled).unwrap_err().contains("resolved"));
        assert_eq!(r.check(&facts(CaseState::Open, true), &filled), Ok(CaseState::Closed));
        assert!(r.check(&facts(CaseState::Open, false), &close(NetworkCloseReason::Planned, " ")).is_err());
        // Planned needs a plan in force that covers the place, found by the store.
        let planned = close(NetworkCloseReason::Planned, "roving plan 3, Tuesdays");
        let no_plan = r.check(&facts(CaseState::Assigned, false), &planned).unwrap_err();
        assert!(no_plan.contains("plan in force") && no_plan.contains("341122100201"), "{no_plan}");
        let covered = NetworkCaseFacts { covering_plan: Some((3, 2)), ..facts(CaseState::Assigned, false) };
        assert_eq!(r.check(&covered, &planned), Ok(CaseState::Closed));
        let asked = NetworkCaseMove::Close {
            reason: NetworkCloseReason::Planned,
            note: String::new(),
            on: day("2026-07-01"),
            plan: Some(9),
        };
        assert!(r.check(&facts(CaseState::Assigned, false), &asked).unwrap_err().contains("plan 9"));
        assert_eq!(r.check(&covered, &asked), Ok(CaseState::Closed));
        let not_needed = close(NetworkCloseReason::NotNeeded, "merged into village 202");
        assert!(r.check(&facts(CaseState::Open, false), &not_needed).unwrap_err().contains("verification"));
        assert_eq!(r.check(&facts(CaseState::Verified, false), &not_needed), Ok(CaseState::Closed));
        assert_eq!(r.check(&facts(CaseState::Closed, true), &filled), Err("the case is closed".into()));
    }

    #[test]
    fn steps_follow_verification_and_nothing_is_dated_ahead() {
        let r = NetworkRules { today: day("2026-07-01") };
        let step = NetworkCaseMove::Step { on: day("2026-06-30"), note: "township recruits".into() };
        assert!(r.check(&facts(CaseState::Assigned, false), &step).unwrap_err().contains("verify the case first"));
        assert_eq!(r.check(&facts(CaseState::Verified, false), &step), Ok(CaseState::Assisting));
        let ahead = NetworkCaseMove::Verify { on: day("2026-07-02"), note: "seen".into() };
        assert!(r.check(&facts(CaseState::Open, false), &ahead).unwrap_err().contains("future"));
        let verify = NetworkCaseMove::Verify { on: day("2026-07-01"), note: "clinic empty".into() };
        assert_eq!(r.check(&facts(CaseState::Assigned, false), &verify), Ok(CaseState::Verified));
        let late = NetworkCaseMove::Assign { assignee: "li".into(), due: day("2026-06-01") };
        assert!(r.check(&facts(CaseState::Open, false), &late).unwrap_err().contains("has passed"));
    }
}

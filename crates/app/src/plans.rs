//! Kept roving and dispatch plans (docs/plans.md): the planner's output saved
//! as a draft of a county or township for a period, versioned, approved and
//! put in force by a county officer; visits recorded against the plan in
//! force; and the share of planned visits made, by township and county.
//!
//! Who may do what: a draft is made and edited by those who do the work
//! ([`Permission::Work`]: officers, administrators) for a region inside their
//! scope; a plan is approved, put in force or withdrawn by an administrator,
//! or an officer whose scope is a county or wider ([`may_decide`]); visits are
//! recorded by those who may record visits ([`Permission::Visit`]: village
//! doctors, officers) inside their scope. Every write is audited.

use crate::access::{Permission, Role, Scope};
use crate::model::{AppError, AppResult};
use crate::service::{scope, App};
use chrono::NaiveDate;
use coverage::plan::{plan_inputs, Action, SLOTS};
use coverage::tours::{halfday_name, tour_inputs};
use coverage::{PlanSettings, TourSettings};
use domain::{LineKind, PlanDays, PlanLine, PlanState, PlanTour, PlanVisit, RegionCode, RegionLevel};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use store::{LineProgress, NewPlan, PlanVisitWrites, StoredPlan, StoredPlanLine, StoredPlanTour, StoredPlanVisit};

/// Whether a role with a scope may approve, put in force or withdraw plans:
/// an administrator, or an officer of a county or wider.
pub fn may_decide(role: Role, s: &Scope) -> Result<(), String> {
    match role {
        Role::Administrator => Ok(()),
        Role::Officer if s.prefix().len() <= 6 => Ok(()),
        Role::Officer => Err("plans are approved and put in force by a county officer; your scope is narrower".into()),
        r => Err(format!("the role {r} may not approve, put in force or withdraw plans")),
    }
}

/// Whether a role may make and edit drafts.
pub fn may_draft(role: Role) -> Result<(), String> {
    if role.may(Permission::Work) {
        Ok(())
    } else {
        Err(format!("the role {role} may not make or edit plans"))
    }
}

/// Whether a role may record visits made against plans.
pub fn may_record_visits(role: Role) -> Result<(), String> {
    if role.may(Permission::Visit) {
        Ok(())
    } else {
        Err(format!("the role {role} may not record visits"))
    }
}

fn forbidden(r: Result<(), String>) -> AppResult<()> {
    r.map_err(AppError::Forbidden)
}

/// The planner's settings and figures kept with a plan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlannerRecord {
    /// Whether the planner made the lines (else they were given by hand).
    pub from_planner: bool,
    pub visits_per_week: u32,
    pub outreach_halfdays: u32,
    pub max_travel_minutes: f64,
    pub dispatch_population: u32,
    pub blank_villages: usize,
    pub doctors: usize,
    pub covered_population: u64,
    pub uncovered_villages: usize,
    /// The weekly plan's upper bound on the population covered by roving
    /// (`coverage::Plan::population_bound`); `None` for a plan saved before
    /// the bound was kept, or given by hand.
    #[serde(default)]
    pub population_bound: Option<u64>,
    /// The tours planned with it, their settings and figures; `None` when no
    /// tours were planned (by hand, or saved before tours were kept).
    #[serde(default)]
    pub tours: Option<ToursRecord>,
}

/// The tour planner's settings and figures kept with a plan (its tours are
/// kept in their own table, `Store::plan_tours`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ToursRecord {
    pub visits_per_month: u32,
    pub halfdays_per_month: u32,
    pub halfday_minutes: f64,
    pub service_minutes: f64,
    /// Doctors who could tour (of township centres and of county, municipal
    /// and provincial hospitals).
    pub doctors: usize,
    pub toured_villages: usize,
    pub covered_population: u64,
    /// No tours cover more people (the relaxation's optimum).
    pub population_bound: u64,
    /// Travel of all runs in a month, round trips.
    pub travel_minutes: f64,
    /// No tours of the same villages travel less in a month.
    pub travel_bound_minutes: f64,
    /// Why no tours were planned, when none were (too many blank villages);
    /// empty otherwise.
    #[serde(default)]
    pub not_planned: String,
}

impl ToursRecord {
    /// (bound − covered) / bound; 0 when the bound is 0.
    pub fn population_gap(&self) -> f64 {
        coverage::population_gap(self.covered_population, self.population_bound)
    }

    /// (travel − bound) / bound; 0 when the bound is 0.
    pub fn travel_gap(&self) -> f64 {
        gap(self.travel_minutes, self.travel_bound_minutes)
    }
}

/// The most blank villages whose tours are planned with a saved plan (the
/// coverage page plans tours up to as many): beyond, the heuristic would hold
/// a request for seconds; plan the county's townships instead.
pub const TOURS_UP_TO: usize = 400;

/// A kept plan with its lines and the visits made against it.
#[derive(Debug, Clone)]
pub struct KeptPlan {
    pub plan: StoredPlan,
    pub planner: PlannerRecord,
    pub lines: Vec<StoredPlanLine>,
    pub visits: Vec<StoredPlanVisit>,
    /// The planner's tours kept with the plan, by number.
    pub tours: Vec<StoredPlanTour>,
}

impl KeptPlan {
    /// The gap of the planner's travel to its lower bound, (travel - bound) /
    /// bound, 0 when the bound is 0 (as `coverage::Plan::gap`).
    pub fn gap(&self) -> f64 {
        gap(self.plan.travel_minutes, self.plan.lower_bound_minutes)
    }

    /// The weekly plan's gap to its population bound, (bound − covered) /
    /// bound; `None` where no bound was kept (a plan by hand, or saved before).
    pub fn population_gap(&self) -> Option<f64> {
        self.planner.population_bound.map(|b| coverage::population_gap(self.planner.covered_population, b))
    }

    /// Each line with its visits due and made up to `today` over the plan's
    /// period ([`due_and_made`]).
    pub fn progress(&self, today: NaiveDate) -> Vec<(&StoredPlanLine, u64, u64)> {
        let mut count: HashMap<i64, u64> = HashMap::new();
        for v in &self.visits {
            *count.entry(v.line_id).or_default() += 1;
        }
        self.lines
            .iter()
            .map(|l| {
                let (due, made) = due_and_made(
                    &InForce::of(&self.plan),
                    &l.line,
                    count.get(&l.id).copied().unwrap_or(0),
                    self.plan.period_start,
                    self.plan.period_end,
                    today,
                );
                (l, due, made)
            })
            .collect()
    }
}

/// The planner's settings and figures kept with a plan (the default, not
/// from the planner, where none were kept or they do not read).
pub fn planner_record(p: &StoredPlan) -> PlannerRecord {
    serde_json::from_str(&p.planner).unwrap_or_default()
}

pub fn gap(travel: f64, bound: f64) -> f64 {
    if bound <= 0.0 {
        0.0
    } else {
        (travel - bound) / bound
    }
}

/// When a plan was in force: its period, and the days it was put in force
/// and stopped being so (the first day no longer in force).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InForce {
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub from: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
}

impl InForce {
    pub fn of(p: &StoredPlan) -> InForce {
        InForce {
            period_start: p.period_start,
            period_end: p.period_end,
            from: p.in_force_from,
            until: p.in_force_until,
        }
    }

    fn of_line(l: &LineProgress) -> InForce {
        InForce {
            period_start: l.period_start,
            period_end: l.period_end,
            from: Some(l.in_force_from),
            until: l.in_force_until,
        }
    }
}

/// The planned visits of a line due from `from` to `to` and up to `today`
/// (both included), while its plan was in force, inside the plan's period
/// and the doctor's term; and the visits made, the visits recorded in those
/// days, at most those due (a visit beyond the days due does not make up for
/// another line's).
pub fn due_and_made(
    w: &InForce,
    line: &PlanLine,
    visits: u64,
    from: NaiveDate,
    to: NaiveDate,
    today: NaiveDate,
) -> (u64, u64) {
    let Some(in_force) = w.from else { return (0, 0) };
    let start = from.max(w.period_start).max(in_force);
    let mut end = to.min(w.period_end).min(today);
    if let Some(until) = w.until.and_then(|u| u.pred_opt()) {
        end = end.min(until);
    }
    let due = line.due_between(start, end);
    (due, visits.min(due))
}

/// Planned visits due and made in a region (a township or a county).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VisitShare {
    pub level: RegionLevel,
    pub region: RegionCode,
    pub due: u64,
    pub made: u64,
}

impl VisitShare {
    /// made / due; `None` when nothing was due.
    pub fn share(&self) -> Option<f64> {
        (self.due > 0).then(|| self.made as f64 / self.due as f64)
    }
}

/// A plan given by hand (the API, a form): its region, period and lines.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanDraft {
    pub region: RegionCode,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub lines: Vec<PlanLine>,
}

fn check_period(start: NaiveDate, end: NaiveDate) -> AppResult<()> {
    if end < start {
        return Err(AppError::Invalid(format!("period_end: {end} is before the period's start {start}")));
    }
    Ok(())
}

fn check_region(region: RegionCode) -> AppResult<()> {
    if !matches!(region.level(), RegionLevel::County | RegionLevel::Township) {
        return Err(AppError::Invalid(format!(
            "region: {} is a {}; a plan is a county's (6 digits) or a township's (9 digits)",
            region,
            region.level()
        )));
    }
    Ok(())
}

fn check_lines(lines: &[PlanLine]) -> AppResult<()> {
    for (i, l) in lines.iter().enumerate() {
        l.check().map_err(|e| {
            AppError::Invalid(format!("line {} (village {}): {}: {}", i + 1, l.village, e.column, e.reason))
        })?;
    }
    Ok(())
}

/// The lines of the planner's output: one per doctor and roving village, on
/// the weekdays of the planner's half-days; one per dispatch village, its
/// doctor to be named, serving the plan's period unless edited.
pub fn lines_of_plan(
    p: &coverage::Plan,
    villages: &[coverage::plan::PlanVillage],
    doctors: &[coverage::plan::PlanDoctor],
    period: (NaiveDate, NaiveDate),
) -> Vec<PlanLine> {
    let mut out = Vec::new();
    for vp in &p.villages {
        let village = villages[vp.village].code;
        match vp.action {
            Action::Rove => {
                for v in &vp.visits {
                    let halfdays: Vec<&str> = v.slots.iter().map(|&s| SLOTS[s as usize]).collect();
                    let halfdays = halfdays.join(";");
                    let Ok(days) = PlanDays::parse(&halfdays) else { continue };
                    out.push(PlanLine {
                        village,
                        kind: LineKind::Rove,
                        practitioner_id: Some(doctors[v.doctor].practitioner_id.clone()),
                        term_start: None,
                        term_end: None,
                        days,
                        halfdays,
                        travel_minutes: Some((v.minutes * 10.0).round() / 10.0),
                    });
                }
            }
            Action::Dispatch => out.push(PlanLine {
                village,
                kind: LineKind::Dispatch,
                practitioner_id: None,
                term_start: Some(period.0),
                term_end: Some(period.1),
                days: PlanDays::WORKING_WEEK,
                halfdays: String::new(),
                travel_minutes: None,
            }),
            Action::Uncovered => {}
        }
    }
    out
}

/// The planner's tours of the blank villages of `net` on `as_of`, with their
/// figures; none, and the reason, where there are more than [`TOURS_UP_TO`].
pub fn planned_tours(
    net: &coverage::Network,
    as_of: NaiveDate,
    ns: &coverage::Settings,
    ts: &TourSettings,
) -> Result<(ToursRecord, Vec<PlanTour>), coverage::CoverageError> {
    let (tv, td) = tour_inputs(net, as_of, ns);
    let mut record = ToursRecord {
        visits_per_month: ts.visits_per_month,
        halfdays_per_month: ts.halfdays_per_month,
        halfday_minutes: ts.halfday_minutes,
        service_minutes: ts.service_minutes,
        doctors: td.len(),
        ..ToursRecord::default()
    };
    if tv.len() > TOURS_UP_TO {
        record.not_planned = format!(
            "{} blank villages, more than the {TOURS_UP_TO} whose tours are planned with a plan: plan by township",
            tv.len()
        );
        return Ok((record, Vec::new()));
    }
    let tp = coverage::tours(&tv, &td, ts)?;
    record.toured_villages = tp.count(Action::Rove);
    record.covered_population = tp.covered_population;
    record.population_bound = tp.population_bound;
    record.travel_minutes = tp.travel_minutes;
    record.travel_bound_minutes = tp.travel_bound_minutes;
    Ok((record, tours_of_plan(&tp, &tv, &td)))
}

/// The tours of the tour planner's output as kept: doctor, facility, the
/// month's half-days by name, the villages in order, travel and people.
pub fn tours_of_plan(
    tp: &coverage::TourPlan,
    villages: &[coverage::plan::PlanVillage],
    doctors: &[coverage::plan::PlanDoctor],
) -> Vec<PlanTour> {
    tp.tours
        .iter()
        .map(|t| PlanTour {
            practitioner_id: doctors[t.doctor].practitioner_id.clone(),
            facility_id: doctors[t.doctor].facility_id.clone(),
            halfdays: t.halfdays.iter().map(|&h| halfday_name(h)).collect::<Vec<_>>().join(";"),
            villages: t.villages.iter().map(|&v| villages[v].code).collect(),
            travel_minutes: t.travel_minutes,
            duration_minutes: t.duration_minutes,
            population: t.villages.iter().map(|&v| villages[v].population as u64).sum(),
        })
        .collect()
}

impl App {
    /// The plans seen from a scope: of regions inside it, and of the county
    /// and township it lies in.
    pub async fn plans(&self, s: &Scope) -> AppResult<Vec<StoredPlan>> {
        Ok(self.store().plans(&scope(s)?).await?)
    }

    /// One plan seen from the scope, with its lines and visits.
    pub async fn kept_plan(&self, s: &Scope, id: i64) -> AppResult<KeptPlan> {
        let plan = self
            .store()
            .plan(&scope(s)?, id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("plan {id} is not seen from your scope")))?;
        let planner = planner_record(&plan);
        let lines = self.store().plan_lines(id).await?;
        let visits = self.store().plan_visits(id).await?;
        let tours = self.store().plan_tours(id).await?;
        Ok(KeptPlan { plan, planner, lines, visits, tours })
    }

    /// Saves the planner's plan for a county or township, computed over the
    /// network as it stood on `as_of` (blank villages and serving doctors by
    /// `network`), as a draft for the period: the next version of that region
    /// and period. With `tour_settings`, the planner's roving tours are kept
    /// with it (up to [`TOURS_UP_TO`] blank villages), with their bounds.
    /// Audited.
    #[allow(clippy::too_many_arguments)]
    pub async fn draft_plan_from_planner(
        &self,
        s: &Scope,
        role: Role,
        region: RegionCode,
        period: (NaiveDate, NaiveDate),
        as_of: NaiveDate,
        settings: &PlanSettings,
        tour_settings: Option<&TourSettings>,
        network: &coverage::Settings,
        actor: &str,
    ) -> AppResult<StoredPlan> {
        forbidden(may_draft(role))?;
        check_region(region)?;
        check_period(period.0, period.1)?;
        if !s.admits(region) {
            return Err(AppError::NotFound(format!("region {} is not inside your scope", region.short())));
        }
        settings.validate().map_err(|e| AppError::Invalid(e.to_string()))?;
        if let Some(ts) = tour_settings {
            ts.validate().map_err(|e| AppError::Invalid(format!("tours: {e}")))?;
        }
        let within = Scope::parse(&region.short()).map_err(AppError::Invalid)?;
        let c = self.coverage_on(&within, as_of, network).await?;
        let (ps, ns, ts) = (*settings, *network, tour_settings.copied());
        let (p, villages, doctors, toured) = tokio::task::spawn_blocking(move || {
            let (villages, doctors) = plan_inputs(&c.network, as_of, &ns);
            let p = coverage::plan(&villages, &doctors, &ps)?;
            let toured = match ts {
                Some(ts) => Some(planned_tours(&c.network, as_of, &ns, &ts)?),
                None => None,
            };
            Ok::<_, coverage::CoverageError>((p, villages, doctors, toured))
        })
        .await
        .map_err(|e| AppError::Store(format!("planning failed: {e}")))?
        .map_err(|e| AppError::Invalid(e.to_string()))?;
        let (tours_record, tours) = toured.unzip();
        let record = PlannerRecord {
            from_planner: true,
            visits_per_week: settings.visits_per_week,
            outreach_halfdays: settings.outreach_halfdays,
            max_travel_minutes: settings.max_travel_minutes,
            dispatch_population: settings.dispatch_population,
            blank_villages: villages.len(),
            doctors: doctors.len(),
            covered_population: p.covered_population,
            uncovered_villages: p.count(Action::Uncovered),
            population_bound: Some(p.population_bound),
            tours: tours_record,
        };
        let new = NewPlan {
            region,
            period_start: period.0,
            period_end: period.1,
            as_of,
            planner: serde_json::to_string(&record).unwrap_or_default(),
            travel_minutes: p.total_travel_minutes,
            lower_bound_minutes: p.lower_bound_minutes,
            lines: lines_of_plan(&p, &villages, &doctors, period),
            tours: tours.unwrap_or_default(),
        };
        self.save_draft(s, new, actor).await
    }

    /// Saves a plan given by hand as a draft (the next version of its region
    /// and period). Audited.
    pub async fn draft_plan(&self, s: &Scope, role: Role, d: &PlanDraft, actor: &str) -> AppResult<StoredPlan> {
        forbidden(may_draft(role))?;
        check_region(d.region)?;
        check_period(d.period_start, d.period_end)?;
        check_lines(&d.lines)?;
        if !s.admits(d.region) {
            return Err(AppError::NotFound(format!("region {} is not inside your scope", d.region.short())));
        }
        let new = NewPlan {
            region: d.region,
            period_start: d.period_start,
            period_end: d.period_end,
            as_of: d.period_start,
            planner: serde_json::to_string(&PlannerRecord::default()).unwrap_or_default(),
            travel_minutes: 0.0,
            lower_bound_minutes: 0.0,
            lines: d.lines.clone(),
            tours: Vec::new(),
        };
        self.save_draft(s, new, actor).await
    }

    async fn save_draft(&self, s: &Scope, new: NewPlan, actor: &str) -> AppResult<StoredPlan> {
        let saved = {
            let _turn = self.writing().await;
            self.store().save_plan(&scope(s)?, &new, actor).await?
        };
        self.audit_event(
            actor,
            "plan_saved",
            format!("plan {}", saved.id),
            format!(
                "region {} {} to {}, version {}, {} lines, draft",
                saved.region.short(),
                saved.period_start,
                saved.period_end,
                saved.version,
                new.lines.len()
            ),
            Some(saved.region),
        )
        .await?;
        Ok(saved)
    }

    /// Replaces the lines of a draft. Refused for a plan no longer a draft.
    /// Audited.
    pub async fn edit_plan_lines(
        &self,
        s: &Scope,
        role: Role,
        id: i64,
        lines: &[PlanLine],
        actor: &str,
    ) -> AppResult<StoredPlan> {
        forbidden(may_draft(role))?;
        check_lines(lines)?;
        let saved = {
            let _turn = self.writing().await;
            self.store().replace_plan_lines(&scope(s)?, id, lines, actor).await?
        };
        self.audit_event(
            actor,
            "plan_edited",
            format!("plan {id}"),
            format!("{} lines", lines.len()),
            Some(saved.region),
        )
        .await?;
        Ok(saved)
    }

    /// Approves a plan, puts it in force or withdraws it, on `today`, by a
    /// role allowed to ([`may_decide`]), for a plan of a region inside the
    /// scope. Audited.
    pub async fn move_plan(
        &self,
        s: &Scope,
        role: Role,
        id: i64,
        to: PlanState,
        today: NaiveDate,
        actor: &str,
    ) -> AppResult<StoredPlan> {
        forbidden(may_decide(role, s))?;
        if !matches!(to, PlanState::Approved | PlanState::InForce | PlanState::Withdrawn) {
            return Err(AppError::Invalid(format!(
                "to: a plan is moved to approved, in_force or withdrawn, not {to}; a newer version supersedes it"
            )));
        }
        let moved = {
            let _turn = self.writing().await;
            self.store().move_plan(&scope(s)?, id, to, today, actor).await?
        };
        let detail = match moved.in_force_from {
            Some(f) if to == PlanState::InForce => format!("in force from {f}"),
            _ => to.to_string(),
        };
        self.audit_event(actor, "plan_moved", format!("plan {id}"), detail, Some(moved.region)).await?;
        Ok(moved)
    }

    /// Records visits made against plans in force, all or none (each row
    /// labelled for its refusal). Audited: one row for one visit, one for many.
    pub async fn record_plan_visits(
        &self,
        s: &Scope,
        role: Role,
        rows: &[(String, PlanVisit)],
        actor: &str,
        today: NaiveDate,
    ) -> AppResult<PlanVisitWrites> {
        forbidden(may_record_visits(role))?;
        let done = {
            let _turn = self.writing().await;
            self.store().record_plan_visits(&scope(s)?, rows, actor, today).await?
        };
        let (target, detail, region) = match rows {
            [(_, v)] => (
                format!("plan {}", v.plan_id),
                format!(
                    "visit to {} on {}{}",
                    v.village,
                    v.date,
                    if done.unchanged > 0 { " (recorded before)" } else { "" }
                ),
                Some(v.village),
            ),
            _ => (
                "plan visits".to_string(),
                format!("{} visits: {} new, {} recorded before", rows.len(), done.inserted, done.unchanged),
                crate::work::region_of_prefix(s.prefix()),
            ),
        };
        self.audit_event(actor, "plan_visits_recorded", target, detail, region).await?;
        Ok(done)
    }

    /// The share of planned visits made from `from` to `to` (up to `today`),
    /// by township and by county, over the villages of the scope: for every
    /// line of every plan that has been in force, the visits due
    /// ([`due_and_made`]) and the visits made, summed.
    pub async fn planned_visits_made(
        &self,
        s: &Scope,
        from: NaiveDate,
        to: NaiveDate,
        today: NaiveDate,
    ) -> AppResult<Vec<VisitShare>> {
        check_period(from, to)?;
        let lines = self.store().plan_progress(&scope(s)?, from, to).await?;
        Ok(visit_shares(&lines, from, to, today))
    }
}

/// The lines' visits due and made summed by township, then by county.
pub fn visit_shares(lines: &[LineProgress], from: NaiveDate, to: NaiveDate, today: NaiveDate) -> Vec<VisitShare> {
    let mut sums: BTreeMap<(u8, RegionCode), (u64, u64)> = BTreeMap::new();
    for l in lines {
        let (due, made) = due_and_made(&InForce::of_line(l), &l.line.line, l.visits, from, to, today);
        for (k, level) in [(0u8, RegionLevel::Township), (1u8, RegionLevel::County)] {
            if let Some(r) = l.line.line.village.ancestor(level) {
                let e = sums.entry((k, r)).or_default();
                e.0 += due;
                e.1 += made;
            }
        }
    }
    sums.into_iter()
        .map(|((k, region), (due, made))| VisitShare {
            level: if k == 0 { RegionLevel::Township } else { RegionLevel::County },
            region,
            due,
            made,
        })
        .collect()
}

impl crate::import::WorkRecord for PlanVisit {
    async fn write(app: &App, rows: Vec<(String, Self)>, actor: &str, today: NaiveDate) -> AppResult<usize> {
        app.record_plan_visits(&Scope::all(), Role::Administrator, &rows, actor, today).await.map(|_| rows.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        domain::parse_date(s).unwrap()
    }

    #[test]
    fn county_officers_and_administrators_decide() {
        let s = |p: &str| Scope::parse(p).unwrap();
        assert!(may_decide(Role::Officer, &s("341122")).is_ok());
        assert!(may_decide(Role::Officer, &s("34")).is_ok());
        assert!(may_decide(Role::Administrator, &s("341122100")).is_ok());
        assert!(may_decide(Role::Officer, &s("341122100")).unwrap_err().contains("county officer"));
        for r in [Role::Clerk, Role::Analyst, Role::Viewer, Role::VillageDoctor] {
            assert!(may_decide(r, &s("341122")).is_err(), "{r}");
        }
        assert!(may_draft(Role::Officer).is_ok() && may_draft(Role::VillageDoctor).is_err());
        assert!(may_record_visits(Role::VillageDoctor).is_ok() && may_record_visits(Role::Analyst).is_err());
    }

    #[test]
    fn days_due_stop_the_day_before_the_plan_stops_being_in_force() {
        let line = PlanLine {
            village: RegionCode::parse("341122100201").unwrap(),
            kind: LineKind::Rove,
            practitioner_id: Some("T1".into()),
            term_start: None,
            term_end: None,
            days: PlanDays::parse("Mon").unwrap(),
            halfdays: String::new(),
            travel_minutes: None,
        };
        let w = InForce {
            period_start: d("2027-01-01"),
            period_end: d("2027-12-31"),
            from: Some(d("2027-01-04")),
            until: Some(d("2027-01-18")),
        };
        // Mondays 4 and 11; the 18th no longer in force; 3 visits make 2.
        assert_eq!(due_and_made(&w, &line, 3, d("2027-01-01"), d("2027-01-31"), d("2027-12-31")), (2, 2));
        // Never in force: nothing due.
        let never = InForce { from: None, until: None, ..w };
        assert_eq!(due_and_made(&never, &line, 3, d("2027-01-01"), d("2027-01-31"), d("2027-12-31")), (0, 0));
        // Today bounds the days due.
        let open = InForce { until: None, ..w };
        assert_eq!(due_and_made(&open, &line, 0, d("2027-01-01"), d("2027-12-31"), d("2027-01-10")), (1, 0));
    }
}

//! Targets of the programme indicators (`indicators::target`): the shipped
//! national targets with the administrators' changes kept in the store laid
//! over them, cached a short while; a change is made by an administrator (the
//! caller checks the permission) inside their region scope, audited. Reports
//! draw their values against the targets when they are drawn, so a change
//! rebuilds nothing. Also the overview's headline: the scope's indicators of
//! the latest kept year that have a target, with their status.

use crate::access::Scope;
use crate::analysis::Report;
use crate::model::{AppError, AppResult};
use crate::App;
use chrono::{DateTime, Datelike, Utc};
use domain::RegionLevel;
use indicators::cube::value_of;
use indicators::report::Comparisons;
use indicators::{Definitions, Direction, IndicatorDef, IndicatorValue, PeriodKind, Status, Target, Targets};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// How long a process trusts the targets it read (a change by this process
/// applies at once, one by another process on the same store within this time).
const FRESH_FOR: Duration = Duration::from_secs(30);

/// How long the overview's headline figures of a scope are reused.
const HEADLINE_FOR: Duration = Duration::from_secs(60);

/// The most changes the history lists.
pub const HISTORY: usize = 50;

/// Who changed a target last, and when.
#[derive(Debug, Clone, PartialEq)]
pub struct Changed {
    /// The stored version (1, 2, ... per indicator, region and year).
    pub version: i64,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// A target in force, with where it comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetInForce {
    pub target: Target,
    /// `None` for a shipped target never changed in the store.
    pub changed: Option<Changed>,
}

/// The targets in force.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TargetSet {
    pub targets: Targets,
    /// The same, with their origin, by indicator (definition order), region, year.
    pub rows: Vec<TargetInForce>,
}

/// One stored change of a target.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetChange {
    pub indicator: String,
    pub region: String,
    pub year: Option<i32>,
    /// The new target; `None` where the change removed it.
    pub target: Option<Target>,
    pub changed: Changed,
}

/// A change asked of the targets: the target of an indicator, region and year
/// set to a direction, value and tolerance, or removed (`set: None`).
#[derive(Debug, Clone, PartialEq)]
pub struct TargetEdit {
    pub indicator: String,
    /// A region-code prefix, `""` for the nation.
    pub region: String,
    /// `None`: every year.
    pub year: Option<i32>,
    /// Direction, value, tolerance; `None` removes the target.
    pub set: Option<(Direction, f64, f64)>,
    pub source: String,
}

/// One indicator of the overview's headline.
#[derive(Debug, Clone, PartialEq)]
pub struct HeadlineItem {
    pub def: IndicatorDef,
    /// For the whole scope and year; `None` when the denominator is 0.
    pub value: Option<f64>,
    pub target: Target,
    pub status: Option<Status>,
}

/// The scope's indicators that have a target, for the latest kept year.
#[derive(Debug, Clone, PartialEq)]
pub struct Headline {
    pub year: i32,
    pub items: Vec<HeadlineItem>,
}

type HeadlineValues = HashMap<(String, i32), (Instant, Arc<Vec<IndicatorValue>>)>;

/// The targets in force, and when they were read.
type Read = Option<(Instant, Arc<TargetSet>)>;

/// The targets last read, and the headline figures by scope and year.
#[derive(Clone, Default)]
pub struct TargetsCache {
    set: Arc<RwLock<Read>>,
    headline: Arc<Mutex<HeadlineValues>>,
}

impl TargetsCache {
    fn get(&self) -> Option<Arc<TargetSet>> {
        let g = self.set.read().unwrap_or_else(|e| e.into_inner());
        g.as_ref().filter(|(at, _)| at.elapsed() < FRESH_FOR).map(|(_, t)| t.clone())
    }

    fn put(&self, t: Arc<TargetSet>) {
        *self.set.write().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), t));
    }

    fn forget(&self) {
        *self.set.write().unwrap_or_else(|e| e.into_inner()) = None;
    }

    fn headline(&self, key: &(String, i32)) -> Option<Arc<Vec<IndicatorValue>>> {
        let g = self.headline.lock().unwrap_or_else(|e| e.into_inner());
        g.get(key).filter(|(at, _)| at.elapsed() < HEADLINE_FOR).map(|(_, v)| v.clone())
    }

    fn put_headline(&self, key: (String, i32), v: Arc<Vec<IndicatorValue>>) {
        let mut g = self.headline.lock().unwrap_or_else(|e| e.into_inner());
        g.retain(|_, (at, _)| at.elapsed() < HEADLINE_FOR);
        g.insert(key, (Instant::now(), v));
    }
}

fn changed(r: &store::TargetRecord) -> Changed {
    Changed { version: r.version, by: r.actor.clone(), at: r.created_at }
}

/// The target a stored version sets, or `None` for a removal.
fn stored_target(r: &store::TargetRecord) -> AppResult<Option<Target>> {
    let (Some(d), Some(v), Some(tol)) = (&r.direction, r.value, r.tolerance) else {
        return Ok(None);
    };
    let bad = |e: String| AppError::Store(format!("the stored target of {} for {:?}: {e}", r.indicator, r.region));
    let direction: Direction = d.parse().map_err(bad)?;
    Target::new(&r.indicator, &r.region, r.year, direction, v, tol, &r.source).map(Some).map_err(bad)
}

/// The shipped targets with the stored versions in force laid over them.
pub fn in_force(shipped: &Targets, stored: &[store::TargetRecord], defs: &Definitions) -> AppResult<TargetSet> {
    let mut targets = shipped.clone();
    let mut origin: HashMap<indicators::target::TargetKey, Changed> = HashMap::new();
    for r in stored {
        let key = (r.indicator.clone(), r.region.clone(), r.year);
        match stored_target(r)? {
            Some(t) => targets.set(t),
            None => {
                targets.remove(&key);
            }
        }
        origin.insert(key, changed(r));
    }
    let rows = targets
        .sorted(defs)
        .into_iter()
        .map(|t| TargetInForce { target: t.clone(), changed: origin.get(&t.key()).cloned() })
        .collect();
    Ok(TargetSet { targets, rows })
}

/// The level whose row is the scope itself (the provinces for the nation).
fn scope_level(prefix: &str) -> RegionLevel {
    match prefix.len() {
        0 | 2 => RegionLevel::Province,
        4 => RegionLevel::City,
        6 => RegionLevel::County,
        9 => RegionLevel::Township,
        _ => RegionLevel::Village,
    }
}

impl App {
    /// The targets in force: shipped, with the stored changes over them (read
    /// at most every 30 seconds).
    pub async fn indicator_targets(&self) -> AppResult<Arc<TargetSet>> {
        if let Some(t) = self.targets_cache().get() {
            return Ok(t);
        }
        let stored = self.store().targets().await?;
        let t = Arc::new(in_force(&Targets::shipped(), &stored, &Definitions::shipped())?);
        self.targets_cache().put(t.clone());
        Ok(t)
    }

    /// The latest stored changes of the targets, newest first.
    pub async fn target_changes(&self, limit: usize) -> AppResult<Vec<TargetChange>> {
        self.store()
            .target_versions(limit.min(u32::MAX as usize) as u32)
            .await?
            .iter()
            .map(|r| {
                Ok(TargetChange {
                    indicator: r.indicator.clone(),
                    region: r.region.clone(),
                    year: r.year,
                    target: stored_target(r)?,
                    changed: changed(r),
                })
            })
            .collect()
    }

    /// Sets or removes a target, by an administrator (the caller checks the
    /// permission) whose scope holds the target's region, as a new stored
    /// version, audited. The target must be of a shipped indicator; a removal,
    /// of a target in force.
    pub async fn set_target(&self, s: &Scope, actor: &str, e: TargetEdit) -> AppResult<TargetChange> {
        let defs = Definitions::shipped();
        let region =
            domain::region::parse_prefix(&e.region).map_err(|x| AppError::Invalid(format!("region: {}", x.0)))?;
        let target = match e.set {
            Some((d, v, tol)) => {
                Some(Target::new(&e.indicator, &region, e.year, d, v, tol, &e.source).map_err(AppError::Invalid)?)
            }
            None => None,
        };
        let indicator = e.indicator.trim().to_string();
        if defs.get(&indicator).is_none() {
            let known: Vec<&str> = defs.indicators.iter().map(|d| d.id.as_str()).collect();
            return Err(AppError::Invalid(format!(
                "indicator: there is no indicator {indicator:?}; expected one of {}",
                known.join(", ")
            )));
        }
        if !region.starts_with(s.prefix()) {
            return Err(AppError::Invalid(format!(
                "region: {region:?} lies outside your region scope {:?}",
                s.prefix()
            )));
        }
        let key = (indicator.clone(), region.clone(), e.year);
        if target.is_none() && !self.indicator_targets().await?.targets.items.iter().any(|t| t.key() == key) {
            return Err(AppError::NotFound(format!(
                "there is no target of {indicator} for {} in {}",
                region_words(&region),
                year_words(e.year)
            )));
        }
        let new = store::NewTarget {
            indicator: indicator.clone(),
            region: region.clone(),
            year: e.year,
            set: target.as_ref().map(|t| (t.direction.as_str().to_string(), t.value, t.tolerance)),
            source: target.as_ref().map(|t| t.source.clone()).unwrap_or_else(|| e.source.trim().to_string()),
        };
        let rec = {
            let _turn = self.writing().await;
            self.store().put_target(&new, actor).await?
        };
        self.targets_cache().forget();
        let what = format!("{indicator} {} {}", region_words(&region), year_words(e.year));
        let detail = match &target {
            Some(t) => format!("{} {} tolerance {} (version {})", t.direction, t.value, t.tolerance, rec.version),
            None => format!("removed (version {})", rec.version),
        };
        let at = (!region.is_empty()).then(|| domain::RegionCode::parse(&region).ok()).flatten();
        let action = if target.is_some() { "set_target" } else { "remove_target" };
        self.audit_event(actor, action, what, detail, at).await?;
        Ok(TargetChange { indicator, region, year: e.year, target, changed: changed(&rec) })
    }

    /// The programme report of `year` inside the scope, its values drawn against
    /// the targets in force and, with `compare`, beside the same period of the
    /// year before (whose facts are kept from then on); `counties` keeps the
    /// national poverty counties, or the others, or all.
    #[allow(clippy::too_many_arguments)]
    pub async fn report_compared(
        &self,
        defs: Definitions,
        s: &Scope,
        year: i32,
        levels: Vec<RegionLevel>,
        period: PeriodKind,
        compare: impl Into<Comparisons>,
        counties: domain::CountyGroup,
    ) -> AppResult<Report> {
        let compare: Comparisons = compare.into();
        let today = domain::time::china_today();
        crate::kept::check_year(year, today).map_err(AppError::Invalid)?;
        if compare.previous_year {
            crate::kept::check_year(year - 1, today)
                .map_err(|e| AppError::Invalid(format!("no year before {year} to compare with: {e}")))?;
        }
        let mut r = crate::kept::report_compared(
            self.store(),
            defs,
            s.prefix(),
            year,
            levels,
            period,
            compare,
            counties,
            today,
            self.write_turns(),
        )
        .await
        .map_err(AppError::Store)?;
        r.targets = self.indicator_targets().await?.targets.clone();
        Ok(r)
    }

    /// The scope's shipped indicators that have a target, for the latest year
    /// whose facts are kept (none kept yet: `None`, and nothing is built here).
    /// The figures are reused for a minute; the targets are those in force.
    pub async fn target_headline(&self, s: &Scope) -> AppResult<Option<Headline>> {
        let today = domain::time::china_today();
        let years = self.store().indicator_years().await?;
        let Some(year) = years.iter().filter(|y| y.complete && y.year <= today.year()).map(|y| y.year).max() else {
            return Ok(None);
        };
        let targets = self.indicator_targets().await?;
        let defs = Definitions::shipped();
        let prefix = s.prefix();
        let with: Vec<(usize, &Target)> = defs
            .indicators
            .iter()
            .enumerate()
            .filter_map(|(i, d)| targets.targets.find(&d.id, prefix, year).map(|t| (i, t)))
            .collect();
        if with.is_empty() {
            return Ok(None);
        }
        let key = (prefix.to_string(), year);
        let values = match self.targets_cache().headline(&key) {
            Some(v) => v,
            None => {
                let level = scope_level(prefix);
                let r = self
                    .report_compared(
                        defs.clone(),
                        s,
                        year,
                        vec![level],
                        PeriodKind::Year,
                        Comparisons::NONE,
                        domain::CountyGroup::All,
                    )
                    .await?;
                let v = Arc::new(scope_values(&r));
                self.targets_cache().put_headline(key, v.clone());
                v
            }
        };
        let items = with
            .into_iter()
            .map(|(i, t)| {
                let v = values.get(i).and_then(|v| v.value);
                HeadlineItem {
                    def: defs.indicators[i].clone(),
                    value: v,
                    target: t.clone(),
                    status: v.map(|x| t.status(x)),
                }
            })
            .collect();
        Ok(Some(Headline { year, items }))
    }
}

/// Each indicator of a report for the whole of its scope: the sums of its rows
/// (regions of one level, which do not overlap), as one value.
fn scope_values(r: &Report) -> Vec<IndicatorValue> {
    r.defs
        .indicators
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let numerator: i64 = r.rows.iter().map(|row| row.values[i].numerator).sum();
            let denominator =
                d.denominator.as_ref().map(|_| r.rows.iter().filter_map(|row| row.values[i].denominator).sum::<i64>());
            IndicatorValue { numerator, denominator, value: value_of(d, numerator, denominator) }
        })
        .collect()
}

fn region_words(region: &str) -> String {
    if region.is_empty() {
        "the nation".into()
    } else {
        format!("region {region}")
    }
}

fn year_words(year: Option<i32>) -> String {
    match year {
        Some(y) => y.to_string(),
        None => "every year".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(indicator: &str, region: &str, version: i64, set: Option<(&str, f64, f64)>) -> store::TargetRecord {
        store::TargetRecord {
            id: version,
            indicator: indicator.into(),
            region: region.into(),
            year: None,
            version,
            direction: set.map(|s| s.0.to_string()),
            value: set.map(|s| s.1),
            tolerance: set.map(|s| s.2),
            source: "admin".into(),
            actor: "admin".into(),
            created_at: Utc::now(),
        }
    }

    #[test]
    fn stored_changes_lie_over_the_shipped_targets() {
        let defs = Definitions::shipped();
        let shipped = Targets::shipped();
        let stored = vec![
            rec("poor_out_of_pocket_share", "", 2, Some(("at_most", 25.0, 5.0))),
            rec("poor_out_of_pocket_share", "34", 1, Some(("at_most", 12.0, 1.0))),
            rec("villages_with_qualified_doctor_share", "", 3, None),
        ];
        let set = in_force(&shipped, &stored, &defs).unwrap();
        let oop = set.targets.find("poor_out_of_pocket_share", "", 2024).unwrap();
        assert_eq!((oop.direction, oop.value), (Direction::AtMost, 25.0));
        assert_eq!(set.targets.find("poor_out_of_pocket_share", "341122", 2024).unwrap().value, 12.0);
        assert!(set.targets.find("villages_with_qualified_doctor_share", "", 2024).is_none(), "removed");
        assert_eq!(set.rows.len(), shipped.items.len(), "one changed, one added, one removed");
        let shipped_row = set.rows.iter().find(|r| r.target.indicator == "poor_treated_in_county_share").unwrap();
        assert_eq!(shipped_row.changed, None);
        assert_eq!(set.rows.iter().find(|r| r.target.region == "34").unwrap().changed.as_ref().unwrap().version, 1);
        // In definition order.
        let first = defs.indicators.iter().position(|d| d.id == set.rows[0].target.indicator).unwrap();
        let last = defs.indicators.iter().position(|d| d.id == set.rows.last().unwrap().target.indicator).unwrap();
        assert!(first <= last);
    }
}

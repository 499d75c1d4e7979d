//! The life cycle of an alert (docs/monitoring.md, "Alerts"), as a pure state
//! machine: `open -> verifying -> assisting -> resolved`, or `dismissed` from `open`
//! or `verifying` with a reason. Every change records who, when and a note;
//! `resolved` needs at least one assistance measure; a closed alert stays closed
//! for its year.
//!
//! [`reconcile`] compares the alerts already kept with a new run's findings and
//! says what to change, so that a store can apply it: one alert per
//! `(rule, household_id, year)`, never a duplicate.

use crate::error::LifecycleError;
use chrono::NaiveDateTime;
use domain::alert::Finding;
pub use domain::alert::{Alert, AlertKey, AlertState, Assistance, Change, Transition};
use std::collections::HashMap;

/// The life cycle of an alert kept in memory (the store applies the same checks,
/// [`check_transition`] and [`check_measure`], inside its transactions).
pub trait Lifecycle: Sized {
    /// A new open alert for a finding.
    fn raise(f: &Finding, at: NaiveDateTime) -> Self;
    /// Moves the alert to `to`, by [`check_transition`], recording who, when and why.
    fn transition(&mut self, to: AlertState, by: &str, at: NaiveDateTime, note: &str) -> Result<(), LifecycleError>;
    /// Records an assistance measure, by [`check_measure`].
    fn add_measure(&mut self, m: Assistance) -> Result<(), LifecycleError>;
}

impl Lifecycle for Alert {
    /// A new open alert from a finding.
    fn raise(f: &Finding, at: NaiveDateTime) -> Alert {
        Alert {
            key: AlertKey::from(f),
            village_code: f.village_code,
            value: f.value.clone(),
            threshold: f.threshold.clone(),
            state: AlertState::Open,
            raised_at: at,
            history: Vec::new(),
            measures: Vec::new(),
        }
    }

    /// Moves the alert to `to`, recording who, when and the note. Dismissing needs
    /// the reason in the note; resolving needs a recorded measure.
    fn transition(&mut self, to: AlertState, by: &str, at: NaiveDateTime, note: &str) -> Result<(), LifecycleError> {
        check_transition(self.state, to, by, note, self.measures.len())?;
        self.history.push(Transition {
            from: self.state,
            to,
            by: by.trim().to_string(),
            at,
            note: note.trim().to_string(),
        });
        self.state = to;
        Ok(())
    }

    /// Records an assistance measure; refused once the alert is closed.
    fn add_measure(&mut self, m: Assistance) -> Result<(), LifecycleError> {
        check_measure(self.state, &m)?;
        self.measures.push(m);
        Ok(())
    }
}

/// Whether an alert in `from` with `measures` recorded may move to `to`: the rule
/// of the life cycle, usable by a store that keeps alerts as rows.
pub fn check_transition(
    from: AlertState,
    to: AlertState,
    by: &str,
    note: &str,
    measures: usize,
) -> Result<(), LifecycleError> {
    if by.trim().is_empty() {
        return Err(LifecycleError::NoActor);
    }
    if from.is_closed() {
        return Err(LifecycleError::Closed { state: from.as_str() });
    }
    if !from.next().contains(&to) {
        return Err(LifecycleError::IllegalTransition {
            from: from.as_str(),
            to: to.as_str(),
            allowed: from.next().iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
        });
    }
    if to == AlertState::Dismissed && note.trim().is_empty() {
        return Err(LifecycleError::NoReason);
    }
    if to == AlertState::Resolved && measures == 0 {
        return Err(LifecycleError::NoMeasure);
    }
    Ok(())
}

/// Whether a measure may be recorded on an alert in `state`.
pub fn check_measure(state: AlertState, m: &Assistance) -> Result<(), LifecycleError> {
    if state.is_closed() {
        return Err(LifecycleError::Closed { state: state.as_str() });
    }
    if m.kind.trim().is_empty() {
        return Err(LifecycleError::BadMeasure("a kind (what was given)"));
    }
    if m.by.trim().is_empty() {
        return Err(LifecycleError::BadMeasure("who gave it (by)"));
    }
    if m.amount.0 < 0 {
        return Err(LifecycleError::BadMeasure("an amount of 0 or more"));
    }
    Ok(())
}

/// Compares the alerts kept (those of the years the run covers) with a run's
/// findings. Same data gives no change; a finding of a closed alert gives no
/// change (closed for its year); a finding never gives a second alert of a key.
pub fn reconcile(existing: &[Alert], findings: &[Finding]) -> Vec<Change> {
    let kept: HashMap<&AlertKey, &Alert> = existing.iter().map(|a| (&a.key, a)).collect();
    let mut seen: std::collections::HashSet<AlertKey> = std::collections::HashSet::with_capacity(findings.len());
    let mut changes = Vec::new();
    for f in findings {
        let key = AlertKey::from(f);
        if !seen.insert(key.clone()) {
            continue;
        }
        match kept.get(&key) {
            None => changes.push(Change::Raise(f.clone())),
            Some(a) if a.state.is_closed() => {}
            Some(a) => {
                if a.value != f.value || a.threshold != f.threshold {
                    changes.push(Change::Update { key, value: f.value.clone(), threshold: f.threshold.clone() });
                }
            }
        }
    }
    let years: std::collections::HashSet<i32> = findings.iter().map(|f| f.year).collect();
    for a in existing {
        if !a.state.is_closed() && years.contains(&a.key.year) && !seen.contains(&a.key) {
            changes.push(Change::NoLongerRaised { key: a.key.clone() });
        }
    }
    changes
}

/// Applies reconcile's changes to alerts kept in memory (the store does the same
/// through its own API).
pub fn apply_changes(alerts: &mut Vec<Alert>, changes: &[Change], at: NaiveDateTime) {
    let mut index: HashMap<AlertKey, usize> = alerts.iter().enumerate().map(|(i, a)| (a.key.clone(), i)).collect();
    for c in changes {
        match c {
            Change::Raise(f) => {
                let key = AlertKey::from(f);
                if let std::collections::hash_map::Entry::Vacant(e) = index.entry(key) {
                    e.insert(alerts.len());
                    alerts.push(Alert::raise(f, at));
                }
            }
            Change::Update { key, value, threshold } => {
                if let Some(&i) = index.get(key) {
                    if !alerts[i].state.is_closed() {
                        alerts[i].value = value.clone();
                        alerts[i].threshold = threshold.clone();
                    }
                }
            }
            Change::NoLongerRaised { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use domain::alert::Figure;
    use domain::{Fen, RegionCode};

    fn at(h: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2024, 5, 1).unwrap().and_hms_opt(h, 0, 0).unwrap()
    }

    fn finding(rule: &str, hh: &str, oop: i64) -> Finding {
        Finding {
            rule: rule.into(),
            household_id: hh.into(),
            village_code: RegionCode::parse("341122100201").unwrap(),
            year: 2024,
            value: Figure::Money(Fen(oop)),
            threshold: Some(Figure::Money(Fen(978_750))),
        }
    }

    fn measure() -> Assistance {
        Assistance {
            kind: "temporary_relief".into(),
            amount: Fen::from_yuan(2000),
            by: "civil affairs".into(),
            date: NaiveDate::from_ymd_opt(2024, 5, 3).unwrap(),
        }
    }

    #[test]
    fn the_whole_way_to_resolved_records_every_change() {
        let mut a = Alert::raise(&finding("medical_burden_poor", "H1", 1_000_000), at(8));
        a.transition(AlertState::Verifying, "wang", at(9), "visited").unwrap();
        a.transition(AlertState::Assisting, "wang", at(10), "confirmed").unwrap();
        assert_eq!(a.transition(AlertState::Resolved, "wang", at(11), "done"), Err(LifecycleError::NoMeasure));
        a.add_measure(measure()).unwrap();
        a.transition(AlertState::Resolved, "li", at(12), "relief paid").unwrap();
        assert_eq!(a.state, AlertState::Resolved);
        assert_eq!(a.history.len(), 3);
        assert_eq!(a.history[2].by, "li");
        assert_eq!(a.history[2].at, at(12));
        assert_eq!(a.history[2].note, "relief paid");
        // Closed for the year: no more moves, no more measures.
        assert!(matches!(a.transition(AlertState::Open, "li", at(13), "x"), Err(LifecycleError::Closed { .. })));
        assert!(matches!(a.add_measure(measure()), Err(LifecycleError::Closed { .. })));
    }

    #[test]
    fn illegal_transitions_are_refused() {
        let mut a = Alert::raise(&finding("impoverishing", "H1", 5), at(8));
        let e = a.transition(AlertState::Assisting, "wang", at(9), "").unwrap_err();
        assert!(matches!(e, LifecycleError::IllegalTransition { from: "open", to: "assisting", .. }), "{e}");
        assert!(e.to_string().contains("verifying, dismissed"), "{e}");
        assert!(a.transition(AlertState::Resolved, "wang", at(9), "").is_err());
        assert!(a.transition(AlertState::Open, "wang", at(9), "").is_err());
        assert_eq!(a.transition(AlertState::Verifying, " ", at(9), ""), Err(LifecycleError::NoActor));
        a.transition(AlertState::Verifying, "wang", at(9), "").unwrap();
        a.transition(AlertState::Assisting, "wang", at(9), "").unwrap();
        // Dismissed only from open or verifying.
        assert!(matches!(
            a.transition(AlertState::Dismissed, "wang", at(10), "no risk"),
            Err(LifecycleError::IllegalTransition { .. })
        ));
        assert_eq!(a.history.len(), 2);
    }

    #[test]
    fn dismissing_needs_a_reason_and_stays_closed() {
        let mut a = Alert::raise(&finding("catastrophic_10", "H1", 5), at(8));
        assert_eq!(a.transition(AlertState::Dismissed, "wang", at(9), "  "), Err(LifecycleError::NoReason));
        a.transition(AlertState::Dismissed, "wang", at(9), "reimbursed by commercial insurance").unwrap();
        assert!(a.transition(AlertState::Verifying, "wang", at(10), "").is_err());
    }

    #[test]
    fn measures_need_kind_and_actor() {
        let mut a = Alert::raise(&finding("catastrophic_10", "H1", 5), at(8));
        let mut m = measure();
        m.kind = String::new();
        assert!(matches!(a.add_measure(m), Err(LifecycleError::BadMeasure(_))));
        let mut m = measure();
        m.by = String::new();
        assert!(matches!(a.add_measure(m), Err(LifecycleError::BadMeasure(_))));
    }

    #[test]
    fn rerun_on_same_data_changes_nothing() {
        let findings = vec![finding("catastrophic_10", "H1", 500), finding("catastrophic_10", "H2", 700)];
        let mut alerts = Vec::new();
        let first = reconcile(&alerts, &findings);
        assert_eq!(first.len(), 2);
        apply_changes(&mut alerts, &first, at(8));
        assert_eq!(reconcile(&alerts, &findings), Vec::<Change>::new());
        let again = reconcile(&alerts, &findings);
        apply_changes(&mut alerts, &again, at(9));
        assert_eq!(alerts.len(), 2);
    }

    #[test]
    fn new_data_updates_values_without_duplicates() {
        let mut alerts = Vec::new();
        let first = reconcile(&alerts, &[finding("catastrophic_10", "H1", 500)]);
        apply_changes(&mut alerts, &first, at(8));
        alerts[0].transition(AlertState::Verifying, "wang", at(9), "").unwrap();
        let new = vec![finding("catastrophic_10", "H1", 900), finding("catastrophic_10", "H3", 100)];
        let changes = reconcile(&alerts, &new);
        assert_eq!(changes.len(), 2);
        assert!(matches!(&changes[0], Change::Update { value: Figure::Money(Fen(900)), .. }));
        apply_changes(&mut alerts, &changes, at(10));
        assert_eq!(alerts.len(), 2);
        assert_eq!(alerts[0].value, Figure::Money(Fen(900)));
        assert_eq!(alerts[0].state, AlertState::Verifying, "the update keeps the alert's state");
        // The household that no longer crosses is reported, not closed.
        let changes = reconcile(&alerts, &[finding("catastrophic_10", "H3", 100)]);
        assert_eq!(changes, vec![Change::NoLongerRaised { key: alerts[0].key.clone() }]);
    }

    #[test]
    fn resolved_stays_resolved_on_rerun_and_next_year_is_a_new_alert() {
        let mut alerts = Vec::new();
        let first = reconcile(&alerts, &[finding("catastrophic_10", "H1", 500)]);
        apply_changes(&mut alerts, &first, at(8));
        let a = &mut alerts[0];
        a.transition(AlertState::Verifying, "wang", at(9), "").unwrap();
        a.transition(AlertState::Assisting, "wang", at(9), "").unwrap();
        a.add_measure(measure()).unwrap();
        a.transition(AlertState::Resolved, "wang", at(9), "").unwrap();
        let changes = reconcile(&alerts, &[finding("catastrophic_10", "H1", 800)]);
        assert!(changes.is_empty(), "{changes:?}");
        let forced = [Change::Update { key: alerts[0].key.clone(), value: Figure::Money(Fen(1)), threshold: None }];
        apply_changes(&mut alerts, &forced, at(10));
        assert_eq!(alerts[0].value, Figure::Money(Fen(500)));
        let mut next = finding("catastrophic_10", "H1", 800);
        next.year = 2025;
        let changes = reconcile(&alerts, &[next]);
        assert!(matches!(&changes[..], [Change::Raise(f)] if f.year == 2025));
    }

    #[test]
    fn states_parse() {
        assert_eq!("assisting".parse::<AlertState>().unwrap(), AlertState::Assisting);
        assert!("closed".parse::<AlertState>().is_err());
    }
}

//! What the store calls back inside its units of work. A settlement is read,
//! computed and written in one transaction (a person's accumulators must not move
//! between the read and the write), yet the store computes nothing of it: the
//! transaction hands what it read to these traits, which the application layer
//! implements over the settlement engine, and writes back what they return. The
//! store knows a policy only as its stored text; the application parses it.
//! Likewise the alert life cycle: a move is checked against the state read in the
//! same transaction, by [`AlertRules`].

use crate::settlements::PolicyRecord;
use domain::alert::{Alert, AlertState, Assistance, Change, Finding};
use domain::settlement::{ClaimInput, TierAccumulator};
use domain::{Fen, PovertyStatus, RegionCode};
use std::sync::Arc;

/// The rules of one stored policy, as a unit of work applies them.
pub trait SettlementRules: Send + Sync {
    /// The tier names, in the order of payments and accumulators.
    fn tiers(&self) -> &[String];
    /// Settles one claim on top of a person's year, whose accumulators (one per
    /// tier, in [`SettlementRules::tiers`] order) it advances: the payments in
    /// tier order, and what the patient pays.
    fn settle(&self, claim: &ClaimInput, status: PovertyStatus, acc: &mut Vec<TierAccumulator>) -> (Vec<Fen>, Fen);
    /// Why the claim settles as it does on top of `acc`, in words a clerk can read
    /// to the patient.
    fn explain(&self, claim: &ClaimInput, status: PovertyStatus, acc: &[TierAccumulator]) -> String;
}

/// The settlement engine as the store's units of work call it.
pub trait SettlementEngine: Send + Sync {
    /// The rules of a stored policy, or why its text cannot be read.
    fn rules(&self, policy: &PolicyRecord) -> Result<Arc<dyn SettlementRules>, String>;
    /// Which of `candidates` (policies of `year` whose region is a prefix of the
    /// village's code, every version) is in force for the village, if any.
    fn in_force(&self, candidates: &[PolicyRecord], village: RegionCode, year: i32) -> Option<usize>;
}

/// Why an assistance measure cannot be recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MeasureRefusal {
    /// The alert is closed: nothing more is recorded on it.
    Closed(String),
    /// The measure itself is incomplete or wrong.
    Invalid(String),
}

/// The alert life cycle as the store's units of work call it; the application
/// implements it over `monitor::lifecycle`.
pub trait AlertRules: Send + Sync {
    /// What a monitor run's findings change among the alerts kept of their year.
    fn reconcile(&self, kept: &[Alert], findings: &[Finding]) -> Vec<Change>;
    /// Whether an alert in `from`, with `measures` recorded, may move to `to` by
    /// `actor` with `note`; the error says why not.
    fn check_transition(
        &self,
        from: AlertState,
        to: AlertState,
        actor: &str,
        note: &str,
        measures: usize,
    ) -> Result<(), String>;
    /// Whether a measure may be recorded on an alert in `state`.
    fn check_measure(&self, state: AlertState, m: &Assistance) -> Result<(), MeasureRefusal>;
}

//! What the store calls back inside its units of work. A settlement is read,
//! computed and written in one transaction (a person's accumulators must not move
//! between the read and the write), yet the store computes nothing of it: the
//! transaction hands what it read to these traits, which the application layer
//! implements over the settlement engine, and writes back what they return. The
//! store knows a policy only as its stored text; the application parses it.

use crate::settlements::PolicyRecord;
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

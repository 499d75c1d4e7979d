//! One-stop settlement (一站式结算): a hospital bill paid in one visit by several
//! payers in a policy-given order, the rest left to the patient
//! (docs/settlement.md is the contract, to the fen).
//!
//! - [`policy`] reads a policy file (TOML) into a validated [`Policy`].
//! - [`engine`] settles claims in exact integer fen: one kernel serves the
//!   real-time path ([`settle_claim`]), the batch ([`settle_batch`]) and the
//!   re-settlement of a person's year after a voided claim
//!   ([`resettle_person_year`]).
//! - [`explain()`] says what each tier did and why, as data and as plain text.
//!
//! Architecture invariant: this crate does no IO and knows nothing of files, SQL
//! or HTTP. Callers hand it parsed claims and statuses; it hands back fen.

pub mod engine;
pub mod explain;
pub mod policy;

pub use engine::{
    bands_f, resettle_person_year, settle_batch, settle_claim, settle_in_order, settle_into, settle_person_year,
    settlement_order, settlement_order_at, settlement_order_on, Accumulators, BatchClaim, ClaimDifference, ClaimInput,
    PersonClaim, Resettlement, Settlement, TierAccumulator,
};
pub use explain::{explain, BandUse, Bound, Explanation, TierStep};
pub use policy::{
    policy_in_force, Band, Base, CapLevel, Mode, PerLevel, Policy, PolicyError, Standing, TierEntry, TierProblem, When,
};

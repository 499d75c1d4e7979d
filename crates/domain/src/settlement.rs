//! What a settlement reads of a claim and what it keeps of a person's year:
//! plain records shared by the settlement engine (`settle`), which computes with
//! them, and the store, which keeps them between claims.

use crate::{ClaimKind, FacilityLevel, Fen};
use serde::Serialize;

/// What the engine needs of a claim (the rest of [`crate::Claim`] is not used).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ClaimInput {
    pub level: FacilityLevel,
    pub kind: ClaimKind,
    pub total_cost: Fen,
    /// Must be at most `total_cost`; both non-negative (the parsers refuse others).
    pub eligible_cost: Fen,
    /// Whether the person is enrolled in basic medical insurance for the claim's
    /// year (docs/settlement.md, "Enrolment"): tier entries with
    /// `requires_enrolment` do not apply otherwise. Read from the enrolments by
    /// whoever builds the input; [`From<&Claim>`] says `true` (file mode's default).
    pub enrolled: bool,
    /// Whether the claim came with a referral (转诊); `when.referred` filters on it.
    pub referred: bool,
}

impl From<&crate::Claim> for ClaimInput {
    fn from(c: &crate::Claim) -> Self {
        ClaimInput {
            level: c.facility_level,
            kind: c.kind,
            total_cost: c.total_cost,
            eligible_cost: c.eligible_cost,
            enrolled: true,
            referred: c.referred,
        }
    }
}

/// A person's running totals for one tier name in one policy year.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TierAccumulator {
    /// `S`: the cumulative base `x` (after the claim deductible) of rate and bands
    /// entries, against which the annual deductible and the bands are measured.
    pub base: Fen,
    /// `O`: the cumulative base left unpaid by this tier (oop_cap entries).
    pub unpaid: Fen,
    /// What this tier name has paid the person in the year so far.
    pub paid: Fen,
}

//! Explanations: what each tier did to one claim, so that a clerk can answer a
//! patient's "why did I pay this" (为什么我要付这么多). Built by the same kernel
//! that settles ([`crate::engine::settle_into`]), so it cannot drift from the
//! payments.

use crate::engine::{settle_into, Accumulators, ClaimInput, Settlement, TierAccumulator};
use crate::policy::{Base, CapLevel, Mode, Policy};
use domain::{FacilityLevel, Fen, PovertyStatus, Rate};
use serde::Serialize;
use std::fmt::Write;

/// Which limit decided a tier's payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    None,
    ClaimCap,
    AnnualCap,
}

/// The part of a claim's cumulative base that fell in one band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BandUse {
    /// 0-based band position.
    pub band: usize,
    /// The band's bounds above the annual deductible.
    pub from: Fen,
    pub to: Option<Fen>,
    pub amount: Fen,
    pub rate: Rate,
}

/// What one tier name did to the claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TierStep {
    /// Position in [`Policy::names`].
    pub name: usize,
    /// The matching entry (index in [`Policy::entries`]); `None`: no entry matched.
    pub entry: Option<usize>,
    /// `b`: what the tier could pay from.
    pub base: Fen,
    /// The claim deductible taken off `b` (rate and bands).
    pub claim_deductible: Fen,
    /// `x = max(0, b - claim_deductible)` (rate and bands).
    pub x: Fen,
    /// The part of `x` above the annual deductible (rate and bands).
    pub counted: Fen,
    /// The bands this claim's base fell in (bands mode).
    pub bands: Vec<BandUse>,
    /// The payment before caps.
    pub raw: Fen,
    pub bound: Bound,
    pub pay: Fen,
    pub before: TierAccumulator,
    pub after: TierAccumulator,
}

impl TierStep {
    pub(crate) fn unmatched(name: usize, acc: TierAccumulator) -> TierStep {
        TierStep {
            name,
            entry: None,
            base: Fen::ZERO,
            claim_deductible: Fen::ZERO,
            x: Fen::ZERO,
            counted: Fen::ZERO,
            bands: Vec::new(),
            raw: Fen::ZERO,
            bound: Bound::None,
            pay: Fen::ZERO,
            before: acc,
            after: acc,
        }
    }
}

/// The explanation of one claim's settlement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    pub claim: ClaimInput,
    pub status: PovertyStatus,
    pub steps: Vec<TierStep>,
    pub settlement: Settlement,
}

/// Explains how `claim` settles for a person whose accumulators for the year
/// stand at `acc` (left unchanged: this is a "what happens and why", not a
/// settlement).
pub fn explain(policy: &Policy, claim: &ClaimInput, status: PovertyStatus, acc: &Accumulators) -> Explanation {
    let mut work = acc.clone();
    work.tiers.resize(policy.names.len(), TierAccumulator::default());
    let mut payments = vec![Fen::ZERO; policy.names.len()];
    let mut steps = Vec::with_capacity(policy.names.len());
    let out_of_pocket = settle_into(policy, claim, status, &mut work.tiers, &mut payments, Some(&mut steps));
    Explanation { claim: *claim, status, steps, settlement: Settlement { payments, out_of_pocket } }
}

impl Explanation {
    /// Plain text a clerk can read to the patient, English with Chinese labels.
    pub fn render(&self, policy: &Policy) -> String {
        let mut o = String::new();
        let c = &self.claim;
        let _ = writeln!(
            o,
            "Claim at a {} facility ({}), {} ({}), patient status {} ({})",
            c.level,
            c.level.zh(),
            c.kind,
            c.kind.zh(),
            self.status,
            self.status.zh()
        );
        if !c.enrolled {
            let _ = writeln!(
                o,
                "NOT ENROLLED 未参保 in basic medical insurance for the year: entries that require enrolment do not apply"
            );
        }
        // Referral matters above the county only (docs/settlement.md, "Referral").
        if c.level.index() > FacilityLevel::County.index() {
            let _ = writeln!(o, "{}", if c.referred { "Referred 已转诊" } else { "Without referral 未转诊" });
        }
        let _ = writeln!(
            o,
            "Total cost 总费用 {} yuan; eligible 政策范围内 {}; ineligible 范围外 {}",
            c.total_cost,
            c.eligible_cost,
            c.total_cost - c.eligible_cost
        );
        for (k, s) in self.steps.iter().enumerate() {
            let name = &policy.names[s.name];
            let _ = writeln!(o);
            let Some(ei) = s.entry else {
                let _ = writeln!(o, "{}. {name}: no entry of this tier applies to this claim; pays 0.00", k + 1);
                continue;
            };
            let entry = &policy.entries[ei];
            let _ = writeln!(o, "{}. {name}: policy entry #{} applies (when {})", k + 1, ei + 1, entry.when);
            let base = match entry.base {
                Base::Eligible => "the eligible cost still unpaid",
                Base::All => "everything still unpaid",
            };
            let _ = writeln!(o, "   Base 计算基数: {} yuan ({base})", s.base);
            match &entry.mode {
                Mode::Rate(rates) => {
                    let _ = writeln!(o, "   Deductible per claim 起付线: {}; above it: {}", s.claim_deductible, s.x);
                    if entry.annual_deductible.0 > 0 {
                        let _ = writeln!(
                            o,
                            "   Yearly deductible 年度起付: {}; your yearly total was {} before and {} after; counted: {}",
                            entry.annual_deductible, s.before.base, s.after.base, s.counted
                        );
                    }
                    let rate = rates.get(c.level).unwrap_or_default();
                    let _ = writeln!(o, "   Rate 比例: {} x {} = {} (rounded to the fen)", rate, s.counted, s.raw);
                }
                Mode::Bands(_) => {
                    let _ = writeln!(o, "   Deductible per claim 起付线: {}; above it: {}", s.claim_deductible, s.x);
                    let _ = writeln!(
                        o,
                        "   Yearly total 年度累计 {} -> {}, measured above the yearly deductible 年度起付 {}",
                        s.before.base, s.after.base, entry.annual_deductible
                    );
                    if s.bands.is_empty() {
                        let _ = writeln!(o, "   Nothing of this claim is above the yearly deductible.");
                    }
                    for b in &s.bands {
                        let to = b.to.map_or("no limit".to_string(), |t| t.to_string());
                        let _ = writeln!(
                            o,
                            "   Band 分段 {} ({} to {}): {} at rate {}",
                            b.band + 1,
                            b.from,
                            to,
                            b.amount,
                            b.rate
                        );
                    }
                    let _ = writeln!(o, "   Payment = rounded yearly band total after minus before = {}", s.raw);
                }
                Mode::OopCap(caps) => {
                    let own = caps.get(c.level).unwrap_or_default();
                    let cap = match entry.oop_cap_level {
                        CapLevel::Claim => own,
                        CapLevel::Highest => s.after.base,
                    };
                    let _ = writeln!(
                        o,
                        "   Yearly out-of-pocket cap 年度自付封顶 {cap}{}; left unpaid this year before this claim: {}; pays what goes above: {}",
                        match entry.oop_cap_level {
                            CapLevel::Claim => String::new(),
                            CapLevel::Highest if cap == own => " (this level's, the highest met this year)".to_string(),
                            CapLevel::Highest => format!(" (the highest level's met this year; this level's is {own})"),
                        },
                        s.before.unpaid,
                        s.raw
                    );
                }
                Mode::OopRatioCap(q) => {
                    let _ = writeln!(
                        o,
                        "   The patient pays at most {q} of the total cost 总费用 {}; pays the rest above that: {}",
                        c.total_cost, s.raw
                    );
                }
            }
            let bound = match s.bound {
                Bound::None => "no cap bound".to_string(),
                Bound::ClaimCap => {
                    format!("limited by the per-claim cap 单次封顶 {}", entry.claim_cap.unwrap_or_default())
                }
                Bound::AnnualCap => format!(
                    "limited by the yearly cap 年度封顶 {} (paid this year before: {})",
                    entry.annual_cap.unwrap_or_default(),
                    s.before.paid
                ),
            };
            let _ = writeln!(
                o,
                "   Pays 支付 {} yuan ({bound}); paid this year {} -> {}",
                s.pay, s.before.paid, s.after.paid
            );
        }
        let _ = writeln!(o);
        let paid: Fen = self.settlement.payments.iter().copied().sum();
        let _ = writeln!(
            o,
            "Paid by the funds 基金支付 {paid}; out of pocket 个人自付 {} yuan; {} + {} = {}",
            self.settlement.out_of_pocket, paid, self.settlement.out_of_pocket, c.total_cost
        );
        o
    }
}

//! Plausibility limits on amounts: the most a single claim (by kind and level of
//! care) or a single assistance measure (by kind) may plausibly cost. An amount
//! above its limit is refused with the limit and how to proceed, rather than
//! settled or paid: a typing slip of a few zeros must not move real funds.
//!
//! The limits are data (kept in the store, changed by administrators); the
//! shipped ones are [`AmountLimits::shipped`]. A row names a kind and a level,
//! either of which may be `*` (any); the most specific row that matches wins (an
//! exact kind before `*`, then an exact level before `*`). An amount that no row
//! matches has no limit.

use crate::{Claim, ClaimKind, DomainError, FacilityLevel, Fen};
use serde::{Deserialize, Serialize};
use std::fmt;

/// What a limit applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitSubject {
    /// A claim's total cost, by claim kind and facility level.
    Claim,
    /// An assistance measure's amount, by the measure's kind (free text: 临时救助, ...).
    Measure,
}

impl LimitSubject {
    pub fn as_str(self) -> &'static str {
        match self {
            LimitSubject::Claim => "claim",
            LimitSubject::Measure => "measure",
        }
    }

    pub fn parse(s: &str) -> Result<LimitSubject, DomainError> {
        match s.trim() {
            "claim" => Ok(LimitSubject::Claim),
            "measure" => Ok(LimitSubject::Measure),
            other => crate::bail!("unknown limit subject {other:?}: expected claim or measure"),
        }
    }
}

impl fmt::Display for LimitSubject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmountLimit {
    pub subject: LimitSubject,
    /// A claim kind (`inpatient`, ...) or a measure kind, or `*`.
    pub kind: String,
    /// A facility level (`county`, ...) for a claim, or `*`; always `*` for a measure.
    pub level: String,
    /// The largest plausible amount.
    pub max: Fen,
}

impl AmountLimit {
    /// A limit checked for sense: a known claim kind and level (or `*`), a measure
    /// kind of at most 64 characters, a positive maximum.
    pub fn new(subject: LimitSubject, kind: &str, level: &str, max: Fen) -> Result<AmountLimit, DomainError> {
        let (kind, level) = (kind.trim(), level.trim());
        let level = if level.is_empty() { "*" } else { level };
        if max.0 <= 0 {
            crate::bail!("the maximum of a limit must be positive, not {max}");
        }
        match subject {
            LimitSubject::Claim => {
                if kind != "*" {
                    kind.parse::<ClaimKind>()?;
                }
                if level != "*" {
                    level.parse::<FacilityLevel>()?;
                }
            }
            LimitSubject::Measure => {
                if level != "*" {
                    crate::bail!("a measure's limit has no level (use *), not {level:?}");
                }
                if kind.is_empty() || kind.chars().count() > 64 {
                    crate::bail!("a measure kind is 1 to 64 characters (or * for any)");
                }
                crate::check_name(kind)?;
            }
        }
        Ok(AmountLimit { subject, kind: kind.to_string(), level: level.to_string(), max })
    }

    fn matches(&self, subject: LimitSubject, kind: &str, level: &str) -> bool {
        self.subject == subject && (self.kind == "*" || self.kind == kind) && (self.level == "*" || self.level == level)
    }

    /// Higher is more specific.
    fn rank(&self) -> u8 {
        u8::from(self.kind != "*") * 2 + u8::from(self.level != "*")
    }
}

/// The limits in force.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmountLimits(pub Vec<AmountLimit>);

fn yuan(y: i64) -> Fen {
    Fen::from_yuan(y)
}

impl AmountLimits {
    /// The shipped limits, in yuan: set well above the dearest real cases (a
    /// provincial hospital's stay for a critical illness rarely passes a few
    /// hundred thousand) and well below a slip of several zeros.
    pub fn shipped() -> AmountLimits {
        use LimitSubject::*;
        let row = |subject, kind: &str, level: &str, y| AmountLimit {
            subject,
            kind: kind.into(),
            level: level.into(),
            max: yuan(y),
        };
        AmountLimits(vec![
            row(Claim, "*", "*", 5_000_000),
            row(Claim, "inpatient", "village", 50_000),
            row(Claim, "inpatient", "township", 300_000),
            row(Claim, "inpatient", "county", 1_000_000),
            row(Claim, "inpatient", "municipal", 3_000_000),
            row(Claim, "inpatient", "provincial", 5_000_000),
            row(Claim, "inpatient", "out_of_province", 5_000_000),
            row(Claim, "outpatient", "*", 100_000),
            row(Claim, "outpatient", "village", 5_000),
            row(Claim, "outpatient", "township", 20_000),
            row(Claim, "chronic_outpatient", "*", 500_000),
            row(Measure, "*", "*", 500_000),
        ])
    }

    /// The limit of an amount, the most specific that matches.
    pub fn find(&self, subject: LimitSubject, kind: &str, level: &str) -> Option<&AmountLimit> {
        self.0.iter().filter(|l| l.matches(subject, kind, level)).max_by_key(|l| l.rank())
    }

    /// Why a claim's cost is implausible, or `None` when it is within its limit.
    pub fn check_claim(&self, c: &Claim) -> Option<String> {
        let (kind, level) = (c.kind.as_str(), c.facility_level.as_str());
        let limit = self.find(LimitSubject::Claim, kind, level)?;
        (c.total_cost > limit.max).then(|| {
            format!(
                "total_cost {} yuan is above the plausible most for a {kind} claim at {level} level ({} yuan); \
                 check the bill, or have an administrator raise the limit",
                c.total_cost, limit.max
            )
        })
    }

    /// Why a measure's amount is implausible, or `None` when it is within its limit.
    pub fn check_measure(&self, kind: &str, amount: Fen) -> Option<String> {
        let limit = self.find(LimitSubject::Measure, kind.trim(), "*")?;
        (amount > limit.max).then(|| {
            format!(
                "amount {amount} yuan is above the plausible most for a measure of kind {} ({} yuan); \
                 check the amount, or have an administrator raise the limit",
                kind.trim(),
                limit.max
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(kind: ClaimKind, level: FacilityLevel, yuan: i64) -> Claim {
        Claim {
            claim_id: "C1".into(),
            person_id: crate::ResidentId::parse("341122195811250026").unwrap(),
            facility_level: level,
            kind,
            admitted: crate::parse_date("2024-01-01").unwrap(),
            discharged: crate::parse_date("2024-01-05").unwrap(),
            total_cost: Fen::from_yuan(yuan),
            eligible_cost: Fen::from_yuan(yuan),
            diagnosis: "C16".into(),
            facility_id: String::new(),
            referred: false,
        }
    }

    #[test]
    fn the_most_specific_limit_wins() {
        let l = AmountLimits::shipped();
        assert_eq!(l.find(LimitSubject::Claim, "inpatient", "county").unwrap().max, Fen::from_yuan(1_000_000));
        assert_eq!(l.find(LimitSubject::Claim, "outpatient", "county").unwrap().max, Fen::from_yuan(100_000));
        assert_eq!(l.find(LimitSubject::Claim, "outpatient", "village").unwrap().max, Fen::from_yuan(5_000));
        assert_eq!(l.find(LimitSubject::Measure, "临时救助", "*").unwrap().max, Fen::from_yuan(500_000));
        assert!(AmountLimits::default().find(LimitSubject::Claim, "inpatient", "county").is_none());
    }

    #[test]
    fn an_implausible_claim_or_measure_is_named_with_its_limit() {
        let l = AmountLimits::shipped();
        assert_eq!(l.check_claim(&claim(ClaimKind::Inpatient, FacilityLevel::County, 1_000_000)), None);
        let why = l.check_claim(&claim(ClaimKind::Inpatient, FacilityLevel::County, 999_999_999)).unwrap();
        assert!(why.contains("999999999.00") && why.contains("1000000.00") && why.contains("county"), "{why}");
        assert!(l.check_measure("临时救助", Fen::from_yuan(99_999_999)).unwrap().contains("临时救助"));
        assert_eq!(l.check_measure("临时救助", Fen::from_yuan(3_000)), None);
    }

    #[test]
    fn a_limit_is_checked_for_sense() {
        let new = |s, k: &str, lv: &str, y| AmountLimit::new(s, k, lv, Fen::from_yuan(y));
        assert!(new(LimitSubject::Claim, "inpatient", "county", 1).is_ok());
        assert!(new(LimitSubject::Claim, "*", "", 1).unwrap().level == "*");
        assert!(new(LimitSubject::Claim, "surgery", "county", 1).is_err());
        assert!(new(LimitSubject::Claim, "inpatient", "moon", 1).is_err());
        assert!(new(LimitSubject::Claim, "inpatient", "county", 0).is_err());
        assert!(new(LimitSubject::Measure, "临时救助", "county", 1).is_err());
        assert!(new(LimitSubject::Measure, "", "*", 1).is_err());
    }
}

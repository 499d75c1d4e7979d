//! The base measures: additive facts, each a whole number (a count, or money in
//! fen), recorded per village and month. Every indicator is a ratio or a sum of
//! them, so that a higher region's figure is the sum of its children's and a
//! quarter's the sum of its months'.
//!
//! A measure says how it adds up over time ([`Aggregation`]) and which slices it is
//! broken down by ([`Dims`]): claim facts by the patient's poverty status, the
//! claim's kind and the level of the facility that treated it, person and
//! household facts by status, village facts by nothing.

use domain::{ClaimKind, FacilityLevel, PovertyStatus};
use std::fmt;
use std::str::FromStr;

/// How a measure's monthly facts make up a period's figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregation {
    /// Events: a period's figure is the sum of its months (costs, claims).
    Flow,
    /// Distinct things counted once a year, in the month they are first seen
    /// (persons treated, households warned): a period's figure is the sum from
    /// January of its year through its last month (累计), which counts each once.
    YearToDate,
    /// A state (villages, population, registered patients): facts are changes
    /// recorded in the month they happen, and a period's figure is the sum of all
    /// changes up to its last month.
    Stock,
}

/// The slices a measure's facts carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dims {
    pub status: bool,
    pub kind: bool,
    /// The facility level of a claim (village, township, county, ...).
    pub level: bool,
}

/// What a measure counts: people or things, or money.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    Count,
    /// Integer fen.
    Money,
}

macro_rules! measures {
    ($( $(#[$m:meta])* $v:ident = $name:literal, $agg:ident, $q:ident, status: $s:literal, kind: $k:literal $(, level: $l:literal)?; )+) => {
        /// A base measure.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Measure { $( $(#[$m])* $v ),+ }

        impl Measure {
            pub const ALL: &'static [Measure] = &[$(Measure::$v),+];
            pub const COUNT: usize = Measure::ALL.len();

            pub fn as_str(self) -> &'static str {
                match self { $(Measure::$v => $name),+ }
            }
            pub fn aggregation(self) -> Aggregation {
                match self { $(Measure::$v => Aggregation::$agg),+ }
            }
            pub fn quantity(self) -> Quantity {
                match self { $(Measure::$v => Quantity::$q),+ }
            }
            pub fn dims(self) -> Dims {
                match self { $(Measure::$v => Dims { status: $s, kind: $k, level: false $(|| $l)? }),+ }
            }
            pub fn index(self) -> usize {
                self as usize
            }
        }

        impl FromStr for Measure {
            type Err = String;
            fn from_str(s: &str) -> Result<Measure, String> {
                match s.trim() {
                    $($name => Ok(Measure::$v),)+
                    other => Err(format!(
                        "unknown measure {other:?}; the base measures are: {}",
                        [$($name),+].join(", ")
                    )),
                }
            }
        }
    };
}

measures! {
    /// Settled claims (visits and stays).
    Claims = "claims", Flow, Count, status: true, kind: true, level: true;
    /// Claims treated inside the patient's county (县域内就诊): at a registered
    /// facility of that county, or, where the claim names none, at a village,
    /// township or county facility level.
    TreatedInCounty = "treated_in_county", Flow, Count, status: true, kind: true, level: true;
    TotalCost = "total_cost", Flow, Money, status: true, kind: true, level: true;
    EligibleCost = "eligible_cost", Flow, Money, status: true, kind: true, level: true;
    OutOfPocket = "out_of_pocket", Flow, Money, status: true, kind: true, level: true;
    /// Paid by basic medical insurance (基本医保).
    PaidBasic = "paid_basic", Flow, Money, status: true, kind: true, level: true;
    /// Paid by critical-illness insurance (大病保险).
    PaidCritical = "paid_critical", Flow, Money, status: true, kind: true, level: true;
    /// Paid by medical assistance (医疗救助).
    PaidAssistance = "paid_assistance", Flow, Money, status: true, kind: true, level: true;
    /// Paid by local safety-net funds (兜底保障).
    PaidSafetyNet = "paid_safety_net", Flow, Money, status: true, kind: true, level: true;
    /// Paid by tiers of other names.
    PaidOther = "paid_other", Flow, Money, status: true, kind: true, level: true;
    /// Distinct persons with a claim in the year.
    Patients = "patients", YearToDate, Count, status: true, kind: false;
    /// Registered persons with a serious disease of the special-treatment catalogue
    /// (大病专项救治病种) among their diagnoses.
    SeriousPatients = "serious_patients", Stock, Count, status: true, kind: false;
    /// Of them, distinct persons with a claim in the year for a disease they are
    /// registered with (救治).
    SeriousPatientsTreated = "serious_patients_treated", YearToDate, Count, status: true, kind: false;
    /// Registered persons with a chronic disease of the catalogue.
    ChronicPatients = "chronic_patients", Stock, Count, status: true, kind: false;
    /// Of them, persons under a family-doctor contract (家庭医生签约).
    ChronicPatientsContracted = "chronic_patients_contracted", Stock, Count, status: true, kind: false;
    /// Registered households, sliced by their poorest member's status.
    Households = "households", Stock, Count, status: true, kind: false;
    /// Distinct households with an early-warning alert in the year.
    HouseholdsWarned = "households_warned", YearToDate, Count, status: true, kind: false;
    /// Distinct households with an alert of the year resolved with assistance.
    HouseholdsAssisted = "households_assisted", YearToDate, Count, status: true, kind: false;
    /// Rural villages (行政村).
    Villages = "villages", Stock, Count, status: false, kind: false;
    /// Rural villages served by a qualified village doctor.
    VillagesWithQualifiedDoctor = "villages_with_qualified_doctor", Stock, Count, status: false, kind: false;
    /// People living in rural villages.
    RuralPopulation = "rural_population", Stock, Count, status: false, kind: false;
    /// Of them, people within 15 minutes of a qualified clinic or centre (15分钟服务圈).
    PopulationWithin15Min = "population_within_15min", Stock, Count, status: false, kind: false;
    /// Cases of households at risk whose verification deadline fell in the
    /// period, counted in the month of the deadline (docs/work.md).
    CasesDue = "cases_due", Flow, Count, status: true, kind: false;
    /// Of them, those verified on or before their deadline.
    CasesVerifiedInTime = "cases_verified_in_time", Flow, Count, status: true, kind: false;
    /// Of the claims treated in the patient's county, those at a village or
    /// township facility (乡村两级诊疗).
    TreatedAtPrimary = "treated_at_primary", Flow, Count, status: true, kind: true, level: true;
    /// Cases of households at risk whose deadline to close fell in the period,
    /// counted in the month of that deadline (docs/work.md).
    CasesCloseDue = "cases_close_due", Flow, Count, status: true, kind: false;
    /// Of them, those closed (for any reason) on or before that deadline.
    CasesClosedInTime = "cases_closed_in_time", Flow, Count, status: true, kind: false;
    /// Households whose out-of-pocket spending of the year so far exceeds 10% of
    /// their yearly budget (consumption where recorded, else income): SDG 3.8.2
    /// as measured until 2025, counted in the month it is first exceeded.
    HouseholdsOopOver10Pct = "households_oop_over_10pct", YearToDate, Count, status: true, kind: false;
    /// The same above 25% of the budget.
    HouseholdsOopOver25Pct = "households_oop_over_25pct", YearToDate, Count, status: true, kind: false;
    /// Households whose out-of-pocket spending exceeds 40% of their discretionary
    /// budget (the budget less the societal poverty line for each member): SDG
    /// 3.8.2 as redefined in 2025 (financial hardship).
    HouseholdsFinancialHardship = "households_financial_hardship", YearToDate, Count, status: true, kind: false;
    /// Of them, households whose out-of-pocket spending exceeds the whole
    /// discretionary budget (impoverishing spending, 2025): those left below the
    /// line, or already below it and paying.
    HouseholdsImpoverishingSpending = "households_impoverishing_spending", YearToDate, Count, status: true, kind: false;
}

impl fmt::Display for Measure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The slice a fact belongs to: the patient's (or household's) poverty status,
/// the claim's kind and the level of the facility that treated it, where the
/// measure carries them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Slice {
    pub status: Option<PovertyStatus>,
    pub kind: Option<ClaimKind>,
    pub level: Option<FacilityLevel>,
}

impl Slice {
    pub const NONE: Slice = Slice { status: None, kind: None, level: None };

    /// A person's or a household's slice: the status alone.
    pub fn of_status(status: PovertyStatus) -> Slice {
        Slice { status: Some(status), ..Slice::NONE }
    }

    /// A claim's slice: the patient's status, the claim's kind and its facility level.
    pub fn of_claim(status: PovertyStatus, kind: ClaimKind, level: FacilityLevel) -> Slice {
        Slice { status: Some(status), kind: Some(kind), level: Some(level) }
    }

    const KINDS: usize = ClaimKind::ALL.len() + 1;
    const LEVELS: usize = FacilityLevel::ALL.len() + 1;

    /// A dense index in `0..Slice::COUNT`, for lookup tables.
    pub fn index(self) -> usize {
        let s = self.status.map(|s| s.index() + 1).unwrap_or(0);
        let k = self.kind.map(|k| k.index() + 1).unwrap_or(0);
        let l = self.level.map(|l| l.index() + 1).unwrap_or(0);
        (s * Slice::KINDS + k) * Slice::LEVELS + l
    }

    /// 6 × 4 × 7 = 168: still one byte in the stored facts.
    pub const COUNT: usize = (PovertyStatus::ALL.len() + 1) * Slice::KINDS * Slice::LEVELS;

    /// Every slice, in index order.
    pub fn all() -> Vec<Slice> {
        let statuses = std::iter::once(None).chain(PovertyStatus::ALL.iter().copied().map(Some));
        let mut out = Vec::with_capacity(Slice::COUNT);
        for s in statuses {
            for k in std::iter::once(None).chain(ClaimKind::ALL.iter().copied().map(Some)) {
                for l in std::iter::once(None).chain(FacilityLevel::ALL.iter().copied().map(Some)) {
                    out.push(Slice { status: s, kind: k, level: l });
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_list_the_known() {
        for m in Measure::ALL {
            assert_eq!(m.as_str().parse::<Measure>().unwrap(), *m);
        }
        let e = "poor_patient".parse::<Measure>().unwrap_err();
        assert!(e.contains("unknown measure") && e.contains("serious_patients"), "{e}");
    }

    #[test]
    fn slice_indices_are_dense_and_distinct() {
        let all = Slice::all();
        assert_eq!(all.len(), Slice::COUNT);
        for (i, s) in all.iter().enumerate() {
            assert_eq!(s.index(), i);
        }
        assert!(Slice::COUNT <= 256, "a slice is one byte in the stored facts");
    }
}

//! The closed lists of the domain: poverty statuses, facility levels and kinds,
//! claim kinds, qualifications. Each parses from its English name (as files carry
//! it) or its Chinese name, and refuses anything else with the list of what is
//! allowed.

use crate::DomainError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

macro_rules! closed_list {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal / $zh:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The Chinese name, for pages and reports.
            pub fn zh(self) -> &'static str {
                match self { $($name::$variant => $zh),+ }
            }

            /// Position in [`Self::ALL`], for compact tables indexed by this enum.
            pub fn index(self) -> usize {
                self as usize
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = DomainError;
            fn from_str(s: &str) -> Result<Self, DomainError> {
                let t = s.trim();
                $( if t == $text || t == $zh { return Ok($name::$variant); } )+
                Err(DomainError::new(format!(
                    concat!("unknown ", $what, " {:?}; expected one of: {}"),
                    t,
                    [$($text),+].join(", ")
                )))
            }
        }
    };
}

closed_list! {
    /// A rural resident's poverty status (docs/settlement.md, "Inputs").
    PovertyStatus, "poverty status" {
        /// 特困供养: people in extreme hardship under state support.
        SpecialHardship = "special_hardship" / "特困供养",
        /// 低保: minimum-living-allowance recipients.
        LowIncome = "low_income" / "低保",
        /// 脱贫人口: people lifted out of poverty.
        Lifted = "lifted" / "脱贫人口",
        /// 监测对象: people monitored against falling (back) into poverty.
        Monitored = "monitored" / "监测对象",
        /// 一般农村居民: other rural residents.
        General = "general" / "一般农村居民",
    }
}

impl PovertyStatus {
    /// Whether the status counts as "poor" for monitoring and settlement variants.
    pub fn is_poor(self) -> bool {
        self != PovertyStatus::General
    }
}

closed_list! {
    /// The level of the facility that treated a claim; policies vary by it.
    FacilityLevel, "facility level" {
        Village = "village" / "村级",
        Township = "township" / "乡级",
        County = "county" / "县级",
        Municipal = "municipal" / "市级",
        Provincial = "provincial" / "省级",
        OutOfProvince = "out_of_province" / "省外",
    }
}

closed_list! {
    /// The kind of a health facility (docs/coverage.md).
    FacilityKind, "facility kind" {
        VillageClinic = "village_clinic" / "村卫生室",
        TownshipCenter = "township_center" / "乡镇卫生院",
        CommunityCenter = "community_center" / "社区卫生服务中心",
        CountyHospital = "county_hospital" / "县级医院",
        MunicipalHospital = "municipal_hospital" / "市级医院",
        ProvincialHospital = "provincial_hospital" / "省级医院",
    }
}

impl FacilityKind {
    /// The settlement level of a claim treated at a facility of this kind.
    pub fn level(self) -> FacilityLevel {
        match self {
            FacilityKind::VillageClinic => FacilityLevel::Village,
            FacilityKind::TownshipCenter | FacilityKind::CommunityCenter => FacilityLevel::Township,
            FacilityKind::CountyHospital => FacilityLevel::County,
            FacilityKind::MunicipalHospital => FacilityLevel::Municipal,
            FacilityKind::ProvincialHospital => FacilityLevel::Provincial,
        }
    }

    pub fn is_hospital(self) -> bool {
        matches!(
            self,
            FacilityKind::CountyHospital | FacilityKind::MunicipalHospital | FacilityKind::ProvincialHospital
        )
    }
}

closed_list! {
    /// The kind of a claim.
    ClaimKind, "claim kind" {
        Inpatient = "inpatient" / "住院",
        Outpatient = "outpatient" / "门诊",
        /// 门诊慢特病: outpatient care of a registered chronic or special disease.
        ChronicOutpatient = "chronic_outpatient" / "门诊慢特病",
    }
}

closed_list! {
    /// A practitioner's qualification (docs/coverage.md).
    Qualification, "qualification" {
        /// 执业医师
        Physician = "physician" / "执业医师",
        /// 执业助理医师
        AssistantPhysician = "assistant_physician" / "执业助理医师",
        /// 乡村医生
        RuralDoctor = "rural_doctor" / "乡村医生",
        Nurse = "nurse" / "护士",
        Other = "other" / "其他",
    }
}

impl Qualification {
    /// Whether this qualification can make a village doctor "qualified".
    pub fn is_doctor(self) -> bool {
        matches!(self, Qualification::Physician | Qualification::AssistantPhysician | Qualification::RuralDoctor)
    }

    /// Whether this is a licensed physician or assistant physician.
    pub fn is_physician(self) -> bool {
        matches!(self, Qualification::Physician | Qualification::AssistantPhysician)
    }
}

/// A hospital grade (一级/二级/三级); `None` where ungraded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Grade(pub u8);

impl Grade {
    /// Parses `1`, `2`, `3` (or 一级, 二级, 三级); empty is "ungraded".
    pub fn parse_opt(s: &str) -> Result<Option<Grade>, DomainError> {
        match s.trim() {
            "" => Ok(None),
            "1" | "一级" => Ok(Some(Grade(1))),
            "2" | "二级" => Ok(Some(Grade(2))),
            "3" | "三级" => Ok(Some(Grade(3))),
            other => crate::bail!("unknown grade {other:?}; expected 1, 2, 3 or empty"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_english_and_chinese() {
        assert_eq!("lifted".parse::<PovertyStatus>().unwrap(), PovertyStatus::Lifted);
        assert_eq!("低保".parse::<PovertyStatus>().unwrap(), PovertyStatus::LowIncome);
        assert_eq!("out_of_province".parse::<FacilityLevel>().unwrap(), FacilityLevel::OutOfProvince);
        let e = "hospital".parse::<FacilityLevel>().unwrap_err().to_string();
        assert!(e.contains("unknown facility level") && e.contains("village, township"), "{e}");
        assert_eq!(Grade::parse_opt("").unwrap(), None);
        assert!(Grade::parse_opt("4").is_err());
        assert!(Qualification::RuralDoctor.is_doctor());
        assert!(!Qualification::Nurse.is_doctor());
        assert_eq!(FacilityKind::TownshipCenter.level(), FacilityLevel::Township);
    }
}

//! The patient ledger of the three batches as plain records: the engine
//! (`monitor::patient_ledger`) builds its lines, the store keeps them.

use crate::{Fen, ResidentId};
use chrono::NaiveDate;
use serde::Serialize;

/// The three batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Batch {
    /// 大病集中救治一批
    Serious,
    /// 慢病签约服务管理一批
    Chronic,
    /// 重病兜底保障一批
    Severe,
}

impl Batch {
    pub fn as_str(self) -> &'static str {
        match self {
            Batch::Serious => "serious",
            Batch::Chronic => "chronic",
            Batch::Severe => "severe",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Batch::Serious => "大病集中救治一批",
            Batch::Chronic => "慢病签约服务管理一批",
            Batch::Severe => "重病兜底保障一批",
        }
    }
}

/// Where a patient's treatment stands in the year, from the claims of the
/// disease:
/// - `to_treat`: no claim of the disease in the year;
/// - `in_treatment`: a claim still open on the reference day (admitted, not yet
///   discharged), or discharged within [`LedgerSettings::recent_days`] before it;
/// - `treated`: every claim discharged earlier than that.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TreatmentStatus {
    ToTreat,
    InTreatment,
    Treated,
}

impl TreatmentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TreatmentStatus::ToTreat => "to_treat",
            TreatmentStatus::InTreatment => "in_treatment",
            TreatmentStatus::Treated => "treated",
        }
    }
}

/// A family-doctor contract (家庭医生签约), as the registry carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Contract {
    pub doctor: String,
    pub signed: NaiveDate,
}

/// One line of the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerEntry {
    pub person_id: ResidentId,
    pub household_id: String,
    pub batch: Batch,
    /// The diagnosis code that put the person in the batch.
    pub diagnosis: String,
    /// The catalogue's name of the disease; empty for the severe batch.
    pub disease: String,
    pub status: TreatmentStatus,
    /// Whether every claim of the disease in the year was treated at a village,
    /// township or county facility; `None` when there is no claim.
    pub treated_in_county: Option<bool>,
    /// The year's cost that was compared for the severe batch (per the setting),
    /// and for the others, the same figure for information.
    pub year_cost: Fen,
    pub contract: Option<Contract>,
}

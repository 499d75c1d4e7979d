//! The settlement slip (结算单) of one claim: what a clerk prints at the desk and
//! hands the patient. The patient, the bill, what each fund paid and under which
//! rule (the settlement's explanation), and what the patient owes.

use crate::access::Scope;
use crate::model::{AppError, AppResult};
use crate::service::scope;
use crate::App;
use chrono::{DateTime, Utc};
use domain::{Claim, Fen, PovertyStatus, RegionCode};

/// A settled claim as its slip shows it.
#[derive(Debug, Clone)]
pub struct Slip {
    pub claim: Claim,
    pub name: String,
    /// The patient's status when the claim was settled.
    pub status: PovertyStatus,
    pub village: RegionCode,
    /// The policy that settled it: its name, region, year and version.
    pub policy: String,
    /// What each fund paid, in the policy's order of tiers.
    pub payments: Vec<(String, Fen)>,
    /// The funds' total.
    pub paid: Fen,
    /// What the patient owes.
    pub out_of_pocket: Fen,
    /// How each fund's payment was worked out.
    pub explanation: String,
    pub settled_at: DateTime<Utc>,
    pub settled_by: String,
    /// A voided claim's slip stays readable, marked void.
    pub voided: bool,
}

impl App {
    /// The slip of a settled claim inside the scope; `None` for a claim that is
    /// unknown, outside the scope, or not settled.
    pub async fn slip(&self, s: &Scope, claim_id: &str) -> AppResult<Option<Slip>> {
        let sc = scope(s)?;
        let Some(set) = self.store().settlement(&sc, claim_id).await? else { return Ok(None) };
        let Some(pv) = self.store().person_in_scope(&sc, set.person).await? else { return Ok(None) };
        let claim = self
            .store()
            .claims_of(set.person)
            .await?
            .into_iter()
            .find(|c| c.claim_id == claim_id)
            .ok_or_else(|| AppError::Store(format!("claim {claim_id} has a settlement but no claim row")))?;
        let policy = match set.policy_id {
            Some(id) => self
                .store()
                .policy_candidates(pv.village_code, set.year)
                .await?
                .into_iter()
                .find(|p| p.id == id)
                .map(|p| {
                    let region = if p.region.is_empty() { "national".to_string() } else { p.region.clone() };
                    format!("{} ({region}, {}, version {})", p.name, p.year, p.version)
                })
                .unwrap_or_default(),
            None => String::new(),
        };
        let explanation = match set.explanation.clone().filter(|e| !e.is_empty()) {
            Some(e) => e,
            None => crate::settlement::explain_stored(self.store(), &sc, claim_id).await?.unwrap_or_default(),
        };
        let paid = set.payments.iter().fold(Fen::ZERO, |a, (_, p)| a + *p);
        Ok(Some(Slip {
            claim,
            name: pv.person.name,
            status: set.status,
            village: pv.village_code,
            policy,
            payments: set.payments,
            paid,
            out_of_pocket: set.out_of_pocket,
            explanation,
            settled_at: set.settled_at,
            settled_by: set.settled_by,
            voided: set.voided,
        }))
    }
}

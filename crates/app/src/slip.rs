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
    /// Whether the patient was enrolled in basic insurance for the year when
    /// the claim was settled; the slip warns otherwise.
    pub enrolled: bool,
    /// The bill's items with their category and eligible part, as priced when
    /// the claim was itemised (none for a claim of totals only).
    pub items: Vec<domain::items::PricedItem>,
}

impl Slip {
    /// The sums of the bill's items (all zero for a claim of totals only).
    pub fn item_totals(&self) -> domain::items::BillTotals {
        domain::items::BillTotals::of(&self.items)
    }
}

impl App {
    /// The slip of a settled claim, by its key (facility and ID), inside the
    /// scope; `None` for a claim that is unknown, outside the scope, or not
    /// settled, alike.
    /// The slip of a claim of another facility than a bound clerk's is refused
    /// ([`AppError::Forbidden`]; the caller audits it with
    /// [`App::refuse_other_facility`]).
    pub async fn slip(&self, s: &Scope, key: &domain::ClaimKey) -> AppResult<Option<Slip>> {
        crate::desk::check_facility(s, &key.facility_id, &format!("claim {}", key.claim_id))?;
        let sc = scope(s)?;
        let Some(set) = self.store().settlement(&sc, key).await? else { return Ok(None) };
        let Some(pv) = self.store().person_in_scope(&sc, set.person).await? else { return Ok(None) };
        let claim = self
            .store()
            .claims_of(set.person)
            .await?
            .into_iter()
            .find(|c| c.claim_id == key.claim_id && c.facility_id == key.facility_id)
            .ok_or_else(|| AppError::Store(format!("claim {key} has a settlement but no claim row")))?;
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
            None => crate::settlement::explain_stored(self.store(), &sc, key).await?.unwrap_or_default(),
        };
        let paid = set.payments.iter().fold(Fen::ZERO, |a, (_, p)| a + *p);
        let items = self.store().claim_items(key).await?;
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
            enrolled: set.enrolled,
            items,
        }))
    }
}

impl App {
    /// True when a claim of this key is stored but lies outside the scope: the
    /// caller answers it as an unknown claim, and audits the refused attempt.
    pub async fn claim_outside_scope(&self, s: &Scope, key: &domain::ClaimKey) -> AppResult<bool> {
        let everywhere = self.store().claim_facilities(&store::Scope::all(), &key.claim_id).await?;
        if !everywhere.contains(&key.facility_id) {
            return Ok(false);
        }
        Ok(!self.store().claim_facilities(&scope(s)?, &key.claim_id).await?.contains(&key.facility_id))
    }

    /// True when a facility is stored but lies outside the scope (see
    /// [`App::claim_outside_scope`]).
    pub async fn facility_outside_scope(&self, s: &Scope, facility_id: &str) -> AppResult<bool> {
        let Some(f) = self.store().get::<domain::Facility>(facility_id).await? else { return Ok(false) };
        Ok(!scope(s)?.contains(f.region_code))
    }
}

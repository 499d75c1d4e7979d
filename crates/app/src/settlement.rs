//! Settlement as the programme runs it over the store (docs/settlement.md): keep
//! a policy version, settle one claim in real time or a year in batch, void a
//! claim and re-settle its person's year, explain a stored settlement.
//!
//! The store runs each in one transaction and calls back into [`Engine`] for the
//! arithmetic (the `settle` crate's) and for the choice of the policy in force
//! (`settle::policy_in_force`, the one rule every path uses).

use domain::settlement::{ClaimInput, TierAccumulator};
use domain::{Claim, ClaimKey, Fen, PovertyStatus, RegionCode};
use settle::{Accumulators, Policy};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use store::{
    BatchCounts, PolicyRecord, RealtimeSettlement, Scope, SettlementEngine, SettlementRules, Store, StoreError,
    VoidOutcome,
};

/// A stored policy, parsed.
struct Rules(Arc<Policy>);

impl SettlementRules for Rules {
    fn tiers(&self) -> &[String] {
        &self.0.names
    }

    fn settle(&self, claim: &ClaimInput, status: PovertyStatus, acc: &mut Vec<TierAccumulator>) -> (Vec<Fen>, Fen) {
        let mut a = Accumulators { tiers: std::mem::take(acc) };
        let s = settle::settle_claim(&self.0, claim, status, &mut a);
        *acc = a.tiers;
        (s.payments, s.out_of_pocket)
    }

    fn explain(&self, claim: &ClaimInput, status: PovertyStatus, acc: &[TierAccumulator]) -> String {
        let a = Accumulators { tiers: acc.to_vec() };
        settle::explain(&self.0, claim, status, &a).render(&self.0)
    }
}

/// The settlement engine as the store's units of work call it. Parsed policies
/// are kept by their text (a stored version never changes; ids alone would mix
/// up two stores opened by one process).
#[derive(Default)]
pub struct Engine {
    parsed: Mutex<HashMap<String, Arc<Policy>>>,
}

impl Engine {
    /// The parsed policy of a stored version.
    pub fn policy(&self, rec: &PolicyRecord) -> Result<Arc<Policy>, String> {
        if let Some(p) = self.parsed.lock().expect("policy cache").get(&rec.source) {
            return Ok(p.clone());
        }
        let p = Arc::new(Policy::parse(&rec.source).map_err(|e| e.to_string())?);
        self.parsed.lock().expect("policy cache").insert(rec.source.clone(), p.clone());
        Ok(p)
    }
}

impl SettlementEngine for Engine {
    fn rules(&self, policy: &PolicyRecord) -> Result<Arc<dyn SettlementRules>, String> {
        Ok(Arc::new(Rules(self.policy(policy)?)))
    }

    fn in_force(&self, candidates: &[PolicyRecord], village: RegionCode, year: i32) -> Option<usize> {
        in_force(candidates, village, year)
    }
}

/// The policy in force for a village in a year among stored versions.
pub fn in_force(candidates: &[PolicyRecord], village: RegionCode, year: i32) -> Option<usize> {
    settle::policy_in_force(candidates.iter().map(|p| (p.region.as_str(), p.year, p.version)), village, year)
}

/// The engine shared by every use case of the process.
pub fn engine() -> &'static Engine {
    static ENGINE: std::sync::OnceLock<Engine> = std::sync::OnceLock::new();
    ENGINE.get_or_init(Engine::default)
}

/// Stores a new version of the policy of a region (a code prefix, `""` for the
/// nation) for a year. The text is parsed first: a bad policy is refused with the
/// parser's error (which names the tier and the key) and nothing is stored. A
/// policy file that names a different `year` is refused too.
pub async fn put_policy(
    store: &Store,
    region_prefix: &str,
    year: i32,
    source_toml: &str,
    actor: &str,
) -> Result<PolicyRecord, StoreError> {
    let ctx = format!("storing the policy for region {region_prefix:?} and year {year}");
    let policy =
        Policy::parse(source_toml).map_err(|e| StoreError::Rejected { context: ctx.clone(), reason: e.to_string() })?;
    if let Some(y) = policy.year {
        if y != year {
            return Err(StoreError::Rejected {
                context: ctx,
                reason: format!("the policy file says year = {y}, not {year}"),
            });
        }
    }
    store.put_policy(region_prefix, year, &policy.name, source_toml, actor).await
}

/// The policy in force for a village in a year, with its rules.
pub async fn policy_for(
    store: &Store,
    village: RegionCode,
    year: i32,
) -> Result<Option<(PolicyRecord, Arc<Policy>)>, StoreError> {
    let mut candidates = store.policy_candidates(village, year).await?;
    let Some(k) = in_force(&candidates, village, year) else { return Ok(None) };
    let rec = candidates.swap_remove(k);
    let parsed = engine().policy(&rec).map_err(|e| {
        StoreError::Invalid(format!("the stored policy of {} for {} does not parse: {e}", rec.region, year))
    })?;
    Ok(Some((rec, parsed)))
}

/// Settles one claim in real time (see `Store::settle_realtime_batch`).
pub async fn settle_realtime(
    store: &Store,
    scope: &Scope,
    claim: &Claim,
    actor: &str,
) -> Result<RealtimeSettlement, StoreError> {
    store.settle_realtime(engine(), scope, claim, &[], actor).await
}

/// Settles one claim in real time with its bill's items, priced: they are
/// stored with a new claim, or must equal those of the claim stored.
pub async fn settle_realtime_itemised(
    store: &Store,
    scope: &Scope,
    claim: &Claim,
    items: &[domain::items::PricedItem],
    actor: &str,
) -> Result<RealtimeSettlement, StoreError> {
    store.settle_realtime(engine(), scope, claim, items, actor).await
}

/// Settles claims in real time together, one transaction for the group; each
/// claim names who settles it.
pub async fn settle_realtime_batch(
    store: &Store,
    items: &[(Scope, Claim, String, Vec<domain::items::PricedItem>)],
) -> Result<Vec<Result<RealtimeSettlement, StoreError>>, StoreError> {
    store.settle_realtime_batch(engine(), items).await
}

/// Voids a settled claim and re-settles its person's year.
pub async fn void_claim(store: &Store, scope: &Scope, key: &ClaimKey, actor: &str) -> Result<VoidOutcome, StoreError> {
    store.void_claim(engine(), scope, key, actor).await
}

/// Settles the unsettled claims of a year inside a scope, in batch.
pub async fn settle_stored(store: &Store, scope: &Scope, year: i32, actor: &str) -> Result<BatchCounts, StoreError> {
    store.settle_stored(engine(), scope, year, actor).await
}

/// [`settle_stored`] in runs of about `chunk` claims (for tests).
#[doc(hidden)]
pub async fn settle_stored_in_chunks(
    store: &Store,
    scope: &Scope,
    year: i32,
    actor: &str,
    chunk: i64,
) -> Result<BatchCounts, StoreError> {
    store.settle_stored_in_chunks(engine(), scope, year, actor, chunk).await
}

/// Why a stored claim settled as it did.
pub async fn explain_stored(store: &Store, scope: &Scope, key: &ClaimKey) -> Result<Option<String>, StoreError> {
    store.explain_stored(engine(), scope, key).await
}

/// The facility of a claim named by its ID alone (the command line): the one
/// facility inside the scope at which the ID is stored. None is answered as an
/// unknown claim; several are refused with the facilities, all inside the
/// scope, to choose from.
pub async fn claim_key_in_scope(store: &Store, scope: &Scope, claim_id: &str) -> Result<ClaimKey, StoreError> {
    let facilities = store.claim_facilities(scope, claim_id).await?;
    match facilities.as_slice() {
        [] => Err(StoreError::NotFound { kind: "claim", key: claim_id.to_string() }),
        [one] => Ok(ClaimKey::new(one, claim_id)),
        many => Err(StoreError::Rejected {
            context: format!("claim {claim_id}"),
            reason: format!(
                "the claim ID is used at {} facilities ({}); name the facility",
                many.len(),
                many.iter()
                    .map(|f| if f.is_empty() { "none".to_string() } else { f.clone() })
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
    }
}

/// The settlement of a real-time claim as the engine's record: payments in the
/// policy's tier order.
pub fn settlement_of(r: &RealtimeSettlement) -> settle::Settlement {
    settle::Settlement { payments: r.payments.iter().map(|(_, a)| *a).collect(), out_of_pocket: r.out_of_pocket }
}

/// A void's changes as differences (new minus old), in order.
pub fn differences_of(v: &VoidOutcome) -> Vec<crate::model::Difference> {
    v.changes
        .iter()
        .map(|c| crate::model::Difference {
            claim: ClaimKey::new(&c.facility_id, &c.claim_id),
            payments: c.new.iter().zip(&c.old).map(|((_, n), (_, o))| *n - *o).collect(),
            out_of_pocket: c.new_out_of_pocket - c.old_out_of_pocket,
        })
        .collect()
}

//! Real-time settlement of a group of claims on PostgreSQL in a few set-based
//! statements (issue 21): where SQLite settles a group claim by claim inside one
//! transaction (each statement a call into the same process), PostgreSQL pays a
//! round trip for each statement, so the group's reads and writes go out as
//! arrays (`= ANY`, `unnest`), whatever its number of claims:
//!
//! 1. the facilities named, and the persons with their villages, the persons
//!    locked (`FOR UPDATE`) in key order, so that two groups settling at the same
//!    time never wait on each other in a cycle;
//! 2. the claims already stored under the group's keys; if there is any (a
//!    replay, a correction, a voided claim), or if one key comes twice in the
//!    group, this path declines and the claim-by-claim path settles the group
//!    (its answers for those cases are the rules, see `settlements.rs`);
//! 3. the enrolments, the candidate policies and the accumulators of the group's
//!    person-years;
//! 4. the engine settles each claim in arrival order on the accumulators as the
//!    claims before it in the group left them (so a person's claims settle one
//!    after the other, as alone);
//! 5. the new claims, their items, settlements, payments, audit rows and the
//!    person-years' final accumulators, one statement each.
//!
//! A claim refused (its facility or person unknown or outside the scope, its
//! costs invalid, no policy) writes nothing and leaves the others standing, as
//! in the claim-by-claim path. Any database error undoes the whole group; the
//! caller ([`Store::settle_realtime_batch`]) then decides what to try again.

use crate::db::{begin_write, now, Store};
use crate::engine::{SettlementEngine, SettlementRules};
use crate::error::{Ctx, StoreError};
use crate::settlements::{
    accumulators_from, named, not_found_facility, policy_from, region_of, rules_of, status_of, PolicyRecord,
    PolicyTuple, RealtimeSettlement, POLICY_COLS,
};
use domain::settlement::{ClaimInput, TierAccumulator};
use domain::{Claim, ClaimKey, PovertyStatus, RegionCode};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// One claim of the group: whom it is settled for, the claim, by whom, its bill.
pub(crate) type Job = (crate::db::Scope, Claim, String, Vec<domain::items::PricedItem>);

/// A person-year: person ID and year.
type PersonYear = (i64, i64);
/// Stored accumulator rows: tier, base, unpaid, paid.
type AccRows = Vec<(String, i64, i64, i64)>;
/// A person-year's accumulators as the group's claims leave them, with the rules
/// whose tiers they follow.
type Running = (Arc<dyn SettlementRules>, Vec<TierAccumulator>);

/// What the group's statements write for one settled claim.
struct Written {
    index: usize,
    village: i64,
    key: String,
    payments: Vec<(String, i64)>,
}

impl Store {
    /// Settles the group on PostgreSQL with set-based statements (see the
    /// module). `Ok(None)`: the group has a claim already stored, or a key
    /// twice; nothing was written, and the claim-by-claim path must settle it.
    pub(crate) async fn settle_realtime_set(
        &self,
        pool: &sqlx::PgPool,
        engine: &dyn SettlementEngine,
        items: &[Job],
    ) -> Result<Option<Vec<Result<RealtimeSettlement, StoreError>>>, StoreError> {
        let ctx = format!("settling {} claims", items.len());
        let at = now();
        let keys: Vec<ClaimKey> = items.iter().map(|(_, c, _, _)| c.claim_key()).collect();
        {
            let mut seen = HashSet::with_capacity(keys.len());
            if !keys.iter().all(|k| seen.insert((k.facility_id.as_str(), k.claim_id.as_str()))) {
                return Ok(None);
            }
        }
        let mut out: Vec<Option<Result<RealtimeSettlement, StoreError>>> = (0..items.len()).map(|_| None).collect();
        let mut tx = begin_write(pool, &ctx).await?;

        // 1. Facilities and persons (the persons locked in key order).
        let mut facility_ids: Vec<&str> =
            items.iter().map(|(_, c, _, _)| c.facility_id.as_str()).filter(|f| !f.is_empty()).collect();
        facility_ids.sort_unstable();
        facility_ids.dedup();
        let facilities: HashMap<String, i64> = sqlx::query_as::<_, (String, i64)>(
            "SELECT facility_id, region_code FROM facilities WHERE facility_id = ANY($1)",
        )
        .bind(&facility_ids)
        .fetch_all(&mut *tx)
        .await
        .ctx(&ctx)?
        .into_iter()
        .collect();
        let mut person_ids: Vec<i64> = items.iter().map(|(_, c, _, _)| c.person_id.as_u64() as i64).collect();
        person_ids.sort_unstable();
        person_ids.dedup();
        let persons: HashMap<i64, (String, i64)> = sqlx::query_as::<_, (i64, String, i64)>(
            "SELECT p.person_id, p.status, h.village_code FROM persons p
             JOIN households h ON h.household_id = p.household_id
             WHERE p.person_id = ANY($1) ORDER BY p.person_id FOR UPDATE OF p",
        )
        .bind(&person_ids)
        .fetch_all(&mut *tx)
        .await
        .ctx(&ctx)?
        .into_iter()
        .map(|(id, status, village)| (id, (status, village)))
        .collect();

        // 2. Claims stored under the group's keys: the claim-by-claim path answers them.
        let stored: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM claims c JOIN unnest($1::text[], $2::text[]) k (claim_id, facility_id)
             ON c.claim_id = k.claim_id AND c.facility_id = k.facility_id LIMIT 1",
        )
        .bind(keys.iter().map(|k| k.claim_id.as_str()).collect::<Vec<_>>())
        .bind(keys.iter().map(|k| k.facility_id.as_str()).collect::<Vec<_>>())
        .fetch_optional(&mut *tx)
        .await
        .ctx(&ctx)?;
        if stored.is_some() {
            tx.rollback().await.ctx(&ctx)?;
            return Ok(None);
        }

        // The checks of each claim that need no more reading, in the order the
        // claim-by-claim path makes them; what passes goes on.
        struct Go {
            index: usize,
            person_id: i64,
            year: i32,
            status: PovertyStatus,
            village: RegionCode,
        }
        let mut go: Vec<Go> = Vec::with_capacity(items.len());
        for (index, (scope, claim, _, _)) in items.iter().enumerate() {
            let cctx = format!("settling claim {}", claim.claim_id);
            if claim.eligible_cost.0 < 0 || claim.eligible_cost > claim.total_cost {
                out[index] = Some(Err(StoreError::Rejected {
                    context: cctx,
                    reason: "the eligible cost must lie between 0 and the total cost".into(),
                }));
                continue;
            }
            if !claim.facility_id.is_empty() {
                let inside = match facilities.get(&claim.facility_id) {
                    Some(r) => scope.contains(region_of(*r, &cctx)?),
                    None => false,
                };
                if !inside {
                    out[index] = Some(Err(not_found_facility(&claim.facility_id)));
                    continue;
                }
            }
            let person_id = claim.person_id.as_u64() as i64;
            let unknown = || StoreError::NotFound { kind: "person", key: claim.person_id.masked() };
            let Some((status, village)) = persons.get(&person_id) else {
                out[index] = Some(Err(unknown()));
                continue;
            };
            let village = region_of(*village, &cctx)?;
            if !scope.contains(village) {
                out[index] = Some(Err(unknown()));
                continue;
            }
            let status = status_of(status, &cctx)?;
            go.push(Go { index, person_id, year: claim.year(), status, village });
        }

        // 3. Enrolments, candidate policies and accumulators of the person-years.
        let mut person_years: Vec<(i64, i64)> = go.iter().map(|g| (g.person_id, g.year as i64)).collect();
        person_years.sort_unstable();
        person_years.dedup();
        let py_persons: Vec<i64> = person_years.iter().map(|p| p.0).collect();
        let py_years: Vec<i64> = person_years.iter().map(|p| p.1).collect();
        let enrolled: HashSet<(i64, i64)> = sqlx::query_as::<_, (i64, i64)>(
            "SELECT e.person_id, e.year FROM enrolments e
             JOIN unnest($1::bigint[], $2::bigint[]) k (person_id, year) ON e.person_id = k.person_id AND e.year = k.year",
        )
        .bind(&py_persons)
        .bind(&py_years)
        .fetch_all(&mut *tx)
        .await
        .ctx(&ctx)?
        .into_iter()
        .collect();
        let mut village_years: Vec<(String, i64)> = go.iter().map(|g| (g.village.to_string(), g.year as i64)).collect();
        village_years.sort_unstable();
        village_years.dedup();
        let policy_sql = format!(
            "SELECT k.village, {} FROM policies p
             JOIN unnest($1::text[], $2::bigint[]) k (village, year) ON p.year = k.year AND k.village LIKE p.region || '%'",
            POLICY_COLS.split(", ").map(|c| format!("p.{c}")).collect::<Vec<_>>().join(", ")
        );
        type Candidate = (String, i64, String, i64, i64, String, String, chrono::DateTime<chrono::Utc>, String);
        let mut candidates: HashMap<(String, i64), Vec<PolicyRecord>> = HashMap::new();
        for t in sqlx::query_as::<_, Candidate>(&policy_sql)
            .bind(village_years.iter().map(|v| v.0.as_str()).collect::<Vec<_>>())
            .bind(village_years.iter().map(|v| v.1).collect::<Vec<_>>())
            .fetch_all(&mut *tx)
            .await
            .ctx(&ctx)?
        {
            let rec = policy_from((t.1, t.2, t.3, t.4, t.5, t.6, t.7, t.8) as PolicyTuple);
            candidates.entry((t.0, rec.year as i64)).or_default().push(rec);
        }
        let mut stored_acc: HashMap<PersonYear, AccRows> = HashMap::new();
        for (person, year, tier, base, oop, paid) in sqlx::query_as::<_, (i64, i64, String, i64, i64, i64)>(
            "SELECT a.person_id, a.year, a.tier, a.base, a.oop, a.paid FROM accumulators a
             JOIN unnest($1::bigint[], $2::bigint[]) k (person_id, year) ON a.person_id = k.person_id AND a.year = k.year",
        )
        .bind(&py_persons)
        .bind(&py_years)
        .fetch_all(&mut *tx)
        .await
        .ctx(&ctx)?
        {
            stored_acc.entry((person, year)).or_default().push((tier, base, oop, paid));
        }

        // 4. The engine, claim after claim in arrival order.
        let mut acc: HashMap<PersonYear, Running> = HashMap::new();
        let mut written: Vec<Written> = Vec::with_capacity(go.len());
        for g in &go {
            let (_, claim, _, bill) = &items[g.index];
            let cctx = format!("settling claim {}", claim.claim_id);
            let mut cands = candidates.get(&(g.village.to_string(), g.year as i64)).cloned().unwrap_or_default();
            let Some(k) = engine.in_force(&cands, g.village, g.year) else {
                out[g.index] = Some(Err(StoreError::Rejected {
                    context: cctx,
                    reason: format!("no settlement policy covers region {} in {}", g.village, g.year),
                }));
                continue;
            };
            let rec = cands.swap_remove(k);
            let rules = rules_of(engine, &rec)?;
            let py = (g.person_id, g.year as i64);
            let entry = acc.entry(py).or_insert_with(|| {
                let rows = stored_acc.get(&py).map(Vec::as_slice).unwrap_or(&[]);
                (rules.clone(), accumulators_from(rules.as_ref(), rows))
            });
            // A person-year's claims settle under one policy (the village's and
            // year's); should another be in force for a later claim, the
            // claim-by-claim path settles the group.
            if entry.0.tiers() != rules.tiers() {
                tx.rollback().await.ctx(&ctx)?;
                return Ok(None);
            }
            let enrolled = enrolled.contains(&py);
            let input = ClaimInput { enrolled, ..ClaimInput::from(claim) };
            let explanation = rules.explain(&input, g.status, &entry.1);
            let (payments, out_of_pocket) = rules.settle(&input, g.status, &mut entry.1);
            entry.0 = rules.clone();
            written.push(Written {
                index: g.index,
                village: g.village.as_u64() as i64,
                key: claim.claim_key().to_string(),
                payments: rules.tiers().iter().cloned().zip(payments.iter().map(|p| p.0)).collect(),
            });
            out[g.index] = Some(Ok(RealtimeSettlement {
                claim: claim.clone(),
                person: claim.person_id,
                year: g.year,
                status: g.status,
                enrolled,
                payments: named(rules.as_ref(), &payments),
                out_of_pocket,
                total: claim.total_cost,
                policy: rec,
                replayed: false,
                explanation,
                items: bill.clone(),
            }));
        }

        // 5. The writes, one statement each for the group.
        if !written.is_empty() {
            let settled = |w: &Written| -> (&Claim, &RealtimeSettlement, &str, &Vec<domain::items::PricedItem>) {
                let (_, claim, actor, bill) = &items[w.index];
                let Some(Ok(r)) = &out[w.index] else { unreachable!("a written claim is settled") };
                (claim, r, actor.as_str(), bill)
            };
            let rows: Vec<_> = written.iter().map(settled).collect();
            let col = |f: &dyn Fn(&Claim) -> String| rows.iter().map(|(c, _, _, _)| f(c)).collect::<Vec<String>>();
            let ints = |f: &dyn Fn(&Claim, &RealtimeSettlement) -> i64| {
                rows.iter().map(|(c, r, _, _)| f(c, r)).collect::<Vec<i64>>()
            };
            let claim_ids = col(&|c| c.claim_id.clone());
            let facility_ids = col(&|c| c.facility_id.clone());
            let person_ids = ints(&|c, _| c.person_id.as_u64() as i64);
            let years = ints(&|_, r| r.year as i64);
            let total = ints(&|c, _| c.total_cost.0);
            let eligible = ints(&|c, _| c.eligible_cost.0);
            sqlx::query(
                "INSERT INTO claims (claim_id, person_id, facility_level, kind, admitted, discharged, year,
                 total_cost, eligible_cost, diagnosis, facility_id, referred)
                 SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::date[], $6::date[],
                 $7::bigint[], $8::bigint[], $9::bigint[], $10::text[], $11::text[], $12::boolean[])",
            )
            .bind(&claim_ids)
            .bind(&person_ids)
            .bind(col(&|c| c.facility_level.as_str().to_string()))
            .bind(col(&|c| c.kind.as_str().to_string()))
            .bind(rows.iter().map(|(c, _, _, _)| c.admitted).collect::<Vec<_>>())
            .bind(rows.iter().map(|(c, _, _, _)| c.discharged).collect::<Vec<_>>())
            .bind(&years)
            .bind(&total)
            .bind(&eligible)
            .bind(col(&|c| c.diagnosis.clone()))
            .bind(&facility_ids)
            .bind(rows.iter().map(|(c, _, _, _)| c.referred).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await
            .ctx(&ctx)?;
            let item_keys: Vec<ClaimKey> =
                rows.iter().filter(|(_, _, _, b)| !b.is_empty()).map(|(c, _, _, _)| c.claim_key()).collect();
            if !item_keys.is_empty() {
                let bills: Vec<(&ClaimKey, &[domain::items::PricedItem])> = item_keys
                    .iter()
                    .zip(rows.iter().filter(|(_, _, _, b)| !b.is_empty()))
                    .map(|(k, (_, _, _, b))| (k, b.as_slice()))
                    .collect();
                crate::items::insert_items(&mut tx, &bills, &ctx).await?;
            }
            sqlx::query(
                "INSERT INTO settlements (claim_id, person_id, year, policy_id, policy_version, total_cost, eligible_cost,
                 out_of_pocket, status, settled_at, settled_by, explanation, facility_id, enrolled)
                 SELECT k.claim_id, k.person_id, k.year, k.policy_id, k.policy_version, k.total_cost, k.eligible_cost,
                 k.oop, k.status, $9, k.settled_by, k.explanation, k.facility_id, k.enrolled
                 FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[],
                 $7::bigint[], $8::bigint[], $10::text[], $11::text[], $12::text[], $13::text[], $14::boolean[])
                 k (claim_id, person_id, year, policy_id, policy_version, total_cost, eligible_cost, oop, status,
                    settled_by, explanation, facility_id, enrolled)",
            )
            .bind(&claim_ids)
            .bind(&person_ids)
            .bind(&years)
            .bind(ints(&|_, r| r.policy.id))
            .bind(ints(&|_, r| r.policy.version))
            .bind(&total)
            .bind(&eligible)
            .bind(ints(&|_, r| r.out_of_pocket.0))
            .bind(at)
            .bind(rows.iter().map(|(_, r, _, _)| r.status.as_str()).collect::<Vec<_>>())
            .bind(rows.iter().map(|(_, _, a, _)| *a).collect::<Vec<_>>())
            .bind(rows.iter().map(|(_, r, _, _)| r.explanation.as_str()).collect::<Vec<_>>())
            .bind(&facility_ids)
            .bind(rows.iter().map(|(_, r, _, _)| r.enrolled).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await
            .ctx(&ctx)?;
            let (mut p_claim, mut p_facility, mut p_pos, mut p_tier, mut p_amount) =
                (vec![], vec![], vec![], vec![], vec![]);
            for (w, (c, _, _, _)) in written.iter().zip(&rows) {
                for (i, (tier, amount)) in w.payments.iter().enumerate() {
                    p_claim.push(c.claim_id.as_str());
                    p_facility.push(c.facility_id.as_str());
                    p_pos.push(i as i64);
                    p_tier.push(tier.as_str());
                    p_amount.push(*amount);
                }
            }
            sqlx::query(
                "INSERT INTO settlement_payments (claim_id, facility_id, position, tier, amount)
                 SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::bigint[])",
            )
            .bind(&p_claim)
            .bind(&p_facility)
            .bind(&p_pos)
            .bind(&p_tier)
            .bind(&p_amount)
            .execute(&mut *tx)
            .await
            .ctx(&ctx)?;
            // Each person-year's accumulators as its last claim left them.
            let (mut a_person, mut a_year, mut a_tier, mut a_base, mut a_oop, mut a_paid) =
                (vec![], vec![], vec![], vec![], vec![], vec![]);
            let mut person_years: Vec<_> = acc.iter().collect();
            person_years.sort_unstable_by_key(|(k, _)| **k);
            for ((person, year), (rules, tiers)) in person_years {
                for (name, a) in rules.tiers().iter().zip(tiers) {
                    a_person.push(*person);
                    a_year.push(*year);
                    a_tier.push(name.as_str());
                    a_base.push(a.base.0);
                    a_oop.push(a.unpaid.0);
                    a_paid.push(a.paid.0);
                }
            }
            sqlx::query(
                "INSERT INTO accumulators (person_id, year, tier, base, oop, paid)
                 SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[])
                 ON CONFLICT (person_id, year, tier) DO UPDATE SET base = excluded.base, oop = excluded.oop, paid = excluded.paid",
            )
            .bind(&a_person)
            .bind(&a_year)
            .bind(&a_tier)
            .bind(&a_base)
            .bind(&a_oop)
            .bind(&a_paid)
            .execute(&mut *tx)
            .await
            .ctx(&ctx)?;
            // The audit rows commit with the settlements: an acknowledged
            // settlement always has its row.
            sqlx::query(
                "INSERT INTO audit_log (at, actor, action, object_kind, object_id, region_code, detail)
                 SELECT $1, k.actor, 'settle', 'claim', k.object_id, k.region_code, k.detail
                 FROM unnest($2::text[], $3::text[], $4::bigint[], $5::text[]) k (actor, object_id, region_code, detail)",
            )
            .bind(crate::db::ts(at))
            .bind(rows.iter().map(|(_, _, a, _)| *a).collect::<Vec<_>>())
            .bind(written.iter().map(|w| w.key.as_str()).collect::<Vec<_>>())
            .bind(written.iter().map(|w| w.village).collect::<Vec<_>>())
            .bind(rows.iter().map(|(_, r, _, _)| format!("out of pocket {}", r.out_of_pocket)).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await
            .ctx(&ctx)?;
        }
        // PostgreSQL's statement triggers marked what the inserts feed (`fresh.rs`).
        crate::fresh::commit(tx, crate::fresh::Inserted::default(), &ctx).await?;
        Ok(Some(out.into_iter().map(|r| r.expect("every claim answered")).collect()))
    }
}

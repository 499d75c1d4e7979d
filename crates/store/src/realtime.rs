//! Real-time settlement of a group of claims on PostgreSQL in a few set-based
//! statements (issue 21): where SQLite settles a group claim by claim inside one
//! transaction (each statement a call into the same process), PostgreSQL pays a
//! round trip for each statement, so a group, whatever its number of claims,
//! takes five: `BEGIN`, two reads, one write, `COMMIT`.
//!
//! 1. One statement ([`READ_SQL`]) locks the persons (`FOR UPDATE`, in key
//!    order, so that two groups settling at the same time never wait on each
//!    other in a cycle) and reads their villages, the facilities named, whether
//!    a claim is stored under one of the group's keys, the enrolments and the
//!    candidate policies of the group's person-years. If a key is stored (a
//!    replay, a correction, a voided claim), or if one key comes twice in the
//!    group, this path declines and the claim-by-claim path settles the group
//!    (its answers for those cases are the rules, see `settlements.rs`).
//! 2. The accumulators of the person-years, in a statement of their own: it
//!    starts after the locks are held, and so sees what the groups it waited on
//!    committed.
//! 3. The engine settles each claim in arrival order on the accumulators as the
//!    claims before it in the group left them (so a person's claims settle one
//!    after the other, as alone).
//! 4. One statement ([`WRITE_SQL`]) inserts the new claims, settlements,
//!    payments, audit rows and the person-years' final accumulators; the items
//!    of bills, if any, follow in one more.
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

/// The group's first statement. `$1`: the persons (sorted); `$2`, `$3`: the
/// claims' person-years (persons, years); `$4`: the facilities; `$5`, `$6`: the
/// claims' keys (IDs, facilities). One row: the persons locked (IDs, statuses,
/// villages), the facilities (IDs, regions), whether a key is stored, the
/// enrolled person-years (persons, years), and the candidate policies of the
/// villages and years of the claims (the village, then `POLICY_COLS`).
///
/// The persons are locked in key order (a sort under the lock), so that two
/// groups settling at the same time never wait on each other in a cycle. The
/// rest reads what real-time settlement never writes (facilities, enrolments,
/// policies) or what a key's unique index guards (a claim stored meanwhile
/// under one of the keys makes the group's insert fail, and the group is then
/// settled claim by claim).
static READ_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let policy_cols: Vec<&str> = POLICY_COLS.split(", ").collect();
    let policies = policy_cols
        .iter()
        .map(|c| format!("ARRAY(SELECT {c} FROM pol ORDER BY village, id)"))
        .collect::<Vec<_>>()
        .join(",\n            ");
    format!(
        "WITH pl AS MATERIALIZED (
            SELECT p.person_id, p.status, h.village_code FROM persons p
            JOIN households h ON h.household_id = p.household_id
            WHERE p.person_id = ANY($1) ORDER BY p.person_id FOR UPDATE OF p
        ), vy AS (
            SELECT DISTINCT lpad(pl.village_code::text, 12, '0') AS village, k.year
            FROM unnest($2::bigint[], $3::bigint[]) k (person_id, year) JOIN pl ON pl.person_id = k.person_id
        ), pol AS MATERIALIZED (
            SELECT vy.village, p.* FROM policies p JOIN vy ON p.year = vy.year AND vy.village LIKE p.region || '%'
        ), en AS MATERIALIZED (
            SELECT e.person_id, e.year FROM enrolments e
            JOIN unnest($2::bigint[], $3::bigint[]) k (person_id, year) ON e.person_id = k.person_id AND e.year = k.year
        ), fa AS MATERIALIZED (
            SELECT facility_id, region_code FROM facilities WHERE facility_id = ANY($4)
        )
        SELECT
            ARRAY(SELECT person_id FROM pl ORDER BY person_id),
            ARRAY(SELECT status FROM pl ORDER BY person_id),
            ARRAY(SELECT village_code FROM pl ORDER BY person_id),
            ARRAY(SELECT facility_id FROM fa ORDER BY facility_id),
            ARRAY(SELECT region_code FROM fa ORDER BY facility_id),
            EXISTS (SELECT 1 FROM claims c JOIN unnest($5::text[], $6::text[]) k (claim_id, facility_id)
                ON c.claim_id = k.claim_id AND c.facility_id = k.facility_id),
            ARRAY(SELECT person_id FROM en ORDER BY person_id, year),
            ARRAY(SELECT year FROM en ORDER BY person_id, year),
            ARRAY(SELECT village FROM pol ORDER BY village, id),
            {policies}"
    )
});

/// What the group's first statement read (see [`READ_SQL`]).
struct Read {
    /// Person ID, status, village.
    persons: Vec<(i64, String, i64)>,
    /// Facility ID, region.
    facilities: Vec<(String, i64)>,
    stored: bool,
    enrolled: Vec<(i64, i64)>,
    /// Candidate policies, each with the village (12 digits) it was read for.
    policies: Vec<(String, PolicyTuple)>,
}

impl Read {
    fn from_row(row: &sqlx::postgres::PgRow) -> Result<Read, sqlx::Error> {
        use sqlx::Row;
        let ids: Vec<i64> = row.try_get(0)?;
        let statuses: Vec<String> = row.try_get(1)?;
        let villages: Vec<i64> = row.try_get(2)?;
        let persons = ids.into_iter().zip(statuses).zip(villages).map(|((i, s), v)| (i, s, v)).collect();
        let f_ids: Vec<String> = row.try_get(3)?;
        let f_regions: Vec<i64> = row.try_get(4)?;
        let stored: bool = row.try_get(5)?;
        let e_persons: Vec<i64> = row.try_get(6)?;
        let e_years: Vec<i64> = row.try_get(7)?;
        let p_village: Vec<String> = row.try_get(8)?;
        // POLICY_COLS: id, region, year, version, name, actor, created_at, source.
        let p_id: Vec<i64> = row.try_get(9)?;
        let p_region: Vec<String> = row.try_get(10)?;
        let p_year: Vec<i64> = row.try_get(11)?;
        let p_version: Vec<i64> = row.try_get(12)?;
        let p_name: Vec<String> = row.try_get(13)?;
        let p_actor: Vec<String> = row.try_get(14)?;
        let p_created: Vec<chrono::DateTime<chrono::Utc>> = row.try_get(15)?;
        let p_source: Vec<String> = row.try_get(16)?;
        let mut policies = Vec::with_capacity(p_id.len());
        let mut cols = (
            p_region.into_iter(),
            p_year.into_iter(),
            p_version.into_iter(),
            p_name.into_iter(),
            p_actor.into_iter(),
            p_created.into_iter(),
            p_source.into_iter(),
        );
        for (village, id) in p_village.into_iter().zip(p_id) {
            let (Some(region), Some(year), Some(version), Some(name), Some(actor), Some(created), Some(source)) = (
                cols.0.next(),
                cols.1.next(),
                cols.2.next(),
                cols.3.next(),
                cols.4.next(),
                cols.5.next(),
                cols.6.next(),
            ) else {
                return Err(sqlx::Error::Protocol("the policies' columns differ in length".into()));
            };
            policies.push((village, (id, region, year, version, name, actor, created, source)));
        }
        Ok(Read {
            persons,
            facilities: f_ids.into_iter().zip(f_regions).collect(),
            stored,
            enrolled: e_persons.into_iter().zip(e_years).collect(),
            policies,
        })
    }
}

/// The group's writes in one statement: the claims (`$1`–`$12`), their
/// settlements (`$13`–`$20`, with the claims' columns), the payments
/// (`$21`–`$25`), the person-years' accumulators (`$26`–`$31`) and the audit
/// rows (`$32`–`$34`). The foreign keys are checked at the statement's end,
/// when every part is in.
const WRITE_SQL: &str = "WITH c AS (
        INSERT INTO claims (claim_id, person_id, facility_level, kind, admitted, discharged, year,
            total_cost, eligible_cost, diagnosis, facility_id, referred)
        SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::date[], $6::date[],
            $7::bigint[], $8::bigint[], $9::bigint[], $10::text[], $11::text[], $12::boolean[])
    ), s AS (
        INSERT INTO settlements (claim_id, person_id, year, policy_id, policy_version, total_cost, eligible_cost,
            out_of_pocket, status, settled_at, settled_by, explanation, facility_id, enrolled)
        SELECT k.claim_id, k.person_id, k.year, k.policy_id, k.policy_version, k.total_cost, k.eligible_cost,
            k.oop, k.status, $16, k.settled_by, k.explanation, k.facility_id, k.enrolled
        FROM unnest($1::text[], $2::bigint[], $7::bigint[], $13::bigint[], $14::bigint[], $8::bigint[],
            $9::bigint[], $15::bigint[], $17::text[], $18::text[], $19::text[], $11::text[], $20::boolean[])
            k (claim_id, person_id, year, policy_id, policy_version, total_cost, eligible_cost, oop, status,
               settled_by, explanation, facility_id, enrolled)
    ), p AS (
        INSERT INTO settlement_payments (claim_id, facility_id, position, tier, amount)
        SELECT * FROM unnest($21::text[], $22::text[], $23::bigint[], $24::text[], $25::bigint[])
    ), a AS (
        INSERT INTO accumulators (person_id, year, tier, base, oop, paid)
        SELECT * FROM unnest($26::bigint[], $27::bigint[], $28::text[], $29::bigint[], $30::bigint[], $31::bigint[])
        ON CONFLICT (person_id, year, tier) DO UPDATE SET base = excluded.base, oop = excluded.oop, paid = excluded.paid
    )
    INSERT INTO audit_log (at, actor, action, object_kind, object_id, region_code, detail)
    SELECT $16, k.actor, 'settle', 'claim', k.object_id, k.region_code, k.detail
    FROM unnest($18::text[], $32::text[], $33::bigint[], $34::text[]) k (actor, object_id, region_code, detail)";

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

        // 1. One statement: the persons locked in key order (so that two groups
        // settling at the same time never wait on each other in a cycle) with
        // their villages, the facilities, whether a key is stored already, the
        // enrolments and the candidate policies of the group's person-years.
        let mut facility_ids: Vec<&str> =
            items.iter().map(|(_, c, _, _)| c.facility_id.as_str()).filter(|f| !f.is_empty()).collect();
        facility_ids.sort_unstable();
        facility_ids.dedup();
        let mut person_ids: Vec<i64> = items.iter().map(|(_, c, _, _)| c.person_id.as_u64() as i64).collect();
        person_ids.sort_unstable();
        person_ids.dedup();
        let mut claim_years: Vec<(i64, i64)> =
            items.iter().map(|(_, c, _, _)| (c.person_id.as_u64() as i64, c.year() as i64)).collect();
        claim_years.sort_unstable();
        claim_years.dedup();
        let row = sqlx::query(READ_SQL.as_str())
            .bind(&person_ids)
            .bind(claim_years.iter().map(|p| p.0).collect::<Vec<_>>())
            .bind(claim_years.iter().map(|p| p.1).collect::<Vec<_>>())
            .bind(&facility_ids)
            .bind(keys.iter().map(|k| k.claim_id.as_str()).collect::<Vec<_>>())
            .bind(keys.iter().map(|k| k.facility_id.as_str()).collect::<Vec<_>>())
            .fetch_one(&mut *tx)
            .await
            .ctx(&ctx)?;
        let read = Read::from_row(&row).ctx(&ctx)?;
        // Claims stored under the group's keys: the claim-by-claim path answers them.
        if read.stored {
            tx.rollback().await.ctx(&ctx)?;
            return Ok(None);
        }
        let facilities: HashMap<String, i64> = read.facilities.into_iter().collect();
        let persons: HashMap<i64, (String, i64)> =
            read.persons.into_iter().map(|(id, status, village)| (id, (status, village))).collect();
        let enrolled: HashSet<(i64, i64)> = read.enrolled.into_iter().collect();
        let mut candidates: HashMap<(String, i64), Vec<PolicyRecord>> = HashMap::new();
        for (village, t) in read.policies {
            let rec = policy_from(t);
            candidates.entry((village, rec.year as i64)).or_default().push(rec);
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

        // 2. The accumulators of the person-years, read after the persons'
        // locks are held (a statement of its own, so that it sees what the
        // groups it waited on committed).
        let mut person_years: Vec<(i64, i64)> = go.iter().map(|g| (g.person_id, g.year as i64)).collect();
        person_years.sort_unstable();
        person_years.dedup();
        let mut stored_acc: HashMap<PersonYear, AccRows> = HashMap::new();
        if !person_years.is_empty() {
            for (person, year, tier, base, oop, paid) in sqlx::query_as::<_, (i64, i64, String, i64, i64, i64)>(
                "SELECT a.person_id, a.year, a.tier, a.base, a.oop, a.paid FROM accumulators a
                 JOIN unnest($1::bigint[], $2::bigint[]) k (person_id, year)
                 ON a.person_id = k.person_id AND a.year = k.year",
            )
            .bind(person_years.iter().map(|p| p.0).collect::<Vec<_>>())
            .bind(person_years.iter().map(|p| p.1).collect::<Vec<_>>())
            .fetch_all(&mut *tx)
            .await
            .ctx(&ctx)?
            {
                stored_acc.entry((person, year)).or_default().push((tier, base, oop, paid));
            }
        }

        // 3. The engine, claim after claim in arrival order.
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

        // 4. The writes, one statement for the group (its claims, settlements,
        // payments, accumulators and audit rows), the items of the bills after it.
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
            sqlx::query(WRITE_SQL)
                // The claims.
                .bind(col(&|c| c.claim_id.clone()))
                .bind(ints(&|c, _| c.person_id.as_u64() as i64))
                .bind(col(&|c| c.facility_level.as_str().to_string()))
                .bind(col(&|c| c.kind.as_str().to_string()))
                .bind(rows.iter().map(|(c, _, _, _)| c.admitted).collect::<Vec<_>>())
                .bind(rows.iter().map(|(c, _, _, _)| c.discharged).collect::<Vec<_>>())
                .bind(ints(&|_, r| r.year as i64))
                .bind(ints(&|c, _| c.total_cost.0))
                .bind(ints(&|c, _| c.eligible_cost.0))
                .bind(col(&|c| c.diagnosis.clone()))
                .bind(col(&|c| c.facility_id.clone()))
                .bind(rows.iter().map(|(c, _, _, _)| c.referred).collect::<Vec<_>>())
                // Their settlements.
                .bind(ints(&|_, r| r.policy.id))
                .bind(ints(&|_, r| r.policy.version))
                .bind(ints(&|_, r| r.out_of_pocket.0))
                .bind(at)
                .bind(rows.iter().map(|(_, r, _, _)| r.status.as_str()).collect::<Vec<_>>())
                .bind(rows.iter().map(|(_, _, a, _)| *a).collect::<Vec<_>>())
                .bind(rows.iter().map(|(_, r, _, _)| r.explanation.as_str()).collect::<Vec<_>>())
                .bind(rows.iter().map(|(_, r, _, _)| r.enrolled).collect::<Vec<_>>())
                // The payments.
                .bind(&p_claim)
                .bind(&p_facility)
                .bind(&p_pos)
                .bind(&p_tier)
                .bind(&p_amount)
                // The accumulators.
                .bind(&a_person)
                .bind(&a_year)
                .bind(&a_tier)
                .bind(&a_base)
                .bind(&a_oop)
                .bind(&a_paid)
                // The audit rows: they commit with the settlements, so that an
                // acknowledged settlement always has its row.
                .bind(written.iter().map(|w| w.key.as_str()).collect::<Vec<_>>())
                .bind(written.iter().map(|w| w.village).collect::<Vec<_>>())
                .bind(rows.iter().map(|(_, r, _, _)| format!("out of pocket {}", r.out_of_pocket)).collect::<Vec<_>>())
                .execute(&mut *tx)
                .await
                .ctx(&ctx)?;
            let bills: Vec<(ClaimKey, &[domain::items::PricedItem])> = rows
                .iter()
                .filter(|(_, _, _, b)| !b.is_empty())
                .map(|(c, _, _, b)| (c.claim_key(), b.as_slice()))
                .collect();
            if !bills.is_empty() {
                let bills: Vec<(&ClaimKey, &[domain::items::PricedItem])> =
                    bills.iter().map(|(k, b)| (k, *b)).collect();
                crate::items::insert_items(&mut tx, &bills, &ctx).await?;
            }
        }
        // PostgreSQL's statement triggers marked what the inserts feed (`fresh.rs`).
        crate::fresh::commit(tx, crate::fresh::Inserted::default(), &ctx).await?;
        Ok(Some(out.into_iter().map(|r| r.expect("every claim answered")).collect()))
    }
}

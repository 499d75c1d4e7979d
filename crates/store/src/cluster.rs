//! What the exchange with a cluster reads and loads (docs/parquet.md): the
//! year's claims, settlements, accumulators and candidate policies of a scope,
//! read for the export; and the settlements computed by a cluster, checked
//! against the store and written, in one transaction, with the statements of a
//! batch settlement (`settlements::write_batch`), so that the store ends as
//! `settle_stored` would have left it.

use crate::db::{begin_write, now, on_pool, Backend, Scope, Store};
use crate::engine::SettlementEngine;
use crate::error::{Ctx, StoreError};
use crate::settlements::{
    claim_from, policy_from, region_of, rules_of, status_of, write_batch, Batch, BatchRow, ClaimTuple, PolicyRecord,
    PolicyTuple, CLAIM_COLS, POLICY_COLS,
};
use crate::vals::list;
use domain::settlement::TierAccumulator;
use domain::{Claim, ClaimKey, Fen, PovertyStatus, RegionCode, ResidentId};
use std::collections::{HashMap, HashSet};

/// A stored settlement of a claim of the year, for the export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearSettlement {
    pub claim_id: String,
    /// The submitting facility, with `claim_id` the claim's key (empty where the
    /// claim names none).
    pub facility_id: String,
    pub person: ResidentId,
    /// The person's village.
    pub village: RegionCode,
    pub year: i32,
    pub total_cost: Fen,
    pub eligible_cost: Fen,
    pub out_of_pocket: Fen,
    /// `(tier, amount)` in the policy's tier order.
    pub payments: Vec<(String, Fen)>,
    pub policy_id: i64,
    pub policy_version: i64,
    pub status: PovertyStatus,
}

/// A stored accumulator row of the year, for the export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearAccumulator {
    pub person: ResidentId,
    pub village: RegionCode,
    pub tier: String,
    pub acc: TierAccumulator,
}

/// A settlement computed elsewhere, to load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadSettlement {
    pub claim_id: String,
    /// The submitting facility, with `claim_id` the claim's key.
    pub facility_id: String,
    pub person: ResidentId,
    pub total_cost: Fen,
    pub eligible_cost: Fen,
    pub out_of_pocket: Fen,
    /// `(tier, amount)`, every tier of the policy in its order.
    pub payments: Vec<(String, Fen)>,
    pub policy_id: i64,
    pub policy_version: i64,
    pub status: PovertyStatus,
}

/// An end-of-year accumulator computed elsewhere, to load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadAccumulator {
    pub person: ResidentId,
    pub tier: String,
    pub acc: TierAccumulator,
}

/// Which row of a load a problem lies in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadRow {
    /// The index of a [`LoadSettlement`].
    Settlement(usize),
    /// The index of a [`LoadAccumulator`].
    Accumulator(usize),
}

/// Why a row of a load does not fit the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadProblem {
    pub row: LoadRow,
    pub column: &'static str,
    pub reason: String,
}

/// What a load of settlements wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadedSettlements {
    pub settlements: u64,
    pub persons: u64,
    pub accumulators: u64,
}

/// A claim as a load checks it.
struct Target {
    person: i64,
    year: i64,
    total: i64,
    eligible: i64,
    voided: bool,
    village: i64,
    status: String,
    settled: bool,
}

impl Store {
    /// The unvoided claims of `year` of the persons inside the scope, each with
    /// the village of its person, in `(claim_id, facility_id)` order, handed to `sink` in chunks
    /// of up to 10,000. An error from `sink` stops the read and is returned.
    pub async fn year_claims<E: std::fmt::Display>(
        &self,
        scope: &Scope,
        year: i32,
        mut sink: impl FnMut(Vec<(Claim, RegionCode)>) -> Result<(), E>,
    ) -> Result<u64, StoreError> {
        const CHUNK: i64 = 10_000;
        let ctx = format!("reading the claims of {year}");
        let (lo, hi) = scope.code_range();
        let sql = format!(
            "SELECT {CLAIM_COLS}, h.village_code FROM claims c JOIN persons p ON p.person_id = c.person_id
             JOIN households h ON h.household_id = p.household_id
             WHERE c.year = $1 AND NOT c.voided AND h.village_code BETWEEN $2 AND $3
             AND (c.claim_id > $4 OR (c.claim_id = $4 AND c.facility_id > $5))
             ORDER BY c.claim_id, c.facility_id LIMIT $6"
        );
        type Row =
            (String, i64, String, String, chrono::NaiveDate, chrono::NaiveDate, i64, i64, String, String, bool, i64);
        let mut after = (String::new(), String::new());
        let mut total = 0u64;
        loop {
            let rows: Vec<Row> = on_pool!(self, p => sqlx::query_as(&sql)
                .bind(year as i64)
                .bind(lo)
                .bind(hi)
                .bind(&after.0)
                .bind(&after.1)
                .bind(CHUNK)
                .fetch_all(p)
                .await
                .ctx(&ctx)?);
            let n = rows.len();
            if n == 0 {
                break;
            }
            after = (rows[n - 1].0.clone(), rows[n - 1].9.clone());
            let mut chunk = Vec::with_capacity(n);
            for r in rows {
                let village = region_of(r.11, &ctx)?;
                let t: ClaimTuple = (r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8, r.9, r.10);
                chunk.push((claim_from(t)?, village));
            }
            total += n as u64;
            sink(chunk).map_err(|e| StoreError::Rejected { context: ctx.clone(), reason: e.to_string() })?;
            if (n as i64) < CHUNK {
                break;
            }
        }
        Ok(total)
    }

    /// The stored settlements of the unvoided claims of `year` of the persons
    /// inside the scope, by claim key.
    pub async fn year_settlements(&self, scope: &Scope, year: i32) -> Result<Vec<YearSettlement>, StoreError> {
        let ctx = format!("reading the settlements of {year}");
        let (lo, hi) = scope.code_range();
        type Row = (String, i64, i64, i64, i64, i64, i64, Option<i64>, Option<i64>, String, String);
        let rows: Vec<Row> = on_pool!(self, p => sqlx::query_as(
            "SELECT s.claim_id, s.person_id, h.village_code, s.year, s.total_cost, s.eligible_cost, s.out_of_pocket,
                    s.policy_id, s.policy_version, s.status, s.facility_id
             FROM settlements s JOIN claims c ON c.claim_id = s.claim_id AND c.facility_id = s.facility_id
             JOIN persons p ON p.person_id = s.person_id
             JOIN households h ON h.household_id = p.household_id
             WHERE s.year = $1 AND NOT c.voided AND h.village_code BETWEEN $2 AND $3 ORDER BY s.claim_id, s.facility_id",
        )
        .bind(year as i64)
        .bind(lo)
        .bind(hi)
        .fetch_all(p)
        .await
        .ctx(&ctx)?);
        let mut payments = self.settlement_payments(scope, year).await?;
        rows.into_iter()
            .map(|r| {
                Ok(YearSettlement {
                    payments: payments.remove(&ClaimKey::new(&r.10, &r.0)).unwrap_or_default(),
                    claim_id: r.0,
                    facility_id: r.10,
                    person: crate::registry::resident_id(r.1, &ctx)?,
                    village: region_of(r.2, &ctx)?,
                    year: r.3 as i32,
                    total_cost: Fen(r.4),
                    eligible_cost: Fen(r.5),
                    out_of_pocket: Fen(r.6),
                    policy_id: r.7.unwrap_or_default(),
                    policy_version: r.8.unwrap_or_default(),
                    status: status_of(&r.9, &ctx)?,
                })
            })
            .collect()
    }

    /// The accumulators of `year` of the persons inside the scope, by person and
    /// tier.
    pub async fn year_accumulators(&self, scope: &Scope, year: i32) -> Result<Vec<YearAccumulator>, StoreError> {
        let ctx = format!("reading the accumulators of {year}");
        let (lo, hi) = scope.code_range();
        let rows: Vec<(i64, i64, String, i64, i64, i64)> = on_pool!(self, p => sqlx::query_as(
            "SELECT a.person_id, h.village_code, a.tier, a.base, a.oop, a.paid
             FROM accumulators a JOIN persons p ON p.person_id = a.person_id
             JOIN households h ON h.household_id = p.household_id
             WHERE a.year = $1 AND h.village_code BETWEEN $2 AND $3 ORDER BY a.person_id, a.tier",
        )
        .bind(year as i64)
        .bind(lo)
        .bind(hi)
        .fetch_all(p)
        .await
        .ctx(&ctx)?);
        rows.into_iter()
            .map(|(person, village, tier, base, oop, paid)| {
                Ok(YearAccumulator {
                    person: crate::registry::resident_id(person, &ctx)?,
                    village: region_of(village, &ctx)?,
                    tier,
                    acc: TierAccumulator { base: Fen(base), unpaid: Fen(oop), paid: Fen(paid) },
                })
            })
            .collect()
    }

    /// Every stored version of the policies of `year` that may govern a village
    /// inside the scope: those of the regions inside it and of the regions above
    /// it. Ordered by region, then version.
    pub async fn year_policy_candidates(&self, scope: &Scope, year: i32) -> Result<Vec<PolicyRecord>, StoreError> {
        let sql = format!(
            "SELECT {POLICY_COLS} FROM policies WHERE year = $1 AND (region LIKE $2 OR $3 LIKE region || '%')
             ORDER BY region, version"
        );
        let rows: Vec<PolicyTuple> = on_pool!(self, p => sqlx::query_as(&sql)
            .bind(year as i64)
            .bind(format!("{}%", scope.prefix()))
            .bind(scope.prefix())
            .fetch_all(p)
            .await
            .ctx("reading the policies of the year")?);
        Ok(rows.into_iter().map(policy_from).collect())
    }

    /// Loads settlements of `year` computed elsewhere (a cluster) for claims
    /// inside the scope, with the end-of-year accumulators of their persons, in
    /// one transaction, after checking every row against the store:
    /// - each claim is stored, of the year, inside the scope, not voided and not
    ///   settled; its person, costs and the person's status are the store's;
    /// - its policy is the stored version in force for the person's village
    ///   (by the engine), and its payments name that policy's tiers in order;
    /// - each person settled has one accumulator row per tier of that policy, and
    ///   no one else has any.
    ///
    /// Any problem leaves the store untouched and is returned (`Ok(Err(..))`),
    /// each with its row. Otherwise the rows are written as
    /// [`Store::settle_stored`] writes a batch (settled by `actor`, now), with
    /// the derived data of their persons marked stale in the same transaction.
    pub async fn load_settlements(
        &self,
        engine: &dyn SettlementEngine,
        scope: &Scope,
        year: i32,
        rows: &[LoadSettlement],
        accumulators: &[LoadAccumulator],
        actor: &str,
    ) -> Result<Result<LoadedSettlements, Vec<LoadProblem>>, StoreError> {
        let ctx = format!("loading the settlements of {year}");
        let at = now();
        let backend = self.backend();
        let max_binds = self.max_binds();
        let per = (max_binds - 1).clamp(1, 10_000);
        let claims_sql = |n: usize| {
            format!(
                "SELECT c.claim_id, c.facility_id, c.person_id, c.year, c.total_cost, c.eligible_cost, c.voided,
                        h.village_code, p.status,
                        EXISTS (SELECT 1 FROM settlements s WHERE s.claim_id = c.claim_id AND s.facility_id = c.facility_id)
                 FROM claims c JOIN persons p ON p.person_id = c.person_id
                 JOIN households h ON h.household_id = p.household_id WHERE c.claim_id IN ({})",
                list(1, n)
            )
        };
        let policies_sql = format!("SELECT {POLICY_COLS} FROM policies WHERE year = $1 ORDER BY region, version");
        on_pool!(self, p => async {
            let mut tx = begin_write(p, &ctx).await?;
            let mut pids: Vec<i64> = rows.iter().map(|r| r.person.as_u64() as i64).collect();
            pids.sort_unstable();
            pids.dedup();
            if backend == Backend::Postgres {
                // The persons' rows locked, in key order, as a batch settlement does.
                for part in pids.chunks(per) {
                    let sql = format!(
                        "SELECT person_id FROM persons WHERE person_id IN ({}) ORDER BY person_id FOR UPDATE",
                        list(1, part.len())
                    );
                    let mut q = sqlx::query(&sql);
                    for id in part {
                        q = q.bind(*id);
                    }
                    q.fetch_all(&mut *tx).await.ctx(&ctx)?;
                }
            }
            // By claim ID, then kept by the whole key: an ID the results name at one
            // facility may be stored at others too.
            let mut targets: HashMap<(String, String), Target> = HashMap::with_capacity(rows.len());
            let mut ids: Vec<&str> = rows.iter().map(|r| r.claim_id.as_str()).collect();
            ids.sort_unstable();
            ids.dedup();
            type Row = (String, String, i64, i64, i64, i64, bool, i64, String, bool);
            for part in ids.chunks(per) {
                let sql = claims_sql(part.len());
                let mut q = sqlx::query_as(&sql);
                for id in part {
                    q = q.bind(*id);
                }
                let found: Vec<Row> = q.fetch_all(&mut *tx).await.ctx(&ctx)?;
                for r in found {
                    let t = Target {
                        person: r.2,
                        year: r.3,
                        total: r.4,
                        eligible: r.5,
                        voided: r.6,
                        village: r.7,
                        status: r.8,
                        settled: r.9,
                    };
                    targets.insert((r.0, r.1), t);
                }
            }
            let all: Vec<PolicyTuple> = sqlx::query_as(&policies_sql).bind(year as i64).fetch_all(&mut *tx).await.ctx(&ctx)?;
            let all: Vec<PolicyRecord> = all.into_iter().map(policy_from).collect();
            let mut in_force: HashMap<i64, Option<usize>> = HashMap::new();
            let mut tiers: HashMap<usize, Vec<String>> = HashMap::new();
            let mut problems = Vec::new();
            // person -> (policy index, village)
            let mut persons: HashMap<i64, (usize, i64)> = HashMap::new();
            let mut seen: HashSet<(&str, &str)> = HashSet::with_capacity(rows.len());
            for (i, r) in rows.iter().enumerate() {
                let mut bad = |column: &'static str, reason: String| {
                    problems.push(LoadProblem { row: LoadRow::Settlement(i), column, reason })
                };
                let key = (r.claim_id.as_str(), r.facility_id.as_str());
                let claim = ClaimKey::new(&r.facility_id, &r.claim_id);
                if !seen.insert(key) {
                    bad("claim_id", format!("the claim {claim} is settled twice in the results"));
                    continue;
                }
                let Some(t) = targets.get(&(r.claim_id.clone(), r.facility_id.clone())) else {
                    bad("claim_id", format!("the claim {claim} is not in the store"));
                    continue;
                };
                let village = region_of(t.village, &ctx)?;
                if !scope.contains(village) {
                    bad("claim_id", format!("the claim {} lies outside the region {:?} exported", claim, scope.prefix()));
                    continue;
                }
                if t.year != year as i64 {
                    bad("claim_id", format!("the claim {} is of {}, not {year}", claim, t.year));
                    continue;
                }
                if t.voided {
                    bad("claim_id", format!("the claim {} was voided since the export", claim));
                    continue;
                }
                if t.settled {
                    bad("claim_id", format!("the claim {} is settled in the store already (since the export?); export again", claim));
                    continue;
                }
                if t.person != r.person.as_u64() as i64 {
                    bad("person_id", format!("the claim {} is of another person in the store", claim));
                    continue;
                }
                if t.total != r.total_cost.0 {
                    bad("total_cost", format!("{} differs from the stored claim's {}", r.total_cost, Fen(t.total)));
                }
                if t.eligible != r.eligible_cost.0 {
                    bad("eligible_cost", format!("{} differs from the stored claim's {}", r.eligible_cost, Fen(t.eligible)));
                }
                if t.status != r.status.as_str() {
                    bad("status", format!("the person's status is {} in the store, not {} (changed since the export?)", t.status, r.status.as_str()));
                }
                let pi = *in_force.entry(t.village).or_insert_with(|| {
                    let code = village.to_string();
                    let candidates: Vec<usize> = (0..all.len()).filter(|&k| code.starts_with(all[k].region.as_str())).collect();
                    let mine: Vec<PolicyRecord> = candidates.iter().map(|&k| all[k].clone()).collect();
                    engine.in_force(&mine, village, year).map(|j| candidates[j])
                });
                let Some(pi) = pi else {
                    bad("policy_id", format!("no policy of {year} covers the village {village} in the store"));
                    continue;
                };
                let rec = &all[pi];
                if rec.id != r.policy_id || rec.version != r.policy_version {
                    bad("policy_id", format!(
                        "the policy in force for the village {village} is {} version {} (id {}), not id {} version {}",
                        if rec.region.is_empty() { "(nation)" } else { rec.region.as_str() }, rec.version, rec.id, r.policy_id, r.policy_version
                    ));
                    continue;
                }
                if let std::collections::hash_map::Entry::Vacant(e) = tiers.entry(pi) {
                    e.insert(rules_of(engine, rec)?.tiers().to_vec());
                }
                let names = &tiers[&pi];
                if r.payments.len() != names.len() || r.payments.iter().zip(names).any(|((t, _), n)| t != n) {
                    let got: Vec<&str> = r.payments.iter().map(|(t, _)| t.as_str()).collect();
                    bad("payments", format!("the tiers are {}, not the policy's {}", got.join(", "), names.join(", ")));
                    continue;
                }
                persons.insert(t.person, (pi, t.village));
            }
            let mut acc_seen: HashMap<i64, HashSet<&str>> = HashMap::new();
            for (i, a) in accumulators.iter().enumerate() {
                let mut bad = |column: &'static str, reason: String| {
                    problems.push(LoadProblem { row: LoadRow::Accumulator(i), column, reason })
                };
                let pid = a.person.as_u64() as i64;
                let Some((pi, _)) = persons.get(&pid) else {
                    if pids.binary_search(&pid).is_err() {
                        bad("person_id", format!("the person {} has no settlement in the results", a.person.masked()));
                    }
                    continue;
                };
                if !tiers[pi].contains(&a.tier) {
                    bad("tier", format!("{:?} is not a tier of the person's policy ({})", a.tier, tiers[pi].join(", ")));
                    continue;
                }
                if !acc_seen.entry(pid).or_default().insert(a.tier.as_str()) {
                    bad("tier", format!("the tier {} of the person {} comes twice", a.tier, a.person.masked()));
                }
            }
            if problems.is_empty() {
                for (pid, (pi, _)) in &persons {
                    let have = acc_seen.get(pid).map_or(0, |s| s.len());
                    if have != tiers[pi].len() {
                        let i = rows.iter().position(|r| r.person.as_u64() as i64 == *pid).unwrap_or(0);
                        problems.push(LoadProblem {
                            row: LoadRow::Settlement(i),
                            column: "person_id",
                            reason: format!(
                                "the person has {have} accumulator rows, not one per tier of the policy ({})",
                                tiers[pi].join(", ")
                            ),
                        });
                    }
                }
            }
            if !problems.is_empty() {
                tx.rollback().await.ctx(&ctx)?;
                problems.sort_by_key(|p| match p.row {
                    LoadRow::Settlement(i) => (0, i),
                    LoadRow::Accumulator(i) => (1, i),
                });
                return Ok(Err(problems));
            }
            let mut enrolled: HashSet<i64> = HashSet::new();
            for part in pids.chunks(per) {
                let sql = format!(
                    "SELECT person_id FROM enrolments WHERE year = ${} AND person_id IN ({})",
                    part.len() + 1,
                    list(1, part.len())
                );
                let mut q = sqlx::query_scalar::<_, i64>(&sql);
                for id in part {
                    q = q.bind(*id);
                }
                enrolled.extend(q.bind(year as i64).fetch_all(&mut *tx).await.ctx(&ctx)?);
            }
            let settled: Vec<BatchRow<'_>> = rows
                .iter()
                .map(|r| BatchRow {
                    claim_id: r.claim_id.as_str(),
                    facility_id: r.facility_id.as_str(),
                    person: r.person.as_u64() as i64,
                    policy_id: r.policy_id,
                    policy_version: r.policy_version,
                    total_cost: r.total_cost.0,
                    eligible_cost: r.eligible_cost.0,
                    out_of_pocket: r.out_of_pocket.0,
                    status: r.status.as_str(),
                    // As the batch does: the store's enrolment of the person for
                    // the year (the export handed the same to the cluster).
                    enrolled: enrolled.contains(&(r.person.as_u64() as i64)),
                })
                .collect();
            let payments: Vec<(&str, &str, i64, &str, i64)> = rows
                .iter()
                .flat_map(|r| {
                    r.payments
                        .iter()
                        .enumerate()
                        .map(move |(k, (t, a))| (r.claim_id.as_str(), r.facility_id.as_str(), k as i64, t.as_str(), a.0))
                })
                .collect();
            let accs: Vec<(i64, &str, TierAccumulator)> =
                accumulators.iter().map(|a| (a.person.as_u64() as i64, a.tier.as_str(), a.acc)).collect();
            let batch = Batch { year: year as i64, at, actor, settled, payments, accumulators: accs };
            write_batch(&mut tx, &batch, max_binds, &ctx).await?;
            let mut inserted = crate::fresh::Inserted::default();
            for r in rows {
                let pid = r.person.as_u64() as i64;
                inserted.claims_of(pid, persons.get(&pid).map(|p| p.1));
            }
            crate::fresh::commit(tx, inserted, &ctx).await?;
            Ok(Ok(LoadedSettlements {
                settlements: rows.len() as u64,
                persons: persons.len() as u64,
                accumulators: accumulators.len() as u64,
            }))
        }.await)
    }
}

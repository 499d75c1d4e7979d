//! Settlement of claims from Arrow, as the binary settles (docs/settlement.md):
//! each person's claims in `(discharged, claim_id, facility_id)` order
//! (`settle::settlement_order_at`; a claim is keyed by its ID and facility),
//! each claim through `settle::settle_claim` (the kernel `settle_into` every path
//! uses) against the person's accumulators of the claim's year, which start from
//! the rows given (matched by tier name, as the store's batch does) or at zero.
//!
//! Which policy settles a claim: with one policy file (the file command, a
//! what-if draft), that policy, whatever the year; with the store's policies,
//! `settle::policy_in_force` for the person's village and the claim's year, a
//! claim with none left unsettled and counted by village (the store's batch).

use crate::error::{EngineError, Result};
use crate::input::Table;
use crate::out::{self, Col};
use arrow_array::RecordBatch;
use chrono::Datelike;
use domain::{ClaimKind, FacilityLevel, PovertyStatus, RegionCode, ResidentId};
use settle::{Accumulators, BatchClaim, ClaimInput, Policy, TierAccumulator};
// ahash: the maps below hold a key per claim or per person, hashed once each
// (SipHash was a sixth of the call).
use ahash::{AHashMap as HashMap, AHashSet as HashSet};
use std::collections::BTreeMap;

/// A policy and where it came from.
pub struct PolicyRow {
    /// The store's id of the policy (`None` for a policy file).
    pub id: Option<i64>,
    pub region: String,
    pub year: i32,
    pub version: i64,
    pub policy: Policy,
}

pub struct Policies {
    pub rows: Vec<PolicyRow>,
    /// One policy file applied to every claim, whatever its region and year.
    pub single: bool,
}

impl Policies {
    pub fn from_toml(text: &str) -> Result<Policies> {
        let policy = Policy::parse(text.trim_start_matches('\u{feff}'))
            .map_err(|e| EngineError::Input(format!("policy: {e}")))?;
        Ok(Policies {
            rows: vec![PolicyRow {
                id: None,
                region: String::new(),
                year: policy.year.unwrap_or(0),
                version: 0,
                policy,
            }],
            single: true,
        })
    }

    /// The export's `policies` rows: `id, region, year, version, source`.
    pub fn from_table(t: &Table) -> Result<Policies> {
        let ids = t.required_ints("id")?;
        let regions = t.strings("region")?;
        let years = t.required_ints("year")?;
        let versions = t.required_ints("version")?;
        let sources = t.required_strings("source")?;
        let mut rows = Vec::with_capacity(ids.len());
        for i in 0..ids.len() {
            let region = regions[i].unwrap_or("");
            domain::region::parse_prefix(region).map_err(|e| t.bad(i, "region", &e.to_string()))?;
            let policy = Policy::parse(sources[i].trim_start_matches('\u{feff}'))
                .map_err(|e| t.bad(i, "source", &e.to_string()))?;
            rows.push(PolicyRow {
                id: Some(ids[i]),
                region: region.to_string(),
                year: years[i] as i32,
                version: versions[i],
                policy,
            });
        }
        Ok(Policies { rows, single: false })
    }

    /// The policy settling a claim of `year` of a person of `village`.
    fn in_force(&self, village: Option<RegionCode>, year: i32) -> Option<usize> {
        if self.single {
            return Some(0);
        }
        settle::policy_in_force(self.rows.iter().map(|p| (p.region.as_str(), p.year, p.version)), village?, year)
    }
}

/// What one call settles: the settlements in settlement order, the persons' end
/// accumulators, the claims left without a policy, by village and year, and
/// (when the persons are given as a table) the claims whose person is not among
/// them, left unsettled.
pub struct Settled {
    pub settlements: RecordBatch,
    pub accumulators: RecordBatch,
    pub without_policy: RecordBatch,
    pub orphans: RecordBatch,
}

fn parse<T: std::str::FromStr>(t: &Table, i: usize, column: &str, s: &str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    s.parse::<T>().map_err(|e| t.bad(i, column, &e.to_string()))
}

/// The persons' table of a call (`person_id, status`, optional `enrolled` and
/// `region_code`), indexed by ID: where each claim's person gets its status,
/// enrolment and village when the claims do not carry them.
struct PersonsTable<'a> {
    table: &'a Table,
    rows: HashMap<&'a str, usize>,
    ids: Vec<&'a str>,
    statuses: Vec<&'a str>,
    enrolled: Vec<Option<bool>>,
    villages: Option<Vec<Option<&'a str>>>,
}

impl<'a> PersonsTable<'a> {
    fn new(table: &'a Table) -> Result<PersonsTable<'a>> {
        let ids = table.required_strings("person_id")?;
        let statuses = table.required_strings("status")?;
        let n = ids.len();
        let enrolled = if table.has("enrolled") { table.flags("enrolled")? } else { vec![None; n] };
        let villages = if table.has("region_code") { Some(table.strings("region_code")?) } else { None };
        let mut rows = HashMap::with_capacity(n);
        for (j, id) in ids.iter().enumerate() {
            if let Some(first) = rows.insert(*id, j) {
                return Err(table.bad(
                    j,
                    "person_id",
                    &format!("person {id} listed twice (first on row {})", first + 1),
                ));
            }
        }
        Ok(PersonsTable { table, rows, ids, statuses, enrolled, villages })
    }
}

/// Settles the claims of `claims` (with each row's person `status` and, for the
/// store's policies, the person's village `region_code`), starting from
/// `accumulators` (`person_id, year, tier, base, oop, paid`).
///
/// With `persons`, the persons' fields come from that table instead (a village
/// from the claims' `region_code` where the persons have none), and a claim
/// whose person is not in it is left out of the settlement and returned in
/// `orphans` (`claim_id, facility_id, person_id`). The claims of `settled`
/// (`claim_id, facility_id`: settled already, by the whole key) are skipped.
pub fn settle(
    policies: &Policies,
    claims: &Table,
    accumulators: Option<&Table>,
    persons: Option<&Table>,
    settled: Option<&Table>,
) -> Result<Settled> {
    let n = claims.rows();
    let ids = claims.required_strings("claim_id")?;
    let persons_col = claims.required_strings("person_id")?;
    let levels = claims.required_strings("facility_level")?;
    let kinds = claims.required_strings("kind")?;
    let discharged = claims.required_dates("discharged")?;
    let totals = claims.required_fen("total_cost")?;
    let eligibles = claims.required_fen("eligible_cost")?;
    let table = persons.map(PersonsTable::new).transpose()?;
    let statuses = if table.is_none() { claims.required_strings("status")? } else { Vec::new() };
    // Whether the person is enrolled for the claim's year (docs/parquet.md):
    // enrolled where the column is absent or the value null, as the binary's files.
    let enrolled = match &table {
        None if claims.has("enrolled") => claims.flags("enrolled")?,
        _ => vec![None; n],
    };
    // Whether the claim came with a referral: where a table has the column, a
    // blank is not referred, as in the binary's files; the exchange carries no
    // such column yet, and without it every claim counts as referred.
    let referred: Vec<bool> = if claims.has("referred") {
        claims.flags("referred")?.into_iter().map(|f| f.unwrap_or(false)).collect()
    } else {
        vec![true; n]
    };
    let facilities = if claims.has("facility_id") { claims.strings("facility_id")? } else { vec![None; n] };
    let facility = |i: usize| facilities[i].unwrap_or("");
    let villages = if claims.has("region_code") { claims.strings("region_code")? } else { vec![None; n] };
    let villages_given = claims.has("region_code") || table.as_ref().is_some_and(|t| t.villages.is_some());
    if !policies.single && !villages_given {
        return Err(EngineError::MissingColumn { table: claims.name, column: "region_code".into() });
    }

    let mut person_index: HashMap<ResidentId, u32> = HashMap::new();
    // Each person's ID and village as the results write them, formatted once.
    let mut person_text: Vec<String> = Vec::new();
    let mut village_text: Vec<Option<String>> = Vec::new();
    let mut person_ids: Vec<ResidentId> = Vec::new();
    let mut person_status: Vec<PovertyStatus> = Vec::new();
    let mut person_village: Vec<Option<RegionCode>> = Vec::new();
    let mut person_enrolled: Vec<Option<bool>> = Vec::new();
    // With the persons' table: each of its rows' person, once parsed.
    let mut row_person: Vec<u32> = vec![u32::MAX; table.as_ref().map_or(0, |t| t.ids.len())];
    let mut orphans: Vec<usize> = Vec::new();
    let done = match settled {
        Some(t) => {
            let ids = t.required_strings("claim_id")?;
            let facilities = if t.has("facility_id") { t.strings("facility_id")? } else { vec![None; ids.len()] };
            ids.into_iter().zip(facilities).map(|(c, f)| (c, f.unwrap_or(""))).collect()
        }
        None => HashSet::new(),
    };
    let skipped: Vec<bool> =
        if done.is_empty() { Vec::new() } else { (0..n).map(|i| done.contains(&(ids[i], facility(i)))).collect() };
    let is_done = |i: usize| !skipped.is_empty() && skipped[i];
    // A claim key used twice: the keys' hashes sorted as integers first (8
    // bytes a claim, as the binary's file reader checks); only when two hashes
    // meet are the keys compared, row by row, to name the first repeat.
    let repeats = {
        let hasher = ahash::RandomState::with_seeds(19, 7, 2024, 1);
        let mut hashes: Vec<u64> =
            (0..n).filter(|&i| !is_done(i)).map(|i| hasher.hash_one((ids[i], facility(i)))).collect();
        hashes.sort_unstable();
        hashes.windows(2).any(|w| w[0] == w[1])
    };
    let mut seen_claims: HashMap<(&str, &str), usize> = HashMap::with_capacity(if repeats { n } else { 0 });
    let mut batch: Vec<BatchClaim> = Vec::with_capacity(n);
    let mut batch_rows: Vec<usize> = Vec::with_capacity(n);
    for i in 0..n {
        if is_done(i) {
            continue;
        }
        if repeats {
            if let Some(first) = seen_claims.insert((ids[i], facility(i)), i) {
                let key = domain::ClaimKey::new(facility(i), ids[i]);
                return Err(claims.bad(i, "claim_id", &format!("{key} used twice (first on row {})", first + 1)));
            }
        }
        let p = match &table {
            Some(t) => {
                let Some(&j) = t.rows.get(persons_col[i]) else {
                    orphans.push(i);
                    continue;
                };
                if row_person[j] == u32::MAX {
                    let pid: ResidentId = parse(t.table, j, "person_id", t.ids[j])?;
                    let status: PovertyStatus = parse(t.table, j, "status", t.statuses[j])?;
                    let village = match t.villages.as_ref().map_or(villages[i], |v| v[j]) {
                        Some(v) => Some(RegionCode::parse(v).map_err(|e| match &t.villages {
                            Some(_) => t.table.bad(j, "region_code", &e.to_string()),
                            None => claims.bad(i, "region_code", &e.to_string()),
                        })?),
                        None => None,
                    };
                    if person_index.insert(pid, person_ids.len() as u32).is_some() {
                        return Err(t.table.bad(j, "person_id", &format!("person {pid} listed twice")));
                    }
                    person_ids.push(pid);
                    person_text.push(pid.to_string());
                    person_status.push(status);
                    person_village.push(village);
                    village_text.push(village.map(|v| v.to_string()));
                    person_enrolled.push(t.enrolled[j]);
                    row_person[j] = (person_ids.len() - 1) as u32;
                }
                let p = row_person[j];
                if t.villages.is_none() {
                    let village = match villages[i] {
                        Some(v) => {
                            Some(RegionCode::parse(v).map_err(|e| claims.bad(i, "region_code", &e.to_string()))?)
                        }
                        None => None,
                    };
                    if person_village[p as usize] != village {
                        let pid = person_ids[p as usize];
                        return Err(claims.bad(
                            i,
                            "region_code",
                            &format!("person {pid} has another village on an earlier row"),
                        ));
                    }
                }
                p
            }
            None => {
                let pid: ResidentId = parse(claims, i, "person_id", persons_col[i])?;
                let status: PovertyStatus = parse(claims, i, "status", statuses[i])?;
                let village = match villages[i] {
                    Some(v) => Some(RegionCode::parse(v).map_err(|e| claims.bad(i, "region_code", &e.to_string()))?),
                    None => None,
                };
                let p = *person_index.entry(pid).or_insert_with(|| {
                    person_ids.push(pid);
                    person_text.push(pid.to_string());
                    person_status.push(status);
                    person_village.push(village);
                    village_text.push(village.map(|v| v.to_string()));
                    person_enrolled.push(None);
                    (person_ids.len() - 1) as u32
                });
                if person_status[p as usize] != status {
                    return Err(claims.bad(
                        i,
                        "status",
                        &format!("person {pid} is {status} here and {} on an earlier row", person_status[p as usize]),
                    ));
                }
                if person_village[p as usize] != village {
                    return Err(claims.bad(
                        i,
                        "region_code",
                        &format!("person {pid} has another village on an earlier row"),
                    ));
                }
                p
            }
        };
        let level: FacilityLevel = parse(claims, i, "facility_level", levels[i])?;
        let kind: ClaimKind = parse(claims, i, "kind", kinds[i])?;
        if eligibles[i] > totals[i] {
            return Err(claims.bad(i, "eligible_cost", "is more than total_cost"));
        }
        let is_enrolled = match &table {
            Some(_) => person_enrolled[p as usize],
            None => enrolled[i],
        };
        let input = ClaimInput {
            level,
            kind,
            total_cost: totals[i],
            eligible_cost: eligibles[i],
            enrolled: is_enrolled.unwrap_or(true),
            referred: referred[i],
        };
        batch.push(BatchClaim { person: p, discharged: discharged[i], input });
        batch_rows.push(i);
    }

    let start = match accumulators {
        Some(t) => starting_accumulators(t)?,
        None => HashMap::new(),
    };

    let order = settle::settlement_order_at(&batch, |k| ids[batch_rows[k]], |k| facility(batch_rows[k]));
    // Per person and year: the policy settling it and its accumulators.
    let mut years: HashMap<(u32, i32), (usize, Accumulators)> = HashMap::new();
    let mut in_force: HashMap<(Option<RegionCode>, i32), Option<usize>> = HashMap::new();
    let mut without: BTreeMap<(String, i32), i64> = BTreeMap::new();
    // Per settled claim: its batch index, its policy and its out-of-pocket; the
    // payments of all of them in one buffer (`pays`, each policy's tiers long).
    let mut rows: Vec<(usize, usize, i64)> = Vec::with_capacity(n);
    let mut pays: Vec<domain::Fen> = Vec::with_capacity(n * 4);
    let mut pay_at: Vec<usize> = Vec::with_capacity(n + 1);
    for &i in &order {
        let i = i as usize;
        let c = &batch[i];
        let p = c.person as usize;
        let year = c.discharged.year();
        let village = person_village[p];
        let Some(k) = *in_force.entry((village, year)).or_insert_with(|| policies.in_force(village, year)) else {
            *without.entry((village.map(|v| v.to_string()).unwrap_or_default(), year)).or_default() += 1;
            continue;
        };
        let policy = &policies.rows[k].policy;
        let (_, acc) = years.entry((c.person, year)).or_insert_with(|| {
            let mut acc = Accumulators::new(policy);
            if let Some(rows) = start.get(&(person_ids[p], year)) {
                for (tier, a) in rows {
                    if let Some(t) = policy.names.iter().position(|n| n == tier) {
                        acc.tiers[t] = *a;
                    }
                }
            }
            (k, acc)
        });
        if acc.tiers.len() != policy.names.len() {
            acc.tiers.resize(policy.names.len(), TierAccumulator::default());
        }
        // settle::settle_claim's kernel, its payments written in place.
        let at = pays.len();
        pays.resize(at + policy.names.len(), domain::Fen::ZERO);
        let oop = settle::settle_into(policy, &c.input, person_status[p], &mut acc.tiers, &mut pays[at..], None);
        pay_at.push(at);
        rows.push((i, k, oop.0));
    }

    let settlements = out::batch(vec![
        Col("claim_id", out::strings(rows.iter().map(|r| ids[batch_rows[r.0]])), false),
        Col("facility_id", out::opt_strings(rows.iter().map(|r| facilities[batch_rows[r.0]])), true),
        Col("person_id", out::strings(rows.iter().map(|r| person_text[batch[r.0].person as usize].as_str())), false),
        Col("year", out::ints(rows.iter().map(|r| batch[r.0].discharged.year() as i64)), false),
        Col("total_cost", out::ints(rows.iter().map(|r| batch[r.0].input.total_cost.0)), false),
        Col("eligible_cost", out::ints(rows.iter().map(|r| batch[r.0].input.eligible_cost.0)), false),
        Col("out_of_pocket", out::ints(rows.iter().map(|r| r.2)), false),
        Col(
            "payments",
            out::payments(rows.iter().zip(&pay_at).map(|(r, &at)| {
                let names = policies.rows[r.1].policy.names.as_slice();
                (names, &pays[at..at + names.len()])
            })),
            false,
        ),
        Col("policy_id", out::opt_ints(rows.iter().map(|r| policies.rows[r.1].id)), true),
        Col(
            "policy_version",
            out::opt_ints(rows.iter().map(|r| policies.rows[r.1].id.map(|_| policies.rows[r.1].version))),
            true,
        ),
        Col("status", out::strings(rows.iter().map(|r| person_status[batch[r.0].person as usize].as_str())), false),
        Col("discharged", out::dates(rows.iter().map(|r| batch[r.0].discharged)), false),
        Col(
            "region_code",
            out::opt_strings(rows.iter().map(|r| village_text[batch[r.0].person as usize].as_deref())),
            true,
        ),
    ]);

    let mut ends: Vec<_> = years.iter().collect();
    ends.sort_by_key(|((p, y), _)| (person_ids[*p as usize], *y));
    let mut acc_rows: Vec<(&str, i32, &str, TierAccumulator)> = Vec::new();
    for ((p, y), (k, acc)) in ends {
        for (name, a) in policies.rows[*k].policy.names.iter().zip(&acc.tiers) {
            acc_rows.push((person_text[*p as usize].as_str(), *y, name.as_str(), *a));
        }
    }
    let accumulators = out::batch(vec![
        Col("person_id", out::strings(acc_rows.iter().map(|r| r.0)), false),
        Col("year", out::ints(acc_rows.iter().map(|r| r.1 as i64)), false),
        Col("tier", out::strings(acc_rows.iter().map(|r| r.2)), false),
        Col("base", out::ints(acc_rows.iter().map(|r| r.3.base.0)), false),
        Col("oop", out::ints(acc_rows.iter().map(|r| r.3.unpaid.0)), false),
        Col("paid", out::ints(acc_rows.iter().map(|r| r.3.paid.0)), false),
    ]);
    let without_policy = out::batch(vec![
        Col("village_code", out::strings(without.keys().map(|k| k.0.as_str())), false),
        Col("year", out::ints(without.keys().map(|k| k.1 as i64)), false),
        Col("claims", out::ints(without.values().copied()), false),
    ]);
    let orphans = out::batch(vec![
        Col("claim_id", out::strings(orphans.iter().map(|&i| ids[i])), false),
        Col("facility_id", out::opt_strings(orphans.iter().map(|&i| facilities[i])), true),
        Col("person_id", out::strings(orphans.iter().map(|&i| persons_col[i])), false),
    ]);
    Ok(Settled { settlements, accumulators, without_policy, orphans })
}

type Start = HashMap<(ResidentId, i32), Vec<(String, TierAccumulator)>>;

fn starting_accumulators(t: &Table) -> Result<Start> {
    let persons = t.required_strings("person_id")?;
    let years = t.required_ints("year")?;
    let tiers = t.required_strings("tier")?;
    let base = t.required_ints("base")?;
    let oop = t.required_ints("oop")?;
    let paid = t.required_ints("paid")?;
    let mut out: Start = HashMap::new();
    for i in 0..persons.len() {
        let pid: ResidentId = parse(t, i, "person_id", persons[i])?;
        let rows = out.entry((pid, years[i] as i32)).or_default();
        if rows.iter().any(|(n, _)| n == tiers[i]) {
            return Err(t.bad(i, "tier", &format!("person {pid} has the tier {:?} twice in {}", tiers[i], years[i])));
        }
        let a = TierAccumulator { base: domain::Fen(base[i]), unpaid: domain::Fen(oop[i]), paid: domain::Fen(paid[i]) };
        rows.push((tiers[i].to_string(), a));
    }
    Ok(out)
}

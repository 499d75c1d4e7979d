//! An in-memory [`Repo`]: the whole registry in a few vectors behind one lock. It
//! serves tests and a store-less server (`--db :memory:`), and shows in plain code
//! what each repository call means, the scope filter included.

use crate::access::Scope;
use crate::repo::*;
use async_trait::async_trait;
use chrono::{DateTime, Datelike, Utc};
use domain::{Fen, Household, Region, RegionLevel, ResidentId};
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Default)]
struct Inner {
    users: Vec<User>,
    sessions: HashMap<String, Session>,
    tokens: HashMap<String, i64>,
    audit: Vec<AuditEntry>,
    regions: Vec<Region>,
    households: Vec<Household>,
    persons: Vec<PersonRow>,
    claims: Vec<(ResidentId, ClaimRow)>,
    alerts: Vec<AlertRow>,
    policies: Vec<PolicyRow>,
    facilities: Vec<domain::Facility>,
    practitioners: Vec<domain::Practitioner>,
    import_runs: Vec<ImportRun>,
    thresholds: Vec<domain::Threshold>,
    settled: HashMap<String, Stored>,
    accumulators: HashMap<(ResidentId, i32), settle::Accumulators>,
}

/// A settled claim as kept.
struct Stored {
    claim: domain::Claim,
    year: i32,
    status: domain::PovertyStatus,
    policy: std::sync::Arc<settle::Policy>,
    settlement: settle::Settlement,
    voided: bool,
}

impl Inner {
    fn village_of(&self, person: ResidentId) -> Option<domain::RegionCode> {
        self.persons.iter().find(|p| p.person_id == person).map(|p| p.village_code)
    }

    /// The policy of a region and year: the longest region prefix wins.
    fn policy_for(&self, code: domain::RegionCode, year: i32) -> Option<std::sync::Arc<settle::Policy>> {
        self.policies
            .iter()
            .filter(|p| p.year == year && code.starts_with(&p.region))
            .max_by_key(|p| p.region.len())
            .map(|p| p.policy.clone())
    }

    /// The person page's row of a settled claim.
    fn claim_row(c: &domain::Claim, policy: &settle::Policy, s: &settle::Settlement) -> ClaimRow {
        ClaimRow {
            claim_id: c.claim_id.clone(),
            discharged: c.discharged,
            kind: c.kind.to_string(),
            facility_level: c.facility_level.to_string(),
            diagnosis: c.diagnosis.clone(),
            total_cost: c.total_cost,
            payments: policy.names.iter().cloned().zip(s.payments.iter().copied()).collect(),
            out_of_pocket: Some(s.out_of_pocket),
        }
    }
}

/// The in-memory repository.
#[derive(Default)]
pub struct MemRepo {
    inner: Mutex<Inner>,
}

/// The alert life cycle is monitor's ([`monitor::lifecycle::check_transition`]);
/// this reads the states kept as text.
fn check_transition(from: &str, to: &str, by: &str, note: &str, measures: usize) -> Result<(), String> {
    let parse = |s: &str| s.parse::<monitor::AlertState>().map_err(|_| format!("unknown alert state {s:?}"));
    monitor::lifecycle::check_transition(parse(from)?, parse(to)?, by, note, measures).map_err(|e| e.to_string())
}

impl MemRepo {
    pub fn new() -> MemRepo {
        MemRepo::default()
    }

    pub fn add_region(&self, r: Region) {
        self.inner.lock().unwrap().regions.push(r);
    }

    pub fn add_household(&self, h: Household) {
        self.inner.lock().unwrap().households.push(h);
    }

    /// Adds a person; their village is their household's, which must exist.
    pub fn add_person(&self, p: domain::Person) -> Result<(), String> {
        let mut g = self.inner.lock().unwrap();
        let village = g
            .households
            .iter()
            .find(|h| h.household_id == p.household_id)
            .map(|h| h.village_code)
            .ok_or_else(|| format!("household {} not found", p.household_id))?;
        g.persons.push(PersonRow {
            person_id: p.person_id,
            household_id: p.household_id,
            name: p.name,
            status: p.status,
            status_since: p.status_since,
            village_code: village,
            diagnoses: p.diagnoses,
        });
        Ok(())
    }

    pub fn add_facility(&self, f: domain::Facility) {
        self.inner.lock().unwrap().facilities.push(f);
    }

    pub fn add_practitioner(&self, p: domain::Practitioner) {
        self.inner.lock().unwrap().practitioners.push(p);
    }

    pub fn add_import_run(&self, r: ImportRun) {
        self.inner.lock().unwrap().import_runs.push(r);
    }

    /// Adds a policy for a region prefix and year.
    pub fn add_policy(&self, region: &str, year: i32, policy: settle::Policy) {
        self.inner.lock().unwrap().policies.push(PolicyRow {
            region: region.into(),
            year,
            policy: std::sync::Arc::new(policy),
        });
    }

    pub fn add_threshold(&self, t: domain::Threshold) {
        self.inner.lock().unwrap().thresholds.push(t);
    }

    pub fn add_claim(&self, person: ResidentId, c: ClaimRow) {
        self.inner.lock().unwrap().claims.push((person, c));
    }

    /// Raises an open alert; returns its ID.
    pub fn add_alert(
        &self,
        rule: &str,
        household_id: &str,
        year: i32,
        value: &str,
        threshold: &str,
    ) -> Result<i64, String> {
        let mut g = self.inner.lock().unwrap();
        let village = g
            .households
            .iter()
            .find(|h| h.household_id == household_id)
            .map(|h| h.village_code)
            .ok_or_else(|| format!("household {household_id} not found"))?;
        let id = g.alerts.len() as i64 + 1;
        g.alerts.push(AlertRow {
            id,
            rule: rule.into(),
            household_id: household_id.into(),
            village_code: village,
            year,
            value: value.into(),
            threshold: threshold.into(),
            state: "open".into(),
            transitions: vec![],
            measures: vec![],
        });
        Ok(id)
    }
}

/// A claim added as a row (not settled here): the row keeps no admission day
/// and no eligible cost, so it is taken as admitted on its discharge day with its
/// whole cost eligible.
fn claim_of_row(person: ResidentId, c: &ClaimRow) -> RepoResult<domain::Claim> {
    let bad = |what: &str, v: &str| RepoError::Invalid(format!("claim {}: {what} {v:?} is not known", c.claim_id));
    Ok(domain::Claim {
        claim_id: c.claim_id.clone(),
        person_id: person,
        facility_level: c.facility_level.parse().map_err(|_| bad("facility level", &c.facility_level))?,
        kind: c.kind.parse().map_err(|_| bad("kind", &c.kind))?,
        admitted: c.discharged,
        discharged: c.discharged,
        total_cost: c.total_cost,
        eligible_cost: c.total_cost,
        diagnosis: c.diagnosis.clone(),
        facility_id: String::new(),
    })
}

fn matches_query(p: &PersonRow, q: &str) -> bool {
    q.is_empty() || p.person_id.to_string().starts_with(q) || p.name.contains(q) || p.household_id == q
}

#[async_trait]
impl Repo for MemRepo {
    async fn user_by_name(&self, username: &str) -> RepoResult<Option<User>> {
        Ok(self.inner.lock().unwrap().users.iter().find(|u| u.username == username).cloned())
    }

    async fn user_by_id(&self, id: i64) -> RepoResult<Option<User>> {
        Ok(self.inner.lock().unwrap().users.iter().find(|u| u.id == id).cloned())
    }

    async fn create_user(&self, u: NewUser) -> RepoResult<User> {
        let mut g = self.inner.lock().unwrap();
        if g.users.iter().any(|x| x.username == u.username) {
            return Err(RepoError::Conflict(format!("the user {} exists already", u.username)));
        }
        let user = User {
            id: g.users.len() as i64 + 1,
            username: u.username,
            password_hash: u.password_hash,
            role: u.role,
            scope: u.scope,
            failed_logins: 0,
            locked_until: None,
            active: true,
        };
        g.users.push(user.clone());
        Ok(user)
    }

    async fn list_users(&self) -> RepoResult<Vec<User>> {
        Ok(self.inner.lock().unwrap().users.clone())
    }

    async fn set_login_state(&self, user_id: i64, failed: u32, locked_until: Option<DateTime<Utc>>) -> RepoResult<()> {
        let mut g = self.inner.lock().unwrap();
        let u =
            g.users.iter_mut().find(|u| u.id == user_id).ok_or_else(|| RepoError::NotFound("no such user".into()))?;
        u.failed_logins = failed;
        u.locked_until = locked_until;
        Ok(())
    }

    async fn set_password(&self, user_id: i64, password_hash: &str) -> RepoResult<()> {
        let mut g = self.inner.lock().unwrap();
        let u =
            g.users.iter_mut().find(|u| u.id == user_id).ok_or_else(|| RepoError::NotFound("no such user".into()))?;
        u.password_hash = password_hash.into();
        Ok(())
    }

    async fn create_session(&self, s: Session) -> RepoResult<()> {
        self.inner.lock().unwrap().sessions.insert(s.token_hash.clone(), s);
        Ok(())
    }

    async fn session(&self, token_hash: &str) -> RepoResult<Option<Session>> {
        Ok(self.inner.lock().unwrap().sessions.get(token_hash).cloned())
    }

    async fn delete_session(&self, token_hash: &str) -> RepoResult<()> {
        self.inner.lock().unwrap().sessions.remove(token_hash);
        Ok(())
    }

    async fn create_api_token(&self, user_id: i64, _name: &str, token_hash: &str) -> RepoResult<()> {
        self.inner.lock().unwrap().tokens.insert(token_hash.into(), user_id);
        Ok(())
    }

    async fn api_token_user(&self, token_hash: &str) -> RepoResult<Option<User>> {
        let g = self.inner.lock().unwrap();
        Ok(g.tokens.get(token_hash).and_then(|id| g.users.iter().find(|u| u.id == *id)).cloned())
    }

    async fn audit(&self, e: AuditEntry) -> RepoResult<()> {
        self.inner.lock().unwrap().audit.push(e);
        Ok(())
    }

    async fn audit_log(&self, limit: usize) -> RepoResult<Vec<AuditEntry>> {
        Ok(self.inner.lock().unwrap().audit.iter().rev().take(limit).cloned().collect())
    }

    async fn search_persons(&self, scope: &Scope, query: &str, limit: usize) -> RepoResult<Vec<PersonRow>> {
        let g = self.inner.lock().unwrap();
        Ok(g.persons
            .iter()
            .filter(|p| scope.admits(p.village_code) && matches_query(p, query.trim()))
            .take(limit)
            .cloned()
            .collect())
    }

    async fn person(&self, scope: &Scope, id: ResidentId) -> RepoResult<Option<PersonRecord>> {
        let g = self.inner.lock().unwrap();
        let Some(p) = g.persons.iter().find(|p| p.person_id == id && scope.admits(p.village_code)) else {
            return Ok(None);
        };
        let claims = g.claims.iter().filter(|(pid, _)| *pid == id).map(|(_, c)| c.clone()).collect();
        let alerts = g.alerts.iter().filter(|a| a.household_id == p.household_id).cloned().collect();
        let mut batches = vec![];
        for d in &p.diagnoses {
            let b = if d.starts_with('C') { "serious" } else { "chronic" };
            if !batches.iter().any(|x| x == b) {
                batches.push(b.to_string());
            }
        }
        Ok(Some(PersonRecord {
            person: p.clone(),
            claims,
            status_history: vec![StatusChange { status: p.status, since: p.status_since }],
            batches,
            alerts,
        }))
    }

    async fn search_households(&self, scope: &Scope, query: &str, limit: usize) -> RepoResult<Vec<Household>> {
        let g = self.inner.lock().unwrap();
        let q = query.trim();
        Ok(g.households
            .iter()
            .filter(|h| {
                scope.admits(h.village_code)
                    && (q.is_empty() || h.household_id.contains(q) || h.village_code.starts_with(q))
            })
            .take(limit)
            .cloned()
            .collect())
    }

    async fn household(&self, scope: &Scope, id: &str) -> RepoResult<Option<HouseholdRecord>> {
        let g = self.inner.lock().unwrap();
        let Some(h) = g.households.iter().find(|h| h.household_id == id && scope.admits(h.village_code)) else {
            return Ok(None);
        };
        Ok(Some(HouseholdRecord {
            household: h.clone(),
            members: g.persons.iter().filter(|p| p.household_id == id).cloned().collect(),
            alerts: g.alerts.iter().filter(|a| a.household_id == id).cloned().collect(),
        }))
    }

    async fn alerts(&self, scope: &Scope, f: &AlertFilter) -> RepoResult<Vec<AlertRow>> {
        let g = self.inner.lock().unwrap();
        let region = f.region.as_deref().unwrap_or("");
        Ok(g.alerts
            .iter()
            .filter(|a| scope.admits(a.village_code) && a.village_code.starts_with(region))
            .filter(|a| f.state.as_deref().is_none_or(|s| a.state == s))
            .filter(|a| f.rule.as_deref().is_none_or(|r| a.rule == r))
            .take(if f.limit == 0 { usize::MAX } else { f.limit })
            .cloned()
            .collect())
    }

    async fn alert(&self, scope: &Scope, id: i64) -> RepoResult<Option<AlertRow>> {
        let g = self.inner.lock().unwrap();
        Ok(g.alerts.iter().find(|a| a.id == id && scope.admits(a.village_code)).cloned())
    }

    async fn transition_alert(&self, scope: &Scope, id: i64, to: &str, by: &str, note: &str) -> RepoResult<AlertRow> {
        let mut g = self.inner.lock().unwrap();
        let a = g
            .alerts
            .iter_mut()
            .find(|a| a.id == id && scope.admits(a.village_code))
            .ok_or_else(|| RepoError::NotFound(format!("alert {id} not found")))?;
        check_transition(&a.state, to, by, note, a.measures.len()).map_err(RepoError::Conflict)?;
        a.transitions.push(Transition {
            from: a.state.clone(),
            to: to.into(),
            by: by.into(),
            at: Utc::now(),
            note: note.into(),
        });
        a.state = to.into();
        Ok(a.clone())
    }

    async fn add_measure(&self, scope: &Scope, id: i64, m: Measure) -> RepoResult<AlertRow> {
        let mut g = self.inner.lock().unwrap();
        let a = g
            .alerts
            .iter_mut()
            .find(|a| a.id == id && scope.admits(a.village_code))
            .ok_or_else(|| RepoError::NotFound(format!("alert {id} not found")))?;
        let state =
            a.state.parse::<monitor::AlertState>().map_err(|_| RepoError::Store(format!("bad state {}", a.state)))?;
        let check =
            monitor::Assistance { kind: m.kind.clone(), amount: m.amount, by: m.by.clone(), date: m.at.date_naive() };
        monitor::lifecycle::check_measure(state, &check).map_err(|e| RepoError::Conflict(e.to_string()))?;
        a.measures.push(m);
        Ok(a.clone())
    }

    async fn summary(&self, scope: &Scope) -> RepoResult<Summary> {
        let g = self.inner.lock().unwrap();
        let persons: Vec<&PersonRow> = g.persons.iter().filter(|p| scope.admits(p.village_code)).collect();
        let ids: std::collections::HashSet<ResidentId> = persons.iter().map(|p| p.person_id).collect();
        let claims: Vec<&ClaimRow> = g.claims.iter().filter(|(p, _)| ids.contains(p)).map(|(_, c)| c).collect();
        let villages = g.regions.iter().filter(|r| r.level == RegionLevel::Village && scope.admits(r.code)).count();
        Ok(Summary {
            households: g.households.iter().filter(|h| scope.admits(h.village_code)).count() as u64,
            persons: persons.len() as u64,
            poor_persons: persons.iter().filter(|p| p.status.is_poor()).count() as u64,
            claims: claims.len() as u64,
            settled_total: claims.iter().map(|c| c.total_cost).sum(),
            out_of_pocket: claims.iter().filter_map(|c| c.out_of_pocket).sum(),
            open_alerts: g
                .alerts
                .iter()
                .filter(|a| scope.admits(a.village_code) && !matches!(a.state.as_str(), "resolved" | "dismissed"))
                .count() as u64,
            villages: villages as u64,
            blank_villages: 0,
        })
    }

    async fn region_stats(&self, scope: &Scope) -> RepoResult<Vec<RegionStat>> {
        let g = self.inner.lock().unwrap();
        // One pass over each table, keyed by village.
        let mut out: Vec<RegionStat> = g
            .regions
            .iter()
            .filter(|r| r.level == RegionLevel::Village && scope.admits(r.code))
            .map(|r| RegionStat {
                code: r.code,
                name: r.name.clone(),
                lon: r.lon,
                lat: r.lat,
                households: 0,
                persons: 0,
                poor_persons: 0,
                open_alerts: 0,
                out_of_pocket: Fen::ZERO,
                settled_total: Fen::ZERO,
            })
            .collect();
        let at: HashMap<domain::RegionCode, usize> = out.iter().enumerate().map(|(i, r)| (r.code, i)).collect();
        for h in &g.households {
            if let Some(&i) = at.get(&h.village_code) {
                out[i].households += 1;
            }
        }
        let mut village_of: HashMap<ResidentId, usize> = HashMap::new();
        for p in &g.persons {
            if let Some(&i) = at.get(&p.village_code) {
                out[i].persons += 1;
                out[i].poor_persons += p.status.is_poor() as u64;
                village_of.insert(p.person_id, i);
            }
        }
        for (p, c) in &g.claims {
            if let Some(&i) = village_of.get(p) {
                out[i].settled_total += c.total_cost;
                out[i].out_of_pocket += c.out_of_pocket.unwrap_or(Fen::ZERO);
            }
        }
        for a in g.alerts.iter().filter(|a| !matches!(a.state.as_str(), "resolved" | "dismissed")) {
            if let Some(&i) = at.get(&a.village_code) {
                out[i].open_alerts += 1;
            }
        }
        Ok(out)
    }

    async fn trend(&self, scope: &Scope) -> RepoResult<Vec<MonthStat>> {
        let g = self.inner.lock().unwrap();
        let ids: std::collections::HashSet<ResidentId> =
            g.persons.iter().filter(|p| scope.admits(p.village_code)).map(|p| p.person_id).collect();
        let mut months: std::collections::BTreeMap<String, MonthStat> = Default::default();
        for (_, c) in g.claims.iter().filter(|(p, _)| ids.contains(p)) {
            let m = format!("{:04}-{:02}", c.discharged.year(), c.discharged.month());
            let e = months.entry(m.clone()).or_insert(MonthStat {
                month: m,
                claims: 0,
                total: Fen::ZERO,
                out_of_pocket: Fen::ZERO,
            });
            e.claims += 1;
            e.total += c.total_cost;
            e.out_of_pocket += c.out_of_pocket.unwrap_or(Fen::ZERO);
        }
        Ok(months.into_values().collect())
    }

    async fn indicator_data(&self, scope: &Scope, year: i32) -> RepoResult<IndicatorData> {
        let g = self.inner.lock().unwrap();
        let households: Vec<Household> =
            g.households.iter().filter(|h| scope.admits(h.village_code)).cloned().collect();
        let persons: Vec<domain::Person> = g
            .persons
            .iter()
            .filter(|p| scope.admits(p.village_code))
            .map(|p| domain::Person {
                person_id: p.person_id,
                household_id: p.household_id.clone(),
                name: p.name.clone(),
                status: p.status,
                status_since: p.status_since,
                diagnoses: p.diagnoses.clone(),
            })
            .collect();
        let ids: std::collections::HashSet<ResidentId> = persons.iter().map(|p| p.person_id).collect();
        let mut claims = Vec::new();
        let mut settlements = HashMap::new();
        // A voided claim leaves `claims`; what is there is in force.
        for (person, row) in g.claims.iter().filter(|(p, c)| ids.contains(p) && c.discharged.year() == year) {
            let claim = match g.settled.get(&row.claim_id) {
                Some(s) => s.claim.clone(),
                None => claim_of_row(*person, row)?,
            };
            if let Some(oop) = row.out_of_pocket {
                settlements.insert(
                    row.claim_id.clone(),
                    ClaimSettlement { payments: row.payments.clone(), out_of_pocket: oop },
                );
            }
            claims.push(claim);
        }
        claims.sort_by(|a, b| (a.discharged, &a.claim_id).cmp(&(b.discharged, &b.claim_id)));
        // No raise time is kept here: an alert counts in December of its year.
        let alerts = g
            .alerts
            .iter()
            .filter(|a| a.year == year && scope.admits(a.village_code))
            .map(|a| indicators::extract::AlertEvent {
                household_id: a.household_id.clone(),
                year,
                raised_on: chrono::NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or_default(),
                assisted_on: (a.state == "resolved" && !a.measures.is_empty())
                    .then(|| a.transitions.iter().rev().find(|t| t.to == "resolved").map(|t| t.at.date_naive()))
                    .flatten(),
            })
            .collect();
        Ok(IndicatorData {
            households,
            persons,
            claims,
            settlements,
            alerts,
            thresholds: g.thresholds.iter().filter(|t| scope.narrow(&t.region).is_some()).cloned().collect(),
            contracted: Default::default(),
            names: g.regions.iter().filter(|r| scope.admits(r.code)).map(|r| (r.code, r.name.clone())).collect(),
        })
    }

    async fn network(&self, scope: &Scope) -> RepoResult<NetworkData> {
        let g = self.inner.lock().unwrap();
        let facilities: Vec<domain::Facility> =
            g.facilities.iter().filter(|f| scope.admits(f.region_code)).cloned().collect();
        let ids: std::collections::HashSet<&str> = facilities.iter().map(|f| f.facility_id.as_str()).collect();
        Ok(NetworkData {
            regions: g.regions.iter().filter(|r| scope.admits(r.code)).cloned().collect(),
            practitioners: g.practitioners.iter().filter(|p| ids.contains(p.facility_id.as_str())).cloned().collect(),
            facilities,
        })
    }

    async fn import_runs(&self, limit: usize) -> RepoResult<Vec<ImportRun>> {
        Ok(self.inner.lock().unwrap().import_runs.iter().rev().take(limit).cloned().collect())
    }

    async fn policies(&self, scope: &Scope) -> RepoResult<Vec<PolicyRow>> {
        let g = self.inner.lock().unwrap();
        Ok(g.policies.iter().filter(|p| scope.narrow(&p.region).is_some()).cloned().collect())
    }

    async fn settle_claim(&self, scope: &Scope, claim: domain::Claim) -> RepoResult<SettledClaim> {
        let mut g = self.inner.lock().unwrap();
        let person = g
            .persons
            .iter()
            .find(|p| p.person_id == claim.person_id && scope.admits(p.village_code))
            .cloned()
            .ok_or_else(|| RepoError::NotFound(format!("person {} not found", claim.person_id.masked())))?;
        if let Some(s) = g.settled.get(&claim.claim_id) {
            if s.claim != claim {
                return Err(RepoError::Conflict(format!(
                    "claim {} was settled before with different data; void it first to settle a correction",
                    claim.claim_id
                )));
            }
            if s.voided {
                return Err(RepoError::Conflict(format!("claim {} was voided", claim.claim_id)));
            }
            return Ok(SettledClaim {
                claim,
                year: s.year,
                status: s.status,
                policy: s.policy.clone(),
                settlement: s.settlement.clone(),
                replayed: true,
            });
        }
        let year = claim.discharged.year();
        let policy = g.policy_for(person.village_code, year).ok_or_else(|| {
            RepoError::Invalid(format!("no settlement policy covers region {} in {year}", person.village_code))
        })?;
        let acc = g.accumulators.entry((person.person_id, year)).or_insert_with(|| settle::Accumulators::new(&policy));
        let settlement = settle::settle_claim(&policy, &settle::ClaimInput::from(&claim), person.status, acc);
        let row = Inner::claim_row(&claim, &policy, &settlement);
        g.claims.push((person.person_id, row));
        g.settled.insert(
            claim.claim_id.clone(),
            Stored {
                claim: claim.clone(),
                year,
                status: person.status,
                policy: policy.clone(),
                settlement: settlement.clone(),
                voided: false,
            },
        );
        Ok(SettledClaim { claim, year, status: person.status, policy, settlement, replayed: false })
    }

    async fn void_claim(&self, scope: &Scope, claim_id: &str) -> RepoResult<VoidedClaim> {
        let mut g = self.inner.lock().unwrap();
        let not_found = || RepoError::NotFound(format!("claim {claim_id} not found"));
        let (person, year, policy) = {
            let s = g.settled.get(claim_id).ok_or_else(not_found)?;
            let village = g.village_of(s.claim.person_id).ok_or_else(not_found)?;
            if !scope.admits(village) {
                return Err(not_found());
            }
            if s.voided {
                return Err(RepoError::Conflict(format!("claim {claim_id} is voided already")));
            }
            (s.claim.person_id, s.year, s.policy.clone())
        };
        let mut mine: Vec<(&String, &Stored)> =
            g.settled.iter().filter(|(_, s)| s.claim.person_id == person && s.year == year && !s.voided).collect();
        mine.sort_by(|a, b| a.1.claim.discharged.cmp(&b.1.claim.discharged).then_with(|| a.0.cmp(b.0)));
        let claims: Vec<settle::PersonClaim> = mine
            .iter()
            .map(|(id, s)| settle::PersonClaim {
                claim_id: (*id).clone(),
                discharged: s.claim.discharged,
                status: s.status,
                input: settle::ClaimInput::from(&s.claim),
            })
            .collect();
        let previous: Vec<(String, settle::Settlement)> =
            mine.iter().map(|(id, s)| ((*id).clone(), s.settlement.clone())).collect();
        let resettlement = settle::resettle_person_year(&policy, &claims, &previous, claim_id);
        // The accumulators become what the remaining claims add up to.
        let mut acc = settle::Accumulators::new(&policy);
        for c in claims.iter().filter(|c| c.claim_id != claim_id) {
            settle::settle_claim(&policy, &c.input, c.status, &mut acc);
        }
        g.accumulators.insert((person, year), acc);
        g.settled.get_mut(claim_id).expect("checked above").voided = true;
        g.claims.retain(|(_, c)| c.claim_id != claim_id);
        for (id, s) in &resettlement.settlements {
            let row = {
                let st = g.settled.get_mut(id).expect("a remaining claim");
                st.settlement = s.clone();
                Inner::claim_row(&st.claim, &policy, s)
            };
            if let Some((_, r)) = g.claims.iter_mut().find(|(_, c)| c.claim_id == *id) {
                *r = row;
            }
        }
        Ok(VoidedClaim { claim_id: claim_id.into(), person_id: person, year, policy, resettlement })
    }
}

//! [`App`]: the application over the store (SQLite in one file by default,
//! PostgreSQL in production). Every use case that pages, the API and the command
//! line share is a method here; the region scope is handed to the store, whose
//! queries filter by it (a record outside the scope is never read, so it cannot
//! leak by any page, endpoint or command).

use crate::access::{Masking, Role, Scope};
use crate::model::*;
use chrono::{DateTime, Datelike, Utc};
use domain::{Household, ResidentId};
use std::sync::{Arc, OnceLock};
use store::{Page, Store, StoreError};

/// The application over a [`store::Store`].
///
/// Two things keep a busy server fast without giving up durability:
/// - On SQLite, writes queue on one in-process lock before they open their
///   transaction. SQLite lets one writer in at a time; without the queue, the
///   others would poll the database lock with sleeps of up to 100 ms (its busy
///   handler), which is what a latency tail is made of.
/// - Audit rows are written by one task in batches: whatever rows arrive while a
///   batch is being committed go out together in the next transaction, one sync
///   to disk for all. Each caller still waits until its row is committed.
/// - Real-time settlements likewise (group commit): the claims that arrive while
///   a batch commits are settled together in the next transaction, with one sync
///   to disk; each answer waits for its batch's commit, so an acknowledged
///   settlement is on disk. SQLite settles one batch at a time, each claim in its
///   own savepoint; PostgreSQL several batches at a time, each with a few
///   set-based statements (see `Store::settle_realtime_batch`).
#[derive(Clone)]
pub struct App {
    store: Store,
    write: Option<Arc<tokio::sync::Mutex<()>>>,
    audit_queue: Arc<OnceLock<AuditSender>>,
    settle_queue: Arc<OnceLock<SettleSender>>,
    person_refs: Arc<tokio::sync::OnceCell<crate::keys::PersonRefs>>,
    limits: crate::limits::LimitsCache,
    targets: crate::targets::TargetsCache,
    blank_counts: crate::coverage::BlankCounts,
}

/// A claim to settle, by whom, with the answer's way back.
type SettleJob = (
    store::Scope,
    domain::Claim,
    String,
    Vec<domain::items::PricedItem>,
    tokio::sync::oneshot::Sender<Result<store::RealtimeSettlement, AppError>>,
);
type SettleSender = tokio::sync::mpsc::UnboundedSender<SettleJob>;

/// The most claims one group commit settles.
const SETTLE_BATCH: usize = 256;

/// Groups of claims settling at the same time on PostgreSQL (each holds one of
/// the pool's connections while it settles).
const PG_SETTLE_WRITERS: usize = 4;

type AuditSender =
    tokio::sync::mpsc::UnboundedSender<(store::AuditRow, tokio::sync::oneshot::Sender<Result<(), String>>)>;

impl App {
    /// Wraps an opened, migrated store.
    pub fn new(store: Store) -> App {
        let write = (store.backend() == store::Backend::Sqlite).then(|| Arc::new(tokio::sync::Mutex::new(())));
        App {
            store,
            write,
            audit_queue: Arc::new(OnceLock::new()),
            settle_queue: Arc::new(OnceLock::new()),
            person_refs: Arc::new(tokio::sync::OnceCell::new()),
            limits: Default::default(),
            blank_counts: Default::default(),
            targets: Default::default(),
        }
    }

    /// Opens the store a `--db` value names (a path, a `sqlite:` or a
    /// `postgres://` URL) and brings its schema up to date.
    pub async fn open(db: &str) -> Result<App, StoreError> {
        let store = Store::open(if db == ":memory:" { "sqlite::memory:" } else { db }).await?;
        store.migrate().await?;
        Ok(App::new(store))
    }

    /// Closes the store's connections (a command that ends).
    pub async fn close(&self) {
        self.store.close().await;
    }

    /// The turn to write (SQLite), held until the write is done.
    pub(crate) async fn writing(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match &self.write {
            Some(m) => Some(m.lock().await),
            None => None,
        }
    }

    /// The maker and reader of persons' opaque references (the key is read from
    /// the store, or made there, on first use).
    pub async fn person_refs(&self) -> Result<&crate::keys::PersonRefs, AppError> {
        self.person_refs
            .get_or_try_init(|| async {
                let key = self.store.server_key(crate::keys::PERSON_KEY, &crate::keys::PersonRefs::fresh_key()).await?;
                Ok::<_, AppError>(crate::keys::PersonRefs::new(&key))
            })
            .await
    }

    /// The counts of blank villages by scope.
    pub(crate) fn blank_counts(&self) -> &crate::coverage::BlankCounts {
        &self.blank_counts
    }

    /// The cache of the plausibility limits.
    pub(crate) fn limits_cache(&self) -> &crate::limits::LimitsCache {
        &self.limits
    }

    /// The cache of the indicator targets.
    pub(crate) fn targets_cache(&self) -> &crate::targets::TargetsCache {
        &self.targets
    }

    /// The turn to write where writes take turns (SQLite), for the functions
    /// that take it themselves by turns.
    pub(crate) fn write_turns(&self) -> Option<&tokio::sync::Mutex<()>> {
        self.write.as_deref()
    }

    /// The audit writer, started on first use.
    fn audit_sender(&self) -> &AuditSender {
        self.audit_queue.get_or_init(|| {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(
                store::AuditRow,
                tokio::sync::oneshot::Sender<Result<(), String>>,
            )>();
            let store = self.store.clone();
            let write = self.write.clone();
            // Ends when every clone of the repository (and so the sender) is gone.
            tokio::spawn(async move {
                while let Some(first) = rx.recv().await {
                    let mut batch = vec![first];
                    while batch.len() < 2000 {
                        match rx.try_recv() {
                            Ok(x) => batch.push(x),
                            Err(_) => break,
                        }
                    }
                    let rows: Vec<store::AuditRow> = batch.iter().map(|(r, _)| r.clone()).collect();
                    let result = {
                        let _turn = match &write {
                            Some(m) => Some(m.lock().await),
                            None => None,
                        };
                        store.audit_many(&rows).await.map_err(|e| e.to_string())
                    };
                    for (_, done) in batch {
                        let _ = done.send(result.clone());
                    }
                }
            });
            tx
        })
    }

    /// The settlement writer, started on first use: it takes the claims queued
    /// (up to [`SETTLE_BATCH`]) as one group and settles them in one transaction.
    /// On SQLite one group at a time, in the turn to write. On PostgreSQL up to
    /// [`PG_SETTLE_WRITERS`] groups at a time, each on its own connection: the
    /// claims that arrive while they settle form the next group. A person's
    /// claims in one group settle in the order they arrived; claims of one person
    /// in groups settling at the same time were sent at the same time (neither
    /// answered before the other was sent), and settle one after the other in
    /// the order their groups take the person's lock, as two such requests
    /// settled one by one would.
    fn settle_sender(&self) -> &SettleSender {
        self.settle_queue.get_or_init(|| {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<SettleJob>();
            let store = self.store.clone();
            let write = self.write.clone();
            let writers = if write.is_some() { 1 } else { PG_SETTLE_WRITERS };
            let turns = Arc::new(tokio::sync::Semaphore::new(writers));
            // Ends when every clone of the repository (and so the sender) is gone.
            tokio::spawn(async move {
                loop {
                    let Ok(turn) = turns.clone().acquire_owned().await else { break };
                    let Some(first) = rx.recv().await else { break };
                    let mut batch = vec![first];
                    while batch.len() < SETTLE_BATCH {
                        match rx.try_recv() {
                            Ok(x) => batch.push(x),
                            Err(_) => break,
                        }
                    }
                    let (store, write) = (store.clone(), write.clone());
                    tokio::spawn(async move {
                        let (items, answers): (Vec<_>, Vec<_>) =
                            batch.into_iter().map(|(s, c, who, items, a)| ((s, c, who, items), a)).unzip();
                        let result = {
                            let _turn = match &write {
                                Some(m) => Some(m.lock().await),
                                None => None,
                            };
                            crate::settlement::settle_realtime_batch(&store, &items).await
                        };
                        drop(turn);
                        match result {
                            Ok(each) => {
                                for (r, answer) in each.into_iter().zip(answers) {
                                    let _ = answer.send(r.map_err(AppError::from));
                                }
                            }
                            Err(e) => {
                                let e = AppError::from(e);
                                for answer in answers {
                                    let _ = answer.send(Err(e.clone()));
                                }
                            }
                        }
                    });
                }
            });
            tx
        })
    }

    /// Brings the figures by village of the scope up to date in turns to write
    /// (the refresh writes), so that it queues behind settlements instead of
    /// polling SQLite's lock, and settlements go on between its turns. The
    /// store's reads of the figures then find nothing (or only the last moment's
    /// changes) left to refresh.
    async fn refresh_figures(&self, s: &Scope) -> AppResult<()> {
        let s = scope(s)?;
        // In short turns, so that settlements queued meanwhile go in between.
        loop {
            let n = {
                let _turn = self.writing().await;
                self.store.refresh_figures_turn(&s, store::VILLAGES_A_TURN).await?
            };
            if n < store::VILLAGES_A_TURN {
                return Ok(());
            }
        }
    }

    /// The store underneath, for loading data in tests and commands.
    pub fn store(&self) -> &Store {
        &self.store
    }
}

fn audit_entry(r: store::AuditRow) -> AuditEntry {
    AuditEntry {
        at: r.at,
        username: r.actor,
        action: r.action,
        target: r.object_id,
        detail: r.detail,
        region: r.region_code.and_then(|c| domain::RegionCode::from_u64(c as u64).ok()),
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> AppError {
        match e {
            StoreError::Constraint { .. } | StoreError::DuplicateKey { .. } | StoreError::IllegalTransition { .. } => {
                AppError::Conflict(e.to_string())
            }
            StoreError::NotFound { .. } => AppError::NotFound(e.to_string()),
            StoreError::Invalid(_) | StoreError::Rejected { .. } => AppError::Invalid(e.to_string()),
            _ => AppError::Store(e.to_string()),
        }
    }
}

/// The store's form of a web scope (the same code prefix).
pub(crate) fn scope(s: &Scope) -> AppResult<store::Scope> {
    store::Scope::new(s.prefix()).map_err(|e| AppError::Invalid(e.to_string()))
}

fn page(limit: usize) -> Page {
    Page::first(limit.min(u32::MAX as usize) as u32)
}

fn user(u: store::UserRow) -> AppResult<User> {
    let bad = |what: &str, v: &str| AppError::Store(format!("user {}: stored {what} {v:?} is invalid", u.username));
    Ok(User {
        id: u.id,
        role: u.role.parse::<Role>().map_err(|_| bad("role", &u.role))?,
        scope: Scope::parse(&u.region_scope).map_err(|_| bad("scope", &u.region_scope))?.with_facility(u.facility_id),
        username: u.username,
        password_hash: u.password_hash,
        failed_logins: u.failed_attempts,
        locked_until: u.locked_until,
        active: u.active,
    })
}

fn person_row(p: domain::Person, village_code: domain::RegionCode) -> PersonRow {
    PersonRow {
        person_id: p.person_id,
        household_id: p.household_id,
        name: p.name,
        status: p.status,
        status_since: p.status_since,
        village_code,
        diagnoses: p.diagnoses,
    }
}

fn claim_row(c: store::ClaimView) -> ClaimRow {
    ClaimRow {
        claim_id: c.claim.claim_id,
        facility_id: c.claim.facility_id,
        discharged: c.claim.discharged,
        kind: c.claim.kind.to_string(),
        facility_level: c.claim.facility_level.to_string(),
        diagnosis: c.claim.diagnosis,
        total_cost: c.claim.total_cost,
        payments: c.payments,
        out_of_pocket: c.out_of_pocket,
    }
}

/// The batches of classified treatment a person's diagnoses fall in this year.
fn batches(diagnoses: &[String]) -> Vec<String> {
    static CATALOGUES: OnceLock<(domain::Catalogue, domain::Catalogue)> = OnceLock::new();
    let (serious, chronic) = CATALOGUES.get_or_init(|| (domain::Catalogue::serious(), domain::Catalogue::chronic()));
    let year = Utc::now().year();
    let mut out: Vec<String> = vec![];
    for d in diagnoses {
        let b = if serious.find(d, year).is_some() {
            "serious"
        } else if chronic.find(d, year).is_some() {
            "chronic"
        } else {
            continue;
        };
        if !out.iter().any(|x| x == b) {
            out.push(b.into());
        }
    }
    out
}

/// What an audited action concerns, from its name.
fn object_kind(action: &str) -> &'static str {
    if action.contains("person") {
        "person"
    } else if action.contains("household") {
        "household"
    } else if action.contains("alert") {
        "alert"
    } else if action.contains("settle") || action.contains("claim") {
        "claim"
    } else if action.contains("admission") {
        "admission"
    } else if action.contains("posting") || action.contains("qualification") {
        "practitioner"
    } else if action.contains("export") {
        "export"
    } else if action.contains("login")
        || action.contains("lockout")
        || action.contains("user")
        || action.contains("token")
        || action.contains("password")
    {
        "user"
    } else {
        ""
    }
}

impl App {
    pub async fn user_by_name(&self, username: &str) -> AppResult<Option<User>> {
        self.store.user_by_name(username).await?.map(user).transpose()
    }

    pub async fn user_by_id(&self, id: i64) -> AppResult<Option<User>> {
        self.store.user_by_id(id).await?.map(user).transpose()
    }

    /// Creates an account. A scope bound to a facility (`Scope::with_facility`)
    /// is for a clerk only, and the facility must be stored inside the scope's
    /// region (docs/desk.md, "A clerk's facility").
    pub async fn create_user(&self, u: NewUser) -> AppResult<User> {
        if let Some(f) = u.scope.facility() {
            self.check_clerk_facility(u.role, &u.scope, f).await?;
        }
        let _turn = self.writing().await;
        if let Some(taken) = self.store.user_by_name(&u.username).await? {
            return Err(AppError::Conflict(if taken.username == u.username {
                format!("the user {} exists already", u.username)
            } else {
                format!(
                    "the user name {} is taken by {} (user names are compared without regard to case)",
                    u.username, taken.username
                )
            }));
        }
        let row = self
            .store
            .create_user(&store::NewUser {
                username: u.username,
                password_hash: u.password_hash,
                role: u.role.as_str().into(),
                region_scope: u.scope.prefix().into(),
                facility_id: u.scope.facility().map(str::to_string),
            })
            .await?;
        user(row)
    }

    pub async fn list_users(&self) -> AppResult<Vec<User>> {
        self.store.list_users().await?.into_iter().map(user).collect()
    }

    pub async fn set_login_state(
        &self,
        user_id: i64,
        failed: u32,
        locked_until: Option<DateTime<Utc>>,
    ) -> AppResult<()> {
        let _turn = self.writing().await;
        Ok(self.store.set_login_state(user_id, failed, locked_until).await?)
    }

    pub async fn set_password(&self, user_id: i64, password_hash: &str) -> AppResult<()> {
        let _turn = self.writing().await;
        Ok(self.store.set_password(user_id, password_hash).await?)
    }

    pub async fn create_session(&self, s: Session) -> AppResult<()> {
        let _turn = self.writing().await;
        Ok(self
            .store
            .create_session(&store::SessionRow {
                token_hash: s.token_hash,
                user_id: s.user_id,
                csrf_token: s.csrf,
                expires_at: s.expires_at,
            })
            .await?)
    }

    pub async fn session(&self, token_hash: &str) -> AppResult<Option<Session>> {
        Ok(self.store.session(token_hash).await?.map(|s| Session {
            token_hash: s.token_hash,
            user_id: s.user_id,
            csrf: s.csrf_token,
            expires_at: s.expires_at,
        }))
    }

    pub async fn delete_session(&self, token_hash: &str) -> AppResult<()> {
        let _turn = self.writing().await;
        Ok(self.store.delete_session(token_hash).await?)
    }

    /// Who a request with this token acts as (see [`App::token_identity`]).
    pub async fn api_token_user(&self, token_hash: &str) -> AppResult<Option<User>> {
        Ok(self.token_identity(token_hash).await?.map(|(u, _)| u))
    }

    pub async fn audit(&self, e: AuditEntry) -> AppResult<()> {
        let row = store::AuditRow {
            at: e.at,
            object_kind: object_kind(&e.action).into(),
            actor: e.username,
            action: e.action,
            object_id: e.target,
            region_code: e.region.map(|r| r.as_u64() as i64),
            detail: e.detail,
        };
        let (done, committed) = tokio::sync::oneshot::channel();
        self.audit_sender().send((row, done)).map_err(|_| AppError::Store("the audit writer has stopped".into()))?;
        committed
            .await
            .map_err(|_| AppError::Store("the audit writer has stopped".into()))?
            .map_err(|e| AppError::Store(format!("writing the audit log: {e}")))
    }

    /// Writes one event of a use case to the audit log, now. Never called
    /// holding the write turn, which the audit writer takes itself.
    pub(crate) async fn audit_event(
        &self,
        actor: &str,
        action: &str,
        target: String,
        detail: String,
        region: Option<domain::RegionCode>,
    ) -> AppResult<()> {
        let username = actor.into();
        self.audit(AuditEntry { at: Utc::now(), username, action: action.into(), target, detail, region }).await
    }

    pub async fn audit_log(&self, limit: usize) -> AppResult<Vec<AuditEntry>> {
        Ok(self.store.audit_log(limit.min(u32::MAX as usize) as u32).await?.into_iter().map(audit_entry).collect())
    }

    /// The audit log as a user may read it: the events of their region scope,
    /// and their own; events that concern no region only with the national
    /// scope. Newest first.
    pub async fn audit_log_for(&self, s: &Scope, username: &str, limit: usize) -> AppResult<Vec<AuditEntry>> {
        let rows = self.store.audit_log_in(&scope(s)?, username, limit.min(u32::MAX as usize) as u32).await?;
        Ok(rows.into_iter().map(audit_entry).collect())
    }

    /// Persons in the scope whose name contains `query`, whose resident ID starts
    /// with it, or whose household it names. A role that sees persons masked
    /// searches by household only: a search by name or ID would let it test
    /// guesses of what the mask hides (a birth date, a name).
    pub async fn search_persons(
        &self,
        s: &Scope,
        masking: Masking,
        query: &str,
        limit: usize,
    ) -> AppResult<Vec<PersonRow>> {
        let found = match masking {
            Masking::Masked if !query.trim().is_empty() => {
                self.store.find_household_persons(&scope(s)?, query, page(limit)).await?
            }
            _ => self.store.find_persons(&scope(s)?, query, page(limit)).await?,
        };
        Ok(found.into_iter().map(|p| person_row(p.person, p.village_code)).collect())
    }

    pub async fn person(&self, s: &Scope, id: ResidentId) -> AppResult<Option<PersonRecord>> {
        let Some(rec) = self.store.person_record(&scope(s)?, id).await? else { return Ok(None) };
        let alerts = self.household_alerts(s, &rec.household.household_id).await?;
        let mut history: Vec<StatusChange> =
            rec.status_history.iter().map(|h| StatusChange { status: h.new_status, since: h.since }).collect();
        if history.last().is_none_or(|h| h.status != rec.person.status || h.since != rec.person.status_since) {
            history.push(StatusChange { status: rec.person.status, since: rec.person.status_since });
        }
        Ok(Some(PersonRecord {
            batches: batches(&rec.person.diagnoses),
            claims: rec.claims.into_iter().filter(|c| !c.voided).map(claim_row).collect(),
            status_history: history,
            alerts,
            person: person_row(rec.person, rec.village_code),
        }))
    }

    pub async fn search_households(&self, s: &Scope, query: &str, limit: usize) -> AppResult<Vec<Household>> {
        Ok(self.store.search_households(&scope(s)?, query, page(limit)).await?)
    }

    pub async fn household(&self, s: &Scope, id: &str) -> AppResult<Option<HouseholdRecord>> {
        let Some(rec) = self.store.household_record(&scope(s)?, id).await? else { return Ok(None) };
        let village = rec.household.village_code;
        Ok(Some(HouseholdRecord {
            alerts: self.household_alerts(s, id).await?,
            members: rec.members.into_iter().map(|p| person_row(p, village)).collect(),
            household: rec.household,
        }))
    }

    pub async fn alerts(&self, s: &Scope, f: &AlertFilter) -> AppResult<Vec<AlertRow>> {
        // A region filter narrows the scope; one outside it (or malformed) shows nothing.
        let within = match f.region.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
            None => scope(s)?,
            Some(r) if r.starts_with(s.prefix()) => match store::Scope::new(r) {
                Ok(narrow) => narrow,
                Err(_) => return Ok(vec![]),
            },
            Some(_) => return Ok(vec![]),
        };
        let state = match f.state.as_deref() {
            None => None,
            Some(st) => match st.parse::<monitor::AlertState>() {
                Ok(st) => Some(st),
                Err(_) => return Ok(vec![]),
            },
        };
        let q = store::AlertQuery { state, rule: f.rule.clone(), ..Default::default() };
        let limit = if f.limit == 0 { u32::MAX as usize } else { f.limit };
        Ok(self.store.alerts(&within, &q, page(limit)).await?.into_iter().map(alert_row).collect())
    }

    pub async fn alert(&self, s: &Scope, id: i64) -> AppResult<Option<AlertRow>> {
        Ok(self.store.alert(&scope(s)?, id).await?.map(alert_row))
    }

    pub async fn transition_alert(&self, s: &Scope, id: i64, to: &str, by: &str, note: &str) -> AppResult<AlertRow> {
        let _turn = self.writing().await;
        let to =
            to.parse::<monitor::AlertState>().map_err(|_| AppError::Conflict(format!("unknown alert state {to:?}")))?;
        Ok(alert_row(crate::monitoring::transition_alert(&self.store, &scope(s)?, id, to, by, note).await?))
    }

    pub async fn add_measure(&self, s: &Scope, id: i64, m: Measure) -> AppResult<AlertRow> {
        let _turn = self.writing().await;
        let nm = store::NewMeasure {
            kind: m.kind,
            amount: m.amount,
            by: m.by.clone(),
            date: domain::time::china_day(m.at),
            note: m.note,
        };
        Ok(alert_row(crate::monitoring::add_assistance(&self.store, &scope(s)?, id, &nm, &m.by).await?))
    }

    pub async fn summary(&self, s: &Scope) -> AppResult<Summary> {
        self.refresh_figures(s).await?;
        let o = self.store.overview(&scope(s)?).await?;
        Ok(Summary {
            households: o.households,
            persons: o.persons,
            poor_persons: o.poor_persons,
            claims: o.claims,
            settled_total: o.total_cost,
            out_of_pocket: o.out_of_pocket,
            open_alerts: o.open_alerts,
            villages: o.villages,
            blank_villages: self.blank_villages(s).await,
        })
    }

    pub async fn region_stats(&self, s: &Scope) -> AppResult<Vec<RegionStat>> {
        self.refresh_figures(s).await?;
        Ok(self
            .store
            .region_figures(&scope(s)?)
            .await?
            .into_iter()
            .map(|r| RegionStat {
                code: r.code,
                name: r.name,
                lon: r.lon,
                lat: r.lat,
                households: r.households,
                persons: r.persons,
                poor_persons: r.poor_persons,
                open_alerts: r.open_alerts,
                out_of_pocket: r.out_of_pocket,
                settled_total: r.total_cost,
            })
            .collect())
    }

    pub async fn refresh_precomputed(&self) -> AppResult<()> {
        self.refresh_figures(&Scope::all()).await?;
        let today = domain::time::china_today();
        // With no year kept yet, the year of the latest claims is built here, in
        // the background, rather than by the first report that asks for it.
        let mut want = None;
        if self.store.indicator_years().await?.is_empty() {
            want = self.store.latest_claim_year().await?.filter(|&y| crate::kept::check_year(y, today).is_ok());
        }
        crate::kept::refresh(&self.store, want, today, self.write.as_deref()).await.map_err(AppError::Store)?;
        Ok(())
    }

    pub async fn trend(&self, s: &Scope) -> AppResult<Vec<MonthStat>> {
        self.refresh_figures(s).await?;
        Ok(self
            .store
            .monthly_trend(&scope(s)?)
            .await?
            .into_iter()
            .map(|m| MonthStat {
                month: m.month,
                claims: m.claims,
                total: m.total_cost,
                out_of_pocket: m.out_of_pocket,
            })
            .collect())
    }

    pub async fn indicator_data(&self, s: &Scope, year: i32) -> AppResult<IndicatorData> {
        Ok(indicator_data_from(self.store.report_inputs(&scope(s)?, year).await?))
    }

    /// The programme report of `year` inside the scope, summed from the indicator
    /// facts kept in the store (brought up to date first), its values drawn
    /// against the targets in force ([`App::report_compared`] without a comparison).
    pub async fn report(
        &self,
        defs: indicators::Definitions,
        s: &Scope,
        year: i32,
        levels: Vec<domain::RegionLevel>,
        period: indicators::PeriodKind,
    ) -> AppResult<crate::analysis::Report> {
        self.report_compared(defs, s, year, levels, period, None, domain::CountyGroup::All).await
    }

    /// The latest import runs made inside the scope (their reports quote the
    /// files' rows).
    pub async fn import_runs(&self, s: &Scope, limit: usize) -> AppResult<Vec<ImportRun>> {
        Ok(self
            .store
            .import_runs(&scope(s)?, limit.min(u32::MAX as usize) as u32)
            .await?
            .into_iter()
            .map(|r| ImportRun {
                at: r.at,
                errors: r.error_count(),
                kind: r.kind,
                file_name: r.file_name,
                rows: r.rows,
                report: r.errors,
            })
            .collect())
    }

    pub async fn policies(&self, s: &Scope) -> AppResult<Vec<PolicyRow>> {
        self.store
            .policies(&scope(s)?)
            .await?
            .into_iter()
            .map(|p| {
                let policy = crate::settlement::engine().policy(&p).map_err(|e| {
                    AppError::Store(format!("the stored policy of {} for {} does not parse: {e}", p.region, p.year))
                })?;
                Ok(PolicyRow { region: p.region, year: p.year, policy })
            })
            .collect()
    }

    /// Settles a claim in real time, by `actor`: the settlement and its audit row
    /// are committed together. The claim names its facility, which must be
    /// stored and inside the scope: one outside it is answered as an unknown
    /// facility (by the store, in the settlement's transaction).
    pub async fn settle_claim(&self, s: &Scope, claim: domain::Claim, actor: &str) -> AppResult<SettledClaim> {
        self.settle_claim_with(s, claim, Vec::new(), actor).await
    }

    /// [`App::settle_claim`] of a claim with its bill's items, priced (by
    /// [`App::settle_itemised`]): they are stored with the claim, in the
    /// settlement's transaction.
    pub(crate) async fn settle_claim_with(
        &self,
        s: &Scope,
        claim: domain::Claim,
        items: Vec<domain::items::PricedItem>,
        actor: &str,
    ) -> AppResult<SettledClaim> {
        if claim.facility_id.is_empty() {
            return Err(AppError::Invalid(
                "a claim settled in real time must name its facility (facility_id): claim IDs are the facility's"
                    .into(),
            ));
        }
        self.refuse_other_facility(s, &claim.facility_id, actor, &format!("claim {}", claim.claim_id)).await?;
        if let Some(why) = self.amount_limits().await?.check_claim(&claim) {
            return Err(AppError::Invalid(why));
        }
        let r = {
            let (answer, wait) = tokio::sync::oneshot::channel();
            self.settle_sender()
                .send((scope(s)?, claim, actor.to_string(), items, answer))
                .map_err(|_| AppError::Store("the settlement writer has stopped".into()))?;
            wait.await.map_err(|_| AppError::Store("the settlement writer has stopped".into()))??
        };
        let policy = crate::settlement::engine().policy(&r.policy).map_err(AppError::Store)?;
        Ok(SettledClaim {
            settlement: crate::settlement::settlement_of(&r),
            claim: r.claim,
            year: r.year,
            status: r.status,
            enrolled: r.enrolled,
            policy,
            replayed: r.replayed,
            items: r.items,
        })
    }

    /// Voids a settled claim (by its key: facility and ID) and re-settles its
    /// person's year, by `actor`, with the audit row in the same transaction. A
    /// claim outside the scope is answered as an unknown one.
    pub async fn void_claim(&self, s: &Scope, claim: &domain::ClaimKey, actor: &str) -> AppResult<VoidedClaim> {
        self.refuse_other_facility(s, &claim.facility_id, actor, &format!("claim {}", claim.claim_id)).await?;
        let _turn = self.writing().await;
        let v = crate::settlement::void_claim(&self.store, &scope(s)?, claim, actor).await?;
        let policy = crate::settlement::engine().policy(&v.policy).map_err(AppError::Store)?;
        let differences = crate::settlement::differences_of(&v);
        Ok(VoidedClaim {
            claim: domain::ClaimKey::new(&v.facility_id, &v.claim_id),
            person_id: v.person,
            year: v.year,
            policy,
            settlements: v
                .settlements
                .into_iter()
                .map(|(key, payments, out_of_pocket)| (key, settle::Settlement { payments, out_of_pocket }))
                .collect(),
            differences,
        })
    }
}

fn alert_row(a: store::StoredAlert) -> AlertRow {
    AlertRow {
        id: a.id,
        rule: a.rule,
        household_id: a.household_id,
        village_code: a.village,
        year: a.year,
        value: a.value,
        threshold: a.threshold,
        state: a.state.to_string(),
        // Moves between states; the raising and the value updates of monitor runs
        // are not moves.
        transitions: a
            .events
            .into_iter()
            .filter_map(|e| {
                let from = e.from.filter(|f| *f != e.to)?;
                Some(Transition { from: from.to_string(), to: e.to.to_string(), by: e.actor, at: e.at, note: e.note })
            })
            .collect(),
        measures: a
            .measures
            .into_iter()
            .map(|m| Measure { kind: m.kind, by: m.by, amount: m.amount, note: m.note, at: m.recorded_at })
            .collect(),
    }
}

impl App {
    /// The alerts of a household in scope.
    async fn household_alerts(&self, s: &Scope, household_id: &str) -> AppResult<Vec<AlertRow>> {
        let q = store::AlertQuery { household: Some(household_id.into()), ..Default::default() };
        Ok(self.store.alerts(&scope(s)?, &q, page(1000)).await?.into_iter().map(alert_row).collect())
    }
}

/// The store's report inputs as the analyses read them.
pub fn indicator_data_from(mut r: store::ReportInputs) -> IndicatorData {
    let settlements = r
        .monitor
        .oop_by_claim
        .iter()
        .map(|(id, oop)| {
            let payments = r.payments.remove(id).unwrap_or_default();
            (id.clone(), ClaimSettlement { payments, out_of_pocket: *oop })
        })
        .collect();
    let alerts = r
        .alerts
        .into_iter()
        .map(|a| indicators::extract::AlertEvent {
            household_id: a.household_id,
            year: a.year,
            raised_on: a.raised_on,
            assisted_on: a.assisted_on,
        })
        .collect();
    let cases = r
        .cases
        .into_iter()
        .map(|c| indicators::extract::CaseDeadline {
            household_id: c.household_id,
            due: c.due,
            verified_on: c.verified_on,
            close_due: c.close_due,
            closed_on: c.closed_on,
        })
        .collect();
    IndicatorData {
        spending: Vec::new(),
        cases,
        households: r.monitor.households,
        persons: r.monitor.persons,
        claims: r.monitor.claims,
        settlements,
        alerts,
        thresholds: r.monitor.thresholds,
        contracted: r.contracted,
        names: r.names,
        facilities: r.facilities,
    }
}

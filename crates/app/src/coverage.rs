//! The second bottom line on the overview: how many villages of a scope are blank
//! now (no clinic, or no qualified doctor serving), by the same rule as the
//! coverage page (`coverage::blank_spots`, docs/coverage.md).
//!
//! Counting means loading the scope's health network, which for a province or
//! the nation takes longer than an overview may. So the count is kept a few
//! minutes per scope and recomputed in the background: an overview waits a
//! moment for a fresh count and otherwise shows the last one (or none yet).

use crate::access::Scope;
use crate::model::AppResult;
use crate::App;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a count is trusted.
const FRESH_FOR: Duration = Duration::from_secs(300);
/// How long an overview waits for a count being made.
const WAIT_FOR: Duration = Duration::from_millis(150);

#[derive(Default)]
struct Entry {
    /// The last count and when it was made.
    done: Option<(Instant, u64)>,
    /// Whether a count is being made.
    running: bool,
    /// When the last count was started: a count that failed is not tried again
    /// for a while (else every overview would start one and wait for it).
    tried: Option<Instant>,
}

/// The counts by scope prefix.
#[derive(Clone, Default)]
pub struct BlankCounts(Arc<Mutex<HashMap<String, Entry>>>);

impl BlankCounts {
    fn fresh(&self, scope: &str) -> Option<u64> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(scope).and_then(|e| e.done).filter(|(at, _)| at.elapsed() < FRESH_FOR).map(|(_, n)| n)
    }

    fn last(&self, scope: &str) -> Option<u64> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(scope).and_then(|e| e.done).map(|(_, n)| n)
    }

    /// Marks a count as started; `false` when one runs already, or one was
    /// started lately (and failed, since no fresh count is there).
    fn start(&self, scope: &str) -> bool {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let e = map.entry(scope.to_string()).or_default();
        if e.running || e.tried.is_some_and(|t| t.elapsed() < FRESH_FOR && e.done.is_none_or(|(at, _)| at < t)) {
            return false;
        }
        e.running = true;
        e.tried = Some(Instant::now());
        true
    }

    /// Forgets every count: the network changed.
    fn clear(&self) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        for e in map.values_mut() {
            e.done = None;
            e.tried = None;
        }
    }

    fn finish(&self, scope: &str, n: Option<u64>) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let e = map.entry(scope.to_string()).or_default();
        e.running = false;
        if let Some(n) = n {
            e.done = Some((Instant::now(), n));
        }
    }
}

impl App {
    /// The villages of the scope blank now, counted from the store (slow on a
    /// large scope: see [`App::blank_villages`]).
    pub async fn count_blank_villages(&self, s: &Scope, today: chrono::NaiveDate) -> AppResult<u64> {
        let data = self.network(s).await?;
        let net = crate::history::network_on(&data, today)?;
        let spots = coverage::blank_spots(&net, today, &coverage::Settings::default());
        let villages: BTreeSet<_> = spots
            .iter()
            .filter(|b| matches!(b.kind, coverage::BlankKind::VillageNoClinic | coverage::BlankKind::VillageNoDoctor))
            .map(|b| b.region_code)
            .collect();
        Ok(villages.len() as u64)
    }

    /// The network changed (a posting, a qualification recorded): the counts
    /// made before are forgotten, so that the overview agrees with the
    /// coverage page at once. Writes by another process (an import on the
    /// command line) show within the few minutes a count is kept.
    pub(crate) fn network_changed(&self) {
        self.blank_counts().clear();
    }

    /// The villages of the scope blank now, as recently counted: a fresh count if
    /// there is one; else a count is started in the background and waited for a
    /// moment; else the last count, or `None` when there has been none yet.
    pub async fn blank_villages(&self, s: &Scope) -> Option<u64> {
        let key = s.prefix().to_string();
        let counts = self.blank_counts();
        if let Some(n) = counts.fresh(&key) {
            return Some(n);
        }
        if counts.start(&key) {
            let (app, scope, key) = (self.clone(), s.clone(), key.clone());
            let task = tokio::spawn(async move {
                let today = crate::history::today();
                let n = app.count_blank_villages(&scope, today).await;
                if let Err(e) = &n {
                    tracing::warn!(scope = %scope, error = %e, "counting the blank villages");
                }
                app.blank_counts().finish(&key, n.ok());
            });
            let _ = tokio::time::timeout(WAIT_FOR, task).await;
        }
        counts.fresh(&key).or_else(|| counts.last(&key))
    }
}

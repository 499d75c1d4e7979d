//! Plausibility limits on amounts (`domain::limits`): read from the store, kept a
//! short while in memory for the real-time paths, checked wherever an amount
//! enters (a settlement, an import of claims, an assistance measure), and changed
//! by administrators with an audit row.

use crate::model::{AppError, AppResult};
use crate::App;
use domain::{AmountLimit, AmountLimits, Fen, LimitSubject};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// How long a process trusts the limits it read: a change made by another
/// process on the same store applies within this time, one made by this process
/// at once.
const FRESH_FOR: Duration = Duration::from_secs(30);

/// Limits as read at an instant.
type Read = (Instant, Arc<AmountLimits>);

/// The limits last read, and when.
#[derive(Clone, Default)]
pub struct LimitsCache(Arc<RwLock<Option<Read>>>);

impl LimitsCache {
    fn get(&self) -> Option<Arc<AmountLimits>> {
        let g = self.0.read().unwrap_or_else(|e| e.into_inner());
        g.as_ref().filter(|(at, _)| at.elapsed() < FRESH_FOR).map(|(_, l)| l.clone())
    }

    fn put(&self, l: Arc<AmountLimits>) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), l));
    }

    fn forget(&self) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

/// A record that an import checks against the limits (the claims; the other
/// records carry no amount that funds pay).
pub trait Plausible {
    /// The column at fault and why, or `None`.
    fn implausible(&self, _limits: &AmountLimits) -> Option<(&'static str, String)> {
        None
    }
}

impl Plausible for domain::Claim {
    fn implausible(&self, limits: &AmountLimits) -> Option<(&'static str, String)> {
        limits.check_claim(self).map(|why| ("total_cost", why))
    }
}

impl Plausible for domain::Region {}
impl Plausible for domain::Household {}
impl Plausible for domain::Person {}
impl Plausible for domain::Facility {}
impl Plausible for domain::Practitioner {}
impl Plausible for domain::Threshold {}

impl App {
    /// The limits in force (read at most every 30 seconds).
    pub async fn amount_limits(&self) -> AppResult<Arc<AmountLimits>> {
        if let Some(l) = self.limits_cache().get() {
            return Ok(l);
        }
        let l = Arc::new(self.store().amount_limits().await?);
        self.limits_cache().put(l.clone());
        Ok(l)
    }

    /// Sets the limit of a kind and level (`max`), or removes it (`None`), by an
    /// administrator (the caller checks the role), audited.
    pub async fn set_amount_limit(
        &self,
        actor: &str,
        subject: LimitSubject,
        kind: &str,
        level: &str,
        max: Option<Fen>,
    ) -> AppResult<()> {
        // Checked with a stand-in maximum when the limit is removed.
        let l = AmountLimit::new(subject, kind, level, max.unwrap_or(Fen(1)))
            .map_err(|e| AppError::Invalid(e.to_string()))?;
        {
            let _turn = self.writing().await;
            self.store().set_amount_limit(subject, &l.kind, &l.level, max, actor).await?;
        }
        self.limits_cache().forget();
        let detail = match max {
            Some(m) => format!("at most {m} yuan"),
            None => "removed".into(),
        };
        self.audit_event(actor, "set_amount_limit", format!("{subject} {} {}", l.kind, l.level), detail, None).await
    }
}

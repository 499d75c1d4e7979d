//! Monitoring over the store (docs/monitoring.md): a run reads the year's
//! registry, claims, settlements and thresholds inside a scope, runs the monitor
//! engine (the same one as on files), raises or updates the alerts kept (one per
//! rule, household and year; a closed one stays closed) and rewrites the year's
//! patient ledger of the three batches, family-doctor contracts kept.

use chrono::NaiveDate;
use domain::alert::{Alert, AlertState, Assistance, Change, Finding};
use domain::Catalogue;
use monitor::{Batch, MissingThreshold, RuleSet, ThresholdTable};
use std::collections::HashMap;
use store::{
    AlertRules, LedgerCounts, MeasureRefusal, NewMeasure, ReconcileCounts, Scope, Store, StoreError, StoredAlert,
};

/// The alert life cycle of `monitor::lifecycle`, as the store's units of work
/// call it.
pub struct Lifecycle;

impl AlertRules for Lifecycle {
    fn reconcile(&self, kept: &[Alert], findings: &[Finding]) -> Vec<Change> {
        monitor::reconcile(kept, findings)
    }

    fn check_transition(
        &self,
        from: AlertState,
        to: AlertState,
        actor: &str,
        note: &str,
        measures: usize,
    ) -> Result<(), String> {
        monitor::lifecycle::check_transition(from, to, actor, note, measures).map_err(|e| e.to_string())
    }

    fn check_measure(&self, state: AlertState, m: &Assistance) -> Result<(), MeasureRefusal> {
        match monitor::lifecycle::check_measure(state, m) {
            Ok(()) => Ok(()),
            Err(e @ monitor::LifecycleError::Closed { .. }) => Err(MeasureRefusal::Closed(e.to_string())),
            Err(e) => Err(MeasureRefusal::Invalid(e.to_string())),
        }
    }
}

/// Applies a monitor run's findings for `year` inside `scope` to the alerts kept
/// (see `Store::apply_findings`).
pub async fn apply_findings(
    store: &Store,
    scope: &Scope,
    year: i32,
    findings: &[Finding],
    actor: &str,
) -> Result<ReconcileCounts, StoreError> {
    store.apply_findings(&Lifecycle, scope, year, findings, actor).await
}

/// Moves an alert inside the scope to `to`, by the life cycle's rules.
pub async fn transition_alert(
    store: &Store,
    scope: &Scope,
    id: i64,
    to: AlertState,
    actor: &str,
    note: &str,
) -> Result<StoredAlert, StoreError> {
    store.transition_alert(&Lifecycle, scope, id, to, actor, note).await
}

/// Records an assistance measure on an alert inside the scope.
pub async fn add_assistance(
    store: &Store,
    scope: &Scope,
    id: i64,
    m: &NewMeasure,
    actor: &str,
) -> Result<StoredAlert, StoreError> {
    // The amount within the plausibility limit of its kind (docs/settlement.md).
    if let Some(why) = store.amount_limits().await?.check_measure(&m.kind, m.amount) {
        return Err(StoreError::Invalid(why));
    }
    store.add_assistance(&Lifecycle, scope, id, m, actor).await
}

/// What a monitor run over the store did.
#[derive(Debug, Clone)]
pub struct MonitorRun {
    /// Households measured.
    pub households: usize,
    /// Alerts the rules found.
    pub found: usize,
    /// What became of them among the alerts kept.
    pub alerts: ReconcileCounts,
    /// Cases opened for households with an alert and no open case, and the
    /// alerts that joined a case.
    pub cases_opened: usize,
    pub alerts_joined: usize,
    /// Households whose region has no threshold for the year.
    pub missing_thresholds: Vec<MissingThreshold>,
    /// Patient-ledger lines by batch: serious, chronic, severe.
    pub batches: [usize; 3],
    /// What became of the ledger's lines.
    pub ledger: LedgerCounts,
}

/// Why a monitor run failed.
#[derive(Debug, thiserror::Error)]
pub enum MonitorRunError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Engine(String),
}

/// Monitors the store's `year` inside `scope` under `rules`, with the patient
/// ledger as of `as_of`; changes are recorded by `actor`.
pub async fn monitor_store(
    store: &Store,
    scope: &Scope,
    year: i32,
    as_of: NaiveDate,
    rules: &RuleSet,
    actor: &str,
) -> Result<MonitorRun, MonitorRunError> {
    let inputs = store.monitor_inputs(scope, year).await?;
    let result = monitor::monitor_year(
        year,
        &inputs.households,
        &inputs.members,
        &inputs.claims,
        &inputs.settlements,
        &ThresholdTable::new(&inputs.thresholds),
        rules,
        &Catalogue::serious(),
    )
    .map_err(|e| MonitorRunError::Engine(e.to_string()))?;
    let mut run = after_findings(store, scope, year, as_of, &inputs, &result.alerts, actor).await?;
    run.households = result.measures.len();
    run.missing_thresholds = result.missing_thresholds;
    Ok(run)
}

/// What a monitor run does with the engine's findings (here, or computed on a
/// cluster: `crate::cluster`): applies them to the alerts kept, joins the open
/// alerts to their households' cases, and rewrites the year's patient ledger
/// from `inputs`. `households` and `missing_thresholds` are left empty.
pub async fn after_findings(
    store: &Store,
    scope: &Scope,
    year: i32,
    as_of: NaiveDate,
    inputs: &store::MonitorInputs,
    findings: &[Finding],
    actor: &str,
) -> Result<MonitorRun, MonitorRunError> {
    let alerts = apply_findings(store, scope, year, findings, actor).await?;
    // Each open alert joins its household's case; households without one get one.
    let deadlines = store.case_deadlines().await?;
    let due = move |v: domain::RegionCode| crate::work::due_in(&deadlines, v, as_of);
    let (cases_opened, alerts_joined) = store.join_alerts_to_cases(scope, &due, actor).await?;
    let villages: HashMap<String, domain::RegionCode> =
        inputs.households.iter().map(|h| (h.household_id.clone(), h.village_code)).collect();
    let catalogues = regional_catalogues(store).await?;
    let entries = monitor::patient_ledger(
        year,
        as_of,
        &inputs.persons,
        &villages,
        &inputs.claims,
        &inputs.oop_by_claim,
        &catalogues,
        &store.contracts(scope).await?,
        &monitor::LedgerSettings::default(),
    );
    let ledger = store.put_ledger(scope, year, &entries).await?;
    let by = |b: Batch| entries.iter().filter(|e| e.batch == b).count();
    Ok(MonitorRun {
        households: 0,
        found: findings.len(),
        alerts,
        cases_opened,
        alerts_joined,
        missing_thresholds: Vec::new(),
        batches: [by(Batch::Serious), by(Batch::Chronic), by(Batch::Severe)],
        ledger,
    })
}

/// The national catalogues with the regions' own additions kept in the store,
/// each region's list coming before the national one (docs/work.md).
pub async fn regional_catalogues(store: &Store) -> Result<monitor::RegionalCatalogues, StoreError> {
    let mut lists: std::collections::BTreeMap<(String, String), domain::Catalogue> = Default::default();
    for (kind, region, entry) in store.catalogue_entries().await? {
        lists.entry((kind, region)).or_default().entries.push(entry);
    }
    let regional = lists
        .into_iter()
        .map(|((kind, region), catalogue)| monitor::ledger::RegionalCatalogue {
            region,
            batch: if kind == "serious" { Batch::Serious } else { Batch::Chronic },
            mode: monitor::ledger::CatalogueMode::Extend,
            catalogue,
        })
        .collect();
    Ok(monitor::RegionalCatalogues { national: monitor::CatalogueSet::national(), regional })
}

//! Monitoring and early warning of poverty due to illness (docs/monitoring.md).
//!
//! This crate owns:
//! - the household measures of a year and the batch monitor ([`monitor_year`]);
//! - the warning rules as data, in CEL, exact to the fen ([`rules`]), compiled from
//!   their parsed form into a fast path where they keep to the integer and decimal
//!   subset of CEL, else interpreted ([`Path`]);
//! - thresholds by longest region prefix ([`ThresholdTable`]);
//! - the alert life cycle and the reconciliation of a new run with the alerts kept
//!   ([`lifecycle`]);
//! - the patient ledger of the three batches ([`ledger`]).
//!
//! Architecture invariant: no IO, no SQL, no HTTP. Callers read files or the store,
//! hand plain data in, and get plain data back.

mod compile;
pub mod engine;
pub mod error;
pub mod ledger;
pub mod lifecycle;
pub mod rules;
pub mod thresholds;

pub use engine::{
    apply_rules, find_alerts, measure_year, monitor_year, Alerts, Figure, Finding, HouseholdMeasures, Member,
    MissingThreshold, MonitorResult, SettledCost,
};
pub use error::{LifecycleError, MonitorError, RuleError};
pub use ledger::{
    patient_ledger, Batch, CatalogueSet, Contract, LedgerEntry, LedgerSettings, RegionalCatalogues, TreatmentStatus,
};
pub use lifecycle::{apply_changes, reconcile, Alert, AlertKey, AlertState, Assistance, Change, Lifecycle};
pub use rules::{Path, Rule, RuleSet, Who};
pub use thresholds::ThresholdTable;

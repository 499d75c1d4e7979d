//! One module per command; each owns its arguments and its `run`.

pub mod alert;
pub mod coverage;
pub mod demo;
mod demo_work;
pub mod export;
pub mod import;
pub mod ledger;
pub mod migrate;
pub mod monitor;
pub mod network_alerts;
pub mod plan;
pub mod reconcile;
pub mod report;
pub mod serve;
pub mod settle;
pub mod synth;
pub mod whatif;

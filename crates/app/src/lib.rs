//! SafetyNet's application layer: every use case, written once.
//!
//! The web application and the command line are adapters: they translate requests,
//! pages, arguments and files into calls of this crate, and its answers back. The
//! use cases run here, over a [`store::Store`] that only keeps data:
//!
//! - [`App`] ([`service`]): accounts, sessions and the audit log; the registry read
//!   inside a region scope; alerts and their moves; the overview's figures;
//!   real-time settlement (group commit on SQLite) and voids; policies.
//! - [`import`]: a file of one kind into the store, all or nothing, every run
//!   recorded with its report.
//! - [`settlement`]: policies, real-time and batch settlement, voids and
//!   explanations, with the settlement engine run inside the store's units of
//!   work and the one rule of which policy is in force.
//! - [`monitoring`]: a monitor run over the store: alerts raised or updated,
//!   the patient ledger rewritten.
//! - [`kept`]: the programme indicators kept in the store and refreshed from the
//!   stale villages and persons; the report of a scope.
//! - [`analysis`]: the report computed from a scope's data, and the policy
//!   what-if.
//! - [`work`]: the daily work: cases opened, assigned, verified, assisted and
//!   closed by their rules; visits, follow-ups and family-doctor contracts.
//! - [`desk`]: the hospital desk, "treat first, pay later": admissions, the
//!   patient's share taken in instalments, a facility's arrears.
//! - [`items`]: the catalogue of drugs and services by province and year, the
//!   items of claims priced against it, and claims settled from their items.
//! - [`reconcile`]: a facility's daily reconciliation with the funds, and the
//!   statement of each fund for a period.
//! - [`access`]: roles, the region scope and the masking of personal data, and
//!   the password policy.
//! - [`accounts`]: accounts turned off and on, passwords changed and reset, API
//!   tokens with their own role, scope and expiry, listed and revoked.
//! - [`history`]: the network's history (postings, qualifications, facilities'
//!   days) and the network as it stood on any day, handed to the coverage
//!   engine for blank spots, reach and projections at that date.
//! - [`network_alerts`]: the villages and township centres blank today or made
//!   blank within a horizon by a change in the history (a retirement, the end
//!   of a posting, a closure, a lapsed licence), for the township and county.
//! - [`plans`]: roving and dispatch plans kept, versioned and moved from draft
//!   to in force by a county officer; visits recorded against them; the share
//!   of planned visits made by township and county.
//! - [`targets`]: the targets of the indicators (shipped, and changed by
//!   administrators in the store), reports drawn against them and compared
//!   with the year before, the overview's headline.
//!
//! API boundary: [`App`], the records of [`model`], [`access`], and the functions
//! of [`kept`] and [`analysis`] are meant for the adapters; everything else is
//! private to the crate.

pub mod access;
pub mod accounts;
pub mod analysis;
pub mod cluster;
pub mod coverage;
pub mod desk;
pub mod enrolment;
pub mod export;
pub mod history;
pub mod import;
pub mod items;
pub mod kept;
pub mod keys;
pub mod ledger;
pub mod limits;
pub mod model;
pub mod monitoring;
pub mod network_alerts;
pub mod network_cases;
pub mod pairing;
pub mod plans;
pub mod reconcile;
pub mod registry;
pub mod service;
pub mod settlement;
pub mod slip;
pub mod targets;
pub mod work;

pub use access::{Masking, Role, Scope};
pub use accounts::{ApiToken, NewToken};
pub use keys::PersonRefs;
pub use model::*;
pub use service::App;

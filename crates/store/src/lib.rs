//! store: the only crate that speaks SQL.
pub mod accounts;
pub mod alerts;
mod claim_keys;
pub mod cluster;
pub mod db;
pub mod desk;
mod edits;
pub mod engine;
pub mod enrol;
pub mod error;
mod figures;
mod fresh;
pub mod history;
pub mod indicator_facts;
pub mod items;
mod keys;
pub mod ledger;
mod limits;
mod moves;
pub mod network_cases;
mod packed_lines;
pub mod pairing;
pub mod plans;
mod raw;
mod realtime;
pub mod registry;
pub mod report_inputs;
mod roles;
pub mod schema;
pub mod settlements;
mod targets;
#[doc(hidden)]
pub mod vals;
pub mod views;
pub mod work;

pub use accounts::{ApiTokenRow, AuditRow, ImportRunRow, ImportStatus, NewApiToken, NewUser, SessionRow, UserRow};
pub use alerts::{AlertEvent, AlertQuery, MonitorInputs, NewMeasure, ReconcileCounts, StoredAlert, StoredMeasure};
pub use cluster::{
    LoadAccumulator, LoadProblem, LoadRow, LoadSettlement, LoadedSettlements, YearAccumulator, YearSettlement,
};
pub use db::{Backend, Page, Scope, Store};
pub use desk::{
    FacilitySettlement, NewAdmission, NewAdmissionPayment, SettlementAdjustment, StoredAdmission,
    StoredAdmissionPayment,
};
pub use engine::{AlertRules, MeasureRefusal, SettlementEngine, SettlementRules};
pub use enrol::StoredEnrolment;
pub use error::StoreError;
pub use figures::VILLAGES_A_TURN;
pub use history::{HistoryWrites, NetworkHistory, StoredPosting, StoredQualification};
pub use indicator_facts::{
    FactsWrite, HouseholdSpending, IndicatorYear, KeptFacts, Merge, PersonClaimInputs, PersonFacts, PersonsWrite,
    VillageFacts, YearFacts,
};
pub use items::{BillLines, ClaimForItems, ItemisedBill};
pub use ledger::{LedgerCounts, LedgerQuery, StoredLedgerEntry};
pub use network_cases::{
    FoundNetworkAlert, NetworkCaseQuery, NetworkCaseRules, NetworkRaise, StoredNetworkAlert, StoredNetworkCase,
};
pub use pairing::{CountedFacility, PairingFacts, PairingWrites, StoredLink, StoredPairing, StoredStaff};
pub use plans::{LineProgress, NewPlan, PlanVisitWrites, StoredPlan, StoredPlanLine, StoredPlanTour, StoredPlanVisit};
pub use registry::{ImportCounts, ImportFeed, StoredRecord};
pub use report_inputs::{AlertDates, CaseDates, ReportInputs};
pub use schema::SCHEMA_VERSION;
pub use settlements::{BatchCounts, ClaimChange, PolicyRecord, RealtimeSettlement, StoredSettlement, VoidOutcome};
pub use targets::{NewTarget, TargetRecord};
pub use views::{
    ClaimView, HouseholdRecord, MonthFigures, Network, Overview, PersonRecord, PersonView, RegionFigures, StatusChange,
    Summary,
};
pub use work::{CaseEvent, CaseQuery, CaseRules, NewCase, StoredCase, StoredCaseMeasure, StoredContract, StoredVisit};

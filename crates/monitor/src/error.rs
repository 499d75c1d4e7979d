//! The errors of monitoring: bad input data, bad rules, refused alert changes.
//! Each message names the thing at fault (household, person, rule, alert) and why.

use domain::ResidentId;
use thiserror::Error;

/// Input that cannot be monitored, or a rule that failed on a household.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MonitorError {
    #[error("household {household_id} has size 0; per-capita measures need at least one member")]
    HouseholdSizeZero { household_id: String },
    #[error("household {household_id} is listed twice")]
    DuplicateHousehold { household_id: String },
    #[error("person {person_id} belongs to household {household_id}, which is not in the households")]
    UnknownHousehold { person_id: ResidentId, household_id: String },
    #[error("person {person_id} is listed twice")]
    DuplicatePerson { person_id: ResidentId },
    #[error("a settlement of year {year} is for person {person_id}, who is not in the persons")]
    SettlementForUnknownPerson { person_id: ResidentId, year: i32 },
    #[error("claim {claim_id} is for person {person_id}, who is not in the persons")]
    ClaimForUnknownPerson { person_id: ResidentId, claim_id: String },
    #[error("rule {rule} on household {household_id}: {message}")]
    Evaluation { rule: String, household_id: String, message: String },
}

/// A rules file or rule that is refused when it is loaded, before any household is
/// measured.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RuleError {
    #[error("rules file: {0}")]
    File(String),
    #[error("rule {rule}, {field}, line {line} column {column}: {message}\n  | {source_line}\n  | {caret}")]
    Syntax {
        rule: String,
        field: &'static str,
        line: usize,
        column: usize,
        message: String,
        source_line: String,
        caret: String,
    },
    #[error("rule {rule}, {field}, line {line} column {column}: unknown measure `{name}`; the measures are: {known}")]
    UnknownMeasure { rule: String, field: &'static str, name: String, line: usize, column: usize, known: String },
    #[error("rule {rule}, {field}, line {line} column {column}: the decimal {literal} would be compared inexactly; measures are integers in fen, so write the factor as `factor` (in ten-thousandths) or multiply through, e.g. `oop * 10 > rural_income * 5`")]
    InexactLiteral { rule: String, field: &'static str, literal: String, line: usize, column: usize },
    #[error("rule {rule}: {message}")]
    Invalid { rule: String, message: String },
}

/// A change to an alert that its life cycle does not allow.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LifecycleError {
    #[error("an alert cannot move from {from} to {to}; allowed from {from}: {allowed}")]
    IllegalTransition { from: &'static str, to: &'static str, allowed: String },
    #[error("the alert is {state} and stays closed for its year")]
    Closed { state: &'static str },
    #[error("an alert can be resolved only after at least one assistance measure is recorded")]
    NoMeasure,
    #[error("dismissing an alert needs a reason in the note")]
    NoReason,
    #[error("every change names who made it; `by` is empty")]
    NoActor,
    #[error("an assistance measure needs {0}")]
    BadMeasure(&'static str),
}

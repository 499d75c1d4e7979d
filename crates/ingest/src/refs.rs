//! The references a record makes to other records (a household to its village, a
//! person to its household, ...), and the check that each one exists.
//!
//! The check itself knows nothing of the store: the caller gathers the keys a file
//! refers to ([`referenced_keys`]), asks the store which exist, and hands the answer
//! to [`check_references`] as a plain lookup. Every row whose reference is unknown
//! becomes a [`RowError`] on the referring column.

use crate::error::RowError;
use crate::read::Row;
use domain::{Claim, Facility, Household, Person, Practitioner, Record, Region, Threshold};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// What a reference points to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RefTarget {
    /// A region of the store, of any level (key: its 12-digit code).
    Region,
    /// A region of the store of level village (key: its 12-digit code).
    Village,
    Household,
    /// Key: the 18-character resident ID.
    Person,
    Facility,
}

impl fmt::Display for RefTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RefTarget::Region => "region",
            RefTarget::Village => "village",
            RefTarget::Household => "household",
            RefTarget::Person => "person",
            RefTarget::Facility => "facility",
        })
    }
}

/// One reference of a record: which column holds it, what it points to, the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub column: &'static str,
    pub target: RefTarget,
    pub key: String,
}

/// A record that refers to others.
pub trait References: Record {
    /// The references this record makes (none for regions and thresholds).
    fn references(&self) -> Vec<Reference>;
}

fn one(column: &'static str, target: RefTarget, key: String) -> Vec<Reference> {
    vec![Reference { column, target, key }]
}

impl References for Region {
    fn references(&self) -> Vec<Reference> {
        Vec::new()
    }
}

impl References for Threshold {
    fn references(&self) -> Vec<Reference> {
        Vec::new()
    }
}

impl References for Household {
    fn references(&self) -> Vec<Reference> {
        one("village_code", RefTarget::Village, self.village_code.to_string())
    }
}

impl References for Person {
    fn references(&self) -> Vec<Reference> {
        one("household_id", RefTarget::Household, self.household_id.clone())
    }
}

impl References for Facility {
    fn references(&self) -> Vec<Reference> {
        one("region_code", RefTarget::Region, self.region_code.to_string())
    }
}

impl References for Practitioner {
    fn references(&self) -> Vec<Reference> {
        one("facility_id", RefTarget::Facility, self.facility_id.clone())
    }
}

impl References for Claim {
    fn references(&self) -> Vec<Reference> {
        // A claim's facility_id is optional and may name a hospital outside the
        // registry (a provincial hospital); only the patient must be known.
        one("person_id", RefTarget::Person, self.person_id.to_string())
    }
}

/// Every key the rows refer to, by target, each once.
pub fn referenced_keys<R: References>(rows: &[Row<R>]) -> BTreeMap<RefTarget, BTreeSet<String>> {
    let mut out: BTreeMap<RefTarget, BTreeSet<String>> = BTreeMap::new();
    for r in rows {
        for reference in r.record.references() {
            out.entry(reference.target).or_default().insert(reference.key);
        }
    }
    out
}

/// The rows whose references `known(target, key)` does not find, as row errors in
/// file order.
pub fn check_references<R: References>(
    file: &str,
    rows: &[Row<R>],
    known: &dyn Fn(RefTarget, &str) -> bool,
) -> Vec<RowError> {
    let mut errors = Vec::new();
    for r in rows {
        for reference in r.record.references() {
            if !known(reference.target, &reference.key) {
                let (what, kind) = match reference.target {
                    RefTarget::Region => ("region", "regions"),
                    RefTarget::Village => ("village", "regions"),
                    RefTarget::Household => ("household", "households"),
                    RefTarget::Person => ("person", "persons"),
                    RefTarget::Facility => ("facility", "facilities"),
                };
                let reason = format!("the {what} {} is not in the store; import the {kind} first", reference.key);
                errors.push(RowError {
                    file: file.to_string(),
                    line: r.line,
                    column: reference.column.to_string(),
                    reason,
                });
            }
        }
    }
    errors
}

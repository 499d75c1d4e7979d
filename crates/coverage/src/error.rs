//! The errors of coverage analysis: inconsistent registries, bad settings, an
//! unreadable road file. Each names the offending records so an officer can fix
//! them at the source.

use thiserror::Error;

/// Shows at most this many offending ids in a message, then a count of the rest.
const SHOWN: usize = 20;

fn list(ids: &[String]) -> String {
    let mut s = ids.iter().take(SHOWN).cloned().collect::<Vec<_>>().join(", ");
    if ids.len() > SHOWN {
        s.push_str(&format!(" and {} more", ids.len() - SHOWN));
    }
    s
}

#[derive(Debug, Error)]
pub enum CoverageError {
    /// Facilities whose `region_code` is not in the region table, as
    /// `facility_id (region_code)`.
    #[error("{} facilit{} stand in regions missing from the region table: {}", .0.len(), if .0.len() == 1 { "y" } else { "ies" }, list(.0))]
    UnknownRegions(Vec<String>),
    /// Practitioners whose `facility_id` is not in the facility table, as
    /// `practitioner_id (facility_id)`.
    #[error("{} practitioner{} work at facilities missing from the facility table: {}", .0.len(), if .0.len() == 1 { "" } else { "s" }, list(.0))]
    UnknownFacilities(Vec<String>),
    /// Two records of one table share a key.
    #[error("duplicate {what}: {}", list(.ids))]
    Duplicate { what: &'static str, ids: Vec<String> },
    /// A setting out of its range.
    #[error("setting {name} = {value} is out of range: {why}")]
    Setting { name: &'static str, value: String, why: String },
    /// A road file that could not be read or held no road.
    #[error("road network {path}: {reason}")]
    Roads { path: String, reason: String },
}

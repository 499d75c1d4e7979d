//! The national division table (`data/divisions/`: provinces, cities, areas,
//! streets) as regions to import. The parsing and checking of the four files is
//! `domain::divisions`; this only reads them from a directory and says the error in
//! the importer's terms.

use crate::error::{IngestError, RowError};
use domain::divisions::Divisions;
use domain::Region;
use std::path::Path;

/// Whether a directory holds the division table (all four files).
pub fn is_division_dir(dir: &Path) -> bool {
    dir.is_dir() && domain::divisions::FILES.iter().all(|f| dir.join(f).is_file())
}

/// Reads every province, city, county and township of the table, sorted by code.
pub fn read_divisions(dir: &Path) -> Result<Vec<Region>, IngestError> {
    if !is_division_dir(dir) {
        return Err(IngestError::Format {
            file: dir.display().to_string(),
            reason: format!("is not a division table directory (it needs {})", domain::divisions::FILES.join(", ")),
        });
    }
    Divisions::read_dir(dir).map(Divisions::into_regions).map_err(|e| {
        let file = dir.join(e.file).display().to_string();
        IngestError::Rows {
            file: file.clone(),
            errors: vec![RowError {
                file,
                line: e.line as u64,
                column: e.column.unwrap_or_else(|| crate::error::WHOLE_ROW.to_string()),
                reason: e.reason,
            }],
        }
    })
}

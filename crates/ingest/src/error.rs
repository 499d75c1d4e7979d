//! What can go wrong reading or writing a registry file, said so that an officer can
//! find the cell and fix it: the file, the line (as a text editor or Excel numbers
//! it), the column, and why.

use std::fmt;
use std::path::PathBuf;
use thiserror::Error;

/// One bad row (or cell) of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// The file's name as the user gave it.
    pub file: String,
    /// The physical line in a CSV file (the header is line 1; a record whose quoted
    /// field spans lines is reported at its first line), or the sheet row in XLSX.
    pub line: u64,
    /// The column at fault, by its record name; `"(row)"` when the row as a whole is
    /// wrong (wrong number of fields, bad encoding).
    pub column: String,
    pub reason: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}: {}", self.file, self.line, self.column, self.reason)
    }
}

/// The column name used when a whole row, not one of its cells, is at fault.
pub const WHOLE_ROW: &str = "(row)";

/// Why a file was refused or could not be written.
#[derive(Debug, Error)]
pub enum IngestError {
    /// The file could not be opened, read or written.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not of a form we read: unknown extension, not a workbook, no
    /// sheet, not CSV at all.
    #[error("{file}: {reason}")]
    Format { file: String, reason: String },
    /// The header lacks required columns (each is named) or is missing.
    #[error("{file}:1: {reason}")]
    Header { file: String, reason: String },
    /// Rows failed validation: every one is listed, in file order.
    #[error("{file}: {} bad row{} (first: {})", errors.len(), if errors.len() == 1 { "" } else { "s" }, errors.first().map(|e| e.to_string()).unwrap_or_default())]
    Rows { file: String, errors: Vec<RowError> },
    /// Writing a workbook failed.
    #[error("{file}: cannot write the workbook: {reason}")]
    Write { file: String, reason: String },
}

impl IngestError {
    /// The row errors, if this is a row-level refusal.
    pub fn row_errors(&self) -> &[RowError] {
        match self {
            IngestError::Rows { errors, .. } => errors,
            _ => &[],
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> IngestError {
        IngestError::Io { path: path.into(), source }
    }
}

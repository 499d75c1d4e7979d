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

impl RowError {
    /// The error as the file commands (`settle`, `monitor`, `coverage`, `plan`,
    /// `report`) print it: `FILE:LINE: column COLUMN: reason`, or `FILE:LINE: reason`
    /// when the whole row is at fault. (`import` prints [`RowError`]'s own form.)
    pub fn labelled(&self) -> Labelled<'_> {
        Labelled(self)
    }
}

/// See [`RowError::labelled`].
pub struct Labelled<'a>(&'a RowError);

impl fmt::Display for Labelled<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = self.0;
        if e.column == WHOLE_ROW {
            write!(f, "{}:{}: {}", e.file, e.line, e.reason)
        } else {
            write!(f, "{}:{}: column {}: {}", e.file, e.line, e.column, e.reason)
        }
    }
}

/// The column name used when a whole row, not one of its cells, is at fault.
pub const WHOLE_ROW: &str = "(row)";

/// Why a file was refused or could not be written. Each message is whole by
/// itself (an underlying error is part of it, not a separate source), so that it
/// reads the same printed alone or under a chain of contexts.
#[derive(Debug, Error)]
pub enum IngestError {
    /// The file could not be opened, read or written.
    ///
    /// The IO error is part of the message rather than a separate source, so that
    /// the message alone says everything and a chain of contexts says it once.
    #[error("{}: {error}", path.display())]
    Io { path: PathBuf, error: std::io::Error },
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
    /// An output file could not be created, written, synced or moved into place
    /// (the path is the temporary file's, or the target's for the move).
    #[error("{}: {error}", path.display())]
    Output { path: PathBuf, error: std::io::Error },
    /// The file could not be opened (it is missing, or not readable).
    #[error("cannot open {}: {error}", path.display())]
    Open { path: PathBuf, error: std::io::Error },
    /// The CSV reader failed part way (an IO error under it).
    #[error("cannot read {file}: {error}")]
    Csv { file: String, error: csv::Error },
    /// A policy file could not be read.
    #[error("cannot read the policy file {}: {error}", path.display())]
    PolicyFile { path: PathBuf, error: std::io::Error },
    /// A policy file (docs/settlement.md, "Policy file") is not valid; the error
    /// names the tier and the key.
    #[error("the policy file {file} is refused: {error}")]
    Policy { file: String, error: settle::PolicyError },
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
        IngestError::Io { path: path.into(), error: source }
    }

    pub(crate) fn output(path: impl Into<PathBuf>, error: std::io::Error) -> IngestError {
        IngestError::Output { path: path.into(), error }
    }

    pub(crate) fn open(path: impl Into<PathBuf>, source: std::io::Error) -> IngestError {
        IngestError::Open { path: path.into(), error: source }
    }
}

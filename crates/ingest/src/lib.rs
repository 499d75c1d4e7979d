//! Reading and writing the registry's files.
//!
//! This crate owns the file side of the registry: CSV in UTF-8 (with or without a
//! byte-order mark) or GB18030, and Excel workbooks; mapping a header onto a
//! record's columns; validating every row through `domain` and reporting every bad
//! row with its file, line, column and reason; finding keys repeated inside a file;
//! checking references given a lookup; and writing records back as CSV or XLSX.
//!
//! It knows nothing of SQL or of the store: the command line reads a file here,
//! asks the store which referenced keys exist, and hands the records to the store in
//! one transaction. A file is either read whole or refused whole.
//!
//! ```no_run
//! use domain::Person;
//! let rows = ingest::read_file::<Person>("persons.csv".as_ref(), &mut |_, _| {})?;
//! for r in &rows {
//!     println!("line {}: {}", r.line, r.record.name);
//! }
//! # Ok::<(), ingest::IngestError>(())
//! ```
//!
//! Besides the registry's record files, it owns the files of the file-mode
//! commands, so that the command line parses no file format itself:
//! [`settlement_files`] (`settle`), [`monitor_files`] (`monitor`), [`report_files`]
//! (`report`), [`thresholds`] (every command), the fast record reader [`records`]
//! (`monitor`, `coverage`, `plan`), and [`atomic`], the one way an output file is
//! written (whole, or not at all).
//!
//! Features: `monitor` (the default) adds [`monitor_files`], `indicators` (the
//! default) adds [`report_files`]; without them the crate needs neither engine
//! (the settlement tests read their cases through [`settlement_files`] so).

pub mod atomic;
pub mod cells;
pub mod divisions;
pub mod encoding;
pub mod error;
pub mod item_files;
#[cfg(feature = "monitor")]
pub mod monitor_files;
pub mod parquet;
pub mod read;
pub mod records;
pub mod refs;
#[cfg(feature = "indicators")]
pub mod report_files;
pub mod settlement_files;
pub mod tables;
pub mod thresholds;
pub mod write;
mod xlsx;

pub use atomic::{replace_atomically, write_atomically};
pub use divisions::{is_division_dir, read_divisions};
pub use encoding::Encoding;
pub use error::{IngestError, RowError};
pub use item_files::read_claim_items;
pub use read::{read_all, read_csv, read_csv_path, read_file, read_file_streaming, Feed, Format, Row};
pub use records::{read_records, read_records_where, ALL_ERRORS};
pub use refs::{check_references, referenced_keys, RefTarget, Reference, References};
pub use thresholds::{parse_thresholds_toml, read_thresholds, read_thresholds_toml};
pub use write::{write_csv_rows, write_file, RecordWriter};
pub use xlsx::read_xlsx;

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

pub mod cells;
pub mod divisions;
pub mod encoding;
pub mod error;
pub mod read;
pub mod refs;
pub mod thresholds;
pub mod write;
mod xlsx;

pub use divisions::{is_division_dir, read_divisions};
pub use encoding::Encoding;
pub use error::{IngestError, RowError};
pub use read::{read_csv, read_csv_path, read_file, read_file_streaming, Feed, Format, Row};
pub use refs::{check_references, referenced_keys, RefTarget, Reference, References};
pub use thresholds::{parse_thresholds_toml, read_thresholds_toml};
pub use write::{write_file, RecordWriter};
pub use xlsx::read_xlsx;

//! Typed errors of the module, and the Python exceptions they become:
//! `InputError` (a `ValueError`) for data that cannot be read or is refused,
//! naming the table, the row and the column; `EngineError` (a `RuntimeError`)
//! for what an engine refuses as a whole (a household twice, a rule that fails).

use pyo3::PyErr;

pub type Result<T> = std::result::Result<T, EngineError>;

pyo3::create_exception!(
    safetynet_engines,
    InputError,
    pyo3::exceptions::PyValueError,
    "Input data refused: the message names the table, the row (1-based) and the column."
);
pyo3::create_exception!(
    safetynet_engines,
    EngineFailure,
    pyo3::exceptions::PyRuntimeError,
    "An engine refused its input as a whole (for example a household listed twice)."
);

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{table}: no column {column:?}")]
    MissingColumn { table: &'static str, column: String },
    #[error("{table}: column {column}: expected {expected}, found {got}")]
    ColumnType { table: &'static str, column: String, expected: String, got: String },
    #[error("{table}: row {row}: column {column}: {reason}")]
    Row { table: &'static str, row: usize, column: String, reason: String },
    #[error("{0}")]
    Input(String),
    #[error("{0}")]
    Engine(String),
}

impl From<EngineError> for PyErr {
    fn from(e: EngineError) -> PyErr {
        match e {
            EngineError::Engine(_) => EngineFailure::new_err(e.to_string()),
            _ => InputError::new_err(e.to_string()),
        }
    }
}

//! The one error type of the domain: a value that is not what it claims to be.

use thiserror::Error;

/// Why a value was refused. The message is written for the officer who typed it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct DomainError(pub String);

impl DomainError {
    pub fn new(msg: impl Into<String>) -> Self {
        DomainError(msg.into())
    }
}

/// Shorthand for building an `Err(DomainError)` with a formatted message.
#[macro_export]
macro_rules! bail {
    ($($arg:tt)*) => {
        return Err($crate::DomainError::new(format!($($arg)*)))
    };
}

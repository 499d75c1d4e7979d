//! coverage (to be built).

//! web (to be built).

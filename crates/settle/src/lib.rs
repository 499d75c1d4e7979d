//! settle (to be built).

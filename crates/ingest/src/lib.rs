//! ingest (to be built).

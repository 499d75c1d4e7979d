//! monitor (to be built).

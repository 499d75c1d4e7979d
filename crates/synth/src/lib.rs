//! synth (to be built).

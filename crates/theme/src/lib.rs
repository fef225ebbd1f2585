//! Passgate theme crate (being built).

//! Passgate routing crate (being built).

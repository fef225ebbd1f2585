//! Passgate store crate (being built).

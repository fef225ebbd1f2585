//! Passgate idp crate (being built).

//! Passgate idp-sim crate (being built).

//! Passgate database migrations (being built).

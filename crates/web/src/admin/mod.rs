//! The admin API under `/admin/v1` (being built).

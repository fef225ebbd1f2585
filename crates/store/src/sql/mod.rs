//! The repository traits implemented for [`crate::Store`] with sea-orm, one module per area,
//! plus the row ↔ domain conversions they share.

mod admin;
mod binding;
mod console;
mod grants;
mod import;
mod janrain;
mod limits;
mod onboard;
mod queue;
mod registry;
mod tenant_row;
mod tokens;

use chrono::SubsecRound;
use passgate_tenant::{ClientId, TenantId};

use crate::error::{StoreError, StoreResult};
use crate::model::Timestamp;

/// Parses a stored tenant id.
fn tenant_id(table: &'static str, raw: &str) -> StoreResult<TenantId> {
    TenantId::parse(raw).map_err(|e| StoreError::corrupt(table, format!("tenant id: {e}")))
}

/// Parses a stored client id.
fn client_id(table: &'static str, raw: &str) -> StoreResult<ClientId> {
    ClientId::parse(raw).map_err(|e| StoreError::corrupt(table, format!("client id: {e}")))
}

/// Times are kept to the microsecond, PostgreSQL's precision, so what is read back equals
/// what was written on both backends.
fn at(time: Timestamp) -> Timestamp {
    time.trunc_subsecs(6)
}

/// Counters are `i32`/`i64` in SQL and `u32`/`u64` in the domain; negatives cannot occur.
fn count_u32(value: i32) -> u32 {
    u32::try_from(value).unwrap_or(0)
}

/// Limits and versions fit `i32` comfortably; saturate rather than wrap.
fn to_i32(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

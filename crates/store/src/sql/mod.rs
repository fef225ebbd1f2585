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

/// Most bytes of values one multi-row statement should carry. A larger statement leaves in
/// several TLS records, one write each, and on a connection without `TCP_NODELAY` (sqlx sets
/// none) every write after the first waits for the server's delayed ACK: measured as 50–100
/// ms per group commit against PostgreSQL over TLS on loopback, against 2–8 ms when each
/// statement fits one record. It also keeps statements far below both back ends' limits on
/// bound values (SQLite 32,766, PostgreSQL 65,535).
const STATEMENT_BYTES: usize = 12 * 1024;

/// Bytes a row adds to a statement besides its variable-length values (ids, times, counts,
/// the protocol's per-value lengths).
const ROW_OVERHEAD: usize = 96;

/// `rows` in runs of one statement each: consecutive, in order, each under
/// [`STATEMENT_BYTES`] by `size` (the bytes of a row's variable-length values), and never
/// empty (a row larger than the budget is a run of its own).
fn statement_runs<T>(rows: Vec<T>, size: impl Fn(&T) -> usize) -> Vec<Vec<T>> {
    let mut runs = Vec::new();
    let mut run = Vec::new();
    let mut bytes = 0;
    for row in rows {
        let row_bytes = size(&row) + ROW_OVERHEAD;
        if !run.is_empty() && bytes + row_bytes > STATEMENT_BYTES {
            runs.push(std::mem::take(&mut run));
            bytes = 0;
        }
        bytes += row_bytes;
        run.push(row);
    }
    if !run.is_empty() {
        runs.push(run);
    }
    runs
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_runs_keep_order_and_the_budget_and_are_never_empty() {
        let rows: Vec<usize> = (0..500).map(|i| (i * 37) % 900).collect();
        let runs = statement_runs(rows.clone(), |&n| n);
        assert!(
            runs.len() > 1,
            "500 rows of up to 1 KB take several statements"
        );
        assert_eq!(runs.concat(), rows, "every row once, in order");
        for run in &runs {
            assert!(!run.is_empty());
            let bytes: usize = run.iter().map(|n| n + ROW_OVERHEAD).sum();
            assert!(run.len() == 1 || bytes <= STATEMENT_BYTES, "{bytes}");
        }
        let huge = statement_runs(vec![STATEMENT_BYTES * 3, 1], |&n| n);
        assert_eq!(huge, vec![vec![STATEMENT_BYTES * 3], vec![1]]);
        assert!(statement_runs(Vec::<usize>::new(), |&n| n).is_empty());
    }
}

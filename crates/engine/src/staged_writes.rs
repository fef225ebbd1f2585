//! The rows a running job writes, gathered rather than written: the worker commits them with
//! the job's "done" mark in one transaction, so a job tried again has written nothing and a
//! done job has written everything.

use std::sync::{Mutex, MutexGuard};

use passgate_store::{JobWrites, NewAuditEvent, NewMail, NewResetToken, Supersession};
use passgate_tenant::{ClientId, TenantId};

/// One job's staged writes, in the order the store applies them (supersessions, tokens,
/// mails, audit events).
#[derive(Debug, Default)]
pub(crate) struct StagedWrites(Mutex<JobWrites>);

impl StagedWrites {
    fn writes(&self) -> MutexGuard<'_, JobWrites> {
        // Plain pushes cannot leave the lists half-changed.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Invalidates `user`'s earlier unused rows for `client` (before this job's new rows).
    pub(crate) fn supersede(&self, tenant: &TenantId, client: &ClientId, user: &str) {
        self.writes().supersede.push(Supersession {
            tenant_id: tenant.clone(),
            client_id: client.clone(),
            user_id: user.to_owned(),
        });
    }

    /// Stores a new token, flow or code row.
    pub(crate) fn token(&self, row: NewResetToken) {
        self.writes().tokens.push(row);
    }

    /// Queues a sealed mail.
    pub(crate) fn mail(&self, mail: NewMail) {
        self.writes().mails.push(mail);
    }

    /// Appends an audit event.
    pub(crate) fn audit(&self, event: NewAuditEvent) {
        self.writes().audit.push(event);
    }

    /// Everything staged, to commit.
    pub(crate) fn into_writes(self) -> JobWrites {
        self.0
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

//! Password history: argon2id hashes of the last N passwords set through Passgate, so a user
//! cannot "reset" to a recent password (the tenant's `history_depth`). Hashing costs ~13 ms of
//! CPU, so it runs on tokio's blocking pool behind a semaphore: page serving never stalls, and
//! a burst of resets queues instead of taking every core.

use std::sync::Arc;

use argon2::{Argon2, PasswordHasher, PasswordVerifier, password_hash::phc::PasswordHash};
use passgate_store::{HistoryRepo, Store};
use passgate_tenant::TenantId;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

use crate::{clock::Clock, error::EngineError};

/// The stored history of each user, with bounded argon2id hashing.
#[derive(Debug, Clone)]
pub(crate) struct PasswordHistory {
    hashing: Hashing,
    store: Store,
    clock: Arc<dyn Clock>,
}

impl PasswordHistory {
    /// At most `concurrency` hashes at once, remembered in `store`.
    pub(crate) fn new(concurrency: usize, store: Store, clock: Arc<dyn Clock>) -> Self {
        Self {
            hashing: Hashing::new(concurrency),
            store,
            clock,
        }
    }

    /// Whether `password` is one of the `depth` last passwords of `user` (`depth` 0: never).
    pub(crate) async fn reused(
        &self,
        tenant: &TenantId,
        user: &str,
        depth: u8,
        password: &SecretString,
    ) -> Result<bool, EngineError> {
        if depth == 0 {
            return Ok(false);
        }
        let recent = self
            .store
            .recent_hashes(tenant, user, u32::from(depth))
            .await?
            .into_iter()
            .map(|e| e.hash)
            .collect();
        self.hashing.matches_any(password, recent).await
    }

    /// Remembers `password` as `user`'s newest, keeping `depth` (a failure is logged: the
    /// password did change).
    pub(crate) async fn remember(
        &self,
        tenant: &TenantId,
        user: &str,
        depth: u8,
        password: &SecretString,
    ) {
        if depth == 0 {
            return;
        }
        match self.hashing.hash(password).await {
            Ok(hash) => {
                if let Err(err) = self
                    .store
                    .record_password(tenant, user, &hash, u32::from(depth), self.clock.now())
                    .await
                {
                    tracing::warn!(error = %err, "password history not recorded");
                }
            }
            Err(err) => tracing::warn!(error = %err, "password history not hashed"),
        }
    }
}

/// argon2id on the blocking pool behind a semaphore.
#[derive(Debug, Clone)]
struct Hashing {
    /// Bounds concurrent hashes, so a burst of resets queues instead of taking every core.
    permits: Arc<Semaphore>,
}

impl Hashing {
    fn new(concurrency: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
        }
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, EngineError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| EngineError::Task(e.to_string()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| EngineError::Task(e.to_string()))
    }

    /// A PHC string (`$argon2id$…`) for `password`, with a fresh salt.
    async fn hash(&self, password: &SecretString) -> Result<String, EngineError> {
        let password = password.clone();
        self.blocking(move || {
            Argon2::default()
                .hash_password(password.expose_secret().as_bytes())
                .map(|hash| hash.to_string())
                .map_err(|e| EngineError::Task(format!("argon2: {e}")))
        })
        .await?
    }

    /// Whether `password` matches any of `hashes` (unparsable entries never match).
    async fn matches_any(
        &self,
        password: &SecretString,
        hashes: Vec<String>,
    ) -> Result<bool, EngineError> {
        if hashes.is_empty() {
            return Ok(false);
        }
        let password = password.clone();
        self.blocking(move || {
            hashes.iter().any(|stored| {
                PasswordHash::new(stored).is_ok_and(|parsed| {
                    Argon2::default()
                        .verify_password(password.expose_secret().as_bytes(), &parsed)
                        .is_ok()
                })
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hashed_password_is_recognised_and_others_are_not() {
        let history = Hashing::new(1);
        let old = SecretString::from("correct horse battery staple");
        let hash = history.hash(&old).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(!hash.contains("correct horse"));
        assert!(history.matches_any(&old, vec![hash.clone()]).await.unwrap());
        let new = SecretString::from("an entirely different phrase");
        assert!(
            !history
                .matches_any(&new, vec![hash, "garbage".into()])
                .await
                .unwrap()
        );
    }
}

//! A tenant on the move from one provider to another (Janrain → Auth0): for months some
//! accounts live only in the *source*, some in both, some only in the *target*.
//! [`MovingProvider`] is one [`IdentityProvider`] over the two, so the hosted reset flow works
//! for every user whatever the placement.
//!
//! - A look-up always asks **both** (at once), so neither the answer nor its timing says where
//!   an account lives, or whether it exists. The user is reset where it lives: in the target
//!   when it is there (and, with [`MigrationPolicy::reset_source_too`], in the source as well,
//!   so either login path takes the new password), else in the source.
//! - With [`MigrationPolicy::migrate_on_reset`], a user found only in the source is created in
//!   the target with the new password and its profile (email, verified flag, name); the source
//!   account is left untouched. A create that meets "already exists" (a retry after a crash
//!   between the create and its acknowledgement) sets the password of the account that exists:
//!   never a second account.
//! - An outage holds only the resets that need the provider that is down: a user found in the
//!   target needs the source only with `reset_source_too`.
//!
//! The user id handed to the engine names the placement (`target:…`, `source:…`,
//! `both:<target id> <source id>`), so the password change goes where the look-up found the
//! account even on another replica.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use secrecy::SecretString;

use crate::{Capabilities, IdentityProvider, IdpError, ProviderKind, ProviderUser};

/// How a moving tenant treats its users.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MigrationPolicy {
    /// An account in both providers gets the new password in the source too.
    pub reset_source_too: bool,
    /// An account only in the source is created in the target with the new password.
    pub migrate_on_reset: bool,
}

/// A user to create in the target (migrate on reset).
#[derive(Debug)]
pub struct NewUser {
    /// The address, as the source stores it.
    pub email: String,
    /// Whether the source considers it verified (carried over, never raised).
    pub email_verified: bool,
    /// The display name, when the source has one.
    pub name: Option<String>,
    /// The password the user just chose.
    pub password: SecretString,
}

/// What a create in the target came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    /// A new account.
    New(ProviderUser),
    /// The provider already has an account with this email (Auth0 409): nothing was created.
    AlreadyExists,
}

/// Resets served so far, by where the account lived (read by metrics and the admin stats).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MoveStats {
    /// Passwords set in the target.
    pub served_by_target: u64,
    /// Passwords set in the source (source-only accounts, or both with `reset_source_too`).
    pub served_by_source: u64,
    /// Accounts created in the target on reset.
    pub migrated: u64,
}

/// Where the look-up found an account; encoded in the user id the engine keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Placement {
    Target(String),
    Source(String),
    Both { target: String, source: String },
}

impl Placement {
    fn encode(&self) -> String {
        match self {
            Self::Target(id) => format!("target:{id}"),
            Self::Source(id) => format!("source:{id}"),
            Self::Both { target, source } => format!("both:{target} {source}"),
        }
    }

    /// `None` for an id this provider did not hand out (or one with a space in a part).
    fn decode(user_id: &str) -> Option<Self> {
        let (tag, rest) = user_id.split_once(':')?;
        let plain = |id: &str| (!id.is_empty() && !id.contains(' ')).then(|| id.to_owned());
        match tag {
            "target" => plain(rest).map(Self::Target),
            "source" => plain(rest).map(Self::Source),
            "both" => {
                let (target, source) = rest.split_once(' ')?;
                Some(Self::Both {
                    target: plain(target)?,
                    source: plain(source)?,
                })
            }
            _ => None,
        }
    }
}

/// One provider over a source and a target (see the module doc).
#[derive(Debug)]
pub struct MovingProvider {
    source: Arc<dyn IdentityProvider>,
    target: Arc<dyn IdentityProvider>,
    policy: MigrationPolicy,
    served_by_target: AtomicU64,
    served_by_source: AtomicU64,
    migrated: AtomicU64,
}

impl MovingProvider {
    /// A tenant moving from `source` to `target` under `policy`.
    pub fn new(
        source: Arc<dyn IdentityProvider>,
        target: Arc<dyn IdentityProvider>,
        policy: MigrationPolicy,
    ) -> Self {
        Self {
            source,
            target,
            policy,
            served_by_target: AtomicU64::new(0),
            served_by_source: AtomicU64::new(0),
            migrated: AtomicU64::new(0),
        }
    }

    /// The counters so far.
    pub fn move_stats(&self) -> MoveStats {
        MoveStats {
            served_by_target: self.served_by_target.load(Ordering::Relaxed),
            served_by_source: self.served_by_source.load(Ordering::Relaxed),
            migrated: self.migrated.load(Ordering::Relaxed),
        }
    }

    /// Creates `user` in the target with the new password; an account that exists already
    /// (a retry after a crash) gets the password instead.
    async fn migrate(
        &self,
        user: &ProviderUser,
        password: &SecretString,
    ) -> Result<ProviderUser, IdpError> {
        let new = NewUser {
            email: user.email.clone(),
            email_verified: user.email_verified,
            name: user.name.clone(),
            password: password.clone(),
        };
        match self.target.create_user(&new).await? {
            Created::New(created) => {
                self.migrated.fetch_add(1, Ordering::Relaxed);
                Ok(created)
            }
            Created::AlreadyExists => {
                let existing = self
                    .target
                    .find_user_by_email(&user.email)
                    .await?
                    .ok_or(IdpError::NotFound)?;
                let changed = self
                    .target
                    .set_password(&existing.user_id, password)
                    .await?;
                self.served_by_target.fetch_add(1, Ordering::Relaxed);
                Ok(changed)
            }
        }
    }
}

#[async_trait]
impl IdentityProvider for MovingProvider {
    /// The target's: the tenant's modes must run there once the move is over.
    fn kind(&self) -> ProviderKind {
        self.target.kind()
    }

    fn pace_stats(&self) -> Option<crate::PaceStats> {
        self.target.pace_stats()
    }

    fn capabilities(&self) -> Capabilities {
        let (source, target) = (self.source.capabilities(), self.target.capabilities());
        Capabilities {
            find_user: source.find_user && target.find_user,
            set_password: source.set_password && target.set_password,
            change_password_ticket: false,
            provider_reset_email: false,
            reset_code: false,
        }
    }

    async fn find_user_by_email(&self, email: &str) -> Result<Option<ProviderUser>, IdpError> {
        let (target, source) = tokio::join!(
            self.target.find_user_by_email(email),
            self.source.find_user_by_email(email)
        );
        let (user, placement) = match (target?, source) {
            (Some(target), Ok(Some(source))) if self.policy.reset_source_too => {
                let placement = Placement::Both {
                    target: target.user_id.clone(),
                    source: source.user_id,
                };
                (target, placement)
            }
            (Some(target), Ok(_)) => {
                let placement = Placement::Target(target.user_id.clone());
                (target, placement)
            }
            // Found in the target: the source matters only for `reset_source_too`, so its
            // outage does not hold this reset.
            (Some(target), Err(_)) if !self.policy.reset_source_too => {
                let placement = Placement::Target(target.user_id.clone());
                (target, placement)
            }
            (_, Err(err)) => return Err(err),
            (None, Ok(Some(source))) => {
                let placement = Placement::Source(source.user_id.clone());
                (source, placement)
            }
            (None, Ok(None)) => return Ok(None),
        };
        let user_id = placement.encode();
        if Placement::decode(&user_id).as_ref() != Some(&placement) {
            // A provider id with a space (or none) would not decode: refuse, never misroute.
            return Err(IdpError::UnexpectedResponse {
                status: 200,
                reason: "a provider user id with a space cannot be carried".into(),
            });
        }
        Ok(Some(ProviderUser { user_id, ..user }))
    }

    async fn set_password(
        &self,
        user_id: &str,
        password: &SecretString,
    ) -> Result<ProviderUser, IdpError> {
        match Placement::decode(user_id).ok_or(IdpError::NotFound)? {
            Placement::Target(id) => {
                let changed = self.target.set_password(&id, password).await?;
                self.served_by_target.fetch_add(1, Ordering::Relaxed);
                Ok(changed)
            }
            Placement::Source(id) => {
                let changed = self.source.set_password(&id, password).await?;
                self.served_by_source.fetch_add(1, Ordering::Relaxed);
                Ok(changed)
            }
            Placement::Both { target, source } => {
                let changed = self.target.set_password(&target, password).await?;
                self.served_by_target.fetch_add(1, Ordering::Relaxed);
                // The target has the new password: that is the reset. The source's copy is a
                // convenience for its login path; its failure is reported, not the user's.
                match self.source.set_password(&source, password).await {
                    Ok(_) => {
                        self.served_by_source.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(err) => tracing::warn!(
                        error = %err,
                        "new password set in the target but not in the source"
                    ),
                }
                Ok(changed)
            }
        }
    }

    async fn change_password(
        &self,
        user: &ProviderUser,
        password: &SecretString,
    ) -> Result<ProviderUser, IdpError> {
        match Placement::decode(&user.user_id) {
            Some(Placement::Source(_)) if self.policy.migrate_on_reset => {
                self.migrate(user, password).await
            }
            _ => self.set_password(&user.user_id, password).await,
        }
    }
}

#[cfg(test)]
mod tests;

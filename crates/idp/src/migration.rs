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
//! - With [`MigrationPolicy::dry_run`], the tenant is served by the source alone, as before the
//!   move; the target is asked all the same, so the report of where addresses were found
//!   ([`Placement`]) tells how far the move has come before it changes anything.
//!
//! The user id handed to the engine names the route (`target:…`, `source:…`,
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
    /// Serve every reset from the source alone (as before the move) while the look-ups still
    /// ask the target, so the placements can be counted first. The other two flags are ignored.
    pub dry_run: bool,
}

/// Where a moving tenant's look-up found an address (the dry-run report counts these; the
/// address itself is never recorded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Only the target (Auth0) has the account.
    TargetOnly,
    /// Only the source (Janrain) has it: not moved yet.
    SourceOnly,
    /// Both have it.
    Both,
    /// Neither has it.
    Neither,
}

impl Placement {
    /// Stable spelling for audit outcomes and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TargetOnly => "target_only",
            Self::SourceOnly => "source_only",
            Self::Both => "both",
            Self::Neither => "neither",
        }
    }
}

/// Where a moving tenant's new password went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServedBy {
    /// Set in the target.
    Target,
    /// Set in the source.
    Source,
    /// Set in the target and in the source (`reset_source_too`).
    Both,
    /// The account was created in the target with it (migrate on reset).
    Migrated,
}

impl ServedBy {
    /// Stable spelling for audit outcomes, metrics labels and stats.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Target => "target",
            Self::Source => "source",
            Self::Both => "both",
            Self::Migrated => "migrated",
        }
    }
}

/// A look-up's answer with, for a moving tenant, where the address was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// The account that will be reset, if any.
    pub user: Option<ProviderUser>,
    /// `None` for a tenant bound to one provider.
    pub placement: Option<Placement>,
}

/// A password change's answer with, for a moving tenant, where it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordChanged {
    /// The account as the provider answered.
    pub user: ProviderUser,
    /// `None` for a tenant bound to one provider.
    pub served_by: Option<ServedBy>,
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

/// Where the password of a found account goes; encoded in the user id the engine keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    Target(String),
    Source(String),
    Both { target: String, source: String },
}

impl Route {
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
                self.migrated.fetch_add(1, Ordering::Relaxed);
                Ok(changed)
            }
        }
    }

    /// Sets the password along `route`, saying where it went.
    async fn set_along(
        &self,
        route: Route,
        password: &SecretString,
    ) -> Result<(ProviderUser, ServedBy), IdpError> {
        match route {
            Route::Target(id) => {
                let changed = self.target.set_password(&id, password).await?;
                self.served_by_target.fetch_add(1, Ordering::Relaxed);
                Ok((changed, ServedBy::Target))
            }
            Route::Source(id) => {
                let changed = self.source.set_password(&id, password).await?;
                self.served_by_source.fetch_add(1, Ordering::Relaxed);
                Ok((changed, ServedBy::Source))
            }
            Route::Both { target, source } => {
                let changed = self.target.set_password(&target, password).await?;
                self.served_by_target.fetch_add(1, Ordering::Relaxed);
                // The target has the new password: that is the reset. The source's copy is a
                // convenience for its login path; its failure is reported, not the user's.
                match self.source.set_password(&source, password).await {
                    Ok(_) => {
                        self.served_by_source.fetch_add(1, Ordering::Relaxed);
                        Ok((changed, ServedBy::Both))
                    }
                    Err(err) => {
                        tracing::warn!(
                            error = %err,
                            "new password set in the target but not in the source"
                        );
                        Ok((changed, ServedBy::Target))
                    }
                }
            }
        }
    }

    /// Where the password of an account found at `placement` goes under the policy.
    fn route(
        &self,
        target: Option<ProviderUser>,
        source: Option<ProviderUser>,
    ) -> Option<(ProviderUser, Route)> {
        if self.policy.dry_run {
            return source.map(|s| {
                let route = Route::Source(s.user_id.clone());
                (s, route)
            });
        }
        match (target, source) {
            (Some(target), Some(source)) if self.policy.reset_source_too => {
                let route = Route::Both {
                    target: target.user_id.clone(),
                    source: source.user_id,
                };
                Some((target, route))
            }
            (Some(target), _) => {
                let route = Route::Target(target.user_id.clone());
                Some((target, route))
            }
            (None, Some(source)) => {
                let route = Route::Source(source.user_id.clone());
                Some((source, route))
            }
            (None, None) => None,
        }
    }
}

fn placement_of(target: bool, source: bool) -> Placement {
    match (target, source) {
        (true, true) => Placement::Both,
        (true, false) => Placement::TargetOnly,
        (false, true) => Placement::SourceOnly,
        (false, false) => Placement::Neither,
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
        Ok(self.locate(email).await?.user)
    }

    async fn locate(&self, email: &str) -> Result<Located, IdpError> {
        let (target, source) = tokio::join!(
            self.target.find_user_by_email(email),
            self.source.find_user_by_email(email)
        );
        let target = match (target, &source) {
            (Ok(found), _) => found,
            // A dry run is served by the source alone: the target's outage only blurs the report.
            (Err(_), Ok(_)) if self.policy.dry_run => None,
            (Err(err), _) => return Err(err),
        };
        let source = match source {
            Ok(found) => found,
            // Found in the target: the source matters only for `reset_source_too`, so its
            // outage does not hold this reset.
            Err(_) if target.is_some() && !self.policy.reset_source_too && !self.policy.dry_run => {
                None
            }
            Err(err) => return Err(err),
        };
        let placement = placement_of(target.is_some(), source.is_some());
        let Some((user, route)) = self.route(target, source) else {
            return Ok(Located {
                user: None,
                placement: Some(placement),
            });
        };
        let user_id = route.encode();
        if Route::decode(&user_id).as_ref() != Some(&route) {
            // A provider id with a space (or none) would not decode: refuse, never misroute.
            return Err(IdpError::UnexpectedResponse {
                status: 200,
                reason: "a provider user id with a space cannot be carried".into(),
            });
        }
        Ok(Located {
            user: Some(ProviderUser { user_id, ..user }),
            placement: Some(placement),
        })
    }

    async fn set_password(
        &self,
        user_id: &str,
        password: &SecretString,
    ) -> Result<ProviderUser, IdpError> {
        let route = Route::decode(user_id).ok_or(IdpError::NotFound)?;
        Ok(self.set_along(route, password).await?.0)
    }

    async fn change_password(
        &self,
        user: &ProviderUser,
        password: &SecretString,
    ) -> Result<PasswordChanged, IdpError> {
        let route = Route::decode(&user.user_id).ok_or(IdpError::NotFound)?;
        let (user, served_by) = match route {
            Route::Source(_) if self.policy.migrate_on_reset && !self.policy.dry_run => {
                (self.migrate(user, password).await?, ServedBy::Migrated)
            }
            route => self.set_along(route, password).await?,
        };
        Ok(PasswordChanged {
            user,
            served_by: Some(served_by),
        })
    }

    /// Sessions end where the account lives; the source has no session API of ours.
    async fn revoke_sessions(&self, user_id: &str) -> Result<(), IdpError> {
        match Route::decode(user_id).ok_or(IdpError::NotFound)? {
            Route::Target(id) | Route::Both { target: id, .. } => {
                self.target.revoke_sessions(&id).await
            }
            Route::Source(id) => self.source.revoke_sessions(&id).await,
        }
    }
}

#[cfg(test)]
mod tests;

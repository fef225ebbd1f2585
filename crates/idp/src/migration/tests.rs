//! [`MovingProvider`] over two in-memory providers: every account placement under every
//! policy, look-ups that always ask both, outages, and a crash between a create and its
//! answer.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize};

use secrecy::ExposeSecret;

use super::*;

/// One provider's accounts: email → (user, password).
#[derive(Debug, Default)]
struct Accounts {
    by_email: Mutex<HashMap<String, (ProviderUser, String)>>,
    down: AtomicBool,
    /// The next create is applied but its answer is lost.
    lose_next_create_answer: AtomicBool,
    lookups: AtomicUsize,
    next_id: AtomicUsize,
}

impl Accounts {
    fn with(self, email: &str, password: &str) -> Self {
        self.insert(email, password);
        self
    }

    fn insert(&self, email: &str, password: &str) -> ProviderUser {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let user = ProviderUser {
            user_id: format!("id|{id}"),
            email: email.to_owned(),
            connection: "users".into(),
            name: Some("Ada".into()),
            blocked: false,
            email_verified: true,
            last_password_reset: None,
        };
        self.by_email
            .lock()
            .unwrap()
            .insert(email.to_owned(), (user.clone(), password.to_owned()));
        user
    }

    fn password_of(&self, email: &str) -> Option<String> {
        let accounts = self.by_email.lock().unwrap();
        accounts.get(email).map(|(_, password)| password.clone())
    }

    fn count(&self) -> usize {
        self.by_email.lock().unwrap().len()
    }

    fn reachable(&self) -> Result<(), IdpError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(IdpError::Connect {
                message: "down".into(),
            });
        }
        Ok(())
    }
}

#[async_trait]
impl IdentityProvider for Accounts {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Auth0
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            find_user: true,
            set_password: true,
            change_password_ticket: false,
            provider_reset_email: false,
            reset_code: false,
        }
    }

    async fn find_user_by_email(&self, email: &str) -> Result<Option<ProviderUser>, IdpError> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        self.reachable()?;
        let accounts = self.by_email.lock().unwrap();
        Ok(accounts.get(email).map(|(user, _)| user.clone()))
    }

    async fn set_password(
        &self,
        user_id: &str,
        password: &SecretString,
    ) -> Result<ProviderUser, IdpError> {
        self.reachable()?;
        let mut accounts = self.by_email.lock().unwrap();
        let (user, stored) = accounts
            .values_mut()
            .find(|(user, _)| user.user_id == user_id)
            .ok_or(IdpError::NotFound)?;
        password.expose_secret().clone_into(stored);
        Ok(user.clone())
    }

    async fn create_user(&self, new: &NewUser) -> Result<Created, IdpError> {
        self.reachable()?;
        if self.password_of(&new.email).is_some() {
            return Ok(Created::AlreadyExists);
        }
        let user = self.insert(&new.email, new.password.expose_secret());
        if self.lose_next_create_answer.swap(false, Ordering::SeqCst) {
            return Err(IdpError::Ambiguous {
                operation: "create_user",
                reason: "the answer was lost".into(),
            });
        }
        Ok(Created::New(user))
    }
}

const EMAIL: &str = "ada@example.com";
const NEW: &str = "a-brand-new-passphrase";

#[derive(Debug, Clone, Copy, PartialEq)]
enum Lives {
    Target,
    Source,
    Both,
}

fn moving(lives: Lives, policy: MigrationPolicy) -> (Arc<Accounts>, Arc<Accounts>, MovingProvider) {
    let (mut source, mut target) = (Accounts::default(), Accounts::default());
    if lives != Lives::Target {
        source = source.with(EMAIL, "old-in-source");
    }
    if lives != Lives::Source {
        target = target.with(EMAIL, "old-in-target");
    }
    let (source, target) = (Arc::new(source), Arc::new(target));
    let provider = MovingProvider::new(source.clone(), target.clone(), policy);
    (source, target, provider)
}

/// The hosted flow's two steps: look the address up, then change the password of who was
/// found.
async fn reset(provider: &MovingProvider, email: &str) -> Result<ProviderUser, IdpError> {
    let user = provider
        .find_user_by_email(email)
        .await?
        .ok_or(IdpError::NotFound)?;
    provider
        .change_password(&user, &SecretString::from(NEW))
        .await
        .map(|changed| changed.user)
}

const PLAIN: MigrationPolicy = MigrationPolicy {
    reset_source_too: false,
    migrate_on_reset: false,
    dry_run: false,
};
const BOTH_PATHS: MigrationPolicy = MigrationPolicy {
    reset_source_too: true,
    migrate_on_reset: false,
    dry_run: false,
};
const MIGRATE: MigrationPolicy = MigrationPolicy {
    reset_source_too: false,
    migrate_on_reset: true,
    dry_run: false,
};

#[tokio::test]
async fn each_placement_under_each_policy_is_reset_where_the_account_lives() {
    // (lives, policy, target's password after, source's password after, migrated)
    let table = [
        (Lives::Target, PLAIN, Some(NEW), None, 0),
        (Lives::Target, BOTH_PATHS, Some(NEW), None, 0),
        (Lives::Target, MIGRATE, Some(NEW), None, 0),
        (Lives::Both, PLAIN, Some(NEW), Some("old-in-source"), 0),
        (Lives::Both, BOTH_PATHS, Some(NEW), Some(NEW), 0),
        (Lives::Both, MIGRATE, Some(NEW), Some("old-in-source"), 0),
        (Lives::Source, PLAIN, None, Some(NEW), 0),
        (Lives::Source, BOTH_PATHS, None, Some(NEW), 0),
        // Moved: created in the target with the new password, the source left as it was.
        (Lives::Source, MIGRATE, Some(NEW), Some("old-in-source"), 1),
    ];
    for (lives, policy, in_target, in_source, migrated) in table {
        let (source, target, provider) = moving(lives, policy);
        reset(&provider, EMAIL)
            .await
            .unwrap_or_else(|e| panic!("{lives:?} {policy:?}: {e}"));
        let case = format!("{lives:?} under {policy:?}");
        assert_eq!(target.password_of(EMAIL).as_deref(), in_target, "{case}");
        assert_eq!(source.password_of(EMAIL).as_deref(), in_source, "{case}");
        assert_eq!(provider.move_stats().migrated, migrated, "{case}");
        assert!(target.count() <= 1 && source.count() <= 1, "{case}");
    }
}

#[tokio::test]
async fn every_look_up_asks_both_providers_known_or_not() {
    for lives in [Lives::Target, Lives::Source, Lives::Both] {
        let (source, target, provider) = moving(lives, PLAIN);
        assert!(provider.find_user_by_email(EMAIL).await.unwrap().is_some());
        assert!(
            provider
                .find_user_by_email("nobody@example.com")
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(source.lookups.load(Ordering::SeqCst), 2, "{lives:?}");
        assert_eq!(target.lookups.load(Ordering::SeqCst), 2, "{lives:?}");
    }
}

#[tokio::test]
async fn a_source_outage_holds_only_the_resets_that_need_the_source() {
    let (source, target, provider) = moving(Lives::Both, PLAIN);
    source.down.store(true, Ordering::SeqCst);
    // In the target: served without the source.
    reset(&provider, EMAIL).await.unwrap();
    assert_eq!(target.password_of(EMAIL).as_deref(), Some(NEW));
    // Not in the target: it may live in the source, so it waits for it.
    let unknown = provider.find_user_by_email("nobody@example.com").await;
    assert!(
        matches!(unknown, Err(IdpError::Connect { .. })),
        "{unknown:?}"
    );
    // With the source's copy asked for, an account in the target needs the source too.
    let (source, _, provider) = moving(Lives::Both, BOTH_PATHS);
    source.down.store(true, Ordering::SeqCst);
    assert!(provider.find_user_by_email(EMAIL).await.is_err());
    // A target outage holds every reset.
    let (_, target, provider) = moving(Lives::Source, PLAIN);
    target.down.store(true, Ordering::SeqCst);
    assert!(provider.find_user_by_email(EMAIL).await.is_err());
}

#[tokio::test]
async fn a_crash_between_the_create_and_its_answer_leaves_one_account() {
    let (source, target, provider) = moving(Lives::Source, MIGRATE);
    target.lose_next_create_answer.store(true, Ordering::SeqCst);
    let first = reset(&provider, EMAIL).await;
    assert!(first.is_err_and(|e| e.is_ambiguous()));
    // The retry finds the account the lost answer created and sets its password.
    reset(&provider, EMAIL).await.unwrap();
    assert_eq!(target.count(), 1);
    assert_eq!(target.password_of(EMAIL).as_deref(), Some(NEW));
    assert_eq!(source.password_of(EMAIL).as_deref(), Some("old-in-source"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_moves_create_two_hundred_accounts() {
    let source = Arc::new(Accounts::default());
    for i in 0..200 {
        source.insert(&format!("user{i}@example.com"), "old");
    }
    let target = Arc::new(Accounts::default());
    let provider = Arc::new(MovingProvider::new(source.clone(), target.clone(), MIGRATE));
    let resets: Vec<_> = (0..200)
        .map(|i| {
            let provider = provider.clone();
            tokio::spawn(async move { reset(&provider, &format!("user{i}@example.com")).await })
        })
        .collect();
    for reset in resets {
        reset.await.unwrap().unwrap();
    }
    assert_eq!(target.count(), 200);
    assert_eq!(provider.move_stats().migrated, 200);
    assert_eq!(source.count(), 200, "the source keeps every account");
}

#[test]
fn user_ids_round_trip_and_foreign_ones_are_refused() {
    for placement in [
        Route::Target("auth0|abc".into()),
        Route::Source("2d5e-uuid".into()),
        Route::Both {
            target: "auth0|abc".into(),
            source: "2d5e-uuid".into(),
        },
    ] {
        assert_eq!(Route::decode(&placement.encode()), Some(placement));
    }
    for foreign in [
        "auth0|abc",
        "target:",
        "both:only-one",
        "both:a b c",
        "elsewhere:x",
    ] {
        assert_eq!(Route::decode(foreign), None, "{foreign}");
    }
}

const DRY_RUN: MigrationPolicy = MigrationPolicy {
    reset_source_too: true,
    migrate_on_reset: true,
    dry_run: true,
};

#[tokio::test]
async fn a_dry_run_serves_only_the_source_and_still_reports_where_each_address_lives() {
    // (lives, placement reported, found for the reset, source's password after)
    let table = [
        (Lives::Target, Placement::TargetOnly, false, None),
        (Lives::Both, Placement::Both, true, Some(NEW)),
        (Lives::Source, Placement::SourceOnly, true, Some(NEW)),
    ];
    for (lives, placement, found, in_source) in table {
        let (source, target, provider) = moving(lives, DRY_RUN);
        let located = provider.locate(EMAIL).await.unwrap();
        assert_eq!(located.placement, Some(placement), "{lives:?}");
        assert_eq!(located.user.is_some(), found, "{lives:?}");
        if let Some(user) = located.user {
            let changed = provider
                .change_password(&user, &SecretString::from(NEW))
                .await
                .unwrap();
            assert_eq!(changed.served_by, Some(ServedBy::Source), "{lives:?}");
        }
        assert_eq!(source.password_of(EMAIL).as_deref(), in_source, "{lives:?}");
        let untouched = (lives != Lives::Source).then_some("old-in-target");
        assert_eq!(
            target.password_of(EMAIL).as_deref(),
            untouched,
            "{lives:?}: target untouched"
        );
        assert_eq!(
            target.count(),
            usize::from(lives != Lives::Source),
            "{lives:?}: nothing created"
        );
    }
    let (_, _, provider) = moving(Lives::Source, DRY_RUN);
    let nobody = provider.locate("nobody@example.com").await.unwrap();
    assert_eq!(
        (nobody.user, nobody.placement),
        (None, Some(Placement::Neither))
    );
}

#[tokio::test]
async fn each_change_says_where_the_new_password_went() {
    let table = [
        (Lives::Target, PLAIN, ServedBy::Target),
        (Lives::Both, PLAIN, ServedBy::Target),
        (Lives::Both, BOTH_PATHS, ServedBy::Both),
        (Lives::Source, PLAIN, ServedBy::Source),
        (Lives::Source, MIGRATE, ServedBy::Migrated),
    ];
    for (lives, policy, served_by) in table {
        let (_, _, provider) = moving(lives, policy);
        let user = provider.locate(EMAIL).await.unwrap().user.unwrap();
        let changed = provider
            .change_password(&user, &SecretString::from(NEW))
            .await
            .unwrap();
        assert_eq!(
            changed.served_by,
            Some(served_by),
            "{lives:?} under {policy:?}"
        );
    }
}

//! Security checklist A (items 1–11): the reset token's generation, storage, binding and
//! lifetime. Test names carry the item number.

use std::collections::HashSet;

use crate::common::*;
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::TimeDelta;
use passgate_engine::{CompleteError, Credential, InvalidLink, StaticTenants};
use passgate_store::{AuditRepo, Sha256Digest, TokenRepo};
use passgate_tenant::parse_tenant_yaml;

async fn link_harness() -> Harness {
    Harness::new("hosted", "link", "en").await
}

async fn issue(h: &Harness) -> String {
    h.request("ada@example.com").await;
    h.drain().await;
    h.last_token()
}

#[tokio::test]
async fn a01_tokens_are_256_random_bits_without_structure() {
    let h = link_harness().await;
    let mut seen = HashSet::new();
    for _ in 0..5 {
        let token = issue(&h).await;
        let bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        assert_eq!(bytes.len(), 32, "256 bits");
        assert!(
            !token.contains("ada") && !token.contains("auth0"),
            "no user data"
        );
        assert!(seen.insert(token), "never repeats");
    }
    // Unrelated tokens share no prefix beyond chance.
    let prefixes: HashSet<_> = seen.iter().map(|t| t[..4].to_owned()).collect();
    assert_eq!(prefixes.len(), seen.len());
}

#[tokio::test]
async fn a02_only_a_keyed_hash_is_stored() {
    let h = link_harness().await;
    let token = issue(&h).await;
    let digest = h.engine_digest(&token);
    let row = h
        .store
        .lookup_token(&digest)
        .await
        .unwrap()
        .expect("row by digest");
    assert_ne!(row.hash.to_hex(), token);
    assert!(!row.hash.to_hex().contains(&token));
    // The plain SHA-256 of the token is not what is stored (the digest is keyed).
    assert!(
        h.store
            .lookup_token(&Sha256Digest::of(token.as_bytes()))
            .await
            .unwrap()
            .is_none()
    );
    // Presenting the stored value as a token fails.
    let err = h
        .complete_link(&row.hash.to_hex(), PASSWORD)
        .await
        .unwrap_err();
    assert!(matches!(err, CompleteError::InvalidLink(_)));
}

#[tokio::test]
async fn a03_tokens_are_looked_up_by_digest_so_near_misses_fail_alike() {
    let h = link_harness().await;
    let token = issue(&h).await;
    let mut near = token.clone();
    let last = near.pop().unwrap();
    near.push(if last == 'A' { 'B' } else { 'A' });
    assert_eq!(h.engine.view_token(&near).await.unwrap_err(), InvalidLink);
    assert_eq!(
        h.engine.view_token(&token[..42]).await.unwrap_err(),
        InvalidLink
    );
    assert!(h.engine.view_token(&token).await.is_ok());
}

/// The engine-level half of item 4. The realistic attack — tenant A's token presented
/// through tenant B's client id and custom host — needs the HTTP layer, so it lives in
/// `passgate-web`: `pages::a04_a_token_presented_through_another_tenants_client_id_and_host_is_refused`.
#[tokio::test]
async fn a04_token_is_bound_to_its_tenant_app_and_user() {
    let h = link_harness().await;
    let token = issue(&h).await;
    // Another tenant now answers for the same client id: the token is refused there, and
    // the provider sees no password change.
    let other = parse_tenant_yaml(
        "other.yaml",
        &tenant_yaml("other", "hosted", "link", "en", "").replace("other-ios", "acme-ios"),
    )
    .unwrap();
    let foreign = h.engine_with(StaticTenants::new([other]));
    let err = foreign
        .complete_reset(h.complete_input(
            Credential::Link {
                token: token.clone(),
            },
            PASSWORD,
        ))
        .await
        .unwrap_err();
    assert!(matches!(err, CompleteError::InvalidLink(_)));
    assert_eq!(
        h.password_patches(),
        0,
        "no provider call for a foreign tenant"
    );
    // On its own tenant it changes exactly the bound user (the input carries no user id).
    h.complete_link(&token, PASSWORD).await.unwrap();
    assert_eq!(h.sim.user("ada@example.com").unwrap().password_changes, 1);
    assert_eq!(
        h.sim.user("blocked@example.com").unwrap().password_changes,
        0
    );
}

#[tokio::test]
async fn a05_expiry_has_an_exact_boundary_on_view_and_completion() {
    let h = link_harness().await;
    let token = issue(&h).await;
    h.advance(TimeDelta::minutes(30) - TimeDelta::seconds(1));
    assert!(
        h.engine.view_token(&token).await.is_ok(),
        "valid at TTL - 1 s"
    );
    h.advance(TimeDelta::seconds(1));
    assert!(h.engine.view_token(&token).await.is_ok(), "valid at TTL");
    h.advance(TimeDelta::seconds(1));
    assert_eq!(
        h.engine.view_token(&token).await.unwrap_err(),
        InvalidLink,
        "dead at TTL + 1 s"
    );
    let err = h.complete_link(&token, PASSWORD).await.unwrap_err();
    assert!(matches!(err, CompleteError::InvalidLink(_)));
    assert_eq!(h.password_patches(), 0);

    // And a completion exactly at TTL succeeds.
    let token = issue(&h).await;
    h.advance(TimeDelta::minutes(30));
    h.complete_link(&token, PASSWORD).await.unwrap();
}

#[tokio::test]
async fn a06_fifty_concurrent_completions_one_success() {
    let h = link_harness().await;
    let token = issue(&h).await;
    let attempts = (0..50).map(|i| {
        let engine = h.engine.clone();
        let input = h.complete_input(
            Credential::Link {
                token: token.clone(),
            },
            &format!("{PASSWORD} {i}"),
        );
        tokio::spawn(async move { engine.complete_reset(input).await })
    });
    let results = futures::future::join_all(attempts).await;
    let ok = results.iter().filter(|r| matches!(r, Ok(Ok(_)))).count();
    let invalid = results
        .iter()
        .filter(|r| matches!(r, Ok(Err(CompleteError::InvalidLink(_)))))
        .count();
    assert_eq!(ok, 1, "exactly one completion wins");
    assert_eq!(invalid, 49, "every other one sees the generic invalid link");
    assert_eq!(
        h.password_patches(),
        1,
        "the provider sees exactly one password change"
    );
    assert_eq!(h.sim.user("ada@example.com").unwrap().password_changes, 1);
    // And the token stays used afterwards.
    assert!(h.complete_link(&token, PASSWORD).await.is_err());
}

#[tokio::test]
async fn a07_a_new_request_invalidates_earlier_unused_tokens() {
    let h = link_harness().await;
    let first = issue(&h).await;
    let second = issue(&h).await;
    assert_ne!(first, second);
    assert_eq!(h.engine.view_token(&first).await.unwrap_err(), InvalidLink);
    assert!(h.complete_link(&first, PASSWORD).await.is_err());
    h.complete_link(&second, PASSWORD).await.unwrap();
}

#[tokio::test]
async fn a08_account_changes_after_issue_kill_the_token() {
    use passgate_idp::IdentityProvider as _;
    use passgate_idp_sim::SeedUser;
    use secrecy::SecretString;

    // (a) The password changed by another path.
    let h = link_harness().await;
    let token = issue(&h).await;
    let ada = h.sim.user("ada@example.com").unwrap();
    h.auth0()
        .set_password(
            &ada.user_id,
            &SecretString::from("changed elsewhere 42 quietly"),
        )
        .await
        .unwrap();
    let patches = h.password_patches();
    assert!(matches!(
        h.complete_link(&token, PASSWORD).await,
        Err(CompleteError::InvalidLink(_))
    ));
    assert_eq!(h.password_patches(), patches, "no PATCH for a stale token");

    // (b) The user was blocked.
    let h = link_harness().await;
    let token = issue(&h).await;
    let ada = h.sim.user("ada@example.com").unwrap();
    h.sim.seed_user(&SeedUser {
        email: "ada@example.com".into(),
        user_id: Some(ada.user_id.clone()),
        connection: None,
        name: None,
        blocked: true,
        email_verified: true,
        password: None,
    });
    assert!(matches!(
        h.complete_link(&token, PASSWORD).await,
        Err(CompleteError::InvalidLink(_))
    ));
    assert_eq!(h.password_patches(), 0);

    // (c) The email changed: the address now belongs to someone else.
    let h = link_harness().await;
    let token = issue(&h).await;
    let ada = h.sim.user("ada@example.com").unwrap();
    h.sim.seed_user(&SeedUser {
        email: "ada.new@example.com".into(),
        user_id: Some(ada.user_id.clone()),
        connection: None,
        name: None,
        blocked: false,
        email_verified: true,
        password: None,
    });
    h.sim.seed_user(&SeedUser {
        email: "ada@example.com".into(),
        user_id: Some("auth0|someone-else".into()),
        connection: None,
        name: None,
        blocked: false,
        email_verified: true,
        password: None,
    });
    assert!(matches!(
        h.complete_link(&token, PASSWORD).await,
        Err(CompleteError::InvalidLink(_))
    ));
    assert_eq!(h.password_patches(), 0);
}

#[tokio::test]
async fn a09_viewing_a_link_never_consumes_it() {
    let h = link_harness().await;
    let token = issue(&h).await;
    for _ in 0..4 {
        assert!(h.engine.view_token(&token).await.is_ok());
    }
    let row = h
        .store
        .lookup_token(&h.engine_digest(&token))
        .await
        .unwrap()
        .unwrap();
    assert!(row.consumed_at.is_none());
    assert_eq!(row.attempts, 0);
    h.complete_link(&token, PASSWORD).await.unwrap();
}

#[tokio::test]
async fn a10_the_token_appears_in_no_answer_or_record() {
    let h = link_harness().await;
    let accepted = h.request("ada@example.com").await;
    h.drain().await;
    let token = h.last_token();
    assert!(!format!("{accepted:?}").contains(&token));
    assert!(!accepted.flow_id.contains(&token));
    let view = h.engine.view_token(&token).await.unwrap();
    assert!(!format!("{view:?}").contains(&token));
    let done = h.complete_link(&token, PASSWORD).await.unwrap();
    assert!(!format!("{done:?}").contains(&token));
    let audit = h.store.all_audit(1000, None).await.unwrap();
    assert!(!audit.is_empty());
    for event in audit {
        let text = format!("{event:?}");
        assert!(!text.contains(&token), "audit holds no token");
        assert!(!text.contains(PASSWORD), "audit holds no password");
        assert!(!text.contains("ada@example.com"), "audit holds no email");
    }
}

#[tokio::test]
async fn a11_every_unusable_token_gets_the_same_generic_answer() {
    let h = link_harness().await;
    let used = issue(&h).await;
    h.complete_link(&used, PASSWORD).await.unwrap();
    let superseded = issue(&h).await;
    let _current = issue(&h).await;
    let expired = {
        let t = issue(&h).await;
        h.advance(TimeDelta::hours(2));
        t
    };
    let unknown = "A".repeat(43);
    let malformed = "not a token at all <script>".to_owned();
    let cases = [used, superseded, expired, unknown, malformed, String::new()];
    for token in &cases {
        assert_eq!(h.engine.view_token(token).await.unwrap_err(), InvalidLink);
        let err = h
            .complete_link(token, &format!("{PASSWORD} x"))
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            CompleteError::InvalidLink(InvalidLink).to_string()
        );
        assert!(matches!(err, CompleteError::InvalidLink(InvalidLink)));
    }
    assert_eq!(
        h.password_patches(),
        1,
        "only the first, valid completion reached the provider"
    );
}

//! Every reset mode end to end, in English and one other locale, against the provider
//! simulator, a real SMTP sink and a migrated SQLite store.

#[path = "modes/stored_binding.rs"]
mod stored_binding;

use crate::common::*;
use passgate_engine::{CompleteError, Credential};
use secrecy::SecretString;

#[tokio::test]
async fn hosted_link_end_to_end_in_english_and_french() {
    let h = Harness::new("hosted", "link", "en, fr").await;
    for (locale, greeting) in [("en", "password"), ("fr", "mot de passe")] {
        let before = h.mails().len();
        h.request_in("Ada@Example.com", locale).await;
        h.drain().await;
        let mails = h.mails();
        assert_eq!(mails.len(), before + 1, "one reset mail per request");
        let mail = mails.last().unwrap();
        assert_eq!(
            mail.rcpt_to,
            vec!["ada@example.com".to_owned()],
            "stored address only"
        );
        let text = plain_text(mail);
        assert!(
            text.to_lowercase().contains(greeting),
            "{locale} mail text: {text}"
        );
        assert!(text.contains(&format!("{BASE}/reset/confirm?token=")));
        let token = token_in(&text).unwrap();

        let view = h.engine.view_token(&token).await.unwrap();
        assert_eq!(view.locale, locale);
        assert_eq!(view.client_id.as_str(), h.client);

        let password = format!("{PASSWORD} {locale}");
        let done = h.complete_link(&token, &password).await.unwrap();
        assert_eq!(done.locale, locale);
        let user = h.sim.user("ada@example.com").unwrap();
        assert_eq!(
            user.password_sha256.as_deref(),
            Some(passgate_idp_sim::sha256_hex(&password).as_str()),
            "the provider holds exactly the new password"
        );
        // The "password changed" notice goes out too, to the stored address.
        h.drain().await;
        let notice = h.mails().last().unwrap().clone();
        assert_eq!(notice.rcpt_to, vec!["ada@example.com".to_owned()]);
        assert!(
            token_in(&plain_text(&notice)).is_none(),
            "the notice carries no link"
        );
    }
}

#[tokio::test]
async fn hosted_code_end_to_end_in_english_and_german() {
    let h = Harness::new("hosted", "code", "en, de").await;
    for locale in ["en", "de"] {
        let accepted = h.request_in("ada@example.com", locale).await;
        h.drain().await;
        let mail = h.mails().last().unwrap().clone();
        let code = code_in(&plain_text(&mail)).expect("an 8-digit code");
        let done = h
            .engine
            .complete_reset(h.complete_input(
                Credential::Code {
                    flow_id: accepted.flow_id.clone(),
                    code: code.clone(),
                },
                &format!("{PASSWORD} {locale}"),
            ))
            .await
            .unwrap();
        assert_eq!(done.locale, locale);
        // The same code cannot be used twice.
        let again = h
            .engine
            .complete_reset(h.complete_input(
                Credential::Code {
                    flow_id: accepted.flow_id,
                    code,
                },
                &format!("{PASSWORD} again {locale}"),
            ))
            .await;
        assert!(matches!(again, Err(CompleteError::InvalidLink(_))));
        h.drain().await;
    }
    assert_eq!(h.sim.user("ada@example.com").unwrap().password_changes, 2);
}

#[tokio::test]
async fn auth0_ticket_end_to_end_in_english_and_spanish() {
    let h = Harness::new("auth0_ticket", "link", "en, es").await;
    for (locale, word) in [("en", "password"), ("es", "contraseña")] {
        let before = h.mails().len();
        h.request_in("ada@example.com", locale).await;
        h.drain().await;
        let mails = h.mails();
        assert_eq!(mails.len(), before + 1);
        let mail = mails.last().unwrap();
        assert_eq!(mail.rcpt_to, vec!["ada@example.com".to_owned()]);
        let text = plain_text(mail);
        assert!(
            text.contains("/u/reset-password?ticket="),
            "ticket URL in the mail"
        );
        assert!(text.to_lowercase().contains(word), "{locale} mail: {text}");
    }
    let tickets = h
        .sim
        .calls()
        .iter()
        .filter(|c| c.path == "/api/v2/tickets/password-change" && c.status == 201)
        .count();
    assert_eq!(tickets, 2);
}

#[tokio::test]
async fn auth0_email_end_to_end_in_english_and_french() {
    let h = Harness::new("auth0_email", "link", "en, fr").await;
    h.request_in("ada@example.com", "en").await;
    h.request_in("ada@example.com", "fr").await;
    h.request_in("nobody@example.com", "fr").await;
    h.drain().await;
    let provider_mails = h.sim.mailbox();
    assert_eq!(
        provider_mails.len(),
        2,
        "Auth0 mails the known account, twice"
    );
    assert!(provider_mails.iter().all(|m| m.to == "ada@example.com"));
    assert!(
        h.mails().is_empty(),
        "Passgate sends nothing itself in this mode"
    );
}

#[tokio::test]
async fn janrain_end_to_end_in_english_and_french() {
    let h = Harness::new("janrain", "link", "en, fr").await;
    for locale in ["en", "fr"] {
        h.request_in("jan@example.com", locale).await;
        h.drain().await;
        let mail = h.sim.mailbox().last().unwrap().clone();
        assert_eq!(mail.to, "jan@example.com");
        assert!(
            mail.link
                .starts_with(&format!("{BASE}/reset/janrain?client_id={}", h.client))
        );
        let code = mail.code.clone().unwrap();
        let credential = || Credential::Janrain {
            client_id: h.client.clone(),
            code: SecretString::from(code.clone()),
        };
        // The tenant's rules run first: a short password never reaches Janrain.
        let short = h
            .engine
            .complete_reset(h.complete_input(credential(), "short"))
            .await;
        assert!(matches!(short, Err(CompleteError::PolicyViolations(_))));
        let password = format!("{PASSWORD} {locale}");
        h.engine
            .complete_reset(h.complete_input(credential(), &password))
            .await
            .unwrap();
        let user = h.sim.user("jan@example.com").unwrap();
        assert_eq!(
            user.password_sha256.as_deref(),
            Some(passgate_idp_sim::sha256_hex(&password).as_str())
        );
        let reuse = h
            .engine
            .complete_reset(h.complete_input(credential(), &format!("{password}!")))
            .await;
        assert!(
            matches!(reuse, Err(CompleteError::InvalidLink(_))),
            "a code works once"
        );
    }
    // Unknown accounts: Janrain's no_such_account never surfaces.
    let accepted = h.request("nobody@example.com").await;
    assert_eq!(accepted.flow_id.len(), 22);
    h.drain().await;
}

//! Code delivery through plain forms: from the mailed code to the new-password page without
//! a link, a wrong code asked again, and a flow that dies after its wrong attempts.

use super::*;

#[tokio::test]
async fn code_mode_goes_from_code_to_new_password_without_a_link() {
    let (h, mut b) = setup().await;
    let form = b.get("/a/vault-app/reset").await;
    assert_eq!(form.status, 200);
    let code_page = b
        .submit(
            &form,
            "/a/vault-app/reset",
            &[("email", "linus@example.com")],
        )
        .await;
    assert_eq!(code_page.status, 303, "{}", code_page.body);
    let code_page = follow(&mut b, code_page).await;
    assert_eq!(code_page.status, 200, "{}", code_page.body);
    assert!(code_page.body.contains("autocomplete=\"one-time-code\""));
    // Reloading the code page sends no second mail.
    let reloaded = b.get("/reset/code?client_id=vault-app&locale=en").await;
    assert_eq!(reloaded.status, 200, "{}", reloaded.body);
    assert_eq!(reloaded.hidden("flow_id"), code_page.hidden("flow_id"));
    h.drain().await;
    assert_eq!(
        h.mails().len(),
        1,
        "reloading the code page sent another code"
    );
    let mail = h.mails().into_iter().last().unwrap();
    let code = code_in(&plain_text(&mail)).expect("a code");
    let moved = b
        .submit(&code_page, "/reset/code", &[("code", &code)])
        .await;
    assert_eq!(moved.status, 303);
    let page = b.get("/reset/confirm").await;
    assert_eq!(page.status, 200, "{}", page.body);
    // The server-only rules are live in code mode too, through the held flow and code.
    let (status, answer) = live_check(&mut b, "password1234").await;
    assert_eq!(
        (status, &answer["met"]),
        (200, &serde_json::json!(false)),
        "{answer}"
    );
    let (status, answer) = live_check(&mut b, PASSWORD).await;
    assert_eq!(
        (status, &answer["met"]),
        (200, &serde_json::json!(true)),
        "{answer}"
    );
    let done = b
        .submit(
            &page,
            "/reset/confirm",
            &[("password", PASSWORD), ("password_confirm", PASSWORD)],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(h.password_patches(), 1);
}

/// A code-mode reset requested from the hosted form: the code page, the mailed code and a
/// code that is not it.
async fn code_flow() -> (
    Harness,
    Browser<poem::endpoint::BoxEndpoint<'static>>,
    Got,
    String,
    &'static str,
) {
    let (h, mut b) = setup().await;
    let form = b.get("/a/vault-app/reset").await;
    let code_page = b
        .submit(
            &form,
            "/a/vault-app/reset",
            &[("email", "linus@example.com")],
        )
        .await;
    let code_page = follow(&mut b, code_page).await;
    h.drain().await;
    let mail = h.mails().into_iter().last().unwrap();
    let code = code_in(&plain_text(&mail)).expect("a code");
    let wrong = if code == "12345678" {
        "87654321"
    } else {
        "12345678"
    };
    (h, b, code_page, code, wrong)
}

#[tokio::test]
async fn a_wrong_code_asks_again_and_the_right_one_still_works() {
    let (h, mut b, code_page, code, wrong) = code_flow().await;

    let again = b
        .submit(&code_page, "/reset/code", &[("code", wrong)])
        .await;
    assert_eq!(again.status, 422, "{}", again.body);
    assert!(
        again.body.contains("That code is not right"),
        "the code form again, saying why: {}",
        again.body
    );
    assert!(again.body.contains("autocomplete=\"one-time-code\""));

    let moved = b.submit(&again, "/reset/code", &[("code", &code)]).await;
    assert_eq!(moved.status, 303, "{}", moved.body);
    let page = b.get("/reset/confirm").await;
    let done = b
        .submit(
            &page,
            "/reset/confirm",
            &[("password", PASSWORD), ("password_confirm", PASSWORD)],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(h.password_patches(), 1);
}

#[tokio::test]
async fn a_code_flow_dies_after_its_wrong_attempts() {
    let (h, mut b, mut page, code, wrong) = code_flow().await;
    for _ in 0..5 {
        page = b.submit(&page, "/reset/code", &[("code", wrong)]).await;
        assert_eq!(page.status, 422, "{}", page.body);
    }
    // Out of attempts: even the right code now gets the one invalid-link page.
    let dead = b.submit(&page, "/reset/code", &[("code", &code)]).await;
    assert_ne!(dead.status, 303, "{}", dead.body);
    assert!(!dead.body.contains("one-time-code"), "{}", dead.body);
    assert_eq!(h.password_patches(), 0);
}

//! Issue 16's dead ends, each with a way out: Post/Redirect/Get on the request form, an
//! older link that leaves a newer reset alone, an honest rate-limited page only where it
//! reveals nothing about the account, the bad-redirect and stale-form pages, and the hidden
//! username field for password managers, and "Password changed" found again by Back and Reload.

use super::*;

#[tokio::test]
async fn reloading_check_your_inbox_posts_nothing_and_sends_no_second_mail() {
    let (h, mut b) = setup().await;
    let form = b.get("/reset?client_id=fitlife-web&locale=en").await;
    let posted = b
        .submit(&form, "/reset", &[("email", "ada@example.com")])
        .await;
    assert_eq!(posted.status, 303, "{}", posted.body);
    let sent_at = posted.header("location").unwrap().to_owned();
    assert_eq!(sent_at, "/reset/sent?client_id=fitlife-web&locale=en");
    for _ in 0..3 {
        let sent = b.get(&sent_at).await;
        assert_eq!(sent.status, 200, "{}", sent.body);
        assert!(sent.body.contains("pg-page-sent"), "{}", sent.body);
        assert_eq!(sent.lang(), Some("en"));
    }
    h.drain().await;
    assert_eq!(h.mails().len(), 1, "a reload sent another mail");
    // …so the one link still works.
    let link = link_in(&plain_text(&h.mails()[0])).unwrap();
    assert_eq!(b.get(&link.replacen(BASE, "", 1)).await.status, 303);
}

#[tokio::test]
async fn an_older_link_leaves_the_newer_reset_of_this_browser_alone() {
    let (h, mut b) = setup().await;
    let older = request_link(&h, &mut b, "client_id=fitlife-web", "ada@example.com").await;
    let newer = request_link(&h, &mut b, "client_id=fitlife-web", "ada@example.com").await;
    assert_eq!(b.get(&newer.replacen(BASE, "", 1)).await.status, 303);
    let held = b.cookies.get("__Host-pg-reset").cloned().unwrap();

    // The older link was superseded: its page says so, keeps the cookie, and offers the
    // newer reset.
    let old = b.get(&older.replacen(BASE, "", 1)).await;
    assert_eq!(old.status, 410, "{}", old.body);
    assert_eq!(b.cookies.get("__Host-pg-reset"), Some(&held));
    assert!(
        old.body
            .contains("class=\"pg-button\" href=\"/reset/confirm\""),
        "no way back to the newer reset: {}",
        old.body
    );
    let page = b.get("/reset/confirm").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("id=\"pg-new-password\""));
}

#[tokio::test]
async fn too_many_requests_from_one_client_are_told_when_to_try_again() {
    let (_h, mut b) = setup().await;
    // FitLife keeps the defaults: 20 requests per client address per hour.
    let mut last = None;
    for i in 0..21 {
        let form = b.get("/reset?client_id=fitlife-web&locale=en").await;
        let email = format!("user{i}@example.com");
        last = Some(b.submit(&form, "/reset", &[("email", &email)]).await);
    }
    let limited = last.unwrap();
    assert_eq!(limited.status, 429, "{}", limited.body);
    assert!(
        limited.body.contains("pg-page-rate_limited"),
        "{}",
        limited.body
    );
    assert!(
        limited.body.contains("Too many requests"),
        "{}",
        limited.body
    );
    assert!(
        limited.body.contains(" UTC"),
        "no time to try again: {}",
        limited.body
    );
    let retry = limited.header("retry-after").expect("Retry-After");
    assert!(retry.ends_with(" GMT"), "{retry}");
    assert!(
        limited
            .body
            .contains("href=\"/reset?client_id=fitlife-web&amp;locale=en\""),
        "{}",
        limited.body
    );
}

#[tokio::test]
async fn the_per_address_limit_keeps_the_uniform_answer() {
    let (_h, mut b) = setup().await;
    // 5 requests per address per hour: the 6th looks exactly like the first.
    let mut answers = Vec::new();
    for _ in 0..6 {
        let form = b.get("/reset?client_id=fitlife-web").await;
        let got = b
            .submit(&form, "/reset", &[("email", "ada@example.com")])
            .await;
        answers.push((got.status, got.header("location").map(str::to_owned)));
    }
    assert!(
        answers.iter().all(|a| a == &answers[0]),
        "the per-address limit shows: {answers:?}"
    );
    assert_eq!(answers[0].0, 303);
}

#[tokio::test]
async fn a_disallowed_redirect_uri_gets_its_own_page_with_a_way_on() {
    let (h, mut b) = setup().await;
    let got = b
        .get("/reset?client_id=fitlife-web&locale=en&redirect_uri=https%3A%2F%2Fevil.example%2F")
        .await;
    assert_eq!(got.status, 400);
    assert!(got.body.contains("pg-page-bad_redirect"), "{}", got.body);
    assert!(!got.body.contains("Something went wrong"), "{}", got.body);
    assert!(!got.body.contains("evil.example"), "{}", got.body);
    assert!(
        got.body
            .contains("href=\"/reset?client_id=fitlife-web&amp;locale=en\""),
        "{}",
        got.body
    );
    // The same refusal for a POST that carries it.
    let form = b.get("/reset?client_id=fitlife-web&locale=en").await;
    let posted = b
        .submit(
            &form,
            "/reset",
            &[
                ("email", "ada@example.com"),
                ("redirect_uri", "https://evil.example/"),
            ],
        )
        .await;
    assert_eq!(posted.status, 400);
    assert!(
        posted.body.contains("pg-page-bad_redirect"),
        "{}",
        posted.body
    );
    h.drain().await;
    assert!(h.mails().is_empty());
}

#[tokio::test]
async fn a_stale_form_says_so_and_offers_to_load_it_again() {
    let (h, mut b) = setup().await;
    let form = b.get("/reset?client_id=fitlife-web&locale=en").await;
    // The CSRF cookie was cleared (or the form outlived it) before the submit.
    b.cookies.remove("__Host-pg-csrf");
    let got = b
        .submit(&form, "/reset", &[("email", "ada@example.com")])
        .await;
    assert_eq!(got.status, 403);
    assert!(got.body.contains("pg-page-stale_form"), "{}", got.body);
    assert!(!got.body.contains("Something went wrong"), "{}", got.body);
    assert!(
        got.body
            .contains("href=\"/reset?client_id=fitlife-web&amp;locale=en\""),
        "{}",
        got.body
    );
    h.drain().await;
    assert!(h.mails().is_empty());

    // On the new-password page the way back is that page (the reset cookie still holds).
    let link = request_link(&h, &mut b, "client_id=fitlife-web", "ada@example.com").await;
    b.get(&link.replacen(BASE, "", 1)).await;
    let page = b.get("/reset/confirm").await;
    b.cookies.remove("__Host-pg-csrf");
    let got = b
        .submit(
            &page,
            "/reset/confirm",
            &[("password", PASSWORD), ("password_confirm", PASSWORD)],
        )
        .await;
    assert_eq!(got.status, 403);
    assert!(got.body.contains("pg-page-stale_form"), "{}", got.body);
    assert!(got.body.contains("href=\"/reset/confirm\""), "{}", got.body);
    assert_eq!(h.password_patches(), 0);
}

#[tokio::test]
async fn password_managers_get_the_account_as_username() {
    let (h, mut b) = setup().await;
    let link = request_link(&h, &mut b, "client_id=fitlife-web", "ada@example.com").await;
    b.get(&link.replacen(BASE, "", 1)).await;
    let page = b.get("/reset/confirm").await;
    let field = page
        .body
        .split("<input")
        .find(|i| i.contains("autocomplete=\"username\""))
        .unwrap_or_else(|| panic!("no username field: {}", page.body));
    assert!(field.contains("value=\"a••@example.com\""), "{field}");
    assert!(field.contains(" hidden"), "{field}");
    assert!(!field.contains("name="), "the username is posted: {field}");
}

#[tokio::test]
async fn without_a_redirect_uri_the_success_page_is_shown() {
    let (h, mut b) = setup().await;
    let link = request_link(
        &h,
        &mut b,
        "client_id=northbank-mobile&locale=en",
        "grace@example.com",
    )
    .await;
    b.get(&link.replacen(BASE, "", 1)).await;
    let page = b.get("/reset/confirm").await;
    assert_eq!(page.lang(), Some("en"));
    let strong = "Violet-Kestrel-Harbour-1987";
    let done = b
        .submit(
            &page,
            "/reset/confirm",
            &[("password", strong), ("password_confirm", strong)],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.header("location"), Some("/reset/done"));
    let shown = follow(&mut b, done).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert!(shown.body.contains("pg-page-success"), "{}", shown.body);
    assert_eq!(shown.lang(), Some("en"));
    // No redirect_uri was given: the button goes to the app's default return URI.
    assert!(
        shown
            .body
            .contains("href=\"northbank://security/password-updated\""),
        "{}",
        shown.body
    );
    // Reload, Back and a re-sent POST all find the success page, not "link no longer usable".
    for again in [b.get("/reset/done").await, b.get("/reset/confirm").await] {
        assert_eq!(again.status, 200, "{}", again.body);
        assert!(again.body.contains("pg-page-success"), "{}", again.body);
    }
    let resent = b
        .submit(
            &page,
            "/reset/confirm",
            &[("password", strong), ("password_confirm", strong)],
        )
        .await;
    assert!(resent.body.contains("pg-page-success"), "{}", resent.body);
    assert_eq!(h.password_patches(), 1);
}

//! In-process tests of the hosted pages over the real engine (SQLite, provider simulator,
//! SMTP sink): headers, CSRF, the invalid-link page, redirects, locales, and whole resets
//! through plain HTML forms (no JavaScript).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use common::{BASE, Browser, Got, Harness, PASSWORD, code_in, link_in, plain_text, token_of};
use passgate_web::{app, state::static_prefix};

async fn setup() -> (Harness, Browser<poem::endpoint::BoxEndpoint<'static>>) {
    let h = Harness::new(BASE).await;
    let browser = Browser::new(app(h.state.clone()));
    (h, browser)
}

/// Follows a 303 to a page of the gateway like a browser (a GET of its `Location`); any
/// other answer is returned as is.
async fn follow<E: poem::Endpoint>(b: &mut Browser<E>, got: Got) -> Got {
    match (got.status, got.header("location").map(str::to_owned)) {
        (303, Some(to)) if to.starts_with('/') => b.get(&to).await,
        _ => got,
    }
}

/// Requests a reset for `email` through the form and returns the mailed link.
async fn request_link<E: poem::Endpoint>(
    h: &Harness,
    b: &mut Browser<E>,
    query: &str,
    email: &str,
) -> String {
    let form = b.get(&format!("/reset?{query}")).await;
    assert_eq!(form.status, 200, "{}", form.body);
    let posted = b.submit(&form, "/reset", &[("email", email)]).await;
    assert_eq!(posted.status, 303, "{}", posted.body);
    let sent = follow(b, posted).await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    h.drain().await;
    // The newest mail to this address that carries a link: other users' mails (a "password
    // changed" notice, say) go out concurrently and may arrive after it.
    h.mails()
        .iter()
        .rev()
        .filter(|m| m.rcpt_to.iter().any(|to| to.eq_ignore_ascii_case(email)))
        .find_map(|m| link_in(&plain_text(m)))
        .expect("a reset mail with a link")
}

fn assert_security_headers(got: &Got, what: &str) {
    let csp = got
        .header("content-security-policy")
        .unwrap_or_else(|| panic!("{what}: no CSP"));
    if csp == passgate_web::security::headers::WORKER_CSP {
        // Static files: no script but the rule worker's own compile, no network, no framing.
        assert!(what.starts_with("/static/"), "{what}: {csp}");
    }
    let page_directives: &[&str] =
        if csp.starts_with("default-src 'none'; script-src 'unsafe-eval'") {
            &[
                "default-src 'none'",
                "base-uri 'none'",
                "frame-ancestors 'none'",
                "form-action 'none'",
            ]
        } else {
            &[
                "default-src 'none'",
                "object-src 'none'",
                "base-uri 'none'",
                "frame-ancestors 'none'",
                "form-action 'self'",
                "worker-src 'self'",
                // Only the new-password page fetches: its live check, same origin.
                if got.body.contains("id=\"pg-new-password\"") {
                    "connect-src 'self'"
                } else {
                    "connect-src 'none'"
                },
            ]
        };
    for directive in page_directives.iter().copied() {
        assert!(
            csp.contains(directive),
            "{what}: CSP lacks {directive}: {csp}"
        );
    }
    assert!(
        csp.contains("script-src 'nonce-") || csp.contains("script-src 'unsafe-eval'"),
        "{what}: {csp}"
    );
    let expect = [
        (
            "strict-transport-security",
            "max-age=31536000; includeSubDomains",
        ),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("x-frame-options", "DENY"),
        ("cross-origin-opener-policy", "same-origin"),
        ("x-robots-tag", "noindex, nofollow"),
    ];
    for (name, value) in expect {
        assert_eq!(got.header(name), Some(value), "{what}: {name}");
    }
    assert!(got.header("server").is_none(), "{what}: Server header");
    assert!(got.header("x-powered-by").is_none(), "{what}: X-Powered-By");
}

#[tokio::test]
async fn every_route_carries_the_security_headers_and_html_is_never_cached() {
    let (_h, mut b) = setup().await;
    let css = format!("{}/default/base.css", static_prefix());
    let routes = [
        ("/reset?client_id=fitlife-web", 200),
        ("/a/northbank-mobile/reset", 200),
        ("/reset?client_id=unknown-app", 404),
        ("/nowhere", 404),
        ("/reset/confirm", 410),
        ("/reset/confirm?token=abc", 410),
        ("/reset/janrain?client_id=fitlife-web", 410),
        (css.as_str(), 200),
        ("/v1/openapi.json", 200),
        ("/v1/apps/fitlife-web/password-policy", 200),
        ("/v1/apps/unknown/password-policy", 404),
        ("/v1/password-resets/not-a-token", 410),
        ("/v1/nowhere", 404),
    ];
    for (uri, status) in routes {
        let got = b.get(uri).await;
        assert_eq!(got.status, status, "{uri}: {}", got.body);
        assert_security_headers(&got, uri);
        if uri == css {
            assert_eq!(
                got.header("cache-control"),
                Some("public, max-age=31536000, immutable")
            );
            assert_eq!(got.header("content-type"), Some("text/css; charset=utf-8"));
        } else {
            assert_eq!(got.header("cache-control"), Some("no-store"), "{uri}");
        }
        if got
            .header("content-type")
            .is_some_and(|c| c.starts_with("text/html"))
        {
            assert_eq!(got.header("content-type"), Some("text/html; charset=utf-8"));
        }
    }
    // Two Origin headers are refused as well.
    let twice = b
        .post_raw(
            "/reset",
            "email=a%40b.c",
            &[("origin", BASE), ("origin", "https://evil.example")],
        )
        .await;
    assert_eq!(twice.status, 403);
    // A refused POST and an unknown Host carry them too.
    let refused = b
        .post_raw(
            "/reset",
            "email=a%40b.c",
            &[("origin", "https://evil.example")],
        )
        .await;
    assert_eq!(refused.status, 403);
    assert_security_headers(&refused, "403");
    let bad_host = b
        .get_with("/reset?client_id=fitlife-web", &[("host", "evil.example")])
        .await;
    assert_eq!(bad_host.status, 400);
    assert_security_headers(&bad_host, "unknown host");
}

#[tokio::test]
async fn the_nonce_is_fresh_per_response_and_matches_the_page() {
    let (_h, mut b) = setup().await;
    let one = b.get("/reset?client_id=fitlife-web").await;
    let two = b.get("/reset?client_id=fitlife-web").await;
    assert_ne!(one.nonce(), two.nonce());
    assert!(one.nonce().len() >= 22);
    assert!(one.body.contains(&format!("nonce=\"{}\"", one.nonce())));
    assert!(!one.body.contains(&two.nonce()));
}

#[tokio::test]
async fn the_rule_worker_gets_its_own_policy_without_network() {
    let (_h, mut b) = setup().await;
    let got = b
        .get(&format!("{}/default/rule-worker.js", static_prefix()))
        .await;
    assert_eq!(got.status, 200);
    assert_eq!(
        got.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    let csp = got.header("content-security-policy").unwrap();
    assert!(
        csp.starts_with("default-src 'none'; script-src 'unsafe-eval';"),
        "{csp}"
    );
    assert!(
        !csp.contains("connect-src"),
        "the worker must have no network: {csp}"
    );
    let wrong_version = b.get("/static/0.0.0-old/default/rule-worker.js").await;
    assert_eq!(wrong_version.status, 404);
}

/// What a case is called, extra headers, and the body (`None`: without a CSRF token).
type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Option<&'a str>);

#[tokio::test]
async fn cross_site_or_tokenless_posts_are_refused_and_send_nothing() {
    let (h, mut b) = setup().await;
    let form = b.get("/reset?client_id=fitlife-web").await;
    let token = form.hidden("csrf_token").unwrap();
    let body = format!("csrf_token={token}&client_id=fitlife-web&email=ada%40example.com");
    let cases: [Case<'_>; 5] = [
        ("no token", vec![], None),
        (
            "foreign origin",
            vec![("origin", "https://evil.example")],
            Some(&body),
        ),
        (
            "cross-site fetch",
            vec![("sec-fetch-site", "cross-site")],
            Some(&body),
        ),
        (
            "same-site fetch",
            vec![("sec-fetch-site", "same-site")],
            Some(&body),
        ),
        (
            "wrong token",
            vec![],
            Some("csrf_token=AAAA&client_id=fitlife-web&email=ada%40example.com"),
        ),
    ];
    for (what, headers, body) in cases {
        let body = body.unwrap_or("client_id=fitlife-web&email=ada%40example.com");
        let got = b.post_raw("/reset", body, &headers).await;
        assert_eq!(got.status, 403, "{what}");
    }
    // Neither Sec-Fetch-Site nor Origin nor Referer: refused too.
    b.origin = None;
    let got = b.post_raw("/reset", &body, &[]).await;
    assert_eq!(got.status, 403, "no provenance");
    // Without its cookie, a valid-looking token is worthless.
    b.origin = Some(BASE.into());
    b.cookies.clear();
    let got = b.post_raw("/reset", &body, &[]).await;
    assert_eq!(got.status, 403, "no cookie");
    h.drain().await;
    assert!(h.mails().is_empty(), "a refused POST sent mail");
    assert!(
        h.sim.calls().is_empty(),
        "a refused POST reached the provider"
    );
}

/// POSTs `password` as JSON to the hosted page's live check with the browser's cookies.
async fn live_check<E: poem::Endpoint>(
    b: &mut Browser<E>,
    password: &str,
) -> (u16, serde_json::Value) {
    let cookies: Vec<String> = b.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let resp = b
        .client
        .post("/reset/confirm/check")
        .header("host", common::HOST)
        .header("origin", BASE)
        .header("cookie", cookies.join("; "))
        .content_type("application/json")
        .body(serde_json::json!({ "password": password }).to_string())
        .send()
        .await;
    let status = resp.0.status().as_u16();
    let body = resp.0.into_body().into_string().await.unwrap();
    (status, serde_json::from_str(&body).unwrap_or_default())
}

#[tokio::test]
async fn the_new_password_page_checks_server_rules_live_through_its_cookie() {
    let (h, mut b) = setup().await;
    let link = request_link(
        &h,
        &mut b,
        "client_id=acme-shop-ios&locale=fr",
        "ada@example.com",
    )
    .await;
    // Without the reset cookie there is nothing to check.
    assert_eq!(live_check(&mut b, "password1234").await.0, 410);
    let moved = b.get(&link.replacen(BASE, "", 1)).await;
    assert_eq!(moved.status, 303);
    let page = b.get("/reset/confirm").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains("connect-src 'self'"), "{csp}");

    let (status, answer) = live_check(&mut b, "password1234").await;
    assert_eq!(status, 200, "{answer}");
    let keys: Vec<&str> = answer["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["message_key"].as_str().unwrap())
        .collect();
    assert!(keys.contains(&"policy.blocklist"), "{keys:?}");
    assert!(keys.contains(&"policy.strength"), "{keys:?}");
    // The page's rule items carry the same codes, so the script can mark them.
    assert!(page.body.contains("data-rule=\"policy.blocklist\""));
    let (status, answer) = live_check(&mut b, PASSWORD).await;
    assert_eq!(status, 200);
    assert_eq!(answer["met"], true, "{answer}");
    // Checking consumed nothing: the form still sets the password.
    assert_eq!(h.password_patches(), 0);
    let done = b
        .submit(
            &page,
            "/reset/confirm",
            &[("password", PASSWORD), ("password_confirm", PASSWORD)],
        )
        .await;
    assert!(matches!(done.status, 200 | 303), "{}", done.body);
    assert_eq!(h.password_patches(), 1);
    assert_eq!(live_check(&mut b, PASSWORD).await.0, 410);
}

#[tokio::test]
async fn a_repeated_email_field_is_refused_and_sends_nothing() {
    let (h, mut b) = setup().await;
    let form = b.get("/reset?client_id=fitlife-web").await;
    let token = form.hidden("csrf_token").unwrap();
    let body = format!(
        "csrf_token={token}&client_id=fitlife-web&email=ada%40example.com&email=attacker%40evil.example"
    );
    let got = b.post_raw("/reset", &body, &[]).await;
    assert_eq!(got.status, 400);
    h.drain().await;
    assert!(h.mails().is_empty());
}

#[tokio::test]
async fn a_reset_completes_with_plain_forms_and_the_token_leaves_the_address_bar() {
    let (h, mut b) = setup().await;
    let query = "client_id=fitlife-web&redirect_uri=fitlife%3A%2F%2Fpassword-reset%2Fdone";
    let link = request_link(&h, &mut b, query, "ada@example.com").await;
    assert!(
        link.starts_with(&format!("{BASE}/reset/confirm?token=")),
        "{link}"
    );
    let token = token_of(&link);

    let moved = b.get(&link.replacen(BASE, "", 1)).await;
    assert_eq!(moved.status, 303);
    assert_eq!(moved.header("location"), Some("/reset/confirm"));
    let cookie = moved.header("set-cookie").unwrap();
    assert!(cookie.starts_with("__Host-pg-reset="), "{cookie}");
    for attribute in ["Path=/", "Secure", "HttpOnly", "SameSite=Lax", "Max-Age="] {
        assert!(cookie.contains(attribute), "{cookie}");
    }

    let page = b.get("/reset/confirm").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.lang(), Some("de"));
    assert!(page.body.contains("autocomplete=\"new-password\""));
    assert!(page.body.contains("id=\"pg-policy\""), "live rules payload");
    assert!(!page.body.contains(&token), "the token is in the page");
    // A scanner's GETs changed nothing: the link still works.
    assert_eq!(h.password_patches(), 0);

    let short = b
        .submit(
            &page,
            "/reset/confirm",
            &[("password", "kurz"), ("password_confirm", "kurz")],
        )
        .await;
    assert_eq!(short.status, 422);
    assert!(
        short.body.contains("data-code=\"policy.min_length\""),
        "{}",
        short.body
    );
    assert!(!short.body.contains(&token));
    assert_eq!(
        h.password_patches(),
        0,
        "a refused password reached the provider"
    );

    let page = b.get("/reset/confirm").await;
    let done = b
        .submit(
            &page,
            "/reset/confirm",
            &[("password", PASSWORD), ("password_confirm", PASSWORD)],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(
        done.header("location"),
        Some("fitlife://password-reset/done")
    );
    assert_eq!(h.password_patches(), 1);
    assert!(
        !b.cookies.contains_key("__Host-pg-reset"),
        "the reset cookie outlived the reset"
    );

    // The same link again: the invalid-link page, and no cookie for it.
    let again = b.get(&link.replacen(BASE, "", 1)).await;
    assert_eq!(again.status, 410);
    // Back to the new-password page after the app took over: "Password changed" again.
    let back = b.get("/reset/confirm").await;
    assert_eq!(back.status, 200, "{}", back.body);
    assert!(back.body.contains("pg-page-success"), "{}", back.body);
}

#[tokio::test]
async fn a_mismatched_confirmation_is_shown_and_nothing_is_sent() {
    let (h, mut b) = setup().await;
    let link = request_link(&h, &mut b, "client_id=fitlife-web", "ada@example.com").await;
    b.get(&link.replacen(BASE, "", 1)).await;
    let page = b.get("/reset/confirm").await;
    let got = b
        .submit(
            &page,
            "/reset/confirm",
            &[
                ("password", PASSWORD),
                ("password_confirm", "something else entirely"),
            ],
        )
        .await;
    assert_eq!(got.status, 422);
    assert!(got.body.contains("data-code=\"policy.mismatch\""));
    assert_eq!(h.password_patches(), 0);
}

/// Everything but the nonce, which differs per response by design.
fn without_nonce(got: &Got) -> String {
    got.body.replace(&got.nonce(), "NONCE")
}

#[tokio::test]
async fn every_unusable_link_gives_the_same_page() {
    let (h, mut b) = setup().await;
    // A used link.
    let used = request_link(&h, &mut b, "client_id=fitlife-web", "ada@example.com").await;
    b.get(&used.replacen(BASE, "", 1)).await;
    let page = b.get("/reset/confirm").await;
    b.submit(
        &page,
        "/reset/confirm",
        &[("password", PASSWORD), ("password_confirm", PASSWORD)],
    )
    .await;
    // A superseded link (a newer one was requested) and an expired one.
    let superseded = request_link(&h, &mut b, "client_id=fitlife-web", "grace@example.com").await;
    let expired = request_link(&h, &mut b, "client_id=fitlife-web", "grace@example.com").await;
    h.clock.advance(chrono::TimeDelta::hours(2));

    // Mailed links name their app and the reset's locale; the page for every unusable
    // token with those parameters is the same, in that app's branding and the reset's
    // locale (German) even for an English browser, with a way to request a new link.
    let params = &used[used.find('&').expect("app parameters")..];
    assert_eq!(params, "&client_id=fitlife-web&locale=de");
    let cases = [
        ("odd", format!("/reset/confirm?token=%2A%2A%2A{params}")),
        (
            "unknown",
            format!("/reset/confirm?token={}{params}", "A".repeat(43)),
        ),
        ("used", used.replacen(BASE, "", 1)),
        ("superseded", superseded.replacen(BASE, "", 1)),
        ("expired", expired.replacen(BASE, "", 1)),
        (
            "too long",
            format!("/reset/confirm?token={}{params}", "A".repeat(600)),
        ),
    ];
    let mut pages = Vec::new();
    for (what, uri) in cases {
        let mut fresh = Browser::new(app(h.state.clone()));
        let got = fresh.get_with(&uri, &[("accept-language", "en")]).await;
        assert_eq!(got.status, 410, "{what}");
        assert!(
            got.header("set-cookie")
                .is_none_or(|c| !c.contains("pg-reset")),
            "{what}"
        );
        pages.push((what, without_nonce(&got)));
    }
    let (_, first) = &pages[0];
    for (what, page) in &pages {
        assert_eq!(page, first, "the page for a {what} link differs");
    }
    assert!(first.contains("<html lang=\"de\""), "{first}");
    assert!(first.contains("FitLife"), "{first}");
    assert!(
        first.contains("class=\"pg-button\" href=\"/reset?client_id=fitlife-web&amp;locale=de\""),
        "no request-a-new-link button: {first}"
    );
    assert!(first.contains("Neuen Link anfordern"), "{first}");

    // Without app parameters (or with a query that does not parse): the neutral page.
    let mut neutral = Vec::new();
    for uri in [
        "/reset/confirm?token=%%%".to_owned(),
        format!("/reset/confirm?token={}", "A".repeat(43)),
        "/reset/confirm".to_owned(),
    ] {
        let mut fresh = Browser::new(app(h.state.clone()));
        let got = fresh.get(&uri).await;
        assert_eq!(got.status, 410, "{uri}");
        neutral.push(without_nonce(&got));
    }
    assert!(neutral.iter().all(|page| page == &neutral[0]));
    assert!(
        !neutral[0].contains("FitLife"),
        "the neutral page names the app"
    );
    assert_eq!(h.password_patches(), 1);
}

#[tokio::test]
async fn redirect_uris_must_match_the_allowlist_exactly() {
    let (_h, mut b) = setup().await;
    let allowed = [
        "fitlife://password-reset/done",
        "https://app.fitlife.example/welcome-back",
    ];
    for uri in allowed {
        let q = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", "fitlife-web")
            .append_pair("redirect_uri", uri)
            .finish();
        let got = b.get(&format!("/reset?{q}")).await;
        assert_eq!(got.status, 200, "{uri}");
        assert_eq!(got.hidden("redirect_uri").as_deref(), Some(uri));
    }
    let refused = [
        "javascript:alert(1)",
        "data:text/html,hi",
        "//evil.example",
        "https:/\\evil.example",
        "https://app.fitlife.example.evil.example/welcome-back",
        "https://app.fitlife.example/welcome-back/",
        "https://app.fitlife.example/welcome-back?x=1",
        "https://APP.fitlife.example/welcome-back",
        "http://app.fitlife.example/welcome-back",
        "fitlife://password-reset/done#x",
        "fitlife%3A%2F%2Fpassword-reset%2Fdone",
        "northbank://security/password-updated",
        "",
    ];
    for uri in refused {
        let q = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", "fitlife-web")
            .append_pair("redirect_uri", uri)
            .finish();
        let got = b.get(&format!("/reset?{q}")).await;
        assert_eq!(got.status, 400, "{uri:?}");
        assert!(got.header("location").is_none());
        if !uri.is_empty() {
            assert!(
                !got.body.contains(&format!("href=\"{uri}")),
                "{uri:?} became a link"
            );
        }
    }
}

#[tokio::test]
async fn locale_comes_from_the_parameter_then_accept_language_then_the_default() {
    let (_h, mut b) = setup().await;
    let cases: [(&str, Option<&str>, &str); 7] = [
        ("client_id=fitlife-web", None, "de"),
        ("client_id=fitlife-web", Some("en-GB,en;q=0.9"), "en"),
        ("client_id=fitlife-web", Some("fr;q=0.9, es;q=0.8"), "es"),
        ("client_id=fitlife-web&locale=es", Some("en"), "es"),
        ("client_id=fitlife-web&ui_locales=ja%20en", Some("es"), "en"),
        ("client_id=fitlife-web&locale=ja", Some("ko"), "de"),
        ("client_id=northbank-mobile", Some("en-US"), "en"),
    ];
    for (query, accept, lang) in cases {
        let headers: Vec<(&str, &str)> =
            accept.map(|a| ("accept-language", a)).into_iter().collect();
        let got = b.get_with(&format!("/reset?{query}"), &headers).await;
        assert_eq!(got.lang(), Some(lang), "{query} {accept:?}");
    }
}

#[tokio::test]
async fn forged_host_headers_never_reach_the_mailed_link() {
    let (h, mut b) = setup().await;
    let form = b.get("/reset?client_id=fitlife-web").await;
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(common::hidden_fields(&form.body))
        .append_pair("email", "ada@example.com")
        .finish();
    let got = b
        .post_raw(
            "/reset",
            &body,
            &[
                ("x-forwarded-host", "evil.example"),
                ("forwarded", "host=evil.example;proto=http"),
                ("x-forwarded-proto", "http"),
            ],
        )
        .await;
    assert_eq!(got.status, 303);
    h.drain().await;
    let text = plain_text(&h.mails().into_iter().last().unwrap());
    assert!(
        link_in(&text)
            .unwrap()
            .starts_with(&format!("{BASE}/reset/confirm?token="))
    );
    assert!(!text.contains("evil.example"));
}

#[tokio::test]
async fn the_request_answer_is_the_same_for_known_and_unknown_accounts() {
    let (h, mut b) = setup().await;
    let mut bodies = Vec::new();
    for email in ["ada@example.com", "nobody@example.com", "not an email"] {
        let form = b.get("/reset?client_id=fitlife-web").await;
        let got = b.submit(&form, "/reset", &[("email", email)]).await;
        assert_eq!(got.status, 303);
        assert_eq!(
            got.header("location"),
            Some("/reset/sent?client_id=fitlife-web&locale=de")
        );
        let got = follow(&mut b, got).await;
        assert_eq!(got.status, 200);
        bodies.push(without_nonce(&got));
    }
    assert_eq!(bodies[0], bodies[1]);
    assert_eq!(bodies[0], bodies[2]);
    h.drain().await;
    assert_eq!(h.mails().len(), 1);
}

/// Issue 13: the reset cookie, the masked account, tenant binding (a04) and the Host check.
#[path = "pages/links.rs"]
mod links;

#[path = "pages/wording.rs"]
mod wording;

#[path = "pages/dead_ends.rs"]
mod dead_ends;

/// Code delivery: code page to new-password page, wrong codes, a flow's death.
#[path = "pages/code_flow.rs"]
mod code_flow;

/// The CSP nonce a response's header allows.
fn csp_nonce(got: &Got) -> String {
    let csp = got.header("content-security-policy").unwrap();
    let start = csp.find("'nonce-").unwrap() + "'nonce-".len();
    csp[start..start + csp[start..].find('\'').unwrap()].to_owned()
}

/// Issue 17 item 3: the request form is rendered once per configuration and locale and
/// spliced per visitor, so two visitors' pages differ in exactly the nonce and the CSRF
/// token, each the one of its own response, and each form still submits.
#[tokio::test]
async fn a_kept_request_form_differs_per_visitor_only_in_its_nonce_and_token() {
    let (h, _) = setup().await;
    let mut visitors = Vec::new();
    for _ in 0..3 {
        let mut b = Browser::new(app(h.state.clone()));
        let page = b.get("/reset?client_id=fitlife-web&locale=en").await;
        assert_eq!(page.status, 200, "{}", page.body);
        visitors.push((b, page));
    }
    assert!(!h.state.pages.is_empty(), "the page was kept");
    let normalised: Vec<String> = visitors
        .iter()
        .map(|(_, page)| {
            let nonce = csp_nonce(page);
            let token = common::hidden_fields(&page.body)
                .into_iter()
                .find(|(name, _)| name == "csrf_token")
                .map(|(_, value)| value)
                .unwrap();
            assert!(
                page.body.contains(&format!("nonce=\"{nonce}\"")),
                "the page's style and scripts carry its own response's nonce"
            );
            page.body.replace(&nonce, "NONCE").replace(&token, "TOKEN")
        })
        .collect();
    assert_ne!(csp_nonce(&visitors[1].1), csp_nonce(&visitors[2].1));
    assert_eq!(
        normalised[0], normalised[1],
        "a kept page is the rendered page"
    );
    assert_eq!(normalised[1], normalised[2]);
    // And the kept page is what a direct rendering gives.
    let mut direct_state = h.state.clone();
    direct_state.pages = std::sync::Arc::new(passgate_web::pages::cache::RenderedPages::disabled());
    let mut b = Browser::new(app(direct_state.clone()));
    let direct = b.get("/reset?client_id=fitlife-web&locale=en").await;
    let token = common::hidden_fields(&direct.body)
        .into_iter()
        .find(|(name, _)| name == "csrf_token")
        .map(|(_, value)| value)
        .unwrap();
    let direct_body = direct
        .body
        .replace(&csp_nonce(&direct), "NONCE")
        .replace(&token, "TOKEN");
    assert_eq!(
        normalised[0], direct_body,
        "the kept page renders as the direct one"
    );
    assert!(direct_state.pages.is_empty());
    for (mut b, page) in visitors {
        let posted = b
            .submit(&page, "/reset", &[("email", "ada@example.com")])
            .await;
        assert_eq!(posted.status, 303, "each visitor's own token is accepted");
    }
    // Another locale is another page, not the kept English one.
    let mut b = Browser::new(app(h.state.clone()));
    let german = b.get("/reset?client_id=fitlife-web&locale=de").await;
    assert!(german.body.contains("lang=\"de\""), "{}", german.body);
}

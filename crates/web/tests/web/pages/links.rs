//! Issue 13 through the web layer: the reset cookie only for a working link, the masked
//! account, a token refused through another tenant's client id and host (a04), and the Host
//! check against a real server.

use super::*;

/// Whether `got` sets the reset cookie to a value (deleting it is fine).
fn sets_reset_cookie(got: &Got) -> bool {
    got.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|c| c.starts_with("__Host-pg-reset=") && !c.starts_with("__Host-pg-reset=;"))
}

#[tokio::test]
async fn the_reset_cookie_is_set_only_for_a_link_that_works_now() {
    let (h, mut b) = setup().await;
    // Anything shaped like a token (43 base64url characters) but not issued: no cookie.
    for forged in [
        "A".repeat(43),
        "x".repeat(43),
        "0123456789-_".repeat(4)[..43].to_owned(),
    ] {
        let mut fresh = Browser::new(app(h.state.clone()));
        let got = fresh.get(&format!("/reset/confirm?token={forged}")).await;
        assert_eq!(got.status, 410, "{forged}");
        assert!(!sets_reset_cookie(&got), "a cookie for {forged}");
    }
    // A real link: the cookie, then the page.
    let link = request_link(&h, &mut b, "client_id=fitlife-web", "ada@example.com").await;
    let moved = b.get(&link.replacen(BASE, "", 1)).await;
    assert_eq!(moved.status, 303);
    assert!(sets_reset_cookie(&moved));
    // Expired: no cookie any more.
    h.clock.advance(chrono::TimeDelta::hours(2));
    let mut late = Browser::new(app(h.state.clone()));
    let got = late.get(&link.replacen(BASE, "", 1)).await;
    assert_eq!(got.status, 410);
    assert!(!sets_reset_cookie(&got));
}

#[tokio::test]
async fn the_new_password_page_shows_the_masked_account_of_the_link() {
    let (h, mut b) = setup().await;
    let link = request_link(&h, &mut b, "client_id=fitlife-web", "ada@example.com").await;
    // Whatever the request says about an account, the page shows the token's.
    b.get(&format!(
        "{}&email=mallory%40evil.example",
        link.replacen(BASE, "", 1)
    ))
    .await;
    let page = b.get("/reset/confirm").await;
    assert_eq!(page.status, 200, "{}", page.body);
    // FitLife's locale is German; every theme catalog and locale has the line.
    assert!(
        page.body
            .contains("Dieser Link gilt für das Konto a\u{2022}\u{2022}@example.com."),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("ada@example.com"),
        "the full address is on the page"
    );
    assert!(!page.body.contains("mallory"));
    // The public API tells a native screen the same.
    let token = token_of(&link);
    let api = b.get(&format!("/v1/password-resets/{token}")).await;
    assert_eq!(api.status, 200, "{}", api.body);
    let json: serde_json::Value = serde_json::from_str(&api.body).unwrap();
    assert_eq!(json["account"], "a\u{2022}\u{2022}@example.com");
}

/// Security item 4, through the web layer: tenant A's (FitLife's) token presented through
/// tenant B's (Northbank's) client id and custom host gets the generic invalid-link page,
/// no cookie, no page in B's name and no provider call. (Replaces the engine-level
/// `security_a::a04`, which could not see hosts or client ids.)
#[tokio::test]
async fn a04_a_token_presented_through_another_tenants_client_id_and_host_is_refused() {
    let h = Harness::new(BASE).await;
    let mut state = h.state.clone();
    let mut settings = (*state.settings).clone();
    settings
        .custom_hosts
        .insert("reset.northbank.example".into(), "northbank-mobile".into());
    state.settings = std::sync::Arc::new(settings);
    let mut own = Browser::new(app(state.clone()));
    let link = request_link(&h, &mut own, "client_id=fitlife-web", "ada@example.com").await;
    let token = token_of(&link);

    let mut b = Browser::new(app(state.clone()));
    b.host = Some("reset.northbank.example".into());
    b.origin = Some("https://reset.northbank.example".into());
    let generic = without_nonce(&b.get("/reset/confirm").await);
    for uri in [
        format!("/reset/confirm?token={token}&client_id=northbank-mobile"),
        format!("/reset/confirm?token={token}"),
    ] {
        let got = b.get(&uri).await;
        assert_eq!(got.status, 410, "{uri}");
        assert!(!sets_reset_cookie(&got), "{uri}");
        // The invalid-link page of the host's own app, as for any unusable token there:
        // nothing of the token's tenant shows.
        assert_eq!(
            without_nonce(&got),
            generic,
            "{uri}: not the host's invalid-link page"
        );
        assert!(!got.body.contains("FitLife"));
    }
    // The public host with Northbank's client id: refused as well.
    let got = own
        .get(&format!(
            "/reset/confirm?token={token}&client_id=northbank-mobile"
        ))
        .await;
    assert_eq!(got.status, 410);
    assert!(!sets_reset_cookie(&got));
    // A reset cookie carried over to B's host (an attacker's own client) is refused too.
    own.get(&link.replacen(BASE, "", 1)).await;
    let cookie = own.cookies.get("__Host-pg-reset").cloned().unwrap();
    b.cookies.insert("__Host-pg-reset".into(), cookie);
    let got = b.get("/reset/confirm").await;
    assert_eq!(got.status, 410);
    let form = b.get("/reset?client_id=northbank-mobile").await;
    let csrf = form.hidden("csrf_token").unwrap();
    let got = b
        .post(
            "/reset/confirm",
            &[
                ("csrf_token", csrf.as_str()),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(got.status, 410, "{}", got.body);
    assert_eq!(
        h.password_patches(),
        0,
        "a provider call through another tenant"
    );
    // Through its own tenant the link still works.
    let page = own.get("/reset/confirm").await;
    let done = own
        .submit(
            &page,
            "/reset/confirm",
            &[("password", PASSWORD), ("password_confirm", PASSWORD)],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(h.password_patches(), 1);
}

/// Sends `raw` to `addr` and returns the status line's code.
async fn raw_status(addr: std::net::SocketAddr, raw: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(raw.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&answer);
    let line = text.lines().next().unwrap_or_default();
    line.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// Security item 41 against a real server and a raw TCP client: no `Host`, an absolute URI
/// for another authority, or an unknown `Host` get 400 before any work; nothing is mailed.
#[tokio::test]
async fn requests_without_a_known_host_get_400_from_a_real_server() {
    use poem::{
        Server,
        listener::{Acceptor, TcpAcceptor},
    };
    let h = Harness::new(BASE).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let acceptor = TcpAcceptor::from_tokio(listener).unwrap();
    let addr = acceptor.local_addr()[0].as_socket_addr().copied().unwrap();
    let server = tokio::spawn(Server::new_with_acceptor(acceptor).run(app(h.state.clone())));
    let page = "/reset?client_id=fitlife-web";
    let good = format!(
        "GET {page} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        common::HOST
    );
    assert_eq!(
        raw_status(addr, &good).await,
        200,
        "the configured host is served"
    );
    let refused = [
        ("HTTP/1.0 without Host", format!("GET {page} HTTP/1.0\r\n\r\n")),
        ("HTTP/1.1 without Host", format!("GET {page} HTTP/1.1\r\nConnection: close\r\n\r\n")),
        (
            "absolute URI for another authority",
            format!("GET http://evil.example{page} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", common::HOST),
        ),
        (
            "unknown Host",
            format!("GET {page} HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n"),
        ),
        (
            "userinfo trick",
            format!("GET {page} HTTP/1.1\r\nHost: {}@evil.example\r\nConnection: close\r\n\r\n", common::HOST),
        ),
        (
            "POST without Host",
            "POST /v1/password-resets HTTP/1.0\r\ncontent-type: application/json\r\ncontent-length: 53\r\n\r\n{\"client_id\":\"fitlife-web\",\"email\":\"ada@example.com\"}".to_owned(),
        ),
    ];
    for (what, raw) in refused {
        assert_eq!(raw_status(addr, &raw).await, 400, "{what}");
    }
    h.drain().await;
    assert!(h.mails().is_empty(), "a refused request sent mail");
    server.abort();
}

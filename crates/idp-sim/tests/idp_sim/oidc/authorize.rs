//! Discovery, the sign-in page and the authorization endpoint's refusals.

use super::*;

#[tokio::test]
async fn discovery_names_the_issuer_endpoints_and_what_it_supports() {
    let sim = sim().await;
    let issuer = sim.oidc_issuer();
    assert_eq!(issuer, format!("{}/oidc", sim.base_url));
    let (status, _, body) = http(
        sim.addr,
        "GET",
        "/oidc/.well-known/openid-configuration",
        "",
        &[],
        "",
    )
    .await;
    assert_eq!(status, 200);
    let doc: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["issuer"], issuer);
    assert_eq!(doc["authorization_endpoint"], format!("{issuer}/authorize"));
    assert_eq!(doc["token_endpoint"], format!("{issuer}/token"));
    assert_eq!(doc["jwks_uri"], format!("{issuer}/jwks"));
    assert_eq!(doc["response_types_supported"], json!(["code"]));
    assert_eq!(doc["subject_types_supported"], json!(["public"]));
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        json!(["RS256", "ES256"])
    );
    assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(
        doc["token_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post", "none"])
    );
    assert_eq!(doc["grant_types_supported"], json!(["authorization_code"]));
    assert_eq!(
        doc["scopes_supported"],
        json!(["openid", "email", "profile"])
    );
    let claims = doc["claims_supported"].as_array().unwrap();
    for claim in ["sub", "iss", "aud", "nonce", "email", "passgate_role"] {
        assert!(claims.contains(&json!(claim)), "{claim}");
    }
}

#[tokio::test]
async fn without_an_oidc_section_every_oidc_route_is_404() {
    let sim = passgate_idp_sim::start(SimConfig::default()).await.unwrap();
    for (method, path) in [
        ("GET", "/oidc/.well-known/openid-configuration"),
        ("GET", "/oidc/jwks"),
        ("GET", "/oidc/authorize"),
        ("POST", "/oidc/token"),
    ] {
        let (status, _, _) = http(sim.addr, method, path, "", &[], "").await;
        assert_eq!(status, 404, "{method} {path}");
    }
}

#[tokio::test]
async fn the_seed_refuses_extra_claims_named_like_the_issuers_own() {
    let mut oidc = settings();
    oidc.people[0].claims.insert("aud".into(), json!("evil"));
    let error = passgate_idp_sim::start(SimConfig {
        oidc: Some(oidc),
        ..SimConfig::default()
    })
    .await
    .unwrap_err();
    assert!(error.to_string().contains("aud"), "{error}");
}

#[tokio::test]
async fn the_sign_in_page_lists_the_people_and_carries_the_request() {
    let sim = sim().await;
    let pairs = with(
        request(CONSOLE, CONSOLE_REDIRECT),
        "login_hint",
        Some("grace@example.com"),
    );
    let (status, headers, page) = get_authorize(&sim, &pairs).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(header(&headers, "cache-control"), Some("no-store"));
    assert!(page.contains("<html lang=\"en\">"));
    assert!(page.contains("<title>") && page.contains("<main>") && page.contains("<h1>"));
    assert!(!page.contains("<script"));
    assert!(page.contains("<form method=\"post\" action=\"/oidc/authorize\">"));
    // Names are escaped; each person is a labelled radio button.
    assert!(
        page.contains("Ada &lt;Lovelace&gt; (ada@example.com)"),
        "{page}"
    );
    assert!(page.contains("value=\"ada-1\">"), "{page}");
    // login_hint preselects Grace.
    assert!(page.contains("value=\"grace-2\" checked>"), "{page}");
    // The state travels in a hidden field, escaped.
    assert!(
        page.contains("name=\"state\" value=\"st a&amp;te=/ü+%\""),
        "{page}"
    );
    assert!(page.contains("value=\"sign_in\">Sign in</button>"));
    assert!(page.contains("value=\"cancel\">Cancel</button>"));

    // Without a hint the first person is checked.
    let (_, _, page) = get_authorize(&sim, &request(CONSOLE, CONSOLE_REDIRECT)).await;
    assert!(page.contains("value=\"ada-1\" checked>"), "{page}");
}

#[tokio::test]
async fn the_code_flow_gives_an_rs256_id_token_that_verifies_with_the_jwks() {
    let sim = sim().await;
    let tokens = console_tokens(&sim).await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3600);
    assert_eq!(tokens["scope"], "openid email profile");
    assert!(tokens["access_token"].as_str().unwrap().len() >= 22);
    let (header, claims) = verify(&sim, tokens["id_token"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["kid"], "sim-rs256-1");
    assert_eq!(header["typ"], "JWT");
    assert_eq!(claims["iss"], sim.oidc_issuer());
    assert_eq!(claims["aud"], CONSOLE);
    assert_eq!(claims["azp"], CONSOLE);
    assert_eq!(claims["sub"], "ada-1");
    assert_eq!(claims["nonce"], NONCE);
    assert_eq!(claims["email"], "ada@example.com");
    assert_eq!(claims["email_verified"], true);
    assert_eq!(claims["name"], "Ada <Lovelace>");
    assert_eq!(claims["passgate_role"], "tenant-editor");
    assert_eq!(claims["passgate_tenants"], json!(["acme"]));
    let (iat, exp) = (
        claims["iat"].as_i64().unwrap(),
        claims["exp"].as_i64().unwrap(),
    );
    assert_eq!(exp - iat, 300);
    assert!(claims["auth_time"].as_i64().unwrap() <= iat);

    // The call log holds neither the code, nor the verifier, nor the secret.
    let log = serde_json::to_string(&sim.calls()).unwrap();
    assert!(!log.contains(VERIFIER));
    assert!(!log.contains(&url_encode(CONSOLE_SECRET)));
    let token_call = sim
        .calls()
        .into_iter()
        .find(|c| c.path == "/oidc/token")
        .unwrap();
    assert!(
        token_call.params["code"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    assert!(token_call.authorized);
}

#[tokio::test]
async fn the_token_answer_is_not_cached() {
    let sim = sim().await;
    let code = console_code(&sim).await;
    let (status, headers, _) = redeem(&sim, &code, VERIFIER, CONSOLE_REDIRECT).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "cache-control"), Some("no-store"));
    assert_eq!(header(&headers, "pragma"), Some("no-cache"));
}

#[tokio::test]
async fn an_es256_public_client_gets_an_es256_id_token_and_its_query_kept() {
    let sim = sim().await;
    let pairs = request(SPA, SPA_REDIRECT);
    let answer = sign_in(&sim, &pairs, Some("grace-2")).await;
    // `redirected` checks the code is appended to the existing query with `&`.
    let query = redirected(&answer, SPA_REDIRECT);
    assert_eq!(param(&query, "from"), Some("sim"));
    let code = param(&query, "code").unwrap();
    assert!(URL_SAFE_NO_PAD.decode(code).unwrap().len() >= 16);
    let mut form = token_form(code, VERIFIER, SPA_REDIRECT);
    form.push(("client_id".into(), SPA.into()));
    let (status, _, body) = post_form(&sim, "/oidc/token", &form, &[]).await;
    assert_eq!(status, 200, "{body}");
    let tokens: Value = serde_json::from_str(&body).unwrap();
    let (header, claims) = verify(&sim, tokens["id_token"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(header["alg"], "ES256");
    assert!(header["kid"].as_str().unwrap().starts_with("sim-es256-"));
    assert_eq!(claims["aud"], SPA);
    assert_eq!(claims["sub"], "grace-2");
    assert!(claims.get("passgate_role").is_none());
}

#[tokio::test]
async fn email_and_name_follow_the_scopes_and_nonce_the_request() {
    let sim = sim().await;
    let pairs = with(request(CONSOLE, CONSOLE_REDIRECT), "scope", Some("openid"));
    let pairs = with(pairs, "nonce", None);
    let code = code_for(&sim, &pairs, "ada-1").await;
    let (status, _, tokens) = redeem(&sim, &code, VERIFIER, CONSOLE_REDIRECT).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["scope"], "openid");
    let (_, claims) = verify(&sim, tokens["id_token"].as_str().unwrap())
        .await
        .unwrap();
    assert!(claims.get("email").is_none() && claims.get("name").is_none());
    assert!(claims.get("nonce").is_none());
    assert_eq!(claims["passgate_role"], "tenant-editor");
}

#[tokio::test]
async fn an_unregistered_client_or_redirect_uri_gets_a_400_page_never_a_redirect() {
    let sim = sim().await;
    let cases = [
        request(CONSOLE, "https://evil.example.com/cb"),
        // A prefix match is not a match.
        request(CONSOLE, &format!("{CONSOLE_REDIRECT}/more")),
        request(CONSOLE, SPA_REDIRECT),
        request("nobody", CONSOLE_REDIRECT),
        with(request(CONSOLE, CONSOLE_REDIRECT), "redirect_uri", None),
    ];
    for pairs in cases {
        for answer in [
            get_authorize(&sim, &pairs).await,
            sign_in(&sim, &pairs, Some("ada-1")).await,
        ] {
            assert_eq!(answer.0, 400, "{pairs:?}");
            assert_eq!(header(&answer.1, "location"), None);
            assert!(answer.2.contains("<h1>"));
        }
    }
}

#[tokio::test]
async fn bad_requests_go_back_to_the_client_with_the_error_and_state() {
    let sim = sim().await;
    let base = || request(CONSOLE, CONSOLE_REDIRECT);
    let cases = [
        (
            with(base(), "response_type", Some("token")),
            "unsupported_response_type",
        ),
        (
            with(base(), "scope", Some("email profile")),
            "invalid_scope",
        ),
        (with(base(), "code_challenge", None), "invalid_request"),
        (
            with(base(), "code_challenge_method", Some("plain")),
            "invalid_request",
        ),
        (
            with(base(), "code_challenge_method", None),
            "invalid_request",
        ),
        (
            with(base(), "code_challenge", Some("too-short")),
            "invalid_request",
        ),
        (
            with(base(), "code_challenge", Some(&"*".repeat(43))),
            "invalid_request",
        ),
    ];
    for (pairs, error) in cases {
        for answer in [
            get_authorize(&sim, &pairs).await,
            // The form's hidden fields are checked again.
            sign_in(&sim, &pairs, Some("ada-1")).await,
        ] {
            let query = redirected(&answer, CONSOLE_REDIRECT);
            assert_eq!(param(&query, "error"), Some(error), "{pairs:?}");
            assert!(param(&query, "error_description").is_some());
            assert_eq!(param(&query, "state"), Some(STATE));
            assert_eq!(param(&query, "code"), None);
        }
    }
}

#[tokio::test]
async fn cancel_is_access_denied() {
    let sim = sim().await;
    let answer = sign_in(&sim, &request(CONSOLE, CONSOLE_REDIRECT), None).await;
    let query = redirected(&answer, CONSOLE_REDIRECT);
    assert_eq!(param(&query, "error"), Some("access_denied"));
    assert_eq!(param(&query, "state"), Some(STATE));
    assert_eq!(param(&query, "code"), None);
}

#[tokio::test]
async fn an_unknown_subject_gets_a_400_page() {
    let sim = sim().await;
    let answer = sign_in(&sim, &request(CONSOLE, CONSOLE_REDIRECT), Some("mallory")).await;
    assert_eq!(answer.0, 400);
    assert_eq!(header(&answer.1, "location"), None);
}

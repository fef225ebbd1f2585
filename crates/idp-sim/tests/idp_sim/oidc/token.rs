//! The token endpoint (codes, PKCE, client authentication) and the ID-token faults.

use super::*;

#[tokio::test]
async fn a_wrong_verifier_is_invalid_grant_and_burns_the_code() {
    let sim = sim().await;
    let code = console_code(&sim).await;
    let other = "x".repeat(43);
    invalid_grant(redeem(&sim, &code, &other, CONSOLE_REDIRECT).await);
    invalid_grant(redeem(&sim, &code, VERIFIER, CONSOLE_REDIRECT).await);

    // A verifier outside RFC 7636's alphabet or length, even one hashing right, is refused.
    for verifier in ["short", &format!("{}!", "a".repeat(50)), &"a".repeat(129)] {
        let pairs = with(
            request(CONSOLE, CONSOLE_REDIRECT),
            "code_challenge",
            Some(&challenge(verifier)),
        );
        let code = code_for(&sim, &pairs, "ada-1").await;
        invalid_grant(redeem(&sim, &code, verifier, CONSOLE_REDIRECT).await);
    }
}

#[tokio::test]
async fn a_code_works_once() {
    let sim = sim().await;
    let code = console_code(&sim).await;
    let (status, _, _) = redeem(&sim, &code, VERIFIER, CONSOLE_REDIRECT).await;
    assert_eq!(status, 200);
    invalid_grant(redeem(&sim, &code, VERIFIER, CONSOLE_REDIRECT).await);
}

#[tokio::test]
async fn the_token_redirect_uri_must_be_the_authorize_one() {
    let sim = sim().await;
    let code = console_code(&sim).await;
    let other = format!("{CONSOLE_REDIRECT}/");
    invalid_grant(redeem(&sim, &code, VERIFIER, &other).await);
}

#[tokio::test]
async fn a_code_expires_after_sixty_seconds() {
    let sim = sim().await;
    // Still good just before the minute is up.
    let code = console_code(&sim).await;
    sim.advance_clock(Duration::from_secs(58));
    let (status, _, body) = redeem(&sim, &code, VERIFIER, CONSOLE_REDIRECT).await;
    assert_eq!(status, 200, "{body}");
    let code = console_code(&sim).await;
    sim.advance_clock(Duration::from_secs(61));
    invalid_grant(redeem(&sim, &code, VERIFIER, CONSOLE_REDIRECT).await);
}

#[tokio::test]
async fn a_code_is_bound_to_its_client() {
    let sim = sim().await;
    let code = console_code(&sim).await;
    let mut form = token_form(&code, VERIFIER, CONSOLE_REDIRECT);
    form.push(("client_id".into(), SPA.into()));
    let (status, _, body) = post_form(&sim, "/oidc/token", &form, &[]).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("\"invalid_grant\""));
}

#[tokio::test]
async fn client_authentication_is_strict() {
    let sim = sim().await;
    let form = |code: &str| token_form(code, VERIFIER, CONSOLE_REDIRECT);
    let plus = |mut pairs: Vec<(String, String)>, extra: &[(&str, &str)]| {
        pairs.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        pairs
    };
    let wrong = basic(CONSOLE, "wrong");
    let right = basic(CONSOLE, CONSOLE_SECRET);
    // Not url-encoded before base64: `:` in the secret splits it wrongly.
    let raw = format!(
        "Basic {}",
        STANDARD.encode(format!("{CONSOLE}:{CONSOLE_SECRET}"))
    );
    let unauthorized: [(Pairs, Vec<(&str, &str)>); 5] = [
        (form("c"), vec![("authorization", &wrong)]),
        (form("c"), vec![("authorization", raw.as_str())]),
        (
            plus(
                form("c"),
                &[("client_id", CONSOLE), ("client_secret", "wrong")],
            ),
            vec![],
        ),
        (plus(form("c"), &[("client_id", CONSOLE)]), vec![]),
        // A public client has no secret to send.
        (
            plus(form("c"), &[("client_id", SPA), ("client_secret", "x")]),
            vec![],
        ),
    ];
    for (pairs, headers) in unauthorized {
        let (status, answer, body) = post_form(&sim, "/oidc/token", &pairs, &headers).await;
        assert_eq!(status, 401, "{pairs:?} {body}");
        assert!(body.contains("\"invalid_client\""), "{body}");
        assert!(
            header(&answer, "www-authenticate")
                .unwrap()
                .starts_with("Basic")
        );
    }
    // Two methods at once.
    let pairs = plus(form("c"), &[("client_secret", CONSOLE_SECRET)]);
    let (status, _, body) =
        post_form(&sim, "/oidc/token", &pairs, &[("authorization", &right)]).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("\"invalid_request\""), "{body}");

    // client_secret_post with the right secret works.
    let code = console_code(&sim).await;
    let pairs = plus(
        form(&code),
        &[("client_id", CONSOLE), ("client_secret", CONSOLE_SECRET)],
    );
    let (status, _, body) = post_form(&sim, "/oidc/token", &pairs, &[]).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn the_token_endpoint_wants_a_form_and_the_code_grant() {
    let sim = sim().await;
    let auth = basic(CONSOLE, CONSOLE_SECRET);
    let body = json!({ "grant_type": "authorization_code", "code": "c" }).to_string();
    let (status, _, text) = http(
        sim.addr,
        "POST",
        "/oidc/token",
        "application/json",
        &[("authorization", &auth)],
        &body,
    )
    .await;
    assert_eq!(status, 400);
    assert!(text.contains("\"invalid_request\""), "{text}");
    let pairs = with(
        token_form("c", VERIFIER, CONSOLE_REDIRECT),
        "grant_type",
        Some("password"),
    );
    let (status, _, text) =
        post_form(&sim, "/oidc/token", &pairs, &[("authorization", &auth)]).await;
    assert_eq!(status, 400);
    assert!(text.contains("\"unsupported_grant_type\""), "{text}");
}

#[tokio::test]
async fn each_id_token_fault_makes_the_tokens_wrong_as_named_until_cleared() {
    let sim = sim().await;
    for fault in IdTokenFault::ALL {
        sim.set_oidc_id_token_fault(Some(fault));
        let token = console_tokens(&sim).await["id_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let parts: Vec<&str> = token.split('.').collect();
        let (header, claims) = (decode_part(parts[0]), decode_part(parts[1]));
        let verified = verify(&sim, &token).await;
        let verifies = verified.is_ok();
        match fault {
            IdTokenFault::BadSignature => {
                assert_eq!(verified.unwrap_err(), "bad signature");
            }
            IdTokenFault::WrongAudience => {
                assert_eq!(verified.unwrap().1["aud"], "another-client");
            }
            IdTokenFault::WrongIssuer => {
                let iss = format!("{}/evil", sim.oidc_issuer());
                assert_eq!(verified.unwrap().1["iss"], iss);
            }
            IdTokenFault::Expired => {
                // Relative to the sign-in a moment ago (the simulator clock).
                let claims = verified.unwrap().1;
                let signed_in = claims["auth_time"].as_i64().unwrap();
                assert!(claims["exp"].as_i64().unwrap() <= signed_in - 599);
                assert!(claims["iat"].as_i64().unwrap() <= signed_in - 899);
            }
            IdTokenFault::WrongNonce => {
                assert_eq!(verified.unwrap().1["nonce"], "not-the-nonce");
            }
            IdTokenFault::AlgNone => {
                assert_eq!(header["alg"], "none");
                assert_eq!(parts[2], "");
                assert!(verified.is_err());
            }
            IdTokenFault::UnknownKid => {
                assert_eq!(header["kid"], "rotated-away");
                assert!(verified.is_err());
            }
        }
        // Everything the fault does not name is still right.
        if fault != IdTokenFault::WrongAudience {
            assert_eq!(claims["aud"], CONSOLE, "{fault:?}");
        }
        if fault != IdTokenFault::WrongNonce {
            assert_eq!(claims["nonce"], NONCE, "{fault:?}");
        }
        // It stays set.
        let again = console_tokens(&sim).await["id_token"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(verify(&sim, &again).await.is_ok(), verifies, "{fault:?}");
    }
    sim.set_oidc_id_token_fault(None);
    let token = console_tokens(&sim).await["id_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, claims) = verify(&sim, &token).await.unwrap();
    assert_eq!(claims["aud"], CONSOLE);
}

#[tokio::test]
async fn the_control_api_sets_and_clears_the_id_token_fault() {
    let sim = sim().await;
    let path = "/_sim/oidc/id_token_fault";
    let put = |body: Value| async move { json_call(sim.addr, "PUT", path, body).await };
    assert_eq!(put(json!({ "fault": "wrong_issuer" })).await.0, 200);
    let (_, state) = json_call(sim.addr, "GET", path, json!({})).await;
    assert_eq!(state, json!({ "fault": "wrong_issuer" }));
    let token = console_tokens(&sim).await["id_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, claims) = verify(&sim, &token).await.unwrap();
    assert_eq!(claims["iss"], format!("{}/evil", sim.oidc_issuer()));
    assert_eq!(put(json!({ "fault": "no_such_fault" })).await.0, 400);
    assert_eq!(put(json!({ "fault": null })).await.0, 200);
    let token = console_tokens(&sim).await["id_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, claims) = verify(&sim, &token).await.unwrap();
    assert_eq!(claims["iss"], sim.oidc_issuer());
}

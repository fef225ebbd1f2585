//! `GET /oidc/authorize` (the sign-in page) and `POST /oidc/authorize` (the page's answer):
//! the authorization code flow's front channel, with PKCE (S256) required.
//!
//! An unknown client or a redirect URI not registered exactly is answered with a 400 page,
//! never a redirect (RFC 6749 §4.1.2.1); every other refusal goes back to the redirect URI
//! as `error=…&error_description=…&state=…`. The form's hidden fields are checked again on
//! `POST`: nothing the browser sends back is trusted.

use std::collections::BTreeSet;

use chrono::Duration;

use super::settings::{OidcClient, OidcSettings};
use super::{SigningKeys, escape, no_store};
use crate::state::{OidcCode, SimState};
use crate::wire::{Input, Reply};

/// How long an authorization code can be redeemed.
const CODE_TTL_SECS: i64 = 60;

/// The parameters an authorization request carries (all carried through the page).
const PARAMS: [&str; 9] = [
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "login_hint",
];

/// An authorization request; an empty parameter counts as absent (RFC 6749 §3.1).
#[derive(Debug, Default)]
struct AuthRequest {
    values: Vec<(&'static str, String)>,
    /// A parameter sent more than once (RFC 6749 §3.1 forbids it).
    repeated: Option<String>,
}

impl AuthRequest {
    fn from_pairs(pairs: impl Iterator<Item = (String, String)>) -> Self {
        let mut request = Self::default();
        let mut seen = BTreeSet::new();
        for (key, value) in pairs {
            if !seen.insert(key.clone()) {
                request.repeated.get_or_insert(key.clone());
            }
            if let Some(name) = PARAMS.iter().find(|p| **p == key)
                && !value.is_empty()
            {
                request.values.retain(|(k, _)| k != name);
                request.values.push((name, value));
            }
        }
        request
    }

    fn from_query(input: &Input) -> Self {
        let query = input.query.as_deref().unwrap_or_default();
        Self::from_pairs(url::form_urlencoded::parse(query.as_bytes()).into_owned())
    }

    fn from_form(input: &Input) -> Self {
        Self::from_pairs(
            input
                .params
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))),
        )
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Why a request is refused.
enum Refusal {
    /// A 400 page: the redirect URI cannot be trusted.
    Page(String),
    /// Back to the (registered) redirect URI with an OAuth error.
    Redirect(&'static str, &'static str),
}

/// Checks a request as a strict provider does; the client and its redirect URI when valid.
fn validate<'a>(
    settings: &'a OidcSettings,
    request: &AuthRequest,
) -> Result<(&'a OidcClient, String), Refusal> {
    let client_id = request.get("client_id").unwrap_or_default();
    let client = settings
        .clients
        .iter()
        .find(|c| c.client_id == client_id)
        .ok_or_else(|| Refusal::Page(format!("Unknown client {client_id:?}.")))?;
    let redirect_uri = request
        .get("redirect_uri")
        .filter(|uri| client.redirect_uris.iter().any(|r| r == uri))
        .ok_or_else(|| {
            Refusal::Page("The redirect_uri is missing or not registered for this client.".into())
        })?;
    match request.repeated.as_deref() {
        Some("client_id" | "redirect_uri") => {
            return Err(Refusal::Page(
                "client_id or redirect_uri is repeated.".into(),
            ));
        }
        Some(_) => {
            return Err(Refusal::Redirect(
                "invalid_request",
                "a parameter is repeated",
            ));
        }
        None => {}
    }
    match request.get("response_type") {
        None => {
            return Err(Refusal::Redirect(
                "invalid_request",
                "response_type is missing",
            ));
        }
        Some("code") => {}
        Some(_) => {
            return Err(Refusal::Redirect(
                "unsupported_response_type",
                "only response_type=code is supported",
            ));
        }
    }
    let scope = request.get("scope").unwrap_or_default();
    if !scope.split(' ').any(|s| s == "openid") {
        return Err(Refusal::Redirect(
            "invalid_scope",
            "scope must include openid",
        ));
    }
    let Some(challenge) = request.get("code_challenge") else {
        return Err(Refusal::Redirect(
            "invalid_request",
            "code_challenge is required (PKCE)",
        ));
    };
    if request.get("code_challenge_method") != Some("S256") {
        return Err(Refusal::Redirect(
            "invalid_request",
            "code_challenge_method must be S256",
        ));
    }
    let base64url = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    if challenge.len() != 43 || !challenge.bytes().all(base64url) {
        return Err(Refusal::Redirect(
            "invalid_request",
            "code_challenge must be 43 base64url characters",
        ));
    }
    Ok((client, redirect_uri.to_owned()))
}

/// `GET /oidc/authorize`: the sign-in page, or the request's refusal.
pub(crate) fn show(settings: &OidcSettings, input: &Input) -> Reply {
    let request = AuthRequest::from_query(input);
    match validate(settings, &request) {
        Ok((client, _)) => sign_in_page(settings, client, &request),
        Err(refusal) => refuse(&request, refusal),
    }
}

/// `POST /oidc/authorize`: cancel, or sign the chosen person in and redirect with a code.
pub(crate) fn submit(
    state: &SimState,
    settings: &OidcSettings,
    keys: &SigningKeys,
    input: &Input,
) -> Reply {
    let request = AuthRequest::from_form(input);
    let (client, redirect_uri) = match validate(settings, &request) {
        Ok(valid) => valid,
        Err(refusal) => return refuse(&request, refusal),
    };
    match input.param("action").as_deref() {
        Some("cancel") => {
            return redirect(
                &redirect_uri,
                &[
                    ("error", "access_denied"),
                    ("error_description", "the user cancelled the sign-in"),
                ],
                request.get("state"),
            );
        }
        Some("sign_in") => {}
        _ => return error_page(400, "Choose Sign in or Cancel."),
    }
    let subject = input.param("subject").unwrap_or_default();
    if !settings.people.iter().any(|p| p.subject == subject) {
        return error_page(400, "Unknown person: choose someone from the list.");
    }
    let Some(code) = keys.random_token(32) else {
        return error_page(500, "The simulator could not draw a random code.");
    };
    let mut world = state.world();
    let now = world.now();
    world.oidc_codes.insert(
        code.clone(),
        OidcCode {
            client_id: client.client_id.clone(),
            redirect_uri: redirect_uri.clone(),
            code_challenge: request.get("code_challenge").unwrap_or_default().to_owned(),
            nonce: request.get("nonce").map(str::to_owned),
            scope: request.get("scope").unwrap_or_default().to_owned(),
            subject,
            auth_time: now,
            expires_at: now + Duration::seconds(CODE_TTL_SECS),
            used: false,
        },
    );
    drop(world);
    redirect(&redirect_uri, &[("code", &code)], request.get("state"))
}

fn refuse(request: &AuthRequest, refusal: Refusal) -> Reply {
    match refusal {
        Refusal::Page(message) => error_page(400, &message),
        Refusal::Redirect(error, description) => redirect(
            request.get("redirect_uri").unwrap_or_default(),
            &[("error", error), ("error_description", description)],
            request.get("state"),
        ),
    }
}

/// A 303 to the redirect URI with `pairs` (and `state`, exactly as received) in its query.
fn redirect(redirect_uri: &str, pairs: &[(&str, &str)], state: Option<&str>) -> Reply {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs {
        query.append_pair(key, value);
    }
    if let Some(state) = state {
        query.append_pair("state", state);
    }
    let separator = match redirect_uri.split_once('?') {
        None => "?",
        Some((_, "")) => "",
        Some((_, q)) if q.ends_with('&') => "",
        Some(_) => "&",
    };
    let location = format!("{redirect_uri}{separator}{}", query.finish());
    no_store(Reply::html(303, "").with_header("location", location))
}

fn sign_in_page(settings: &OidcSettings, client: &OidcClient, request: &AuthRequest) -> Reply {
    let hint = request.get("login_hint");
    let chosen = settings
        .people
        .iter()
        .position(|p| hint.is_some_and(|h| h == p.email || h == p.subject))
        .unwrap_or(0);
    let hidden: String = request
        .values
        .iter()
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{k}\" value=\"{}\">\n",
                escape(v)
            )
        })
        .collect();
    let people: String = settings
        .people
        .iter()
        .enumerate()
        .map(|(i, p)| {
            format!(
                "<div><input type=\"radio\" id=\"person-{i}\" name=\"subject\" value=\"{}\"{}> \
                 <label for=\"person-{i}\">{} ({})</label></div>\n",
                escape(&p.subject),
                if i == chosen { " checked" } else { "" },
                escape(&p.name),
                escape(&p.email),
            )
        })
        .collect();
    let choice = if settings.people.is_empty() {
        "<p>No one is configured to sign in.</p>\n".to_owned()
    } else {
        format!(
            "<fieldset>\n<legend>Sign in as</legend>\n{people}</fieldset>\n\
             <button type=\"submit\" name=\"action\" value=\"sign_in\">Sign in</button>\n"
        )
    };
    let body = format!(
        "<p>The application <strong>{}</strong> asks you to sign in.</p>\n\
         <form method=\"post\" action=\"/oidc/authorize\">\n{hidden}{choice}\
         <button type=\"submit\" name=\"action\" value=\"cancel\">Cancel</button>\n</form>\n",
        escape(&client.client_id)
    );
    page(200, "Sign in", &body)
}

fn error_page(status: u16, message: &str) -> Reply {
    page(
        status,
        "Sign-in request refused",
        &format!("<p>{}</p>\n", escape(message)),
    )
}

/// A whole page: no scripts, not cached, not framed, no referrer.
fn page(status: u16, title: &str, body: &str) -> Reply {
    let title = escape(title);
    let html = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} – Demo identity provider</title>\n\
         <style>body{{font-family:sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem}}\
         fieldset{{margin:1rem 0}}button{{margin-right:.5rem}}</style>\n</head>\n<body>\n<main>\n\
         <h1>Demo identity provider</h1>\n<h2>{title}</h2>\n{body}</main>\n</body>\n</html>\n"
    );
    no_store(Reply::html(status, &html))
        .with_header("referrer-policy", "no-referrer")
        .with_header(
            "content-security-policy",
            "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'",
        )
}

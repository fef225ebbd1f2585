//! Enumeration and budgets over real sockets: the real `passgate serve`, `passgate idp-sim`
//! and SMTP sink of the testbed, and HTTP clients that connect from chosen loopback
//! addresses. The gateway trusts `127.0.0.1` as its proxy (the testbed's setting), so a
//! client connecting from `127.0.0.1` is a trusted proxy and one from `127.0.0.2` is a direct,
//! untrusted peer.
//!
//! - the code-mode pair (issue 13 item 4): Northbank's code page and `/v1` answer a wrong code
//!   for a real account and for `nobody@…` identically, and both flows lock together;
//! - c22 (security item 22): `X-Forwarded-For` is believed from the trusted proxy only, and an
//!   IPv6 client is its /64;
//! - c23 (item 23): flooding one tenant does not exhaust another tenant's budget.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use passgate_testbed::provider_faults::workspace_root;
use passgate_testbed::{Deployment, DeploymentOptions, PUBLIC_HOST, PUBLIC_URL, TestDatabase};
use passgate_testkit::mime::plain_text;
use passgate_testkit::reset_mail::code_in;
use reqwest::blocking::Client;
use serde_json::json;

const PASSGATE: &str = env!("CARGO_BIN_EXE_passgate");

fn deployment(db: &TestDatabase, tenants: Vec<PathBuf>, env: &[(&str, &str)]) -> Deployment {
    let mut options = DeploymentOptions::new(PASSGATE, workspace_root(), db.url());
    options.tenant_files = tenants;
    options.users_per_tenant = 1;
    options.env = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Deployment::start(options).unwrap()
}

/// An HTTP client whose connections come from `local` (a loopback address).
fn client_from(local: &str) -> Client {
    passgate_testkit::blocking_http::builder()
        .local_address(local.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

/// A status and body.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    status: u16,
    body: String,
}

/// A browser at one client address (sent as `X-Forwarded-For` through the trusted loopback
/// proxy): keeps its cookies, sends the public `Host` and our `Origin`.
struct Visitor<'a> {
    http: Client,
    base: &'a str,
    client_ip: String,
    cookies: BTreeMap<String, String>,
}

impl<'a> Visitor<'a> {
    fn new(base: &'a str, client_ip: &str) -> Self {
        Self {
            http: client_from("127.0.0.1"),
            base,
            client_ip: client_ip.to_owned(),
            cookies: BTreeMap::new(),
        }
    }

    fn send(&mut self, request: reqwest::blocking::RequestBuilder) -> Seen {
        let cookie = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let response = request
            .header("Host", PUBLIC_HOST)
            .header("X-Forwarded-For", &self.client_ip)
            .header("Origin", PUBLIC_URL)
            .header("Cookie", cookie)
            .send()
            .unwrap();
        for set in response.headers().get_all("set-cookie") {
            let text = set.to_str().unwrap();
            let pair = text.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                if value.is_empty() || text.contains("Max-Age=0") {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_owned(), value.to_owned());
                }
            }
        }
        Seen {
            status: response.status().as_u16(),
            body: response.text().unwrap(),
        }
    }

    fn get(&mut self, path: &str) -> Seen {
        let request = self.http.get(format!("{}{path}", self.base));
        self.send(request)
    }

    /// Submits `page`'s form (its hidden fields plus `fields`) to `action`.
    fn submit(&mut self, page: &Seen, action: &str, fields: &[(&str, &str)]) -> Seen {
        let mut all = hidden_fields(&page.body);
        all.extend(
            fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let request = self.http.post(format!("{}{action}", self.base)).form(&all);
        self.send(request)
    }

    fn post_json(&mut self, path: &str, body: serde_json::Value) -> Seen {
        let request = self.http.post(format!("{}{path}", self.base)).json(&body);
        self.send(request)
    }
}

/// Every `<input type="hidden" name=… value=…>` of a page, unescaped.
fn hidden_fields(body: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = body;
    let marker = "<input type=\"hidden\" name=\"";
    while let Some(i) = rest.find(marker) {
        rest = &rest[i + marker.len()..];
        let name = &rest[..rest.find('"').unwrap()];
        let start = rest.find("value=\"").unwrap() + "value=\"".len();
        let value = &rest[start..start + rest[start..].find('"').unwrap()];
        out.push((name.to_owned(), unescape(value)));
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&#x2F;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// `seen` with the values that are random per response or per request (CSP nonce, CSRF
/// token, flow id) and the address itself replaced by placeholders.
fn normalized(seen: &Seen, randoms: &[&str]) -> Seen {
    let mut body = seen.body.clone();
    for (name, value) in hidden_fields(&seen.body) {
        if matches!(name.as_str(), "csrf_token" | "flow_id") && !value.is_empty() {
            body = body.replace(&value, &format!("<{name}>"));
        }
    }
    for random in randoms {
        body = body.replace(random, "<random>");
    }
    let mut out = String::new();
    let mut rest = body.as_str();
    while let Some(i) = rest.find("nonce=\"") {
        out.push_str(&rest[..i + 7]);
        rest = &rest[i + 7..];
        let end = rest.find('"').unwrap_or(0);
        out.push_str("<nonce>");
        rest = &rest[end..];
    }
    out.push_str(rest);
    Seen {
        status: seen.status,
        body: out,
    }
}

#[test]
fn code_mode_answers_a_wrong_code_the_same_for_a_real_and_an_unknown_account() {
    let db = TestDatabase::sqlite().unwrap();
    let d = deployment(
        &db,
        vec![workspace_root().join("tenants/northbank.yaml")],
        &[],
    );
    let known = d.tenant("northbank").unwrap().users[0].clone();
    let unknown = "nobody@northbank.example.com".to_owned();
    // The unknown address asks first: once the real account's mail is out, both jobs ran.
    let mut visitors = Vec::new();
    for (i, email) in [&unknown, &known].into_iter().enumerate() {
        let mut visitor = Visitor::new(d.base(), &format!("198.51.100.{}", 20 + i));
        let form = visitor.get("/reset?client_id=northbank-mobile");
        assert_eq!(form.status, 200, "{}", form.body);
        // Post/Redirect/Get: the POST answers 303 to the code form (flow id in a cookie).
        let posted = visitor.submit(&form, "/reset", &[("email", email)]);
        assert_eq!(posted.status, 303, "{}", posted.body);
        let code_page = visitor.get("/reset/code?client_id=northbank-mobile");
        assert_eq!(code_page.status, 200, "{}", code_page.body);
        visitors.push((visitor, code_page));
    }
    let mails = d.mail.wait_for(1, Duration::from_secs(60)).unwrap();
    let code = mails
        .iter()
        .find_map(|m| code_in(&plain_text(&m.data)))
        .expect("the real account got its code");
    std::thread::sleep(Duration::from_secs(1));
    let wrong = if code == "00000000" {
        "11111111"
    } else {
        "00000000"
    };

    // The code page: the same answer for each wrong code, and the same lock after the fifth.
    let mut transcripts = Vec::new();
    for (visitor, code_page) in &mut visitors {
        let mut transcript = Vec::new();
        for _ in 0..6 {
            let answer = visitor.submit(code_page, "/reset/code", &[("code", wrong)]);
            transcript.push(normalized(&answer, &[]));
        }
        transcripts.push(transcript);
    }
    let statuses: Vec<u16> = transcripts[1].iter().map(|s| s.status).collect();
    assert_eq!(statuses[..5], [422; 5], "wrong codes: {statuses:?}");
    assert_ne!(statuses[5], 422, "locked after five wrong codes");
    assert_eq!(
        transcripts[0], transcripts[1],
        "unknown vs known, attempt by attempt"
    );
    // The right code no longer helps the real account.
    let (visitor, code_page) = &mut visitors[1];
    let late = visitor.submit(code_page, "/reset/code", &[("code", &code)]);
    assert_eq!(late.status, statuses[5], "{}", late.body);

    // /v1: a fresh pair, completing with a wrong code.
    let mut answers = Vec::new();
    for (i, email) in [&unknown, &known].into_iter().enumerate() {
        let mut app = Visitor::new(d.base(), &format!("198.51.100.{}", 40 + i));
        let accepted = app.post_json(
            "/v1/password-resets",
            json!({ "client_id": "northbank-mobile", "email": email }),
        );
        assert_eq!(accepted.status, 202, "{}", accepted.body);
        let flow: serde_json::Value = serde_json::from_str(&accepted.body).unwrap();
        answers.push((app, flow["flow_id"].as_str().unwrap().to_owned()));
    }
    d.mail.wait_for(2, Duration::from_secs(60)).unwrap();
    std::thread::sleep(Duration::from_secs(1));
    let mut transcripts = Vec::new();
    for (app, flow_id) in &mut answers {
        let mut transcript = Vec::new();
        for _ in 0..6 {
            let answer = app.post_json(
                &format!("/v1/password-resets/{flow_id}/complete"),
                json!({
                    "password": "Plover-Quartz-Lantern-88!",
                    "password_confirmation": "Plover-Quartz-Lantern-88!",
                    "code": wrong,
                }),
            );
            transcript.push(normalized(&answer, &[flow_id.as_str()]));
        }
        transcripts.push(transcript);
    }
    assert_eq!(transcripts[0], transcripts[1], "/v1: unknown vs known");
    assert!(
        !d.logs().contains("\"status\":500"),
        "no server error:\n{}",
        d.logs()
    );
}

/// Six completion attempts with a made-up token, from `peer`, each carrying the
/// `X-Forwarded-For` that `forwarded(i)` gives; their statuses.
fn six_attempts(base: &str, peer: &str, forwarded: impl Fn(usize) -> String) -> Vec<u16> {
    let http = client_from(peer);
    (0..6)
        .map(|i| {
            http.post(format!(
                "{base}/v1/password-resets/{}/complete",
                "A".repeat(43)
            ))
            .header("Host", PUBLIC_HOST)
            .header("X-Forwarded-For", forwarded(i))
            .json(&json!({ "password": "x", "password_confirmation": "x" }))
            .send()
            .unwrap()
            .status()
            .as_u16()
        })
        .collect()
}

#[test]
fn c22_client_ip_comes_from_trusted_proxies_only() {
    let db = TestDatabase::sqlite().unwrap();
    let d = deployment(
        &db,
        vec![workspace_root().join("tenants/acme-shop.yaml")],
        &[("PASSGATE_REDEEM_PER_IP_PER_HOUR", "3")],
    );
    let limited = vec![410, 410, 410, 429, 429, 429];
    // A direct, untrusted peer rotating a spoofed X-Forwarded-For stays one client.
    assert_eq!(
        six_attempts(d.base(), "127.0.0.2", |i| format!("203.0.113.{i}")),
        limited,
        "untrusted peer"
    );
    // Through the trusted proxy, each forwarded address is its own client …
    assert_eq!(
        six_attempts(d.base(), "127.0.0.1", |i| format!("198.51.100.{i}")),
        vec![410; 6],
        "trusted proxy, six clients"
    );
    // … and only the first untrusted hop from the right counts: a client writing its own
    // X-Forwarded-For in front of the proxy's does not rotate anything.
    assert_eq!(
        six_attempts(d.base(), "127.0.0.1", |i| format!(
            "10.9.9.{i}, 198.51.100.77"
        )),
        limited,
        "client-written hops are not believed"
    );
    // An IPv6 client is its /64: rotating inside it hits the limit, another /64 does not.
    assert_eq!(
        six_attempts(d.base(), "127.0.0.1", |i| format!("2001:db8:5:5:{i}::{i}")),
        limited,
        "one /64"
    );
    assert_eq!(
        six_attempts(d.base(), "127.0.0.1", |i| format!(
            "2001:db8:5:{:x}::1",
            16 + i
        )),
        vec![410; 6],
        "six /64s"
    );
}

#[test]
fn c23_one_tenants_flood_does_not_exhaust_another_tenants_budget() {
    let db = TestDatabase::sqlite().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let acme = std::fs::read_to_string(workspace_root().join("tenants/acme-shop.yaml"))
        .unwrap()
        .replace(
            "requests_per_tenant_per_minute: 600",
            "requests_per_tenant_per_minute: 2",
        );
    assert!(acme.contains("requests_per_tenant_per_minute: 2"));
    let acme_file = dir.path().join("acme-shop.yaml");
    std::fs::write(&acme_file, acme).unwrap();
    let d = deployment(
        &db,
        vec![acme_file, workspace_root().join("tenants/fitlife.yaml")],
        &[],
    );
    let acme_user = d.tenant("acme-shop").unwrap().users[0].clone();
    let fitlife = d.tenant("fitlife").unwrap();
    // Tenant A is flooded from many addresses with many addresses.
    for i in 0..12 {
        let mut app = Visitor::new(d.base(), &format!("198.51.100.{}", 100 + i));
        let answer = app.post_json(
            "/v1/password-resets",
            json!({ "client_id": "acme-shop-ios", "email": format!("nobody{i}@acme-shop.example.com") }),
        );
        assert_eq!(answer.status, 202, "{}", answer.body);
    }
    // Tenant B's user asks from another address and gets their mail.
    let mut app = Visitor::new(d.base(), "192.0.2.77");
    let answer = app.post_json(
        "/v1/password-resets",
        json!({ "client_id": fitlife.client_id, "email": fitlife.users[0] }),
    );
    assert_eq!(answer.status, 202, "{}", answer.body);
    let mails = d.mail.wait_for(1, Duration::from_secs(60)).unwrap();
    assert_eq!(
        mails[0].rcpt_to,
        vec![fitlife.users[0].clone()],
        "{}",
        d.logs()
    );
    // Tenant A was saturated: its tenant bucket refused requests.
    let audit = client_from("127.0.0.1")
        .get(format!("{}/admin/v1/audit?limit=200", d.base()))
        .header("Host", PUBLIC_HOST)
        .bearer_auth(&d.admin_key)
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(audit.contains("rate_limited:tenant"), "{audit}");
    assert!(d.mail.received_for(&acme_user).is_empty());
}

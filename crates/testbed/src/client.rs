//! HTTP clients for system tests: [`ResetClient`] calls the public `/v1` API and pages as an
//! app and its user do (with the public `Host` and an `X-Forwarded-For` client address), and
//! [`AdminClient`] calls the admin API as an operator does.

use std::time::Duration;

use anyhow::{Context as _, bail};
use passgate_tenant::{ResetMode, TenantConfig};
use reqwest::blocking::{Client, Response};
use serde_json::{Value, json};

use crate::PUBLIC_HOST;
use crate::gateway::{AUTH0_CONNECTION, sim_credentials};
use crate::sim::SimProcess;

/// A blocking client for loopback HTTP: no redirects followed, `timeout` per request.
pub fn http_client(timeout: Duration) -> anyhow::Result<Client> {
    passgate_idp::install_crypto_provider();
    Ok(Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .build()?)
}

/// A status and body, whatever the status.
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The body as JSON (`Null` when it is not JSON).
    pub json: Value,
    /// The body as text.
    pub text: String,
}

impl Answer {
    fn read(response: Response) -> anyhow::Result<Self> {
        let status = response.status().as_u16();
        let text = response.text()?;
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(Self { status, json, text })
    }
}

/// The public API of one replica, as seen from client address `client_ip`.
#[derive(Debug, Clone)]
pub struct ResetClient {
    http: Client,
    base: String,
    client_ip: String,
}

impl ResetClient {
    /// A client of the replica at `base` (`http://127.0.0.1:PORT`).
    pub fn new(base: &str) -> anyhow::Result<Self> {
        Ok(Self {
            http: http_client(Duration::from_secs(60))?,
            base: base.trim_end_matches('/').to_owned(),
            client_ip: "203.0.113.7".to_owned(),
        })
    }

    /// The same client, waiting up to `timeout` for each answer.
    pub fn patient(mut self, timeout: Duration) -> anyhow::Result<Self> {
        self.http = http_client(timeout)?;
        Ok(self)
    }

    /// The same client, as seen from another address (the gateway trusts loopback as its
    /// proxy, so `X-Forwarded-For` is believed).
    pub fn from_ip(mut self, ip: &str) -> Self {
        ip.clone_into(&mut self.client_ip);
        self
    }

    fn get(&self, path: &str) -> reqwest::blocking::RequestBuilder {
        self.http
            .get(format!("{}{path}", self.base))
            .header("Host", PUBLIC_HOST)
            .header("X-Forwarded-For", &self.client_ip)
    }

    fn post(&self, path: &str) -> reqwest::blocking::RequestBuilder {
        self.http
            .post(format!("{}{path}", self.base))
            .header("Host", PUBLIC_HOST)
            .header("X-Forwarded-For", &self.client_ip)
    }

    /// `POST /v1/password-resets`.
    pub fn request_reset(&self, client_id: &str, email: &str) -> anyhow::Result<Answer> {
        Answer::read(
            self.post("/v1/password-resets")
                .json(&json!({ "client_id": client_id, "email": email }))
                .send()?,
        )
    }

    /// `GET /v1/password-resets/{token}`.
    pub fn inspect(&self, token: &str) -> anyhow::Result<Answer> {
        Answer::read(self.get(&format!("/v1/password-resets/{token}")).send()?)
    }

    /// `POST /v1/password-resets/{token}/complete` with the password typed twice.
    pub fn complete(&self, token: &str, password: &str) -> anyhow::Result<Answer> {
        Answer::read(
            self.post(&format!("/v1/password-resets/{token}/complete"))
                .json(&json!({ "password": password, "password_confirmation": password }))
                .send()?,
        )
    }

    /// `GET /v1/apps/{client_id}/password-policy`.
    pub fn policy(&self, client_id: &str) -> anyhow::Result<Answer> {
        Answer::read(
            self.get(&format!("/v1/apps/{client_id}/password-policy"))
                .send()?,
        )
    }

    /// `GET /reset?client_id=…`: the hosted request page.
    pub fn request_page(&self, client_id: &str) -> anyhow::Result<Answer> {
        Answer::read(self.get(&format!("/reset?client_id={client_id}")).send()?)
    }
}

/// The admin API of one replica with one key.
#[derive(Debug, Clone)]
pub struct AdminClient {
    http: Client,
    api: String,
    key: String,
}

impl AdminClient {
    /// A client of `{base}/admin/v1` with `key`.
    pub fn new(base: &str, key: &str) -> anyhow::Result<Self> {
        Ok(Self {
            http: http_client(Duration::from_secs(60))?,
            api: format!("{}/admin/v1", base.trim_end_matches('/')),
            key: key.to_owned(),
        })
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::blocking::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.api))
            .header("Host", PUBLIC_HOST)
            .bearer_auth(&self.key)
    }

    /// Binds `tenant` to the simulator (Auth0 or Janrain endpoints by its mode) with the
    /// M2M credentials [`sim_credentials`] seeded there.
    pub fn bind_to_simulator(&self, tenant: &TenantConfig, sim: &SimProcess) -> anyhow::Result<()> {
        let janrain = matches!(tenant.reset.mode, ResetMode::Janrain);
        let (client_id, secret) = sim_credentials(tenant);
        let provider = json!({
            "kind": if janrain { "janrain" } else { "auth0" },
            "domain": if janrain { &sim.janrain_base_url } else { &sim.base_url },
            "management_client_id": client_id,
            "management_client_secret": secret,
            "connection": if janrain { "standard" } else { AUTH0_CONNECTION },
        });
        let answer = Answer::read(
            self.request(
                reqwest::Method::PATCH,
                &format!("/tenants/{}", tenant.id.as_str()),
            )
            .json(&json!({ "provider": provider }))
            .send()?,
        )?;
        if answer.status != 200 {
            bail!(
                "binding {} failed: {} {}",
                tenant.id.as_str(),
                answer.status,
                answer.text
            );
        }
        Ok(())
    }

    /// `GET /tenants/{id}/config`: the active YAML and its version (the ETag).
    pub fn config(&self, tenant: &str) -> anyhow::Result<(String, String)> {
        let response = self
            .request(reqwest::Method::GET, &format!("/tenants/{tenant}/config"))
            .send()?;
        if !response.status().is_success() {
            bail!("GET config of {tenant}: {}", response.status());
        }
        let etag = response
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .context("no ETag on the config")?
            .to_owned();
        Ok((response.text()?, etag))
    }

    /// `PUT /tenants/{id}/config` with `If-Match: etag`.
    pub fn put_config(&self, tenant: &str, yaml: &str, etag: &str) -> anyhow::Result<Answer> {
        Answer::read(
            self.request(reqwest::Method::PUT, &format!("/tenants/{tenant}/config"))
                .header("Content-Type", "application/yaml")
                .header("If-Match", etag)
                .body(yaml.to_owned())
                .send()?,
        )
    }
}

//! [`SimProcess`]: `passgate idp-sim` as its own process, seeded from a [`SimConfig`], with
//! its `/_sim/` control API (faults, users, calls) over HTTP.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, bail};
use passgate_idp_sim::SimConfig;
use serde_json::{Value, json};

use crate::process::ManagedChild;

/// A running simulator process.
#[derive(Debug)]
pub struct SimProcess {
    /// The process (its logs are on stderr).
    pub child: ManagedChild,
    /// `http://127.0.0.1:PORT`: the Auth0 endpoints and `/_sim/`.
    pub base_url: String,
    /// The Janrain endpoints' base.
    pub janrain_base_url: String,
    http: reqwest::blocking::Client,
    _seed: tempfile::NamedTempFile,
}

impl SimProcess {
    /// Writes `seed` to a file and starts `passgate idp-sim --listen 127.0.0.1:0 --users …`.
    pub fn start(passgate: &Path, seed: &SimConfig) -> anyhow::Result<Self> {
        let file = tempfile::Builder::new()
            .prefix("passgate-sim-")
            .suffix(".json")
            .tempfile()?;
        serde_json::to_writer(file.as_file(), seed)?;
        let mut command = Command::new(passgate);
        command
            .args(["idp-sim", "--listen", "127.0.0.1:0", "--users"])
            .arg(file.path());
        let mut child = ManagedChild::spawn("passgate idp-sim", command)?;
        let limit = Duration::from_secs(120);
        let base_url = child.wait_for_line("idp-sim listening on ", limit)?;
        let janrain_base_url = child.wait_for_line("janrain endpoints under ", limit)?;
        Ok(Self {
            child,
            base_url: base_url.trim().to_owned(),
            janrain_base_url: janrain_base_url.trim().to_owned(),
            http: crate::client::http_client(Duration::from_secs(30))?,
            _seed: file,
        })
    }

    fn control(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let url = format!("{}/_sim/{path}", self.base_url);
        let mut request = self.http.request(method, &url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .with_context(|| format!("cannot reach {url}"))?;
        let status = response.status();
        let text = response.text()?;
        if !status.is_success() {
            bail!("{url}: {status}: {text}");
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Adds a fault: `kind` is e.g. `{"type":"status","status":503}`; `path` a path prefix;
    /// `times` how many calls it hits (all when `None`).
    pub fn add_fault(
        &self,
        path: Option<&str>,
        times: Option<u32>,
        kind: Value,
    ) -> anyhow::Result<()> {
        let mut fault = json!({ "kind": kind });
        if let Some(path) = path {
            fault["path"] = json!(path);
        }
        if let Some(times) = times {
            fault["times"] = json!(times);
        }
        self.control(reqwest::Method::POST, "faults", Some(fault))
            .map(drop)
    }

    /// Removes every fault.
    pub fn clear_faults(&self) -> anyhow::Result<()> {
        self.control(reqwest::Method::DELETE, "faults", None)
            .map(drop)
    }

    /// The users' state (`email`, `password_changes`, `password_sha256`, …).
    pub fn users(&self) -> anyhow::Result<Vec<Value>> {
        let users = self.control(reqwest::Method::GET, "users", None)?;
        Ok(users.as_array().cloned().unwrap_or_default())
    }

    /// How many times `email`'s password was changed.
    pub fn password_changes(&self, email: &str) -> anyhow::Result<u64> {
        let users = self.users()?;
        let user = users
            .iter()
            .find(|u| u["email"] == email)
            .with_context(|| format!("the simulator has no user {email}"))?;
        Ok(user["password_changes"].as_u64().unwrap_or(0))
    }

    /// The calls received so far.
    pub fn calls(&self) -> anyhow::Result<Vec<Value>> {
        let calls = self.control(reqwest::Method::GET, "calls", None)?;
        Ok(calls.as_array().cloned().unwrap_or_default())
    }
}

//! `passgate idp-sim` as an operator runs it: it prints the address it bound, answers the
//! Auth0 wire contract over real HTTP, and exits cleanly on SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

// The workspace root: the seed file path is relative to it.
use passgate_testkit::paths::workspace_root;

/// Kills the child if the test fails before it was stopped, so no simulator outlives it.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Reads stdout on a thread; the first line comes back through the channel.
fn first_line(stdout: ChildStdout) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        if reader.read_line(&mut line).is_ok() {
            let _ = tx.send(line);
        }
        // Keep draining so the child never blocks on a full pipe.
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
    });
    rx
}

#[test]
fn idp_sim_serves_the_auth0_contract_and_stops_on_sigterm() {
    let root = workspace_root();
    let child = Command::new(env!("CARGO_BIN_EXE_passgate"))
        .args(["idp-sim", "--listen", "127.0.0.1:0", "--users"])
        .arg(root.join("crates/idp-sim/users.example.yaml"))
        .current_dir(&root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the passgate binary starts");
    let mut running = Running(child);
    let lines = first_line(running.0.stdout.take().unwrap());
    let mut stderr = running.0.stderr.take().unwrap();

    // A generous guard against a hung start, not a timing assertion.
    let Ok(line) = lines.recv_timeout(Duration::from_secs(120)) else {
        let _ = running.0.kill();
        let mut logs = String::new();
        let _ = stderr.read_to_string(&mut logs);
        panic!("idp-sim printed nothing:\n{logs}");
    };
    let base = line
        .trim()
        .strip_prefix("idp-sim listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");

    // A wrong client secret: the Authentication API's 401 access_denied (spec A1).
    passgate_idp::install_crypto_provider();
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let response = client
        .post(format!("{base}/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "sim-client"),
            ("client_secret", "not-the-secret"),
            (
                "audience",
                &format!("{}/api/v2/", base.replace("http://", "https://")),
            ),
        ])
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json; charset=utf-8")
    );
    let body: serde_json::Value = response.json().unwrap();
    assert_eq!(
        body,
        serde_json::json!({ "error": "access_denied", "error_description": "Unauthorized" })
    );

    // SIGTERM: a clean exit with status 0.
    let pid = running.0.id().to_string();
    let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(sent.success(), "kill -TERM {pid} failed");
    let status = running.0.wait().unwrap();
    let mut logs = String::new();
    let _ = stderr.read_to_string(&mut logs);
    assert!(status.success(), "idp-sim exited with {status}:\n{logs}");
}

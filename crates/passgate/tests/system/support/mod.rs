//! Runs the real `passgate demo` binary on a free port and captures everything it writes.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

// The workspace root: the demo reads `tenants/` and `themes/` from there.
pub use passgate_testkit::paths::workspace_root;
pub use passgate_testkit::reset_mail::token_in;
/// A running demo process.
pub struct RunningDemo {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The platform-admin key it printed.
    pub admin_key: String,
    /// Everything written to stdout so far.
    pub stdout: Arc<Mutex<String>>,
    /// Everything written to stderr so far (the logs).
    pub stderr: Arc<Mutex<String>>,
    readers: Vec<std::thread::JoinHandle<()>>,
    terminated: std::cell::Cell<bool>,
}

fn pump(
    stream: impl Read + Send + 'static,
    sink: Arc<Mutex<String>>,
    lines: Option<mpsc::Sender<String>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            {
                let mut sink = sink.lock().unwrap();
                sink.push_str(&line);
                sink.push('\n');
            }
            if let Some(tx) = &lines {
                let _ = tx.send(line);
            }
        }
    })
}

impl RunningDemo {
    /// Starts `passgate demo --listen 127.0.0.1:0 EXTRA…` with `env`, and waits for its
    /// welcome text.
    pub fn start(extra: &[&str], env: &[(&str, &str)]) -> Self {
        Self::start_in(&workspace_root(), extra, env)
    }

    /// [`RunningDemo::start`] with `dir` as the current directory.
    pub fn start_in(dir: &std::path::Path, extra: &[&str], env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_passgate"))
            .args(["demo", "--listen", "127.0.0.1:0"])
            .args(extra)
            .current_dir(dir)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the passgate binary starts");
        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let readers = vec![
            pump(child.stdout.take().unwrap(), Arc::clone(&stdout), Some(tx)),
            pump(child.stderr.take().unwrap(), Arc::clone(&stderr), None),
        ];
        let mut base = None;
        let mut admin_key = None;
        let mut key_next = false;
        loop {
            // A generous guard against a hung start, not a timing assertion.
            let line = match rx.recv_timeout(Duration::from_secs(300)) {
                Ok(line) => line,
                Err(_) => {
                    let _ = child.kill();
                    panic!("the demo did not start:\n{}", stderr.lock().unwrap());
                }
            };
            if let Some(rest) = line.strip_prefix("Passgate demo running at ") {
                base = Some(rest.trim().to_owned());
            } else if key_next {
                admin_key = Some(line.trim().to_owned());
                key_next = false;
            } else if line.starts_with("Demo admin API key") {
                key_next = true;
            } else if line.starts_with("Everything lives in memory") {
                break;
            }
        }
        Self {
            child,
            base: base.expect("the demo printed its URL"),
            admin_key: admin_key.expect("the demo printed an admin key"),
            stdout,
            stderr,
            readers,
            terminated: std::cell::Cell::new(false),
        }
    }

    /// Sends SIGTERM (returns whether it could), without waiting.
    pub fn terminate(&self) -> bool {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .is_ok_and(|s| s.success());
        self.terminated.set(self.terminated.get() || sent);
        sent
    }

    /// Sends SIGTERM, waits for a clean exit, and returns (stdout, stderr).
    pub fn stop(mut self) -> (String, String) {
        let signalled = self.terminated.get() || self.terminate();
        if !signalled {
            let _ = self.child.kill();
        }
        let status = self.child.wait().unwrap();
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
        let stdout = self.stdout.lock().unwrap().clone();
        let stderr = self.stderr.lock().unwrap().clone();
        if signalled {
            assert!(
                status.success(),
                "the demo exited with {status} after SIGTERM:\n{stderr}"
            );
        }
        (stdout, stderr)
    }
}

impl Drop for RunningDemo {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// A blocking HTTP client (plain HTTP to loopback only).
pub use passgate_testkit::blocking_http::client;

/// Polls `/dev/mailbox.json` until a message to `to` arrives; returns the newest one.
pub fn wait_for_mail(http: &reqwest::blocking::Client, base: &str, to: &str) -> serde_json::Value {
    for _ in 0..600 {
        let list: Vec<serde_json::Value> = http
            .get(format!("{base}/dev/mailbox.json"))
            .send()
            .unwrap()
            .json()
            .unwrap();
        if let Some(mail) = list.into_iter().find(|m| m["to"] == to) {
            return mail;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("no mail to {to} arrived");
}

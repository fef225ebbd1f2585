//! Fidelity proof: Auth0's official Python SDK (auth0-python 6.x) works against the strict
//! simulator on its default settings (https, default audience `https://{domain}/api/v2/`)
//! for every endpoint Passgate uses. The script puts a TLS front with a throw-away CA before
//! the simulator; the simulator's canonical domain is that front's `127.0.0.1:PORT`. Skips,
//! saying so, when the SDK is not installed (install it with `.ci/install.d/idp-sdk`, which
//! CI runs).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code fails loudly

use std::path::{Path, PathBuf};
use std::process::Command;

use passgate_idp_sim::{Auth0Settings, SeedUser, SimConfig};

/// The venv `.ci/install.d/idp-sdk` creates, an explicit override, or `python3` on PATH.
fn python() -> PathBuf {
    if let Ok(explicit) = std::env::var("PASSGATE_IDP_SDK_PYTHON") {
        return PathBuf::from(explicit);
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/idp-sdk/venv/bin/python3");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("python3")
    }
}

fn sdk_installed(python: &Path) -> bool {
    Command::new(python)
        .args([
            "-c",
            "import auth0.authentication, auth0.management, cryptography; \
             from auth0.management import ManagementClient",
        ])
        .output()
        .is_ok_and(|out| out.status.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth0_python_sdk_works_against_the_simulator() {
    let python = python();
    if !sdk_installed(&python) {
        println!("skipped: auth0-python 6.x not installed (run .ci/install.d/idp-sdk)");
        return;
    }
    // The TLS front's port, chosen here so the simulator's canonical domain names it.
    let tls_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = SimConfig {
        auth0: Auth0Settings {
            canonical_domain: Some(format!("127.0.0.1:{tls_port}")),
            ..Auth0Settings::default()
        },
        users: vec![SeedUser {
            email: "jane@example.com".into(),
            user_id: Some("auth0|63d17c4bdf1ce171262c7e93".into()),
            connection: None,
            name: Some("Jane Doe".into()),
            blocked: false,
            email_verified: true,
            password: Some("Initial-Passw0rd".into()),
        }],
        ..SimConfig::default()
    };
    let sim = passgate_idp_sim::start(config).await.unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/auth0_python.py");
    let base_url = sim.base_url.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(&python)
            .arg(script)
            .arg(base_url)
            .arg(tls_port.to_string())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "auth0-python check failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("auth0-python: all checks passed"),
        "{stdout}"
    );

    // The SDK's calls really reached the simulator.
    let paths: Vec<String> = sim
        .calls()
        .iter()
        .map(|c| format!("{} {}", c.method, c.path))
        .collect();
    for expected in [
        "POST /oauth/token",
        "GET /api/v2/users-by-email",
        "PATCH /api/v2/users/auth0%7C63d17c4bdf1ce171262c7e93",
        "POST /api/v2/tickets/password-change",
        "POST /dbconnections/change_password",
    ] {
        assert!(
            paths.iter().any(|p| p == expected),
            "{expected} missing from {paths:#?}"
        );
    }
}

/// Where `.ci/install.d/idp-sdk` installs node-auth0.
fn node_modules() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/idp-sdk/node/node_modules")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_auth0_sdk_works_against_the_simulator() {
    let modules = node_modules();
    let node_ok = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let openssl_ok = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !node_ok || !openssl_ok || !modules.join("auth0/package.json").exists() {
        println!("skipped: node, openssl or node-auth0 missing (run .ci/install.d/idp-sdk)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("front.pem"), dir.path().join("front.key"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args([
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=passgate idp-sim test front",
        ])
        .args(["-addext", "subjectAltName=IP:127.0.0.1", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let tls_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = SimConfig {
        auth0: Auth0Settings {
            canonical_domain: Some(format!("127.0.0.1:{tls_port}")),
            ..Auth0Settings::default()
        },
        users: vec![SeedUser {
            email: "jane@example.com".into(),
            user_id: Some("auth0|63d17c4bdf1ce171262c7e93".into()),
            connection: None,
            name: Some("Jane Doe".into()),
            blocked: false,
            email_verified: true,
            password: Some("Initial-Passw0rd".into()),
        }],
        ..SimConfig::default()
    };
    let sim = passgate_idp_sim::start(config).await.unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/auth0_node.cjs");
    let base_url = sim.base_url.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(script)
            .arg(base_url)
            .arg(tls_port.to_string())
            .arg(&cert)
            .arg(&key)
            .env("NODE_EXTRA_CA_CERTS", &cert)
            .env("NODE_PATH", &modules)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "node-auth0 check failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("node-auth0: all checks passed"), "{stdout}");
    let token = sim
        .calls()
        .into_iter()
        .find(|c| c.path == "/oauth/token")
        .unwrap();
    assert_eq!(
        token.params["audience"],
        format!("https://127.0.0.1:{tls_port}/api/v2/"),
        "the SDK's default audience"
    );
}

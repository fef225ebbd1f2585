//! The acceptance promise of the README in a real browser: Acme Shop and Northbank complete
//! a reset from the demo's printed URLs with the mail read from `/dev/mailbox`, and
//! Riverline, moving from Janrain to Auth0, completes one for each account placement
//! (`tests/readme/demo-browser.mjs`); then a product owner signs in to the console through
//! the demo's OIDC provider. Skips, saying so, without Chromium, Node.js or the
//! npm packages of `tests/browser` (`.ci/install.d/browser` installs them). Also looks at
//! every example screen and Swagger UI (`tests/browser/screens.mjs`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support;

use std::path::Path;
use std::process::Command;

use support::{RunningDemo, workspace_root};

/// Whether Chromium, Node.js and the npm packages are there (else the test skips, saying so).
fn browser_ready(root: &Path) -> bool {
    let ready = Path::new("/usr/bin/chromium").exists()
        && root
            .join("tests/browser/node_modules/playwright-core")
            .is_dir()
        && Command::new("node")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
    if !ready {
        eprintln!("skipped: needs /usr/bin/chromium, node and tests/browser/node_modules");
    }
    ready
}

#[test]
fn the_example_tenants_complete_their_resets_in_a_browser() {
    let root = workspace_root();
    if !browser_ready(&root) {
        return;
    }
    let demo = RunningDemo::start(&[], &[]);
    let output = Command::new("node")
        .arg(root.join("tests/readme/demo-browser.mjs"))
        .arg(&demo.base)
        .arg(&demo.admin_key)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("acme-shop: password changed")
            && stdout.contains("northbank: password changed"),
        "{stdout}"
    );
    for placement in ["only in Janrain", "in both", "only in Auth0"] {
        assert!(
            stdout.contains(&format!(
                "riverline: password changed for the user {placement}"
            )),
            "{stdout}"
        );
    }
    assert!(stdout.contains("1 moved to Auth0 on reset"), "{stdout}");
    assert!(
        stdout.contains("console: signed in with Demo SSO as the acme-shop product owner"),
        "{stdout}"
    );
    demo.stop();
}

/// `tests/browser/screens.mjs` against a demo started in an empty directory: every example
/// tenant's pages and mails at 390×844 and 1280×800 without horizontal overflow, broken
/// images or CSP violations, and Swagger UI rendering the admin API under its own CSP.
/// Screenshots land in `target/screens/` (kept as CI artefacts).
#[test]
fn the_demo_screens_and_swagger_ui_render_in_a_browser() {
    let root = workspace_root();
    if !browser_ready(&root) {
        return;
    }
    let empty = tempfile::tempdir().unwrap();
    let demo = RunningDemo::start_in(empty.path(), &[], &[]);
    let output = Command::new("node")
        .arg(root.join("tests/browser/screens.mjs"))
        .arg(&demo.base)
        .arg(root.join("target/screens"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("ok docs-desktop") && stdout.contains("all screens ok"),
        "{stdout}"
    );
    demo.stop();
}

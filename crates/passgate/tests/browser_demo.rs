//! The acceptance promise of the README in a real browser: two tenants complete a reset
//! from the demo's printed URLs with the mail read from `/dev/mailbox`
//! (`tests/readme/demo-browser.mjs`). Skips, saying so, without Chromium, Node.js or the
//! npm packages of `tests/browser` (`.ci/install.d/browser` installs them).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::Path;
use std::process::Command;

use support::{RunningDemo, workspace_root};

#[test]
fn two_tenants_complete_a_reset_in_a_browser() {
    let root = workspace_root();
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
        return;
    }
    let demo = RunningDemo::start(&[], &[]);
    let output = Command::new("node")
        .arg(root.join("tests/readme/demo-browser.mjs"))
        .arg(&demo.base)
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
            && stdout.contains("northbank: password changed")
    );
    demo.stop();
}

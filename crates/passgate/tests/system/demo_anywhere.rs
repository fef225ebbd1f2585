//! One binary runs anywhere: `passgate demo` started in an empty directory serves every
//! example tenant with the built-in themes, logos included, and a folder flag that points
//! nowhere fails with the flag to set.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support;

use std::process::{Command, Stdio};

use support::{RunningDemo, client};

#[test]
fn the_demo_serves_every_example_tenant_from_an_empty_directory() {
    let empty = tempfile::tempdir().unwrap();
    let demo = RunningDemo::start_in(empty.path(), &[], &[]);
    let http = client();
    for client_id in [
        "acme-shop-ios",
        "fitlife-ios",
        "northbank-mobile",
        "riverline-ios",
    ] {
        let resp = http
            .get(format!("{}/reset?client_id={client_id}", demo.base))
            .send()
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200, "{client_id}");
        let html = resp.text().unwrap();
        // The logo is a gateway asset, not a dead `*.example` host, and it is served.
        let src = html
            .split("class=\"pg-logo\" src=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("{client_id}: no logo in {html}"));
        assert!(src.starts_with("/static/"), "{client_id}: {src}");
        let logo = http.get(format!("{}{src}", demo.base)).send().unwrap();
        assert_eq!(logo.status().as_u16(), 200, "{client_id}: {src}");
        assert_eq!(
            logo.headers()["content-type"].to_str().unwrap(),
            "image/svg+xml",
            "{client_id}"
        );
        // The theme's stylesheet comes from the binary too.
        let css = html
            .split("rel=\"stylesheet\" href=\"")
            .nth(2)
            .and_then(|rest| rest.split('"').next())
            .unwrap();
        let css = http.get(format!("{}{css}", demo.base)).send().unwrap();
        assert_eq!(css.status().as_u16(), 200, "{client_id}");
    }
    assert!(
        std::fs::read_dir(empty.path()).unwrap().next().is_none(),
        "nothing written"
    );
    demo.stop();
}

/// Runs `passgate demo ARGS` in an empty directory and returns (success, stderr).
fn demo_failure(args: &[&str]) -> (bool, String) {
    let empty = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_passgate"))
        .args(["demo", "--listen", "127.0.0.1:0"])
        .args(args)
        .current_dir(empty.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_missing_folder_names_the_flag_to_set() {
    let (ok, stderr) = demo_failure(&["--tenants", "tenants"]);
    assert!(!ok);
    assert!(
        stderr.contains("cannot list the tenants folder `tenants`") && stderr.contains("--tenants"),
        "{stderr}"
    );
    let (ok, stderr) = demo_failure(&["--themes", "themes"]);
    assert!(!ok);
    assert!(
        stderr.contains("themes folder `themes`") && stderr.contains("--themes"),
        "{stderr}"
    );
}

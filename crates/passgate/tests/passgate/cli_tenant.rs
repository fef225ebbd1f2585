//! `passgate tenant validate`, `passgate policy check` and `passgate schema`, run as a user
//! runs them: the real binary, real files, exit codes and output lines.

#![allow(clippy::unwrap_used, clippy::panic)] // test helpers fail loudly by design

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
};

use passgate_testkit::paths::workspace_root as workspace;

fn passgate(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_passgate"))
        .args(args)
        .current_dir(workspace())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    // The command may exit before reading (an invalid tenant): a broken pipe is fine.
    let _ = input.write_all(stdin.unwrap_or("").as_bytes());
    drop(input);
    child.wait_with_output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// Writes `text` to a file unique to this test and returns its path.
fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli_tenant");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn validate_accepts_every_example_tenant() {
    let out = passgate(
        &[
            "tenant",
            "validate",
            "tenants/acme-shop.yaml",
            "tenants/fitlife.yaml",
            "tenants/northbank.yaml",
        ],
        None,
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("tenants/northbank.yaml: ok\n"), "{text}");
    assert!(
        text.contains("tenants/acme-shop.yaml: ok (1 warning)"),
        "{text}"
    );
    assert!(
        text.contains(
            "tenants/acme-shop.yaml:31:15: password_policy.min_length: warning: below 15"
        ),
        "{text}"
    );
}

#[test]
fn validate_accepts_a_directory() {
    let out = passgate(&["tenant", "validate", "tenants"], None);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).lines().filter(|l| l.contains(": ok")).count() >= 3);
}

#[test]
fn validate_prints_every_problem_and_exits_1_when_any_file_is_invalid() {
    let bad = temp_file(
        "bad.yaml",
        "id: acme\ndisplay_name: Acme\npassword_policy:\n  min_length: 7\nreset:\n  redirect_uris: [\"https://*.acme.example/\"]\n",
    );
    let bad = bad.to_str().unwrap();
    let out = passgate(&["tenant", "validate", "tenants/northbank.yaml", bad], None);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("tenants/northbank.yaml: ok"), "{text}");
    assert!(
        text.contains(&format!(
            "{bad}:4:15: password_policy.min_length: must be at least 8"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{bad}:6:19: reset.redirect_uris[0]: wildcards are not allowed"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("{bad}: invalid (2 errors)")),
        "{text}"
    );
}

#[test]
fn validate_reports_a_syntax_error_with_its_position() {
    let bad = temp_file("syntax.yaml", "id: acme\ndisplay_name: Acme\n  oops: [\n");
    let out = passgate(&["tenant", "validate", bad.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.starts_with(&format!("{}:", bad.display())), "{text}");
}

/// What the server refuses at startup and on admin writes, the command refuses too: a
/// theme that is not installed, or a rule message with no text in a supported locale.
#[test]
fn validate_runs_the_servers_theme_check() {
    let original = std::fs::read_to_string(workspace().join("tenants/fitlife.yaml")).unwrap();
    let line = original
        .lines()
        .position(|l| l.starts_with("theme:"))
        .unwrap()
        + 1;
    let unknown: String = original
        .lines()
        .map(|l| {
            if l.starts_with("theme:") {
                "theme: no-such-theme\n".to_owned()
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    let path = temp_file("unknown-theme.yaml", &unknown);
    let name = path.display().to_string();
    let out = passgate(&["tenant", "validate", &name], None);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!(
            "{name}:{line}:1: theme: unknown theme `no-such-theme`"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("{name}: invalid (1 error)")),
        "{text}"
    );

    // A regex rule whose message key no catalog has.
    let rule = "password_policy:\n  regex_rules:\n    - { name: no_fit, pattern: '(?i)fit', \
                must_match: false, message: fitlife.no_fit }\n";
    let missing = original.replacen("password_policy:\n", rule, 1);
    assert_ne!(missing, original, "the fixture has a password_policy block");
    let path = temp_file("missing-message.yaml", &missing);
    let name = path.display().to_string();
    let out = passgate(&["tenant", "validate", &name], None);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("messages.en.fitlife.no_fit: the password rule message `fitlife.no_fit` has no text in locale en"),
        "{text}"
    );
}

#[test]
fn validate_refuses_two_files_claiming_the_same_client_id() {
    let copy = temp_file(
        "acme-copy.yaml",
        "id: acme-copy\ndisplay_name: Acme copy\nclient_ids: [acme-shop-ios]\n",
    );
    let out = passgate(
        &[
            "tenant",
            "validate",
            "tenants/acme-shop.yaml",
            copy.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("the client id acme-shop-ios is also used by tenants/acme-shop.yaml"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn policy_check_accepts_a_good_password() {
    let out = passgate(
        &["policy", "check", "--tenant", "tenants/acme-shop.yaml"],
        Some("quiet walrus tangerine bicycle\n"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(stdout(&out), "");
}

#[test]
fn policy_check_prints_code_and_english_message_per_violation() {
    let out = passgate(
        &["policy", "check", "--tenant", "tenants/acme-shop.yaml"],
        Some("acme1234\n"),
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.lines().any(|l| l.starts_with("min_length: ")),
        "{text}"
    );
    // The tenant's own English wording for its regex rule.
    assert!(
        text.contains("regex:no_shop_name: Your password must not contain “acme”."),
        "{text}"
    );
}

#[test]
fn policy_check_strips_only_the_trailing_newline() {
    let tenant = ["policy", "check", "--tenant", "tenants/acme-shop.yaml"];
    // 11 characters: too short for acme's 12.
    let short = passgate(&tenant, Some("Xq7vLp2Rt9z\n"));
    assert!(
        stdout(&short)
            .lines()
            .any(|l| l.starts_with("min_length: ")),
        "{}",
        stdout(&short)
    );
    // The same plus a trailing space is 12 characters: the space is part of the password.
    let spaced = passgate(&tenant, Some("Xq7vLp2Rt9z \n"));
    assert!(
        !stdout(&spaced).contains("min_length"),
        "{}",
        stdout(&spaced)
    );
}

#[test]
fn policy_check_uses_the_email_for_personal_information() {
    let out = passgate(
        &[
            "policy",
            "check",
            "--tenant",
            "tenants/acme-shop.yaml",
            "--email",
            "zebracorn@mail.example",
        ],
        Some("zebracorn tangerine walrus\n"),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out)
            .lines()
            .any(|l| l.starts_with("personal_info: ")),
        "{}",
        stdout(&out)
    );
}

#[test]
fn policy_check_with_an_invalid_tenant_is_not_a_verdict() {
    let bad = temp_file(
        "bad-policy.yaml",
        "id: acme\ndisplay_name: Acme\npassword_policy: { min_length: 4 }\n",
    );
    let out = passgate(
        &["policy", "check", "--tenant", bad.to_str().unwrap()],
        Some("whatever\n"),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("password_policy.min_length: must be at least 8"),
        "{err}"
    );
}

#[test]
fn schema_prints_the_committed_schema() {
    let out = passgate(&["schema"], None);
    assert_eq!(out.status.code(), Some(0));
    let committed = std::fs::read_to_string(workspace().join("docs/tenant.schema.json")).unwrap();
    assert_eq!(stdout(&out), committed);
}

#[test]
fn validate_with_a_provider_refuses_a_mode_that_cannot_run_on_it() {
    // Acme's `hosted` mode runs on Auth0, not on Janrain: the same problem the admin API
    // reports against a stored Janrain binding, at `reset.mode`.
    let out = passgate(
        &[
            "tenant",
            "validate",
            "--provider",
            "janrain",
            "tenants/acme-shop.yaml",
        ],
        None,
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let yaml = std::fs::read_to_string(workspace().join("tenants/acme-shop.yaml")).unwrap();
    let line = yaml
        .lines()
        .position(|l| l.trim_start().starts_with("mode:"))
        .unwrap()
        + 1;
    assert!(
        text.contains(&format!(
            "tenants/acme-shop.yaml:{line}:3: reset.mode: reset.mode `hosted` does not fit the \
             tenant's Janrain binding"
        )),
        "{text}"
    );
    assert!(
        text.contains("tenants/acme-shop.yaml: invalid (1 error)"),
        "{text}"
    );
    // On Auth0 the same file is fine, and without --provider the fit is not checked.
    for args in [
        &[
            "tenant",
            "validate",
            "--provider",
            "auth0",
            "tenants/acme-shop.yaml",
        ][..],
        &["tenant", "validate", "tenants/acme-shop.yaml"][..],
    ] {
        let out = passgate(args, None);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stdout(&out));
    }
}

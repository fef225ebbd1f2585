use std::collections::BTreeMap;
use std::io::Write as _;

use passgate_engine::mail::SmtpSecurity;

use super::*;

const KEY: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn complete() -> BTreeMap<String, String> {
    env(&[
        ("PASSGATE_PUBLIC_URL", "https://reset.example.com"),
        ("PASSGATE_DATABASE_URL", "postgres://passgate@db/passgate"),
        ("PASSGATE_MASTER_KEYS", KEY),
        ("PASSGATE_SMTP_HOST", "smtp.example.com"),
    ])
}

#[test]
fn environment_alone_is_enough_and_defaults_apply() {
    let config = load(None, &complete()).unwrap();
    assert_eq!(config.public_url, "https://reset.example.com");
    assert_eq!(config.listen.to_string(), "0.0.0.0:8080");
    assert_eq!(config.smtp.port, 587);
    assert_eq!(config.smtp.security, SmtpSecurity::StartTls);
    assert!(config.metrics);
    assert!(!config.swagger_ui);
}

#[test]
fn every_problem_is_reported_at_once() {
    let problems = load(
        None,
        &env(&[
            ("PASSGATE_PUBLIC_URL", "http://reset.example.com"),
            ("PASSGATE_LISTEN", "everywhere"),
            ("PASSGATE_TRUSTED_PROXIES", "10.0.0.0/8, not-an-ip"),
            ("PASSGATE_SMTP_SECURITY", "maybe"),
        ]),
    )
    .unwrap_err();
    let text = problems.to_string();
    for needle in [
        "PASSGATE_PUBLIC_URL: must be https://",
        "PASSGATE_LISTEN: expected HOST:PORT",
        "database_url (or PASSGATE_DATABASE_URL) is required",
        "master_keys (or PASSGATE_MASTER_KEYS) is required",
        "\"not-an-ip\" is not an IP address",
        "smtp.host (or PASSGATE_SMTP_HOST) is required",
        "PASSGATE_SMTP_SECURITY: expected tls, starttls or plain",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    assert_eq!(problems.0.len(), 7, "{text}");
}

#[test]
fn a_bad_master_key_is_refused_without_echoing_it() {
    let mut vars = complete();
    vars.insert("PASSGATE_MASTER_KEYS".into(), "k1:c2hvcnQ=".into());
    let text = load(None, &vars).unwrap_err().to_string();
    assert!(text.contains("must be 32 bytes"), "{text}");
    assert!(!text.contains("c2hvcnQ="), "{text}");
}

#[test]
fn the_environment_overrides_the_file_key_by_key() {
    let mut file = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    writeln!(
        file,
        "public_url = \"https://file.example.com\"\nlisten = \"127.0.0.1:9000\"\n\
         database_url = \"sqlite://p.sqlite?mode=rwc\"\n[smtp]\nhost = \"mail.internal\"\nsecurity = \"tls\""
    )
    .unwrap();
    let vars = env(&[
        ("PASSGATE_PUBLIC_URL", "https://env.example.com"),
        ("PASSGATE_MASTER_KEYS", KEY),
    ]);
    let config = load(Some(file.path()), &vars).unwrap();
    assert_eq!(config.public_url, "https://env.example.com");
    assert_eq!(config.listen.to_string(), "127.0.0.1:9000");
    assert_eq!(config.smtp.host, "mail.internal");
    assert_eq!(config.smtp.port, 465);
}

#[test]
fn yaml_files_work_and_unknown_keys_are_refused() {
    let mut file = tempfile::Builder::new().suffix(".yaml").tempfile().unwrap();
    writeln!(
        file,
        "public_url: https://reset.example.com\nsmtp:\n  hots: typo"
    )
    .unwrap();
    let text = load(Some(file.path()), &complete())
        .unwrap_err()
        .to_string();
    assert!(text.contains("hots"), "{text}");
}

#[test]
fn plain_smtp_with_a_password_to_a_remote_host_is_refused() {
    let mut vars = complete();
    vars.insert("PASSGATE_SMTP_SECURITY".into(), "plain".into());
    vars.insert("PASSGATE_SMTP_USERNAME".into(), "mailer".into());
    vars.insert("PASSGATE_SMTP_PASSWORD".into(), "hunter2-smtp".into());
    let text = load(None, &vars).unwrap_err().to_string();
    assert!(text.contains("unencrypted"), "{text}");
    assert!(!text.contains("hunter2-smtp"), "{text}");
}

#[test]
fn the_debug_form_hides_secrets() {
    let mut vars = complete();
    vars.insert("PASSGATE_SMTP_USERNAME".into(), "mailer".into());
    vars.insert("PASSGATE_SMTP_PASSWORD".into(), "hunter2-smtp".into());
    let config = load(None, &vars).unwrap();
    let debug = format!("{config:?}");
    assert!(
        !debug.contains("hunter2-smtp")
            && !debug.contains("AAECAwQF")
            && !debug.contains("postgres://"),
        "{debug}"
    );
}

#[test]
fn the_example_config_file_is_valid_with_secrets_from_the_environment() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../passgate.example.toml");
    let vars = env(&[
        ("PASSGATE_MASTER_KEYS", KEY),
        ("PASSGATE_SMTP_PASSWORD", "from-the-vault"),
    ]);
    let config = load(Some(&path), &vars).unwrap();
    assert_eq!(config.public_url, "https://reset.example.com");
    assert_eq!(config.log_format, LogFormat::Json);
}

#[test]
fn console_oidc_needs_issuer_and_client_id_together_and_defaults_its_claims() {
    let base = [
        ("PASSGATE_PUBLIC_URL", "https://reset.example.com"),
        ("PASSGATE_DATABASE_URL", "sqlite://passgate.db"),
        ("PASSGATE_MASTER_KEYS", KEY),
        ("PASSGATE_SMTP_HOST", "smtp.example.com"),
    ];
    assert!(load(None, &env(&base)).unwrap().console_oidc.is_none());

    let mut half = base.to_vec();
    half.push(("PASSGATE_CONSOLE_OIDC_ISSUER", "https://id.example.com"));
    let problems = load(None, &env(&half)).unwrap_err();
    assert!(
        problems
            .0
            .iter()
            .any(|p| p.contains("console_oidc.issuer and console_oidc.client_id")),
        "{problems:?}"
    );

    half.push(("PASSGATE_CONSOLE_OIDC_CLIENT_ID", "passgate"));
    let oidc = load(None, &env(&half)).unwrap().console_oidc.unwrap();
    assert_eq!(
        (
            oidc.issuer.as_str(),
            oidc.client_id.as_str(),
            oidc.role_claim.as_str(),
            oidc.tenants_claim.as_str(),
            oidc.client_secret.is_none()
        ),
        (
            "https://id.example.com",
            "passgate",
            "passgate_role",
            "passgate_tenants",
            true
        )
    );
}

#[test]
fn docs_server_config_documents_exactly_the_keys_that_exist() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/server-config.md");
    let doc = std::fs::read_to_string(path).unwrap();
    for key in KEYS {
        let row = format!("| `{}` | `{}` |", key.key, key.env);
        assert!(
            doc.contains(&row),
            "docs/server-config.md has no table row starting {row}"
        );
    }
    let documented: Vec<&str> = doc
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split('`').next())
        .collect();
    for name in documented {
        assert!(
            KEYS.iter().any(|k| k.key == name),
            "docs/server-config.md documents `{name}`, which is not a key"
        );
    }
}

#[test]
fn provider_and_engine_tuning_have_defaults_bounds_and_overrides() {
    let config = load(None, &complete()).unwrap();
    assert_eq!(config.provider_timeout, Duration::from_secs(10));
    assert_eq!(config.provider_breaker_cooldown, Duration::from_secs(30));
    assert_eq!(config.redeem_per_ip_per_hour, 100);
    assert_eq!(config.redeem_max_refusals, 10);
    assert!(!config.provider_allow_loopback_http);

    let mut vars = complete();
    vars.insert("PASSGATE_PROVIDER_TIMEOUT_SECS".into(), "5".into());
    vars.insert(
        "PASSGATE_PROVIDER_BREAKER_COOLDOWN_SECS".into(),
        "90".into(),
    );
    vars.insert(
        "PASSGATE_REDEEM_PER_TENANT_PER_MINUTE".into(),
        "2000".into(),
    );
    vars.insert("PASSGATE_REDEEM_MAX_REFUSALS".into(), "3".into());
    let config = load(None, &vars).unwrap();
    assert_eq!(config.redeem_max_refusals, 3);
    assert_eq!(config.provider_timeout, Duration::from_secs(5));
    assert_eq!(config.provider_breaker_cooldown, Duration::from_secs(90));
    assert_eq!(config.redeem_per_tenant_per_minute, 2000);

    vars.insert("PASSGATE_PROVIDER_TIMEOUT_SECS".into(), "0".into());
    vars.insert("PASSGATE_RETRY_MAX_BACKOFF_SECS".into(), "soon".into());
    let text = load(None, &vars).unwrap_err().to_string();
    assert!(
        text.contains("PASSGATE_PROVIDER_TIMEOUT_SECS: expected a number of seconds from 1 to 60"),
        "{text}"
    );
    assert!(text.contains("PASSGATE_RETRY_MAX_BACKOFF_SECS"), "{text}");
}

#[test]
fn admin_budgets_default_sanely_and_are_bounded() {
    let config = load(None, &complete()).unwrap();
    assert_eq!(config.admin_requests_per_minute, 120);
    assert_eq!(config.admin_expensive_requests_per_minute, 20);
    let mut vars = complete();
    vars.insert("PASSGATE_ADMIN_REQUESTS_PER_MINUTE".into(), "300".into());
    vars.insert(
        "PASSGATE_ADMIN_EXPENSIVE_REQUESTS_PER_MINUTE".into(),
        "60".into(),
    );
    let config = load(None, &vars).unwrap();
    assert_eq!(config.admin_requests_per_minute, 300);
    assert_eq!(config.admin_expensive_requests_per_minute, 60);
    vars.insert("PASSGATE_ADMIN_REQUESTS_PER_MINUTE".into(), "0".into());
    let text = load(None, &vars).unwrap_err().to_string();
    assert!(
        text.contains("PASSGATE_ADMIN_REQUESTS_PER_MINUTE"),
        "{text}"
    );
}

#[test]
fn themes_are_built_in_unless_a_folder_is_named_and_a_missing_folder_names_the_key() {
    assert_eq!(load(None, &complete()).unwrap().themes_dir, None);
    let mut vars = complete();
    vars.insert("PASSGATE_THEMES_DIR".into(), "no-such-themes".into());
    let problems = load(None, &vars).unwrap_err().to_string();
    assert!(
        problems.contains("PASSGATE_THEMES_DIR")
            && problems.contains("`no-such-themes` does not exist")
            && problems.contains("leave it unset"),
        "{problems}"
    );
    let dir = tempfile::tempdir().unwrap();
    vars.insert(
        "PASSGATE_THEMES_DIR".into(),
        dir.path().display().to_string(),
    );
    assert_eq!(
        load(None, &vars).unwrap().themes_dir.as_deref(),
        Some(dir.path())
    );
}

//! The shipped example tenants and the committed JSON Schema.

#![allow(clippy::unwrap_used, clippy::panic)] // test helpers fail loudly by design

use std::time::Duration;

use passgate_tenant::{
    Delivery, ResetMode, Severity, json_schema, json_schema_string, parse_tenant_yaml,
};

use passgate_testkit::paths::workspace_root as workspace;

fn example(name: &str) -> passgate_tenant::ValidatedTenant {
    let path = workspace().join("tenants").join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    parse_tenant_yaml(name, &text).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_example_tenant_validates_and_declares_the_schema() {
    let mut count = 0;
    for entry in std::fs::read_dir(workspace().join("tenants")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(
                text.starts_with("# yaml-language-server: $schema=../docs/tenant.schema.json\n"),
                "{} lacks the schema line",
                path.display()
            );
            let name = path.display().to_string();
            if let Err(e) = parse_tenant_yaml(&name, &text) {
                panic!("{e}");
            }
            count += 1;
        }
    }
    assert!(count >= 3, "only {count} example tenants");
}

#[test]
fn the_examples_differ_visibly() {
    let acme = example("acme-shop.yaml");
    let fitlife = example("fitlife.yaml");
    let bank = example("northbank.yaml");

    assert_eq!(acme.config.locales.default.as_str(), "fr");
    assert_eq!(acme.config.password_policy.regex_rules.len(), 1);
    assert!(
        acme.config
            .reset
            .redirect_uri("acmeshop://reset-done")
            .is_some()
    );
    assert!(
        acme.config
            .reset
            .redirect_uri("acmeshop://reset-done/")
            .is_none()
    );
    assert_eq!(acme.config.reset.mode, ResetMode::Hosted);

    assert_eq!(fitlife.config.theme.as_str(), "fitness");
    assert_eq!(fitlife.config.locales.supported.len(), 3);
    assert!(fitlife.config.password_policy.script.is_some());
    assert!(
        fitlife
            .warnings
            .iter()
            .all(|w| w.severity == Severity::Warning)
    );

    assert_eq!(bank.config.theme.as_str(), "bank");
    assert_eq!(bank.config.password_policy.min_strength, Some(4));
    assert_eq!(bank.config.password_policy.history_depth, 5);
    assert_eq!(bank.config.reset.delivery, Delivery::Code);
    assert_eq!(
        bank.config.reset.token_ttl.duration(),
        Duration::from_secs(600)
    );
    assert!(bank.warnings.is_empty(), "{:?}", bank.warnings);
}

#[test]
fn a_minimal_tenant_gets_the_secure_defaults() {
    let t = parse_tenant_yaml("min.yaml", "id: tiny\ndisplay_name: Tiny\n").unwrap();
    let c = &t.config;
    assert!(t.warnings.is_empty());
    assert_eq!(c.theme.as_str(), "default");
    assert_eq!(c.locales.default.as_str(), "en");
    assert_eq!(c.policy_spec().min_length, 15);
    assert_eq!(c.policy_spec().max_length, 128);
    assert!(c.policy_spec().common_blocklist && c.policy_spec().ban_personal_info);
    assert!(c.policy_spec().character_classes.is_none() && c.policy_spec().regex_rules.is_empty());
    assert_eq!(c.reset.mode, ResetMode::Hosted);
    assert_eq!(c.reset.delivery, Delivery::Link);
    assert_eq!(c.reset.token_ttl.duration(), Duration::from_secs(30 * 60));
    assert!(c.reset.redirect_uris.is_empty());
    assert_eq!(c.rate_limits.requests_per_account_per_hour, 5);
    assert!(c.email.password_changed_notice);
}

#[test]
fn composition_rules_are_accepted_with_a_warning() {
    let yaml = "id: tiny\ndisplay_name: Tiny\npassword_policy:\n  character_classes: { require: [lowercase, uppercase, digit], min_classes: 2 }\n  regex_rules:\n    - { name: has_digit, pattern: '[0-9]', must_match: true, message: tiny.digit }\n";
    let t = parse_tenant_yaml("tiny.yaml", yaml).unwrap();
    let paths: Vec<&str> = t.warnings.iter().map(|w| w.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "password_policy.character_classes",
            "password_policy.regex_rules[0].must_match"
        ]
    );
    assert!(t.warnings[0].message.contains("NIST"));
}

#[test]
fn committed_schema_matches_the_generated_one() {
    let path = workspace().join("docs/tenant.schema.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == json_schema_string(),
        "docs/tenant.schema.json is stale: regenerate it with `cargo run -p passgate -- schema > docs/tenant.schema.json`"
    );
}

#[test]
fn schema_rejects_unknown_keys_and_has_no_rotation_or_secret_fields() {
    let schema = json_schema();
    assert_eq!(schema["additionalProperties"], false);
    let text = schema.to_string().to_lowercase();
    for forbidden in [
        "expir",
        "rotation",
        "max_age",
        "password_age",
        "secret",
        "credential",
    ] {
        assert!(
            !text.contains(&format!("\"{forbidden}")),
            "schema mentions {forbidden}"
        );
    }
    let props = schema["properties"].as_object().unwrap();
    for key in [
        "id",
        "display_name",
        "password_policy",
        "reset",
        "email",
        "rate_limits",
        "messages",
    ] {
        assert!(props.contains_key(key), "{key}");
    }
}

#[test]
fn locale_negotiation_prefers_exact_then_language_then_default() {
    let t = parse_tenant_yaml(
        "l.yaml",
        "id: l\ndisplay_name: L\nlocales: { default: en, supported: [en, fr, pt-BR] }\n",
    )
    .unwrap();
    let locales = &t.config.locales;
    assert_eq!(locales.negotiate(Some("pt-BR")).as_str(), "pt-BR");
    assert_eq!(locales.negotiate(Some("fr-CA")).as_str(), "fr");
    assert_eq!(locales.negotiate(Some("pt")).as_str(), "pt-BR");
    assert_eq!(locales.negotiate(Some("de")).as_str(), "en");
    assert_eq!(locales.negotiate(None).as_str(), "en");
}

#[test]
fn settings_the_provider_ignores_give_warnings_not_errors() {
    let yaml = "id: j\ndisplay_name: J\nreset:\n  mode: janrain\n  token_ttl: 20m\nemail:\n  from: J <no-reply@j.example>\n";
    let t = parse_tenant_yaml("j.yaml", yaml).unwrap();
    let found: Vec<(&str, usize)> = t
        .warnings
        .iter()
        .map(|w| (w.path.as_str(), w.line))
        .collect();
    assert_eq!(found, [("reset.token_ttl", 5), ("email", 6)]);
    assert!(t.warnings[0].message.contains("identity provider"));
}

#[test]
fn example_scripts_run_as_their_tenant_with_declared_params() {
    let text = std::fs::read_to_string(workspace().join("tenants/fitlife.yaml")).unwrap();
    let fitlife = passgate_tenant::parse_tenant_yaml("fitlife.yaml", &text).unwrap();
    let script = fitlife.config.password_policy.script.as_ref().unwrap();
    assert_eq!(script.tenant, "fitlife");
    assert_eq!(script.params.len(), 1);
    assert_eq!(script.params[0].name, "max");
    assert_eq!(script.params[0].values, ["3"]);
    // The owner the caller knows wins over the document's own `id`.
    let other = passgate_tenant::TenantId::parse("northbank").unwrap();
    let as_other = passgate_tenant::parse_tenant_yaml_for(&other, "fitlife.yaml", &text).unwrap();
    let script = as_other.config.password_policy.script.as_ref().unwrap();
    assert_eq!(script.tenant, "northbank");
}

#[test]
fn auth0_page_modes_warn_that_the_password_policy_does_not_apply() {
    for mode in ["auth0_ticket", "auth0_email"] {
        let yaml = format!(
            "id: tiny\ndisplay_name: Tiny\npassword_policy:\n  min_length: 15\nreset:\n  mode: {mode}\n"
        );
        let t = parse_tenant_yaml("tiny.yaml", &yaml).unwrap();
        let warning = t
            .warnings
            .iter()
            .find(|w| w.path == "password_policy")
            .unwrap_or_else(|| panic!("{mode}: {:?}", t.warnings));
        assert!(
            warning.message.contains("connection's password policy"),
            "{warning:?}"
        );
        // Without a policy section the warning points at the mode (the defaults do not apply either).
        let yaml = format!("id: tiny\ndisplay_name: Tiny\nreset:\n  mode: {mode}\n");
        let t = parse_tenant_yaml("tiny.yaml", &yaml).unwrap();
        assert!(
            t.warnings.iter().any(|w| w.path == "reset.mode"),
            "{mode}: {:?}",
            t.warnings
        );
    }
    for mode in ["hosted", "janrain"] {
        let yaml = format!("id: tiny\ndisplay_name: Tiny\nreset:\n  mode: {mode}\n");
        let t = parse_tenant_yaml("tiny.yaml", &yaml).unwrap();
        assert!(t.warnings.is_empty(), "{mode}: {:?}", t.warnings);
    }
}

//! The startup check renders every template for every tenant and supported locale; a
//! missing message key is an error naming tenant, locale and key.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::path::Path;

use passgate_tenant::parse_tenant_yaml;
use passgate_theme::Themes;
use passgate_web::startup::{check_tenant, check_tenants};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn the_example_and_fixture_tenants_render_in_every_locale() {
    let themes = common::themes();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tenants");
    let mut configs: Vec<_> = common::fixtures().into_iter().map(|v| v.config).collect();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        configs.push(
            parse_tenant_yaml(&path.display().to_string(), &text)
                .unwrap()
                .config,
        );
    }
    assert!(configs.len() >= 6);
    if let Err(errors) = check_tenants(&themes, &configs) {
        panic!(
            "{}",
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

#[test]
fn a_key_missing_from_a_catalog_names_tenant_locale_and_key() {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&common::themes_dir(), tmp.path());
    let catalog = tmp.path().join("default/messages/es.yaml");
    let text = std::fs::read_to_string(&catalog).unwrap();
    let without: String = text
        .lines()
        .filter(|l| !l.starts_with("sent.spam_hint:"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&catalog, without).unwrap();
    let themes = Themes::load(tmp.path()).unwrap();
    let fitlife = parse_tenant_yaml("fitlife.yaml", common::FITLIFE)
        .unwrap()
        .config;
    let message = check_tenant(&themes, &fitlife).unwrap_err().to_string();
    assert!(message.contains("fitlife"), "{message}");
    assert!(message.contains("locale es"), "{message}");
    assert!(message.contains("sent.spam_hint"), "{message}");
    assert!(
        !message.contains("locale de"),
        "only the broken locale is named: {message}"
    );
}

#[test]
fn a_rule_message_without_text_in_a_locale_is_reported() {
    let themes = common::themes();
    let yaml = common::NORTHBANK.replace(
        "  min_length: 16\n",
        "  min_length: 16\n  regex_rules:\n    - { name: no_bank, pattern: '(?i)bank', must_match: false, message: northbank.no_bank }\n",
    ) + "messages:\n  en:\n    northbank.no_bank: \"Do not use the bank's name.\"\n";
    let config = parse_tenant_yaml("northbank.yaml", &yaml).unwrap().config;
    let message = check_tenant(&themes, &config).unwrap_err().to_string();
    assert!(message.contains("northbank"), "{message}");
    assert!(message.contains("northbank.no_bank"), "{message}");
    assert!(message.contains("locale fr"), "{message}");
    assert!(!message.contains("locale en"), "{message}");
}

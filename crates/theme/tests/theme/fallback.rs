//! Fallback to the default theme, per template and per message key; overrides win.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns

use crate::common;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use common::{page, themes};
use passgate_theme::{Messages, MissingMessage, Page, ThemeError, Themes};

#[test]
fn a_theme_without_a_page_uses_defaults_page_inside_its_own_layout() {
    let themes = themes();
    let html = themes
        .render_page("fitness", Page::Request, &page(&themes, "fitness", "en"))
        .unwrap();
    assert!(
        html.contains(r#"<input id="email" name="email" type="email""#),
        "default's page"
    );
    assert!(html.contains(r#"class="pg-hero""#), "fitness's layout");
    assert!(
        html.contains("Forgot your password?"),
        "fitness's own message"
    );
    assert!(
        html.contains("Email address"),
        "default's message for a key fitness lacks"
    );
}

#[test]
fn a_tenant_override_wins_over_theme_and_default() {
    let themes = themes();
    let overrides = BTreeMap::from([
        (
            "request.title".to_owned(),
            "Locked out of {app}?".to_owned(),
        ),
        ("hero.title".to_owned(), "Train again".to_owned()),
    ]);
    let mut ctx = page(&themes, "fitness", "en");
    ctx.messages = Messages::new(&themes, "fitness", "en", overrides).unwrap();
    let html = themes.render_page("fitness", Page::Request, &ctx).unwrap();
    assert!(html.contains("<h1>Locked out of Acme Fit?</h1>"));
    assert!(html.contains("Train again"));
    assert!(!html.contains("Forgot your password?"));
}

fn write(root: &Path, path: &str, text: &str) {
    let path = root.join(path);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

/// A minimal themes directory: `default` with one page, `plain` overriding only a message.
fn tiny_themes(page_text: &str) -> (tempfile::TempDir, Themes) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "default/templates/not_found.html", page_text);
    write(
        dir.path(),
        "default/messages/en.yaml",
        "a: \"Default A\"\nb: \"Default B\"\n",
    );
    write(dir.path(), "plain/messages/en.yaml", "b: \"Plain B\"\n");
    let themes = Themes::load(dir.path()).unwrap();
    (dir, themes)
}

#[test]
fn messages_fall_back_per_key_within_the_locale() {
    let (_dir, themes) = tiny_themes(r#"{{ t(key="a") }}|{{ t(key="b") }}"#);
    let mut ctx = page(&common::themes(), "default", "en");
    ctx.messages = Messages::new(&themes, "plain", "en", BTreeMap::new()).unwrap();
    let html = themes.render_page("plain", Page::NotFound, &ctx).unwrap();
    assert_eq!(html, "Default A|Plain B");
}

#[test]
fn a_key_missing_everywhere_is_an_error_naming_theme_locale_and_key() {
    let (_dir, themes) = tiny_themes(r#"{{ t(key="a") }} {{ t(key="nowhere.to_be_found") }}"#);
    let mut ctx = page(&common::themes(), "default", "en");
    ctx.messages = Messages::new(&themes, "plain", "en", BTreeMap::new()).unwrap();
    let err = themes
        .render_page("plain", Page::NotFound, &ctx)
        .unwrap_err();
    let ThemeError::MissingMessages(missing) = &err else {
        panic!("{err}");
    };
    assert_eq!(
        missing,
        &[MissingMessage {
            theme: "plain".into(),
            locale: "en".into(),
            key: "nowhere.to_be_found".into()
        }]
    );
    assert_eq!(
        err.to_string(),
        "missing messages: theme `plain`, locale `en`: no message for key `nowhere.to_be_found`"
    );
}

#[test]
fn a_template_syntax_error_fails_loading() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "default/templates/request.html", "{% if %}");
    let err = Themes::load(dir.path()).unwrap_err();
    assert!(matches!(err, ThemeError::Template { .. }), "{err}");
}

#[test]
fn a_themes_directory_without_default_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "bank/messages/en.yaml", "a: \"A\"\n");
    assert!(matches!(
        Themes::load(dir.path()),
        Err(ThemeError::NoDefaultTheme(_))
    ));
}

#[test]
fn a_catalog_with_duplicate_keys_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "default/messages/en.yaml",
        "a: \"A\"\na: \"again\"\n",
    );
    assert!(matches!(
        Themes::load(dir.path()),
        Err(ThemeError::Catalog { .. })
    ));
}

#[test]
fn format_outside_templates_reports_a_missing_key_too() {
    let themes = themes();
    let messages = Messages::new(&themes, "bank", "de", BTreeMap::new()).unwrap();
    assert_eq!(
        messages
            .format("policy.min_length", &[("min", "15")])
            .unwrap(),
        "Mindestens 15 Zeichen"
    );
    let err = messages.format("acme.no_shop_name", &[]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "missing messages: theme `bank`, locale `de`: no message for key `acme.no_shop_name`"
    );
}

#[test]
fn locales_are_the_union_of_theme_and_default_catalogs() {
    assert_eq!(themes().locales("bank"), ["de", "en", "es", "fr"]);
}

#[test]
fn the_built_in_themes_need_no_folder_and_an_override_folder_lays_files_over_them() {
    let builtin = passgate_theme::Themes::builtin().unwrap();
    assert_eq!(
        builtin.names().collect::<Vec<_>>(),
        ["bank", "default", "fitness"]
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("bank/static")).unwrap();
    std::fs::write(dir.path().join("bank/static/theme.css"), "body{}").unwrap();
    std::fs::create_dir_all(dir.path().join("mine/static")).unwrap();
    std::fs::write(dir.path().join("mine/static/extra.css"), "p{}").unwrap();
    let themes = passgate_theme::Themes::builtin_with_overrides(dir.path()).unwrap();
    assert_eq!(themes.asset("bank", "theme.css").unwrap().bytes, b"body{}");
    // Files the folder does not override stay the built-in ones.
    assert_eq!(
        themes.asset("default", "theme.css").unwrap().bytes,
        builtin.asset("default", "theme.css").unwrap().bytes
    );
    assert!(themes.has_theme("mine"));
    assert_eq!(themes.asset("mine", "extra.css").unwrap().bytes, b"p{}");
    let err = passgate_theme::Themes::builtin_with_overrides(&dir.path().join("nope")).unwrap_err();
    assert!(err.to_string().contains("nope"), "{err}");
}

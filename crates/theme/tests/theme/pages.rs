//! What a user (or an attacker) sees in rendered hosted pages.

use crate::common;

use common::{THEMES, page, themes};
use passgate_theme::{Branding, FieldError, Page, ThemeError, Themes};

#[test]
fn nonce_goes_on_the_style_and_script_elements_only() {
    let themes = themes();
    for theme in THEMES {
        let html = themes
            .render_page(theme, Page::NewPassword, &page(&themes, theme, "en"))
            .unwrap();
        assert!(html.contains(r#"<style nonce="NONCE-r4nd0m">"#), "{theme}");
        assert!(
            html.contains(r#"<script nonce="NONCE-r4nd0m" src="/static/default/policy-live.js""#)
        );
        assert_eq!(html.matches("NONCE-r4nd0m").count(), 2, "{theme}");
    }
}

#[test]
fn every_form_carries_the_csrf_token_and_hidden_fields() {
    let themes = themes();
    for theme in THEMES {
        for p in [Page::Request, Page::NewPassword, Page::Code] {
            let html = themes
                .render_page(theme, p, &page(&themes, theme, "fr"))
                .unwrap();
            assert!(html.contains(r#"<input type="hidden" name="csrf_token" value="CSRF-t0k3n">"#));
            assert!(html.contains(r#"<input type="hidden" name="client_id" value="acme">"#));
            assert!(html.contains(r#"action="/reset/confirm?client_id=acme""#));
        }
    }
}

#[test]
fn pages_declare_their_language_and_are_localized() {
    let themes = themes();
    let html = themes
        .render_page("bank", Page::Request, &page(&themes, "bank", "de"))
        .unwrap();
    assert!(html.starts_with("<!doctype html>\n<html lang=\"de\">"));
    assert!(html.contains("Passwort zurücksetzen"));
    assert!(
        html.contains("Sichere Verbindung"),
        "bank's own key in German"
    );
}

#[test]
fn new_password_page_works_without_javascript() {
    let themes = themes();
    let html = themes
        .render_page(
            "default",
            Page::NewPassword,
            &page(&themes, "default", "en"),
        )
        .unwrap();
    assert_eq!(html.matches(r#"autocomplete="new-password""#).count(), 2);
    assert!(html.contains(r#"method="post""#));
    // The rule list is rendered by the server; the show/hide button waits for JS.
    assert!(html.contains(r#"<li data-rule="policy.min_length" data-state="pending">"#));
    assert!(html.contains(r#"<li data-rule="regex:no_acme" data-state="pending">"#));
    assert!(html.contains(r#"data-rule="policy.blocklist" data-state="server""#));
    assert!(html.contains("checked when you submit"));
    assert!(html.contains(r#"aria-live="polite""#));
    assert!(html.contains(r#"aria-pressed="false" data-show="Show" data-hide="Hide" hidden>"#));
}

#[test]
fn policy_payload_is_embedded_as_inert_json() {
    let themes = themes();
    let mut ctx = page(&themes, "default", "en");
    if let Some(policy) = ctx.policy.as_mut() {
        policy["messages"]["rules.evil"] = "</script><script>alert(1)</script>".into();
    }
    let html = themes
        .render_page("default", Page::NewPassword, &ctx)
        .unwrap();
    let start = html
        .find(r#"<script type="application/json" id="pg-policy">"#)
        .unwrap();
    let json = &html[start..];
    let json = &json[json.find('>').unwrap() + 1..json.find("</script>").unwrap()];
    let parsed: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(
        parsed["messages"]["rules.evil"],
        "</script><script>alert(1)</script>"
    );
    assert!(!json.contains('<'));
    assert_eq!(parsed["min_length"], 12);
}

#[test]
fn field_errors_are_announced_with_their_codes() {
    let themes = themes();
    let mut ctx = page(&themes, "fitness", "es");
    ctx.errors = vec![FieldError {
        code: "policy.min_length".into(),
        message: "Al menos 12 caracteres".into(),
    }];
    let html = themes
        .render_page("fitness", Page::NewPassword, &ctx)
        .unwrap();
    assert!(html.contains(r#"role="alert""#));
    assert!(html.contains(r#"<li data-code="policy.min_length">Al menos 12 caracteres</li>"#));
}

#[test]
fn branding_tokens_become_css_custom_properties() {
    let themes = themes();
    let mut ctx = page(&themes, "default", "en");
    ctx.branding = Branding {
        primary_color: Some("#ff6600".into()),
        background_color: Some("rgb(250, 250, 250)".into()),
        text_color: Some("#111".into()),
        font_family: Some("\"Trebuchet MS\", sans-serif".into()),
        custom_css: Some(".pg-card { border-radius: 0; }".into()),
        logo_url: None,
    };
    let html = themes.render_page("default", Page::Request, &ctx).unwrap();
    assert!(html.contains("--pg-primary: #ff6600;"));
    assert!(html.contains("--pg-background: rgb(250, 250, 250);"));
    assert!(html.contains("--pg-font: \"Trebuchet MS\", sans-serif;"));
    assert!(html.contains(".pg-card { border-radius: 0; }"));
}

#[test]
fn tokens_that_could_break_out_of_a_declaration_are_dropped() {
    let branding = Branding {
        primary_color: Some("red;} body{display:none".into()),
        font_family: Some("x\"; }".into()),
        ..Branding::default()
    };
    assert_eq!(branding.rejected_fields(), ["primary_color", "font_family"]);
    let themes = themes();
    let mut ctx = page(&themes, "default", "en");
    ctx.branding = branding;
    let html = themes.render_page("default", Page::Request, &ctx).unwrap();
    assert!(!html.contains("display:none"));
    assert!(!html.contains("--pg-primary:"));
}

#[test]
fn logo_is_shown_only_for_https_urls() {
    let themes = themes();
    for (url, shown) in [
        ("https://cdn.example.com/logo.svg", true),
        ("http://cdn.example.com/logo.svg", false),
        ("javascript:alert(1)", false),
        ("data:image/svg+xml,<svg/>", false),
        ("//evil.example/logo.png", false),
    ] {
        let mut ctx = page(&themes, "bank", "en");
        ctx.branding.logo_url = Some(url.into());
        let html = themes.render_page("bank", Page::Request, &ctx).unwrap();
        assert_eq!(html.contains("<img class=\"pg-logo\""), shown, "{url}");
        assert_eq!(
            html.contains("Acme Fit</span>"),
            !shown,
            "{url}: name instead"
        );
    }
}

#[test]
fn a_gateway_asset_logo_is_served_under_the_static_prefix_on_pages_only() {
    let themes = themes();
    for (url, src) in [
        (
            "/static/default/logos/acme-shop.svg",
            Some("/static/9.9.9/default/logos/acme-shop.svg"),
        ),
        ("/static/../secrets", None),
        ("/static/default/../../x.svg", None),
        ("/static//x.svg", None),
        ("/etc/passwd", None),
        ("/static/x.svg\"><script>", None),
    ] {
        let mut ctx = page(&themes, "bank", "en");
        ctx.static_prefix = "/static/9.9.9".into();
        ctx.branding.logo_url = Some(url.into());
        let html = themes.render_page("bank", Page::Request, &ctx).unwrap();
        match src {
            Some(src) => assert!(html.contains(&format!("src=\"{src}\"")), "{url}: {html}"),
            None => assert!(!html.contains("<img class=\"pg-logo\""), "{url}"),
        }
        assert_eq!(
            ctx.branding.rejected_fields().is_empty(),
            src.is_some(),
            "{url}"
        );
    }
    // A mail cannot load a relative path: it shows the name.
    let mut mail = common::email(&themes, "default", "en");
    mail.branding.logo_url = Some("/static/default/logos/acme-shop.svg".into());
    let rendered = themes
        .render_email("default", passgate_theme::Email::ResetLink, &mail)
        .unwrap();
    assert!(!rendered.html.contains("<img"), "{}", rendered.html);
}

#[test]
fn the_demo_logos_are_built_in_svg_assets() {
    let themes = Themes::builtin().unwrap();
    for name in ["acme-shop", "fitlife", "northbank", "riverline"] {
        let asset = themes
            .asset("bank", &format!("logos/{name}.svg"))
            .unwrap_or_else(|| panic!("{name}"));
        assert_eq!(asset.content_type, "image/svg+xml");
        assert!(asset.bytes.starts_with(b"<svg"), "{name}");
    }
}

#[test]
fn error_page_shows_the_request_id() {
    let themes = themes();
    let html = themes
        .render_page("default", Page::Error, &page(&themes, "default", "en"))
        .unwrap();
    assert!(html.contains("Reference: req-42"));
}

#[test]
fn messages_of_another_theme_are_refused() {
    let themes = themes();
    let ctx = page(&themes, "bank", "en");
    let err = themes
        .render_page("fitness", Page::Request, &ctx)
        .unwrap_err();
    assert!(matches!(err, ThemeError::Template { .. }), "{err}");
}

#[test]
fn every_asset_referenced_by_the_layouts_exists() {
    let themes = themes();
    for theme in THEMES {
        for path in ["base.css", "theme.css", "policy-live.js", "rule-worker.js"] {
            let asset = themes
                .asset(theme, path)
                .unwrap_or_else(|| panic!("{theme}/{path}"));
            assert!(asset.content_type.contains("charset=utf-8"));
        }
    }
    assert!(themes.asset("default", "../Cargo.toml").is_none());
}

#[test]
fn themes_and_contexts_can_be_shared_across_request_handlers() {
    fn shareable<T: Send + Sync + 'static>() {}
    shareable::<passgate_theme::Themes>();
    shareable::<passgate_theme::Messages>();
    shareable::<passgate_theme::PageContext>();
    shareable::<passgate_theme::EmailContext>();
}

/// The HTML escaper escapes `& < > "` but not `'`: every attribute value that holds a
/// template expression must be double-quoted.
#[test]
fn template_expressions_in_attributes_are_double_quoted() {
    fn visit(dir: &std::path::Path, found: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                visit(&path, found);
            } else if path.extension().is_some_and(|e| e == "html") {
                let text = std::fs::read_to_string(&path).unwrap();
                for bad in ["='{{", "={{", "= '{{", "= {{"] {
                    if text.contains(bad) {
                        found.push(format!("{}: {bad}", path.display()));
                    }
                }
            }
        }
    }
    let mut found = Vec::new();
    visit(&common::themes_dir(), &mut found);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn the_bank_claims_a_secure_connection_only_over_https() {
    let themes = themes();
    let mut ctx = page(&themes, "bank", "en");
    let over_https = themes.render_page("bank", Page::Request, &ctx).unwrap();
    assert!(over_https.contains("Secure connection"));
    ctx.secure_origin = false;
    let over_http = themes.render_page("bank", Page::Request, &ctx).unwrap();
    assert!(!over_http.contains("Secure connection"), "{over_http}");
}

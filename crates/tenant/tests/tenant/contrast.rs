//! Validation refuses branding colours the pages or mails would render unreadable, at the
//! key to change, with the measured ratio.

#![allow(clippy::unwrap_used, clippy::panic)]

use passgate_tenant::{Severity, parse_tenant_yaml};

fn doc(theme: &str, branding: &str) -> String {
    format!(
        "id: acme-shop\ndisplay_name: Acme Shop\nclient_ids: [acme-shop-ios]\ntheme: {theme}\n\
         branding:\n{branding}\nlocales:\n  default: en\n  supported: [en]\n\
         password_policy:\n  min_length: 12\nreset:\n  mode: hosted\n  delivery: link\n  token_ttl: 30m\n  \
         redirect_uris: [acmeshop://reset-done]\nemail:\n  from: Acme <no-reply@acme.example>\n"
    )
}

/// The errors of a document, as `line:column: path: message`.
fn errors(theme: &str, branding: &str) -> Vec<String> {
    match parse_tenant_yaml("t.yaml", &doc(theme, branding)) {
        Ok(_) => Vec::new(),
        Err(e) => e
            .problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
            .map(|p| format!("{}:{}: {}: {}", p.line, p.column, p.path, p.message))
            .collect(),
    }
}

#[test]
fn acmes_old_button_colour_is_refused_at_the_key() {
    let got = errors("default", "  primary_color: \"#0a7cff\"");
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(
        got[0].starts_with("6:18: branding.primary_color: "),
        "{got:?}"
    );
    assert!(got[0].contains("3.93:1"), "{got:?}");
    assert!(got[0].contains("4.5:1"), "{got:?}");
    assert!(got[0].contains("change branding.primary_color"), "{got:?}");
}

#[test]
fn fitlifes_old_mail_colours_are_refused_on_the_white_mail_card() {
    // FitLife's colours on the layout its mails used (the default one): light text and a
    // white button label on orange, on a white card.
    let got = errors(
        "default",
        "  primary_color: \"#ff7a45\"\n  background_color: \"#10131a\"\n  text_color: \"#f5f7fa\"",
    );
    assert!(
        got.iter()
            .any(|e| e.contains("branding.text_color") && e.contains("1.07:1")),
        "{got:?}"
    );
    assert!(
        got.iter()
            .any(|e| e.contains("branding.primary_color") && e.contains("2.58:1")),
        "{got:?}"
    );
}

#[test]
fn the_same_colours_pass_where_the_theme_draws_them_readably() {
    // The fitness theme shows light text on a dark panel and dark text in its mails.
    let fitness =
        "  primary_color: \"#ff7a45\"\n  background_color: \"#10131a\"\n  text_color: \"#f5f7fa\"";
    assert_eq!(errors("fitness", fitness), Vec::<String>::new());
    // …but dark text on its dark panel is refused.
    let got = errors("fitness", "  text_color: \"#333333\"");
    assert!(
        got.iter().any(|e| e.contains("branding.text_color")),
        "{got:?}"
    );
}

#[test]
fn large_text_and_controls_need_three_to_one() {
    // #949494 on white is 3.03:1: enough for the button edge, not for a white label.
    let got = errors("default", "  primary_color: \"#949494\"");
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].contains("white button label"), "{got:?}");
    // #a0a0a0 is 2.6:1: below even the control minimum.
    let got = errors("default", "  primary_color: \"#a0a0a0\"");
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got.iter().any(|e| e.contains("3:1")), "{got:?}");
}

#[test]
fn the_bank_notice_needs_a_light_enough_background() {
    let got = errors("bank", "  background_color: \"#555555\"");
    assert!(
        got.iter()
            .any(|e| e.contains("branding.background_color") && e.contains("notice")),
        "{got:?}"
    );
}

#[test]
fn a_logo_is_an_https_url_or_a_theme_asset_the_gateway_serves() {
    use passgate_tenant::LogoUrl;
    for ok in [
        "https://cdn.example.com/logo.svg",
        "/static/default/logos/acme-shop.svg",
        "/static/bank/img/mark_2x.png",
    ] {
        assert!(LogoUrl::parse(ok).is_ok(), "{ok}");
    }
    for bad in [
        "http://cdn.example.com/logo.svg",
        "/static/../secrets",
        "/static/default/../../etc/passwd",
        "/static//logo.svg",
        "/static/logo.svg",
        "/etc/passwd",
        "//evil.example/logo.svg",
        "/static/default/logo.svg?x=1",
    ] {
        assert!(LogoUrl::parse(bad).is_err(), "{bad}");
    }
}

//! Rendered emails: one link, a text part, inlined CSS, a header-safe subject.

use crate::common;

use common::{LINK, LOCALES, THEMES, email, themes};
use passgate_theme::{Email, ThemeError};

#[test]
fn reset_link_appears_exactly_once_in_each_part() {
    let themes = themes();
    for theme in THEMES {
        for locale in LOCALES {
            for kind in [Email::ResetLink, Email::ResetTicket] {
                let mail = themes
                    .render_email(theme, kind, &email(&themes, theme, locale))
                    .unwrap();
                assert_eq!(
                    mail.html.matches(LINK).count(),
                    1,
                    "{theme} {locale} {kind:?}"
                );
                assert_eq!(
                    mail.text.matches(LINK).count(),
                    1,
                    "{theme} {locale} {kind:?}"
                );
                assert_eq!(mail.html.matches("https://").count(), 1, "no other link");
            }
        }
    }
}

#[test]
fn css_is_inlined_and_no_style_element_is_left() {
    let themes = themes();
    for theme in THEMES {
        for kind in Email::ALL {
            let mail = themes
                .render_email(theme, kind, &email(&themes, theme, "en"))
                .unwrap();
            assert!(!mail.html.contains("<style"), "{theme} {kind:?}");
            assert!(mail.html.contains("style=\""), "{theme} {kind:?}");
        }
    }
}

#[test]
fn theme_colours_apply_when_the_tenant_sets_none() {
    let themes = themes();
    for (theme, colour) in [
        ("default", "#2f5bea"),
        ("fitness", "#c6ff3d"),
        ("bank", "#0b2545"),
    ] {
        let mail = themes
            .render_email(theme, Email::ResetLink, &email(&themes, theme, "en"))
            .unwrap();
        assert!(!mail.html.contains(": ;"), "{theme}: an empty CSS value");
        assert!(
            mail.html.contains(&format!("background-color: {colour}")),
            "{theme}"
        );
    }
}

#[test]
fn the_fitness_mail_keeps_dark_text_on_its_white_card_whatever_the_page_text_colour() {
    let themes = themes();
    let mut ctx = email(&themes, "fitness", "en");
    // FitLife's light text for its dark pages: 1.07:1 on a white card.
    ctx.branding.text_color = Some("#f5f7fa".into());
    ctx.branding.primary_color = Some("#ff7a45".into());
    let mail = themes
        .render_email("fitness", Email::ResetLink, &ctx)
        .unwrap();
    assert!(!mail.html.contains("#f5f7fa"), "{}", mail.html);
    assert!(mail.html.contains("background-color: #ffffff"));
    // The orange button carries the theme's dark label, not white (2.59:1).
    let button = mail.html.find("background-color: #ff7a45").unwrap();
    let style_end = mail.html[button..].find('"').unwrap() + button;
    assert!(
        mail.html[button..style_end].contains("color: #0b0d12"),
        "{}",
        &mail.html[button..style_end]
    );
}

#[test]
fn branding_colour_reaches_the_button() {
    let themes = themes();
    let mut ctx = email(&themes, "default", "en");
    ctx.branding.primary_color = Some("#ff6600".into());
    let mail = themes
        .render_email("default", Email::ResetLink, &ctx)
        .unwrap();
    assert!(mail.html.contains("background-color: #ff6600"));
}

#[test]
fn subject_is_localized_and_single_line() {
    let themes = themes();
    let mut ctx = email(&themes, "default", "fr");
    ctx.display_name = "Acme\r\nBcc: victim@example.com".into();
    let mail = themes
        .render_email("default", Email::ResetLink, &ctx)
        .unwrap();
    assert_eq!(
        mail.subject,
        "Réinitialisez votre mot de passe Acme  Bcc: victim@example.com"
    );
}

#[test]
fn code_email_carries_the_code_and_no_link() {
    let themes = themes();
    let mut ctx = email(&themes, "fitness", "de");
    ctx.action_url = None;
    let mail = themes
        .render_email("fitness", Email::ResetCode, &ctx)
        .unwrap();
    assert!(mail.html.contains("48213077") && mail.text.contains("48213077"));
    assert!(!mail.html.contains("href=\"http"));
    assert!(mail.text.contains("Gültig für 30 Minuten."));
}

#[test]
fn password_changed_notice_has_no_link_and_no_code() {
    let themes = themes();
    let mail = themes
        .render_email(
            "bank",
            Email::PasswordChanged,
            &email(&themes, "bank", "es"),
        )
        .unwrap();
    assert!(!mail.html.contains(LINK) && !mail.text.contains(LINK));
    assert!(!mail.html.contains("48213077") && !mail.text.contains("48213077"));
    assert_eq!(mail.subject, "Tu contraseña de Acme Fit ha cambiado");
}

#[test]
fn non_https_links_are_refused() {
    let themes = themes();
    for url in [
        "javascript:alert(1)",
        "http://evil.example/reset",
        "data:text/html,x",
        "/relative",
    ] {
        let mut ctx = email(&themes, "default", "en");
        ctx.action_url = Some(url.into());
        let err = themes
            .render_email("default", Email::ResetLink, &ctx)
            .unwrap_err();
        assert!(matches!(err, ThemeError::UnsafeUrl { .. }), "{url}");
        assert!(!err.to_string().contains(url), "the URL may carry a token");
    }
    let mut ctx = email(&themes, "default", "en");
    ctx.action_url = Some("http://127.0.0.1:8080/reset/confirm#t".into());
    themes
        .render_email("default", Email::ResetLink, &ctx)
        .unwrap();
}

#[test]
fn debug_output_hides_the_link_and_code() {
    let themes = themes();
    let ctx = email(&themes, "default", "en");
    let shown = format!("{ctx:?}");
    assert!(!shown.contains("tok_AbC123") && !shown.contains("48213077"));
}

#[test]
fn text_parts_point_at_the_link_not_at_a_button() {
    let themes = themes();
    let button = ["button", "bouton", "Schaltfläche", "botón"];
    for theme in THEMES {
        for locale in LOCALES {
            for kind in [Email::ResetLink, Email::ResetTicket] {
                let mail = themes
                    .render_email(theme, kind, &email(&themes, theme, locale))
                    .unwrap();
                for word in button {
                    assert!(
                        !mail.text.contains(word),
                        "{theme} {locale} {kind:?}: the text part has no button: {}",
                        mail.text
                    );
                }
            }
        }
    }
}

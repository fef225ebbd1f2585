//! Hostile tenant or user strings render as text, never as markup or template code.

use crate::common;

use std::collections::BTreeMap;

use common::{THEMES, email, page, themes};
use passgate_theme::{Email, FieldError, Messages, Page};

const HOSTILE: [&str; 5] = [
    r#""><script>alert(1)</script>"#,
    "{{7*7}}",
    "${7*7}",
    r#"{% include "/etc/passwd" %}"#,
    "</style><img src=x onerror=alert(1)>",
];

fn overrides(value: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("request.title".to_owned(), value.to_owned()),
        ("request.intro".to_owned(), format!("{value} for {{app}}")),
        (
            "email.reset_link.body".to_owned(),
            format!("{value} / {{app}}"),
        ),
    ])
}

fn assert_inert(html: &str, value: &str, what: &str) {
    if value.contains('<') {
        assert!(!html.contains(value), "{what}: raw markup");
    }
    assert!(!html.contains("<script>alert"), "{what}: script tag");
    assert!(!html.contains("<img src=x"), "{what}: img tag");
    assert!(!html.contains("root:x:"), "{what}: file included");
    if value.contains("7*7") {
        assert!(html.contains("7*7"), "{what}: template evaluated");
    }
}

#[test]
fn hostile_display_name_messages_and_params_stay_text_in_pages() {
    let themes = themes();
    for theme in THEMES {
        for value in HOSTILE {
            let mut ctx = page(&themes, theme, "en");
            ctx.messages = Messages::new(&themes, theme, "en", overrides(value)).unwrap();
            ctx.display_name = value.to_owned();
            ctx.email = Some(value.to_owned());
            ctx.request_id = Some(value.to_owned());
            ctx.errors = vec![FieldError {
                code: value.to_owned(),
                message: value.to_owned(),
            }];
            for p in Page::ALL {
                let html = themes.render_page(theme, p, &ctx).unwrap();
                assert_inert(&html, value, &format!("{theme} {p:?} {value}"));
            }
            let html = themes.render_page(theme, Page::Request, &ctx).unwrap();
            let escaped = value
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;");
            assert!(
                html.contains(&format!("<h1>{escaped}</h1>")),
                "{theme}: {value}"
            );
        }
    }
}

#[test]
fn template_syntax_in_messages_is_printed_literally() {
    let themes = themes();
    let mut ctx = page(&themes, "default", "en");
    ctx.messages = Messages::new(&themes, "default", "en", overrides("{{7*7}}")).unwrap();
    let html = themes.render_page("default", Page::Request, &ctx).unwrap();
    assert!(html.contains("<h1>{{7*7}}</h1>"));
    let mut ctx = page(&themes, "default", "en");
    ctx.messages = Messages::new(
        &themes,
        "default",
        "en",
        overrides(r#"{% include "/etc/passwd" %}"#),
    )
    .unwrap();
    let html = themes.render_page("default", Page::Request, &ctx).unwrap();
    assert!(html.contains("<h1>{% include &quot;/etc/passwd&quot; %}</h1>"));
}

#[test]
fn a_parameter_cannot_inject_another_placeholder() {
    let themes = themes();
    let messages = Messages::new(
        &themes,
        "default",
        "en",
        BTreeMap::from([("k".to_owned(), "{a} and {b}".to_owned())]),
    )
    .unwrap();
    let text = messages.format("k", &[("a", "{b}"), ("b", "B")]).unwrap();
    assert_eq!(text, "{b} and B");
}

#[test]
fn custom_css_cannot_close_the_style_element() {
    let themes = themes();
    let mut ctx = page(&themes, "default", "en");
    ctx.branding.custom_css = Some("a{color:red}</style><script>alert(1)</script>".into());
    let html = themes.render_page("default", Page::Request, &ctx).unwrap();
    assert!(!html.contains("</style><script>"));
    assert!(html.contains("a{color:red}\\3c /style>\\3c script>"));
    assert_eq!(html.matches("</style>").count(), 1);
}

#[test]
fn hostile_strings_stay_text_in_emails() {
    let themes = themes();
    for value in HOSTILE {
        let mut ctx = email(&themes, "default", "en");
        ctx.messages = Messages::new(&themes, "default", "en", overrides(value)).unwrap();
        ctx.display_name = value.to_owned();
        for kind in Email::ALL {
            let mail = themes.render_email("default", kind, &ctx).unwrap();
            assert_inert(&mail.html, value, &format!("{kind:?} {value}"));
            // The text part is not HTML: the name is printed as typed.
            assert!(
                mail.text.contains(value),
                "{kind:?}: text part keeps the literal"
            );
            assert!(!mail.subject.contains('\n'));
        }
    }
}

#[test]
fn user_text_cannot_forge_a_missing_message_error() {
    let themes = themes();
    let mut ctx = page(&themes, "default", "en");
    ctx.email = Some("\0pg-missing:request.title\0@example.com".to_owned());
    let html = themes.render_page("default", Page::Request, &ctx).unwrap();
    assert!(html.contains("\u{FFFD}pg-missing:request.title\u{FFFD}@example.com"));
}

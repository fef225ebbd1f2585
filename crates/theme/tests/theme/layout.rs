//! Page classes and component classes live in separate name spaces, so a theme rule meant
//! for one component (the code input's `.pg-code`) can never style a whole page.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::collections::BTreeSet;

use common::{THEMES, page, themes, themes_dir};
use passgate_theme::Page;

/// Every `.pg-…` class selector in every theme's CSS and in the email layouts.
fn css_classes() -> BTreeSet<String> {
    let mut classes = BTreeSet::new();
    for theme in THEMES {
        for file in [
            "static/base.css",
            "static/theme.css",
            "templates/email/base.html",
        ] {
            let path = themes_dir().join(theme).join(file);
            let Ok(css) = std::fs::read_to_string(&path) else {
                continue;
            };
            for (i, _) in css.match_indices(".pg-") {
                let name: String = css[i + 1..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                    .collect();
                classes.insert(name);
            }
        }
    }
    classes
}

/// The class list of the rendered `<body>`.
fn body_classes(html: &str) -> Vec<String> {
    let start = html.find("<body class=\"").expect("a body with classes") + 13;
    let end = html[start..].find('"').expect("a closed attribute") + start;
    html[start..end]
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

#[test]
fn no_page_class_is_a_component_selector() {
    let themes = themes();
    let selectors = css_classes();
    assert!(
        selectors.contains("pg-code"),
        "the code input's rule exists"
    );
    for theme in THEMES {
        for p in Page::ALL {
            let html = themes
                .render_page(theme, p, &page(&themes, theme, "en"))
                .unwrap();
            let classes = body_classes(&html);
            let page_class = format!("pg-page-{}", p.template().trim_end_matches(".html"));
            assert!(classes.contains(&page_class), "{theme} {p:?}: {classes:?}");
            for class in classes.iter().filter(|c| *c != "pg") {
                assert!(
                    class.starts_with("pg-page-"),
                    "{theme} {p:?}: body class `{class}` is outside the pg-page- name space"
                );
                assert!(
                    !selectors
                        .iter()
                        .any(|s| s == class && !s.starts_with("pg-page-")),
                    "{theme} {p:?}: body class `{class}` is also a component rule"
                );
            }
        }
    }
}

#[test]
fn no_component_uses_the_page_name_space() {
    let themes = themes();
    for theme in THEMES {
        for p in Page::ALL {
            let html = themes
                .render_page(theme, p, &page(&themes, theme, "en"))
                .unwrap();
            let body = html.find("<body").unwrap_or(0);
            let after_body = &html[body..];
            let first_tag_end = after_body.find('>').unwrap_or(0);
            assert!(
                !after_body[first_tag_end..].contains("pg-page-"),
                "{theme} {p:?}: only <body> carries a pg-page- class"
            );
        }
    }
}

//! Cost of rendering a page and an email, and of the startup check for one tenant.
#![allow(clippy::unwrap_used)] // a benchmark: a failure should stop it loudly
//! `cargo bench -p passgate-theme --bench render`

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use passgate_theme::{Branding, Email, EmailContext, Messages, Page, PageContext, Themes};

fn bench(c: &mut Criterion) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../themes");
    let themes = Themes::load(&root).unwrap();
    let messages = Messages::new(&themes, "fitness", "fr", BTreeMap::new()).unwrap();
    let policy: serde_json::Value =
        serde_json::from_str(include_str!("../examples/preview-policy.json")).unwrap();
    let page = PageContext {
        messages: messages.clone(),
        display_name: "Acme Fit".into(),
        branding: Branding {
            primary_color: Some("#ff6600".into()),
            ..Branding::default()
        },
        csp_nonce: "n0nce".into(),
        csrf_token: "csrf".into(),
        form_action: "/reset/confirm".into(),
        restart_url: Some("/reset".into()),
        continue_url: None,
        static_prefix: "/static".into(),
        hidden_fields: Vec::new(),
        email: None,
        errors: Vec::new(),
        policy: Some(policy),
        request_id: None,
        retry_at: None,
        secure_origin: true,
    };
    let email = EmailContext {
        messages,
        display_name: "Acme Fit".into(),
        branding: Branding::default(),
        action_url: Some("https://reset.example.com/reset/confirm#token".into()),
        code: None,
        expires_in_minutes: Some(30),
        request_id: None,
    };
    c.bench_function("render_page new_password (fitness, fr)", |b| {
        b.iter(|| {
            themes
                .render_page("fitness", Page::NewPassword, black_box(&page))
                .unwrap()
        })
    });
    c.bench_function("render_page request (fitness, fr)", |b| {
        b.iter(|| {
            themes
                .render_page("fitness", Page::Request, black_box(&page))
                .unwrap()
        })
    });
    c.bench_function("render_email reset_link with CSS inlining", |b| {
        b.iter(|| {
            themes
                .render_email("fitness", Email::ResetLink, black_box(&email))
                .unwrap()
        })
    });
    let locales: Vec<String> = ["en", "fr", "de", "es"].map(String::from).to_vec();
    c.bench_function("check_tenant (4 locales, all templates)", |b| {
        b.iter(|| {
            themes
                .check_tenant("bank", "Acme", &locales, &BTreeMap::new())
                .unwrap()
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Renders every page of every theme (English and French) plus the emails to static HTML
//! files for a visual check: `cargo run -p passgate-theme --example render_pages -- OUT`.
//! Stylesheets are inlined into the files so they open without a server; add `--server`
//! to keep the `/static/...` URLs for a server that maps them to `themes/<name>/static/`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use passgate_theme::{
    Branding, Email, EmailContext, FieldError, Messages, Page, PageContext, Themes,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../themes");
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "target/theme-preview".into()),
    );
    let served = std::env::args().any(|a| a == "--server");
    std::fs::create_dir_all(&out)?;
    let themes = Themes::load(&root)?;
    let policy: serde_json::Value = serde_json::from_str(include_str!("preview-policy.json"))?;
    for theme in ["default", "fitness", "bank"] {
        for locale in ["en", "fr"] {
            let messages = Messages::new(&themes, theme, locale, BTreeMap::new())?;
            for page in Page::ALL {
                let ctx = PageContext {
                    messages: messages.clone(),
                    display_name: "Acme Fit".into(),
                    branding: Branding::default(),
                    csp_nonce: "preview".into(),
                    csrf_token: "preview".into(),
                    form_action: "#".into(),
                    restart_url: Some("#".into()),
                    continue_url: Some("#".into()),
                    static_prefix: "/static".into(),
                    hidden_fields: Vec::new(),
                    email: None,
                    errors: if page == Page::Request {
                        vec![FieldError {
                            code: "email".into(),
                            message: "Enter a valid email address.".into(),
                        }]
                    } else {
                        Vec::new()
                    },
                    policy: Some(policy.clone()),
                    request_id: Some("req-7f3a".into()),
                    retry_at: Some("23:45 UTC".into()),
                    secure_origin: true,
                };
                let mut html = themes.render_page(theme, page, &ctx)?;
                if !served {
                    html = inline_static(&themes, theme, &html);
                }
                std::fs::write(
                    out.join(format!("{theme}-{locale}-{}", page.template())),
                    html,
                )?;
            }
            for email in Email::ALL {
                let ctx = EmailContext {
                    messages: messages.clone(),
                    display_name: "Acme Fit".into(),
                    branding: Branding::default(),
                    action_url: Some("https://reset.example.com/reset/confirm#token".into()),
                    code: Some("48213077".into()),
                    expires_in_minutes: Some(30),
                    request_id: None,
                };
                let rendered = themes.render_email(theme, email, &ctx)?;
                let name = format!("{theme}-{locale}-email-{}", email.name());
                std::fs::write(out.join(format!("{name}.html")), rendered.html)?;
                std::fs::write(
                    out.join(format!("{name}.txt")),
                    format!("Subject: {}\n\n{}", rendered.subject, rendered.text),
                )?;
            }
        }
    }
    println!("wrote previews to {}", out.display());
    Ok(())
}

/// Replaces `<link rel="stylesheet" href="/static/<theme>/<file>">` with the file's text
/// and points the scripts at the files on disk, so the preview needs no server.
fn inline_static(themes: &Themes, theme: &str, html: &str) -> String {
    let mut html = html.to_owned();
    for t in ["default", theme] {
        for file in ["base.css", "theme.css"] {
            let tag = format!("<link rel=\"stylesheet\" href=\"/static/{t}/{file}\">");
            if let Some(asset) = themes.asset(t, file) {
                let css = String::from_utf8_lossy(&asset.bytes);
                html = html.replace(&tag, &format!("<style>{css}</style>"));
            }
        }
    }
    let js = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../themes/default/static");
    html.replace("/static/default/", &format!("file://{}/", js.display()))
}

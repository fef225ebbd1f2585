//! Rendering pages and emails: building the Tera context, the `t()` function, and the
//! post-render checks (missing keys, CSS inlining).

use serde::Serialize;
use tera::{Context, Kwargs, State, TeraResult, Value};

use crate::branding::is_link_url;
use crate::context::{Email, EmailContext, Page, PageContext, RenderedEmail};
use crate::error::ThemeError;
use crate::messages::{
    CONTEXT_VAR, MISSING_CLOSE, MISSING_OPEN, Messages, lookup, scrub, substitute,
};
use crate::policy_view::{policy_json, rule_hints};
use crate::themes::Themes;

/// The template function `t(key="…", name=value, …)`: the message for `key` in the
/// render's locale with `{name}` placeholders replaced by the other arguments.
///
/// Returns plain text; Tera's autoescape then HTML-escapes the whole result (message and
/// parameters) in `.html` templates and leaves `.txt` templates alone, so every value is
/// escaped exactly once, for the context it lands in. Parameters are substituted in one
/// pass and never evaluated; `{app}` defaults to the display name. A key found nowhere
/// leaves a marker that fails the render.
pub(crate) fn translate(kwargs: Kwargs, state: &State) -> TeraResult<Value> {
    let key: &str = kwargs.must_get("key")?;
    let layers: Option<Value> = state.get(CONTEXT_VAR)?;
    let text = layers
        .as_ref()
        .and_then(Value::as_array)
        .and_then(|layers| layers.iter().find_map(|layer| lookup(layer, key)));
    let Some(text) = text else {
        // Marked safe so the escaper (which replaces NUL) leaves the marker intact; a
        // render containing one is never served.
        return Ok(Value::safe_string(&format!(
            "{MISSING_OPEN}{}{MISSING_CLOSE}",
            scrub(key)
        )));
    };
    let app: Option<Value> = state.get("display_name")?;
    let out = substitute(text, |name| {
        let value = match kwargs.get::<&Value>(name).ok().flatten() {
            Some(value) => value,
            // `{app}` works in every message, so tenants can use it anywhere.
            None if name == "app" => app.as_ref()?,
            None => return None,
        };
        Some(scrub(
            &value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_owned),
        ))
    });
    Ok(Value::from(out))
}

/// Tera's HTML escaping, with NUL replaced by U+FFFD (as browsers do) so no user text can
/// forge a missing-key marker.
pub(crate) fn escape(input: &str, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    if input.contains('\0') {
        tera::escape_html(&input.replace('\0', "\u{FFFD}"), out)
    } else {
        tera::escape_html(input, out)
    }
}

/// [`escape`] into a `String`: text for HTML content or a double-quoted attribute, for
/// markup written outside a template (the console's page frame).
pub fn escape_html(input: &str) -> String {
    let mut out = Vec::with_capacity(input.len());
    if escape(input, &mut out).is_err() {
        return String::new();
    }
    String::from_utf8(out).unwrap_or_default()
}

#[derive(Serialize)]
struct Hidden<'a> {
    name: &'a str,
    value: &'a str,
}

#[derive(Serialize)]
struct ErrorView<'a> {
    code: &'a str,
    message: &'a str,
}

impl Themes {
    /// Renders a hosted page of `theme` (falling back to `default`'s template) with `ctx`.
    ///
    /// `ctx.messages` must have been built for the same theme. A message key found in no
    /// catalog is [`ThemeError::MissingMessages`] naming theme, locale and key.
    pub fn render_page(
        &self,
        theme: &str,
        page: Page,
        ctx: &PageContext,
    ) -> Result<String, ThemeError> {
        let context = page_context(theme, page, ctx);
        self.render_template(theme, page.template(), &context, &ctx.messages)
    }

    /// Renders an email of `theme`: subject (message `email.<name>.subject` with
    /// `{app}`), HTML with every CSS rule inlined into `style` attributes, and a text part.
    pub fn render_email(
        &self,
        theme: &str,
        email: Email,
        ctx: &EmailContext,
    ) -> Result<RenderedEmail, ThemeError> {
        if ctx.action_url.as_deref().is_some_and(|u| !is_link_url(u)) {
            return Err(ThemeError::UnsafeUrl {
                field: "action_url",
            });
        }
        let context = email_context(theme, ctx);
        let html_name = format!("email/{}.html", email.name());
        let text_name = format!("email/{}.txt", email.name());
        let html = self.render_raw(theme, &html_name, &context, &ctx.messages)?;
        let text = self.render_raw(theme, &text_name, &context, &ctx.messages)?;
        let mut missing = ctx.messages.collect_missing(&html);
        missing.extend(ctx.messages.collect_missing(&text));
        let subject_key = format!("email.{}.subject", email.name());
        let subject = match ctx.messages.get(&subject_key) {
            Some(_) => ctx
                .messages
                .format(&subject_key, &[("app", &ctx.display_name)])?,
            None => {
                missing.push(ctx.messages.missing_one(&subject_key));
                String::new()
            }
        };
        if !missing.is_empty() {
            missing.sort();
            missing.dedup();
            return Err(ThemeError::MissingMessages(missing));
        }
        let inliner = css_inline::CSSInliner::options()
            .load_remote_stylesheets(false)
            .keep_style_tags(false)
            .keep_link_tags(false)
            .keep_at_rules(false)
            .build();
        let html = inliner.inline(&html).map_err(|e| ThemeError::Inline {
            template: html_name,
            message: e.to_string(),
        })?;
        Ok(RenderedEmail {
            subject: one_line(&subject),
            html,
            text,
        })
    }

    /// Renders one template and turns missing-key markers into an error.
    fn render_template(
        &self,
        theme: &str,
        template: &str,
        context: &Context,
        messages: &Messages,
    ) -> Result<String, ThemeError> {
        let out = self.render_raw(theme, template, context, messages)?;
        let missing = messages.collect_missing(&out);
        if missing.is_empty() {
            Ok(out)
        } else {
            Err(ThemeError::MissingMessages(missing))
        }
    }

    /// Renders one template; missing keys are left as markers for the caller to collect.
    fn render_raw(
        &self,
        theme: &str,
        template: &str,
        context: &Context,
        messages: &Messages,
    ) -> Result<String, ThemeError> {
        if messages.theme() != theme {
            return Err(ThemeError::Template {
                theme: theme.to_owned(),
                template: template.to_owned(),
                message: format!("messages were built for theme `{}`", messages.theme()),
            });
        }
        self.theme(theme)?
            .tera
            .render(template, context)
            .map_err(|e| ThemeError::Template {
                theme: theme.to_owned(),
                template: template.to_owned(),
                message: e.to_string(),
            })
    }
}

/// Context shared by pages and emails.
fn base_context(theme: &str, messages: &Messages, display_name: &str) -> Context {
    let mut context = Context::new();
    context.insert_value(CONTEXT_VAR, messages.to_context_value());
    context.insert("theme", theme);
    context.insert("lang", messages.locale());
    context.insert("display_name", display_name);
    context
}

fn page_context(theme: &str, page: Page, ctx: &PageContext) -> Context {
    let mut context = base_context(theme, &ctx.messages, &ctx.display_name);
    let brand = ctx.branding.view(Some(&ctx.static_prefix));
    context.insert_value("brand_css", Value::safe_string(&brand.css));
    context.insert("brand", &brand);
    context.insert("page", page.template().trim_end_matches(".html"));
    context.insert("csp_nonce", &ctx.csp_nonce);
    context.insert("csrf_token", &ctx.csrf_token);
    context.insert("form_action", &ctx.form_action);
    context.insert("restart_url", &ctx.restart_url);
    context.insert("continue_url", &ctx.continue_url);
    context.insert("static_prefix", ctx.static_prefix.trim_end_matches('/'));
    let hidden: Vec<Hidden<'_>> = ctx
        .hidden_fields
        .iter()
        .map(|h| Hidden {
            name: &h.name,
            value: &h.value,
        })
        .collect();
    context.insert("hidden_fields", &hidden);
    context.insert("email", &ctx.email);
    let errors: Vec<ErrorView<'_>> = ctx
        .errors
        .iter()
        .map(|e| ErrorView {
            code: &e.code,
            message: &e.message,
        })
        .collect();
    context.insert("errors", &errors);
    context.insert("request_id", &ctx.request_id);
    context.insert("retry_at", &ctx.retry_at);
    context.insert("secure_origin", &ctx.secure_origin);
    // Only the new-password page shows the rules; skip the JSON work elsewhere.
    match ctx.policy.as_ref().filter(|_| page == Page::NewPassword) {
        Some(policy) => {
            context.insert_value("policy_json", Value::safe_string(&policy_json(policy)));
            context.insert("rules", &rule_hints(policy));
            context.insert("max_bytes", &policy["max_bytes"].as_u64().unwrap_or(72));
        }
        None => {
            context.insert("policy_json", &Option::<String>::None);
            context.insert("rules", &Vec::<String>::new());
            context.insert("max_bytes", &72);
        }
    }
    context
}

fn email_context(theme: &str, ctx: &EmailContext) -> Context {
    let mut context = base_context(theme, &ctx.messages, &ctx.display_name);
    context.insert("brand", &ctx.branding.view(None));
    context.insert("action_url", &ctx.action_url);
    context.insert("code", &ctx.code);
    context.insert("expires_in_minutes", &ctx.expires_in_minutes);
    context.insert("request_id", &ctx.request_id);
    context
}

/// A header-safe single line: control characters (CR, LF, …) become spaces.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

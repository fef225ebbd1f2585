//! What the web layer and the engine hand to a render: plain structs, no Tera types.

use std::fmt;

use crate::branding::Branding;
use crate::messages::Messages;

/// A hosted page. Each maps to one template file in the theme's `templates/` folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Page {
    /// The email form that starts a reset.
    Request,
    /// "Check your inbox": the same answer whether or not the account exists.
    Sent,
    /// New password and confirmation, with live rule feedback.
    NewPassword,
    /// Enter the 8-digit code (code mode).
    Code,
    /// The password was changed.
    Success,
    /// One page for every token failure (expired, used, unknown, tampered).
    InvalidLink,
    /// A generic error, showing only the request id.
    Error,
    /// Unknown app or path.
    NotFound,
    /// Too many requests from this client or for the whole app, with when to try again
    /// (only for limits that say nothing about the account).
    RateLimited,
    /// The app asked to return to an address it has not allowlisted.
    BadRedirect,
    /// A form whose CSRF token no longer matches (left open too long, cookies cleared).
    StaleForm,
}

impl Page {
    /// Every page, for startup checks and docs.
    pub const ALL: [Page; 11] = [
        Page::Request,
        Page::Sent,
        Page::NewPassword,
        Page::Code,
        Page::Success,
        Page::InvalidLink,
        Page::Error,
        Page::NotFound,
        Page::RateLimited,
        Page::BadRedirect,
        Page::StaleForm,
    ];

    /// The template file name inside `templates/`.
    pub fn template(self) -> &'static str {
        match self {
            Page::Request => "request.html",
            Page::Sent => "sent.html",
            Page::NewPassword => "new_password.html",
            Page::Code => "code.html",
            Page::Success => "success.html",
            Page::InvalidLink => "invalid_link.html",
            Page::Error => "error.html",
            Page::NotFound => "not_found.html",
            Page::RateLimited => "rate_limited.html",
            Page::BadRedirect => "bad_redirect.html",
            Page::StaleForm => "stale_form.html",
        }
    }
}

/// An email. Each maps to `email/<name>.html` and `email/<name>.txt`, and its subject to
/// the message key `email.<name>.subject`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Email {
    /// A link to Passgate's new-password page (hosted mode).
    ResetLink,
    /// An 8-digit code to type into the app or the page (code mode).
    ResetCode,
    /// An Auth0 change-password ticket URL, in Passgate's branded mail.
    ResetTicket,
    /// "Your password was changed": no link, no token.
    PasswordChanged,
}

impl Email {
    /// Every email, for startup checks and docs.
    pub const ALL: [Email; 4] = [
        Email::ResetLink,
        Email::ResetCode,
        Email::ResetTicket,
        Email::PasswordChanged,
    ];

    /// The template base name inside `templates/email/`.
    pub fn name(self) -> &'static str {
        match self {
            Email::ResetLink => "reset_link",
            Email::ResetCode => "reset_code",
            Email::ResetTicket => "reset_ticket",
            Email::PasswordChanged => "password_changed",
        }
    }
}

/// One problem to show next to a form, already localized by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Stable machine code (e.g. `policy.min_length`), emitted as `data-code`.
    pub code: String,
    /// The localized text shown to the user.
    pub message: String,
}

/// A hidden form input the flow needs to carry (e.g. `client_id`, `locale`).
///
/// Values may be sensitive (a reset token in a no-cookie flow), so `Debug` hides them.
#[derive(Clone, PartialEq, Eq)]
pub struct HiddenField {
    /// The input's `name`.
    pub name: String,
    /// The input's `value` (attribute-escaped on output).
    pub value: String,
}

impl fmt::Debug for HiddenField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HiddenField")
            .field("name", &self.name)
            .field("value", &"[redacted]")
            .finish()
    }
}

/// Everything a hosted page can show. Fields a page does not use are ignored by it.
#[derive(Clone)]
pub struct PageContext {
    /// Localized messages (theme catalog + tenant overrides); also gives `lang`.
    pub messages: Messages,
    /// The app's display name, shown in titles and headings.
    pub display_name: String,
    /// Colours, font, logo and custom CSS.
    pub branding: Branding,
    /// The per-response CSP nonce for the `<style>` and `<script>` elements.
    pub csp_nonce: String,
    /// The CSRF token for the page's form (hidden input `csrf_token`).
    pub csrf_token: String,
    /// Where the page's form posts (a path, e.g. `/reset?client_id=acme`).
    pub form_action: String,
    /// Where "start over" / "request a new link" links go, when the page offers one.
    pub restart_url: Option<String>,
    /// Where "back to the app" goes on the success page (an allowlisted redirect URI).
    pub continue_url: Option<String>,
    /// URL prefix the web layer serves `themes/<name>/static/` under (e.g. `/static`).
    pub static_prefix: String,
    /// Extra hidden inputs for the form.
    pub hidden_fields: Vec<HiddenField>,
    /// The request form: the email to prefill (what the user typed, on an error). The
    /// new-password page: the masked account the link is bound to (`a••@example.com`).
    pub email: Option<String>,
    /// Problems to show above the form.
    pub errors: Vec<FieldError>,
    /// The live-validation payload (shape in docs/themes.md) for the new-password page.
    pub policy: Option<serde_json::Value>,
    /// The request id shown on the error page for support.
    pub request_id: Option<String>,
    /// The rate-limited page: when the limit lifts, already formatted (`23:45 UTC`).
    pub retry_at: Option<String>,
    /// Whether users reach the page over HTTPS (the public base URL's scheme): a theme may
    /// claim a secure connection only then.
    pub secure_origin: bool,
}

impl fmt::Debug for PageContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PageContext")
            .field("locale", &self.messages.locale())
            .field("display_name", &self.display_name)
            .field("form_action", &self.form_action)
            .field("csrf_token", &"[redacted]")
            .field("hidden_fields", &self.hidden_fields)
            .field("errors", &self.errors)
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}

/// Everything an email can show.
#[derive(Clone)]
pub struct EmailContext {
    /// Localized messages (theme catalog + tenant overrides).
    pub messages: Messages,
    /// The app's display name, used in the subject and greeting.
    pub display_name: String,
    /// Colours and logo (custom CSS is not applied to emails).
    pub branding: Branding,
    /// The reset link or Auth0 ticket URL (https; it carries a token, so `Debug` hides it).
    pub action_url: Option<String>,
    /// The 8-digit code in code mode (hidden by `Debug`).
    pub code: Option<String>,
    /// Minutes until the link or code expires, shown to the user.
    pub expires_in_minutes: Option<u32>,
    /// Correlates the email with logs and support requests.
    pub request_id: Option<String>,
}

impl fmt::Debug for EmailContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailContext")
            .field("locale", &self.messages.locale())
            .field("display_name", &self.display_name)
            .field(
                "action_url",
                &self.action_url.as_ref().map(|_| "[redacted]"),
            )
            .field("code", &self.code.as_ref().map(|_| "[redacted]"))
            .field("expires_in_minutes", &self.expires_in_minutes)
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}

/// A rendered email, ready for the outbox.
#[derive(Clone, PartialEq, Eq)]
pub struct RenderedEmail {
    /// One line, control characters removed (no header injection).
    pub subject: String,
    /// HTML body with all CSS inlined and no `<style>` element left.
    pub html: String,
    /// Plain-text alternative.
    pub text: String,
}

impl fmt::Debug for RenderedEmail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RenderedEmail")
            .field("subject", &self.subject)
            .field("html", &format_args!("[{} bytes]", self.html.len()))
            .field("text", &format_args!("[{} bytes]", self.text.len()))
            .finish()
    }
}

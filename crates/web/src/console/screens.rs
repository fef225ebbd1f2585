//! The console's screens: home (the apps you may edit), the editor of one app, and the
//! platform admin screen. Each is a server-rendered shell; the script fills it through the
//! admin API. A screen's access is decided like the API decides it (the same checks, the
//! same 403 audit), so opening another tenant's editor by URL is refused as the API would.

use passgate_store::{ApiRole, TenantRepo};
use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{FromRequest, IntoResponse, Request, RequestBody, Response, handler};

use super::html::{self, Screen, escape};
use super::session::{self, Signed};
use super::sign_in;
use crate::admin::AdminState;
use crate::admin::auth::{require_platform_admin, require_tenant};
use crate::pages::see_other;
use crate::state::AppState;

/// Pages of the preview picker: (API name, label).
const PREVIEW_PAGES: &[(&str, &str)] = &[
    ("page:request", "Request form"),
    ("page:sent", "Check your inbox"),
    ("page:code", "Enter code"),
    ("page:new_password", "New password"),
    ("page:success", "Password changed"),
    ("page:invalid_link", "Invalid or expired link"),
    ("page:rate_limited", "Rate limited"),
    ("page:stale_form", "Form expired"),
    ("page:bad_redirect", "Unknown redirect"),
    ("page:error", "Error"),
    ("page:not_found", "Not found"),
    ("email:reset_link", "Email: reset link"),
    ("email:reset_code", "Email: reset code"),
    ("email:reset_ticket", "Email: Auth0 ticket link"),
    ("email:password_changed", "Email: password changed"),
];

/// A screen's session: a person who is not signed in is sent to the sign-in form.
impl<'a> FromRequest<'a> for Signed {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        let sign_in =
            || poem::Error::from_response(see_other(&format!("{}/", super::BASE), Vec::new()));
        let state = req.data::<AdminState>().ok_or_else(sign_in)?;
        session::current(state, req).await.map_err(|_| sign_in())
    }
}

fn forbidden(req: &Request, signed: &Signed) -> Response {
    html::render(
        req,
        StatusCode::FORBIDDEN,
        Some(signed),
        Screen {
            title: "Not allowed",
            name: "denied",
            data: Vec::new(),
            body: format!(
                "<p class=\"alert\" role=\"alert\">Your key does not give access to this \
                 screen. <a href=\"{}/\">Back to your apps</a>.</p>",
                super::BASE
            ),
        },
    )
}

/// `GET /console/`: the sign-in form, or the apps the signed-in key may edit.
#[handler]
pub async fn home(
    req: &Request,
    signed: Option<Signed>,
    Data(app): Data<&AppState>,
    Data(state): Data<&AdminState>,
) -> Response {
    let Some(signed) = signed else {
        return sign_in::page(app, state, req, StatusCode::OK, None);
    };
    let principal = &signed.principal;
    let tenants: Vec<(String, String)> = match principal.role {
        ApiRole::PlatformAdmin => match state.store().list_tenants().await {
            Ok(list) => list
                .into_iter()
                .map(|s| (s.tenant.id.as_str().to_owned(), s.tenant.display_name))
                .collect(),
            Err(err) => {
                tracing::error!(target: "passgate::console", error = %err, "tenants not listed");
                return StatusCode::SERVICE_UNAVAILABLE.into_response();
            }
        },
        ApiRole::TenantEditor => {
            let mut out = Vec::new();
            for id in &principal.tenants {
                let name = match state.store().tenant(id).await {
                    Ok(Some(t)) => t.display_name,
                    _ => id.as_str().to_owned(),
                };
                out.push((id.as_str().to_owned(), name));
            }
            out
        }
    };
    let mut body = String::new();
    if principal.role == ApiRole::PlatformAdmin {
        body.push_str(&format!(
            "<p><a class=\"button\" href=\"{}/platform\">Platform admin: onboard apps, keys, \
             sender domains, audit</a></p>",
            super::BASE
        ));
    }
    body.push_str(
        "<p>Open an app to edit its YAML, preview its pages and mails, try passwords against \
         its rules and publish.</p>",
    );
    if tenants.is_empty() {
        body.push_str(
            "<p class=\"empty\">No app yet. A platform admin onboards apps and grants your \
             key access to them.</p>",
        );
    } else {
        body.push_str("<ul class=\"apps\" id=\"apps\">");
        for (id, name) in &tenants {
            body.push_str(&format!(
                "<li><a href=\"{base}/tenants/{id}\">{name}</a> <code>{id}</code></li>",
                base = super::BASE,
                id = escape(id),
                name = escape(name),
            ));
        }
        body.push_str("</ul>");
    }
    html::render(
        req,
        StatusCode::OK,
        Some(&signed),
        Screen {
            title: "Your apps",
            name: "home",
            data: Vec::new(),
            body,
        },
    )
}

/// `GET /console/tenants/{tenant}`: the editor of one app (its editors and platform admins).
#[handler]
pub async fn editor(
    req: &Request,
    signed: Signed,
    Path(tenant): Path<String>,
    Data(state): Data<&AdminState>,
) -> Response {
    let Ok(id) = require_tenant(state, &signed.principal, &tenant, "consoleEditor").await else {
        return forbidden(req, &signed);
    };
    let name = match state.store().tenant(&id).await {
        Ok(Some(t)) => t.display_name,
        Ok(None) => {
            return html::render(
                req,
                StatusCode::NOT_FOUND,
                Some(&signed),
                Screen {
                    title: "No such app",
                    name: "missing",
                    data: Vec::new(),
                    body: "<p class=\"alert\">This app does not exist (any more).</p>".into(),
                },
            );
        }
        Err(err) => {
            tracing::error!(target: "passgate::console", error = %err, "tenant not read");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let options: String = PREVIEW_PAGES
        .iter()
        .map(|(value, label)| {
            let selected = if *value == "page:new_password" {
                " selected"
            } else {
                ""
            };
            format!("<option value=\"{value}\"{selected}>{label}</option>")
        })
        .collect();
    let body = format!(
        include_str!("../../console/editor.html"),
        name = escape(&name),
        options = options,
    );
    let title = format!("{name}: editor");
    html::render(
        req,
        StatusCode::OK,
        Some(&signed),
        Screen {
            title: &title,
            name: "editor",
            data: vec![("tenant", id.as_str().to_owned())],
            body,
        },
    )
}

/// `GET /console/platform`: onboarding, keys, sender domains, audit (platform admins).
#[handler]
pub async fn platform(req: &Request, signed: Signed, Data(state): Data<&AdminState>) -> Response {
    if require_platform_admin(state, &signed.principal, "consolePlatform")
        .await
        .is_err()
    {
        return forbidden(req, &signed);
    }
    html::render(
        req,
        StatusCode::OK,
        Some(&signed),
        Screen {
            title: "Platform admin",
            name: "platform",
            data: Vec::new(),
            body: include_str!("../../console/platform.html").to_owned(),
        },
    )
}

//! Auth0's hosted change-password page, `/u/reset-password?ticket=…`: where a
//! password-change ticket (`POST /api/v2/tickets/password-change`) or a change-password email
//! link sends the user, as Universal Login serves it (spec A5, A9). `GET` shows a form (new
//! password and confirmation; plain HTML, no scripts); `POST` (form-urlencoded `newPassword`
//! and `confirmNewPassword`, the classic widget's field names) redeems the ticket once.
//!
//! The spec gives no status codes for this page, so the simulator's are:
//! - unknown ticket (or its user is gone): **404** error page;
//! - expired (past its `ttl_sec`) or already used ticket: **400** error page;
//! - empty password, confirmation mismatch or a policy rejection: **400**, the form again
//!   with the message; the ticket stays usable, as on Auth0;
//! - success: **302** to `result_url` (with `success=true&message=…`, plus `email=` when
//!   the ticket asked for `includeEmailInRedirect`, as Classic Universal Login does), or
//!   **200** with a "password changed" page when the ticket has no `result_url`.
//!
//! The page has no CSRF token (Auth0's has `_csrf`): the simulator serves tests and demos.

use crate::auth0::set_checked_password;
use crate::state::{PasswordTicket, SimState, World};
use crate::wire::{Input, Reply, escape};

/// Where the page is served.
pub(crate) const PATH: &str = "/u/reset-password";

/// What Classic Universal Login puts in `message` after a successful change.
const SUCCESS_MESSAGE: &str = "You can now login to the application with the new password.";

/// The link a ticket or a change-password email carries (with Auth0's trailing `#`).
pub(crate) fn ticket_url(state: &SimState, ticket: &str) -> String {
    format!("{}{PATH}?ticket={ticket}#", state.base_url)
}

/// Why a ticket cannot be redeemed.
#[derive(Debug, Clone, Copy)]
enum TicketProblem {
    Unknown,
    Expired,
    Used,
}

impl TicketProblem {
    fn status(self) -> u16 {
        match self {
            Self::Unknown => 404,
            Self::Expired | Self::Used => 400,
        }
    }

    /// The texts Universal Login shows (`auth0-users-expired-ticket`, `…-used-ticket`).
    fn message(self) -> &'static str {
        match self {
            Self::Unknown => "This link is invalid. Request a new password reset.",
            Self::Expired => "This link has expired. Request a new password reset.",
            Self::Used => "This link has already been used. Request a new password reset.",
        }
    }
}

/// The ticket the request names, with its user's index and email, if it can be redeemed.
fn redeemable(
    world: &World,
    input: &Input,
) -> Result<(String, PasswordTicket, usize, String), TicketProblem> {
    let id = input
        .query_param("ticket")
        .or_else(|| input.param("ticket"))
        .ok_or(TicketProblem::Unknown)?;
    let ticket = world.tickets.get(&id).ok_or(TicketProblem::Unknown)?;
    if ticket.used {
        return Err(TicketProblem::Used);
    }
    if ticket.expires_at <= world.now() {
        return Err(TicketProblem::Expired);
    }
    let index = world
        .users
        .iter()
        .position(|u| u.user_id == ticket.user_id)
        .ok_or(TicketProblem::Unknown)?;
    let email = world.users[index].email.clone();
    Ok((id, ticket.clone(), index, email))
}

/// `GET /u/reset-password?ticket=…`: the form, or the error page.
pub(crate) fn show(state: &SimState, input: &Input) -> Reply {
    let world = state.world();
    match redeemable(&world, input) {
        Ok((id, _, _, email)) => form_page(200, &id, &email, None),
        Err(problem) => error_page(problem),
    }
}

/// `POST /u/reset-password?ticket=…`: checks the ticket, the confirmation and the
/// connection's policy (the PATCH endpoint's code), sets the password and spends the ticket.
pub(crate) fn submit(state: &SimState, input: &Input) -> Reply {
    let mut world = state.world();
    let (id, ticket, index, email) = match redeemable(&world, input) {
        Ok(found) => found,
        Err(problem) => return error_page(problem),
    };
    let password = input.param("newPassword").unwrap_or_default();
    if password.is_empty() {
        return form_page(400, &id, &email, Some("Enter a new password."));
    }
    if input.param("confirmNewPassword").as_deref() != Some(password.as_str()) {
        return form_page(400, &id, &email, Some("The passwords do not match."));
    }
    let user_connection = world.users[index].connection.clone();
    let Some(connection) = crate::auth0::database_connection(state, &user_connection) else {
        return page(
            400,
            "Password not changed",
            "<p role=\"alert\">This account's connection does not support password changes.</p>",
        );
    };
    if let Err(rejection) = set_checked_password(&mut world, index, connection, &password) {
        // "PasswordStrengthError: Password is too weak" shows as "Password is too weak."
        let text = rejection.split_once(": ").map_or(rejection, |(_, t)| t);
        return form_page(400, &id, &email, Some(&format!("{text}.")));
    }
    if ticket.mark_email_as_verified {
        world.users[index].email_verified = true;
    }
    if let Some(spent) = world.tickets.get_mut(&id) {
        spent.used = true;
    }
    match ticket
        .result_url
        .as_deref()
        .and_then(|u| url::Url::parse(u).ok())
    {
        Some(mut target) => {
            {
                let mut query = target.query_pairs_mut();
                query.append_pair("success", "true");
                query.append_pair("message", SUCCESS_MESSAGE);
                if ticket.include_email_in_redirect {
                    query.append_pair("email", &email);
                }
            }
            with_page_headers(Reply::html(302, "")).with_header("location", target.as_str())
        }
        None => match ticket.return_to_app {
            Some(target) => with_page_headers(Reply::html(302, "")).with_header("location", target),
            None => page(
                200,
                "Password changed",
                "<h1>Password changed</h1>\n<p role=\"status\">Your password has been changed. \
             You can now log in with the new password.</p>",
            ),
        },
    }
}

/// The change-password form, with an error message when a submission was rejected.
fn form_page(status: u16, ticket: &str, email: &str, error: Option<&str>) -> Reply {
    let (alert, invalid) = match error {
        Some(text) => (
            format!(
                "<p id=\"form-error\" role=\"alert\" style=\"color:#a40000;font-weight:600\">{}</p>\n",
                escape(text)
            ),
            " aria-invalid=\"true\" aria-describedby=\"form-error\"",
        ),
        None => (String::new(), ""),
    };
    let body = format!(
        "<h1>Change your password</h1>\n\
         <p>Enter a new password for <strong>{email}</strong>.</p>\n\
         {alert}\
         <form method=\"post\" action=\"{PATH}?ticket={ticket}\">\n\
         <p><label for=\"newPassword\">New password</label><br>\n\
         <input id=\"newPassword\" name=\"newPassword\" type=\"password\" autocomplete=\"new-password\" required{invalid}></p>\n\
         <p><label for=\"confirmNewPassword\">Confirm new password</label><br>\n\
         <input id=\"confirmNewPassword\" name=\"confirmNewPassword\" type=\"password\" autocomplete=\"new-password\" required></p>\n\
         <p><button type=\"submit\">Reset password</button></p>\n\
         </form>",
        email = escape(email),
        ticket = escape(ticket),
    );
    page(status, "Change your password", &body)
}

fn error_page(problem: TicketProblem) -> Reply {
    let body = format!(
        "<h1>Password reset link not valid</h1>\n<p role=\"alert\">{}</p>",
        problem.message()
    );
    page(problem.status(), "Password reset link not valid", &body)
}

/// A whole page around `main` (trusted HTML built here; user values are escaped by callers).
fn page(status: u16, title: &str, main: &str) -> Reply {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n</head>\n\
         <body style=\"font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;line-height:1.5\">\n\
         <main>\n{main}\n</main>\n</body>\n</html>\n",
        title = escape(title),
    );
    with_page_headers(Reply::html(status, &html))
}

/// No caching, no framing, no scripts, and no referrer (the ticket is in the URL).
fn with_page_headers(reply: Reply) -> Reply {
    reply
        .with_header("cache-control", "no-store")
        .with_header("referrer-policy", "no-referrer")
        .with_header(
            "content-security-policy",
            "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'",
        )
}

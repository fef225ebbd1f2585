//! The password-reset resource: request, read, complete.

use passgate_engine::{CompleteError, CompleteInput, Credential, PasswordCheckError, RequestInput};
use poem::{Request, web::Data};
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use secrecy::SecretString;

use super::ApiTags;
use crate::{
    pages::{client_ip, tenant, view},
    policy_view::{self, PolicyPayload},
    problem::{Code, PublicProblem, ViolationView, public::completion},
    security::random_b64,
    state::AppState,
    strict::Text,
};

/// The password-reset resource.
#[derive(Debug)]
pub struct ResetsApi;

/// A reset request.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct CreateReset {
    /// The app's client id.
    #[oai(validator(min_length = 1, max_length = 128))]
    pub client_id: Text,
    /// The account's email address, exactly one string.
    #[oai(validator(max_length = 320))]
    pub email: Text,
    /// Preferred locale of the email (BCP 47).
    #[oai(validator(max_length = 35))]
    pub locale: Option<Text>,
    /// Where to send the user after success; must exactly match one of the app's URIs.
    #[oai(validator(max_length = 2048))]
    pub redirect_uri: Option<Text>,
}

/// The one answer to a reset request, whether or not the account exists.
#[derive(Debug, Object)]
pub struct ResetAccepted {
    /// Identifies this request; in code mode, complete with it and the mailed code.
    pub flow_id: String,
}

/// A usable reset link.
#[derive(Debug, Object)]
pub struct ResetState {
    /// Always `usable` (anything else is a 410 problem).
    pub state: String,
    /// The app the link was issued for.
    pub client_id: String,
    /// The locale the user asked in.
    pub locale: String,
    /// When the link expires (RFC 3339).
    pub expires_at: String,
    /// The account the link is bound to, masked (`a••@example.com`): show it, so a user
    /// who opened someone else's link sees it is not theirs.
    pub account: String,
    /// The rules the new password must meet.
    pub policy: PolicyPayload,
}

/// The new password.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct CompleteReset {
    /// The new password, byte for byte (never trimmed or normalised).
    #[oai(validator(max_length = 1024))]
    pub password: Text,
    /// The same password again.
    #[oai(validator(max_length = 1024))]
    pub password_confirmation: Text,
    /// Code mode: the mailed code; the path then carries the `flow_id`.
    #[oai(validator(max_length = 32))]
    pub code: Option<Text>,
}

impl std::fmt::Debug for CompleteReset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CompleteReset(<redacted>)")
    }
}

/// A candidate password for the live check.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct CheckPassword {
    /// The candidate, byte for byte; neither stored nor logged.
    #[oai(validator(max_length = 1024))]
    pub password: Text,
}

impl std::fmt::Debug for CheckPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CheckPassword(<redacted>)")
    }
}

/// The live check's verdict: every rule of the policy, server-only ones included.
#[derive(Debug, Object)]
pub struct PasswordChecked {
    /// `true` when no rule is broken (history and the provider are still checked on
    /// complete).
    pub met: bool,
    /// The broken rules, as in the `password-policy` problem of complete; every rule of the
    /// policy not listed is met.
    pub violations: Vec<ViolationView>,
}

/// A completed reset.
#[derive(Debug, Object)]
pub struct ResetCompleted {
    /// Where to send the user (allowlisted), if the request named one.
    pub redirect_uri: Option<String>,
}

/// Answers of `POST /password-resets`.
#[derive(Debug, ApiResponse)]
pub enum CreateResponse {
    /// Accepted; an email is sent if the account exists.
    #[oai(status = 202)]
    Accepted(Json<ResetAccepted>),
}

/// Answers of `GET /password-resets/{token}`.
#[derive(Debug, ApiResponse)]
pub enum ReadResponse {
    /// The link is usable.
    #[oai(status = 200)]
    Ok(Json<ResetState>),
}

/// Answers of `POST /password-resets/{token}/check`.
#[derive(Debug, ApiResponse)]
pub enum CheckResponse {
    /// The candidate was checked against every rule.
    #[oai(status = 200)]
    Ok(Json<PasswordChecked>),
}

/// Answers of `POST /password-resets/{token}/complete`.
#[derive(Debug, ApiResponse)]
pub enum CompleteResponse {
    /// The password was changed.
    #[oai(status = 200)]
    Ok(Json<ResetCompleted>),
}

fn request_id() -> String {
    random_b64::<12>().unwrap_or_default()
}

#[OpenApi(tag = "ApiTags::PasswordResets")]
impl ResetsApi {
    /// Requests a reset email. The answer is the same for every account.
    #[oai(path = "/password-resets", method = "post")]
    async fn create(
        &self,
        req: &Request,
        Data(state): Data<&AppState>,
        body: Json<CreateReset>,
    ) -> Result<CreateResponse, PublicProblem> {
        let body = body.0;
        let input = RequestInput {
            client_id: body.client_id.into_string(),
            email_raw: body.email.into_string(),
            locale: body.locale.map(Text::into_string),
            redirect_uri: body.redirect_uri.map(Text::into_string),
            client_ip: client_ip(state, req),
            request_id: request_id(),
        };
        let accepted = state
            .backend
            .request_reset(input)
            .await
            .map_err(PublicProblem::from)?;
        Ok(CreateResponse::Accepted(Json(ResetAccepted {
            flow_id: accepted.flow_id,
        })))
    }

    /// The state of a reset link and the rules its new password must meet. Reading it
    /// changes nothing.
    #[oai(path = "/password-resets/:token", method = "get")]
    async fn read(
        &self,
        req: &Request,
        Data(state): Data<&AppState>,
        /// The token from the reset link.
        token: Path<String>,
        /// Locale of the policy texts; defaults to the link's.
        locale: Query<Option<String>>,
    ) -> Result<ReadResponse, PublicProblem> {
        let view = state
            .backend
            .view_token(&token)
            .await
            .map_err(PublicProblem::from)?;
        let active = match tenant(state, view.client_id.as_str()).await {
            Ok(Some(active)) => active,
            Ok(None) => return Err(Code::InvalidLink.into()),
            Err(()) => return Err(Code::Unavailable.into()),
        };
        let config = &active.config;
        let env = view::Env::from_request(state, req);
        let wanted = locale.0.unwrap_or_else(|| view.locale.clone());
        let locale = env.locale_for(config, Some(&wanted));
        let messages = view::messages(state, Some(config), &locale)
            .ok_or(PublicProblem::from(Code::Unavailable))?;
        let own = config
            .messages
            .iter()
            .find(|(l, _)| l.as_str() == locale)
            .map(|(_, m)| m);
        Ok(ReadResponse::Ok(Json(ResetState {
            state: "usable".to_owned(),
            client_id: view.client_id.as_str().to_owned(),
            locale,
            expires_at: view.expires_at.to_rfc3339(),
            account: view.masked_account,
            policy: policy_view::payload(config.policy_spec(), &messages, config.id.as_str(), own),
        })))
    }

    /// Checks a candidate against every rule of the link's policy (strength, blocklist,
    /// personal information and the JavaScript rule included) while the user types.
    /// Consumes nothing, stores and logs nothing, does no history or provider work;
    /// limited per link.
    #[oai(path = "/password-resets/:token/check", method = "post")]
    async fn check(
        &self,
        req: &Request,
        Data(state): Data<&AppState>,
        /// The token from the reset link.
        token: Path<String>,
        body: Json<CheckPassword>,
    ) -> Result<CheckResponse, PublicProblem> {
        let password = SecretString::from(body.0.password.into_string());
        let violations = state
            .backend
            .check_password(&token, &password)
            .await
            .map_err(|err| match err {
                PasswordCheckError::InvalidLink(_) => PublicProblem::from(Code::InvalidLink),
                PasswordCheckError::Throttled => Code::Throttled.into(),
                PasswordCheckError::TryAgainLater => Code::Unavailable.into(),
            })?;
        let messages = match state.backend.view_token(&token).await {
            Ok(view) => match tenant(state, view.client_id.as_str()).await {
                Ok(Some(active)) => {
                    let env = view::Env::from_request(state, req);
                    let locale = env.locale_for(&active.config, Some(&view.locale));
                    view::messages(state, Some(&active.config), &locale)
                }
                _ => None,
            },
            Err(_) => None,
        };
        Ok(CheckResponse::Ok(Json(PasswordChecked {
            met: violations.is_empty(),
            violations: violations
                .iter()
                .map(|v| ViolationView::new(v, messages.as_ref()))
                .collect(),
        })))
    }

    /// Sets the new password (consumes the link on success).
    #[oai(path = "/password-resets/:token/complete", method = "post")]
    async fn complete(
        &self,
        req: &Request,
        Data(state): Data<&AppState>,
        /// The link's token, or the `flow_id` in code mode.
        token: Path<String>,
        body: Json<CompleteReset>,
    ) -> Result<CompleteResponse, PublicProblem> {
        let body = body.0;
        let credential = match body.code {
            Some(code) => Credential::Code {
                flow_id: token.0.clone(),
                code: code.into_string(),
            },
            None => Credential::Link {
                token: token.0.clone(),
            },
        };
        let input = CompleteInput {
            credential,
            password: SecretString::from(body.password.into_string()),
            confirmation: SecretString::from(body.password_confirmation.into_string()),
            client_ip: client_ip(state, req),
            request_id: request_id(),
        };
        match state.backend.complete_reset(input).await {
            Ok(done) => Ok(CompleteResponse::Ok(Json(ResetCompleted {
                redirect_uri: done.redirect_uri,
            }))),
            Err(err) => {
                // Violations are localized in the link's locale when the link still reads.
                let violations = matches!(err, CompleteError::PolicyViolations(_));
                let view = match violations {
                    true => state.backend.view_token(&token).await.ok(),
                    false => None,
                };
                let messages = match view {
                    Some(view) => match tenant(state, view.client_id.as_str()).await {
                        Ok(Some(active)) => {
                            view::messages(state, Some(&active.config), &view.locale)
                        }
                        _ => None,
                    },
                    None => None,
                };
                Err(completion(&err, messages.as_ref()).into())
            }
        }
    }
}

//! `GET /v1/apps/{client_id}/password-policy`: an app's rules as data, its messages in a
//! locale, and its JavaScript rule's source, so native screens validate like the server.

use poem::{Request, web::Data};
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};

use super::ApiTags;
use crate::{
    pages::{tenant, view},
    policy_view::{self, PolicyPayload},
    problem::{Code, PublicProblem},
    state::AppState,
};

/// The app policy resource.
#[derive(Debug)]
pub struct PolicyApi;

/// An app's password policy in one locale.
#[derive(Debug, Object)]
pub struct AppPolicy {
    /// The app.
    pub client_id: String,
    /// The locale of `policy.messages` (negotiated from `locale` and `Accept-Language`).
    pub locale: String,
    /// Rules, texts and script.
    pub policy: PolicyPayload,
}

/// Answers of `GET /apps/{client_id}/password-policy`.
#[derive(Debug, ApiResponse)]
pub enum PolicyResponse {
    /// The policy.
    #[oai(status = 200)]
    Ok(Json<AppPolicy>),
}

#[OpenApi(tag = "ApiTags::Apps")]
impl PolicyApi {
    /// An app's password rules, messages and JavaScript rule.
    #[oai(path = "/apps/:client_id/password-policy", method = "get")]
    async fn password_policy(
        &self,
        req: &Request,
        Data(state): Data<&AppState>,
        /// The app's client id.
        client_id: Path<String>,
        /// Preferred locale (BCP 47); falls back to `Accept-Language`, then the app's default.
        locale: Query<Option<String>>,
    ) -> Result<PolicyResponse, PublicProblem> {
        let active = match tenant(state, &client_id).await {
            Ok(Some(active)) => active,
            Ok(None) => return Err(Code::UnknownClient.into()),
            Err(()) => return Err(Code::Unavailable.into()),
        };
        let config = &active.config;
        let env = view::Env::from_request(state, req);
        let locale = env.locale_for(config, locale.0.as_deref());
        let messages = view::messages(state, Some(config), &locale)
            .ok_or(PublicProblem::from(Code::Unavailable))?;
        let own = config
            .messages
            .iter()
            .find(|(l, _)| l.as_str() == locale)
            .map(|(_, m)| m);
        Ok(PolicyResponse::Ok(Json(AppPolicy {
            client_id: client_id.0.clone(),
            locale,
            policy: policy_view::payload(config.policy_spec(), &messages, config.id.as_str(), own),
        })))
    }
}

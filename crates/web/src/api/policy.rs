//! `GET /v1/apps/{client_id}/password-policy`: an app's rules as data, its messages in a
//! locale, and its JavaScript rule's source, so native screens validate like the server.
//! The document depends only on the configuration version, the app and the locale: it is
//! serialized once per such triple and kept ([`PolicyAnswers`]).

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use poem::{Request, web::Data};
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
};

use super::{ApiTags, serialized_json::SerializedJson};
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
    Ok(SerializedJson<AppPolicy>),
}

/// Most policy documents kept; past it the cache starts over (a refill costs one
/// serialization per document).
pub const MAX_ANSWERS: usize = 4096;

/// Policy documents serialized once per configuration version × app × locale.
#[derive(Debug, Default)]
pub struct PolicyAnswers {
    kept: RwLock<HashMap<AnswerKey, SerializedJson<AppPolicy>>>,
}

/// What makes two policy documents identical.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct AnswerKey {
    /// SHA-256 of the tenant's active YAML (a new version is a new key).
    config: String,
    client_id: String,
    locale: String,
}

impl PolicyAnswers {
    fn get(&self, key: &AnswerKey) -> Option<SerializedJson<AppPolicy>> {
        let kept = self.kept.read().unwrap_or_else(PoisonError::into_inner);
        kept.get(key).cloned()
    }

    fn keep(&self, key: AnswerKey, answer: &SerializedJson<AppPolicy>) {
        let mut kept = self.kept.write().unwrap_or_else(PoisonError::into_inner);
        if kept.len() >= MAX_ANSWERS {
            kept.clear();
        }
        kept.insert(key, answer.clone());
    }
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
        // A JSON answer has no form: no CSRF token, only what locale negotiation reads.
        let env = view::Env::without_form(view::RequestHead::of(req));
        let locale = env.locale_for(config, locale.0.as_deref());
        let key = AnswerKey {
            config: active.sha256.clone(),
            client_id: client_id.0,
            locale,
        };
        if let Some(answer) = state.policy_answers.get(&key) {
            return Ok(PolicyResponse::Ok(answer));
        }
        let messages = view::messages(state, Some(config), &key.locale)
            .ok_or(PublicProblem::from(Code::Unavailable))?;
        let own = config
            .messages
            .iter()
            .find(|(l, _)| l.as_str() == key.locale)
            .map(|(_, m)| m);
        let answer = SerializedJson::new(&AppPolicy {
            client_id: key.client_id.clone(),
            locale: key.locale.clone(),
            policy: policy_view::payload(config.policy_spec(), &messages, config.id.as_str(), own),
        });
        state.policy_answers.keep(key, &answer);
        Ok(PolicyResponse::Ok(answer))
    }
}

//! The translations view: for each supported locale of a document, the message keys the
//! tenant words itself in some locale but not in this one, and what users of this locale
//! see instead (the theme's text, the `default` theme's, or nothing).

use std::collections::BTreeSet;

use passgate_theme::{MessageSource, Messages};
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};

use super::auth::{AdminAuth, require_tenant};
use super::preview::source_document;
use super::state::AdminState;
use super::strict::Text;
use super::tags::Tags;
use crate::problem::{AdminError, AdminProblem};

/// Which document.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct TranslationsRequest {
    /// A draft YAML (validated like a write; nothing is stored).
    #[oai(validator(max_length = 262144))]
    pub yaml: Option<Text>,
    /// A stored version (neither: the active version).
    pub version: Option<u32>,
}

/// Where users of a locale get a text the tenant did not write for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum Fallback {
    /// The tenant's theme's catalog.
    Theme,
    /// The `default` theme's catalog.
    DefaultTheme,
    /// Nowhere: a page or rule using the key cannot render in this locale.
    None,
}

/// One key the tenant words in another locale but not in this one.
#[derive(Debug, Clone, Object)]
pub struct MissingKey {
    /// The message key.
    pub key: String,
    /// Where the text comes from instead.
    pub fallback: Fallback,
    /// That text (placeholders not substituted), if any.
    pub text: Option<String>,
}

/// One supported locale.
#[derive(Debug, Clone, Object)]
pub struct LocaleTranslations {
    /// The locale.
    pub locale: String,
    /// How many keys the tenant words itself in this locale.
    pub own: u32,
    /// Keys worded in another locale only, and their fallbacks.
    pub missing: Vec<MissingKey>,
}

/// Answer of the translations view.
#[derive(Debug, ApiResponse)]
pub enum TranslationsView {
    /// Every supported locale, in document order.
    #[oai(status = 200)]
    Ok(Json<Vec<LocaleTranslations>>),
}

/// The translations view (editors of the tenant and platform admins).
#[derive(Debug)]
pub struct TranslationsApi;

#[OpenApi(tag = "Tags::Config")]
impl TranslationsApi {
    /// Missing translations of a document
    ///
    /// For each supported locale: the message keys the document words in another locale
    /// but not in this one, and what users see instead. Nothing is stored.
    #[oai(
        path = "/tenants/:tenant/config/translations",
        method = "post",
        operation_id = "translations"
    )]
    async fn translations(
        &self,
        auth: AdminAuth,
        state: Data<&AdminState>,
        /// Tenant id.
        tenant: Path<String>,
        body: Json<TranslationsRequest>,
    ) -> Result<TranslationsView, AdminProblem> {
        let state = *state;
        let id = require_tenant(state, &auth.0, &tenant.0, "translations").await?;
        let body = body.0;
        let config = source_document(state, &id, body.version, body.yaml.map(Text::into_string))
            .await?
            .config;
        let worded: BTreeSet<&String> = config.messages.values().flat_map(|m| m.keys()).collect();
        let mut out = Vec::new();
        for locale in &config.locales.supported {
            let own = config.messages.get(locale).cloned().unwrap_or_default();
            let count = u32::try_from(own.len()).unwrap_or(u32::MAX);
            let messages = Messages::new(
                state.themes(),
                config.theme.as_str(),
                locale.as_str(),
                own.clone(),
            )
            .map_err(|e| AdminError::Render(e.to_string()))?;
            let missing = worded
                .iter()
                .filter(|key| !own.contains_key(key.as_str()))
                .map(|key| {
                    let found = messages.source_of(key);
                    MissingKey {
                        key: (*key).clone(),
                        fallback: match found {
                            Some((MessageSource::DefaultTheme, _)) => Fallback::DefaultTheme,
                            Some(_) => Fallback::Theme,
                            None => Fallback::None,
                        },
                        text: found.map(|(_, text)| text.to_owned()),
                    }
                })
                .collect();
            out.push(LocaleTranslations {
                locale: locale.as_str().to_owned(),
                own: count,
                missing,
            });
        }
        Ok(TranslationsView::Ok(Json(out)))
    }
}

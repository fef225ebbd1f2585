//! Hosted mode: Passgate issues the secret, mails it, hosts the page, and sets the password
//! through the provider's `set_password`. Two deliveries:
//!
//! - **link**: a 256-bit token in a link; one row keyed by its HMAC.
//! - **code**: 8 digits typed against the request's flow id; two rows — the *flow row*
//!   (keyed by the flow id's HMAC: counts wrong attempts, dies after the limit, is the row
//!   consumed once) and the *code row* (keyed by HMAC(flow id, code): proves the code).
//!   An unknown, blocked or foreign account gets a flow row too, bound to no user and with
//!   no code row: every code is wrong for it, yet it counts attempts, dies after the limit,
//!   expires and is superseded exactly like a real one, so the code page says nothing about
//!   whether the account exists.

use async_trait::async_trait;
use passgate_idp::ProviderUser;
use passgate_store::{Sha256Digest, TokenPurpose};

use super::{IssueRequest, Issued, Issuer, Redemption, ResetStrategy, minutes, resettable_user};
use crate::{
    error::EngineError,
    render::MailContent,
    secret_token::{LinkToken, ResetCode},
    tokens::RowSpec,
};

/// Hosted mode, link delivery.
#[derive(Debug)]
pub(crate) struct HostedLink;

/// Hosted mode, code delivery.
#[derive(Debug)]
pub(crate) struct HostedCode;

/// The row spec of `request` for `user`, under `hash`.
fn spec<'a>(
    request: &'a IssueRequest<'_>,
    user: &'a ProviderUser,
    hash: Sha256Digest,
    purpose: TokenPurpose,
) -> RowSpec<'a> {
    RowSpec {
        tenant: &request.tenant.config.id,
        client: request.client,
        user,
        hash,
        purpose,
        locale: request.locale.as_str(),
        redirect_uri: request.redirect_uri,
        ttl: request.tenant.config.reset.token_ttl.duration(),
    }
}

/// The owner of a flow bound to no user: a keyed digest of the submitted address (ASCII
/// lowercased, as the provider match is), so a new request for the same address supersedes
/// the earlier flow just as it would a real user's. Never a provider user id, and no code row
/// is ever stored under it.
fn unbound_owner(issuer: &Issuer<'_>, request: &IssueRequest<'_>) -> String {
    let key = issuer.tokens.account_digest(&request.email.lookup_key());
    format!("unbound:{key}")
}

/// The flow row of a code request whose address has no resettable account.
fn unbound_flow(issuer: &Issuer<'_>, request: &IssueRequest<'_>) -> Result<(), EngineError> {
    let owner = ProviderUser {
        user_id: unbound_owner(issuer, request),
        email: String::new(),
        connection: String::new(),
        name: None,
        blocked: false,
        email_verified: false,
        last_password_reset: None,
    };
    let tokens = issuer.tokens;
    request
        .writes
        .supersede(&request.tenant.config.id, request.client, &owner.user_id);
    let hash = tokens.flow_key(request.flow_id);
    let mut row = tokens.row(&spec(request, &owner, hash, TokenPurpose::Code))?;
    row.connection = None;
    request.writes.token(row);
    Ok(())
}

/// Finds the user and stages the supersession of their earlier unused tokens for this app.
async fn prepare(
    issuer: &Issuer<'_>,
    request: &IssueRequest<'_>,
) -> Result<Result<ProviderUser, Issued>, EngineError> {
    let provider = issuer.providers.provider(&request.tenant.config).await?;
    let user = match resettable_user(provider.as_ref(), request).await? {
        Ok(user) => user,
        Err(issued) => return Ok(Err(issued)),
    };
    request
        .writes
        .supersede(&request.tenant.config.id, request.client, &user.user_id);
    Ok(Ok(user))
}

#[async_trait]
impl ResetStrategy for HostedLink {
    fn name(&self) -> &'static str {
        "hosted_link"
    }

    fn redemption(&self) -> Redemption {
        Redemption::PassgateToken
    }

    async fn issue(
        &self,
        issuer: &Issuer<'_>,
        request: &IssueRequest<'_>,
    ) -> Result<Issued, EngineError> {
        let user = match prepare(issuer, request).await? {
            Ok(user) => user,
            Err(issued) => return Ok(issued),
        };
        let token = LinkToken::generate()?;
        let hash = issuer.tokens.link_key(&token);
        let row = issuer
            .tokens
            .row(&spec(request, &user, hash, TokenPurpose::Link))?;
        // The token is committed with its mail, never after it (item 69).
        request.writes.token(row);
        let content = MailContent::ResetLink {
            url: issuer.settings.reset_link_for(
                token.expose(),
                request.client.as_str(),
                request.locale.as_str(),
            ),
            expires_in_minutes: minutes(request.tenant.config.reset.token_ttl.duration()),
        };
        issuer.mail(request, &user.email, &content)?;
        Ok(Issued::Mailed)
    }
}

#[async_trait]
impl ResetStrategy for HostedCode {
    fn name(&self) -> &'static str {
        "hosted_code"
    }

    fn redemption(&self) -> Redemption {
        Redemption::PassgateToken
    }

    async fn issue(
        &self,
        issuer: &Issuer<'_>,
        request: &IssueRequest<'_>,
    ) -> Result<Issued, EngineError> {
        let user = match prepare(issuer, request).await? {
            Ok(user) => user,
            Err(issued) => {
                unbound_flow(issuer, request)?;
                return Ok(issued);
            }
        };
        let code = ResetCode::generate()?;
        let tokens = issuer.tokens;
        let flow_hash = tokens.flow_key(request.flow_id);
        let code_hash = tokens.code_key(request.flow_id, &code);
        let flow_row = tokens.row(&spec(request, &user, flow_hash, TokenPurpose::Code))?;
        let code_row = tokens.row(&spec(request, &user, code_hash, TokenPurpose::Code))?;
        request.writes.token(flow_row);
        request.writes.token(code_row);
        let content = MailContent::ResetCode {
            code: code.expose().to_owned(),
            expires_in_minutes: minutes(request.tenant.config.reset.token_ttl.duration()),
        };
        issuer.mail(request, &user.email, &content)?;
        Ok(Issued::Mailed)
    }
}

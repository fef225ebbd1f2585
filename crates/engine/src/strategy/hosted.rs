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
use chrono::TimeDelta;
use passgate_idp::ProviderUser;
use passgate_store::{NewResetToken, Sha256Digest, TokenPurpose, TokenRepo};

use super::{
    IssueRequest, Issued, Redemption, ResetStrategy, minutes, resettable_user, snapshot_time,
};
use crate::{
    engine::Inner,
    error::EngineError,
    outbox,
    render::MailContent,
    secret_token::{LinkToken, ResetCode, TokenDigest},
};

/// The store's key for a digest.
pub(crate) fn stored(digest: TokenDigest) -> Sha256Digest {
    Sha256Digest::from_bytes(digest.to_bytes())
}

/// Hosted mode, link delivery.
#[derive(Debug)]
pub(crate) struct HostedLink;

/// Hosted mode, code delivery.
#[derive(Debug)]
pub(crate) struct HostedCode;

/// A token row for `user`, valid for the tenant's TTL from now.
fn token_row(
    inner: &Inner,
    request: &IssueRequest<'_>,
    user: &ProviderUser,
    hash: Sha256Digest,
    purpose: TokenPurpose,
) -> Result<NewResetToken, EngineError> {
    let now = inner.clock.now();
    let ttl = TimeDelta::from_std(request.tenant.config.reset.token_ttl.duration())
        .unwrap_or(TimeDelta::minutes(30));
    let tenant_id = request.tenant.config.id.clone();
    // Completion needs the address again; it is kept sealed to this row (item 53).
    let email = crate::at_rest::seal_token_email(inner, &tenant_id, &hash, &user.email)?;
    Ok(NewResetToken {
        hash,
        tenant_id,
        client_id: request.client.clone(),
        user_id: user.user_id.clone(),
        connection: Some(user.connection.clone()),
        email,
        last_password_reset: snapshot_time(user.last_password_reset),
        purpose,
        locale: request.locale.as_str().to_owned(),
        redirect_uri: request.redirect_uri.map(str::to_owned),
        created_at: now,
        // The store treats `expires_at` as the first dead instant; the TTL itself is still
        // valid (item 5: valid at TTL, invalid at TTL + 1 s).
        expires_at: now + ttl + TimeDelta::seconds(1),
    })
}

/// The owner of a flow bound to no user: a keyed digest of the submitted address (ASCII
/// lowercased, as the provider match is), so a new request for the same address supersedes
/// the earlier flow just as it would a real user's. Never a provider user id, and no code row
/// is ever stored under it.
fn unbound_owner(inner: &Inner, request: &IssueRequest<'_>) -> String {
    let key = inner.hasher.account(&request.email.lookup_key()).to_hex();
    format!("unbound:{key}")
}

/// The flow row of a code request whose address has no resettable account.
async fn unbound_flow(inner: &Inner, request: &IssueRequest<'_>) -> Result<(), EngineError> {
    let owner = ProviderUser {
        user_id: unbound_owner(inner, request),
        email: String::new(),
        connection: String::new(),
        name: None,
        blocked: false,
        email_verified: false,
        last_password_reset: None,
    };
    inner
        .store
        .invalidate_user_tokens(
            &request.tenant.config.id,
            request.client,
            &owner.user_id,
            inner.clock.now(),
        )
        .await?;
    let mut row = token_row(
        inner,
        request,
        &owner,
        stored(inner.hasher.flow(request.flow_id)),
        TokenPurpose::Code,
    )?;
    row.connection = None;
    inner.store.insert_token(row).await?;
    Ok(())
}

/// Finds the user and supersedes their earlier unused tokens for this app.
async fn prepare(
    inner: &Inner,
    request: &IssueRequest<'_>,
) -> Result<Result<ProviderUser, Issued>, EngineError> {
    let provider = inner.providers.provider(&request.tenant.config).await?;
    let user = match resettable_user(provider.as_ref(), request.email).await? {
        Ok(user) => user,
        Err(issued) => return Ok(Err(issued)),
    };
    inner
        .store
        .invalidate_user_tokens(
            &request.tenant.config.id,
            request.client,
            &user.user_id,
            inner.clock.now(),
        )
        .await?;
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
        inner: &Inner,
        request: &IssueRequest<'_>,
    ) -> Result<Issued, EngineError> {
        let user = match prepare(inner, request).await? {
            Ok(user) => user,
            Err(issued) => return Ok(issued),
        };
        let token = LinkToken::generate()?;
        let row = token_row(
            inner,
            request,
            &user,
            stored(inner.hasher.link(&token)),
            TokenPurpose::Link,
        )?;
        // The token is persisted before any mail exists (item 69).
        inner.store.insert_token(row).await?;
        let config = &request.tenant.config;
        let mail = inner.renderer.render(
            config,
            request.locale,
            &MailContent::ResetLink {
                url: inner.settings.reset_link_for(
                    token.expose(),
                    request.client.as_str(),
                    request.locale.as_str(),
                ),
                expires_in_minutes: minutes(config.reset.token_ttl.duration()),
            },
            Some(request.request_id),
        )?;
        outbox::queue(inner, config, &user.email, mail).await?;
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
        inner: &Inner,
        request: &IssueRequest<'_>,
    ) -> Result<Issued, EngineError> {
        let user = match prepare(inner, request).await? {
            Ok(user) => user,
            Err(issued) => {
                unbound_flow(inner, request).await?;
                return Ok(issued);
            }
        };
        let code = ResetCode::generate()?;
        let flow_row = token_row(
            inner,
            request,
            &user,
            stored(inner.hasher.flow(request.flow_id)),
            TokenPurpose::Code,
        )?;
        let code_row = token_row(
            inner,
            request,
            &user,
            stored(inner.hasher.code(request.flow_id, &code)),
            TokenPurpose::Code,
        )?;
        inner.store.insert_token(flow_row).await?;
        inner.store.insert_token(code_row).await?;
        let config = &request.tenant.config;
        let mail = inner.renderer.render(
            config,
            request.locale,
            &MailContent::ResetCode {
                code: code.expose().to_owned(),
                expires_in_minutes: minutes(config.reset.token_ttl.duration()),
            },
            Some(request.request_id),
        )?;
        outbox::queue(inner, config, &user.email, mail).await?;
        Ok(Issued::Mailed)
    }
}

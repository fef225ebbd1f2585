//! `passgate admin create-key`: mints the first admin API key (or any later one) straight
//! into the database, for bootstrapping before any key exists. The key goes to stdout alone
//! (so scripts can capture it), once; the store keeps only its SHA-256.

use std::process::ExitCode;

use anyhow::Context as _;
use passgate_engine::{Clock as _, SystemClock};
use passgate_store::{ApiRole, AuditRepo, NewAuditEvent, Store, TenantRepo};
use passgate_tenant::TenantId;
use secrecy::ExposeSecret;

use crate::cli::{CreateKeyArgs, KeyRole};

/// Runs `passgate admin create-key`.
pub fn create_key(args: &CreateKeyArgs) -> anyhow::Result<ExitCode> {
    let role = match args.role {
        KeyRole::PlatformAdmin => ApiRole::PlatformAdmin,
        KeyRole::TenantEditor => ApiRole::TenantEditor,
    };
    match role {
        ApiRole::PlatformAdmin if !args.tenants.is_empty() => {
            anyhow::bail!("a platform-admin key takes no --tenant (it covers every tenant)")
        }
        ApiRole::TenantEditor if args.tenants.is_empty() => {
            anyhow::bail!("a tenant-editor key needs at least one --tenant")
        }
        _ => {}
    }
    if args.label.trim().is_empty() || args.label.chars().any(char::is_control) {
        anyhow::bail!("--label must be non-empty printable text");
    }
    let tenants = args
        .tenants
        .iter()
        .map(|t| TenantId::parse(t).with_context(|| format!("invalid tenant id {t:?}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let store = Store::connect(&args.db.database_url)
            .await
            .context("cannot open the database")?;
        store
            .migrate()
            .await
            .context("cannot migrate the database")?;
        for tenant in &tenants {
            if store.tenant(tenant).await?.is_none() {
                anyhow::bail!("no tenant {tenant}");
            }
        }
        let now = SystemClock.now();
        let email = match &args.email {
            Some(raw) => Some(
                passgate_engine::email_address::SubmittedEmail::parse(raw)
                    .map(|e| e.lookup_key())
                    .with_context(|| format!("--email {raw:?} is not one plain email address"))?,
            ),
            None => None,
        };
        let (id, minted) = passgate_web::admin::auth::create_key_with_email(
            &store,
            role,
            tenants.clone(),
            args.label.clone(),
            email.as_deref(),
            now,
        )
        .await?;
        store
            .append_audit(NewAuditEvent {
                tenant_id: None,
                actor: "cli".into(),
                action: "key.create".into(),
                outcome: "ok".into(),
                request_id: None,
                client_id: None,
                details: serde_json::json!({
                    "key_id": id.0,
                    "prefix": minted.record.prefix,
                    "role": role.as_str(),
                    "tenants": tenants.iter().map(TenantId::as_str).collect::<Vec<_>>(),
                }),
                created_at: now,
            })
            .await?;
        println!("{}", minted.secret.expose_secret());
        eprintln!(
            "created API key {id} ({}, {}); store it now: it cannot be shown again",
            minted.record.prefix,
            role.as_str()
        );
        Ok(ExitCode::SUCCESS)
    })
}

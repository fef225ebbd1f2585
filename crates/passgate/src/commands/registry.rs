//! `passgate migrate` and `passgate tenant import|export|list`: the tenant registry in the
//! database (`--database-url`, `PASSGATE_DATABASE_URL`, or `passgate.sqlite` in the working
//! directory).
//!
//! Import validates every file first and touches the database only when all are valid; the
//! import itself is one transaction, so a failure (e.g. a client id owned by a tenant outside
//! the set) changes nothing. A tenant gets a new config version only when its YAML changed.
//! The operator who imports is trusted with the database: each imported tenant is granted
//! the domain of its own `email.from` as a sender domain (issue 13), so its editors can keep
//! publishing it through the admin API; no other domain is granted.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use passgate_store::{
    ConfigVersionRepo, ImportOutcome, MailGrant, MailGrantRepo, Store, StoreError, TenantImport,
    TenantRepo, Timestamp,
};
use passgate_tenant::{Problem, Severity, TenantConfig, TenantId, parse_tenant_yaml};

use crate::cli::DatabaseArgs;

/// Who imports show as the author of the versions they create.
const IMPORT_AUTHOR: &str = "cli:import";

/// The wall clock, read once per command (the store itself takes time as an argument).
#[allow(clippy::disallowed_methods)] // The CLI is where time enters: this is its clock.
fn now() -> Timestamp {
    chrono::Utc::now()
}

/// Runs an async command body on a small runtime (the binary's `main` is synchronous).
fn block_on<T>(body: impl std::future::Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?
        .block_on(body)
}

/// Connects, refusing a database with pending migrations (so a typo in the URL does not
/// silently create an empty SQLite file that then looks like "no tenants").
async fn open(db: &DatabaseArgs) -> anyhow::Result<Store> {
    let store = Store::connect(&db.database_url)
        .await
        .context("cannot connect to the database")?;
    let pending = store.pending_migrations().await?;
    if pending > 0 {
        anyhow::bail!(
            "the database has {pending} pending migration(s): run `passgate migrate` first"
        );
    }
    Ok(store)
}

/// `passgate migrate`: applies pending migrations (a no-op when current).
pub fn migrate(db: &DatabaseArgs) -> anyhow::Result<ExitCode> {
    block_on(async {
        let store = Store::connect(&db.database_url)
            .await
            .context("cannot connect to the database")?;
        let pending = store.pending_migrations().await?;
        store.migrate().await?;
        let mut out = std::io::stdout().lock();
        match pending {
            0 => writeln!(out, "database is up to date")?,
            n => writeln!(out, "applied {n} migration(s)")?,
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// The sender domain a tenant document uses, lowercase (`None`: the platform's sender).
pub(crate) fn own_sender_domain(config: &TenantConfig) -> Option<(TenantId, String)> {
    let from = config.email.from.as_ref()?;
    let (_, domain) = from.address().rsplit_once('@')?;
    Some((config.id.clone(), domain.to_ascii_lowercase()))
}

/// Grants each imported tenant the domain of its own sender (kept alongside any domains a
/// platform admin granted before).
pub(crate) async fn grant_own_sender_domains(
    store: &Store,
    domains: &[(TenantId, String)],
    now: Timestamp,
) -> anyhow::Result<()> {
    for (tenant, domain) in domains {
        store
            .add_mail_grants(
                tenant,
                MailGrant::SenderDomain,
                std::slice::from_ref(domain),
                now,
            )
            .await
            .with_context(|| format!("cannot grant {tenant} its sender domain {domain}"))?;
    }
    Ok(())
}

/// `passgate tenant import PATH...`.
pub fn import(paths: &[PathBuf], db: &DatabaseArgs) -> anyhow::Result<ExitCode> {
    let files = expand(paths)?;
    let mut err = std::io::stderr().lock();
    let mut items = Vec::new();
    let mut senders = Vec::new();
    let mut invalid = 0usize;
    // Tenant id / client id → the file that claimed it first.
    let mut claimed: BTreeMap<String, String> = BTreeMap::new();
    for file in &files {
        let name = file.display().to_string();
        let text = std::fs::read(file).with_context(|| format!("cannot read {name}"))?;
        let Ok(text) = String::from_utf8(text) else {
            writeln!(err, "{name}:1:1: the file is not valid UTF-8")?;
            invalid += 1;
            continue;
        };
        match parse_tenant_yaml(&name, &text) {
            Ok(tenant) => {
                print_problems(&mut err, &name, &tenant.warnings)?;
                let config = tenant.config;
                senders.extend(own_sender_domain(&config));
                let claims = std::iter::once(format!("tenant id {}", config.id))
                    .chain(config.client_ids.iter().map(|c| format!("client id {c}")));
                for claim in claims {
                    if let Some(other) = claimed.get(&claim) {
                        writeln!(err, "{name}: the {claim} is also used by {other}")?;
                        invalid += 1;
                    } else {
                        claimed.insert(claim, name.clone());
                    }
                }
                items.push(TenantImport {
                    id: config.id,
                    display_name: config.display_name,
                    client_ids: config.client_ids,
                    yaml: text,
                });
            }
            Err(errors) => {
                invalid += 1;
                print_problems(&mut err, &name, &errors.problems)?;
            }
        }
    }
    if invalid > 0 {
        writeln!(err, "import aborted: nothing was changed")?;
        return Ok(ExitCode::from(1));
    }
    if items.is_empty() {
        writeln!(err, "no tenant files found")?;
        return Ok(ExitCode::from(1));
    }
    block_on(async {
        let store = open(db).await?;
        let results = match store.import_tenants(items, IMPORT_AUTHOR, now()).await {
            Ok(results) => results,
            Err(e @ StoreError::DuplicateClientId { .. }) => {
                writeln!(err, "{e}")?;
                writeln!(err, "import aborted: nothing was changed")?;
                return Ok(ExitCode::from(1));
            }
            Err(e) => return Err(e.into()),
        };
        grant_own_sender_domains(&store, &senders, now()).await?;
        let mut out = std::io::stdout().lock();
        for result in results {
            match result.outcome {
                ImportOutcome::Created => writeln!(out, "{}: created", result.tenant_id)?,
                ImportOutcome::Updated { version } => {
                    writeln!(out, "{}: updated (v{version})", result.tenant_id)?
                }
                ImportOutcome::Unchanged => writeln!(out, "{}: unchanged", result.tenant_id)?,
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// `passgate tenant export ID`: the active YAML, byte for byte as imported.
pub fn export(id: &str, db: &DatabaseArgs) -> anyhow::Result<ExitCode> {
    let Ok(tenant) = TenantId::parse(id) else {
        eprintln!("not a tenant id: {id}");
        return Ok(ExitCode::from(1));
    };
    block_on(async {
        let store = open(db).await?;
        match store.active_version(&tenant).await? {
            Some(version) => {
                std::io::stdout()
                    .lock()
                    .write_all(version.yaml.as_bytes())?;
                Ok(ExitCode::SUCCESS)
            }
            None => {
                if store.tenant(&tenant).await?.is_some() {
                    eprintln!("tenant {tenant} has no active configuration");
                } else {
                    eprintln!("unknown tenant {tenant}");
                }
                Ok(ExitCode::from(1))
            }
        }
    })
}

/// `passgate tenant list`: one line per tenant: id, status, active version, client ids.
pub fn list(db: &DatabaseArgs) -> anyhow::Result<ExitCode> {
    block_on(async {
        let store = open(db).await?;
        let tenants = store.list_tenants().await?;
        let width = tenants
            .iter()
            .map(|t| t.tenant.id.as_str().len())
            .max()
            .unwrap_or(0)
            .max("TENANT".len());
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "{:<width$}  {:<8}  {:<7}  CLIENT IDS",
            "TENANT", "STATUS", "VERSION"
        )?;
        for summary in tenants {
            let version = summary
                .active_version
                .map_or_else(|| "-".to_owned(), |v| format!("v{v}"));
            let clients: Vec<&str> = summary.client_ids.iter().map(|c| c.as_str()).collect();
            writeln!(
                out,
                "{:<width$}  {:<8}  {:<7}  {}",
                summary.tenant.id.as_str(),
                summary.tenant.status.as_str(),
                version,
                clients.join(", ")
            )?;
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn print_problems(out: &mut impl Write, name: &str, problems: &[Problem]) -> std::io::Result<()> {
    for problem in problems {
        writeln!(out, "{}", problem.display_in(name))?;
    }
    let errors = problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    if errors > 0 {
        writeln!(
            out,
            "{name}: invalid ({errors} error{})",
            if errors == 1 { "" } else { "s" }
        )?;
    }
    Ok(())
}

/// Files as given; directories replaced by their `*.yaml`/`*.yml` files, sorted.
fn expand(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut inside: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("cannot list {}", path.display()))?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && is_yaml(p))
                .collect();
            inside.sort();
            files.extend(inside);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

fn is_yaml(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "yaml" || e == "yml")
}

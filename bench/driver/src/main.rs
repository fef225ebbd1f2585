//! `passgate-bench`: starts a Passgate deployment for `bench/load.sh` and keeps it up while
//! wrk drives it. It uses `passgate-testbed` (migrate, import `bench/tenants/*.yaml`, provider
//! simulator, SMTP sink, one `passgate serve`), mints reset links up front through the public
//! API (one per seeded user: the per-account request limit allows no more), and writes what
//! the wrk scripts need into `--out`:
//!
//! - `gateway.env`: `GATEWAY=http://…`, `GATEWAY_PID=…`, `CLIENT_ID=…` (shell syntax);
//! - `tokens-reject.txt`: tokens the JS-rule scenario reuses (the policy refuses its
//!   password, so the token survives every attempt);
//! - `tokens-success.txt`: one-use tokens for the stream of successful completions.
//!
//! Then it prints `ready` and runs until its stdin closes or it gets SIGTERM; the deployment
//! (processes, PostgreSQL database) is removed on the way out.
//!
//! With `--pipeline-resets N` it runs the pipeline benchmark of `bench/pipeline.sh` instead
//! (module `pipeline`): a deployment with N users and a simulator without plan throttling,
//! N resets requested as fast as the API accepts them, the time until each mail is at the
//! sink; its last line is the one `bench/pipeline.sh` reports.

mod pipeline;

use std::io::{Read as _, Write as _};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::{Parser, ValueEnum};
use passgate_testbed::{Deployment, DeploymentOptions, ResetClient, TestDatabase, reset_token_in};

/// A password the bench tenant's JavaScript rule refuses (it names the brand) while every
/// built-in rule accepts it, so each attempt runs the whole check and keeps the token.
const REJECTED_PASSWORD: &str = "benchco violet harbor 1987";
/// Concurrent reset requests while minting (each answer takes the 150 ms floor).
const MINT_THREADS: usize = 32;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Backend {
    Sqlite,
    Postgres,
}

/// Starts a deployment for the load benchmark and writes its tokens.
#[derive(Debug, Parser)]
struct Args {
    /// The database back end (PostgreSQL needs PASSGATE_TEST_POSTGRES_URL).
    #[arg(long, value_enum, default_value = "sqlite")]
    db: Backend,
    /// The `passgate` binary (default: next to this one).
    #[arg(long)]
    passgate: Option<PathBuf>,
    /// The workspace root (themes, bench/tenants).
    #[arg(long, default_value = ".")]
    workspace: PathBuf,
    /// Reusable tokens for the JS-rule scenario (each survives 1,000 refusals: the
    /// platform's highest `redeem_max_refusals`).
    #[arg(long, default_value_t = 256)]
    reject_tokens: usize,
    /// One-use tokens for the successful-completion stream.
    #[arg(long, default_value_t = 1000)]
    success_tokens: usize,
    /// Where the files for the wrk scripts go (not needed with `--pipeline-resets`).
    #[arg(long, required_unless_present = "pipeline_resets")]
    out: Option<PathBuf>,
    /// Run the pipeline benchmark with this many resets (one per seeded user) and exit.
    #[arg(long)]
    pipeline_resets: Option<usize>,
    /// Concurrent requests of the pipeline benchmark (each waits out the 150 ms floor).
    #[arg(long, default_value_t = 256)]
    concurrency: usize,
    /// The back end's name on the pipeline benchmark's last line.
    #[arg(long, default_value = "sqlite")]
    label: String,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let passgate = match &args.passgate {
        Some(path) => path.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("this binary has no directory")?
            .join("passgate"),
    };
    let workspace = std::fs::canonicalize(&args.workspace)?;
    // Declared first so it is dropped last, after the processes using it.
    let database = match args.db {
        Backend::Sqlite => TestDatabase::sqlite()?,
        Backend::Postgres => {
            TestDatabase::postgres("load benchmark")?.context("PostgreSQL is not configured")?
        }
    };
    let mut options = DeploymentOptions::new(passgate, &workspace, database.url());
    options.tenant_files = vec![workspace.join("bench/tenants/benchco.yaml")];
    if let Some(resets) = args.pipeline_resets {
        return run_pipeline(options, resets, &args);
    }
    let Some(out) = &args.out else {
        bail!("--out is required");
    };
    let tokens = args.reject_tokens + args.success_tokens;
    options.users_per_tenant = tokens;
    options.env = vec![
        // The completion ceilings are raised: the benchmark measures the work, not the limit.
        ("PASSGATE_REDEEM_PER_IP_PER_HOUR".into(), "10000000".into()),
        // A refused password spends a reuse of its token; the JS-rule scenario reuses each
        // token up to the platform's highest cap (256 × 1,000 refusals).
        ("PASSGATE_REDEEM_MAX_REFUSALS".into(), "1000".into()),
        (
            "PASSGATE_REDEEM_PER_TENANT_PER_MINUTE".into(),
            "10000000".into(),
        ),
    ];
    let started = Instant::now();
    let deployment = Deployment::start(options)?;
    let tenant = deployment
        .tenants
        .first()
        .context("the deployment has no tenant")?;
    eprintln!("deployment up in {:.1?}", started.elapsed());

    let minted = mint(&deployment, &tenant.client_id, &tenant.users)?;
    eprintln!(
        "{} tokens minted in {:.1?}",
        minted.len(),
        started.elapsed()
    );
    let (reject, success) = minted.split_at(args.reject_tokens.min(minted.len()));
    check_rejection(deployment.base(), reject)?;

    let gateway = deployment
        .gateways
        .first()
        .context("the deployment has no replica")?;
    std::fs::create_dir_all(out)?;
    std::fs::write(
        out.join("gateway.env"),
        format!(
            "GATEWAY={}\nGATEWAY_PID={}\nCLIENT_ID={}\n",
            gateway.base,
            gateway.child.pid(),
            tenant.client_id
        ),
    )?;
    std::fs::write(out.join("tokens-reject.txt"), lines(reject))?;
    std::fs::write(out.join("tokens-success.txt"), lines(success))?;
    writeln!(std::io::stdout().lock(), "ready")?;

    wait_for_stop()?;
    drop(deployment);
    drop(database);
    Ok(())
}

/// The pipeline benchmark: production settings (the request floor on), a simulator without
/// plan throttling, `resets` users; prints the figures, the summary line last.
fn run_pipeline(mut options: DeploymentOptions, resets: usize, args: &Args) -> anyhow::Result<()> {
    options.users_per_tenant = resets;
    options.sim_rate_limits = false;
    let started = Instant::now();
    let deployment = Deployment::start(options)?;
    let tenant = deployment
        .tenants
        .first()
        .context("the deployment has no tenant")?;
    eprintln!("deployment up in {:.1?}", started.elapsed());
    // A hang guard only: at the old 22 resets/s, 5,000 take under 4 minutes.
    let limit = Duration::from_secs(120 + resets as u64 / 5);
    let report = pipeline::run(
        &deployment,
        &tenant.client_id,
        &tenant.users,
        args.concurrency,
        limit,
    )?;
    let ms = pipeline::quantile_ms;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "requests: {} in {:.2} s ({:.0} accepted/s, {} at a time); all mailed {:.2} s after the first",
        report.resets,
        report.requesting.as_secs_f64(),
        report.resets as f64 / report.requesting.as_secs_f64().max(1e-9),
        args.concurrency,
        report.elapsed.as_secs_f64()
    )?;
    writeln!(
        out,
        "request answered → mail at the relay: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        ms(&report.after_answer, 0.50),
        ms(&report.after_answer, 0.99),
        ms(&report.after_answer, 1.0)
    )?;
    writeln!(
        out,
        "pipeline {}: {} resets, {:.1} resets/s, p50 {:.0} ms, p99 {:.0} ms (request accepted → mail at the relay)",
        args.label,
        report.resets,
        report.rate(),
        ms(&report.latencies, 0.50),
        ms(&report.latencies, 0.99)
    )?;
    drop(deployment);
    Ok(())
}

/// Requests one reset per user (each from its own client address, so only the account and
/// tenant limits apply) and returns the tokens from the mails, in user order.
fn mint(deployment: &Deployment, client_id: &str, users: &[String]) -> anyhow::Result<Vec<String>> {
    let client = ResetClient::new(deployment.base())?;
    let chunk = users.len().div_ceil(MINT_THREADS).max(1);
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let workers: Vec<_> = users
            .chunks(chunk)
            .enumerate()
            .map(|(t, emails)| {
                let client = client.clone();
                scope.spawn(move || -> anyhow::Result<()> {
                    for (i, email) in emails.iter().enumerate() {
                        let n = t * chunk + i;
                        let ip = format!("10.77.{}.{}", n / 250, n % 250 + 1);
                        let answer = client
                            .clone()
                            .from_ip(&ip)
                            .request_reset(client_id, email)?;
                        if answer.status != 202 {
                            bail!(
                                "reset request for {email}: {} {}",
                                answer.status,
                                answer.text
                            );
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        for worker in workers {
            worker
                .join()
                .map_err(|_| anyhow::anyhow!("a minting thread panicked"))??;
        }
        Ok(())
    })?;
    let mails = deployment
        .mail
        .wait_for(users.len(), Duration::from_secs(900))?;
    users
        .iter()
        .map(|email| {
            mails
                .iter()
                .find(|m| m.rcpt_to.iter().any(|r| r.eq_ignore_ascii_case(email)))
                .and_then(reset_token_in)
                .with_context(|| format!("no reset link mailed to {email}"))
        })
        .collect()
}

/// Fails unless the JS-rule password is refused with `password-policy` (the token kept).
fn check_rejection(base: &str, tokens: &[String]) -> anyhow::Result<()> {
    let Some(token) = tokens.first() else {
        return Ok(());
    };
    let client = ResetClient::new(base)?;
    for _ in 0..2 {
        let answer = client.complete(token, REJECTED_PASSWORD)?;
        if answer.status != 422 || !answer.text.contains("password-policy") {
            bail!(
                "the JS-rule password was not refused as expected: {} {}",
                answer.status,
                answer.text
            );
        }
    }
    Ok(())
}

fn lines(tokens: &[String]) -> String {
    tokens.iter().map(|t| format!("{t}\n")).collect()
}

/// Blocks until stdin reaches end of file or SIGTERM/SIGINT arrives.
fn wait_for_stop() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (closed_tx, closed_rx) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let mut sink = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut sink);
        let _ = closed_tx.send(());
    });
    runtime.block_on(async {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        tokio::select! {
            _ = closed_rx => {}
            _ = term.recv() => {}
            _ = interrupt.recv() => {}
        }
        anyhow::Ok(())
    })?;
    runtime.shutdown_background();
    Ok(())
}

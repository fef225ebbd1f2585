//! `passgate policy check --tenant FILE [--email E]`: reads one password from stdin (only
//! the single trailing newline is removed: spaces are part of a password) and prints each
//! violation as `code: English message`. Exit 0 when accepted, 1 when rejected; an invalid
//! tenant file is not a verdict on the password and exits 2.

use std::{
    io::{Read, Write},
    path::Path,
    process::ExitCode,
};

use anyhow::Context;
use passgate_policy::{CheckContext, check, render};
use passgate_tenant::{LocaleTag, parse_tenant_yaml};
use secrecy::{ExposeSecret, SecretString};

/// Checks the password on stdin against the tenant's policy.
pub fn run(tenant: &Path, email: Option<&str>) -> anyhow::Result<ExitCode> {
    let name = tenant.display().to_string();
    let text = std::fs::read_to_string(tenant).with_context(|| format!("cannot read {name}"))?;
    let validated = parse_tenant_yaml(&name, &text)
        .map_err(|e| anyhow::anyhow!("invalid tenant file:\n{e}"))?;

    let password = read_password()?;
    let config = &validated.config;
    let mut ctx = CheckContext::new(config.display_name.clone(), "en");
    ctx.email = email.map(str::to_owned);
    let violations = check(&validated.policy, password.expose_secret(), &ctx);

    let english = LocaleTag::english();
    let mut out = std::io::stdout().lock();
    for v in &violations {
        // The tenant's own English wording wins over the platform's.
        let message = match config.message(&english, &v.message_key()) {
            Some(template) => render(template, &v.params()),
            None => v.english(),
        };
        writeln!(out, "{}: {message}", v.code())?;
    }
    if violations.is_empty() {
        eprintln!("accepted");
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::from(1))
    }
}

/// All of stdin, minus one trailing `\n` (or `\r\n`).
fn read_password() -> anyhow::Result<SecretString> {
    let mut raw = String::new();
    std::io::stdin()
        .read_to_string(&mut raw)
        .context("cannot read the password from stdin (it must be UTF-8)")?;
    if raw.ends_with('\n') {
        raw.pop();
        if raw.ends_with('\r') {
            raw.pop();
        }
    }
    Ok(SecretString::from(raw))
}

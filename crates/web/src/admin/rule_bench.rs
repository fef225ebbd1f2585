//! The rule test bench: a password (and optionally an email and a name) checked against a
//! draft, a stored version or the active document, exactly as the server decides it at
//! reset time (`passgate_policy::check` on the compiled policy, run on the blocking pool),
//! with each rule's verdict in the document's words, plus the verdict of every script
//! `examples:` entry. Nothing is stored or logged; the password is the editor's own test
//! input.

use passgate_policy::{CheckContext, CompiledPolicy, Violation};
use passgate_tenant::TenantConfig;
use passgate_theme::Messages;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::auth::{AdminAuth, require_tenant};
use super::preview::{locale_of, source_document};
use super::state::AdminState;
use super::strict::Text;
use super::tags::Tags;
use crate::policy_view;
use crate::problem::{AdminError, AdminProblem};

/// What to check.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct PasswordCheckRequest {
    /// A draft YAML (validated like a write; nothing is stored). Absent: see `version`.
    #[oai(validator(max_length = 262144))]
    pub yaml: Option<Text>,
    /// A stored version (neither this nor `yaml`: the active version).
    pub version: Option<u32>,
    /// The password to check (may be empty).
    #[oai(validator(max_length = 1024))]
    pub password: Text,
    /// The account's email, for the personal-information rule and the script's context.
    #[oai(validator(max_length = 254))]
    pub email: Option<Text>,
    /// The account holder's name, for the personal-information rule.
    #[oai(validator(max_length = 200))]
    pub name: Option<Text>,
    /// A supported locale for the texts (default: the document's default).
    #[oai(validator(max_length = 35))]
    pub locale: Option<Text>,
}

/// One rule of the document and whether the password meets it.
#[derive(Debug, Clone, Object)]
pub struct RuleVerdict {
    /// Stable code (`min_length`, `regex:<name>`, `script`, …).
    pub code: String,
    /// The rule in the document's words; for an unmet rule, the message a user would see.
    pub text: String,
    /// Whether the password meets it.
    pub met: bool,
}

/// One script example and whether the script still gives what it expects.
#[derive(Debug, Clone, Object)]
pub struct ExampleVerdict {
    /// The example's password (the author's own).
    pub password: String,
    /// The violation codes it expects (sorted).
    pub expected: Vec<String>,
    /// The codes the check gives now (sorted).
    pub actual: Vec<String>,
    /// Whether they agree.
    pub ok: bool,
}

/// The bench's answer.
#[derive(Debug, Clone, Object)]
pub struct PasswordVerdict {
    /// Whether a reset with this password would pass the policy (history aside: it needs
    /// an account).
    pub accepted: bool,
    /// Every rule of the document, in order.
    pub rules: Vec<RuleVerdict>,
    /// The violation codes, as a script example's `expect` lists them.
    pub violations: Vec<String>,
    /// The script's `examples:`, each run now.
    pub examples: Vec<ExampleVerdict>,
}

/// Answer of a password check.
#[derive(Debug, ApiResponse)]
pub enum PasswordChecked {
    /// Each rule's verdict; nothing was stored.
    #[oai(status = 200)]
    Ok(Json<PasswordVerdict>),
}

/// The rule test bench (editors of the tenant and platform admins).
#[derive(Debug)]
pub struct RuleBenchApi;

fn codes(violations: &[Violation]) -> Vec<String> {
    let mut codes: Vec<String> = violations.iter().map(Violation::code).collect();
    codes.sort();
    codes.dedup();
    codes
}

/// The document's rules with their texts, each met unless a violation names it.
fn verdicts(
    config: &TenantConfig,
    messages: &Messages,
    violations: &[Violation],
) -> Vec<RuleVerdict> {
    let spec = config.policy_spec();
    let own = config
        .messages
        .iter()
        .find(|(l, _)| l.as_str() == messages.locale())
        .map(|(_, m)| m);
    let payload = policy_view::payload(spec, messages, config.id.as_str(), own);
    let text = |key: &str| {
        payload
            .messages
            .get(key)
            .cloned()
            .unwrap_or_else(|| key.to_owned())
    };
    let mut rules = vec![
        ("min_length".to_owned(), text("policy.min_length")),
        ("max_length".to_owned(), text("policy.max_length")),
    ];
    if spec.character_classes.is_some() {
        rules.push(("character_classes".into(), text("policy.character_classes")));
    }
    for rule in &payload.regex_rules {
        rules.push((format!("regex:{}", rule.name), rule.message.clone()));
    }
    if spec.min_strength.is_some() {
        rules.push(("strength".into(), text("policy.strength")));
    }
    if spec.ban_personal_info {
        rules.push(("personal_info".into(), text("policy.personal_info")));
    }
    if spec.common_blocklist || !spec.extra_blocklist.is_empty() {
        rules.push(("blocklist".into(), text("policy.blocklist")));
    }
    if spec.script.is_some() {
        rules.push(("script".into(), "The app's own rule (JavaScript)".into()));
    }
    let mut out: Vec<RuleVerdict> = rules
        .into_iter()
        .map(|(code, text)| {
            let broken: Vec<&Violation> = violations
                .iter()
                .filter(|v| {
                    let c = v.code();
                    c == code || (code == "script" && c.starts_with("script"))
                })
                .collect();
            RuleVerdict {
                text: match broken.first() {
                    Some(v) => policy_view::violation_text(messages, v),
                    None => text,
                },
                met: broken.is_empty(),
                code,
            }
        })
        .collect();
    // A violation of no listed rule (the provider's byte limit) is shown too.
    for v in violations {
        let c = v.code();
        if !out
            .iter()
            .any(|r| r.code == c || (r.code == "script" && c.starts_with("script")))
        {
            out.push(RuleVerdict {
                code: c,
                text: policy_view::violation_text(messages, v),
                met: false,
            });
        }
    }
    out
}

/// Runs the check and the examples on the blocking pool (the script may take its budget).
async fn run(
    policy: CompiledPolicy,
    password: String,
    ctx: CheckContext,
) -> Result<(Vec<Violation>, Vec<ExampleVerdict>), AdminError> {
    tokio::task::spawn_blocking(move || {
        let violations = passgate_policy::check(&policy, &password, &ctx);
        let examples = policy
            .spec()
            .script
            .iter()
            .flat_map(|s| s.examples.iter())
            .map(|example| {
                let actual = codes(&passgate_policy::check(&policy, &example.password, &ctx));
                let mut expected = example.expect.clone();
                expected.sort();
                expected.dedup();
                ExampleVerdict {
                    password: example.password.clone(),
                    ok: actual == expected,
                    expected,
                    actual,
                }
            })
            .collect();
        (violations, examples)
    })
    .await
    .map_err(|_| AdminError::Render("the password check did not finish".into()))
}

#[OpenApi(tag = "Tags::Config")]
impl RuleBenchApi {
    /// Check a password against a document's rules
    ///
    /// The rule test bench: each rule's verdict for a password under a draft, a stored
    /// version or the active document, exactly as the reset would decide it (history
    /// aside), and the script's `examples:` run now. Nothing is stored.
    #[oai(
        path = "/tenants/:tenant/config/rule-bench",
        method = "post",
        operation_id = "ruleBench"
    )]
    async fn check_password(
        &self,
        auth: AdminAuth,
        state: Data<&AdminState>,
        /// Tenant id.
        tenant: Path<String>,
        body: Json<PasswordCheckRequest>,
    ) -> Result<PasswordChecked, AdminProblem> {
        let state = *state;
        let id = require_tenant(state, &auth.0, &tenant.0, "ruleBench").await?;
        let body = body.0;
        let document =
            source_document(state, &id, body.version, body.yaml.map(Text::into_string)).await?;
        let config = &document.config;
        let locale = locale_of(config, body.locale.as_deref().map(String::as_str))?;
        let overrides = config.messages.get(&locale).cloned().unwrap_or_default();
        let messages = Messages::new(
            state.themes(),
            config.theme.as_str(),
            locale.as_str(),
            overrides,
        )
        .map_err(|e| AdminError::Render(e.to_string()))?;
        let mut ctx = CheckContext::new(config.display_name.clone(), locale.as_str());
        if let Some(email) = body.email {
            ctx = ctx.with_email(email.into_string());
        }
        if let Some(name) = body.name {
            ctx = ctx.with_user_name(name.into_string());
        }
        let (violations, examples) =
            run(document.policy.clone(), body.password.into_string(), ctx).await?;
        Ok(PasswordChecked::Ok(Json(PasswordVerdict {
            accepted: violations.is_empty(),
            rules: verdicts(config, &messages, &violations),
            violations: codes(&violations),
            examples,
        })))
    }
}

//! [`check`]: runs a [`CompiledPolicy`] against one candidate password. Pure apart from the
//! script rule, which runs on the sandbox pool; hashing, history and provider calls happen
//! elsewhere.

use std::time::Duration;

use crate::blocklist::is_common;
use crate::compiled::CompiledPolicy;
use crate::script::{Budget, ScriptError, ScriptInput};
use crate::spec::{CharacterClass, PROVIDER_MAX_BYTES};
use crate::violation::{PersonalInfoField, Violation};

/// zxcvbn sees at most this many code points: its cost grows steeply with length (about
/// 80 µs at 16 characters, milliseconds past 64), and extra characters can only add guesses,
/// so scoring a prefix can only under-estimate strength (fail safe).
pub const ZXCVBN_MAX_CHARS: usize = 64;
/// Context words shorter than this are ignored: "al" or "jo" would ban half of all passwords.
pub const MIN_CONTEXT_WORD_CHARS: usize = 3;

/// Who is choosing the password: the words a password must not be built from. None of these
/// are secrets; the password is not part of it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckContext {
    /// The user's email address, when known.
    pub email: Option<String>,
    /// The user's display name, when known.
    pub user_name: Option<String>,
    /// The tenant's (application's) display name.
    pub tenant_name: String,
    /// The locale the page is shown in (passed to the script as `ctx.locale`).
    pub locale: String,
}

impl CheckContext {
    /// A context for `tenant_name` in `locale`, with no user information yet.
    pub fn new(tenant_name: impl Into<String>, locale: impl Into<String>) -> Self {
        Self {
            email: None,
            user_name: None,
            tenant_name: tenant_name.into(),
            locale: locale.into(),
        }
    }

    /// Adds the user's email address.
    pub fn with_email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// Adds the user's display name.
    pub fn with_user_name(mut self, user_name: impl Into<String>) -> Self {
        self.user_name = Some(user_name.into());
        self
    }

    /// Lowercase words the password must not contain, with where each came from: the
    /// whole email, its local part and the local part's pieces; the pieces of the user's
    /// name; the tenant name whole and without spaces or punctuation.
    pub(crate) fn words(&self) -> Vec<(PersonalInfoField, String)> {
        let mut words = Vec::new();
        let mut add = |field, word: &str| {
            let word = word.to_lowercase();
            if word.chars().count() >= MIN_CONTEXT_WORD_CHARS
                && !words.iter().any(|(_, w)| *w == word)
            {
                words.push((field, word));
            }
        };
        if let Some(email) = &self.email {
            add(PersonalInfoField::Email, email);
            let local = email.rsplit_once('@').map_or(email.as_str(), |(l, _)| l);
            add(PersonalInfoField::Email, local);
            for piece in pieces(local) {
                add(PersonalInfoField::Email, piece);
            }
        }
        if let Some(name) = &self.user_name {
            for piece in pieces(name) {
                add(PersonalInfoField::Name, piece);
            }
        }
        add(PersonalInfoField::Tenant, self.tenant_name.trim());
        let compact: String = self
            .tenant_name
            .chars()
            .filter(|c| c.is_alphanumeric())
            .collect();
        add(PersonalInfoField::Tenant, &compact);
        words
    }
}

/// Splits on anything that is not a letter or digit (spaces, dots, dashes, `+`...).
fn pieces(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|p| !p.is_empty())
}

/// Checks `candidate` against every rule of `policy` and returns all violations (empty:
/// accepted). The candidate is never trimmed, normalised or case-folded; comparisons that
/// are case-insensitive fold a copy. A password over the length or byte limit gets only
/// those violations: it is rejected anyway, and the costly rules (zxcvbn, the script) never
/// see unbounded input.
pub fn check(policy: &CompiledPolicy, candidate: &str, ctx: &CheckContext) -> Vec<Violation> {
    check_with(policy, candidate, ctx, Budget::PerCall).0
}

/// What the script did in one [`check_with`]: its CPU time (zero without a script, or for a
/// call too short for the interrupt to poll) and, when it failed, why (for compile-time
/// examples only: the engine message may quote the password).
#[derive(Debug, Default)]
pub(crate) struct ScriptReport {
    pub cpu: Duration,
    pub failure: Option<ScriptError>,
}

/// [`check`] with the script running under `budget` (examples draw from their document's
/// budget); also reports what the script's call used.
pub(crate) fn check_with(
    policy: &CompiledPolicy,
    candidate: &str,
    ctx: &CheckContext,
    budget: Budget<'_>,
) -> (Vec<Violation>, ScriptReport) {
    let spec = policy.spec();
    let mut violations = Vec::new();
    // NIST 800-63B counts each Unicode code point as one character.
    let chars = candidate.chars().count();
    if chars < spec.min_length {
        violations.push(Violation::TooShort {
            min: spec.min_length,
        });
    }
    if chars > spec.max_length {
        violations.push(Violation::TooLong {
            max: spec.max_length,
        });
    }
    if candidate.len() > PROVIDER_MAX_BYTES {
        violations.push(Violation::TooManyBytes {
            max_bytes: PROVIDER_MAX_BYTES,
        });
    }
    if chars > spec.max_length || candidate.len() > PROVIDER_MAX_BYTES {
        return (violations, ScriptReport::default());
    }

    // The script runs on a worker while this thread checks the other rules.
    let pending_script = policy.script.as_ref().map(|script| {
        script.start(
            ScriptInput {
                password: candidate.to_owned(),
                email: ctx.email.clone(),
                user_name: ctx.user_name.clone(),
                tenant: ctx.tenant_name.clone(),
                locale: ctx.locale.clone(),
            },
            budget,
        )
    });

    if let Some(rule) = &spec.character_classes {
        let mut classes = rule.classes.clone();
        classes.sort();
        classes.dedup();
        let missing: Vec<CharacterClass> = classes
            .iter()
            .copied()
            .filter(|class| !candidate.chars().any(|c| in_class(*class, c)))
            .collect();
        let present = classes.len() - missing.len();
        if present < rule.min_classes {
            violations.push(Violation::MissingCharacterClasses {
                min: rule.min_classes,
                missing,
            });
        }
    }

    for rule in &policy.regexes {
        if rule.matcher.is_match(candidate) != rule.must_match {
            violations.push(Violation::Regex {
                name: rule.name.clone(),
                message_key: rule.message_key.clone(),
            });
        }
    }

    let lowercase = candidate.to_lowercase();
    if (spec.common_blocklist && is_common(&lowercase)) || policy.extra_words.contains(&lowercase) {
        violations.push(Violation::Blocklisted);
    }

    let words = if spec.ban_personal_info || spec.min_strength.is_some() {
        ctx.words()
    } else {
        Vec::new()
    };
    let found = words.iter().find(|(_, w)| lowercase.contains(w.as_str()));
    if let (true, Some((field, _))) = (spec.ban_personal_info, found) {
        violations.push(Violation::PersonalInfo { field: *field });
    }

    if let Some(min_score) = spec.min_strength {
        let score = strength(candidate, &words, policy);
        if score < min_score {
            violations.push(Violation::TooWeak { min_score, score });
        }
    }

    let mut report = ScriptReport::default();
    match pending_script.map(|pending| pending.finish()) {
        Some(Ok(answer)) => {
            report.cpu = answer.cpu;
            violations.extend(answer.keys.into_iter().map(|k| Violation::Script {
                key: k.key,
                params: k.params,
            }));
        }
        Some(Err(failure)) => {
            report.cpu = failure.cpu;
            violations.push(Violation::ScriptUnavailable {
                reason: failure.kind,
            });
            report.failure = Some(failure);
        }
        None => {}
    }
    (violations, report)
}

/// Whether `c` belongs to `class`.
fn in_class(class: CharacterClass, c: char) -> bool {
    match class {
        CharacterClass::Lowercase => c.is_lowercase(),
        CharacterClass::Uppercase => c.is_uppercase(),
        CharacterClass::Digit => c.is_numeric(),
        CharacterClass::Symbol => !c.is_alphanumeric(),
    }
}

/// zxcvbn score (0–4) of the first [`ZXCVBN_MAX_CHARS`] code points, with the context
/// words and the tenant's banned words as extra dictionary entries.
fn strength(candidate: &str, words: &[(PersonalInfoField, String)], policy: &CompiledPolicy) -> u8 {
    let bounded = match candidate.char_indices().nth(ZXCVBN_MAX_CHARS) {
        Some((end, _)) => &candidate[..end],
        None => candidate,
    };
    let mut inputs: Vec<&str> = words.iter().map(|(_, w)| w.as_str()).collect();
    inputs.extend(policy.extra_words.iter().map(String::as_str));
    u8::from(zxcvbn::zxcvbn(bounded, &inputs).score())
}

//! [`CompiledPolicy`]: a [`PolicySpec`] turned into ready-to-run rules (regexes built, the
//! script loaded, its examples verified), once per tenant config version.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, LazyLock, Mutex, Weak};
use std::time::Duration;

use regex::{Regex, RegexBuilder};

use crate::check::{CheckContext, check_with};
use crate::script::{Budget, CompiledScript, DOCUMENT_CPU, DocumentBudget};
use crate::sequences::Sequences;
use crate::spec::{
    CompileError, CompileLocation, MAX_LENGTH_FLOOR, MIN_LENGTH_FLOOR, PROVIDER_MAX_BYTES,
    PolicySpec,
};
use crate::violation::Violation;

/// Longest regex pattern accepted, in bytes.
pub const MAX_PATTERN_BYTES: usize = 1_000;
/// Compiled-program cap per regex (`regex` default: 10 MiB). Enough for Unicode-aware
/// `\w{64}` (over 1 MiB on its own); bounds what a hostile pattern like `\w{1000}{1000}`
/// can make us allocate per tenant rule.
pub const REGEX_SIZE_LIMIT: usize = 4 << 20;
/// Lazy-DFA cache cap per regex (`regex` default: 2 MiB); past it the engine falls back to
/// slower but still linear-time search.
pub const REGEX_DFA_SIZE_LIMIT: usize = 1 << 20;
/// Nesting depth cap (`regex` default: 250), so deeply nested groups are refused at
/// compile time rather than recursing in the parser.
pub const REGEX_NEST_LIMIT: u32 = 32;
/// Highest zxcvbn score.
const MAX_SCORE: u8 = 4;

/// A tenant's policy, compiled. Cheap to share (`Arc` it); [`check()`](crate::check()) runs it.
#[derive(Debug, Clone)]
pub struct CompiledPolicy {
    /// What was compiled (returned by [`CompiledPolicy::spec`]).
    spec: PolicySpec,
    /// `spec.regex_rules`, in order, with their compiled regexes.
    pub(crate) regexes: Vec<CompiledRegex>,
    /// `spec.extra_blocklist`, lowercased for the case-insensitive whole-password compare.
    pub(crate) extra_words: HashSet<String>,
    /// The loaded JavaScript rule, if any.
    pub(crate) script: Option<CompiledScript>,
}

/// One named regex rule, ready to match.
#[derive(Debug, Clone)]
pub(crate) struct CompiledRegex {
    /// Rule name (the code is `regex:<name>`).
    pub name: String,
    /// Message key shown when broken.
    pub message_key: String,
    /// Must the password match (`true`) or not match (`false`)?
    pub must_match: bool,
    /// The linear-time matcher, shared by every policy with the same pattern (see
    /// [`shared_matcher`]).
    pub matcher: Arc<RuleMatcher>,
}

/// How a regex rule is matched: the light [`Sequences`] matcher when the pattern is a fixed
/// run of characters (most tenant rules: a brand, a digit run), else the `regex` engine.
/// Both answer exactly `regex::Regex::is_match`.
#[derive(Debug)]
pub(crate) enum RuleMatcher {
    /// A few hundred bytes instead of the regex's 12–23 KiB (see `sequences`).
    Sequences(Sequences),
    /// Everything else.
    Regex(Regex),
}

impl RuleMatcher {
    /// Does `candidate` contain a match of the rule's pattern?
    pub(crate) fn is_match(&self, candidate: &str) -> bool {
        match self {
            RuleMatcher::Sequences(sequences) => sequences.is_match(candidate),
            RuleMatcher::Regex(regex) => regex.is_match(candidate),
        }
    }
}

impl CompiledPolicy {
    /// Compiles `spec`, reporting every problem at once: floors (defense in depth: the
    /// tenant crate enforces them too), bad regexes, a script that does not load, and script
    /// examples whose full [`check()`](crate::check()) does not produce exactly the expected codes.
    /// The script's load and examples share one CPU budget ([`crate::DOCUMENT_CPU`]).
    /// Blocks the calling thread (the script runs on the worker pool): call it from a
    /// blocking thread, never on an async executor.
    pub fn compile(spec: &PolicySpec) -> Result<CompiledPolicy, Vec<CompileError>> {
        let document = DocumentBudget::new();
        let mut errors = check_bounds(spec);
        let regexes = compile_regexes(spec, &mut errors);
        let mut extra_words = HashSet::new();
        for (index, word) in spec.extra_blocklist.iter().enumerate() {
            if word.trim().is_empty() {
                errors.push(CompileError {
                    location: CompileLocation::ExtraBlocklist(index),
                    message: "a blocklist entry must not be empty".to_owned(),
                });
            }
            extra_words.insert(word.to_lowercase());
        }
        let script = match &spec.script {
            Some(rule) => match CompiledScript::compile(rule, &document) {
                Ok(script) => Some(script),
                Err(script_errors) => {
                    errors.extend(script_errors);
                    None
                }
            },
            None => None,
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        let policy = CompiledPolicy {
            spec: spec.clone(),
            regexes,
            extra_words,
            script,
        };
        let example_errors = check_examples(&policy, &document);
        if example_errors.is_empty() {
            Ok(policy)
        } else {
            Err(example_errors)
        }
    }

    /// The spec this policy was compiled from.
    pub fn spec(&self) -> &PolicySpec {
        &self.spec
    }
}

fn policy_error(message: String) -> CompileError {
    CompileError {
        location: CompileLocation::Policy,
        message,
    }
}

/// Length floors, the byte ceiling, composition and strength bounds.
fn check_bounds(spec: &PolicySpec) -> Vec<CompileError> {
    let mut errors = Vec::new();
    if spec.min_length < MIN_LENGTH_FLOOR {
        errors.push(policy_error(format!(
            "min_length is {}; the platform minimum is {MIN_LENGTH_FLOOR}",
            spec.min_length
        )));
    }
    if spec.min_length > PROVIDER_MAX_BYTES {
        errors.push(policy_error(format!(
            "min_length is {}; passwords over {PROVIDER_MAX_BYTES} bytes are always rejected, \
             so no password could pass",
            spec.min_length
        )));
    }
    if spec.max_length < MAX_LENGTH_FLOOR {
        errors.push(policy_error(format!(
            "max_length is {}; at least {MAX_LENGTH_FLOOR} characters must be accepted",
            spec.max_length
        )));
    }
    if spec.max_length < spec.min_length {
        errors.push(policy_error(format!(
            "max_length ({}) is below min_length ({})",
            spec.max_length, spec.min_length
        )));
    }
    if let Some(rule) = &spec.character_classes {
        let distinct: HashSet<_> = rule.classes.iter().collect();
        if distinct.is_empty() || rule.min_classes == 0 || rule.min_classes > distinct.len() {
            errors.push(policy_error(format!(
                "character_classes needs between 1 and {} of its {} distinct classes, not {}",
                distinct.len(),
                distinct.len(),
                rule.min_classes
            )));
        }
    }
    if let Some(score) = spec.min_strength.filter(|s| *s > MAX_SCORE) {
        errors.push(policy_error(format!(
            "min_strength is {score}; zxcvbn scores go from 0 to {MAX_SCORE}"
        )));
    }
    errors
}

/// Builds each regex rule with the size and nesting caps; names must be unique.
fn compile_regexes(spec: &PolicySpec, errors: &mut Vec<CompileError>) -> Vec<CompiledRegex> {
    let mut names = HashSet::new();
    let mut compiled = Vec::new();
    for (index, rule) in spec.regex_rules.iter().enumerate() {
        let mut fail = |message: String| {
            errors.push(CompileError {
                location: CompileLocation::RegexRule(index),
                message,
            })
        };
        if !is_rule_name(&rule.name) {
            fail(format!(
                "rule name {:?} must be 1-64 ASCII letters, digits, '_' or '-'",
                rule.name
            ));
        } else if !names.insert(rule.name.as_str()) {
            fail(format!("rule name {:?} is used twice", rule.name));
        }
        if rule.message_key.trim().is_empty() {
            fail("a regex rule needs a message key".to_owned());
        }
        if rule.pattern.len() > MAX_PATTERN_BYTES {
            fail(format!(
                "the pattern is {} bytes long; at most {MAX_PATTERN_BYTES} are allowed",
                rule.pattern.len()
            ));
            continue;
        }
        match shared_matcher(&rule.pattern) {
            Ok(matcher) => compiled.push(CompiledRegex {
                name: rule.name.clone(),
                message_key: rule.message_key.clone(),
                must_match: rule.must_match,
                matcher,
            }),
            Err(error) => fail(format!("the pattern does not compile: {error}")),
        }
    }
    compiled
}

/// Compiled matchers by pattern, process-wide. A compiled regex costs about 12 KiB even for
/// `(?i)acme` (its NFA, prefilter and engine set-up; measured with
/// `crates/routing/examples/footprint.rs`), most of a cached tenant's footprint, and tenants
/// made from one template repeat the same patterns. A matcher is immutable and `Sync` (a
/// regex's scratch space comes from an internal pool), so sharing it changes no behaviour.
/// Entries are weak: a matcher no live policy uses is freed, and dead entries are swept as
/// the map grows.
static MATCHERS: LazyLock<Mutex<MatcherInterner>> = LazyLock::new(Mutex::default);

/// The map behind [`MATCHERS`] and the size at which it is next swept.
#[derive(Default)]
struct MatcherInterner {
    by_pattern: HashMap<String, Weak<RuleMatcher>>,
    sweep_at: usize,
}

/// The matcher for `pattern`, or the one already built for the same pattern if a live
/// policy holds it. The regex is always built, with the size, DFA and nesting caps, so a
/// pattern is accepted or refused exactly as before; it is then dropped if the light
/// matcher can stand in for it.
fn shared_matcher(pattern: &str) -> Result<Arc<RuleMatcher>, regex::Error> {
    let lock = || {
        MATCHERS
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    };
    if let Some(matcher) = lock().by_pattern.get(pattern).and_then(Weak::upgrade) {
        return Ok(matcher);
    }
    // Built outside the lock, so a slow (large but capped) pattern holds up no other load.
    let regex = RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_DFA_SIZE_LIMIT)
        .nest_limit(REGEX_NEST_LIMIT)
        .build()?;
    let built = Arc::new(match Sequences::parse(pattern) {
        Some(sequences) => RuleMatcher::Sequences(sequences),
        None => RuleMatcher::Regex(regex),
    });
    let mut interner = lock();
    // Another load may have built the same pattern meanwhile: keep one copy.
    if let Some(matcher) = interner.by_pattern.get(pattern).and_then(Weak::upgrade) {
        return Ok(matcher);
    }
    if interner.by_pattern.len() >= interner.sweep_at {
        interner
            .by_pattern
            .retain(|_, weak| weak.strong_count() > 0);
        interner.sweep_at = (interner.by_pattern.len() * 2).max(64);
    }
    interner
        .by_pattern
        .insert(pattern.to_owned(), Arc::downgrade(&built));
    Ok(built)
}

/// Regex rule names become part of violation codes: 1–64 of `[A-Za-z0-9_-]`.
fn is_rule_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Runs every script example through the full [`check()`](crate::check()) with an empty
/// context (no email, name or tenant name) and compares the set of codes. Examples draw
/// from the document's CPU budget, which the script's load started on: one that runs out of
/// it is an error, and the examples after it are not run. One whose call used more CPU than
/// the script's budget per call is an error too, since a real password like it would time
/// out.
fn check_examples(policy: &CompiledPolicy, document: &DocumentBudget) -> Vec<CompileError> {
    let Some(rule) = &policy.spec.script else {
        return Vec::new();
    };
    let ctx = CheckContext::new("", "en");
    let mut errors = Vec::new();
    for (index, example) in rule.examples.iter().enumerate() {
        if document.spent() {
            errors.push(CompileError {
                location: CompileLocation::ScriptExample(index),
                message: format!(
                    "not run: the script's load and the examples before this one used up the \
                     {} ms of CPU time a document's script gets at validation",
                    DOCUMENT_CPU.as_millis()
                ),
            });
            break;
        }
        let (violations, report) =
            check_with(policy, &example.password, &ctx, Budget::Document(document));
        document.spend(report.cpu);
        let timed_out = matches!(
            &report.failure,
            Some(f) if f.kind == crate::ScriptFailure::Timeout
        );
        if timed_out {
            // Ran to what was left of the document's budget (or was stopped by a cap).
            document.spend(DOCUMENT_CPU);
        }
        let mut got: Vec<String> = violations.iter().map(Violation::code).collect();
        got.sort();
        got.dedup();
        let mut expected = example.expect.clone();
        expected.sort();
        expected.dedup();
        if got != expected {
            let shown: Vec<String> = violations
                .iter()
                .map(|v| match v {
                    Violation::ScriptUnavailable { reason } => format!("{} ({reason})", v.code()),
                    _ => v.code(),
                })
                .collect();
            // The engine's reason, for the author: the example is the author's own password.
            let why = match &report.failure {
                Some(_) if timed_out => format!(
                    ": the script ran out of the {} ms of CPU time a document's script gets at \
                     validation (load and examples together)",
                    DOCUMENT_CPU.as_millis()
                ),
                Some(failure) => format!(": {}", failure.message),
                None => String::new(),
            };
            errors.push(CompileError {
                location: CompileLocation::ScriptExample(index),
                message: format!(
                    "expected [{}], got [{}]{why}",
                    expected.join(", "),
                    shown.join(", ")
                ),
            });
        } else if report.cpu > Duration::from_millis(rule.limits.timeout_ms) {
            errors.push(CompileError {
                location: CompileLocation::ScriptExample(index),
                message: format!(
                    "the script used {} ms of CPU time on this example, over its budget of {} \
                     ms per call (`timeout_ms`): a password like this one would be rejected \
                     as script_unavailable (timeout)",
                    report.cpu.as_millis(),
                    rule.limits.timeout_ms
                ),
            });
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::{CompiledPolicy, RuleMatcher, shared_matcher};
    use crate::check::{CheckContext, check};
    use crate::spec::{PolicySpec, RegexRule};

    fn spec_with(pattern: &str, must_match: bool) -> PolicySpec {
        PolicySpec {
            regex_rules: vec![RegexRule {
                name: "rule".into(),
                pattern: pattern.into(),
                must_match,
                message_key: "acme.rule".into(),
            }],
            ..PolicySpec::default()
        }
    }

    fn codes(policy: &CompiledPolicy, password: &str) -> Vec<String> {
        check(policy, password, &CheckContext::new("", "en"))
            .iter()
            .map(|v| v.code())
            .collect()
    }

    #[test]
    fn policies_with_one_pattern_share_its_matcher_and_keep_their_own_rule() {
        for (pattern, with) in [
            ("(?i)sharedpat", "Zq8-SHAREDPAT-long-enough-x"),
            (r"(?i)shared\s*pat", "Zq8-SHARED  PAT-long-enough"),
        ] {
            let forbid = CompiledPolicy::compile(&spec_with(pattern, false)).unwrap();
            let require = CompiledPolicy::compile(&spec_with(pattern, true)).unwrap();
            assert!(Arc::ptr_eq(
                &forbid.regexes[0].matcher,
                &require.regexes[0].matcher
            ));
            let without = "Zq8-something-else-long-xy";
            assert_eq!(codes(&forbid, with), ["regex:rule"]);
            assert!(codes(&forbid, without).is_empty());
            assert!(codes(&require, with).is_empty());
            assert_eq!(codes(&require, without), ["regex:rule"]);
        }
    }

    #[test]
    fn literal_rules_get_the_light_matcher_and_others_the_regex() {
        let literal = CompiledPolicy::compile(&spec_with("(?i)acme00042", false)).unwrap();
        assert!(matches!(
            *literal.regexes[0].matcher,
            RuleMatcher::Sequences(_)
        ));
        assert_eq!(codes(&literal, "Zq8-ACME00042-long-enough"), ["regex:rule"]);
        let spaced = CompiledPolicy::compile(&spec_with(r"(?i)a\s*cme", false)).unwrap();
        assert!(matches!(*spaced.regexes[0].matcher, RuleMatcher::Regex(_)));
        // The regex's size cap still refuses a fixed run the light matcher could take.
        let huge = r"\w{256}";
        assert!(crate::sequences::Sequences::parse(huge).is_some());
        assert!(CompiledPolicy::compile(&spec_with(huge, false)).is_err());
    }

    #[test]
    fn a_regex_no_policy_holds_is_freed_and_rebuilt_on_demand() {
        let first = shared_matcher("(?i)freedpat").unwrap();
        let weak = Arc::downgrade(&first);
        drop(first);
        assert!(weak.upgrade().is_none());
        let again = CompiledPolicy::compile(&spec_with("(?i)freedpat", false)).unwrap();
        assert_eq!(codes(&again, "Zq8-FreedPat-long-enough-xy"), ["regex:rule"]);
    }

    #[test]
    fn a_bad_pattern_is_still_refused() {
        assert!(CompiledPolicy::compile(&spec_with("(unclosed", false)).is_err());
        assert!(CompiledPolicy::compile(&spec_with("(unclosed", false)).is_err());
    }
}

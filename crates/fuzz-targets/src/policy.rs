//! `policy_check`: arbitrary built-in rules, regex and JavaScript rule → compile → check.
//!
//! An input is a fixed header of [`POLICY_HEADER_BYTES`] bytes, decoded by `arbitrary` into
//! the numeric and boolean settings ([`Knobs`]), followed by text in NUL-separated parts:
//!
//! ```text
//! pattern \0 candidates (one per line) \0 context \0 script examples \0 script source
//! ```
//!
//! The context lines are email, user name, tenant name, locale, then extra blocklist words;
//! an example line is `password<TAB>code,code`. Keeping the texts plain makes the corpus
//! seedable by hand (a tenant's real script is a valid tail) and readable in a hex dump.

use arbitrary::{Arbitrary, Unstructured};
use passgate_policy::{
    CharacterClass, CharacterClassRule, CheckContext, CompiledPolicy, PolicySpec, RegexRule,
    ScriptExample, ScriptLimits, ScriptRule, Violation, check,
};

/// Bytes at the start of an input that hold the [`Knobs`]; the text parts follow.
pub const POLICY_HEADER_BYTES: usize = 16;
/// Candidates checked per compiled policy (compiling a script costs about a millisecond,
/// so a few checks share it).
const MAX_CANDIDATES: usize = 8;
/// bcrypt's byte limit, which `check` always enforces.
const PROVIDER_MAX_BYTES: usize = 72;

/// The numeric and boolean parts of a policy. Most values map into the platform's bounds so
/// that most inputs compile; the value 255 picks one just outside them, so the refusals are
/// exercised too.
#[derive(Debug, Arbitrary)]
struct Knobs {
    min_length: u8,
    max_length: u8,
    /// Bit mask over the four classes; bit 4 repeats the first class listed.
    classes: u8,
    min_classes: u8,
    regex_must_match: bool,
    min_strength: Option<u8>,
    ban_personal_info: bool,
    common_blocklist: bool,
    timeout_ms: u8,
    memory_mib: u8,
    stack_kib: u8,
    with_email: bool,
    with_user_name: bool,
}

/// `lo + raw % (hi - lo + 1)`, or `outside` when `raw` is 255.
fn bounded(raw: u8, lo: usize, hi: usize, outside: usize) -> usize {
    if raw == u8::MAX {
        outside
    } else {
        lo + usize::from(raw) % (hi - lo + 1)
    }
}

/// Compiles the policy `data` describes and checks each candidate against it. Compiling
/// returns a verdict (never a panic, never a hang past the sandbox's limits); each check
/// agrees with a code-point count on the length rules and the byte count on the provider
/// limit, reports script violations only when there is a script, and (without a script,
/// whose answers may vary) gives the same answer twice.
pub fn policy_check(data: &[u8]) {
    let split = data.len().min(POLICY_HEADER_BYTES);
    let (header, text) = data.split_at(split);
    let Ok(knobs) = Knobs::arbitrary(&mut Unstructured::new(header)) else {
        return;
    };
    let text = String::from_utf8_lossy(text);
    let mut parts = text.splitn(5, '\0');
    let pattern = parts.next().unwrap_or_default();
    let candidates = parts.next().unwrap_or_default();
    let context: Vec<&str> = parts.next().unwrap_or_default().lines().collect();
    let examples = parts.next().unwrap_or_default();
    let source = parts.next().unwrap_or_default();

    let line = |i: usize| context.get(i).copied();
    let mut ctx = CheckContext::new(line(2).unwrap_or("Acme"), line(3).unwrap_or("en"));
    if let (true, Some(email)) = (knobs.with_email, line(0)) {
        ctx = ctx.with_email(email);
    }
    if let (true, Some(name)) = (knobs.with_user_name, line(1)) {
        ctx = ctx.with_user_name(name);
    }
    let extra_blocklist = context.iter().skip(4).map(|w| (*w).to_owned()).collect();
    let spec = spec(&knobs, pattern, extra_blocklist, examples, source);

    let policy = match CompiledPolicy::compile(&spec) {
        Ok(policy) => policy,
        Err(errors) => {
            assert!(!errors.is_empty(), "refused without a reason");
            return;
        }
    };
    for candidate in candidates.lines().take(MAX_CANDIDATES) {
        let violations = check(&policy, candidate, &ctx);
        assert_consistent(&spec, candidate, &violations);
        if spec.script.is_none() {
            assert_eq!(
                violations,
                check(&policy, candidate, &ctx),
                "not deterministic"
            );
        }
    }
}

/// Builds the spec from the knobs and the text parts.
fn spec(
    knobs: &Knobs,
    pattern: &str,
    extra_blocklist: Vec<String>,
    examples: &str,
    source: &str,
) -> PolicySpec {
    const ALL: [CharacterClass; 4] = [
        CharacterClass::Lowercase,
        CharacterClass::Uppercase,
        CharacterClass::Digit,
        CharacterClass::Symbol,
    ];
    let mut classes: Vec<CharacterClass> = (0..4)
        .filter(|bit| knobs.classes & (1 << bit) != 0)
        .map(|bit| ALL[bit])
        .collect();
    if let (true, Some(first)) = (knobs.classes & 0x10 != 0, classes.first().copied()) {
        classes.push(first);
    }
    let character_classes = (!classes.is_empty()).then(|| CharacterClassRule {
        classes,
        min_classes: usize::from(knobs.min_classes % 6),
    });
    let regex_rules = if pattern.is_empty() {
        Vec::new()
    } else {
        vec![RegexRule {
            name: "fuzz".to_owned(),
            pattern: pattern.to_owned(),
            must_match: knobs.regex_must_match,
            message_key: "fuzz.rule".to_owned(),
        }]
    };
    let script = (!source.is_empty()).then(|| ScriptRule {
        tenant: "fuzz".to_owned(),
        source: source.to_owned(),
        params: Vec::new(),
        examples: examples
            .lines()
            .map(|line| {
                let (password, codes) = line.split_once('\t').unwrap_or((line, ""));
                ScriptExample {
                    password: password.to_owned(),
                    expect: codes
                        .split(',')
                        .filter(|c| !c.is_empty())
                        .map(str::to_owned)
                        .collect(),
                }
            })
            .collect(),
        limits: ScriptLimits {
            timeout_ms: bounded(knobs.timeout_ms, 1, 50, 0) as u64,
            memory_bytes: bounded(knobs.memory_mib, 1, 32, 0) << 20,
            stack_bytes: bounded(knobs.stack_kib, 64, 1024, 32) << 10,
        },
    });
    PolicySpec {
        min_length: bounded(knobs.min_length, 8, 72, 7),
        max_length: bounded(knobs.max_length, 64, 256, 63),
        character_classes,
        regex_rules,
        min_strength: knobs.min_strength.map(|s| s % 6),
        ban_personal_info: knobs.ban_personal_info,
        common_blocklist: knobs.common_blocklist,
        extra_blocklist,
        history_depth: 0,
        script,
    }
}

/// What every check must get right, whatever the rules.
fn assert_consistent(spec: &PolicySpec, candidate: &str, violations: &[Violation]) {
    let chars = candidate.chars().count();
    let has = |v: Violation| violations.contains(&v);
    assert_eq!(
        has(Violation::TooShort {
            min: spec.min_length
        }),
        chars < spec.min_length,
        "min_length disagrees with a code-point count"
    );
    assert_eq!(
        has(Violation::TooLong {
            max: spec.max_length
        }),
        chars > spec.max_length,
        "max_length disagrees with a code-point count"
    );
    assert_eq!(
        has(Violation::TooManyBytes {
            max_bytes: PROVIDER_MAX_BYTES
        }),
        candidate.len() > PROVIDER_MAX_BYTES,
        "the provider's byte limit disagrees with the UTF-8 length"
    );
    for violation in violations {
        assert!(!violation.code().is_empty(), "{violation:?} has no code");
        let from_script = matches!(
            violation,
            Violation::Script { .. } | Violation::ScriptUnavailable { .. }
        );
        assert!(
            !from_script || spec.script.is_some(),
            "{violation:?} without a script"
        );
    }
}

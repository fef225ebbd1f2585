//! Property test: any string, through a policy using every rule (the script included),
//! never panics and the length rules agree with a code-point count.

// Test and bench code: a failed setup must stop loudly.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::sync::LazyLock;

use passgate_policy::{
    CharacterClass, CharacterClassRule, CheckContext, CompiledPolicy, PolicySpec, RegexRule,
    ScriptExample, ScriptLimits, ScriptParam, ScriptRule, Violation, check,
};
use proptest::prelude::*;

static POLICY: LazyLock<CompiledPolicy> = LazyLock::new(|| {
    let spec = PolicySpec {
        min_length: 10,
        max_length: 64,
        character_classes: Some(CharacterClassRule {
            classes: vec![CharacterClass::Lowercase, CharacterClass::Uppercase, CharacterClass::Digit, CharacterClass::Symbol],
            min_classes: 2,
        }),
        regex_rules: vec![RegexRule {
            name: "no_app_name".into(),
            pattern: r"(?i)a\s*c\s*m\s*e".into(),
            must_match: false,
            message_key: "acme.no_app_name".into(),
        }],
        min_strength: Some(2),
        ban_personal_info: true,
        common_blocklist: true,
        extra_blocklist: vec!["acme".into()],
        history_depth: 3,
        script: Some(ScriptRule {
            tenant: "acme".into(),
            params: vec![ScriptParam { name: "max".into(), values: vec!["3".into()] }],
            source: r#"
                function validate(password, ctx) {
                  var out = [];
                  var chars = Array.from(password);
                  var run = 1;
                  for (var i = 1; i < chars.length; i++) {
                    run = chars[i] === chars[i - 1] ? run + 1 : 1;
                    if (run >= 4) { out.push({key: "no_runs", params: {max: 3}}); break; }
                  }
                  if (/^\d+$/.test(password)) out.push("not_only_digits");
                  if (ctx.tenant && password.toLowerCase().indexOf(ctx.tenant.toLowerCase()) >= 0) out.push("no_tenant");
                  return out;
                }"#
            .into(),
            examples: vec![ScriptExample { password: "aaaa Bbbb 1234".into(), expect: vec!["script:no_runs".into()] }],
            limits: ScriptLimits::default(),
        }),
    };
    CompiledPolicy::compile(&spec).unwrap()
});

fn ctx() -> CheckContext {
    CheckContext::new("Acme", "fr")
        .with_email("zoé@example.com")
        .with_user_name("Zoé Ünal")
}

fn assert_consistent(password: &str) {
    let violations = check(&POLICY, password, &ctx());
    let chars = password.chars().count();
    assert_eq!(
        violations.contains(&Violation::TooShort { min: 10 }),
        chars < 10
    );
    assert_eq!(
        violations.contains(&Violation::TooLong { max: 64 }),
        chars > 64
    );
    assert_eq!(
        violations.contains(&Violation::TooManyBytes { max_bytes: 72 }),
        password.len() > 72
    );
    // The script always answers for this well-behaved rule.
    assert!(
        !violations
            .iter()
            .any(|v| matches!(v, Violation::ScriptUnavailable { .. })),
        "{violations:?}"
    );
    for v in &violations {
        assert!(!v.code().is_empty());
        // Messages never reflect the password.
        if password.chars().count() >= 8 {
            assert!(!v.english().contains(password));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn any_string(password in any::<String>()) {
        assert_consistent(&password);
    }

    #[test]
    fn printable_unicode(password in "\\PC{0,90}") {
        assert_consistent(&password);
    }

    #[test]
    fn emoji_and_combining_marks(parts in proptest::collection::vec(
        prop_oneof![Just("é"), Just("e\u{301}"), Just("😀"), Just("👩‍👩‍👧"), Just(" "), Just("a"), Just("Z"), Just("7"), Just("\u{0}")],
        0..40,
    )) {
        assert_consistent(&parts.concat());
    }

    #[test]
    fn very_long(unit in "\\PC{1,4}", times in 10usize..3000) {
        assert_consistent(&unit.repeat(times));
    }
}

#[test]
fn nfc_and_nfd_are_different_passwords() {
    // No normalisation: the NFD form is longer in code points.
    let nfc = "Crème brûlée 42";
    let nfd = "Cre\u{300}me bru\u{302}le\u{301}e 42";
    assert_eq!(nfc.chars().count(), 15);
    assert_eq!(nfd.chars().count(), 18);
    assert_consistent(nfc);
    assert_consistent(nfd);
}

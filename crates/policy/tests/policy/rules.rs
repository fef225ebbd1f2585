//! Built-in rules, compile-time checks and the violation API, through the public API.

// Test and bench code: a failed setup must stop loudly.
#![allow(clippy::unwrap_used, clippy::panic)]

use passgate_policy::{
    CharacterClass, CharacterClassRule, CheckContext, CompileLocation, CompiledPolicy,
    PersonalInfoField, PolicySpec, RegexRule, Violation, check, common_password_count,
    default_english_messages,
};

fn compile(spec: &PolicySpec) -> CompiledPolicy {
    match CompiledPolicy::compile(spec) {
        Ok(policy) => policy,
        Err(errors) => panic!("spec should compile: {errors:?}"),
    }
}

fn codes(violations: &[Violation]) -> Vec<String> {
    violations.iter().map(Violation::code).collect()
}

fn ctx() -> CheckContext {
    CheckContext::new("Acme Corp", "en")
        .with_email("jane.doe@example.com")
        .with_user_name("Jane Doe")
}

/// Only length rules: nothing else can interfere.
fn lengths_only(min: usize) -> CompiledPolicy {
    compile(&PolicySpec {
        min_length: min,
        common_blocklist: false,
        ban_personal_info: false,
        ..PolicySpec::default()
    })
}

#[test]
fn default_policy_needs_15_characters() {
    let policy = compile(&PolicySpec::default());
    assert_eq!(
        check(&policy, "tulip-river-cl", &ctx()),
        vec![Violation::TooShort { min: 15 }]
    );
    assert_eq!(check(&policy, "tulip-river-clo", &ctx()), vec![]);
}

#[test]
fn default_policy_has_no_composition_rule() {
    let policy = compile(&PolicySpec::default());
    assert_eq!(
        check(&policy, "correct horse battery staple", &ctx()),
        vec![]
    );
}

#[test]
fn length_counts_code_points_not_bytes() {
    let policy = lengths_only(8);
    // 8 code points, 32 bytes.
    assert_eq!(check(&policy, "😀😀😀😀😀😀😀😀", &ctx()), vec![]);
    // 7 code points of 2 bytes each: too short although 14 bytes.
    assert_eq!(
        check(&policy, "ééééééé", &ctx()),
        vec![Violation::TooShort { min: 8 }]
    );
    // The same text in NFD is 14 code points: each combining mark counts (no normalisation).
    assert_eq!(check(&policy, &"e\u{301}".repeat(7), &ctx()), vec![]);
}

#[test]
fn spaces_are_characters_and_never_trimmed() {
    let policy = lengths_only(8);
    assert_eq!(check(&policy, "  ab  cd", &ctx()), vec![]);
    assert_eq!(check(&policy, " abcdef ", &ctx()), vec![]);
    assert_eq!(
        check(&policy, "abcdef ", &ctx()),
        vec![Violation::TooShort { min: 8 }]
    );
}

#[test]
fn sixty_four_ascii_characters_are_accepted() {
    let policy = compile(&PolicySpec::default());
    let long = "the quick brown fox jumps over the lazy dog while we sit and wai";
    assert_eq!(long.len(), 64);
    assert_eq!(check(&policy, long, &ctx()), vec![]);
}

#[test]
fn over_72_bytes_is_rejected_not_truncated() {
    let policy = lengths_only(8);
    assert_eq!(check(&policy, &"a".repeat(72), &ctx()), vec![]);
    assert_eq!(
        check(&policy, &"a".repeat(73), &ctx()),
        vec![Violation::TooManyBytes { max_bytes: 72 }]
    );
    // 18 emoji = 72 bytes: fine; 19 = 76 bytes: rejected although only 19 characters.
    assert_eq!(check(&policy, &"🔑".repeat(18), &ctx()), vec![]);
    assert_eq!(
        check(&policy, &"🔑".repeat(19), &ctx()),
        vec![Violation::TooManyBytes { max_bytes: 72 }]
    );
}

#[test]
fn over_max_length_reports_only_size_violations() {
    let policy = compile(&PolicySpec::default());
    let violations = check(&policy, &"password".repeat(20), &ctx());
    assert_eq!(codes(&violations), ["max_length", "max_bytes"]);
}

#[test]
fn compile_refuses_floors_and_reports_all_problems() {
    let spec = PolicySpec {
        min_length: 7,
        max_length: 6,
        min_strength: Some(5),
        ..PolicySpec::default()
    };
    let Err(errors) = CompiledPolicy::compile(&spec) else {
        panic!("below the floors")
    };
    assert_eq!(errors.len(), 4, "{errors:?}");
    assert!(errors.iter().all(|e| e.location == CompileLocation::Policy));
    let unreachable = PolicySpec {
        min_length: 73,
        max_length: 128,
        ..PolicySpec::default()
    };
    assert!(CompiledPolicy::compile(&unreachable).is_err());
    assert!(
        CompiledPolicy::compile(&PolicySpec {
            min_length: 8,
            ..PolicySpec::default()
        })
        .is_ok()
    );
}

#[test]
fn character_classes() {
    let spec = PolicySpec {
        min_length: 8,
        common_blocklist: false,
        ban_personal_info: false,
        character_classes: Some(CharacterClassRule {
            classes: vec![
                CharacterClass::Lowercase,
                CharacterClass::Uppercase,
                CharacterClass::Digit,
                CharacterClass::Symbol,
            ],
            min_classes: 3,
        }),
        ..PolicySpec::default()
    };
    let policy = compile(&spec);
    assert_eq!(
        check(&policy, "alllowercase", &ctx()),
        vec![Violation::MissingCharacterClasses {
            min: 3,
            missing: vec![
                CharacterClass::Uppercase,
                CharacterClass::Digit,
                CharacterClass::Symbol
            ],
        }]
    );
    assert_eq!(check(&policy, "lower UPPER", &ctx()), vec![]);
    // Unicode letters count: ß is lowercase, É uppercase, ٣ (Arabic-Indic three) a digit.
    assert_eq!(check(&policy, "straßeÉ٣x", &ctx()), vec![]);
    let message = check(&policy, "alllowercase", &ctx())[0].english();
    assert_eq!(
        message,
        "Use at least 3 of these kinds of characters: uppercase, digit, symbol."
    );

    let repeated = PolicySpec {
        min_length: 8,
        common_blocklist: false,
        ban_personal_info: false,
        character_classes: Some(CharacterClassRule {
            classes: vec![
                CharacterClass::Digit,
                CharacterClass::Digit,
                CharacterClass::Uppercase,
            ],
            min_classes: 2,
        }),
        ..PolicySpec::default()
    };
    assert_eq!(
        codes(&check(&compile(&repeated), "12345678", &ctx())),
        ["character_classes"],
        "a class listed twice counts once"
    );

    let bad = PolicySpec {
        character_classes: Some(CharacterClassRule {
            classes: vec![CharacterClass::Digit],
            min_classes: 2,
        }),
        ..PolicySpec::default()
    };
    assert!(CompiledPolicy::compile(&bad).is_err());
}

fn regex_rule(name: &str, pattern: &str, must_match: bool) -> RegexRule {
    RegexRule {
        name: name.into(),
        pattern: pattern.into(),
        must_match,
        message_key: format!("acme.{name}"),
    }
}

#[test]
fn regex_rules_match_and_must_not_match() {
    let spec = PolicySpec {
        min_length: 8,
        common_blocklist: false,
        ban_personal_info: false,
        regex_rules: vec![
            regex_rule("has_digit", r"\d", true),
            regex_rule("no_triple", r"(?i)aaa|bbb|111", false),
        ],
        ..PolicySpec::default()
    };
    let policy = compile(&spec);
    let got = check(&policy, "xAAAyyyyy", &ctx());
    assert_eq!(codes(&got), ["regex:has_digit", "regex:no_triple"]);
    assert_eq!(got[0].message_key(), "acme.has_digit");
    assert_eq!(
        got[0].english(),
        "This password does not meet the rule \"has_digit\"."
    );
    assert_eq!(check(&policy, "xyz1xyz2", &ctx()), vec![]);
}

#[test]
fn regex_rules_are_linear_time() {
    // Catastrophic for a backtracking engine; the regex crate answers in linear time.
    let spec = PolicySpec {
        min_length: 8,
        common_blocklist: false,
        ban_personal_info: false,
        // security.md item 65's example too: nested repetition is harmless when linear.
        regex_rules: vec![
            regex_rule("evil", r"^(a+)+$", false),
            regex_rule("nested", r"^(a|a)*{1000}$", false),
        ],
        ..PolicySpec::default()
    };
    let policy = compile(&spec);
    let input = format!("{}!", "a".repeat(60));
    assert_eq!(check(&policy, &input, &ctx()), vec![]);
}

#[test]
fn realistic_unicode_patterns_fit_the_size_limits() {
    let patterns = [
        r"\w{64}",
        r"(?i)passw[o0]rd",
        r"^\P{L}*$",
        r"\p{Lu}.*\p{Nd}",
        r"(19|20)\d{2}",
    ];
    let spec = PolicySpec {
        regex_rules: patterns
            .iter()
            .enumerate()
            .map(|(i, p)| regex_rule(&format!("r{i}"), p, false))
            .collect(),
        ..PolicySpec::default()
    };
    if let Err(errors) = CompiledPolicy::compile(&spec) {
        panic!("{errors:?}");
    }
}

#[test]
fn hostile_or_broken_regexes_are_compile_errors() {
    let spec = PolicySpec {
        regex_rules: vec![
            regex_rule("huge", r"\w{1000}{1000}", true),
            regex_rule(
                "nested",
                &format!("{}a{}", "(".repeat(40), ")".repeat(40)),
                true,
            ),
            regex_rule("backref", r"(a)\1", true),
            regex_rule("ok", "a", true),
            regex_rule("ok", "b", true),
            regex_rule("bad name!", "c", true),
            regex_rule("too_long", &"a".repeat(1001), true),
        ],
        ..PolicySpec::default()
    };
    let Err(errors) = CompiledPolicy::compile(&spec) else {
        panic!("must not compile")
    };
    let locations: Vec<_> = errors.iter().map(|e| e.location.clone()).collect();
    assert_eq!(
        locations,
        [0, 1, 2, 4, 5, 6].map(CompileLocation::RegexRule).to_vec(),
        "{errors:?}"
    );
}

#[test]
fn common_passwords_are_blocked_case_insensitively() {
    assert!(common_password_count() >= 10_000);
    let policy = lengths_only(8);
    assert_eq!(check(&policy, "Password1234", &ctx()), vec![]);
    let policy = compile(&PolicySpec {
        min_length: 8,
        ban_personal_info: false,
        ..PolicySpec::default()
    });
    assert_eq!(
        check(&policy, "Password1234", &ctx()),
        vec![Violation::Blocklisted]
    );
    assert_eq!(
        check(&policy, "PASSWORD123456", &ctx()),
        vec![Violation::Blocklisted]
    );
    assert_eq!(
        check(&policy, "baseball", &ctx()),
        vec![Violation::Blocklisted]
    );
    // Whole-password comparison: a common password inside a longer one is fine.
    assert_eq!(check(&policy, "baseball under the moon", &ctx()), vec![]);
}

#[test]
fn tenant_words_are_blocked() {
    let spec = PolicySpec {
        min_length: 8,
        ban_personal_info: false,
        extra_blocklist: vec!["RoadRunner2024".into()],
        ..PolicySpec::default()
    };
    let policy = compile(&spec);
    assert_eq!(
        check(&policy, "roadrunner2024", &ctx()),
        vec![Violation::Blocklisted]
    );
    assert_eq!(check(&policy, "roadrunner2025", &ctx()), vec![]);
    let empty = PolicySpec {
        extra_blocklist: vec!["ok".into(), " ".into()],
        ..PolicySpec::default()
    };
    let Err(errors) = CompiledPolicy::compile(&empty) else {
        panic!("empty entry")
    };
    assert_eq!(errors[0].location, CompileLocation::ExtraBlocklist(1));
}

#[test]
fn personal_information_is_banned() {
    let policy = compile(&PolicySpec {
        min_length: 8,
        ..PolicySpec::default()
    });
    let found = |p: &str| check(&policy, p, &ctx());
    let email = vec![Violation::PersonalInfo {
        field: PersonalInfoField::Email,
    }];
    let name = vec![Violation::PersonalInfo {
        field: PersonalInfoField::Name,
    }];
    let tenant = vec![Violation::PersonalInfo {
        field: PersonalInfoField::Tenant,
    }];
    assert_eq!(found("my JANE.DOE secret"), email);
    assert_eq!(found("jane@example.com!"), email);
    assert_eq!(found("sunny doe meadow"), email); // "doe" is also a piece of the local part
    assert_eq!(found("AcmeCorp rocks hard"), tenant);
    assert_eq!(found("acme corp rocks hard"), tenant);
    assert_eq!(found("violet sky over the bay"), vec![]);
    let named = CheckContext::new("Acme", "en").with_user_name("Zoë Marchetti");
    assert_eq!(check(&policy, "marchetti forever", &named), name);
    // Context words under 3 characters are ignored.
    let short = CheckContext::new("Io", "en").with_email("al@example.com");
    assert_eq!(check(&policy, "io and al went home", &short), vec![]);
    // Switched off: allowed.
    let off = compile(&PolicySpec {
        min_length: 8,
        ban_personal_info: false,
        ..PolicySpec::default()
    });
    assert_eq!(check(&off, "my jane.doe secret", &ctx()), vec![]);
}

#[test]
fn strength_uses_zxcvbn_with_context_words() {
    let spec = PolicySpec {
        min_length: 8,
        common_blocklist: false,
        ban_personal_info: false,
        min_strength: Some(3),
        ..PolicySpec::default()
    };
    let policy = compile(&spec);
    let weak = check(&policy, "qwertyuiop", &ctx());
    assert!(matches!(weak.as_slice(), [Violation::TooWeak { min_score: 3, score }] if *score < 3));
    assert_eq!(weak[0].code(), "strength");
    assert_eq!(
        check(&policy, "correct horse battery staple", &ctx()),
        vec![]
    );
    // The user's own name is a dictionary word for zxcvbn.
    let ctx_named = CheckContext::new("Acme", "en").with_user_name("Xylophonia Quenbright");
    let plain = check(
        &policy,
        "xylophoniaquenbright",
        &CheckContext::new("Acme", "en"),
    );
    let named = check(&policy, "xylophoniaquenbright", &ctx_named);
    assert_eq!(plain, vec![]);
    assert_eq!(codes(&named), ["strength"]);
}

#[test]
fn zxcvbn_sees_a_bounded_prefix() {
    let spec = PolicySpec {
        min_length: 8,
        common_blocklist: false,
        ban_personal_info: false,
        min_strength: Some(4),
        ..PolicySpec::default()
    };
    let policy = compile(&spec);
    // 72 bytes, unremarkable: scored on its first 64 characters, still strong.
    let long = "Kq7!vR2#mW9$zT4&bN6*hJ3@pL8^xC5%fG1(dS0)yU2+eA7=iO4~tQ9?rM3<nB6>kZ1;";
    assert!(long.len() <= 72);
    assert_eq!(check(&policy, long, &ctx()), vec![]);
}

#[test]
fn violation_codes_keys_params_and_english() {
    let cases = [
        (
            Violation::TooShort { min: 15 },
            "min_length",
            "policy.min_length",
            "Use at least 15 characters.",
        ),
        (
            Violation::TooLong { max: 128 },
            "max_length",
            "policy.max_length",
            "Use at most 128 characters.",
        ),
        (
            Violation::Blocklisted,
            "blocklist",
            "policy.blocklist",
            "This password is too common or not allowed here. Choose another one.",
        ),
    ];
    for (violation, code, key, english) in cases {
        assert_eq!(violation.code(), code);
        assert_eq!(violation.message_key(), key);
        assert_eq!(violation.english(), english);
    }
    assert_eq!(
        Violation::TooShort { min: 15 }.params(),
        vec![("min".to_owned(), "15".to_owned())]
    );
    let script = Violation::Script {
        key: "acme.no_year".into(),
        params: vec![("year".into(), "2024".into())],
    };
    assert_eq!(script.code(), "script:acme.no_year");
    assert_eq!(script.message_key(), "acme.no_year");
    assert_eq!(
        script.english(),
        "This password does not meet the rule \"acme.no_year\"."
    );
}

#[test]
fn every_built_in_key_has_an_english_template() {
    use passgate_policy::ScriptFailure;
    let catalog = default_english_messages();
    let built_in = [
        Violation::TooShort { min: 1 },
        Violation::TooLong { max: 1 },
        Violation::TooManyBytes { max_bytes: 72 },
        Violation::MissingCharacterClasses {
            min: 1,
            missing: vec![],
        },
        Violation::TooWeak {
            min_score: 3,
            score: 1,
        },
        Violation::PersonalInfo {
            field: PersonalInfoField::Email,
        },
        Violation::Blocklisted,
        Violation::ScriptUnavailable {
            reason: ScriptFailure::Timeout,
        },
    ];
    for violation in built_in {
        let key = violation.message_key();
        let (_, template) = catalog.iter().find(|(k, _)| *k == key).unwrap();
        for (name, _) in violation.params() {
            if template.contains('{') {
                assert!(
                    !violation.english().contains(&format!("{{{name}}}")),
                    "{key}"
                );
            }
        }
    }
}

#[test]
fn rendering_never_rescans_values() {
    let params = vec![
        ("a".to_owned(), "{b}".to_owned()),
        ("b".to_owned(), "x".to_owned()),
    ];
    assert_eq!(passgate_policy::render("{a} {b} {c}", &params), "{b} x {c}");
}

#[test]
fn compiled_policy_is_shareable() {
    fn assert_shareable<T: Send + Sync + std::fmt::Debug + 'static>() {}
    assert_shareable::<CompiledPolicy>();
    assert_shareable::<Violation>();
}

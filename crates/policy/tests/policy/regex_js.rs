//! Differential test of `browser_pattern`: generated Rust patterns and generated strings
//! must get the same `is_match` answer from the server's `regex` engine and from the derived
//! ECMAScript pattern run in real JavaScript engines: QuickJS in-process, and V8 (Chromium's
//! regex engine) through `node` when it is installed.

#![allow(clippy::unwrap_used, clippy::panic)]

use passgate_policy::{
    BROWSER_PATTERN_FLAGS, CheckContext, CompiledPolicy, PolicySpec, RegexRule, browser_pattern,
    check,
};
use regex::Regex;
use rquickjs::{Context, Function, Runtime};

/// A small deterministic generator (xorshift64*), so every run tests the same cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Characters where the engines' defaults differ: case folding beyond ASCII (Kelvin sign,
/// long s, sharp s, Greek), Unicode digits, letters, spaces and line terminators.
const ALPHABET: &[char] = &[
    'a',
    'b',
    'c',
    'k',
    'K',
    's',
    'S',
    'x',
    '1',
    '2',
    '_',
    '-',
    '!',
    ' ',
    '.',
    '\n',
    '\r',
    '\t',
    'é',
    'É',
    'ß',
    'ẞ',
    'ſ',
    '\u{212A}',
    'Ω',
    'ω',
    'Σ',
    'σ',
    'ς',
    '٣',
    '६',
    'Ⅻ',
    'ж',
    '日',
    '\u{00A0}',
    '\u{2028}',
    '\u{0301}',
    '😀',
    '\u{1D400}',
];

/// Atoms of the generated patterns, in Rust `regex` syntax.
const ATOMS: &[&str] = &[
    "a",
    "b",
    "k",
    "s",
    "K",
    "S",
    "1",
    "é",
    "ß",
    "ſ",
    "Ω",
    "σ",
    "日",
    "😀",
    r"\.",
    r"\n",
    r"\-",
    ".",
    "(?s:.)",
    r"\d",
    r"\D",
    r"\w",
    r"\W",
    r"\s",
    r"\S",
    "[a-c]",
    "[^a]",
    "[ks1]",
    "[[:alpha:]]",
    r"[\d_]",
    r"[^\w\s]",
    r"\p{L}",
    r"\p{Lu}",
    r"\pN",
    r"\p{Greek}",
    "(?-u:\\w)",
    "(?-u:\\d)",
    "(?-u:\\s)",
    "(?-u:\\b)",
    "^",
    "$",
    "(?m:^)",
    "(?m:$)",
    "(?Rm:^)",
    "(?Rm:$)",
    r"\b",
    r"\B",
    r"\A",
    r"\z",
    r"\<",
    r"\>",
    r"\b{start-half}",
    r"\b{end-half}",
];

/// One generated pattern of depth at most `depth`.
fn pattern(rng: &mut Rng, depth: u32) -> String {
    if depth == 0 {
        return (*rng.pick(ATOMS)).to_owned();
    }
    match rng.below(9) {
        0 | 1 => (*rng.pick(ATOMS)).to_owned(),
        2 | 3 => format!("{}{}", pattern(rng, depth - 1), pattern(rng, depth - 1)),
        4 => format!("{}|{}", pattern(rng, depth - 1), pattern(rng, depth - 1)),
        5 => {
            let op = rng.pick(&["?", "*", "+", "{2}", "{1,3}", "{0,2}", "{2,}", "*?", "+?"]);
            format!("(?:{}){op}", pattern(rng, depth - 1))
        }
        6 => format!("(?i:{})", pattern(rng, depth - 1)),
        7 => format!("({})", pattern(rng, depth - 1)),
        _ => format!(
            "(?-i:{}{})",
            pattern(rng, depth - 1),
            pattern(rng, depth - 1)
        ),
    }
}

/// One generated haystack of up to 8 characters.
fn haystack(rng: &mut Rng) -> String {
    let len = rng.below(9);
    (0..len).map(|_| *rng.pick(ALPHABET)).collect()
}

/// Runs `f` with a QuickJS function `(pattern, strings) -> [bool]`.
fn with_js<R>(f: impl FnOnce(&Function<'_>) -> R) -> R {
    let runtime = Runtime::new().unwrap();
    let context = Context::full(&runtime).unwrap();
    context.with(|ctx| {
        let source = format!(
            "(function (p, xs) {{ var re = new RegExp(p, '{BROWSER_PATTERN_FLAGS}'); \
             return xs.map(function (x) {{ return re.test(x); }}); }})"
        );
        let test: Function = ctx.eval(source).unwrap();
        f(&test)
    })
}

/// The rule as the gateway runs it (light matcher or regex, whichever the policy picked):
/// does `check` report it broken on `password` for a "must not match" rule?
fn rule_fires(policy: &CompiledPolicy, password: &str) -> bool {
    check(policy, password, &CheckContext::new("", "en"))
        .iter()
        .any(|v| v.code() == "regex:rule")
}

#[test]
fn policy_rules_match_exactly_what_the_regex_matches() {
    let mut rng = Rng(0x0bad_5eed_1234_5678);
    let mut cases = 0;
    for round in 0..1500 {
        let mut source = pattern(&mut rng, 3);
        if round % 3 == 0 {
            source = format!("(?i){source}");
        }
        let Ok(server) = Regex::new(&source) else {
            continue;
        };
        let spec = PolicySpec {
            min_length: 8,
            common_blocklist: false,
            ban_personal_info: false,
            regex_rules: vec![RegexRule {
                name: "rule".into(),
                pattern: source.clone(),
                must_match: false,
                message_key: "rule".into(),
            }],
            ..PolicySpec::default()
        };
        // Refused only past the policy's tighter size cap (4 MiB against the default 10).
        let Ok(policy) = CompiledPolicy::compile(&spec) else {
            continue;
        };
        for _ in 0..12 {
            let password = haystack(&mut rng);
            cases += 1;
            assert_eq!(
                rule_fires(&policy, &password),
                server.is_match(&password),
                "pattern {source:?} on {password:?}"
            );
        }
    }
    assert!(cases > 12_000, "{cases} cases");
}

#[test]
fn derived_patterns_match_exactly_what_the_server_matches() {
    let mut rng = Rng(0x005e_ed0f_ba55_9a7e);
    let (mut patterns, mut refused, mut cases) = (0, 0, 0);
    let mut for_v8 = Vec::new();
    with_js(|test| {
        for round in 0..1500 {
            let mut source = pattern(&mut rng, 3);
            if round % 4 == 0 {
                source = format!("(?i){source}");
            }
            let Ok(server) = Regex::new(&source) else {
                continue;
            };
            let Some(js) = browser_pattern(&source) else {
                refused += 1;
                continue;
            };
            patterns += 1;
            let strings: Vec<String> = (0..12).map(|_| haystack(&mut rng)).collect();
            let answers: Vec<bool> = test
                .call((js.as_str(), strings.clone()))
                .unwrap_or_else(|e| panic!("{source:?} -> {js:?} does not run in QuickJS: {e}"));
            let expected: Vec<bool> = strings.iter().map(|s| server.is_match(s)).collect();
            for ((s, js_answer), server_answer) in strings.iter().zip(answers).zip(&expected) {
                cases += 1;
                assert_eq!(
                    *server_answer, js_answer,
                    "pattern {source:?} (browser {js:?}) on {s:?}"
                );
            }
            for_v8.push(
                serde_json::json!({ "source": source, "js": js, "strings": strings,
                "expected": expected }),
            );
        }
    });
    same_answers_in_v8(&for_v8);
    eprintln!("{patterns} patterns ({refused} refused), {cases} cases");
    // Most patterns have a browser form; the refused ones repeat repetitions or alternations.
    assert!(patterns > 1000, "{patterns} patterns, {refused} refused");
    assert!(cases > 12_000, "{cases} cases");
}

#[test]
fn acme_shop_name_rule_differs_from_a_naive_regexp_and_matches_the_server() {
    // `(?i)acme` is a syntax error as a JavaScript pattern; the derived one folds case.
    let js = browser_pattern("(?i)acme").unwrap();
    with_js(|test| {
        let strings = vec![
            "acme2024xyz!".to_owned(),
            "xACMEy".to_owned(),
            "acne".to_owned(),
        ];
        let answers: Vec<bool> = test.call((js.as_str(), strings)).unwrap();
        assert_eq!(answers, [true, true, false]);
    });
}

#[test]
fn unicode_word_boundary_and_digits_follow_the_server() {
    // JavaScript's own `\b`, `\d` and `\w` are ASCII-only even with the `u` flag.
    with_js(|test| {
        for (rust, s, expected) in [
            (r"\bжар\b", "жар", true),
            (r"\bжар", "ужар", false),
            (r"^\d+$", "٣٣", true),
            (r"^\w+$", "éß", true),
            (r"(?i)k", "\u{212A}", true),
        ] {
            let js = browser_pattern(rust).unwrap();
            let answers: Vec<bool> = test.call((js.as_str(), vec![s.to_owned()])).unwrap();
            assert_eq!(answers, [expected], "{rust} on {s:?}");
            assert_eq!(Regex::new(rust).unwrap().is_match(s), expected);
        }
    });
}

/// Runs `cases` (`{source, js, strings, expected}`) through V8 with `node`, when installed:
/// every answer must equal the server's. Prints why when skipped.
fn same_answers_in_v8(cases: &[serde_json::Value]) {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let script = format!(
        "let input = ''; process.stdin.on('data', (d) => input += d); \
         process.stdin.on('end', () => {{ let bad = []; \
         for (const c of JSON.parse(input)) {{ const re = new RegExp(c.js, '{BROWSER_PATTERN_FLAGS}'); \
           c.strings.forEach((s, i) => {{ if (re.test(s) !== c.expected[i]) \
             bad.push(JSON.stringify([c.source, s, c.expected[i]])); }}); }} \
         console.log(bad.slice(0, 5).join('\\n')); process.exit(bad.length ? 1 : 0); }});"
    );
    let child = Command::new("node")
        .arg("-e")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        println!("skipped V8: node is not installed");
        return;
    };
    let input = serde_json::to_vec(cases).unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "V8 differs from the server on (pattern, string, server answer):\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    println!("V8 agreed on {} patterns", cases.len());
}

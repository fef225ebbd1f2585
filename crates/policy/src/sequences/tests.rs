//! Differential tests: the light matcher against the `regex` crate, on generated patterns.

use regex::Regex;

use super::Sequences;

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

/// Characters where case folding and classes are subtle (Kelvin sign, long s, sharp s,
/// Greek sigmas, non-ASCII digits), plus line ends and a combining mark.
const ALPHABET: &[char] = &[
    'a', 'b', 'c', 'k', 'K', 's', 'S', 'x', '1', '2', '_', '-', ' ', '.', '\n', '\r', 'é', 'É',
    'ß', 'ẞ', 'ſ', '\u{212A}', 'Σ', 'σ', 'ς', '٣', '६', '日', '\u{0301}', '😀',
];

/// Pattern atoms: mostly what the light matcher takes, some it must refuse.
const ATOMS: &[&str] = &[
    "a",
    "b",
    "k",
    "s",
    "ß",
    "σ",
    "日",
    "😀",
    r"\.",
    r"\n",
    ".",
    "(?s:.)",
    r"\d",
    r"\w",
    r"\s",
    r"\S",
    "[a-c]",
    "[^a]",
    "[ks1]",
    r"\p{Greek}",
    "(?-u:\\w)",
    "(?-u:\\d)",
    "^",
    "$",
    r"\A",
    r"\z",
    "(?m:^)",
    r"\b",
    "",
];

fn pattern(rng: &mut Rng, depth: u32) -> String {
    if depth == 0 {
        return (*rng.pick(ATOMS)).to_owned();
    }
    match rng.below(10) {
        0 | 1 => (*rng.pick(ATOMS)).to_owned(),
        2..=4 => format!("{}{}", pattern(rng, depth - 1), pattern(rng, depth - 1)),
        5 => format!("{}|{}", pattern(rng, depth - 1), pattern(rng, depth - 1)),
        6 => {
            let op = rng.pick(&["{2}", "{0}", "{3}", "?", "+", "{1,2}"]);
            format!("(?:{}){op}", pattern(rng, depth - 1))
        }
        7 | 8 => format!("(?i:{})", pattern(rng, depth - 1)),
        _ => format!("({})", pattern(rng, depth - 1)),
    }
}

fn haystack(rng: &mut Rng) -> String {
    let len = rng.below(9);
    (0..len).map(|_| *rng.pick(ALPHABET)).collect()
}

/// Asserts the light matcher (when it takes `pattern`) answers like the regex; returns
/// whether it took it.
fn agrees(pattern: &str, haystacks: &[String]) -> bool {
    let Ok(regex) = Regex::new(pattern) else {
        assert!(Sequences::parse(pattern).is_none(), "{pattern:?} parses");
        return false;
    };
    let Some(light) = Sequences::parse(pattern) else {
        return false;
    };
    for haystack in haystacks {
        assert_eq!(
            light.is_match(haystack),
            regex.is_match(haystack),
            "pattern {pattern:?} on {haystack:?}"
        );
    }
    true
}

#[test]
fn generated_patterns_match_exactly_what_the_regex_matches() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut taken = 0;
    for _ in 0..3000 {
        let pattern = pattern(&mut rng, 3);
        let mut haystacks: Vec<String> = (0..40).map(|_| haystack(&mut rng)).collect();
        haystacks.push(String::new());
        taken += usize::from(agrees(&pattern, &haystacks));
    }
    // The generator must exercise the light path, not only the fallback.
    assert!(taken > 1000, "only {taken} patterns took the light matcher");
}

#[test]
fn tenant_style_rules_take_the_light_matcher_and_agree() {
    let haystacks: Vec<String> = [
        "",
        "acme",
        "ACME",
        "xAcMe1",
        "acm",
        "\u{212A}ey",
        "key",
        "1234",
        "12345",
        "٣٣٣٣",
        "shop",
        "SHOP!",
        "Zq8-acme00042-pass",
        "ſhop",
        "ab\nc",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    for pattern in [
        "(?i)acme",
        "(?i)acme00042",
        "acme",
        r"^\d{4}$",
        r"\d{4}",
        "(?i)acme|shop",
        "(?i)key",
        "^(?i:shop)",
        r"(?i)(acme)\d",
        "",
        "^$",
        "$",
        "a{0}b",
        r"(?-u:\w){2}",
    ] {
        assert!(agrees(pattern, &haystacks), "{pattern:?} kept the regex");
    }
}

#[test]
fn other_patterns_keep_the_regex() {
    for pattern in [
        r"(?i)a\s*c\s*m\s*e",
        r"\bacme\b",
        "(?m:^)a",
        "a+",
        "(ab|cd)e",
        "^^a",
        r"\d{300}",
    ] {
        assert!(Sequences::parse(pattern).is_none(), "{pattern:?}");
    }
}

//! [`browser_pattern`]: a regex rule's pattern rewritten as an ECMAScript pattern with exactly
//! the server's `is_match` semantics, so browsers and native apps can check the rule live.
//!
//! The Rust pattern is parsed with `regex-syntax` (the parser the `regex` crate itself uses)
//! into its HIR, where Unicode classes, `\d \w \s`, `.` and case folding (`(?i)`) are already
//! explicit code-point ranges. Those ranges are written out one by one (no `\p{…}`, `\d`,
//! `\w` or `i` flag in the output, whose meaning depends on the JavaScript engine's Unicode
//! version), anchors become input-start/end assertions or lookarounds over `\n`/`\r`, and
//! word boundaries become lookarounds over the expanded word class. The output is for
//! `new RegExp(pattern, 'u')`, used with `test()`. What cannot be expressed exactly (byte
//! classes beyond ASCII, non-UTF-8 literals), would be too long, or repeats (more than
//! once) a part that itself holds a repetition or an alternation yields `None`: that rule is
//! then checked by the server only. The last restriction is because browsers backtrack:
//! `(a|a)*`, `(a+)+` or `(a?){50}` take exponential time there (linear on the server), and
//! a tenant's pattern must not hang its users' tabs.

use std::fmt::Write;

use regex_syntax::ParserBuilder;
use regex_syntax::hir::{Class, Hir, HirKind, Look};

use crate::compiled::REGEX_NEST_LIMIT;

/// Longest browser pattern served, in bytes; a larger one is left to the server. A rule with
/// two Unicode word boundaries (four copies of the ~770-range `\w` class) fits.
pub const MAX_BROWSER_PATTERN_BYTES: usize = 128 * 1024;

/// Flags the browser pattern is compiled with: `new RegExp(pattern, BROWSER_PATTERN_FLAGS)`.
pub const BROWSER_PATTERN_FLAGS: &str = "u";

/// The ECMAScript pattern (for the `u` flag) that matches exactly the strings `pattern`
/// matches with the `regex` crate's `is_match`, or `None` when there is no exact and
/// reasonably sized equivalent (or `pattern` does not parse).
pub fn browser_pattern(pattern: &str) -> Option<String> {
    let hir = ParserBuilder::new()
        .nest_limit(REGEX_NEST_LIMIT)
        .build()
        .parse(pattern)
        .ok()?;
    let mut writer = Writer {
        out: String::new(),
        word_class: None,
    };
    writer.hir(&hir, false).ok()?;
    (writer.out.len() <= MAX_BROWSER_PATTERN_BYTES).then_some(writer.out)
}

/// Why a pattern has no browser equivalent (internal: the caller only sees `None`).
#[derive(Debug)]
struct Inexpressible;

/// Accumulates the output pattern.
struct Writer {
    /// The pattern written so far.
    out: String,
    /// Rust's Unicode `\w` as an ECMAScript class, built on first use.
    word_class: Option<String>,
}

impl Writer {
    /// Writes `hir`; `repeated` says an enclosing repetition may run it more than once.
    fn hir(&mut self, hir: &Hir, repeated: bool) -> Result<(), Inexpressible> {
        self.too_long()?;
        match hir.kind() {
            HirKind::Empty => self.out.push_str("(?:)"),
            HirKind::Literal(literal) => {
                let text = std::str::from_utf8(&literal.0).map_err(|_| Inexpressible)?;
                for c in text.chars() {
                    push_char(&mut self.out, c);
                }
            }
            HirKind::Class(class) => {
                let class = class_source(class)?;
                self.out.push_str(&class);
            }
            HirKind::Look(look) => {
                let look = self.look(*look)?;
                self.out.push_str(&look);
            }
            HirKind::Repetition(rep) => {
                if repeated {
                    return Err(Inexpressible);
                }
                let many = rep.max.is_none_or(|max| max > 1);
                self.out.push_str("(?:");
                self.hir(&rep.sub, many)?;
                self.out.push(')');
                match rep.max {
                    Some(max) if max == rep.min => write!(self.out, "{{{max}}}"),
                    Some(max) => write!(self.out, "{{{},{max}}}", rep.min),
                    None => write!(self.out, "{{{},}}", rep.min),
                }
                .map_err(|_| Inexpressible)?;
                if !rep.greedy {
                    self.out.push('?');
                }
            }
            // Captures do not change what matches; a plain group avoids name syntax.
            HirKind::Capture(capture) => {
                self.out.push_str("(?:");
                self.hir(&capture.sub, repeated)?;
                self.out.push(')');
            }
            HirKind::Concat(subs) => {
                // Alternations and repetitions group themselves, so parts need no group.
                for sub in subs {
                    self.hir(sub, repeated)?;
                }
            }
            HirKind::Alternation(subs) => {
                if repeated {
                    return Err(Inexpressible);
                }
                self.out.push_str("(?:");
                for (i, sub) in subs.iter().enumerate() {
                    if i > 0 {
                        self.out.push('|');
                    }
                    self.hir(sub, repeated)?;
                }
                self.out.push(')');
            }
        }
        self.too_long()
    }

    /// Fails once the output is past the cap, so huge patterns stop early.
    fn too_long(&self) -> Result<(), Inexpressible> {
        if self.out.len() > MAX_BROWSER_PATTERN_BYTES {
            Err(Inexpressible)
        } else {
            Ok(())
        }
    }

    /// Rust's Unicode `\w` as an explicit class.
    fn unicode_word(&mut self) -> Result<String, Inexpressible> {
        if let Some(class) = &self.word_class {
            return Ok(class.clone());
        }
        let hir = ParserBuilder::new()
            .build()
            .parse(r"\w")
            .map_err(|_| Inexpressible)?;
        let HirKind::Class(class) = hir.kind() else {
            return Err(Inexpressible);
        };
        let class = class_source(class)?;
        self.word_class = Some(class.clone());
        Ok(class)
    }

    /// One look-around assertion with the `regex` crate's definition (see [`Look`]).
    fn look(&mut self, look: Look) -> Result<String, Inexpressible> {
        const ASCII_WORD: &str = "[0-9A-Z_a-z]";
        let word = |w: &mut Self, unicode: bool| {
            if unicode {
                w.unicode_word()
            } else {
                Ok(ASCII_WORD.to_owned())
            }
        };
        Ok(match look {
            // Without the `m` flag, `^` and `$` are the start and end of the input.
            Look::Start => "^".to_owned(),
            Look::End => "$".to_owned(),
            Look::StartLF => r"(?<![^\n])".to_owned(),
            Look::EndLF => r"(?![^\n])".to_owned(),
            Look::StartCRLF => r"(?:^|(?<=\n)|(?<=\r)(?!\n))".to_owned(),
            Look::EndCRLF => r"(?:$|(?=\r)|(?=\n)(?<!\r))".to_owned(),
            Look::WordAscii | Look::WordUnicode => {
                let w = word(self, look == Look::WordUnicode)?;
                format!("(?:(?<={w})(?!{w})|(?<!{w})(?={w}))")
            }
            Look::WordAsciiNegate | Look::WordUnicodeNegate => {
                let w = word(self, look == Look::WordUnicodeNegate)?;
                format!("(?:(?<={w})(?={w})|(?<!{w})(?!{w}))")
            }
            Look::WordStartAscii | Look::WordStartUnicode => {
                let w = word(self, look == Look::WordStartUnicode)?;
                format!("(?<!{w})(?={w})")
            }
            Look::WordEndAscii | Look::WordEndUnicode => {
                let w = word(self, look == Look::WordEndUnicode)?;
                format!("(?<={w})(?!{w})")
            }
            Look::WordStartHalfAscii | Look::WordStartHalfUnicode => {
                let w = word(self, look == Look::WordStartHalfUnicode)?;
                format!("(?<!{w})")
            }
            Look::WordEndHalfAscii | Look::WordEndHalfUnicode => {
                let w = word(self, look == Look::WordEndHalfUnicode)?;
                format!("(?!{w})")
            }
        })
    }
}

/// A class as `[…]` of explicit ranges. An empty class stays `[]`, which matches nothing in
/// both engines. Byte classes (`(?-u)`) are exact only within ASCII.
fn class_source(class: &Class) -> Result<String, Inexpressible> {
    let mut out = String::from("[");
    match class {
        Class::Unicode(class) => {
            for range in class.ranges() {
                push_range(&mut out, range.start(), range.end());
            }
        }
        Class::Bytes(class) => {
            for range in class.ranges() {
                if !range.end().is_ascii() {
                    return Err(Inexpressible);
                }
                push_range(&mut out, char::from(range.start()), char::from(range.end()));
            }
        }
    }
    out.push(']');
    Ok(out)
}

/// Appends one class range `start-end` (or the single character).
fn push_range(out: &mut String, start: char, end: char) {
    push_char(out, start);
    if end != start {
        out.push('-');
        push_char(out, end);
    }
}

/// Appends `c`: ASCII letters and digits as themselves, anything else as `\u{…}`, which means
/// the code point itself both inside and outside a class under the `u` flag.
fn push_char(out: &mut String, c: char) {
    if c.is_ascii_alphanumeric() {
        out.push(c);
    } else {
        // Writing to a String cannot fail.
        let _ = write!(out, "\\u{{{:X}}}", u32::from(c));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_folding_becomes_explicit_classes() {
        let p = browser_pattern("(?i)acme").unwrap();
        assert!(!p.contains("(?i"), "{p}");
        assert!(p.contains("[Aa]"), "{p}");
    }

    #[test]
    fn patterns_that_backtrack_exponentially_are_refused() {
        assert_eq!(browser_pattern("(a+)+b"), None);
        assert_eq!(browser_pattern("(a|a)*{1000}"), None);
        assert_eq!(browser_pattern("(?:a?){50}b"), None);
        assert!(browser_pattern("(?:ab|cd)?x+").is_some());
        assert!(browser_pattern(r"(?:\w\d)+").is_some());
    }

    #[test]
    fn non_ascii_byte_classes_are_refused() {
        assert!(browser_pattern(r"(?-u:\w)").is_some());
        assert_eq!(browser_pattern("(?-u:[^a])"), None);
    }
}

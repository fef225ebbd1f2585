//! [`Sequences`]: a light matcher for regex rules that are fixed runs of characters, like
//! `(?i)acme`, `^\d{4}$` or `(?i)acme|shop`, with exactly the `regex` crate's `is_match`.
//!
//! A compiled `regex::Regex` costs 12–23 KiB even for `(?i)acme00000` (its NFAs, literal
//! prefilter and engine set-up) plus a lazy-DFA cache per thread once used, so 10,000
//! tenants with distinct patterns would need ~290 MiB. Most tenant rules are brand names and
//! digit runs: as a list of code-point sets (from `regex-syntax`'s HIR, where `(?i)` and
//! `\d` are already explicit ranges) such a rule takes a few hundred bytes. The search is
//! O(password × pattern) with both bounded (the pattern by [`crate::MAX_PATTERN_BYTES`] and
//! [`MAX_SETS`]), so it stays linear-time in the password like the regex it replaces.

use regex_syntax::ParserBuilder;
use regex_syntax::hir::{Class, Hir, HirKind, Look};

use crate::compiled::REGEX_NEST_LIMIT;

/// Most character sets a pattern may expand to (after fixed repetitions such as `\d{4}`);
/// a longer one keeps the regex engine, so the search stays small.
pub(crate) const MAX_SETS: usize = 256;

/// A pattern that is one or more alternatives, each a fixed run of character sets,
/// optionally anchored at the start (`^`, `\A`) and the end (`$`, `\z`).
#[derive(Debug)]
pub(crate) struct Sequences {
    /// The pattern matches where any of these matches.
    alternatives: Box<[Sequence]>,
}

/// One alternative: `sets[i]` must hold the i-th character from where it starts.
#[derive(Debug)]
struct Sequence {
    /// Only a match starting at the first character counts.
    at_start: bool,
    /// Only a match ending at the last character counts.
    at_end: bool,
    /// One set per character matched.
    sets: Box<[CharSet]>,
}

/// The characters one position accepts.
#[derive(Debug, Clone)]
enum CharSet {
    /// Exactly this character (no allocation for plain literals).
    One(char),
    /// Any character in these sorted, non-overlapping inclusive ranges.
    Ranges(Box<[(char, char)]>),
}

impl CharSet {
    fn contains(&self, c: char) -> bool {
        match self {
            CharSet::One(one) => *one == c,
            CharSet::Ranges(ranges) => ranges
                .binary_search_by(|&(lo, hi)| {
                    if hi < c {
                        std::cmp::Ordering::Less
                    } else if lo > c {
                        std::cmp::Ordering::Greater
                    } else {
                        std::cmp::Ordering::Equal
                    }
                })
                .is_ok(),
        }
    }
}

impl Sequences {
    /// The light matcher for `pattern`, or `None` when the pattern is anything else
    /// (repetitions of varying length, nested alternations, other assertions, byte classes
    /// beyond ASCII) or does not parse: such a rule keeps the regex engine.
    pub(crate) fn parse(pattern: &str) -> Option<Sequences> {
        let hir = ParserBuilder::new()
            .nest_limit(REGEX_NEST_LIMIT)
            .build()
            .parse(pattern)
            .ok()?;
        let hir = without_captures(&hir);
        let branches = match hir.kind() {
            HirKind::Alternation(branches) => branches.as_slice(),
            _ => std::slice::from_ref(hir),
        };
        let mut alternatives = Vec::with_capacity(branches.len());
        let mut total = 0;
        for branch in branches {
            let sequence = Sequence::parse(branch)?;
            total += sequence.sets.len().max(1);
            if total > MAX_SETS {
                return None;
            }
            alternatives.push(sequence);
        }
        Some(Sequences {
            alternatives: alternatives.into_boxed_slice(),
        })
    }

    /// Does `haystack` contain a match, as `regex::Regex::is_match` would answer?
    pub(crate) fn is_match(&self, haystack: &str) -> bool {
        self.alternatives.iter().any(|s| s.is_match(haystack))
    }
}

impl Sequence {
    fn parse(branch: &Hir) -> Option<Sequence> {
        let branch = without_captures(branch);
        let parts = match branch.kind() {
            HirKind::Concat(parts) => parts.as_slice(),
            _ => std::slice::from_ref(branch),
        };
        let mut sequence = Sequence {
            at_start: false,
            at_end: false,
            sets: Box::default(),
        };
        let mut sets = Vec::new();
        let last = parts.len().saturating_sub(1);
        for (index, part) in parts.iter().enumerate() {
            match part.kind() {
                HirKind::Look(Look::Start) if index == 0 => sequence.at_start = true,
                HirKind::Look(Look::End) if index == last => sequence.at_end = true,
                _ => push_sets(part, &mut sets)?,
            }
        }
        sequence.sets = sets.into_boxed_slice();
        Some(sequence)
    }

    fn is_match(&self, haystack: &str) -> bool {
        if self.at_start {
            return self.matches_at(haystack);
        }
        haystack
            .char_indices()
            .map(|(at, _)| at)
            .chain([haystack.len()])
            .any(|at| self.matches_at(&haystack[at..]))
    }

    /// Does a match start at the beginning of `rest`?
    fn matches_at(&self, rest: &str) -> bool {
        let mut chars = rest.chars();
        for set in &self.sets {
            match chars.next() {
                Some(c) if set.contains(c) => {}
                _ => return false,
            }
        }
        !self.at_end || chars.as_str().is_empty()
    }
}

/// The HIR inside any capture groups (`is_match` ignores captures).
fn without_captures(mut hir: &Hir) -> &Hir {
    while let HirKind::Capture(capture) = hir.kind() {
        hir = &capture.sub;
    }
    hir
}

/// Appends the sets `hir` matches, one per character, or `None` if it is not a fixed run.
fn push_sets(hir: &Hir, sets: &mut Vec<CharSet>) -> Option<()> {
    match hir.kind() {
        HirKind::Empty => {}
        HirKind::Literal(literal) => {
            sets.extend(
                std::str::from_utf8(&literal.0)
                    .ok()?
                    .chars()
                    .map(CharSet::One),
            );
        }
        HirKind::Class(Class::Unicode(class)) => {
            sets.push(set_of(class.ranges().iter().map(|r| (r.start(), r.end()))));
        }
        HirKind::Class(Class::Bytes(class)) if class.is_ascii() => {
            // An ASCII byte is a whole character, so `(?-u:\w)` matches like its char twin.
            sets.push(set_of(
                class
                    .ranges()
                    .iter()
                    .map(|r| (char::from(r.start()), char::from(r.end()))),
            ));
        }
        HirKind::Capture(capture) => push_sets(&capture.sub, sets)?,
        HirKind::Concat(parts) => {
            for part in parts {
                push_sets(part, sets)?;
            }
        }
        HirKind::Repetition(rep) if rep.max == Some(rep.min) => {
            let start = sets.len();
            push_sets(&rep.sub, sets)?;
            let once = sets.len() - start;
            let times = usize::try_from(rep.min).ok()?;
            if times == 0 {
                sets.truncate(start);
            } else if start + once.checked_mul(times)? > MAX_SETS {
                return None;
            } else {
                for _ in 1..times {
                    sets.extend_from_within(start..start + once);
                }
            }
        }
        _ => return None,
    }
    (sets.len() <= MAX_SETS).then_some(())
}

fn set_of(ranges: impl Iterator<Item = (char, char)>) -> CharSet {
    let ranges: Box<[(char, char)]> = ranges.collect();
    match *ranges {
        [(lo, hi)] if lo == hi => CharSet::One(lo),
        _ => CharSet::Ranges(ranges),
    }
}

#[cfg(test)]
mod tests;

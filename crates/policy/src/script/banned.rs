//! Words a password rule may not contain: the constructs that let a script hide its own
//! failure.
//!
//! QuickJS makes only the interrupt uncatchable: `try`/`catch` can catch out-of-memory and
//! stack overflow, and a promise (an async function, `new Promise`, `import()`) turns any
//! error into a rejection nobody looks at. A script that swallows the error of a memory bomb
//! and returns `[]` would get the password accepted. So a script whose source contains one
//! of these words anywhere is refused at compile time, before any of it runs.
//!
//! The scan is deliberately dumb: whole ASCII words, case-sensitive, strings and comments
//! included. It can refuse a harmless script (`"try again"` in a string), never accept a
//! script that uses the construct, since there is no lexer to disagree with QuickJS's.
//! Keywords spelled with `\u` escapes are syntax errors in JavaScript; an escaped
//! *identifier* such as `Promis\u0065` still parses, which is why the sandbox also deletes
//! the `Promise` global and every other built-in that hands out a promise.

/// A banned word and why, as shown to the product owner.
struct Banned {
    word: &'static str,
    reason: &'static str,
}

const HIDES_ERRORS: &str = "a rule must not hide errors: out of memory or a stack overflow \
                            must reject the password, so nothing may catch them";
const PROMISES: &str = "promises turn errors into rejections nobody sees, and no promise \
                        callback ever runs here; write `validate` as a plain function";

const BANNED: &[Banned] = &[
    Banned {
        word: "try",
        reason: HIDES_ERRORS,
    },
    Banned {
        word: "catch",
        reason: HIDES_ERRORS,
    },
    Banned {
        word: "finally",
        reason: HIDES_ERRORS,
    },
    Banned {
        word: "async",
        reason: PROMISES,
    },
    Banned {
        word: "await",
        reason: PROMISES,
    },
    Banned {
        word: "Promise",
        reason: PROMISES,
    },
    Banned {
        word: "import",
        reason: "there are no modules to import, and `import()` returns a promise",
    },
];

/// The first banned word in `source`, as a compile message ending in `(line N)` (the
/// tenant crate reads that suffix to point at the YAML line).
pub(crate) fn first_banned_word(source: &str) -> Option<String> {
    let bytes = source.as_bytes();
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut start = 0;
    while start < bytes.len() {
        if !is_word(bytes[start]) {
            start += 1;
            continue;
        }
        let end = bytes[start..]
            .iter()
            .position(|&b| !is_word(b))
            .map_or(bytes.len(), |len| start + len);
        // Word bytes are ASCII, so `start..end` is on character boundaries.
        let word = &source[start..end];
        if let Some(banned) = BANNED.iter().find(|b| b.word == word) {
            let line = 1 + bytes[..start].iter().filter(|&&b| b == b'\n').count();
            return Some(format!(
                "`{word}` is not allowed in password rules: {}; the word is refused anywhere \
                 in the script, comments and strings included (line {line})",
                banned.reason
            ));
        }
        start = end;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::first_banned_word;

    #[test]
    fn each_banned_word_is_found_with_its_line() {
        for word in [
            "try", "catch", "finally", "async", "await", "Promise", "import",
        ] {
            let source = format!("function validate() {{\n  var x = 1;\n  {word}\n}}");
            let message = first_banned_word(&source).unwrap_or_default();
            assert!(
                message.starts_with(&format!("`{word}` is not allowed")),
                "{message}"
            );
            assert!(message.ends_with("(line 3)"), "{message}");
        }
    }

    #[test]
    fn only_whole_words_count() {
        for harmless in [
            "var country = 'retry'; // tryst, catchy, Promises, important, asynchronous",
            "var try_count = 0, $try2 = 1, promise = 'async_'; var Try = 'Catch';",
            "var s = 'entry point'; var t = 'entryway';",
        ] {
            assert_eq!(first_banned_word(harmless), None, "{harmless}");
        }
    }

    #[test]
    fn words_in_strings_and_comments_count_too() {
        let message = first_banned_word("// try harder\nfunction validate() { return []; }");
        assert!(message.is_some_and(|m| m.ends_with("(line 1)")));
        let message = first_banned_word("var hint = \"please try again\";");
        assert!(message.is_some_and(|m| m.starts_with("`try`")));
        // Next to non-ASCII letters or `$` the word still counts: a false refusal at worst.
        assert!(first_banned_word("var é = 1;éPromise").is_some());
        assert!(first_banned_word("$catch").is_some());
    }

    #[test]
    fn the_first_occurrence_is_reported() {
        let message =
            first_banned_word("var a;\nawait b;\ntry {} catch (e) {}").unwrap_or_default();
        assert!(
            message.starts_with("`await`") && message.ends_with("(line 2)"),
            "{message}"
        );
    }
}

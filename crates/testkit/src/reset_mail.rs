//! What a reset mail carries: the hosted link, its token, the 8-digit code. Each reads
//! decoded text (see [`crate::mime`]).

const CONFIRM: &str = "/reset/confirm?token=";

/// The first hosted reset link (`http…/reset/confirm?token=…`) in `text`.
pub fn link_in(text: &str) -> Option<String> {
    let start = text.find("http")?;
    let rest = &text[start..];
    let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    let link = &rest[..end];
    link.contains(CONFIRM).then(|| link.to_owned())
}

/// The token of a reset link (empty when it has none).
pub fn token_of(link: &str) -> String {
    let after = link.split("token=").nth(1).unwrap_or_default();
    after.split('&').next().unwrap_or_default().to_owned()
}

/// The token after the first `/reset/confirm?token=` in `text` (possibly empty).
pub fn token_in(text: &str) -> Option<String> {
    let start = text.find(CONFIRM)? + CONFIRM.len();
    Some(
        text[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect(),
    )
}

/// The first run of exactly 8 digits in `text` that no letter or digit touches.
pub fn code_in(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    chars.windows(8).enumerate().find_map(|(i, w)| {
        let before_ok = i == 0 || !chars[i - 1].is_ascii_alphanumeric();
        let after_ok = chars.get(i + 8).is_none_or(|c| !c.is_ascii_alphanumeric());
        (before_ok && after_ok && w.iter().all(char::is_ascii_digit)).then(|| w.iter().collect())
    })
}

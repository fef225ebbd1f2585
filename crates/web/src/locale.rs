//! Locale negotiation for pages and API answers: an explicit `locale` or `ui_locales`
//! parameter first, then `Accept-Language` (by quality), then the tenant's default. A
//! candidate matches a supported locale exactly (case-insensitively) or by its language
//! (`fr-CA` → `fr`).

/// Picks the locale from `supported` for the given preferences; `default` when none fits.
pub fn negotiate(
    supported: &[String],
    default: &str,
    explicit: &[&str],
    accept_language: Option<&str>,
) -> String {
    let mut candidates: Vec<String> = Vec::new();
    for value in explicit {
        // `ui_locales` (OIDC) is a space-separated list in order of preference.
        candidates.extend(value.split_whitespace().map(str::to_owned));
    }
    if let Some(header) = accept_language {
        candidates.extend(accept_language_tags(header));
    }
    for candidate in &candidates {
        if let Some(found) = match_one(supported, candidate) {
            return found.clone();
        }
    }
    default.to_owned()
}

fn match_one<'a>(supported: &'a [String], candidate: &str) -> Option<&'a String> {
    if candidate.is_empty() || candidate.len() > 35 {
        return None;
    }
    if let Some(exact) = supported.iter().find(|s| s.eq_ignore_ascii_case(candidate)) {
        return Some(exact);
    }
    let language = candidate.split(['-', '_']).next().unwrap_or(candidate);
    supported.iter().find(|s| {
        s.split('-')
            .next()
            .is_some_and(|l| l.eq_ignore_ascii_case(language))
    })
}

/// The tags of an `Accept-Language` header, best first; `q=0` and `*` are dropped, at most
/// 16 entries are read.
fn accept_language_tags(header: &str) -> Vec<String> {
    let mut tags: Vec<(u16, usize, String)> = header
        .split(',')
        .take(16)
        .enumerate()
        .filter_map(|(index, part)| {
            let mut pieces = part.split(';');
            let tag = pieces.next()?.trim();
            let quality = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1000), parse_quality)?;
            (quality > 0 && !tag.is_empty() && tag != "*").then(|| (quality, index, tag.to_owned()))
        })
        .collect();
    tags.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    tags.into_iter().map(|(_, _, tag)| tag).collect()
}

/// `q` in thousandths; `None` when malformed.
fn parse_quality(text: &str) -> Option<u16> {
    let value: f32 = text.trim().parse().ok()?;
    (0.0..=1.0)
        .contains(&value)
        .then(|| (value * 1000.0).round() as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn supported() -> Vec<String> {
        ["en", "fr", "de", "pt-BR"].map(String::from).to_vec()
    }

    #[test]
    fn explicit_parameter_wins_over_the_header() {
        assert_eq!(negotiate(&supported(), "en", &["de"], Some("fr")), "de");
    }

    #[test]
    fn ui_locales_is_a_preference_list() {
        assert_eq!(negotiate(&supported(), "en", &["ja fr-CA"], None), "fr");
    }

    #[test]
    fn accept_language_is_read_by_quality() {
        let header = "ja;q=0.9, de;q=0.5, fr;q=0.8, en;q=0";
        assert_eq!(negotiate(&supported(), "en", &[], Some(header)), "fr");
    }

    #[test]
    fn region_falls_back_to_language_and_case_is_ignored() {
        assert_eq!(negotiate(&supported(), "en", &["PT-br"], None), "pt-BR");
        assert_eq!(negotiate(&supported(), "en", &["pt-PT"], None), "pt-BR");
    }

    #[test]
    fn nothing_usable_gives_the_default() {
        assert_eq!(negotiate(&supported(), "fr", &["xx"], Some("*, ja")), "fr");
        assert_eq!(negotiate(&supported(), "fr", &[], Some("de;q=0")), "fr");
    }
}

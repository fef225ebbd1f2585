//! WCAG 2.x contrast of the colour pairs the built-in themes actually draw with a tenant's
//! branding keys, on the pages and in the mails, checked at validation so an unreadable
//! combination is refused with the key to change instead of shipped.
//!
//! Each theme puts every branding colour against surfaces it fixes itself (the white card,
//! a dark panel, a white mail card), so every pair below has exactly one tenant key; an
//! unset key stands for the theme's own value, which passes. The tables mirror
//! `themes/<name>/static/theme.css` and `templates/email/base.html`; change them together.

use crate::config::Branding;
use crate::values::HexColor;

use super::Collector;

/// Body text (WCAG 1.4.3, normal size).
const TEXT: f64 = 4.5;
/// Large text (at least 24 px, or 18.66 px bold) and control boundaries (WCAG 1.4.11).
const LARGE_OR_CONTROL: f64 = 3.0;

/// A branding colour key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Primary,
    Background,
    Text,
}

impl Key {
    fn name(self) -> &'static str {
        match self {
            Key::Primary => "primary_color",
            Key::Background => "background_color",
            Key::Text => "text_color",
        }
    }

    fn value(self, branding: &Branding) -> Option<&HexColor> {
        match self {
            Key::Primary => branding.primary_color.as_ref(),
            Key::Background => branding.background_color.as_ref(),
            Key::Text => branding.text_color.as_ref(),
        }
    }
}

/// Which side of the pair the tenant's key is on.
#[derive(Debug, Clone, Copy)]
enum Side {
    /// The key's colour is drawn on the fixed colour (text on a card).
    On(&'static str),
    /// The fixed colour is drawn on the key's colour (a white label on the button).
    Under(&'static str),
}

/// One place a theme draws a branding colour against a colour it fixes itself.
#[derive(Debug, Clone, Copy)]
struct Pair {
    key: Key,
    side: Side,
    /// Where users see it, for the message.
    what: &'static str,
    min: f64,
}

const fn on(key: Key, fixed: &'static str, what: &'static str, min: f64) -> Pair {
    Pair {
        key,
        side: Side::On(fixed),
        what,
        min,
    }
}

const fn under(key: Key, fixed: &'static str, what: &'static str, min: f64) -> Pair {
    Pair {
        key,
        side: Side::Under(fixed),
        what,
        min,
    }
}

/// `default`: text on the white page card and the white mail card, white button labels.
const DEFAULT: &[Pair] = &[
    on(
        Key::Text,
        "#ffffff",
        "body text on the page card and the mail card",
        TEXT,
    ),
    on(Key::Text, "#f8fafc", "the password rules box", TEXT),
    under(
        Key::Primary,
        "#ffffff",
        "the white button label (page and mail)",
        TEXT,
    ),
    on(
        Key::Primary,
        "#ffffff",
        "the button and focused field edge on the card",
        LARGE_OR_CONTROL,
    ),
];

/// `bank`: text on the white box and mail frame, the notice on the page background,
/// primary as heading/link colour on white and as the top bar and button behind white.
const BANK: &[Pair] = &[
    on(
        Key::Text,
        "#ffffff",
        "body text in the form box and the mail",
        TEXT,
    ),
    on(Key::Text, "#f7f7f5", "the password rules box", TEXT),
    under(
        Key::Background,
        "#3d3d3d",
        "the grey notice under the form",
        TEXT,
    ),
    under(
        Key::Primary,
        "#ffffff",
        "white text on the top bar, the button and the mail button",
        TEXT,
    ),
    on(
        Key::Primary,
        "#ffffff",
        "links, headings and the show-password toggle on white",
        TEXT,
    ),
];

/// `fitness`: light text on the dark panel and fields, the dark button label, links in
/// the primary colour on the panel. Its mail uses fixed dark text on a white card.
const FITNESS: &[Pair] = &[
    on(Key::Text, "#141821", "body text on the dark panel", TEXT),
    on(
        Key::Text,
        "#1c212d",
        "typed text and the rules box on the dark fields",
        TEXT,
    ),
    under(
        Key::Primary,
        "#0b0d12",
        "the dark button label (page and mail)",
        TEXT,
    ),
    on(Key::Primary, "#141821", "links on the dark panel", TEXT),
];

/// The pairs of a built-in theme; `None` for a theme shipped in an override folder.
fn pairs(theme: &str) -> Option<&'static [Pair]> {
    match theme {
        "default" => Some(DEFAULT),
        "bank" => Some(BANK),
        "fitness" => Some(FITNESS),
        _ => None,
    }
}

/// Refuses every pair of `theme` below its minimum, at the key to change.
pub(crate) fn check(c: &mut Collector<'_>, theme: &str, branding: &Branding) {
    let Some(pairs) = pairs(theme) else {
        if [Key::Primary, Key::Background, Key::Text]
            .iter()
            .any(|k| k.value(branding).is_some())
        {
            c.warn(
                "theme",
                format!(
                    "colour contrast is checked for the built-in themes only; check theme `{theme}` by hand"
                ),
            );
        }
        return;
    };
    for pair in pairs {
        let Some(colour) = pair.key.value(branding) else {
            continue;
        };
        let Some(ours) = rgb(colour.as_str()) else {
            continue;
        };
        let (fixed, fg, bg) = match pair.side {
            Side::On(fixed) => (fixed, colour.as_str(), fixed),
            Side::Under(fixed) => (fixed, fixed, colour.as_str()),
        };
        let Some(theirs) = rgb(fixed) else {
            continue;
        };
        let measured = ratio(ours, theirs);
        if measured < pair.min {
            c.error(
                &format!("branding.{}", pair.key.name()),
                format!(
                    "{fg} on {bg} ({}) has a contrast of {:.2}:1, below the {}:1 WCAG needs \
                     for {}; change branding.{} (theme `{theme}`)",
                    pair.what,
                    floor2(measured),
                    pair.min,
                    if pair.min >= TEXT {
                        "text"
                    } else {
                        "large text and controls"
                    },
                    pair.key.name(),
                ),
            );
        }
    }
}

/// Two decimals rounded down, so a refused 4.499 never prints as "4.50".
fn floor2(x: f64) -> f64 {
    (x * 100.0).floor() / 100.0
}

/// `#rrggbb` (validated [`HexColor`]s are always in this form) as channels.
fn rgb(hex: &str) -> Option<[u8; 3]> {
    let h = hex.strip_prefix('#')?;
    if h.len() != 6 {
        return None;
    }
    let byte = |i: usize| h.get(i..i + 2).and_then(|s| u8::from_str_radix(s, 16).ok());
    Some([byte(0)?, byte(2)?, byte(4)?])
}

/// WCAG 2.x relative luminance of an sRGB colour.
fn luminance([r, g, b]: [u8; 3]) -> f64 {
    let lin = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
}

/// WCAG 2.x contrast ratio, 1 to 21, the same either way round.
fn ratio(a: [u8; 3], b: [u8; 3]) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    let (hi, lo) = if la >= lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

#[cfg(test)]
mod tests;

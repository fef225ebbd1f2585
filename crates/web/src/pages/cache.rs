//! Hosted pages rendered once per tenant configuration × page × locale × form and spliced
//! per request (issue 17 item 3): the request form differs between two visitors only in its
//! CSP nonce and CSRF token, so those two are the only work a repeated page does.
//!
//! A page is rendered with two per-process random markers standing in for the nonce and the
//! token, split at them, and kept. Anything else that varies per request (the request id)
//! makes the page uncacheable: if its marker shows in the output, the page is rendered
//! directly every time. Bounded: at [`MAX_PAGES`] entries or [`MAX_BYTES`] the cache starts
//! over (a refill costs one render per page).

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use passgate_theme::Page;

use crate::security::headers::CspSources;

/// Most pages kept.
pub const MAX_PAGES: usize = 2048;
/// Most bytes of HTML kept.
pub const MAX_BYTES: usize = 32 * 1024 * 1024;

/// What makes two renderings of a page identical but for the nonce and the token.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageKey {
    /// SHA-256 of the tenant's active YAML (a new version is a new key).
    pub config: String,
    /// The template.
    pub page: Page,
    /// The HTTP status.
    pub status: u16,
    /// The negotiated locale.
    pub locale: String,
    /// Where the form posts.
    pub form_action: String,
    /// The hidden fields besides the token (client id, locale, redirect URI).
    pub hidden: Vec<(String, String)>,
}

/// One piece of a kept page.
#[derive(Debug)]
enum Part {
    Html(String),
    Nonce,
    Csrf,
}

/// A rendered page with holes for the nonce and the CSRF token.
#[derive(Debug)]
pub struct SplicedPage {
    parts: Vec<Part>,
    /// The CSP sources the page needs (its logo origin, its form targets).
    pub csp: CspSources,
    len: usize,
}

impl SplicedPage {
    /// The page with `nonce` and `csrf` in their places (both base64url: nothing to escape).
    pub fn fill(&self, nonce: &str, csrf: &str) -> String {
        let mut html = String::with_capacity(self.len + 4 * (nonce.len() + csrf.len()));
        for part in &self.parts {
            match part {
                Part::Html(text) => html.push_str(text),
                Part::Nonce => html.push_str(nonce),
                Part::Csrf => html.push_str(csrf),
            }
        }
        html
    }
}

/// The per-process markers a page is rendered with before it is split.
#[derive(Debug, Clone)]
pub struct Markers {
    /// Stands in for the CSP nonce.
    pub nonce: String,
    /// Stands in for the CSRF token.
    pub csrf: String,
    /// Stands in for the request id: if it shows, the page is not kept.
    pub request_id: String,
}

/// The kept pages.
#[derive(Debug)]
pub struct RenderedPages {
    markers: Option<Markers>,
    pages: RwLock<Kept>,
}

#[derive(Debug, Default)]
struct Kept {
    pages: HashMap<PageKey, Arc<SplicedPage>>,
    bytes: usize,
}

impl Default for RenderedPages {
    fn default() -> Self {
        Self::new()
    }
}

impl RenderedPages {
    /// An empty cache with fresh markers (none, so nothing is kept, if the OS random source
    /// fails: every page is then rendered directly).
    pub fn new() -> Self {
        let marker = |kind: char| {
            crate::security::random_b64::<18>()
                .map(|r| format!("pgslot{kind}{}", r.replace(['-', '_'], "x")))
        };
        let markers = match (marker('n'), marker('c'), marker('r')) {
            (Some(nonce), Some(csrf), Some(request_id)) => Some(Markers {
                nonce,
                csrf,
                request_id,
            }),
            _ => None,
        };
        Self {
            markers,
            pages: RwLock::new(Kept::default()),
        }
    }

    /// A cache that keeps nothing: every page is rendered directly (to compare against).
    pub fn disabled() -> Self {
        Self {
            markers: None,
            pages: RwLock::new(Kept::default()),
        }
    }

    /// The markers to render a page with, if pages can be kept.
    pub fn markers(&self) -> Option<&Markers> {
        self.markers.as_ref()
    }

    /// The kept page for `key`.
    pub fn get(&self, key: &PageKey) -> Option<Arc<SplicedPage>> {
        let kept = self.pages.read().unwrap_or_else(PoisonError::into_inner);
        kept.pages.get(key).cloned()
    }

    /// Splits `html` (rendered with [`RenderedPages::markers`]) and keeps it under `key`;
    /// `None` when the page cannot be kept (a request id in it, or no markers).
    pub fn keep(&self, key: PageKey, html: &str, csp: CspSources) -> Option<Arc<SplicedPage>> {
        let markers = self.markers.as_ref()?;
        if html.contains(&markers.request_id) {
            return None;
        }
        let page = Arc::new(split(html, markers, csp));
        let mut kept = self.pages.write().unwrap_or_else(PoisonError::into_inner);
        if kept.pages.len() >= MAX_PAGES || kept.bytes + page.len > MAX_BYTES {
            *kept = Kept::default();
        }
        kept.bytes += page.len;
        kept.pages.insert(key, Arc::clone(&page));
        Some(page)
    }

    /// How many pages are kept.
    pub fn len(&self) -> usize {
        let kept = self.pages.read().unwrap_or_else(PoisonError::into_inner);
        kept.pages.len()
    }

    /// Whether no page is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn split(html: &str, markers: &Markers, csp: CspSources) -> SplicedPage {
    let mut parts = Vec::new();
    let mut rest = html;
    loop {
        let nonce = rest.find(&markers.nonce).map(|at| (at, Part::Nonce));
        let csrf = rest.find(&markers.csrf).map(|at| (at, Part::Csrf));
        let next = match (nonce, csrf) {
            (Some(n), Some(c)) => Some(if n.0 < c.0 { n } else { c }),
            (n, c) => n.or(c),
        };
        let Some((at, hole)) = next else {
            parts.push(Part::Html(rest.to_owned()));
            break;
        };
        parts.push(Part::Html(rest[..at].to_owned()));
        let marker_len = match hole {
            Part::Nonce => markers.nonce.len(),
            _ => markers.csrf.len(),
        };
        parts.push(hole);
        rest = &rest[at + marker_len..];
    }
    let len = parts
        .iter()
        .map(|p| match p {
            Part::Html(text) => text.len(),
            _ => 0,
        })
        .sum();
    SplicedPage { parts, csp, len }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn key(n: usize) -> PageKey {
        PageKey {
            config: format!("sha{n}"),
            page: Page::Request,
            status: 200,
            locale: "en".into(),
            form_action: "/reset".into(),
            hidden: vec![("client_id".into(), "app".into())],
        }
    }

    #[test]
    fn a_kept_page_fills_every_hole_and_nothing_else() {
        let pages = RenderedPages::new();
        let m = pages.markers().unwrap().clone();
        let html = format!(
            "<style nonce=\"{n}\">a</style><input value=\"{c}\"><script nonce=\"{n}\"></script>",
            n = m.nonce,
            c = m.csrf
        );
        let page = pages.keep(key(1), &html, CspSources::default()).unwrap();
        assert_eq!(
            page.fill("NONCE", "TOKEN"),
            "<style nonce=\"NONCE\">a</style><input value=\"TOKEN\"><script nonce=\"NONCE\"></script>"
        );
        assert!(pages.get(&key(1)).is_some());
        assert!(
            pages.get(&key(2)).is_none(),
            "another configuration is another page"
        );
    }

    #[test]
    fn a_page_showing_its_request_id_is_never_kept() {
        let pages = RenderedPages::new();
        let m = pages.markers().unwrap().clone();
        let html = format!("<p>ref {}</p><i>{}</i>", m.request_id, m.nonce);
        assert!(pages.keep(key(1), &html, CspSources::default()).is_none());
        assert!(pages.is_empty());
    }

    #[test]
    fn the_cache_starts_over_when_full() {
        let pages = RenderedPages::new();
        for n in 0..=MAX_PAGES {
            pages
                .keep(key(n), "<p>x</p>", CspSources::default())
                .unwrap();
        }
        assert_eq!(
            pages.len(),
            1,
            "the page after the limit is the only one left"
        );
        assert!(pages.get(&key(MAX_PAGES)).is_some());
    }
}

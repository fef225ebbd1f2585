//! Loading every theme from disk once, at startup.
//!
//! Each theme gets its own Tera instance holding the `default` theme's templates with the
//! theme's own files laid over them by name. A theme that only ships `base.html` and CSS
//! therefore reuses every default page inside its own layout, and `{% extends
//! "base.html" %}` always finds the nearest layout.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use tera::{Tera, Value};

use crate::error::ThemeError;
use crate::messages::parse_catalog;

/// The theme every lookup falls back to; it must exist and be complete.
pub const DEFAULT_THEME: &str = "default";

/// A static file of a theme (CSS, JS, images), held in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    /// The `Content-Type` to serve it with (with charset for text).
    pub content_type: &'static str,
    /// The file's bytes.
    pub bytes: Vec<u8>,
}

/// One loaded theme.
#[derive(Debug)]
pub(crate) struct Theme {
    /// Default's templates overlaid with this theme's, parsed once.
    pub(crate) tera: Tera,
    /// This theme's own catalogs by locale (default's are consulted separately).
    catalogs: BTreeMap<String, Value>,
    /// This theme's own static files by relative path.
    assets: BTreeMap<String, Asset>,
}

/// All themes under one directory, parsed and ready to render.
#[derive(Debug)]
pub struct Themes {
    pub(crate) themes: BTreeMap<String, Theme>,
}

impl Themes {
    /// Loads every `<dir>/<name>/` theme: templates (parsed now, so a syntax error fails
    /// startup), message catalogs and static files. Requires a `default` theme.
    pub fn load(dir: &Path) -> Result<Self, ThemeError> {
        let mut sources = BTreeMap::new();
        for entry in read_dir(dir)? {
            if entry.is_dir() {
                let name = file_name(&entry)?;
                sources.insert(name, ThemeSources::read(&entry)?);
            }
        }
        let default = sources
            .get(DEFAULT_THEME)
            .ok_or_else(|| ThemeError::NoDefaultTheme(dir.to_path_buf()))?;
        let mut themes = BTreeMap::new();
        for (name, source) in &sources {
            let mut merged = default.templates.clone();
            merged.extend(source.templates.clone());
            let theme = Theme {
                tera: build_tera(name, &merged)?,
                catalogs: source.catalogs.clone(),
                assets: source.assets.clone(),
            };
            themes.insert(name.clone(), theme);
        }
        Ok(Self { themes })
    }

    /// Whether a theme of that name was loaded (tenant config validation asks this).
    pub fn has_theme(&self, name: &str) -> bool {
        self.themes.contains_key(name)
    }

    /// The names of all loaded themes, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.themes.keys().map(String::as_str)
    }

    /// The locales that have a catalog in `theme` or in `default`, sorted.
    pub fn locales(&self, theme: &str) -> Vec<String> {
        let mut locales: Vec<String> = [theme, DEFAULT_THEME]
            .iter()
            .filter_map(|t| self.themes.get(*t))
            .flat_map(|t| t.catalogs.keys().cloned())
            .collect();
        locales.sort();
        locales.dedup();
        locales
    }

    /// A static file of `theme`, falling back to `default`'s file of the same path.
    pub fn asset(&self, theme: &str, path: &str) -> Option<&Asset> {
        [theme, DEFAULT_THEME]
            .iter()
            .filter_map(|t| self.themes.get(*t))
            .find_map(|t| t.assets.get(path))
    }

    /// The catalog of `theme` for `locale`, if the theme ships one.
    pub(crate) fn catalog(&self, theme: &str, locale: &str) -> Option<Value> {
        self.themes.get(theme)?.catalogs.get(locale).cloned()
    }

    pub(crate) fn theme(&self, name: &str) -> Result<&Theme, ThemeError> {
        self.themes
            .get(name)
            .ok_or_else(|| ThemeError::UnknownTheme(name.to_owned()))
    }
}

/// The raw files of one theme folder.
struct ThemeSources {
    templates: BTreeMap<String, String>,
    catalogs: BTreeMap<String, Value>,
    assets: BTreeMap<String, Asset>,
}

impl ThemeSources {
    fn read(dir: &Path) -> Result<Self, ThemeError> {
        let mut templates = BTreeMap::new();
        for (name, path) in walk(&dir.join("templates"))? {
            if name.ends_with(".html") || name.ends_with(".txt") {
                templates.insert(name, read_text(&path)?);
            }
        }
        let mut catalogs = BTreeMap::new();
        for (name, path) in walk(&dir.join("messages"))? {
            if let Some(locale) = name.strip_suffix(".yaml") {
                catalogs.insert(locale.to_owned(), parse_catalog(&path, &read_text(&path)?)?);
            }
        }
        let mut assets = BTreeMap::new();
        for (name, path) in walk(&dir.join("static"))? {
            let bytes = fs::read(&path).map_err(|source| ThemeError::Io { path, source })?;
            let content_type = content_type(&name);
            assets.insert(
                name,
                Asset {
                    content_type,
                    bytes,
                },
            );
        }
        Ok(Self {
            templates,
            catalogs,
            assets,
        })
    }
}

fn build_tera(theme: &str, templates: &BTreeMap<String, String>) -> Result<Tera, ThemeError> {
    let mut tera = Tera::default();
    tera.register_function("t", crate::render::translate);
    tera.set_escape_fn(crate::render::escape);
    tera.add_raw_templates(templates.iter())
        .map_err(|e| ThemeError::Template {
            theme: theme.to_owned(),
            template: "(loading)".to_owned(),
            message: e.to_string(),
        })?;
    Ok(tera)
}

/// Files under `dir` (recursively) as (`a/b.ext` relative name, path); a missing `dir` is
/// empty, since a theme may omit any folder.
fn walk(dir: &Path) -> Result<Vec<(String, PathBuf)>, ThemeError> {
    let mut out = Vec::new();
    if !dir.is_dir() {
        return Ok(out);
    }
    let mut stack = vec![(String::new(), dir.to_path_buf())];
    while let Some((prefix, current)) = stack.pop() {
        for path in read_dir(&current)? {
            let name = file_name(&path)?;
            if name.starts_with('.') {
                continue;
            }
            let rel = format!("{prefix}{name}");
            if path.is_dir() {
                stack.push((format!("{rel}/"), path));
            } else {
                out.push((rel, path));
            }
        }
    }
    out.sort();
    Ok(out)
}

fn read_dir(dir: &Path) -> Result<Vec<PathBuf>, ThemeError> {
    let io = |source| ThemeError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut paths = Vec::new();
    for entry in fs::read_dir(dir).map_err(io)? {
        paths.push(entry.map_err(io)?.path());
    }
    paths.sort();
    Ok(paths)
}

/// The final path component, restricted to a safe character set so names can be used in
/// URLs and template names without escaping.
fn file_name(path: &Path) -> Result<String, ThemeError> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| ThemeError::InvalidName(path.display().to_string()))?;
    if name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
    {
        Ok(name.to_owned())
    } else {
        Err(ThemeError::InvalidName(name.to_owned()))
    }
}

fn read_text(path: &Path) -> Result<String, ThemeError> {
    fs::read_to_string(path).map_err(|source| ThemeError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    }
}

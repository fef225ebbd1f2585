//! Loading every theme once, at startup: the built-in ones compiled into the binary,
//! optionally overlaid by an operator's folder, or (tests, tools) a folder alone.
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
    /// startup), message catalogs and static files. Requires a `default` theme in `dir`.
    pub fn load(dir: &Path) -> Result<Self, ThemeError> {
        let files = read_themes_dir(dir)?;
        if !files.contains_key(DEFAULT_THEME) {
            return Err(ThemeError::NoDefaultTheme(dir.to_path_buf()));
        }
        Self::build(&files)
    }

    /// The themes compiled into the binary (`default`, `bank`, `fitness`): nothing is read
    /// from disk, so the gateway runs from any directory.
    pub fn builtin() -> Result<Self, ThemeError> {
        Self::build(&builtin_files())
    }

    /// The built-in themes with `dir` laid over them file by file: a file in
    /// `<dir>/<theme>/` replaces the built-in file of the same path, and a folder of a new
    /// name adds a theme. How an operator restyles Passgate without rebuilding it.
    pub fn builtin_with_overrides(dir: &Path) -> Result<Self, ThemeError> {
        let mut files = builtin_files();
        for (theme, own) in read_themes_dir(dir)? {
            files.entry(theme).or_default().extend(own);
        }
        Self::build(&files)
    }

    /// Parses every theme of `files`, each over the `default` theme's templates.
    fn build(files: &BTreeMap<String, ThemeFiles>) -> Result<Self, ThemeError> {
        let mut sources = BTreeMap::new();
        for (name, own) in files {
            sources.insert(name.clone(), ThemeSources::from_files(own)?);
        }
        let default = sources
            .get(DEFAULT_THEME)
            .ok_or_else(|| ThemeError::NoDefaultTheme(PathBuf::from("(built-in themes)")))?;
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

/// One file of a theme before parsing: its bytes and where it came from (for errors).
#[derive(Clone)]
struct ThemeFile {
    bytes: Vec<u8>,
    origin: PathBuf,
}

/// A theme's files by path inside the theme (`templates/base.html`, `static/theme.css`).
type ThemeFiles = BTreeMap<String, ThemeFile>;

/// The compiled-in files, grouped by theme.
fn builtin_files() -> BTreeMap<String, ThemeFiles> {
    let mut files: BTreeMap<String, ThemeFiles> = BTreeMap::new();
    for (path, bytes) in crate::builtin::FILES {
        if let Some((theme, rest)) = path.split_once('/') {
            files.entry(theme.to_owned()).or_default().insert(
                rest.to_owned(),
                ThemeFile {
                    bytes: bytes.to_vec(),
                    origin: PathBuf::from("(built-in)").join(path),
                },
            );
        }
    }
    files
}

/// The `templates/`, `messages/` and `static/` files of every theme folder in `dir`.
fn read_themes_dir(dir: &Path) -> Result<BTreeMap<String, ThemeFiles>, ThemeError> {
    let mut themes = BTreeMap::new();
    for entry in read_dir(dir)? {
        if !entry.is_dir() {
            continue;
        }
        let name = file_name(&entry)?;
        let mut files = ThemeFiles::new();
        for folder in ["templates", "messages", "static"] {
            for (rel, path) in walk(&entry.join(folder))? {
                let bytes = fs::read(&path).map_err(|source| ThemeError::Io {
                    path: path.clone(),
                    source,
                })?;
                files.insert(
                    format!("{folder}/{rel}"),
                    ThemeFile {
                        bytes,
                        origin: path,
                    },
                );
            }
        }
        themes.insert(name, files);
    }
    Ok(themes)
}

/// The parsed-enough files of one theme.
struct ThemeSources {
    templates: BTreeMap<String, String>,
    catalogs: BTreeMap<String, Value>,
    assets: BTreeMap<String, Asset>,
}

impl ThemeSources {
    fn from_files(files: &ThemeFiles) -> Result<Self, ThemeError> {
        let mut templates = BTreeMap::new();
        let mut catalogs = BTreeMap::new();
        let mut assets = BTreeMap::new();
        for (rel, file) in files {
            if let Some(name) = rel.strip_prefix("templates/") {
                if name.ends_with(".html") || name.ends_with(".txt") {
                    templates.insert(name.to_owned(), text(file)?);
                }
            } else if let Some(name) = rel.strip_prefix("messages/") {
                if let Some(locale) = name.strip_suffix(".yaml") {
                    catalogs.insert(
                        locale.to_owned(),
                        parse_catalog(&file.origin, &text(file)?)?,
                    );
                }
            } else if let Some(name) = rel.strip_prefix("static/") {
                assets.insert(
                    name.to_owned(),
                    Asset {
                        content_type: content_type(name),
                        bytes: file.bytes.clone(),
                    },
                );
            }
        }
        Ok(Self {
            templates,
            catalogs,
            assets,
        })
    }
}

/// A template or catalog as UTF-8 text.
fn text(file: &ThemeFile) -> Result<String, ThemeError> {
    String::from_utf8(file.bytes.clone()).map_err(|e| ThemeError::Io {
        path: file.origin.clone(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
    })
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

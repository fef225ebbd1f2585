//! Problems found in a tenant document, and the crate's error type.

use std::fmt;

/// How bad a [`Problem`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The document is rejected.
    Error,
    /// The document is accepted, but the product owner should know (e.g. a composition
    /// rule that NIST and ASVS advise against).
    Warning,
}

/// One thing wrong (or worth knowing) about a tenant document, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Key path, e.g. `password_policy.regex_rules[1].pattern`; empty for the document.
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong, in one sentence a product owner understands.
    pub message: String,
    /// Error or warning.
    pub severity: Severity,
}

impl Problem {
    /// Formats the problem as `SOURCE:LINE:COL: key.path: message` (with `warning: ` before
    /// the message for warnings), the shape editors and CI logs link to.
    pub fn display_in<'a>(&'a self, source_name: &'a str) -> impl fmt::Display + 'a {
        DisplayIn {
            problem: self,
            source_name,
        }
    }
}

struct DisplayIn<'a> {
    problem: &'a Problem,
    source_name: &'a str,
}

impl fmt::Display for DisplayIn<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.problem;
        write!(f, "{}:{}:{}: ", self.source_name, p.line, p.column)?;
        if !p.path.is_empty() {
            write!(f, "{}: ", p.path)?;
        }
        if p.severity == Severity::Warning {
            f.write_str("warning: ")?;
        }
        // Messages may quote document text: keep one problem on one line, whatever it holds.
        for c in p.message.chars() {
            if c.is_control() {
                write!(f, "{}", c.escape_default())?;
            } else {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

/// Why a tenant document was rejected: every error found (and the warnings), all at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors {
    /// The file name (or other label) the positions refer to.
    pub source_name: String,
    /// Every problem, errors and warnings, in document order.
    pub problems: Vec<Problem>,
}

impl ConfigErrors {
    /// The problems that make the document invalid.
    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
    }
}

impl fmt::Display for ConfigErrors {
    /// One `FILE:LINE:COL: key.path: message` line per problem.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}", problem.display_in(&self.source_name))?;
        }
        Ok(())
    }
}

/// Why a single value cannot become one of this crate's newtypes (a colour, a locale tag,
/// a redirect URI…). The message is written for the product owner who typed the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ValueError(pub String);

impl ValueError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

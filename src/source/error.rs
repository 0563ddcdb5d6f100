//! The one error type of source loading. It reads like a compiler message:
//! `sources/siaf.toml:12:9: html.title: invalid CSS selector ...`, with an
//! optional hint on a second line, so a curator can jump to the spot.

use std::fmt;
use std::path::PathBuf;

/// What is wrong with one source definition file, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceError {
    /// The file, as it was given to `load_file`/`load_dir`.
    pub path: PathBuf,
    /// 1-based line and column (in characters), when the place is known.
    pub line: Option<u32>,
    pub column: Option<u32>,
    /// Dotted path of the field (`html.detail.deadline`), when there is one.
    pub field: Option<String>,
    /// What is wrong and what was expected, on one line.
    pub message: String,
    /// A suggestion, printed on its own line.
    pub hint: Option<String>,
}

impl SourceError {
    /// An error about the file as a whole (unreadable, duplicate id...).
    pub fn file(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        SourceError {
            path: path.into(),
            line: None,
            column: None,
            field: None,
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        f.write_str(": ")?;
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        // Keep the message on one line whatever a dependency put in it, and
        // mask the credentials of any URL quoted in it (a TOML error quotes
        // the offending line).
        let message = crate::redact::text(&self.message);
        let mut first = true;
        for part in message.lines().map(str::trim).filter(|l| !l.is_empty()) {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(part)?;
            first = false;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SourceError {}

//! Where things are in a source file: toml's spanned document tree
//! (`DeTable`) turns a field path into a line and column, and a toml error's
//! byte offset back into a field path, so every `SourceError` can say
//! `file:line:col: field: ...`.

use std::ops::Range;
use std::path::Path;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::error::SourceError;

/// The spanned document tree, for positions and field paths.
pub(crate) struct Doc<'a> {
    text: &'a str,
    root: Option<Spanned<DeTable<'a>>>,
}

impl<'a> Doc<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Doc {
            text,
            root: DeTable::parse(text).ok(),
        }
    }

    fn line_col(&self, offset: usize) -> (u32, u32) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        (clamp(line), clamp(column))
    }

    /// The span of the value at `path`, or of its nearest existing parent.
    fn span_of(&self, path: &[&str]) -> Option<Range<usize>> {
        let mut table = self.root.as_ref()?.get_ref();
        let mut best = None;
        for seg in path {
            let Some((key, value)) = table.iter().find(|(k, _)| k.get_ref() == seg) else {
                break;
            };
            let span = value.span();
            // A `[table]` header's own span may be empty; the key's is not.
            best = Some(if span.is_empty() { key.span() } else { span });
            match value.get_ref() {
                DeValue::Table(t) => table = t,
                _ => break,
            }
        }
        best
    }

    /// The dotted path of the key or value that contains `offset`.
    fn path_at(&self, offset: usize) -> Option<String> {
        fn walk(table: &DeTable<'_>, offset: usize, out: &mut Vec<String>) -> bool {
            for (key, value) in table.iter() {
                out.push(key.get_ref().to_string());
                let here = key.span().contains(&offset) || value.span().contains(&offset);
                let inside = match value.get_ref() {
                    DeValue::Table(t) => walk(t, offset, out),
                    DeValue::Array(items) => items.iter().enumerate().any(|(i, item)| {
                        if let DeValue::Table(t) = item.get_ref() {
                            out.push(format!("[{i}]"));
                            if walk(t, offset, out) {
                                return true;
                            }
                            out.pop();
                        }
                        false
                    }),
                    _ => false,
                };
                if inside || here {
                    return true;
                }
                out.pop();
            }
            false
        }
        let mut out = Vec::new();
        walk(self.root.as_ref()?.get_ref(), offset, &mut out).then(|| render_path(&out))
    }

    pub(crate) fn toml_error(&self, path: &Path, e: &toml::de::Error) -> SourceError {
        let mut err = SourceError::file(path, e.message().trim());
        if let Some(span) = e.span() {
            let (line, column) = self.line_col(span.start);
            err.line = Some(line);
            err.column = Some(column);
            err.field = self.path_at(span.start);
        }
        // serde says "missing field `x`" at the enclosing table: name x.
        if let Some(missing) = e
            .message()
            .strip_prefix("missing field `")
            .and_then(|m| m.split('`').next())
        {
            err.field = Some(match err.field.take() {
                Some(parent) if !self.is_leaf(&parent) => format!("{parent}.{missing}"),
                _ => missing.to_string(),
            });
        }
        if e.message().starts_with("unknown field") {
            err.hint = Some(match closest_field(e.message()) {
                Some(known) => format!("did you mean `{known}`?"),
                None => {
                    "check the spelling against the keys this table accepts, listed above".into()
                }
            });
        }
        err
    }

    fn is_leaf(&self, dotted: &str) -> bool {
        let segs: Vec<&str> = dotted.split('.').collect();
        let Some(mut table) = self.root.as_ref().map(|r| r.get_ref()) else {
            return false;
        };
        for (i, seg) in segs.iter().enumerate() {
            let Some((_, v)) = table.iter().find(|(k, _)| k.get_ref() == seg) else {
                return false;
            };
            match v.get_ref() {
                DeValue::Table(t) => table = t,
                _ => return i + 1 == segs.len(),
            }
        }
        false
    }

    pub(crate) fn error(
        &self,
        path: &Path,
        field: &[&str],
        message: impl Into<String>,
    ) -> SourceError {
        let mut err = SourceError::file(path, message);
        err.field = Some(render_path(field));
        if let Some(span) = self.span_of(field) {
            let (line, column) = self.line_col(span.start);
            err.line = Some(line);
            err.column = Some(column);
        }
        err
    }
}

/// `html.detail.deadline`; keys that are not bare TOML keys are quoted.
fn render_path<S: AsRef<str>>(segs: &[S]) -> String {
    let mut out = String::new();
    for seg in segs {
        let seg = seg.as_ref();
        if seg.starts_with('[') {
            out.push_str(seg);
            continue;
        }
        if !out.is_empty() {
            out.push('.');
        }
        let bare = !seg.is_empty()
            && seg
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if bare {
            out.push_str(seg);
        } else {
            out.push_str(&format!("{seg:?}"));
        }
    }
    out
}

/// In serde's "unknown field `x`, expected one of `a`, `b`…" message, the
/// accepted key a typo of `x` most likely meant: within two edits
/// (a transposition counts as one), and fewer than half of its letters.
pub(crate) fn closest_field(message: &str) -> Option<&str> {
    let mut quoted = message.split('`').skip(1).step_by(2);
    let unknown = quoted.next()?;
    quoted
        .map(|known| (strsim::damerau_levenshtein(unknown, known), known))
        .filter(|&(d, known)| d <= 2 && d * 2 < known.chars().count())
        .min_by_key(|&(d, _)| d)
        .map(|(_, known)| known)
}

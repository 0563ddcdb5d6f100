//! Source templates: one definition file expanded into one source per row
//! of a CSV data file (every prefecture's site, every agency of a network).
//! Part of the **sources** stage: `load` calls [`load_template`] for a file
//! with a `[template]` table, and every expanded source is then an ordinary
//! [`SourceDef`] for the scheduler, the crawl and the reports.
//!
//! ```toml
//! id = "prefecture-{code|lower}"
//! url = "{base}/Actions-de-l-Etat"
//!
//! [template]
//! data = "data/prefectures.csv"     # relative to this file's folder
//!
//! [defaults]
//! perimeter = "department:{code}"
//! ```
//!
//! The data file (read by `template_data`) names the columns in its
//! header; `{column}` in `id`, `name`, `funder`, `url` and any string of
//! `[defaults]` is replaced by the row's value, `{column|lower}` (or
//! `|upper`) by the value in lowercase; `{{` and `}}` are literal braces.
//! Other keys are copied as they are, so selectors and regexes keep their
//! braces.
//!
//! Expansion rewrites the file's text, not a parsed tree: each string
//! literal holding a placeholder is replaced, in place and on its own line,
//! by the expanded value written as a TOML basic string. The expanded text
//! then goes through the ordinary loader, so every check applies to every
//! row and an error still points at the template's line and key.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::SourceDef;
use super::error::SourceError;
use super::locate::Doc;
pub use super::template_data::{DataRow, DataTable, MAX_ROWS, parse_data};
use super::template_data::{data_error, is_ident};

/// The top-level keys whose strings may hold placeholders; every string of
/// the `[defaults]` table may too.
const PLACEHOLDER_KEYS: &[&str] = &["id", "name", "funder", "url"];
const PLACEHOLDER_TABLES: &[&str] = &["defaults"];

/// `[template]`, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateSpec {
    /// The CSV data file, relative to the folder of the template file.
    pub data: String,
}

/// Where an expanded source comes from: its row of the data file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateRow {
    /// The data file, as found from the template's folder.
    pub data: PathBuf,
    /// 1-based line of the row in the data file.
    pub line: u64,
}

impl std::fmt::Display for TemplateRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.data.display(), self.line)
    }
}

/// Whether `text` is a template: a TOML document with a top-level
/// `template` key. A file that does not parse is not one (the ordinary
/// loader reports its syntax error).
pub fn is_template(text: &str) -> bool {
    DeTable::parse(text).is_ok_and(|root| {
        root.get_ref()
            .iter()
            .any(|(key, _)| key.get_ref() == "template")
    })
}

/// One piece of a string with placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    /// `{column}` or `{column|filter}`.
    Column {
        name: String,
        filter: Option<String>,
    },
}

/// The filters a placeholder may name: `{code|lower}` gives `2a` for
/// `2A`, since source ids are lowercase.
const FILTERS: &[&str] = &["lower", "upper"];

fn apply(filter: Option<&str>, value: &str) -> String {
    match filter {
        Some("lower") => value.to_lowercase(),
        Some("upper") => value.to_uppercase(),
        _ => value.to_string(),
    }
}

/// Splits `s` into text and `{column}` placeholders; `{{` and `}}` are
/// literal braces, and a brace that opens no placeholder stays as it is.
fn pieces(s: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if let Some(tail) = rest.strip_prefix("{{") {
            text.push('{');
            rest = tail;
            continue;
        }
        if let Some(tail) = rest.strip_prefix("}}") {
            text.push('}');
            rest = tail;
            continue;
        }
        if c == '{'
            && let Some(end) = rest.find('}')
        {
            let inner = &rest[1..end];
            let (name, filter) = match inner.split_once('|') {
                Some((name, filter)) => (name, Some(filter)),
                None => (inner, None),
            };
            if is_ident(name) && filter.is_none_or(is_ident) {
                if !text.is_empty() {
                    out.push(Piece::Text(std::mem::take(&mut text)));
                }
                out.push(Piece::Column {
                    name: name.to_string(),
                    filter: filter.map(str::to_string),
                });
                rest = &rest[end + 1..];
                continue;
            }
        }
        text.push(c);
        rest = &rest[c.len_utf8()..];
    }
    if !text.is_empty() {
        out.push(Piece::Text(text));
    }
    out
}

/// `s` as a one-line TOML basic string.
pub(crate) fn toml_basic_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A string literal of the template that holds placeholders.
#[derive(Debug)]
struct Site {
    /// Byte range of the literal (quotes included) in the template's text.
    span: Range<usize>,
    field: Vec<String>,
    pieces: Vec<Piece>,
}

/// The template's string literals that hold placeholders, checked against
/// the data file's columns once for all rows.
fn sites(
    path: &Path,
    text: &str,
    doc: &Doc<'_>,
    columns: &[String],
) -> Result<Vec<Site>, SourceError> {
    fn collect(
        value: &Spanned<DeValue<'_>>,
        field: &mut Vec<String>,
        out: &mut Vec<(Range<usize>, Vec<String>, String)>,
    ) {
        match value.get_ref() {
            DeValue::String(s) => out.push((value.span(), field.clone(), s.to_string())),
            DeValue::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    field.push(format!("[{i}]"));
                    collect(item, field, out);
                    field.pop();
                }
            }
            DeValue::Table(table) => {
                for (key, item) in table.iter() {
                    field.push(key.get_ref().to_string());
                    collect(item, field, out);
                    field.pop();
                }
            }
            _ => {}
        }
    }
    let Ok(root) = DeTable::parse(text) else {
        return Ok(Vec::new());
    };
    let mut strings = Vec::new();
    for (key, value) in root.get_ref().iter() {
        let name = key.get_ref().as_ref();
        if PLACEHOLDER_KEYS.contains(&name) || PLACEHOLDER_TABLES.contains(&name) {
            collect(value, &mut vec![name.to_string()], &mut strings);
        }
    }
    let mut out = Vec::new();
    for (span, field, value) in strings {
        let pieces = pieces(&value);
        let has_column = pieces.iter().any(|p| matches!(p, Piece::Column { .. }));
        let literal = text.get(span.clone()).unwrap_or_default();
        if !has_column && !value.contains("{{") && !value.contains("}}") {
            continue;
        }
        let segs: Vec<&str> = field.iter().map(String::as_str).collect();
        for piece in &pieces {
            let Piece::Column { name, filter } = piece else {
                continue;
            };
            if let Some(filter) = filter
                && !FILTERS.contains(&filter.as_str())
            {
                return Err(doc.error(
                    path,
                    &segs,
                    format!(
                        "unknown filter `{filter}` in `{{{name}|{filter}}}`: expected one of {}",
                        FILTERS.join(", ")
                    ),
                ));
            }
            if !columns.contains(name) {
                return Err(doc
                    .error(
                        path,
                        &segs,
                        format!(
                            "unknown placeholder `{{{name}}}`: the data file's columns are {}",
                            columns
                                .iter()
                                .map(|c| format!("`{{{c}}}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                    .with_hint("write `{{` for a literal `{`"));
            }
        }
        if literal.contains('\n') || !(literal.starts_with('"') || literal.starts_with('\'')) {
            return Err(doc.error(
                path,
                &segs,
                "placeholders are only replaced in one-line strings: write this value on one line",
            ));
        }
        out.push(Site {
            span,
            field,
            pieces,
        });
    }
    // The document tree's order is not the text's: `expand_row` walks the
    // text once, front to back.
    out.sort_by_key(|site| site.span.start);
    Ok(out)
}

/// The template's text for one row: each site replaced by its expansion.
fn expand_row(text: &str, sites: &[Site], columns: &[String], row: &DataRow) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    let mut at = 0;
    for site in sites {
        let (Some(before), true) = (text.get(at..site.span.start), site.span.end <= text.len())
        else {
            continue;
        };
        out.push_str(before);
        let mut value = String::new();
        for piece in &site.pieces {
            match piece {
                Piece::Text(t) => value.push_str(t),
                Piece::Column { name, filter } => value.push_str(&apply(
                    filter.as_deref(),
                    row.get(columns, name).unwrap_or_default(),
                )),
            }
        }
        out.push_str(&toml_basic_string(&value));
        at = site.span.end;
    }
    out.push_str(&text[at..]);
    out
}

/// The `[template]` table of a template file, checked.
fn spec(path: &Path, text: &str, doc: &Doc<'_>) -> Result<TemplateSpec, SourceError> {
    #[derive(Deserialize)]
    struct Only {
        template: toml::Value,
    }
    let only: Only = toml::from_str::<Only>(text).map_err(|e| doc.toml_error(path, &e))?;
    let spec: TemplateSpec = only.template.try_into().map_err(|e: toml::de::Error| {
        doc.error(
            path,
            &["template"],
            format!(
                "{}; expected `[template]` with `data = \"data/file.csv\"`",
                e.message().trim()
            ),
        )
    })?;
    if spec.data.trim().is_empty() || Path::new(&spec.data).is_absolute() {
        return Err(doc
            .error(
                path,
                &["template", "data"],
                format!(
                    "invalid data file `{}`: expected a path relative to the template's folder",
                    spec.data
                ),
            )
            .with_hint("e.g. `data = \"data/prefectures.csv\"`"));
    }
    Ok(spec)
}

/// Reads and parses the data file a template names.
pub fn data_of(path: &Path, text: &str) -> Result<DataTable, SourceError> {
    let doc = Doc::new(text);
    let spec = spec(path, text, &doc)?;
    let data_path = path.parent().unwrap_or(Path::new("")).join(&spec.data);
    let data_text = std::fs::read_to_string(&data_path).map_err(|e| {
        doc.error(
            path,
            &["template", "data"],
            format!("cannot read the data file {}: {e}", data_path.display()),
        )
    })?;
    parse_data(&data_path, &data_text)
}

/// The text of each row's source, in the data file's order.
pub fn expand(
    path: &Path,
    text: &str,
    data: &DataTable,
) -> Result<Vec<(TemplateRow, String)>, SourceError> {
    let doc = Doc::new(text);
    let sites = sites(path, text, &doc, &data.columns)?;
    if !sites.iter().any(|s| s.field == ["id"]) {
        return Err(doc
            .error(
                path,
                &["id"],
                "a template's id must hold a placeholder, so that each row has its own id",
            )
            .with_hint("e.g. `id = \"prefecture-{code}\"`"));
    }
    Ok(data
        .rows
        .iter()
        .map(|row| {
            let origin = TemplateRow {
                data: data.path.clone(),
                line: row.line,
            };
            (origin, expand_row(text, &sites, &data.columns, row))
        })
        .collect())
}

/// An error's place and message: the same for every row it concerns.
type FailureKey = (Option<u32>, Option<String>, String);

/// Loads a template file: one [`SourceDef`] per row of its data file, and
/// every error. An error of the template itself that every row meets is
/// reported once; one that depends on the row names it. Two rows with the
/// same expanded id are an error naming the second row.
pub fn load_template(path: &Path, text: &str) -> (Vec<SourceDef>, Vec<SourceError>) {
    let data = match data_of(path, text) {
        Ok(data) => data,
        Err(e) => return (Vec::new(), vec![e]),
    };
    let rows = match expand(path, text, &data) {
        Ok(rows) => rows,
        Err(e) => return (Vec::new(), vec![e]),
    };
    let mut defs: Vec<SourceDef> = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    // The same error (place and message) met by several rows, reported once.
    let mut failures: BTreeMap<FailureKey, (SourceError, Vec<u64>)> = BTreeMap::new();
    let mut order = Vec::new();
    let mut errors = Vec::new();
    for (origin, expanded) in rows {
        match super::load::load_expanded(path, &expanded) {
            Ok(mut def) => {
                if let Some(first) = seen.get(def.id.as_str()) {
                    errors.push(data_error(
                        &origin.data,
                        origin.line,
                        Some("id"),
                        format!(
                            "this row expands to the source id `{}`, already given by line {first}",
                            def.id
                        ),
                    ));
                    continue;
                }
                seen.insert(def.id.to_string(), origin.line);
                def.template = Some(origin);
                defs.push(def);
            }
            Err(e) => {
                let key = (e.line, e.field.clone(), e.message.clone());
                if !failures.contains_key(&key) {
                    order.push(key.clone());
                }
                failures
                    .entry(key)
                    .or_insert_with(|| (e, Vec::new()))
                    .1
                    .push(origin.line);
            }
        }
    }
    let data_name = data.path.display().to_string();
    for key in order {
        let Some((mut e, lines)) = failures.remove(&key) else {
            continue;
        };
        let which = if lines.len() == data.rows.len() && lines.len() > 1 {
            format!("every row of {data_name}")
        } else {
            let shown: Vec<String> = lines.iter().take(5).map(u64::to_string).collect();
            let more = lines.len().saturating_sub(5);
            let tail = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            format!("{data_name} line {}{tail}", shown.join(", "))
        };
        e.message = format!("{} (row: {which})", e.message);
        errors.push(e);
    }
    (defs, errors)
}

#[cfg(test)]
#[path = "template_tests.rs"]
mod tests;

//! Reading `sources/*.toml`: TOML → [`schema::SourceFile`] → checked and
//! compiled [`SourceDef`]. Every error carries the file, the line and column
//! and the dotted field path, found from toml's spans.
//!
//! The file is parsed twice: once into the typed schema, once into toml's
//! spanned document tree (see `locate`), which maps a field path to a
//! position and a position back to a field path.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use url::Url;

use super::error::SourceError;
use super::locate::Doc;
use super::schema::{self, SourceFile};
use super::template;
use super::{CompiledMaps, SourceDef, ValidDefaults, fold_label};
use crate::domain::PerimeterSet;

/// Pages per crawl are capped so that a bad `next` rule cannot crawl a site.
pub(super) const MAX_PAGES_LIMIT: u32 = 100;

/// Loads and validates one source definition file. A template file (with
/// a `[template]` table) defines several sources: use [`load_path`].
pub fn load_file(path: &Path) -> Result<SourceDef, SourceError> {
    let text = read(path)?;
    load_str(path, &text)
}

fn read(path: &Path) -> Result<String, SourceError> {
    std::fs::read_to_string(path)
        .map_err(|e| SourceError::file(path, format!("cannot read the file: {e}")))
}

/// Loads one file of the sources folder: its one source, or for a template
/// every source it expands to. Returns the good definitions and every
/// error.
pub fn load_path(path: &Path) -> (Vec<SourceDef>, Vec<SourceError>) {
    let text = match read(path) {
        Ok(text) => text,
        Err(e) => return (Vec::new(), vec![e]),
    };
    if template::is_template(&text) {
        return template::load_template(path, &text);
    }
    match load_str(path, &text) {
        Ok(def) => (vec![def], Vec::new()),
        Err(e) => (Vec::new(), vec![e]),
    }
}

/// Loads every `*.toml` in `dir`, sorted by file name, templates expanded
/// in the order of their data file. Returns the good definitions and every
/// error: one bad file does not hide the others. Two definitions with the
/// same id are an error naming both (the second is dropped).
pub fn load_dir(dir: &Path) -> (Vec<SourceDef>, Vec<SourceError>) {
    let mut errors = Vec::new();
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
            .collect(),
        Err(e) => {
            errors.push(SourceError::file(
                dir,
                format!("cannot read the sources directory: {e}"),
            ));
            return (Vec::new(), errors);
        }
    };
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));

    let mut defs: Vec<SourceDef> = Vec::new();
    let mut seen: HashMap<String, String> = HashMap::new();
    for path in files {
        let (loaded, bad) = load_path(&path);
        errors.extend(bad);
        for def in loaded {
            if let Some(first) = seen.get(def.id.as_str()) {
                let message = format!("duplicate source id `{}`: already used by {first}", def.id);
                errors.push(match &def.template {
                    // The row that expanded to it.
                    Some(row) => {
                        let mut e = SourceError::file(&row.data, message);
                        e.line = Some(u32::try_from(row.line).unwrap_or(u32::MAX));
                        e.field = Some("id".into());
                        e.with_hint(format!(
                            "an expanded id of the template {} may not be the id of another source",
                            path.display()
                        ))
                    }
                    None => {
                        let text = std::fs::read_to_string(&path).unwrap_or_default();
                        Doc::new(&text).error(&path, &["id"], message)
                    }
                });
            } else {
                seen.insert(def.id.as_str().to_string(), origin_of(&def));
                defs.push(def);
            }
        }
    }
    (defs, errors)
}

/// Where a definition comes from, for messages: its file, and for an
/// expanded source its row.
fn origin_of(def: &SourceDef) -> String {
    match &def.template {
        Some(row) => format!("{} (row {row})", def.path.display()),
        None => def.path.display().to_string(),
    }
}

/// Loads a definition from its text; `path` is only used in messages. A
/// template is refused: its text holds placeholders, not one source.
pub fn load_str(path: &Path, text: &str) -> Result<SourceDef, SourceError> {
    let doc = Doc::new(text);
    if template::is_template(text) {
        return Err(doc
            .error(
                path,
                &["template"],
                "this file is a template: it defines one source per row of its data file",
            )
            .with_hint(
                "check it with `vigie sources check` on the folder, the file or an expanded id",
            ));
    }
    let file: SourceFile = toml::from_str(text).map_err(|e| doc.toml_error(path, &e))?;
    Checker { path, doc: &doc }.check(file)
}

/// Loads one row of a template, already expanded by `template`.
pub(super) fn load_expanded(path: &Path, text: &str) -> Result<SourceDef, SourceError> {
    let doc = Doc::new(text);
    let file: SourceFile = toml::from_str(text).map_err(|e| doc.toml_error(path, &e))?;
    Checker { path, doc: &doc }.check(file)
}

pub(super) struct Checker<'p, 'd> {
    path: &'p Path,
    doc: &'d Doc<'d>,
}

impl Checker<'_, '_> {
    pub(super) fn err(&self, field: &[&str], message: impl Into<String>) -> SourceError {
        self.doc.error(self.path, field, message)
    }

    fn check(&self, file: SourceFile) -> Result<SourceDef, SourceError> {
        let url = self.check_url(&["url"], file.url.get_ref())?;
        let schedule = self.check_schedule(file.schedule.get_ref())?;
        self.check_numbers(&file)?;
        let defaults = self.check_defaults(&file.defaults)?;
        let time_zone = self.check_time_zone(file.timezone.as_ref(), &defaults)?;
        let maps = self.check_maps(&file.maps)?;
        let spec = self.check_kind(&file)?;
        let auth = self.check_auth(&file)?;
        Ok(SourceDef {
            path: self.path.to_path_buf(),
            id: file.id.into_inner(),
            name: file.name,
            funder: file.funder.filter(|f| !f.trim().is_empty()),
            url,
            schedule,
            enabled: file.enabled,
            priority: file.priority,
            review: file.review,
            headers: self.check_headers(file.headers)?,
            auth,
            politeness: file.politeness,
            defaults,
            time_zone,
            maps,
            spec,
            template: None,
        })
    }

    fn check_headers(
        &self,
        headers: BTreeMap<String, String>,
    ) -> Result<Vec<(String, String)>, SourceError> {
        for (name, value) in &headers {
            // RFC 9110 §5.1: a field name is a token.
            let token = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
            if !token {
                return Err(self.err(
                    &["headers", name],
                    format!("invalid header name `{name}`: expected letters, digits and `-`, e.g. `Accept-Language`"),
                ));
            }
            if value.chars().any(|c| c.is_control() && c != '\t') {
                return Err(self.err(
                    &["headers", name],
                    "invalid header value: it contains a line break or control character",
                ));
            }
        }
        headers
            .iter()
            .map(|(name, raw)| {
                expand_env(raw, |var| std::env::var(var).ok())
                    .map(|value| (name.clone(), value))
                    .map_err(|why| {
                        self.err(&["headers", name], format!("header `{name}`: {why}")).with_hint(
                            "set the variable in the environment of vigie, or write `$${` for a literal `${`",
                        )
                    })
            })
            .collect()
    }

    pub(super) fn check_url(&self, field: &[&str], raw: &str) -> Result<Url, SourceError> {
        let hint =
            "expected an absolute http or https URL, e.g. `https://www.example.gouv.fr/appels`";
        let url = Url::parse(raw.trim()).map_err(|e| {
            self.err(field, format!("invalid URL `{raw}`: {e}"))
                .with_hint(hint)
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(self
                .err(
                    field,
                    format!("invalid URL `{raw}`: not an http or https URL"),
                )
                .with_hint(hint));
        }
        Ok(url)
    }

    /// A 5-field cron expression (Europe/Paris) that croner accepts and
    /// that fires at least once within [`SCHEDULE_HORIZON_YEARS`].
    fn check_schedule(&self, raw: &str) -> Result<String, SourceError> {
        let expected =
            "expected 5 fields: minute hour day-of-month month day-of-week, e.g. `0 6 * * *`";
        let fields = raw.split_whitespace().count();
        if fields != 5 {
            return Err(self.err(
                &["schedule"],
                format!("invalid cron expression `{raw}`: {fields} field(s), {expected}"),
            ));
        }
        let cron = croner::Cron::from_str(raw).map_err(|e| {
            self.err(
                &["schedule"],
                format!("invalid cron expression `{raw}`: {e}; {expected}"),
            )
        })?;
        if !fires_within_years(&cron, SCHEDULE_HORIZON_YEARS) {
            return Err(self
                .err(
                    &["schedule"],
                    format!(
                        "the cron expression `{raw}` never fires: no date matches it within \
                         {SCHEDULE_HORIZON_YEARS} years"
                    ),
                )
                .with_hint(
                    "check the day of the month against the month (February has no 30th), \
                     e.g. `0 6 1 * *` for the 1st of every month",
                ));
        }
        Ok(raw.split_whitespace().collect::<Vec<_>>().join(" "))
    }

    fn check_defaults(&self, d: &schema::Defaults) -> Result<ValidDefaults, SourceError> {
        let perimeter = match &d.perimeter {
            Some(p) => Some(
                PerimeterSet::from_str(p.get_ref())
                    .map_err(|e| self.err(&["defaults", "perimeter"], e.to_string()))?,
            ),
            None => None,
        };
        Ok(ValidDefaults {
            audiences: d.audiences.clone(),
            perimeter,
            themes: d.themes.clone(),
            kind: d.kind,
        })
    }

    fn check_maps(&self, m: &schema::ValueMaps) -> Result<CompiledMaps, SourceError> {
        fn fold<V: Clone + PartialEq + std::fmt::Display>(
            c: &Checker<'_, '_>,
            table: &str,
            map: &BTreeMap<String, V>,
        ) -> Result<HashMap<String, V>, SourceError> {
            let mut out: HashMap<String, (String, V)> = HashMap::new();
            for (label, value) in map {
                let key = fold_label(label);
                if key.is_empty() {
                    return Err(c.err(&["maps", table, label], "empty label"));
                }
                if let Some((other, v)) = out.get(&key)
                    && v != value
                {
                    return Err(c.err(
                        &["maps", table, label],
                        format!(
                            "label `{label}` is the same as `{other}` once case and accents are \
                             ignored, but maps to `{value}` instead of `{v}`"
                        ),
                    ));
                }
                out.insert(key, (label.clone(), value.clone()));
            }
            Ok(out.into_iter().map(|(k, (_, v))| (k, v)).collect())
        }
        let mut perimeters = BTreeMap::new();
        for (label, text) in &m.perimeter {
            let p = PerimeterSet::from_str(text)
                .map_err(|e| self.err(&["maps", "perimeter", label], e.to_string()))?;
            perimeters.insert(label.clone(), p);
        }
        Ok(CompiledMaps {
            audiences: fold(self, "audiences", &m.audiences)?,
            perimeter: fold(self, "perimeter", &perimeters)?,
            themes: fold(self, "themes", &m.themes)?,
            kind: fold(self, "kind", &m.kind)?,
        })
    }
}

/// A schedule must fire within this many years: a leap day (`0 6 29 2 *`)
/// does, `0 6 30 2 *` never does.
const SCHEDULE_HORIZON_YEARS: i32 = 5;

/// Whether `cron` has an occurrence within `years` of a fixed date, so the
/// answer does not depend on when the file is loaded. croner gives up by
/// itself (an error) on a pattern that matches nothing before year 5000.
fn fires_within_years(cron: &croner::Cron, years: i32) -> bool {
    use chrono::TimeZone;
    let tz = chrono_tz::Europe::Paris;
    let (Some(from), Some(until)) = (
        tz.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single(),
        tz.with_ymd_and_hms(2026 + years, 1, 1, 0, 0, 0).single(),
    ) else {
        return true;
    };
    cron.find_next_occurrence(&from, true)
        .is_ok_and(|next| next < until)
}

/// Replaces every `${NAME}` in `raw` by `lookup(NAME)`; `$${` is a literal
/// `${`. The error names the variable, never a value.
pub(super) fn expand_env(
    raw: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        if let Some(tail) = after.strip_prefix("$${") {
            out.push_str("${");
            rest = tail;
        } else if let Some(tail) = after.strip_prefix("${") {
            let end = tail.find('}').ok_or_else(|| {
                "`${` without a closing `}`: expected `${NAME}` naming an environment variable"
                    .to_string()
            })?;
            let var = &tail[..end];
            let valid = var.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err(format!(
                    "`${{{var}}}` is not a valid environment variable name (letters, digits, `_`)"
                ));
            }
            let value =
                lookup(var).ok_or_else(|| format!("environment variable `{var}` is not set"))?;
            out.push_str(&value);
            rest = &tail[end + 1..];
        } else {
            out.push('$');
            rest = &after[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
#[path = "load_tests.rs"]
pub(super) mod tests;

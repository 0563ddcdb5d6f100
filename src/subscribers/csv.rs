//! Subscriber lists as CSV, for `vigie subscribers import` and `export`.
//!
//! ```text
//! email,name,audience,territory,themes,keywords,frequency,weekday
//! mairie@cergy.fr,Mairie de Cergy,commune,commune:95127,numerique|archives,tiers-lieu|archiv*,weekly,lundi
//! ```
//!
//! - `email`, `name`, `audience`, `territory` are required; the other
//!   columns may be missing or empty. Columns may come in any order;
//!   an unknown column is an error.
//! - `themes` and `keywords` hold several values separated by `|` (a `,`
//!   or `;` would clash with spreadsheets' delimiters).
//! - `territory`: see [`parse_territory`] (`commune:95127`, `95127`,
//!   `epci:200054781`, `department:95`, `region:11`, or a label).
//! - `frequency`: `daily` (default) or `weekly`; `weekday` (weekly only):
//!   `lundi`..`dimanche`, `monday`..`sunday` or `1`..`7`.
//! - The delimiter is `,`, or `;` (French spreadsheets) or a tab when the
//!   header uses it instead. The file may be UTF-8 (a BOM is ignored),
//!   UTF-16 with a BOM or Windows-1252 (see [`decode`]).
//!
//! Reading validates every row before anything is stored and reports every
//! bad row with its line number and field, so a file is imported whole or
//! not at all. An email may appear only once in a file.

use std::collections::HashMap;
use std::fmt;
use std::io::Write;

use super::model::{
    EmailAddress, FieldError, Frequency, LIST_SEPARATOR, Profile, parse_audience, parse_keywords,
    parse_name, parse_territory, parse_themes, weekday_code,
};

/// The columns, in the order export writes them.
pub const HEADER: [&str; 8] = [
    "email",
    "name",
    "audience",
    "territory",
    "themes",
    "keywords",
    "frequency",
    "weekday",
];
const REQUIRED: [&str; 4] = ["email", "name", "audience", "territory"];
/// How many row errors are printed at most.
const MAX_SHOWN: usize = 20;

/// One bad row (or the header: line 1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, field `{field}`: {message}")]
pub struct RowError {
    pub line: u64,
    pub field: String,
    pub message: String,
}

/// Every bad row of a file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct CsvErrors(pub Vec<RowError>);

impl fmt::Display for CsvErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(
            f,
            "{n} invalid row{}, nothing was imported:",
            if n == 1 { "" } else { "s" }
        )?;
        for e in self.0.iter().take(MAX_SHOWN) {
            write!(f, "\n  {e}")?;
        }
        if n > MAX_SHOWN {
            write!(f, "\n  ... and {} more", n - MAX_SHOWN)?;
        }
        Ok(())
    }
}

fn row_error(line: u64, e: FieldError) -> RowError {
    RowError {
        line,
        field: e.field.to_string(),
        message: e.message,
    }
}

/// A file's bytes as text, the way spreadsheets save CSV: UTF-8 (with or
/// without a BOM), UTF-16 with a BOM in either byte order (Excel's
/// "Unicode text"), or Windows-1252 (French Excel's "CSV (séparateur :
/// point-virgule)"). Anything else is an error naming the first line that
/// is not UTF-8, with what to do.
pub fn decode(bytes: &[u8]) -> Result<String, CsvErrors> {
    if let Some((encoding, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, had_errors) = encoding.decode_without_bom_handling(&bytes[bom..]);
        if !had_errors {
            return Ok(text.into_owned());
        }
    } else if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(text.to_string());
    } else if let Some(text) = windows_1252(bytes) {
        return Ok(text);
    }
    let valid = match std::str::from_utf8(bytes) {
        Ok(_) => bytes.len(),
        Err(e) => e.valid_up_to(),
    };
    let line = 1 + bytes[..valid].iter().filter(|&&b| b == b'\n').count() as u64;
    Err(CsvErrors(vec![RowError {
        line,
        field: "encoding".into(),
        message: "this line is not UTF-8 text (nor UTF-16 or Windows-1252): re-save the \
                  file as \"CSV UTF-8\" in your spreadsheet and import it again"
            .into(),
    }]))
}

/// `bytes` read as Windows-1252 when they look like text in it: no NUL
/// (UTF-16 without a BOM) and none of the five bytes the code page leaves
/// unassigned.
fn windows_1252(bytes: &[u8]) -> Option<String> {
    const UNASSIGNED: [u8; 5] = [0x81, 0x8D, 0x8F, 0x90, 0x9D];
    if bytes.iter().any(|b| *b == 0 || UNASSIGNED.contains(b)) {
        return None;
    }
    let (text, had_errors) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
    (!had_errors).then(|| text.into_owned())
}

/// Parses a whole file into profiles, or every error found.
pub fn read_profiles(input: &str) -> Result<Vec<Profile>, CsvErrors> {
    let input = input.strip_prefix('\u{feff}').unwrap_or(input);
    let first = input.lines().next().unwrap_or("");
    let delimiter = if first.contains(';') && !first.contains(',') {
        b';'
    } else if first.contains('\t') && !first.contains(',') {
        // Excel's "Unicode text" is tab-separated.
        b'\t'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(false)
        .from_reader(input.as_bytes());
    let header_error = |field: &str, message: String| {
        CsvErrors(vec![RowError {
            line: 1,
            field: field.to_string(),
            message,
        }])
    };
    let headers = reader
        .headers()
        .map_err(|e| header_error("header", e.to_string()))?
        .clone();
    let mut columns: HashMap<&'static str, usize> = HashMap::new();
    for (i, h) in headers.iter().enumerate() {
        let h = h.trim().to_lowercase();
        let Some(known) = HEADER.iter().find(|k| **k == h) else {
            return Err(header_error(
                &h,
                format!("unknown column `{h}`: expected {}", HEADER.join(",")),
            ));
        };
        if columns.insert(known, i).is_some() {
            return Err(header_error(&h, format!("column `{h}` appears twice")));
        }
    }
    if let Some(missing) = REQUIRED.iter().find(|r| !columns.contains_key(*r)) {
        return Err(header_error(
            missing,
            format!(
                "missing column `{missing}`: the header must be {}",
                HEADER.join(",")
            ),
        ));
    }

    let mut profiles = Vec::new();
    let mut errors = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(RowError {
                    line: e.position().map_or(0, |p| p.line()),
                    field: "row".into(),
                    message: match e.kind() {
                        csv::ErrorKind::UnequalLengths {
                            expected_len, len, ..
                        } => format!("{len} fields where the header has {expected_len}"),
                        _ => e.to_string(),
                    },
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        // A `'` that Vigie's export put before `=`, `+`, `-`, `@` goes.
        let get = |name: &str| {
            columns
                .get(name)
                .and_then(|&i| record.get(i))
                .map_or("", crate::spreadsheet::restore)
        };
        match profile_from_fields(get) {
            Ok(p) => {
                let key = p.email.as_str().to_lowercase();
                if let Some(first) = seen.get(&key) {
                    errors.push(RowError {
                        line,
                        field: "email".into(),
                        message: format!("{} already appears on line {first}", p.email),
                    });
                } else {
                    seen.insert(key, line);
                    profiles.push(p);
                }
            }
            Err(e) => errors.push(row_error(line, e)),
        }
    }
    if errors.is_empty() {
        Ok(profiles)
    } else {
        Err(CsvErrors(errors))
    }
}

/// Builds a profile from named fields (CSV cells, or CLI flags joined the
/// same way); the first invalid field is the error.
pub fn profile_from_fields<'a>(get: impl Fn(&str) -> &'a str) -> Result<Profile, FieldError> {
    let email = EmailAddress::parse(get("email"))?;
    let name = parse_name(get("name"))?;
    let audience = parse_audience(get("audience"))?;
    let territory = parse_territory(get("territory"), audience)?;
    let themes = parse_themes(get("themes").split(LIST_SEPARATOR))?;
    let keywords = parse_keywords(get("keywords").split(LIST_SEPARATOR))?;
    let frequency = Frequency::parse(get("frequency"), Some(get("weekday")))?;
    Ok(Profile {
        email,
        name,
        audience,
        territory,
        themes,
        keywords,
        frequency,
    })
}

/// Writes profiles in the format [`read_profiles`] reads; cells a
/// spreadsheet would run as formulas are prefixed with `'`.
pub fn write_profiles<'a, W: Write>(
    out: W,
    profiles: impl IntoIterator<Item = &'a Profile>,
) -> anyhow::Result<()> {
    let mut w = crate::spreadsheet::Writer::new(out);
    w.write_record(HEADER)?;
    let sep = LIST_SEPARATOR.to_string();
    for p in profiles {
        let themes: Vec<&str> = p.themes.iter().map(|t| t.as_str()).collect();
        w.write_record([
            p.email.as_str(),
            &p.name,
            p.audience.as_str(),
            &p.territory.to_string(),
            &themes.join(&sep),
            &p.keywords.join(&sep),
            p.frequency.code(),
            p.frequency.weekday().map_or("", weekday_code),
        ])?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Audience, Perimeter, Theme};
    use chrono::Weekday;

    const GOOD: &str = "email,name,audience,territory,themes,keywords,frequency,weekday
mairie@cergy.fr,Mairie de Cergy,commune,commune:95127,numerique|archives,tiers-lieu|archiv*,weekly,lundi
dsi@valdoise.fr,Département du Val-d'Oise,department,95,,,,
";

    #[test]
    fn a_good_file_gives_one_profile_per_row() {
        let ps = read_profiles(GOOD).unwrap();
        assert_eq!(ps.len(), 2);
        assert_eq!(ps[0].territory, Perimeter::Commune("95127".into()));
        assert_eq!(ps[0].themes, vec![Theme::Numerique, Theme::Archives]);
        assert_eq!(ps[0].keywords, vec!["tiers-lieu", "archiv*"]);
        assert_eq!(ps[0].frequency, Frequency::Weekly(Weekday::Mon));
        assert_eq!(ps[1].audience, Audience::Department);
        assert_eq!(ps[1].territory, Perimeter::Department("95".into()));
        assert_eq!(ps[1].frequency, Frequency::Daily);
    }

    #[test]
    fn export_then_read_gives_the_same_profiles() {
        let ps = read_profiles(GOOD).unwrap();
        let mut out = Vec::new();
        write_profiles(&mut out, &ps).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("email,name,audience,territory,themes,keywords,frequency,weekday\n")
        );
        assert_eq!(read_profiles(&text).unwrap(), ps);
    }

    #[test]
    fn every_bad_row_is_reported_with_its_line_and_field() {
        let input = "email,name,audience,territory
a@a.fr,A,commune,commune:95127
b@b.fr,B,communes,commune:95127
c@c.fr,C,commune,commune:95999
not-an-email,D,commune,95127
a@A.fr,E,commune,95127
";
        let errs = read_profiles(input).unwrap_err().0;
        let got: Vec<(u64, &str)> = errs.iter().map(|e| (e.line, e.field.as_str())).collect();
        assert_eq!(
            got,
            vec![
                (3, "audience"),
                (4, "territory"),
                (5, "email"),
                (6, "email")
            ]
        );
        assert!(errs[3].message.contains("line 2"), "{}", errs[3]);
    }

    #[test]
    fn header_problems_are_line_1() {
        let e = read_profiles("email,name,audience\n").unwrap_err().0;
        assert_eq!((e[0].line, e[0].field.as_str()), (1, "territory"));
        let e = read_profiles("email,name,audience,territory,colour\n")
            .unwrap_err()
            .0;
        assert_eq!(e[0].field, "colour");
    }

    #[test]
    fn semicolon_files_and_a_bom_are_read() {
        let input = "\u{feff}Email;Name;Audience;Territory\nmairie@cergy.fr;Cergy;commune;95127\n";
        let ps = read_profiles(input).unwrap();
        assert_eq!(ps[0].email.as_str(), "mairie@cergy.fr");
    }

    #[test]
    fn a_row_with_missing_cells_is_an_error() {
        let e = read_profiles("email,name,audience,territory\na@a.fr,A,commune\n")
            .unwrap_err()
            .0;
        assert_eq!((e[0].line, e[0].field.as_str()), (2, "row"));
    }
}

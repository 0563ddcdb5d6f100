//! The data file of a source template: a CSV whose header names the
//! placeholders and whose rows each give one source (see `template`).
//! Parsed before any row is expanded, so a bad row is reported with the
//! data file's name, line and column, never as an error of the template.

use std::path::{Path, PathBuf};

use super::error::SourceError;

/// A data file longer than this is a mistake (a wrong file named), not a
/// list of sources.
pub const MAX_ROWS: usize = 5_000;

/// A parsed data file: column names and rows, every cell non-empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataTable {
    pub path: PathBuf,
    pub columns: Vec<String>,
    pub rows: Vec<DataRow>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataRow {
    /// 1-based line in the data file.
    pub line: u64,
    /// One value per column, trimmed.
    pub values: Vec<String>,
}

impl DataRow {
    pub(super) fn get<'a>(&'a self, columns: &[String], name: &str) -> Option<&'a str> {
        let at = columns.iter().position(|c| c == name)?;
        self.values.get(at).map(String::as_str)
    }
}

pub(super) fn data_error(
    path: &Path,
    line: u64,
    column: Option<&str>,
    message: String,
) -> SourceError {
    let mut err = SourceError::file(path, message);
    err.line = Some(u32::try_from(line).unwrap_or(u32::MAX));
    err.field = column.map(str::to_string);
    err
}

/// Parses a CSV data file: a header naming the columns (letters, digits,
/// `_`, not starting with a digit), then rows of as many non-empty cells.
/// Lines starting with `#` are comments. An error names the file, the line
/// and the column.
pub fn parse_data(path: &Path, text: &str) -> Result<DataTable, SourceError> {
    let mut reader = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(text.as_bytes());
    let csv_error = |e: csv::Error| {
        let line = e.position().map_or(1, csv::Position::line);
        let message = match e.kind() {
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => format!(
                "this row has {len} value(s), the header names {expected_len} column(s): \
                 quote a value that holds a comma"
            ),
            _ => format!("not a valid CSV line: {e}"),
        };
        data_error(path, line, None, message)
    };
    let header = reader.headers().map_err(csv_error)?.clone();
    // csv places the header at line 1 even after comment lines.
    let header_line = text
        .lines()
        .position(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map_or(1, |i| i as u64 + 1);
    let mut columns: Vec<String> = Vec::new();
    for name in header.iter() {
        if !is_ident(name) {
            return Err(data_error(
                path,
                header_line,
                None,
                format!(
                    "invalid column name `{name}` in the header: expected letters, digits and \
                     `_`, e.g. `code`"
                ),
            ));
        }
        if columns.iter().any(|c| c == name) {
            return Err(data_error(
                path,
                header_line,
                Some(name),
                format!("column `{name}` is named twice in the header"),
            ));
        }
        columns.push(name.to_string());
    }
    if columns.is_empty() {
        return Err(data_error(
            path,
            header_line,
            None,
            "the data file has no header: its first line names the columns, e.g. `code,name`"
                .into(),
        ));
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(csv_error)?;
        let line = record.position().map_or(1, csv::Position::line);
        if rows.len() == MAX_ROWS {
            return Err(data_error(
                path,
                line,
                None,
                format!("more than {MAX_ROWS} rows: is this the right data file?"),
            ));
        }
        let mut values = Vec::with_capacity(columns.len());
        for (column, value) in columns.iter().zip(record.iter()) {
            if value.is_empty() {
                return Err(data_error(
                    path,
                    line,
                    Some(column),
                    format!("empty value for column `{column}`: every row gives every column"),
                ));
            }
            if value.chars().any(char::is_control) {
                return Err(data_error(
                    path,
                    line,
                    Some(column),
                    format!(
                        "the value of column `{column}` holds a line break or control character"
                    ),
                ));
            }
            values.push(value.to_string());
        }
        rows.push(DataRow { line, values });
    }
    if rows.is_empty() {
        return Err(data_error(
            path,
            header_line,
            None,
            "the data file has a header but no row: a template needs at least one row".into(),
        ));
    }
    Ok(DataTable {
        path: path.to_path_buf(),
        columns,
        rows,
    })
}

/// A column name or filter: letters, digits, `_`, not starting with a digit.
pub(super) fn is_ident(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

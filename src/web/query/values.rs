//! The value parsers behind [`SearchQuery`](super::SearchQuery): lists,
//! codes, Paris days and communes, each failing with a [`QueryError`] that
//! names the parameter.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Paris;

use super::{MAX_VALUES, QueryError};
use crate::territory;

pub(super) fn sorted<T: Ord + Copy>(items: &[T]) -> Vec<T> {
    let mut v = items.to_vec();
    v.sort();
    v
}

/// Splits a comma-separated value, refusing more than [`MAX_VALUES`].
pub(super) fn split<'a>(param: &str, value: &'a str) -> Result<Vec<&'a str>, QueryError> {
    let parts: Vec<&str> = value
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if parts.len() > MAX_VALUES {
        return Err(QueryError::new(
            param,
            format!("trop de valeurs (au plus {MAX_VALUES})"),
            vec![],
        ));
    }
    Ok(parts)
}

pub(super) fn push_codes<T>(into: &mut Vec<T>, param: &str, value: &str) -> Result<(), QueryError>
where
    T: std::str::FromStr<Err = crate::domain::UnknownCode> + PartialEq,
{
    for code in split(param, value)? {
        let parsed = code.parse::<T>().map_err(|e| {
            QueryError::new(
                param,
                format!("valeur inconnue `{}`", clip(code)),
                e.expected.iter().map(|c| c.to_string()).collect(),
            )
        })?;
        if !into.contains(&parsed) {
            if into.len() >= MAX_VALUES {
                return Err(QueryError::new(
                    param,
                    format!("trop de valeurs (au plus {MAX_VALUES})"),
                    vec![],
                ));
            }
            into.push(parsed);
        }
    }
    Ok(())
}

pub(super) fn day(param: &str, value: &str) -> Result<NaiveDate, QueryError> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .filter(|d| (2000..=2100).contains(&chrono::Datelike::year(d)))
        .ok_or_else(|| {
            QueryError::new(
                param,
                format!("date invalide `{}`", clip(value)),
                vec!["AAAA-MM-JJ, par exemple 2027-03-31".to_string()],
            )
        })
}

/// The first (or, with `end`, the last) second of a Paris day, in UTC.
pub(super) fn paris(day: NaiveDate, end: bool) -> DateTime<Utc> {
    let time = if end {
        day.and_hms_opt(23, 59, 59)
    } else {
        day.and_hms_opt(0, 0, 0)
    }
    .expect("a valid time of day");
    match Paris.from_local_datetime(&time) {
        chrono::LocalResult::Single(t) => t.with_timezone(&Utc),
        chrono::LocalResult::Ambiguous(early, late) => {
            if end { late } else { early }.with_timezone(&Utc)
        }
        // Midnight never falls in a Paris DST gap; be total anyway.
        chrono::LocalResult::None => Utc.from_utc_datetime(&time),
    }
}

/// An INSEE code (current or former), else an exact name (accents and case
/// ignored), narrowed by the department when one is given.
pub(super) fn resolve_commune(value: &str, department: Option<&str>) -> Result<String, QueryError> {
    if let Some(c) = territory::commune(value) {
        return Ok(c.insee.to_string());
    }
    if let Some(c) = territory::Territory::get().commune_by_former_code(value) {
        return Ok(c.insee.to_string());
    }
    let wanted = fold(value);
    let found: Vec<_> = territory::communes()
        .iter()
        .filter(|c| fold(c.name) == wanted)
        .filter(|c| department.is_none_or(|d| c.department == d))
        .collect();
    match found.as_slice() {
        [one] => Ok(one.insee.to_string()),
        [] => Err(QueryError::new(
            "commune",
            format!("commune inconnue `{}`", clip(value)),
            vec!["un code INSEE (35238) ou le nom exact de la commune".to_string()],
        )),
        many => Err(QueryError::new(
            "commune",
            format!(
                "plusieurs communes s'appellent `{}` : précisez le département ou donnez le code INSEE",
                clip(value)
            ),
            many.iter()
                .take(MAX_VALUES)
                .map(|c| format!("{} ({}, département {})", c.insee, c.name, c.department))
                .collect(),
        )),
    }
}

fn fold(s: &str) -> String {
    deunicode::deunicode(s)
        .to_lowercase()
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A visitor's text quoted back, cut to a sane length.
pub(super) fn clip(s: &str) -> String {
    const MAX: usize = 60;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(MAX).collect();
        out.push('…');
        out
    }
}

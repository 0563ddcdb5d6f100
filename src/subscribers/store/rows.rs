//! Reading `subscribers` rows back: the columns, the parsing into a
//! [`Subscriber`] (a corrupt column is an error naming the row, the column
//! and the value) and the lookups by a clause or an id.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row};

use crate::subscribers::model::{EmailAddress, Frequency, Profile, Subscriber};

pub(in crate::subscribers) const COLUMNS: &str = "id, email, name, audience, territory, themes, keywords, frequency, \
     weekday, status, created_at, confirmed_at, manage_token, bounce_count, last_digest_at, paused_since";

/// A corrupt column of a `subscribers` row: the error names the table, the
/// row, the column and the value, and says what to do.
fn corrupt(row: &Row, index: usize, e: impl std::fmt::Display) -> rusqlite::Error {
    let id = row
        .get::<_, i64>(0)
        .map_or_else(|_| "?".to_string(), |id| id.to_string());
    let column = row.as_ref().column_name(index).unwrap_or("?").to_string();
    let value = match row.get_ref(index) {
        Ok(rusqlite::types::ValueRef::Text(t)) => String::from_utf8_lossy(t).into_owned(),
        Ok(rusqlite::types::ValueRef::Null) => "NULL".to_string(),
        Ok(other) => format!("{other:?}"),
        Err(_) => "?".to_string(),
    };
    rusqlite::Error::FromSqlConversionFailure(
        index,
        rusqlite::types::Type::Text,
        format!(
            "subscribers row {id}: column {column} = `{value}`: {e}; fix the row \
             (`vigie subscribers` commands) or remove it"
        )
        .into(),
    )
}

fn time(row: &Row, index: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    let text: Option<String> = row.get(index)?;
    text.map(|t| {
        DateTime::parse_from_rfc3339(&t)
            .map(|d| d.with_timezone(&Utc))
            .map_err(|e| corrupt(row, index, e))
    })
    .transpose()
}

/// Rows are parsed again into domain types: a corrupted column is an error.
pub(in crate::subscribers) fn from_row(row: &Row) -> rusqlite::Result<Subscriber> {
    let text = |i: usize| -> rusqlite::Result<String> { row.get(i) };
    let bad = |i: usize, e: &dyn std::fmt::Display| corrupt(row, i, e);
    let email = EmailAddress::parse(&text(1)?).map_err(|e| bad(1, &e))?;
    let weekday: Option<String> = row.get(8)?;
    let frequency =
        Frequency::from_stored(&text(7)?, weekday.as_deref()).map_err(|e| bad(7, &e))?;
    let themes: Vec<String> = serde_json::from_str(&text(5)?).map_err(|e| bad(5, &e))?;
    Ok(Subscriber {
        id: row.get(0)?,
        profile: Profile {
            email,
            name: text(2)?,
            audience: text(3)?.parse().map_err(|e| bad(3, &e))?,
            territory: text(4)?.parse().map_err(|e| bad(4, &e))?,
            themes: themes
                .iter()
                .map(|t| t.parse())
                .collect::<Result<_, _>>()
                .map_err(|e| bad(5, &e))?,
            keywords: serde_json::from_str(&text(6)?).map_err(|e| bad(6, &e))?,
            frequency,
        },
        status: text(9)?.parse().map_err(|e| bad(9, &e))?,
        created_at: time(row, 10)?.ok_or_else(|| bad(10, &"missing created_at"))?,
        confirmed_at: time(row, 11)?,
        bounce_count: row.get(13)?,
        last_digest_at: time(row, 14)?,
        paused_since: time(row, 15)?,
    })
}

pub(in crate::subscribers) fn by(
    conn: &Connection,
    clause: &str,
    arg: &str,
) -> rusqlite::Result<Option<Subscriber>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM subscribers WHERE {clause}"),
        [arg],
        from_row,
    )
    .optional()
}

pub(in crate::subscribers) fn by_id(
    conn: &Connection,
    id: i64,
) -> rusqlite::Result<Option<Subscriber>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM subscribers WHERE id = ?1"),
        [id],
        from_row,
    )
    .optional()
}

//! The subscriber's domain types, parsed at the edge (CLI flags, CSV rows,
//! later the web form) and parsed again when read back from SQLite.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc, Weekday};
use serde::Serialize;

use crate::domain::{Audience, Perimeter, Theme};
use crate::territory;

/// Longest email address accepted (RFC 5321 path limit minus the brackets).
pub const MAX_EMAIL_LEN: usize = 254;
/// Longest local part (RFC 5321 §4.5.3.1.1).
const MAX_LOCAL_LEN: usize = 64;
/// Longest collectivity name, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest keyword, in characters; at most this many keywords.
pub const MAX_KEYWORD_CHARS: usize = 80;
pub const MAX_KEYWORDS: usize = 50;
/// Separator of themes and keywords inside one CSV cell.
pub const LIST_SEPARATOR: char = '|';

/// A field of a subscriber that failed validation, with what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field `{field}`: {message}")]
pub struct FieldError {
    /// The field's name as in the CSV header and the CLI flags.
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, message: impl Into<String>) -> FieldError {
        FieldError {
            field,
            message: message.into(),
        }
    }
}

/// A syntactically sane email address: trimmed, one `@`, no spaces or
/// control characters, a dotted domain (lowercased), bounded lengths.
/// The local part keeps its case (RFC 5321 lets servers distinguish it),
/// but the database compares addresses case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(s: &str) -> Result<EmailAddress, FieldError> {
        let bad =
            |why: &str| FieldError::new("email", format!("invalid email address `{s}`: {why}"));
        let t = s.trim();
        if t.is_empty() {
            return Err(FieldError::new("email", "the email address is empty"));
        }
        if t.len() > MAX_EMAIL_LEN {
            return Err(bad(&format!("longer than {MAX_EMAIL_LEN} characters")));
        }
        if t.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("it contains a space or a control character"));
        }
        let (local, domain) = match t.split_once('@') {
            Some((l, d)) if !d.contains('@') => (l, d),
            Some(_) => return Err(bad("it contains more than one `@`")),
            None => return Err(bad("it has no `@`")),
        };
        if local.is_empty() || local.len() > MAX_LOCAL_LEN {
            return Err(bad(&format!(
                "the part before `@` must have 1 to {MAX_LOCAL_LEN} characters"
            )));
        }
        if local.contains(['<', '>', '(', ')', ',', ';', ':', '"', '[', ']', '\\']) {
            return Err(bad("the part before `@` contains a forbidden character"));
        }
        let labels_ok = domain.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
        if !domain.contains('.') || !labels_ok {
            return Err(bad("the part after `@` is not a domain like `mairie.fr`"));
        }
        Ok(EmailAddress(format!("{local}@{}", domain.to_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How often a subscriber receives a digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frequency {
    Daily,
    /// Once a week, on that day (Europe/Paris).
    Weekly(Weekday),
}

impl Frequency {
    /// `daily` or `weekly`, as stored.
    pub fn code(self) -> &'static str {
        match self {
            Frequency::Daily => "daily",
            Frequency::Weekly(_) => "weekly",
        }
    }

    pub fn weekday(self) -> Option<Weekday> {
        match self {
            Frequency::Daily => None,
            Frequency::Weekly(d) => Some(d),
        }
    }

    /// From the stored columns (`frequency`, `weekday`), written by
    /// [`Frequency::code`] and [`weekday_code`]: nothing else is accepted, so
    /// a corrupt row is an error instead of a daily digest.
    pub fn from_stored(code: &str, weekday: Option<&str>) -> Result<Frequency, String> {
        match (code, weekday) {
            ("daily", None) => Ok(Frequency::Daily),
            ("weekly", Some(day)) => WEEKDAYS
                .iter()
                .find(|(_, en, _)| *en == day)
                .map(|(d, _, _)| Frequency::Weekly(*d))
                .ok_or_else(|| format!("stored weekday `{day}` is not monday..sunday")),
            ("weekly", None) => Err("a weekly frequency without its weekday".to_string()),
            ("daily", Some(day)) => Err(format!("a daily frequency with a weekday `{day}`")),
            (other, _) => Err(format!(
                "stored frequency `{other}` is not `daily` or `weekly`"
            )),
        }
    }

    /// From a frequency (`daily`/`quotidien`, `weekly`/`hebdomadaire`, empty
    /// = daily) and a weekday; a weekly digest needs its day.
    pub fn parse(frequency: &str, weekday: Option<&str>) -> Result<Frequency, FieldError> {
        let weekday = weekday.map(str::trim).filter(|w| !w.is_empty());
        match frequency.trim().to_lowercase().as_str() {
            "" | "daily" | "quotidien" | "quotidienne" => match weekday {
                None => Ok(Frequency::Daily),
                Some(w) => Err(FieldError::new(
                    "weekday",
                    format!("a weekday (`{w}`) only makes sense with frequency `weekly`"),
                )),
            },
            "weekly" | "hebdomadaire" => match weekday {
                Some(w) => Ok(Frequency::Weekly(parse_weekday(w)?)),
                None => Err(FieldError::new(
                    "weekday",
                    "a weekly digest needs a weekday (lundi..dimanche, monday..sunday or 1-7)",
                )),
            },
            other => Err(FieldError::new(
                "frequency",
                format!("unknown frequency `{other}`: expected `daily` or `weekly`"),
            )),
        }
    }
}

const WEEKDAYS: [(Weekday, &str, &str); 7] = [
    (Weekday::Mon, "monday", "lundi"),
    (Weekday::Tue, "tuesday", "mardi"),
    (Weekday::Wed, "wednesday", "mercredi"),
    (Weekday::Thu, "thursday", "jeudi"),
    (Weekday::Fri, "friday", "vendredi"),
    (Weekday::Sat, "saturday", "samedi"),
    (Weekday::Sun, "sunday", "dimanche"),
];

/// `lundi`..`dimanche`, `monday`..`sunday` (case-insensitive) or `1`..`7`
/// (ISO 8601: 1 is Monday).
pub fn parse_weekday(s: &str) -> Result<Weekday, FieldError> {
    let t = s.trim().to_lowercase();
    if let Ok(n) = t.parse::<usize>()
        && (1..=7).contains(&n)
    {
        return Ok(WEEKDAYS[n - 1].0);
    }
    WEEKDAYS
        .iter()
        .find(|(_, en, fr)| t == *en || t == *fr)
        .map(|(d, _, _)| *d)
        .ok_or_else(|| {
            FieldError::new(
                "weekday",
                format!("unknown weekday `{s}`: expected lundi..dimanche, monday..sunday or 1-7"),
            )
        })
}

/// The stored code of a weekday: `monday`..`sunday`.
pub fn weekday_code(d: Weekday) -> &'static str {
    WEEKDAYS[d.num_days_from_monday() as usize].1
}

/// Where a subscriber stands in the double opt-in life cycle.
///
/// ```text
/// create_pending ─► pending ──confirm──► active ──unsubscribe──► unsubscribed
///                                          │  ▲                      │
///                          mark_bounce ×N  ▼  │ reactivate           │ create_pending
///                                       bouncing                     ▼ (opts in again)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SubscriberStatus {
    /// Signed up, has not clicked the confirmation link yet: receives nothing.
    Pending,
    /// Receives digests.
    Active,
    /// Left: receives nothing, and an import never brings them back.
    Unsubscribed,
    /// Too many bounces: receives nothing until reactivated.
    Bouncing,
}

impl SubscriberStatus {
    pub const ALL: &'static [SubscriberStatus] = &[
        SubscriberStatus::Pending,
        SubscriberStatus::Active,
        SubscriberStatus::Unsubscribed,
        SubscriberStatus::Bouncing,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SubscriberStatus::Pending => "pending",
            SubscriberStatus::Active => "active",
            SubscriberStatus::Unsubscribed => "unsubscribed",
            SubscriberStatus::Bouncing => "bouncing",
        }
    }
}

impl FromStr for SubscriberStatus {
    type Err = crate::domain::UnknownCode;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SubscriberStatus::ALL
            .iter()
            .copied()
            .find(|x| x.as_str() == s.trim())
            .ok_or_else(|| crate::domain::UnknownCode {
                what: "subscriber status",
                got: s.to_string(),
                expected: &["pending", "active", "unsubscribed", "bouncing"],
            })
    }
}

impl fmt::Display for SubscriberStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for SubscriberStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// What a subscriber chose: who they are and what they want to receive.
/// Everything a sign-up form, a CLI `add` or a CSV row provides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub email: EmailAddress,
    /// The collectivity's name (`Mairie de Cergy`).
    pub name: String,
    /// What sort of body the subscriber is (usually `commune`, `epci`,
    /// `department` or `region`).
    pub audience: Audience,
    /// Where it is; always known to the territory reference data.
    pub territory: Perimeter,
    /// Empty = every theme.
    pub themes: Vec<Theme>,
    /// Empty = no keyword filter. See [`crate::matching`] for their syntax.
    pub keywords: Vec<String>,
    pub frequency: Frequency,
}

/// A stored subscriber.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscriber {
    pub id: i64,
    pub profile: Profile,
    pub status: SubscriberStatus,
    pub created_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub bounce_count: u32,
    pub last_digest_at: Option<DateTime<Utc>>,
    /// Set while the subscriber paused their alert (from the web's manage
    /// page): no digest is built for them until they resume.
    pub paused_since: Option<DateTime<Utc>>,
}

/// A collectivity's name: trimmed, not empty, no control characters.
pub fn parse_name(s: &str) -> Result<String, FieldError> {
    let t = crate::normalize::text::collapse_whitespace(s);
    if t.is_empty() {
        return Err(FieldError::new("name", "the collectivity's name is empty"));
    }
    if t.chars().any(char::is_control) {
        return Err(FieldError::new(
            "name",
            "the name contains a control character",
        ));
    }
    if t.chars().count() > MAX_NAME_CHARS {
        return Err(FieldError::new(
            "name",
            format!("the name is longer than {MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(t)
}

pub fn parse_audience(s: &str) -> Result<Audience, FieldError> {
    s.trim()
        .to_lowercase()
        .parse()
        .map_err(|e: crate::domain::UnknownCode| FieldError::new("audience", e.to_string()))
}

/// A territory as a perimeter text form (`commune:95127`, `epci:200054781`,
/// `department:95`, `region:11`), a bare code (5 characters = commune
/// INSEE, 9 digits = EPCI SIREN, 2–3 characters = department, or region
/// when the audience is `region`), or a label (`Cergy`, `Val-d'Oise`).
/// The code must exist in the reference data; errors suggest a fix.
pub fn parse_territory(s: &str, audience: Audience) -> Result<Perimeter, FieldError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(FieldError::new(
            "territory",
            "the territory is empty: give a commune INSEE code, an EPCI SIREN, \
             or a department or region code (e.g. `commune:95127`)",
        ));
    }
    let perimeter = if t.contains(':') {
        t.parse::<Perimeter>()
            .map_err(|e| FieldError::new("territory", e.to_string()))?
    } else if let Some(p) = bare_code(t, audience) {
        p
    } else if let Some(p) = territory::from_label(t) {
        p
    } else {
        return Err(FieldError::new(
            "territory",
            format!(
                "unknown territory `{t}`: give a commune INSEE code (`commune:95127`, not the \
                 postal code), an EPCI SIREN (`epci:200054781`), a department (`department:95`) \
                 or a region (`region:11`)"
            ),
        ));
    };
    territory::validate(&perimeter).map_err(|e| FieldError::new("territory", e.to_string()))?;
    Ok(perimeter)
}

fn bare_code(t: &str, audience: Audience) -> Option<Perimeter> {
    let up = t.to_ascii_uppercase();
    let form = match up.len() {
        9 => format!("epci:{up}"),
        5 => format!("commune:{up}"),
        2 if audience == Audience::Region => format!("region:{up}"),
        2 | 3 => format!("department:{up}"),
        _ => return None,
    };
    form.parse().ok()
}

pub fn parse_theme(s: &str) -> Result<Theme, FieldError> {
    s.trim()
        .to_lowercase()
        .parse()
        .map_err(|e: crate::domain::UnknownCode| FieldError::new("themes", e.to_string()))
}

/// A keyword: words, optionally ending with `*` (prefix). Kept as typed
/// (trimmed); matching folds accents and case.
pub fn parse_keyword(s: &str) -> Result<String, FieldError> {
    let t = crate::normalize::text::collapse_whitespace(s);
    let bad = |why: &str| FieldError::new("keywords", format!("invalid keyword `{t}`: {why}"));
    if t.chars().count() > MAX_KEYWORD_CHARS {
        return Err(bad(&format!("longer than {MAX_KEYWORD_CHARS} characters")));
    }
    if t.contains(LIST_SEPARATOR) || t.chars().any(char::is_control) {
        return Err(bad("it contains `|` or a control character"));
    }
    if t.trim_end_matches('*').contains('*') || t.ends_with("**") {
        return Err(bad("`*` is only allowed once, at the end (`archiv*`)"));
    }
    if crate::normalize::text::words(&crate::normalize::text::fold(&t))
        .next()
        .is_none()
    {
        return Err(bad("it has no letter or digit"));
    }
    Ok(t)
}

/// Validates a list of keywords, dropping empty ones and duplicates.
pub fn parse_keywords<'a>(
    items: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<String>, FieldError> {
    let mut out: Vec<String> = Vec::new();
    for k in items.into_iter().filter(|k| !k.trim().is_empty()) {
        let k = parse_keyword(k)?;
        if !out.iter().any(|o| o.eq_ignore_ascii_case(&k)) {
            out.push(k);
        }
    }
    if out.len() > MAX_KEYWORDS {
        return Err(FieldError::new(
            "keywords",
            format!("at most {MAX_KEYWORDS} keywords"),
        ));
    }
    Ok(out)
}

/// Validates a list of theme codes, dropping empty ones and duplicates.
pub fn parse_themes<'a>(
    items: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<Theme>, FieldError> {
    let mut out = Vec::new();
    for t in items.into_iter().filter(|t| !t.trim().is_empty()) {
        let t = parse_theme(t)?;
        if !out.contains(&t) {
            out.push(t);
        }
    }
    Ok(out)
}

/// An unguessable token: 32 bytes from the OS generator, hex-encoded
/// (64 characters, URL-safe).
pub fn new_token() -> std::io::Result<String> {
    use std::io::Read;
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(hex::encode(bytes))
}

/// What is stored to check a confirmation token: its SHA-256, hex.
pub fn token_hash(token: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(token.trim().as_bytes()))
}

#[cfg(test)]
mod tests;

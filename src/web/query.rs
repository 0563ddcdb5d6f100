//! The search every public listing understands: the catalogue page, its
//! feeds and calendar, and the API take the same query string, so a search
//! is shareable and becomes a feed or a calendar by changing the path.
//!
//! | parameter | values | meaning |
//! |---|---|---|
//! | `q` | text | full-text, accent-insensitive, every word as a prefix |
//! | `public` | audience codes (`commune`, `epci`…), repeatable | who may apply |
//! | `region` | INSEE region code (`53`) | calls open to that region (national ones included) |
//! | `departement` | INSEE department code (`35`, `2A`) | the same for a department |
//! | `commune` | INSEE code or exact name (`35238`, `Rennes`) | the same for a commune, its EPCI, department and region |
//! | `theme` | theme codes, repeatable | any of them |
//! | `type` | call kinds (`aap`, `ami`…), repeatable | any of them |
//! | `statut` | `ouvert`, `a_venir`, `clos`, `tous`, repeatable | default: `ouvert` and `a_venir` |
//! | `cloture_apres`, `cloture_avant` | `AAAA-MM-JJ` (Paris days, inclusive) | deadline window |
//! | `tri` | `cloture` (default), `recent`, `modifie` | order |
//!
//! A value may also be a comma-separated list (`theme=numerique,donnees`).
//! Empty values are ignored (an HTML form sends every field). Anything else
//! — an unknown parameter, an unknown code, a commune that does not exist —
//! is a [`QueryError`] naming the parameter and what it accepts: nothing is
//! silently ignored. Callers that take more parameters (`page`, `curseur`…)
//! name them in `extra` and get their values back.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::NaiveDate;
use serde::Serialize;

use crate::domain::{Audience, CallKind, Perimeter, Status, Theme};
use crate::store::{CallFilter, CallOrder};
use crate::territory;

/// The longest `q` accepted, in characters.
pub const MAX_TEXT_CHARS: usize = 200;
/// The most values one parameter may carry.
pub const MAX_VALUES: usize = 50;

/// A bad parameter: which one, what was wrong (in French, shown to the
/// visitor or returned in the API's 400 body) and what is accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("paramètre `{parameter}` : {message}")]
pub struct QueryError {
    pub parameter: String,
    pub message: String,
    /// The accepted values or form, when it is a closed list or a format.
    pub accepted: Vec<String>,
}

impl QueryError {
    fn new(parameter: &str, message: impl Into<String>, accepted: Vec<String>) -> QueryError {
        QueryError {
            parameter: parameter.to_string(),
            message: message.into(),
            accepted,
        }
    }
}

/// The status filter's public codes, in the order pages list them.
pub const STATUSES: [(&str, Status); 3] = [
    ("ouvert", Status::Open),
    ("a_venir", Status::Upcoming),
    ("clos", Status::Closed),
];

/// The orders' public codes.
pub const ORDERS: [(&str, CallOrder); 3] = [
    ("cloture", CallOrder::Deadline),
    ("recent", CallOrder::Newest),
    ("modifie", CallOrder::Updated),
];

/// The parameters every listing understands.
pub const PARAMETERS: [&str; 11] = [
    "q",
    "public",
    "region",
    "departement",
    "commune",
    "theme",
    "type",
    "statut",
    "cloture_apres",
    "cloture_avant",
    "tri",
];

/// A parsed, validated search.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SearchQuery {
    pub text: Option<String>,
    pub audiences: Vec<Audience>,
    pub region: Option<String>,
    pub department: Option<String>,
    /// INSEE code of the commune (a name is resolved on parsing).
    pub commune: Option<String>,
    pub themes: Vec<Theme>,
    pub kinds: Vec<CallKind>,
    /// Empty: the default (open and upcoming); `tous` gives all three.
    pub statuses: Vec<Status>,
    /// First and last Paris day of the deadline window.
    pub deadline_from: Option<NaiveDate>,
    pub deadline_to: Option<NaiveDate>,
    pub order: CallOrder,
}

/// What [`SearchQuery::parse`] returns: the search, and the values of the
/// caller's own parameters (`extra`), by name.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub query: SearchQuery,
    pub extra: BTreeMap<String, String>,
}

impl SearchQuery {
    /// Parses a raw query string (`a=1&b=2`, percent-encoded, `+` for
    /// spaces). `extra` names the caller's own single-valued parameters.
    pub fn parse(raw: &str, extra: &[&str]) -> Result<Parsed, QueryError> {
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(raw.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Self::from_pairs(&pairs, extra)
    }

    /// Parses decoded `(name, value)` pairs.
    pub fn from_pairs(pairs: &[(String, String)], extra: &[&str]) -> Result<Parsed, QueryError> {
        let mut q = SearchQuery::default();
        let mut out = BTreeMap::new();
        let mut seen_single: Vec<&str> = Vec::new();
        let mut all_statuses = false;
        for (name, value) in pairs {
            let value = value.trim();
            if name.is_empty() && value.is_empty() {
                // `a=1&&b=2`, a stray `=`: nothing was asked.
                continue;
            }
            if let Some(&own) = extra.iter().find(|e| **e == name) {
                if out.insert(own.to_string(), value.to_string()).is_some() {
                    return Err(QueryError::new(own, "donné plusieurs fois", vec![]));
                }
                continue;
            }
            let Some(&param) = PARAMETERS.iter().find(|p| **p == name) else {
                let mut accepted: Vec<String> = PARAMETERS.iter().map(|p| p.to_string()).collect();
                accepted.extend(extra.iter().map(|e| e.to_string()));
                let shown = if name.is_empty() {
                    "(sans nom)".to_string()
                } else {
                    clip(name)
                };
                return Err(QueryError::new(&shown, "paramètre inconnu", accepted));
            };
            if value.is_empty() {
                continue;
            }
            let single = matches!(
                param,
                "q" | "region"
                    | "departement"
                    | "commune"
                    | "cloture_apres"
                    | "cloture_avant"
                    | "tri"
            );
            if single {
                if seen_single.contains(&param) {
                    return Err(QueryError::new(param, "donné plusieurs fois", vec![]));
                }
                seen_single.push(param);
            }
            match param {
                "q" => {
                    if value.chars().count() > MAX_TEXT_CHARS {
                        return Err(QueryError::new(
                            "q",
                            format!("texte trop long (au plus {MAX_TEXT_CHARS} caractères)"),
                            vec![],
                        ));
                    }
                    if crate::store::fts_query(value).is_none() {
                        return Err(QueryError::new(
                            "q",
                            "le texte ne contient aucun mot à chercher",
                            vec![],
                        ));
                    }
                    q.text = Some(value.to_string());
                }
                "public" => push_codes(&mut q.audiences, param, value)?,
                "theme" => push_codes(&mut q.themes, param, value)?,
                "type" => push_codes(&mut q.kinds, param, value)?,
                "statut" => {
                    for code in split(param, value)? {
                        if code == "tous" {
                            all_statuses = true;
                            continue;
                        }
                        let Some((_, status)) = STATUSES.iter().find(|(c, _)| *c == code) else {
                            let mut accepted: Vec<String> =
                                STATUSES.iter().map(|(c, _)| c.to_string()).collect();
                            accepted.push("tous".to_string());
                            return Err(QueryError::new(
                                param,
                                format!("statut inconnu `{}`", clip(code)),
                                accepted,
                            ));
                        };
                        if !q.statuses.contains(status) {
                            q.statuses.push(*status);
                        }
                    }
                }
                "region" => {
                    let r = territory::region(value).ok_or_else(|| {
                        QueryError::new(
                            param,
                            format!("région inconnue `{}`", clip(value)),
                            vec!["un code région INSEE, par exemple 53".to_string()],
                        )
                    })?;
                    q.region = Some(r.code.to_string());
                }
                "departement" => {
                    let d = territory::department(value).ok_or_else(|| {
                        QueryError::new(
                            param,
                            format!("département inconnu `{}`", clip(value)),
                            vec!["un code département INSEE, par exemple 35 ou 2A".to_string()],
                        )
                    })?;
                    q.department = Some(d.code.to_string());
                }
                "commune" => q.commune = Some(value.to_string()),
                "cloture_apres" => q.deadline_from = Some(day(param, value)?),
                "cloture_avant" => q.deadline_to = Some(day(param, value)?),
                "tri" => {
                    let Some((_, order)) = ORDERS.iter().find(|(c, _)| *c == value) else {
                        return Err(QueryError::new(
                            param,
                            format!("tri inconnu `{}`", clip(value)),
                            ORDERS.iter().map(|(c, _)| c.to_string()).collect(),
                        ));
                    };
                    q.order = *order;
                }
                _ => unreachable!("every name of PARAMETERS has an arm"),
            }
        }
        if all_statuses {
            q.statuses = STATUSES.iter().map(|(_, s)| *s).collect();
        }
        if let Some(name) = q.commune.take() {
            q.commune = Some(resolve_commune(&name, q.department.as_deref())?);
        }
        if let (Some(from), Some(to)) = (q.deadline_from, q.deadline_to)
            && from > to
        {
            return Err(QueryError::new(
                "cloture_avant",
                "la fin de la fenêtre de clôture précède son début",
                vec![],
            ));
        }
        Ok(Parsed {
            query: q,
            extra: out,
        })
    }

    /// The statuses this search shows: the chosen ones, else open and
    /// upcoming.
    pub fn effective_statuses(&self) -> Vec<Status> {
        if self.statuses.is_empty() {
            vec![Status::Open, Status::Upcoming]
        } else {
            self.statuses.clone()
        }
    }

    /// The most precise territory chosen (commune, else department, else
    /// region).
    pub fn territory(&self) -> Option<Perimeter> {
        if let Some(c) = &self.commune {
            Some(Perimeter::Commune(c.clone()))
        } else if let Some(d) = &self.department {
            Some(Perimeter::Department(d.clone()))
        } else {
            self.region.clone().map(Perimeter::Region)
        }
    }

    /// The store filter of this search, for the public (approved calls
    /// only). The territory follows the digests' rule: a call matches when
    /// its perimeter contains the chosen territory (a national call
    /// matches every commune).
    pub fn to_filter(&self) -> CallFilter {
        CallFilter {
            status: self.effective_statuses(),
            themes: self.themes.clone(),
            audiences: self.audiences.clone(),
            perimeters: self
                .territory()
                .map(|p| territory::ancestors(&p))
                .unwrap_or_default(),
            text: self.text.clone(),
            kinds: self.kinds.clone(),
            deadline_after: self.deadline_from.map(|d| paris(d, false)),
            deadline_before: self.deadline_to.map(|d| paris(d, true)),
            public_only: true,
            order: self.order,
            ..CallFilter::default()
        }
    }

    /// The canonical query string of this search (without `?`), parameters
    /// in a fixed order, defaults left out: equal searches give equal
    /// strings, so it can key a cache or build "the same search as a feed".
    pub fn to_query_string(&self) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        if let Some(t) = &self.text {
            s.append_pair("q", t);
        }
        for a in sorted(&self.audiences) {
            s.append_pair("public", a.as_str());
        }
        if let Some(r) = &self.region {
            s.append_pair("region", r);
        }
        if let Some(d) = &self.department {
            s.append_pair("departement", d);
        }
        if let Some(c) = &self.commune {
            s.append_pair("commune", c);
        }
        for t in sorted(&self.themes) {
            s.append_pair("theme", t.as_str());
        }
        for k in sorted(&self.kinds) {
            s.append_pair("type", k.as_str());
        }
        for (code, status) in STATUSES {
            if self.statuses.contains(&status) {
                s.append_pair("statut", code);
            }
        }
        if let Some(d) = self.deadline_from {
            s.append_pair("cloture_apres", &d.format("%Y-%m-%d").to_string());
        }
        if let Some(d) = self.deadline_to {
            s.append_pair("cloture_avant", &d.format("%Y-%m-%d").to_string());
        }
        if self.order != CallOrder::Deadline
            && let Some((code, _)) = ORDERS.iter().find(|(_, o)| *o == self.order)
        {
            s.append_pair("tri", code);
        }
        s.finish()
    }

    /// `path` followed by this search's query string (and `?` only when
    /// there is one).
    pub fn url(&self, path: &str) -> String {
        let qs = self.to_query_string();
        let mut out = path.to_string();
        if !qs.is_empty() {
            let _ = write!(out, "?{qs}");
        }
        out
    }
}

mod values;

use values::{clip, day, paris, push_codes, resolve_commune, sorted, split};

#[cfg(test)]
mod tests;

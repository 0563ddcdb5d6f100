//! The declarative parts a source definition adds on top of its paths and
//! selectors, shared by `json` and `html` sources:
//!
//! - a field read from several places ([`FieldRule`]): the first place that
//!   gives a non-empty value wins, or, for fields that take several values
//!   (`deadline`, `audiences`, `themes`), every place contributes;
//! - a value transform per place ([`Transform`]): a regex replace, a regex
//!   capture, then characters trimmed from both ends;
//! - item filters ([`ItemFilter`]): an item is kept only when every filter
//!   keeps it.
//!
//! Regexes are compiled by `source::load`; nothing here can fail or panic,
//! whatever the values are.

use regex::Regex;

use crate::text::non_empty;

/// How one value is rewritten before it becomes a field. The steps run in
/// this order; a step that is not set does nothing.
#[derive(Debug, Clone, Default)]
pub struct Transform {
    /// Every match of the regex replaced by the template (`$1`, `${name}`
    /// refer to groups).
    pub replace: Option<(Regex, String)>,
    /// The value becomes the first participating capture group of the first
    /// match (the whole match when the regex has no group). No match: the
    /// value is empty, so the next place of the field is tried.
    pub capture: Option<Regex>,
    /// Characters stripped from both ends.
    pub trim: Option<String>,
}

impl Transform {
    /// The transformed value, whitespace collapsed; `None` when empty.
    pub fn apply(&self, value: &str) -> Option<String> {
        let mut v = value.to_string();
        if let Some((re, with)) = &self.replace {
            v = re.replace_all(&v, with.as_str()).into_owned();
        }
        if let Some(re) = &self.capture {
            let caps = re.captures(&v)?;
            let m = caps
                .iter()
                .skip(1)
                .flatten()
                .next()
                .or_else(|| caps.get(0))?;
            v = m.as_str().to_string();
        }
        if let Some(chars) = &self.trim {
            v = v
                .trim_matches(|c: char| c.is_whitespace() || chars.contains(c))
                .to_string();
        }
        non_empty(&v)
    }
}

/// One place a field is read from (a JSON path, an HTML selector) and the
/// transform of what is found there.
#[derive(Debug, Clone)]
pub struct FieldSource<S> {
    pub at: S,
    pub transform: Transform,
}

/// A field of a source definition: one or several places, in order.
#[derive(Debug, Clone)]
pub struct FieldRule<S> {
    pub sources: Vec<FieldSource<S>>,
    /// As written in the definition, for messages.
    pub raw: String,
}

impl<S> FieldRule<S> {
    /// A field read from one place, untransformed.
    pub fn single(at: S, raw: impl Into<String>) -> Self {
        FieldRule {
            sources: vec![FieldSource {
                at,
                transform: Transform::default(),
            }],
            raw: raw.into(),
        }
    }

    /// The first non-empty transformed value, trying each place in order
    /// and, in each place, each value `values` finds there.
    pub fn first<I>(&self, mut values: impl FnMut(&S) -> I) -> Option<String>
    where
        I: IntoIterator<Item = String>,
    {
        self.sources.iter().find_map(|source| {
            values(&source.at)
                .into_iter()
                .find_map(|v| source.transform.apply(&v))
        })
    }

    /// Every non-empty transformed value of every place, in order, each
    /// distinct value once.
    pub fn all<I>(&self, mut values: impl FnMut(&S) -> I) -> Vec<String>
    where
        I: IntoIterator<Item = String>,
    {
        let mut out: Vec<String> = Vec::new();
        for source in &self.sources {
            for v in values(&source.at) {
                if let Some(t) = source.transform.apply(&v)
                    && !out.contains(&t)
                {
                    out.push(t);
                }
            }
        }
        out
    }
}

/// What a filter's value is tested against.
#[derive(Debug, Clone)]
pub enum FilterTest {
    /// The value is exactly this text (`true`, `31094502`, `Ouvert`).
    Equals(String),
    /// The value is one of these texts.
    OneOf(Vec<String>),
    /// The regex matches somewhere in the value (anchor it with `^…$`).
    Matches(Regex),
}

impl FilterTest {
    fn passes(&self, value: &str) -> bool {
        match self {
            FilterTest::Equals(want) => value == want,
            FilterTest::OneOf(wanted) => wanted.iter().any(|w| w == value),
            FilterTest::Matches(re) => re.is_match(value),
        }
    }
}

/// One `[[json.filters]]` / `[[html.filters]]` entry.
#[derive(Debug, Clone)]
pub struct ItemFilter<S> {
    /// Where the tested value is read in the item.
    pub at: S,
    pub test: FilterTest,
    /// Drop the items that pass the test instead of keeping them.
    pub exclude: bool,
    /// `json.filters[1] (path `status`)`, for warnings.
    pub label: String,
}

/// What a filter decides about one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Keep,
    Drop,
    /// An include filter found no value in the item: the item is dropped
    /// and counted, so the curator hears about it.
    Missing,
}

impl<S> ItemFilter<S> {
    /// The verdict on an item whose values at `at` are `values` (already
    /// collapsed; empty ones are ignored). Several values: the test passes
    /// when any of them passes.
    pub fn judge(&self, values: &[String]) -> Verdict {
        let present: Vec<&str> = values
            .iter()
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .collect();
        if present.is_empty() {
            return if self.exclude {
                Verdict::Keep
            } else {
                Verdict::Missing
            };
        }
        let passes = present.iter().any(|v| self.test.passes(v));
        if passes != self.exclude {
            Verdict::Keep
        } else {
            Verdict::Drop
        }
    }
}

/// Applies `filters` to the items of one page and counts, per filter, the
/// items dropped for lack of a value.
#[derive(Debug)]
pub struct FilterRun<'f, S> {
    filters: &'f [ItemFilter<S>],
    missing: Vec<usize>,
}

impl<'f, S> FilterRun<'f, S> {
    pub fn new(filters: &'f [ItemFilter<S>]) -> Self {
        FilterRun {
            filters,
            missing: vec![0; filters.len()],
        }
    }

    /// Whether every filter keeps the item; `values` reads the values at a
    /// filter's place. Stops at the first filter that drops the item.
    pub fn keeps(&mut self, mut values: impl FnMut(&S) -> Vec<String>) -> bool {
        for (i, f) in self.filters.iter().enumerate() {
            match f.judge(&values(&f.at)) {
                Verdict::Keep => {}
                Verdict::Drop => return false,
                Verdict::Missing => {
                    self.missing[i] += 1;
                    return false;
                }
            }
        }
        true
    }

    /// One warning per filter that met items without a value.
    pub fn warnings(&self, page: impl std::fmt::Display) -> Vec<String> {
        self.filters
            .iter()
            .zip(&self.missing)
            .filter(|(_, n)| **n > 0)
            .map(|(f, n)| {
                format!(
                    "{n} item(s) on {page} have no value for {}: dropped (check the path or selector)",
                    f.label
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;

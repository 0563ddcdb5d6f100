//! Match stage: which calls fit which subscriber. Pipeline:
//! store → **match** → deliver.
//!
//! The rules, written once in [`Matcher::check`], in the order they are
//! evaluated (cheapest first; [`why_not`] reports the first that fails):
//!
//! 1. the call is visible (not hidden by a curator, not waiting in review);
//! 2. it is open or upcoming;
//! 3. its audiences include the subscriber's type (no audience = everyone);
//! 4. it shares a theme with the subscriber, when the subscriber chose themes;
//! 5. its perimeter contains the subscriber's territory: one of its
//!    members is among the territory's ancestors (a commune of Val-d'Oise
//!    gets calls for `95`, Île-de-France, France and Europe, and a call for
//!    "Bretagne, Île-de-France"); a call whose perimeter is unresolved
//!    waits for a curator and fits nobody;
//! 6. its title, summary or funder holds one of the subscriber's keywords,
//!    when the subscriber gave keywords.
//!
//! Keywords ignore accents and case and match whole words: `numerique`
//! finds « Numérique » but not « numériques »; a trailing `*` makes the last
//! word a prefix (`numeri*` finds both); several words must follow each
//! other (`tiers lieu` finds « tiers-lieu »: anything but a letter or digit
//! separates words). Any one keyword is enough.
//!
//! Speed: digests compare every subscriber (~35,000) with every open call
//! (~5,000). [`CallFacts`] is built once per call (audience and theme bit
//! masks, sorted distinct words) and [`Matcher`] once per subscriber (the
//! territory's ancestors, keywords split into words), so checking one pair
//! allocates nothing: two mask tests, a few perimeter comparisons, and a
//! binary search per keyword word. A digest run also computes
//! [`KeywordHits`] once (which calls hold each distinct keyword), and
//! [`Matcher::over`] then answers the keyword rule with a bit test.

use std::collections::HashMap;

use crate::domain::{Audience, CallPerimeter, Perimeter, Status, Theme};
use crate::normalize::text::{fold, words};
use crate::store::CallRecord;
use crate::subscribers::{Profile, Subscriber};
use crate::territory;

fn audience_bit(a: Audience) -> u16 {
    1 << Audience::ALL.iter().position(|x| *x == a).unwrap_or(0)
}

fn theme_bit(t: Theme) -> u32 {
    1 << Theme::ALL.iter().position(|x| *x == t).unwrap_or(0)
}

/// What matching needs of a call. Build it with [`CallFacts::new`] or
/// [`CallFacts::from_record`] (the public fields are for reading: the
/// precomputed masks and words are derived from them at construction).
#[derive(Debug, Clone)]
pub struct CallFacts {
    pub id: i64,
    /// False when a curator hid the call or it waits in review.
    pub visible: bool,
    pub status: Status,
    pub audiences: Vec<Audience>,
    pub perimeter: CallPerimeter,
    pub themes: Vec<Theme>,
    /// Title, summary and funder folded (ASCII, lowercase), as words
    /// separated by one space.
    pub folded_text: String,
    /// Bit per audience; 0 = open to everyone.
    audience_mask: u16,
    theme_mask: u32,
    /// The distinct words of `folded_text`, sorted, for binary search.
    words: Vec<Box<str>>,
}

impl CallFacts {
    /// `text` is everything keywords are looked for in (title, summary,
    /// funder), in any case and with accents. Visible by default.
    pub fn new(
        id: i64,
        status: Status,
        audiences: Vec<Audience>,
        perimeter: impl Into<CallPerimeter>,
        themes: Vec<Theme>,
        text: &str,
    ) -> CallFacts {
        let folded = fold(text);
        let folded_text = words(&folded).collect::<Vec<_>>().join(" ");
        let mut distinct: Vec<Box<str>> = words(&folded_text).map(Box::from).collect();
        distinct.sort_unstable();
        distinct.dedup();
        CallFacts {
            id,
            visible: true,
            status,
            audience_mask: audiences.iter().fold(0, |m, a| m | audience_bit(*a)),
            theme_mask: themes.iter().fold(0, |m, t| m | theme_bit(*t)),
            audiences,
            perimeter: perimeter.into(),
            themes,
            folded_text,
            words: distinct,
        }
    }

    /// From a stored call (its status as derived when it was read).
    pub fn from_record(c: &CallRecord) -> CallFacts {
        let text = format!(
            "{} {} {}",
            c.title,
            c.summary_text,
            c.funder.as_deref().unwrap_or("")
        );
        CallFacts::new(
            c.id,
            c.status,
            c.audiences.clone(),
            c.perimeter.clone(),
            c.themes.clone(),
            &text,
        )
        // Only approved calls reach subscribers: pending ones wait for a
        // curator, rejected ones are hidden for good.
        .with_visible(c.review == "approved")
    }

    /// The same call, shown or hidden.
    pub fn with_visible(mut self, visible: bool) -> CallFacts {
        self.visible = visible;
        self
    }

    fn has_word(&self, w: &str) -> bool {
        self.words.binary_search_by(|x| (**x).cmp(w)).is_ok()
    }

    fn has_prefix(&self, p: &str) -> bool {
        let i = self.words.partition_point(|x| **x < *p);
        self.words.get(i).is_some_and(|x| x.starts_with(p))
    }
}

/// One keyword, folded and split into words once.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Keyword {
    Word(Box<str>),
    Prefix(Box<str>),
    /// Several words in a row; the last is a prefix when `prefix`.
    Phrase {
        words: Vec<Box<str>>,
        joined: Box<str>,
        prefix: bool,
    },
}

impl Keyword {
    fn compile(keyword: &str) -> Option<Keyword> {
        let folded = fold(keyword.trim());
        let prefix = folded.ends_with('*');
        let ws: Vec<Box<str>> = words(&folded).map(Box::from).collect();
        match ws.len() {
            0 => None,
            1 if prefix => Some(Keyword::Prefix(ws[0].clone())),
            1 => Some(Keyword::Word(ws[0].clone())),
            _ => Some(Keyword::Phrase {
                joined: ws.join(" ").into(),
                words: ws,
                prefix,
            }),
        }
    }

    fn matches(&self, call: &CallFacts) -> bool {
        match self {
            Keyword::Word(w) => call.has_word(w),
            Keyword::Prefix(p) => call.has_prefix(p),
            Keyword::Phrase {
                words,
                joined,
                prefix,
            } => {
                // Every word present (cheap) before looking for them in a row.
                let (last, rest) = words.split_last().expect("a phrase has words");
                let present = rest.iter().all(|w| call.has_word(w))
                    && if *prefix {
                        call.has_prefix(last)
                    } else {
                        call.has_word(last)
                    };
                present && contains_phrase(&call.folded_text, joined, *prefix)
            }
        }
    }
}

/// Whether `phrase` occurs in `text` (both words separated by one space)
/// starting at a word boundary, and ending at one unless `prefix`.
fn contains_phrase(text: &str, phrase: &str, prefix: bool) -> bool {
    let bytes = text.as_bytes();
    text.match_indices(phrase).any(|(at, _)| {
        let end = at + phrase.len();
        (at == 0 || bytes[at - 1] == b' ') && (prefix || end == bytes.len() || bytes[end] == b' ')
    })
}

/// Why a call does not fit: the rule that failed.
pub mod reason {
    pub const HIDDEN: &str = "not visible (hidden or waiting in review)";
    pub const CLOSED: &str = "closed";
    pub const AUDIENCE: &str = "not open to the subscriber's type of body";
    pub const THEME: &str = "no theme in common with the subscriber's themes";
    pub const PERIMETER: &str = "its perimeter does not contain the subscriber's territory";
    pub const PERIMETER_UNRESOLVED: &str =
        "its perimeter is not resolved yet (a curator sets it with `vigie calls perimeter`)";
    pub const KEYWORD: &str = "none of the subscriber's keywords";
}

/// One subscriber's preferences, compiled for fast checks against many calls.
#[derive(Debug, Clone)]
pub struct Matcher {
    audience_bit: u16,
    /// 0 = every theme.
    theme_mask: u32,
    /// Every perimeter containing the subscriber's territory, itself
    /// included: a call fits when its perimeter is one of them.
    ancestors: Vec<Perimeter>,
    /// Empty = no keyword filter.
    keywords: Vec<Keyword>,
}

impl Matcher {
    pub fn new(s: &Subscriber) -> Matcher {
        Matcher::for_profile(&s.profile)
    }

    pub fn for_profile(p: &Profile) -> Matcher {
        Matcher {
            audience_bit: audience_bit(p.audience),
            theme_mask: p.themes.iter().fold(0, |m, t| m | theme_bit(*t)),
            ancestors: territory::ancestors(&p.territory),
            keywords: p
                .keywords
                .iter()
                .filter_map(|k| Keyword::compile(k))
                .collect(),
        }
    }

    /// The rules, in order; `Err` names the first that failed.
    pub fn check(&self, c: &CallFacts) -> Result<(), &'static str> {
        self.check_with(c, |_, k| k.matches(c))
    }

    /// [`Matcher::check`], asking `holds(n, keyword)` whether the call holds
    /// the subscriber's `n`th keyword: the rules stay written once, whether
    /// keywords are looked up in the call's words or in [`KeywordHits`].
    fn check_with(
        &self,
        c: &CallFacts,
        holds: impl Fn(usize, &Keyword) -> bool,
    ) -> Result<(), &'static str> {
        if !c.visible {
            return Err(reason::HIDDEN);
        }
        if c.status == Status::Closed {
            return Err(reason::CLOSED);
        }
        if c.audience_mask != 0 && c.audience_mask & self.audience_bit == 0 {
            return Err(reason::AUDIENCE);
        }
        if self.theme_mask != 0 && c.theme_mask & self.theme_mask == 0 {
            return Err(reason::THEME);
        }
        match &c.perimeter {
            CallPerimeter::Unresolved(_) => return Err(reason::PERIMETER_UNRESOLVED),
            CallPerimeter::Within(set) => {
                if !set.members().iter().any(|p| self.ancestors.contains(p)) {
                    return Err(reason::PERIMETER);
                }
            }
        }
        if !self.keywords.is_empty() && !self.keywords.iter().enumerate().any(|(n, k)| holds(n, k))
        {
            return Err(reason::KEYWORD);
        }
        Ok(())
    }

    /// This matcher over `calls`, reading the keyword rule from `hits` when
    /// they were computed from the same calls (else from the calls' words).
    pub fn over<'a>(&'a self, calls: &'a [CallFacts], hits: &'a KeywordHits) -> CallsMatcher<'a> {
        let same = hits.calls == calls.len();
        CallsMatcher {
            matcher: self,
            calls,
            hits: self
                .keywords
                .iter()
                .map(|k| hits.hits.get(k).filter(|_| same).map(|b| &b[..]))
                .collect(),
        }
    }

    pub fn fits(&self, c: &CallFacts) -> bool {
        self.check(c).is_ok()
    }

    /// The calls of `calls` that fit, in their order.
    pub fn filter<'a>(&'a self, calls: &'a [CallFacts]) -> impl Iterator<Item = &'a CallFacts> {
        calls.iter().filter(|c| self.fits(c))
    }
}

/// Which calls hold which keyword, computed once per digest run for every
/// distinct keyword of the subscribers: ~7,000 subscribers give keywords,
/// mostly the same few, and looking each one up in the words of each call
/// for each subscriber was most of the matching time.
#[derive(Debug, Default)]
pub struct KeywordHits {
    /// The number of calls the bit sets cover.
    calls: usize,
    /// Bit `i` set when `calls[i]` holds the keyword.
    hits: HashMap<Keyword, Box<[u64]>>,
}

impl KeywordHits {
    /// The hits of `keywords` (as subscribers write them; repeats and
    /// blanks are fine) in `calls`.
    pub fn new<'a>(
        calls: &[CallFacts],
        keywords: impl IntoIterator<Item = &'a str>,
    ) -> KeywordHits {
        let mut hits = HashMap::new();
        for keyword in keywords.into_iter().filter_map(Keyword::compile) {
            hits.entry(keyword).or_insert_with_key(|k: &Keyword| {
                let mut bits = vec![0u64; calls.len().div_ceil(64)];
                for (i, c) in calls.iter().enumerate() {
                    if k.matches(c) {
                        bits[i / 64] |= 1 << (i % 64);
                    }
                }
                bits.into_boxed_slice()
            });
        }
        KeywordHits {
            calls: calls.len(),
            hits,
        }
    }

    /// Distinct keywords held.
    pub fn len(&self) -> usize {
        self.hits.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hits.is_empty()
    }
}

/// A [`Matcher`] bound to a list of calls and their [`KeywordHits`]: the
/// same rules, with keywords answered by one bit test.
#[derive(Debug)]
pub struct CallsMatcher<'a> {
    matcher: &'a Matcher,
    calls: &'a [CallFacts],
    /// Per keyword of the matcher, its hits when known.
    hits: Vec<Option<&'a [u64]>>,
}

impl CallsMatcher<'_> {
    /// Whether `calls[i]` fits (`false` when there is no such call).
    pub fn fits(&self, i: usize) -> bool {
        let Some(call) = self.calls.get(i) else {
            return false;
        };
        self.matcher
            .check_with(call, |n, k| match self.hits.get(n).copied().flatten() {
                Some(bits) => bits.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0),
                None => k.matches(call),
            })
            .is_ok()
    }
}

/// Whether `call` fits `subscriber`. For many calls, build a [`Matcher`] once.
pub fn fits(call: &CallFacts, subscriber: &Subscriber) -> bool {
    Matcher::new(subscriber).fits(call)
}

/// The first rule `call` fails for `subscriber`, or `None` when it fits
/// (for `vigie digest preview` and tests).
pub fn why_not(call: &CallFacts, subscriber: &Subscriber) -> Option<&'static str> {
    Matcher::new(subscriber).check(call).err()
}

#[cfg(test)]
mod perimeter_tests;
#[cfg(test)]
mod tests;

//! Title normalization for deduplication: fold, strip boilerplate, and pull
//! out the markers that distinguish editions (years, lots/volets, waves,
//! ordinal editions) into fields of their own.

use std::borrow::Cow;
use std::collections::BTreeSet;

mod words;

pub(crate) use words::is_generic;
use words::{english_to_french, is_boilerplate, is_function_word, names_a_year, opens_a_suffix};

/// A normalized title.
///
/// `tokens` are the content words (folded to lowercase ASCII, light plural
/// stemming, stop words and call boilerplate removed), in title order. `years` are the explicit edition years found
/// (sorted). `lots` are the sub-call markers, as `family:number` with the
/// families `lot` (lot, volet, axe, tranche, mesure), `vague` (vague,
/// session, relève, phase, tour, appel when numbered), `edition`
/// ("3e édition", "saison 2") and `numero` (a number announced by "n°" or
/// "numéro", digit groups joined by dots: "n° 2034-217" is `numero:2034.217`),
/// sorted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TitleKey {
    pub tokens: Vec<String>,
    pub years: Vec<u16>,
    pub lots: Vec<String>,
    /// Kinds the title states itself: `aap` ("appel à projets", "AAP"),
    /// `ami` ("appel à manifestation d'intérêt", "AMI"), sorted.
    pub kinds: Vec<String>,
    /// Every stemmed word but function words (boilerplate kept), in order:
    /// what an acronym in another title may spell ("pat" for "projets
    /// alimentaires territoriaux").
    pub spelled: Vec<String>,
}

impl TitleKey {
    /// The content tokens joined by one space.
    pub fn joined(&self) -> String {
        self.tokens.join(" ")
    }
}

fn is_stop(w: &str) -> bool {
    is_function_word(w) || is_boilerplate(w)
}

/// Lowercase ASCII with every non-alphanumeric run turned into one space.
/// `°`/`º` become spaces first so "n°2" reads "n 2".
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // Whether the last character written is a space (or nothing is written).
    let mut space = true;
    let mut put = |c: u8| {
        if c.is_ascii_alphanumeric() {
            out.push(char::from(c.to_ascii_lowercase()));
            space = false;
        } else if !space {
            out.push(' ');
            space = true;
        }
    };
    for c in text.chars() {
        // DEL goes through `deunicode`, which drops it.
        if c < '\u{7f}' {
            put(c as u8);
        } else if matches!(c, '°' | 'º' | '’' | '«' | '»') {
            put(b' ');
        } else {
            // Transliterated one character at a time: what `deunicode`
            // does to a whole string, but for trailing spaces, which the
            // folding collapses anyway. No transliteration: a separator.
            match deunicode::deunicode_char(c) {
                Some(ascii) => ascii.bytes().for_each(&mut put),
                None => put(b' '),
            }
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// Drops a trailing publisher suffix: the part after the last " - ", " – ",
/// " — " or " | " when it starts with a publisher word (ministère,
/// préfecture, portail...).
fn strip_publisher_suffix(title: &str) -> &str {
    let mut cut = title.len();
    for sep in [" - ", " – ", " — ", " | "] {
        if let Some(i) = title.rfind(sep) {
            let tail = fold(&title[i + sep.len()..]);
            let first = tail.split(' ').next().unwrap_or("");
            if opens_a_suffix(first) && i > 0 && i < cut {
                cut = i;
            }
        }
    }
    &title[..cut]
}

/// "n", "no", "num", "numero": the words that announce a number ("n°"
/// folds to "n").
fn is_number_sign(w: &str) -> bool {
    matches!(w, "n" | "no" | "num" | "numero")
}

/// Digits only, at most 9 of them.
fn is_number(w: &str) -> bool {
    !w.is_empty() && w.len() <= 9 && w.bytes().all(|b| b.is_ascii_digit())
}

fn parse_year(t: &str) -> Option<u16> {
    if t.len() == 4 && t.bytes().all(|b| b.is_ascii_digit()) {
        let y: u16 = t.parse().ok()?;
        if (1990..=2099).contains(&y) {
            return Some(y);
        }
    }
    None
}

/// "1er", "1re", "2e", "2eme", "2nd", "premiere", "deuxieme"... → number.
fn parse_ordinal(t: &str) -> Option<u32> {
    let words = [
        ("premier", 1),
        ("premiere", 1),
        ("second", 2),
        ("seconde", 2),
        ("deuxieme", 2),
        ("troisieme", 3),
        ("quatrieme", 4),
        ("cinquieme", 5),
        ("sixieme", 6),
        ("septieme", 7),
        ("huitieme", 8),
        ("neuvieme", 9),
        ("dixieme", 10),
    ];
    if let Some((_, n)) = words.iter().find(|(w, _)| *w == t) {
        return Some(*n);
    }
    let digits = &t[..t.bytes().take_while(u8::is_ascii_digit).count()];
    if digits.is_empty() || digits.len() > 3 {
        return None;
    }
    let suffix = &t[digits.len()..];
    // French, then English ("1st", "3rd", "4th").
    if [
        "er", "re", "ere", "e", "eme", "nd", "nde", "ieme", "em", "st", "rd", "th",
    ]
    .contains(&suffix)
    {
        digits.parse().ok()
    } else {
        None
    }
}

/// A number after a marker word: digits, roman numerals up to 10, or words.
fn parse_cardinal(t: &str) -> Option<u32> {
    if !t.is_empty() && t.len() <= 3 && t.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse().ok();
    }
    let romans = ["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x"];
    if let Some(i) = romans.iter().position(|r| *r == t) {
        return Some(i as u32 + 1);
    }
    let words = ["un", "deux", "trois", "quatre", "cinq", "six"];
    if let Some(i) = words.iter().position(|r| *r == t) {
        return Some(i as u32 + 1);
    }
    None
}

/// The marker family of a word, if it names a sub-call.
fn marker_family(t: &str) -> Option<&'static str> {
    match t {
        "lot" | "lots" | "volet" | "volets" | "axe" | "tranche" | "mesure" => Some("lot"),
        "vague" | "vagues" | "session" | "releve" | "phase" | "tour" | "appel" | "round" => {
            Some("vague")
        }
        "edition" | "saison" | "promotion" | "promo" => Some("edition"),
        _ => None,
    }
}

/// Light stemming: drop a plural `s` (not `ss`), `aux` → `al`, `eaux`/`eux`
/// lose the `x`, feminine adjectives take the masculine (`enne` → `en`,
/// `aine` → `ain`, `ante` → `ant`, `elle` → `el`, `ive` → `if`: "urbaines
/// européennes" / "urbain européen", "mobilités actives" / "actif"), on
/// words longer than 4 letters; applied until stable so that stemming a
/// stem changes nothing. Borrows when nothing changes (most words).
fn stem(t: &str) -> Cow<'_, str> {
    let mut w = Cow::Borrowed(t);
    loop {
        if w.len() <= 4 || w.bytes().all(|b| b.is_ascii_digit()) {
            return w;
        }
        let drop_last = (w.ends_with('s') && !w.ends_with("ss")) || w.ends_with("eaux");
        let next = if drop_last {
            cut_last(w)
        } else if let Some(s) = w.strip_suffix("aux") {
            Cow::Owned(format!("{s}al"))
        } else if w.ends_with("ux") || w.ends_with("aine") || w.ends_with("ante") {
            cut_last(w)
        } else if w.ends_with("enne") || w.ends_with("elle") {
            cut_last(cut_last(w))
        } else if let Some(s) = w.strip_suffix("ive") {
            Cow::Owned(format!("{s}if"))
        } else {
            return w;
        };
        w = next;
    }
}

/// `w` without its last byte (an ASCII letter here).
fn cut_last(w: Cow<'_, str>) -> Cow<'_, str> {
    match w {
        Cow::Borrowed(b) => Cow::Borrowed(&b[..b.len() - 1]),
        Cow::Owned(mut o) => {
            o.pop();
            Cow::Owned(o)
        }
    }
}

/// The kinds a title states, from its folded words ("appel a projets" →
/// aap, "ami" → ami), sorted.
fn stated_kinds(words: &[&str]) -> Vec<String> {
    let says = |phrase: &[&str]| words.windows(phrase.len()).any(|w| w == phrase);
    let aap: [&[&str]; 4] = [
        &["aap"],
        &["appel", "a", "projets"],
        &["appel", "a", "projet"],
        &["appels", "a", "projets"],
    ];
    let ami: [&[&str]; 3] = [
        &["ami"],
        &["appel", "a", "manifestation", "d", "interet"],
        &["appel", "a", "manifestations", "d", "interet"],
    ];
    // In sorted order.
    let mut kinds = Vec::new();
    if aap.iter().any(|p| says(p)) {
        kinds.push("aap".to_string());
    }
    if ami.iter().any(|p| says(p)) {
        kinds.push("ami".to_string());
    }
    kinds
}

/// A day of the month as titles write it ("13", "1er").
fn is_day(w: &str) -> bool {
    let digits = w.strip_suffix("er").unwrap_or(w);
    digits.len() <= 2 && digits.parse::<u8>().is_ok_and(|d| (1..=31).contains(&d))
}

/// A French month name, folded, or its usual abbreviation.
fn is_month(w: &str) -> bool {
    matches!(
        w,
        "janvier"
            | "janv"
            | "fevrier"
            | "fevr"
            | "fev"
            | "mars"
            | "avril"
            | "avr"
            | "mai"
            | "juin"
            | "juillet"
            | "juil"
            | "aout"
            | "septembre"
            | "sept"
            | "octobre"
            | "oct"
            | "novembre"
            | "nov"
            | "decembre"
            | "dec"
    )
}

/// Normalizes a title into a [`TitleKey`].
pub fn title_key(title: &str) -> TitleKey {
    let folded = fold(strip_publisher_suffix(title));
    let words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
    let kinds = stated_kinds(&words);
    let words: Vec<&str> = words
        .into_iter()
        .map(|w| english_to_french(w).unwrap_or(w))
        .collect();
    let mut consumed = vec![false; words.len()];
    let mut years = BTreeSet::new();
    let mut lots = BTreeSet::new();

    for i in 0..words.len() {
        if consumed[i] {
            continue;
        }
        let w = words[i];
        // A date's day and month ("avant le 13 janvier 2027", "1er mars"):
        // the deadline, compared on its own, not words of the title (its
        // year still reads as a year).
        if let Some(month) = words.get(i + 1)
            && is_day(w)
            && is_month(month)
        {
            consumed[i] = true;
            consumed[i + 1] = true;
            continue;
        }
        // A call number: "n° 618", "numéro 12", "n° 2034-217" (a law's
        // number reads as digit groups). Read before years, so that
        // "n° 2017" is a number, not an edition year.
        if is_number_sign(w) && words.get(i + 1).is_some_and(|n| is_number(n)) {
            let mut j = i + 1;
            let mut parts: Vec<&str> = Vec::new();
            while j < words.len() && is_number(words[j]) {
                parts.push(words[j].trim_start_matches('0'));
                consumed[j] = true;
                j += 1;
            }
            consumed[i] = true;
            lots.insert(format!("numero:{}", parts.join(".")));
            continue;
        }
        // Edition years, unless part of a programme name ("France 2030").
        if let Some(y) = parse_year(w) {
            let named = i > 0 && names_a_year(words[i - 1]);
            if !named {
                years.insert(y);
                consumed[i] = true;
            }
            continue;
        }
        // "<marker> [n|no|numero] <number> [et|, <number>]*": "lot 2", "volets 1 et 2".
        if let Some(family) = marker_family(w) {
            let mut j = i + 1;
            while j < words.len() && is_number_sign(words[j]) {
                j += 1;
            }
            // After "n°" any number is a number ("lot n° 2017"), not a year.
            let signed = j > i + 1;
            let signs = i + 1..j;
            let mut found = false;
            while j < words.len() {
                let n = match parse_cardinal(words[j]) {
                    Some(n) => n.to_string(),
                    None if signed && is_number(words[j]) => {
                        words[j].trim_start_matches('0').to_string()
                    }
                    None => break,
                };
                // "appel 2021" is a year, caught above; a bare "tour 1" etc. is fine.
                lots.insert(format!("{family}:{n}"));
                consumed[j] = true;
                found = true;
                j += 1;
                if j + 1 < words.len() && words[j] == "et" && parse_cardinal(words[j + 1]).is_some()
                {
                    consumed[j] = true;
                    j += 1;
                } else {
                    break;
                }
            }
            if found {
                consumed[i] = true;
                consumed[signs].fill(true);
            }
            continue;
        }
        // "<ordinal> <marker>": "2e vague", "1re releve", "3e edition", "deuxieme appel".
        if let Some(n) = parse_ordinal(w) {
            if let Some(family) = words.get(i + 1).and_then(|n| marker_family(n)) {
                lots.insert(format!("{family}:{n}"));
                consumed[i] = true;
                consumed[i + 1] = true;
            } else {
                // A stray ordinal ("1er janvier") is not content.
                consumed[i] = true;
            }
        }
    }

    let mut tokens: Vec<String> = Vec::new();
    let mut spelled: Vec<String> = Vec::with_capacity(words.len());
    for (i, w) in words.iter().enumerate() {
        if is_function_word(w) {
            continue;
        }
        let t = stem(w);
        if !consumed[i] && !is_boilerplate(w) && !is_stop(&t) {
            tokens.push(t.clone().into_owned());
        }
        spelled.push(t.into_owned());
    }
    TitleKey {
        tokens,
        spelled,
        years: years.into_iter().collect(),
        lots: lots.into_iter().collect(),
        kinds,
    }
}

/// How many blocking tokens [`blocking_tokens`] returns at most.
pub const MAX_BLOCKING_TOKENS: usize = 6;

/// The most distinctive normalized tokens of a title, at most
/// [`MAX_BLOCKING_TOKENS`], for finding candidates in an index: call
/// numbers, then specific words before generic ones, longer before
/// shorter, then alphabetical.
pub fn blocking_tokens(title: &str) -> Vec<String> {
    blocking_tokens_of(&title_key(title))
}

/// [`blocking_tokens`] of an already computed key.
pub fn blocking_tokens_of(key: &TitleKey) -> Vec<String> {
    // Each token is classified once (the generic list is scanned), not at
    // every comparison of the sort.
    let mut ranked: Vec<(bool, std::cmp::Reverse<usize>, &String)> = key
        .tokens
        .iter()
        .map(|t| (is_generic(t), std::cmp::Reverse(t.len()), t))
        .collect();
    ranked.sort();
    // A call number ("numero:618") is the most distinctive thing a title
    // says, and no longer a word of it: it comes first.
    key.lots
        .iter()
        .filter(|m| m.starts_with("numero:"))
        .chain(ranked.into_iter().map(|(_, _, t)| t))
        .take(MAX_BLOCKING_TOKENS)
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests;

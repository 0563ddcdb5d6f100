//! French dates and deadlines: the part of the normalize stage that turns the
//! dates funders write ("1er octobre 2020", "15/03/2021", "jusqu'au 30 juin
//! 2021 à 12h", "2023-02-27T15:00:00+01:00") into [`FrenchDate`]s, and decides
//! which of them is a call's deadline ([`find_deadline`]).
//!
//! Design choices:
//!
//! - **Normalize, then match, then map back.** The text is first folded to
//!   lowercase ASCII (accents stripped with `deunicode`, every Unicode space
//!   including U+00A0 and U+202F made a plain space, `°`/`º` made `o` so that
//!   "1°" reads like "1o"), keeping for every byte of the folded text the byte
//!   range of the original character it came from. Regexes run on the folded
//!   text; [`FoundDate::span`] is always a byte range of the *original* input
//!   and always lies on char boundaries.
//! - **Linear and panic-free.** Regexes are compiled once and the `regex`
//!   crate matches in linear time; every look-around (time after a date, cue
//!   before it) inspects a window of bounded length, so a huge input costs one
//!   pass. Out-of-range numbers ("31/02/2021", "32 mars", "25h") are dropped,
//!   never unwrapped.
//! - **Times.** "12h", "12 h", "12h00", "9 h 30", "12:00", "à midi" (12:00)
//!   after a date, or before it ("avant 17h le 31 mars"). "Minuit" and "24h"
//!   mean the *end* of the named day: "le 15 mars à minuit" is 15 March 23:59,
//!   because a deadline written that way never means the night before.
//!   "0h00" is taken literally. An ISO date-time with an offset is converted to
//!   Europe/Paris local date and time; without an offset it is already local.
//! - **Missing year.** A day and month without a year ("le 15 mars") first
//!   borrows the year of the next date when only a connector separates them
//!   ("du 1er mars au 30 avril 2021", "15 mars et 15 septembre 2022"), going
//!   back one year when the borrowed year would put it after that next date
//!   ("du 15 décembre au 15 janvier 2022" starts in December 2021). Otherwise
//!   it is the first occurrence of that day and month on or after
//!   `reference - 60 days`: a page read in early 2022 that says "15 décembre"
//!   means December 2021 only if that is less than two months ago (a call that
//!   just closed), else the coming December. "29 février" takes the first leap
//!   year that fits.
//! - **Roles from cues.** The words between the previous date (or the
//!   previous sentence) and a date, at most 160 bytes of them, carry its role.
//!   Strong cues ("date limite", "clôture", "jusqu'au", "avant le", "au plus
//!   tard", "publié le", "mise à jour", "ouverture", "jury", "webinaire"...)
//!   beat weak ones ("dépôt", "candidatures", "dossiers"), and among cues of
//!   the same strength the one closest to the date wins. "du X au Y" and
//!   "entre le X et le Y" make X the opening and Y the deadline; a date that
//!   follows another after a mere "et" / "," / "ou" shares its role
//!   ("clôture : 15 mars et 15 septembre 2022"). "Reporté au", "prolongé
//!   jusqu'au" mark a deadline that supersedes the ones written before it.
//!   "Avant le", "jusqu'au" and "au plus tard" only say *when*: after an
//!   event cue ("travaux achevés avant le") they leave the event role. A cue
//!   may also follow the date: "30 juin 2021 (date limite)", "le 31 mars est
//!   la date limite", and calendar lines "31 mars 2021 : clôture ; 20 avril
//!   2021 : jury", where the words after each date are its own.
//! - **What counts as a deadline.** In free text ([`find_deadline`]) only a
//!   date with a deadline cue is a deadline: an uncued date on a page is as
//!   often a publication or event date. In a field the source labelled as the
//!   deadline ([`find_deadline_in_field`]) uncued dates count too, but dates
//!   cued as publication, opening or event still do not. When no deadline is
//!   found, wording such as "au fil de l'eau", "sans date limite", "en
//!   continu" or "AAP permanent" makes the call [`DeadlineFound::Ongoing`].
//!
//! Not handled (on purpose): a month without a day ("mars 2022", "fin mars"),
//! seasons ("printemps 2022"), day/month without a year in digits ("15/03"),
//! English month names, and relative dates ("sous 30 jours").

use std::ops::Range;
use std::sync::LazyLock;

use chrono::{
    DateTime, Datelike, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta,
    TimeZone,
};
use chrono_tz::{Europe::Paris, Tz};
use regex::{Captures, Regex};

/// A calendar date with an optional time of day, as written on the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FrenchDate {
    pub date: NaiveDate,
    pub time: Option<NaiveTime>,
}

/// The time a deadline given without a time of day stands for.
const END_OF_DAY: NaiveTime = match NaiveTime::from_hms_opt(23, 59, 0) {
    Some(t) => t,
    None => panic!("23:59 is a valid time"),
};

impl FrenchDate {
    /// The Europe/Paris instant; 23:59 when no time was given.
    ///
    /// A local time that occurs twice (the October fall-back hour) is the
    /// earlier instant; a local time that does not exist (the March
    /// spring-forward gap, 02:00–03:00) is shifted forward by the gap, as
    /// clocks do: 02:30 becomes 03:30 summer time.
    pub fn to_paris(&self) -> DateTime<Tz> {
        let local = self.date.and_time(self.time.unwrap_or(END_OF_DAY));
        match Paris.from_local_datetime(&local) {
            LocalResult::Single(t) => t,
            LocalResult::Ambiguous(a, b) => a.min(b),
            // The only gap in Paris is the switch from +01:00 to +02:00, so
            // reading the wall time with the winter offset lands after it.
            LocalResult::None => local
                .checked_sub_signed(TimeDelta::hours(1))
                .map(|utc| Paris.from_utc_datetime(&utc))
                .unwrap_or_else(|| Paris.from_utc_datetime(&local)),
        }
    }
}

/// What a date found in free text is about, from the words around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateRole {
    /// A cut-off for applications.
    Deadline,
    /// When applications open.
    Opening,
    /// When the page or call was published or updated.
    Publication,
    /// A dated step that is not a cut-off: webinar, jury, results, works.
    Event,
    /// No cue.
    Unknown,
}

/// One date expression found in free text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundDate {
    pub date: FrenchDate,
    pub role: DateRole,
    /// Byte range in the original input (on char boundaries), time included.
    pub span: Range<usize>,
}

/// The outcome of looking for a deadline in free text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeadlineFound {
    /// One or several cut-off dates, sorted ascending (multi-stage calls keep them all).
    Dates(Vec<FrenchDate>),
    /// The text says the call is permanent / rolling ("au fil de l'eau", "sans date limite", "en continu", "permanent").
    Ongoing,
    /// No deadline in the text (including: only a publication or update date).
    None,
}

/// Every date expression in `text`, in order, with its role.
///
/// `reference` is the day the text was read (crawl or publication date); a
/// date without a year is placed as the module documentation explains.
pub fn find_dates(text: &str, reference: NaiveDate) -> Vec<FoundDate> {
    let folded = Folded::new(text);
    scan(&folded.text, reference)
        .into_iter()
        .map(|hit| FoundDate {
            date: hit.date,
            role: hit.role,
            span: folded.original_span(hit.start..hit.end),
        })
        .collect()
}

/// Parse a text that is expected to be just one date ("15/03/2021",
/// "20230214", "2023-02-27T15:00:00+01:00" in Paris local time, "lundi 2
/// novembre 2020 à 12h00", "Date limite : 15 mars 2021"). `None` when it holds
/// no date or several (a range is not one date).
pub fn parse_date(text: &str, reference: NaiveDate) -> Option<FrenchDate> {
    let folded = Folded::new(text);
    let hits = scan(&folded.text, reference);
    match hits.as_slice() {
        [only] => Some(only.date),
        _ => None,
    }
}

/// Which date(s) in free text are the deadline: dates with a deadline cue (see
/// the module documentation), else [`DeadlineFound::Ongoing`] when the text
/// says the call is permanent, else [`DeadlineFound::None`]. A date without
/// any cue is not taken as a deadline here; use [`find_deadline_in_field`] for
/// a field the source labelled as the deadline.
pub fn find_deadline(text: &str, reference: NaiveDate) -> DeadlineFound {
    deadline(text, reference, false)
}

/// Same as [`find_deadline`], for a text that came from a field the source
/// definition labelled as the deadline: when no date is cued as a deadline,
/// dates without any cue count, while publication-, opening- and event-cued
/// dates still do not.
pub fn find_deadline_in_field(text: &str, reference: NaiveDate) -> DeadlineFound {
    deadline(text, reference, true)
}

fn deadline(text: &str, reference: NaiveDate, labelled: bool) -> DeadlineFound {
    let folded = Folded::new(text);
    let hits = scan(&folded.text, reference);
    // A "reporté au" / "prolongé jusqu'au" deadline replaces those before it.
    let from = hits
        .iter()
        .rposition(|h| h.role == DateRole::Deadline && h.supersedes)
        .unwrap_or(0);
    let mut dates: Vec<FrenchDate> = hits[from..]
        .iter()
        .filter(|h| h.role == DateRole::Deadline)
        .map(|h| h.date)
        .collect();
    if dates.is_empty() {
        if ONGOING.is_match(&folded.text) {
            return DeadlineFound::Ongoing;
        }
        if labelled {
            dates = hits
                .iter()
                .filter(|h| h.role == DateRole::Unknown)
                .map(|h| h.date)
                .collect();
        }
    }
    if dates.is_empty() {
        return DeadlineFound::None;
    }
    dates.sort();
    // The same day written twice, once with a time: keep the time.
    let mut unique: Vec<FrenchDate> = Vec::with_capacity(dates.len());
    for d in dates {
        match unique.last_mut() {
            Some(last) if last.date == d.date => {
                if last.time.is_none() {
                    *last = d;
                }
            }
            _ => unique.push(d),
        }
    }
    DeadlineFound::Dates(unique)
}

/// The input folded to lowercase ASCII, with the original byte range of the
/// character every folded byte came from.
struct Folded {
    text: String,
    starts: Vec<usize>,
    ends: Vec<usize>,
}

impl Folded {
    fn new(original: &str) -> Self {
        let mut folded = Folded {
            text: String::with_capacity(original.len()),
            starts: Vec::with_capacity(original.len()),
            ends: Vec::with_capacity(original.len()),
        };
        let mut buf = [0u8; 4];
        for (at, c) in original.char_indices() {
            let end = at + c.len_utf8();
            let piece: &str = match c {
                '\n' => "\n",
                c if c.is_whitespace() || c.is_control() => " ",
                c if c.is_ascii() => c.to_ascii_lowercase().encode_utf8(&mut buf),
                '°' | 'º' => "o",
                '\u{2010}'..='\u{2015}' | '\u{2212}' => "-",
                c => match deunicode::deunicode_char(c) {
                    // Digits made from symbols ("½" → "1/2") would forge dates.
                    Some(s) if s.len() <= 4 && !s.bytes().any(|b| b.is_ascii_digit()) => s,
                    _ => " ",
                },
            };
            for b in piece.bytes() {
                folded.text.push(char::from(b.to_ascii_lowercase()));
                folded.starts.push(at);
                folded.ends.push(end);
            }
        }
        folded
    }

    /// The original byte range behind a non-empty folded range.
    fn original_span(&self, r: Range<usize>) -> Range<usize> {
        match (
            self.starts.get(r.start),
            r.end.checked_sub(1).and_then(|e| self.ends.get(e)),
        ) {
            (Some(&s), Some(&e)) if s <= e => s..e,
            _ => 0..0,
        }
    }
}

const MONTHS: &str = "janvier|janv|jan|fevrier|fevr|fev|mars|avril|avr|mai|juin|juillet|juil|aout|septembre|sept|sep|octobre|oct|novembre|nov|decembre|dec";
const ORDINAL: &str = r"(?:\s*(?:er|ere|re|o))?";
const TIME: &str = r"(?:(?P<h>\d{1,2})\s*(?:heures?|h)(?:\s*(?P<m>\d{2}))?\b|(?P<h2>\d{1,2}):(?P<m2>\d{2})\b|(?P<noon>midi)\b|(?P<midnight>minuit)\b)";

fn re(pattern: &str) -> Regex {
    // The text they run on is folded to lowercase ASCII, so Unicode classes
    // and word boundaries buy nothing there and cost memory (several MiB
    // of compiled automata) and speed (a Unicode `\b` keeps the fast DFA
    // out): the patterns are written with `\b \w \W \d` and compiled with
    // their ASCII forms.
    let ascii = pattern
        .replace(r"\b", r"(?-u:\b)")
        .replace(r"\w", "[a-z0-9_]")
        .replace(r"\W", "[^a-z0-9_]")
        .replace(r"\d", "[0-9]");
    // The patterns are constants of this module; a typo fails every test.
    Regex::new(&ascii).unwrap_or_else(|e| panic!("invalid built-in regex: {e}"))
}

/// One date expression: ISO, compact ISO, numeric day-first, or textual.
static DATE: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"\b(?:(?P<iy>\d{{4}})[-/](?P<im>\d{{1,2}})[-/](?P<id>\d{{1,2}})(?:[t ](?P<ih>\d{{1,2}}):(?P<imi>\d{{2}})(?::\d{{2}}(?:[.,]\d+)?)?(?P<iz>z|[+-]\d{{2}}(?::?\d{{2}})?)?)?\b|(?P<cy>\d{{4}})(?P<cm>\d{{2}})(?P<cd>\d{{2}})\b|(?:(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)\s+)?(?:(?P<nd>\d{{1,2}})(?:[/.-](?P<nm>\d{{1,2}})[/.-](?P<ny>\d{{4}})|/(?P<nm2>\d{{1,2}})/(?P<ny2>\d{{2}}))\b|(?P<td>\d{{1,2}}){ORDINAL}\s*(?P<tm>{MONTHS})\b\.?(?:\s+(?P<ty>\d{{4}})\b)?))"
    ))
});

/// A time right after a date: "à 12h", ", 17h30", "(midi)", " 12:00".
static TIME_AFTER: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"^\s*(?:[,(-]\s*)?(?:(?:a|avant|jusqu'?\s*a|des|vers)\s+)?{TIME}"
    ))
});

/// A time right before a date: "avant 17h le", "jusqu'à midi, le".
static TIME_BEFORE: LazyLock<Regex> =
    LazyLock::new(|| re(&format!(r"\b{TIME}\s*,?\s*(?:le\s+|du\s+)?$")));

/// "du 1er au" before "15 mars 2021": a bare opening day sharing month and year.
static BARE_DAY: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"\b(?:du|entre(?:\s+le)?)\s+(?P<bare>(?P<d>\d{{1,2}}){ORDINAL})(?:\s+(?:au|et)\s+|\s*-+\s*)(?:le\s+)?$"
    ))
});

static ENTRE: LazyLock<Regex> = LazyLock::new(|| re(r"\bentre\s+(?:le\s+)?$"));
static RANGE_GAP: LazyLock<Regex> =
    LazyLock::new(|| re(r"^\s*(?:-+|au|a|jusqu'?\s*au?)\s*(?:le\s+)?$"));
static ENTRE_GAP: LazyLock<Regex> = LazyLock::new(|| re(r"^\s*et\s+(?:le\s+)?$"));
static LIST_GAP: LazyLock<Regex> =
    LazyLock::new(|| re(r"^(?:\s|[,;/&]|\bet\b|\bou\b|\bpuis\b|\ble\b)*$"));
static SENTENCE_END: LazyLock<Regex> = LazyLock::new(|| re(r"[.!?]\s+|\n\s*\n"));

/// Words that give a date its role. Group names: `px` publication, `ev`
/// event, `sx` superseding deadline, `tp` temporal preposition (deadline
/// unless it follows an event cue), `sd` deadline, `op` opening, `wd` weak
/// deadline (only counts when nothing stronger is in the window).
static CUE: LazyLock<Regex> = LazyLock::new(|| {
    re(concat!(
        r"\b(?:",
        r"(?P<px>publie\w*|publication|date de mise en ligne|mis\w* a jour|maj|mis\w* en ligne|en ligne depuis|modifie\w* le|date de modification|derniere modification|actualise\w* le|cree\w* le|date de creation|paru\w*|parution)",
        r"|(?P<ev>webinaires?|webinars?|reunions?|jury|jurys|comites?|commissions?|selection|laureats?|resultats?|annonces?|notifications?|auditions?|ateliers?|seances?|conferences?|journees?|evenements?|travaux|realisations?|achevement|livraison|signature|versements?|rapports?|bilan|execution|instruction|information|presentation|rencontres?|forum|salon|demarrage|mise en oeuvre|achev\w*|depenses?)",
        r"|(?P<sx>report\w*|prolong\w*|repouss\w*|decale\w*|nouvelle date limite)",
        r"|(?P<tp>jusqu\W{0,2}\s*a(?:u|ux)?|avant|au plus tard)|(?P<sd>dates?\s+limites?|prochaine (?:session|releve|date|echeance)|limites?|clotur\w*|clos|close|date de fin|fin de (?:l'|la |le )?(?:appel|ami|aap|depot|candidature|campagne|session)\w*|fin des (?:candidatures|depots|inscriptions)|echeances?|deadline|fermeture|fixee?s? (?:au|a)|vagues?|releves?|dernier delai|delai de (?:depot|reponse|candidature)|se termine|prend fin|termine\w*|expire\w*|retour des|remise des|reception des|envoi des)",
        r"|(?P<op>ouverture|ouvert\w* le|a partir du|a partir de|a compter du|a compter de|des le|depuis|lancement|lance\w* le|debut|date d'ouverture|commence\w*)",
        r"|(?P<wd>depots?|deposer|depose\w*|candidat\w*|dossiers?|inscriptions?|reponses?|remise|envoi|soumission|soumettre|transmission)",
        r")\b"
    ))
});

/// A cue right after a date: "30 juin 2021 (date limite)", "31 mars 2021 est
/// la date limite", or a calendar line "31 mars 2021 : clôture des dossiers".
static CUE_AFTER: LazyLock<Regex> = LazyLock::new(|| {
    re(concat!(
        r"^\s*(?:(?P<colon>:)|\(|(?:est|sera|constitue|marque)\s+(?:la|le)\s+)\s*(?:",
        r"(?P<sd>dates? limites?|limite|clotur\w*|deadline|fin de (?:l'appel|depot|candidature)\w*|fin des (?:candidatures|depots|inscriptions)|depot des (?:dossiers|candidatures)|remise des|reception des)",
        r"|(?P<px>date de publication|publie\w*|publication|mis\w* en ligne|mis\w* a jour)",
        r"|(?P<op>ouverture|lancement|debut)",
        r"|(?P<ev>jury|comites?|selection|webinaires?|reunions?|resultats?|laureats?|annonces?|auditions?|notifications?)",
        r")\b"
    ))
});

/// Wording of a permanent or rolling call.
static ONGOING: LazyLock<Regex> = LazyLock::new(|| {
    re(concat!(
        r"\b(?:au fil de l'?\s*eau|sans (?:date|delai) (?:limite|de (?:cloture|fin|depot))|sans limite de (?:date|temps)",
        r"|pas de (?:date|delai) (?:limite|de (?:cloture|fin))|aucune date (?:limite|de cloture)",
        r"|date limite\s*:?\s*(?:aucune|neant)|en continu|en permanence|de (?:maniere|facon) permanente|a titre permanent",
        r"|(?:aap|ami|appels?|dispositif|guichet|programme|procedure|candidatures?)\b[^.\n]{0,40}?\bpermanent\w*",
        r"|(?:candidat\w*|depos\w*|dossiers?|demandes?)\b[^.\n]{0,40}?\b(?:a tout moment|tout au long de l'annee|toute l'annee)",
        r")\b|^\s*permanent\w*\s*$"
    ))
});

/// Widest look-back for a cue, in folded bytes.
const CUE_WINDOW: usize = 160;
/// Widest text between two dates that can still join them ("au", " et le ").
const JOIN_WINDOW: usize = 24;
/// Widest text after a date that may hold its time or a parenthesized cue.
const AFTER_WINDOW: usize = 48;

/// A date expression in the folded text, while it is being resolved.
struct Hit {
    start: usize,
    end: usize,
    day: u32,
    month: u32,
    year: Option<i32>,
    time: Option<NaiveTime>,
    cue: Option<DateRole>,
    supersedes: bool,
    after_entre: bool,
    /// Followed by ": <cue>", as in a calendar line.
    calendar: bool,
    date: FrenchDate,
    role: DateRole,
}

impl Hit {
    fn new(start: usize, end: usize, day: u32, month: u32, year: Option<i32>) -> Self {
        Hit {
            start,
            end,
            day,
            month,
            year,
            time: None,
            cue: None,
            supersedes: false,
            after_entre: false,
            calendar: false,
            date: FrenchDate {
                date: NaiveDate::MIN,
                time: None,
            },
            role: DateRole::Unknown,
        }
    }
}

fn scan(text: &str, reference: NaiveDate) -> Vec<Hit> {
    let mut hits = collect(text);
    resolve_years(text, &mut hits, reference);
    let mut hits: Vec<Hit> = hits
        .into_iter()
        .filter_map(|mut h| {
            let date = NaiveDate::from_ymd_opt(h.year?, h.month, h.day)?;
            h.date = FrenchDate { date, time: h.time };
            Some(h)
        })
        .collect();
    assign_roles(text, &mut hits);
    hits
}

/// Every date expression with its time and own cue; years may be missing.
fn collect(text: &str) -> Vec<Hit> {
    let mut hits: Vec<Hit> = Vec::new();
    let mut prev_end = 0;
    for caps in DATE.captures_iter(text) {
        let Some(whole) = caps.get(0) else { continue };
        if whole.start() < prev_end {
            continue; // inside the time of the previous date
        }
        let Some(mut hit) = hit_from(&caps, whole.start(), whole.end()) else {
            continue;
        };
        let after = &text[hit.end..(hit.end + AFTER_WINDOW).min(text.len())];
        if hit.time.is_none()
            && let Some(t) = TIME_AFTER.captures(after)
        {
            hit.time = time_from(&t);
            hit.end += t.get(0).map_or(0, |m| m.end());
        }
        let mut window_start = prev_end.max(hit.start.saturating_sub(CUE_WINDOW));
        if let Some(bare) = BARE_DAY.captures(&text[window_start..hit.start])
            && let (Some(d), Some(span)) = (bare.name("d"), bare.name("bare"))
        {
            let day = d.as_str().parse().unwrap_or(0);
            let mut opening = Hit::new(
                window_start + span.start(),
                window_start + span.end(),
                day,
                hit.month,
                hit.year,
            );
            (opening.cue, opening.supersedes) = own_cue(text, window_start, opening.start);
            window_start = opening.end;
            hits.push(opening);
        }
        let window = &text[window_start..hit.start];
        if hit.time.is_none()
            && let Some(t) = TIME_BEFORE.captures(window)
        {
            hit.time = time_from(&t);
        }
        hit.after_entre = ENTRE.is_match(window);
        let after = CUE_AFTER
            .captures(&text[hit.end..(hit.end + AFTER_WINDOW).min(text.len())])
            .map(|c| {
                let role = if c.name("sd").is_some() {
                    DateRole::Deadline
                } else if c.name("px").is_some() {
                    DateRole::Publication
                } else if c.name("op").is_some() {
                    DateRole::Opening
                } else {
                    DateRole::Event
                };
                (role, c.name("colon").is_some())
            });
        if hits.last().is_some_and(|h| h.calendar) {
            // In "date : what" lines the words before this date describe the
            // previous one.
            hit.cue = after.map(|(role, _)| role);
        } else {
            (hit.cue, hit.supersedes) = own_cue(text, window_start, hit.start);
            hit.cue = hit.cue.or(after.map(|(role, _)| role));
        }
        hit.calendar = after.is_some_and(|(_, colon)| colon);
        prev_end = hit.end;
        hits.push(hit);
    }
    hits
}

fn hit_from(caps: &Captures, start: usize, end: usize) -> Option<Hit> {
    let n = |name: &str| caps.name(name).and_then(|m| m.as_str().parse::<u32>().ok());
    let y = |name: &str| caps.name(name).and_then(|m| m.as_str().parse::<i32>().ok());
    if let (Some(year), Some(month), Some(day)) = (y("iy"), n("im"), n("id")) {
        let date = NaiveDate::from_ymd_opt(year, month, day)?;
        let mut hit = Hit::new(start, end, day, month, Some(year));
        if let (Some(h), Some(m)) = (n("ih"), n("imi")) {
            let local = iso_local(date, h, m, caps.name("iz").map(|z| z.as_str()))?;
            hit.day = local.day();
            hit.month = local.month();
            hit.year = Some(local.year());
            hit.time = Some(local.time());
        }
        return plausible(hit);
    }
    if let (Some(year), Some(month), Some(day)) = (y("cy"), n("cm"), n("cd")) {
        return plausible(Hit::new(start, end, day, month, Some(year)));
    }
    if let (Some(day), Some(month), Some(year)) = (n("nd"), n("nm"), y("ny")) {
        return plausible(Hit::new(start, end, day, month, Some(year)));
    }
    if let (Some(day), Some(month), Some(year)) = (n("nd"), n("nm2"), y("ny2")) {
        return plausible(Hit::new(start, end, day, month, Some(2000 + year)));
    }
    let day = n("td")?;
    let month = month_number(caps.name("tm")?.as_str())?;
    let year = match caps.name("ty") {
        Some(m) => Some(m.as_str().parse().ok()?),
        None => None,
    };
    plausible(Hit::new(start, end, day, month, year))
}

/// Years outside 1900..2200 are serial numbers, not dates.
fn plausible(hit: Hit) -> Option<Hit> {
    let in_range = hit.year.is_none_or(|y| (1900..2200).contains(&y));
    (in_range && (1..=12).contains(&hit.month) && (1..=31).contains(&hit.day)).then_some(hit)
}

fn month_number(name: &str) -> Option<u32> {
    Some(match name.get(..3)? {
        "jan" => 1,
        "fev" => 2,
        "mar" => 3,
        "avr" => 4,
        "mai" => 5,
        "jui" if name.starts_with("juin") => 6,
        "jui" => 7,
        "aou" => 8,
        "sep" => 9,
        "oct" => 10,
        "nov" => 11,
        "dec" => 12,
        _ => return None,
    })
}

/// ISO date and time, with an optional offset, as Europe/Paris local time.
fn iso_local(date: NaiveDate, h: u32, m: u32, zone: Option<&str>) -> Option<NaiveDateTime> {
    let local = date.and_time(NaiveTime::from_hms_opt(h, m, 0)?);
    let Some(zone) = zone else {
        return Some(local);
    };
    let seconds = if zone == "z" {
        0
    } else {
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        let digits: String = zone.chars().filter(char::is_ascii_digit).collect();
        let hours: i32 = digits.get(..2)?.parse().ok()?;
        let minutes: i32 = digits.get(2..4).map_or(Some(0), |s| s.parse().ok())?;
        sign * (hours * 3600 + minutes * 60)
    };
    let offset = FixedOffset::east_opt(seconds)?;
    let utc = local.checked_sub_signed(TimeDelta::seconds(i64::from(offset.local_minus_utc())))?;
    Some(Paris.from_utc_datetime(&utc).naive_local())
}

fn time_from(caps: &Captures) -> Option<NaiveTime> {
    let n = |name: &str| caps.name(name).and_then(|m| m.as_str().parse::<u32>().ok());
    if caps.name("noon").is_some() {
        return NaiveTime::from_hms_opt(12, 0, 0);
    }
    if caps.name("midnight").is_some() {
        return Some(END_OF_DAY);
    }
    let (h, m) = match (n("h"), n("h2")) {
        (Some(h), _) => (h, n("m").unwrap_or(0)),
        (None, Some(h)) => (h, n("m2")?),
        (None, None) => return None,
    };
    // "24h" closes the day, like "minuit".
    if h == 24 && m == 0 {
        return Some(END_OF_DAY);
    }
    NaiveTime::from_hms_opt(h, m, 0)
}

/// The role the words in `text[from..to]` give a date, per the module rules.
fn own_cue(text: &str, from: usize, to: usize) -> (Option<DateRole>, bool) {
    let mut window = &text[from..to];
    if let Some(cut) = SENTENCE_END.find_iter(window).last() {
        window = &window[cut.end()..];
    }
    let mut strong = None;
    let mut weak = None;
    for caps in CUE.captures_iter(window) {
        if caps.name("px").is_some() {
            strong = Some((DateRole::Publication, false));
        } else if caps.name("ev").is_some() {
            strong = Some((DateRole::Event, false));
        } else if caps.name("sx").is_some() {
            strong = Some((DateRole::Deadline, true));
        } else if caps.name("tp").is_some() {
            // "avant le", "jusqu'au" say when, not what: after an event cue
            // ("travaux achevés avant le") they keep the event.
            if strong.is_none_or(|(role, _)| role != DateRole::Event) {
                strong = Some((DateRole::Deadline, false));
            }
        } else if caps.name("sd").is_some() {
            strong = Some((DateRole::Deadline, false));
        } else if caps.name("op").is_some() {
            strong = Some((DateRole::Opening, false));
        } else if caps.name("wd").is_some() {
            weak = Some((DateRole::Deadline, false));
        }
    }
    match strong.or(weak) {
        Some((role, supersedes)) => (Some(role), supersedes),
        None => (None, false),
    }
}

/// The text between two hits when it is short enough to join them.
fn gap<'t>(text: &'t str, before: &Hit, after: &Hit) -> Option<&'t str> {
    (after.start >= before.end && after.start - before.end <= JOIN_WINDOW)
        .then(|| &text[before.end..after.start])
}

fn joined(text: &str, before: &Hit, after: &Hit) -> bool {
    gap(text, before, after)
        .is_some_and(|g| RANGE_GAP.is_match(g) || LIST_GAP.is_match(g) || ENTRE_GAP.is_match(g))
}

/// Fill missing years, right to left so that chains share the last year.
fn resolve_years(text: &str, hits: &mut [Hit], reference: NaiveDate) {
    for i in (0..hits.len()).rev() {
        if hits[i].year.is_some() {
            continue;
        }
        let (month, day) = (hits[i].month, hits[i].day);
        let borrowed = hits.get(i + 1).and_then(|next| {
            let year = next.year?;
            joined(text, &hits[i], next).then(|| {
                if (month, day) > (next.month, next.day) {
                    year - 1
                } else {
                    year
                }
            })
        });
        hits[i].year = borrowed.or_else(|| infer_year(month, day, reference));
    }
}

/// The first `day`/`month` on or after `reference - 60 days`.
fn infer_year(month: u32, day: u32, reference: NaiveDate) -> Option<i32> {
    let floor = reference
        .checked_sub_signed(TimeDelta::days(60))
        .unwrap_or(reference);
    (floor.year()..=floor.year().saturating_add(8))
        .filter_map(|y| NaiveDate::from_ymd_opt(y, month, day))
        .find(|d| *d >= floor)
        .map(|d| d.year())
}

/// Final roles: own cue, then ranges ("du X au Y") and lists ("X et Y").
fn assign_roles(text: &str, hits: &mut [Hit]) {
    for i in 0..hits.len() {
        let own = hits[i].cue;
        let mut role = own.unwrap_or(DateRole::Unknown);
        if i > 0
            && let Some(g) = gap(text, &hits[i - 1], &hits[i])
        {
            let prev = hits[i - 1].role;
            let range = RANGE_GAP.is_match(g) || (hits[i - 1].after_entre && ENTRE_GAP.is_match(g));
            if range {
                match prev {
                    DateRole::Publication | DateRole::Event => {
                        if own.is_none() {
                            role = prev;
                        }
                    }
                    _ => {
                        hits[i - 1].role = DateRole::Opening;
                        if own.is_none_or(|r| r == DateRole::Deadline) {
                            role = DateRole::Deadline;
                        }
                    }
                }
            } else if own.is_none() && LIST_GAP.is_match(g) {
                role = prev;
                hits[i].supersedes = hits[i - 1].supersedes;
            }
        }
        hits[i].role = role;
    }
}

#[cfg(test)]
mod tests;

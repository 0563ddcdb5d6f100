//! Calls their source marks as closed: "Appel à projets X (clos)",
//! "Clôturé – AMI Y", "AAP Z : candidatures closes", or a deadline field
//! that reads "Terminé" instead of a date. Listings often keep such calls
//! for a while; without a date Vigie would take them for open ones and send
//! them as new. Only the title and the deadline field are read: a summary
//! that says "la première édition est close" may introduce the next one.
//!
//! Words are matched with their accents ("clôture", the noun of "clôture le
//! 15 mars", is not "clôturé"), except in capitals without accents, as some
//! sites write ("AAP X - CLOTURE").

use std::sync::LazyLock;

use regex::Regex;

/// A closed state, as one word or a short phrase.
/// Past participles only: "clôture", "termine", "ferme", "expire" are a
/// noun or verbs ("clôture le 15 mars", "se termine le…", "ferme" a farm).
const STATE: &str = r"(?:clos|close|closes|cl[oô]tur(?:ée?s?|ees?)|termin(?:ée?s?|ees?)|ferm(?:ée?s?|ees?)|expir(?:ée?s?|ees?)|[ée]chue?s?|achev(?:ée?s?|ees?))";

/// Capital "CLOTURE" written without its accent, a state in titles.
const STATE_CAPS: &str = r"(?-i:CLOTURE|CLÔTURE)";

static TITLE: LazyLock<Regex> = LazyLock::new(|| {
    let subject = r"(?:appels?(?: [àa] (?:projets?|candidatures?|manifestations? d.int[ée]r[êe]ts?|propositions?))?|aap|ami|candidatures?|d[ée]p[ôo]ts?|inscriptions?|dispositif|session)";
    let pattern = format!(
        r"(?xi)
        # `(clos)`, `[Clôturé]`, `(candidatures closes)`
        [(\[]\s*(?:{subject}\s+)?(?P<a>{STATE}|{STATE_CAPS})\s*[)\]]
        # a state at the end, after a separator: `… – Clôturé`, `… : CLOS`
        # (a hyphen spaced: `Le Vieux-Clos` is a place)
        | (?:\s[-/]|[–—:|])\s*(?:{subject}\s+)?(?P<b>{STATE}|{STATE_CAPS}|cl[ôo]ture)\s*[.!]?\s*$
        # a state first, before a separator: `CLOS - AAP …`, `Clôturé : …`
        # (not `Clos-Fontaine : …`, a commune)
        | ^\s*(?P<c>{STATE}|{STATE_CAPS})(?:\s+-|\s*[–—:|])
        # `AAP clos`, `candidatures closes`, `appel à projets clôturé`
        # (not `clos-couvert`)
        | \b{subject}\s+(?:d[ée]sormais\s+|maintenant\s+)?(?P<d>{STATE})(?:[^-\w]|$)
        # `L'appel à projets X est désormais clos`: the call is the
        # subject (not `Les travaux sont terminés : la commune lance…`)
        | \b{subject}\b[^:;|!?()\[\]]{{0,80}}?\s(?:est|sont)\s+(?:d[ée]sormais\s+|maintenant\s+)?(?P<e>{STATE})(?:[^-\w]|$)
        "
    );
    Regex::new(&pattern).expect("valid closed-title pattern")
});

static FIELD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)^\W*(?:(?:appel|aap|ami|candidatures?|d[ée]p[ôo]ts?|dispositif|date)\s+)?(?:{STATE}|d[ée]pass[ée]e?)\W*$"
    ))
    .expect("valid closed-field pattern")
});

/// "Clos et couvert" (a building's shell), a subject of works, not a state.
static SHELL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\bclos(?:\s+et\s+|\s*-\s*|\s+)couverts?\b").expect("valid pattern")
});

/// Stems of every state, folded (lowercase, no accents): a title without
/// any of them is not read further (the patterns need the slower Unicode
/// engine, and almost no title is closed).
const STEMS: &[&str] = &["clos", "clotur", "termin", "ferm", "expir", "echu", "achev"];

/// A title that also says the call opens again or goes on (folded text).
static REOPENS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\b(?:rouvre|reouvert|reouverture|ouvre|ouvert|ouverte|ouverture|prochaine session|nouvelle session|(?:2|3|4|deuxieme|seconde|troisieme)(?:e|eme)? (?:session|vague|releve|edition)|(?:session|vague|releve) (?:2|3|4)\b)",
    )
    .expect("valid reopening pattern")
});

/// The words of `title` that say its call is closed, if any. `folded` is
/// the title folded by [`super::text::fold`].
pub fn closed_in_title(title: &str, folded: &str) -> Option<String> {
    if !STEMS.iter().any(|s| folded.contains(s)) {
        return None;
    }
    // "La session 1 est close, la session 2 ouvre le 3 mars": one session
    // of a call that goes on.
    if REOPENS.is_match(folded) {
        return None;
    }
    let title = SHELL.replace_all(title, "travaux");
    // The plain match first: captures take a slower engine, and almost
    // every title has none.
    if !TITLE.is_match(&title) {
        return None;
    }
    let caps = TITLE.captures(&title)?;
    ["a", "b", "c", "d", "e"]
        .iter()
        .find_map(|g| caps.name(g))
        .map(|m| m.as_str().to_string())
}

/// Whether a deadline field says that the call is closed instead of when
/// it closes ("Clôturé", "Terminé", "Date dépassée").
pub fn closed_field(text: &str) -> bool {
    FIELD.is_match(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn closed(title: &str) -> Option<String> {
        closed_in_title(title, &crate::normalize::text::fold(title))
    }

    #[test]
    fn titles_marked_closed_by_their_source() {
        for title in [
            "Appel à projets Fabriques de territoire (clos)",
            "AMI Tiers-lieux [Clôturé]",
            "AAP Mobilités rurales - CLOS",
            "AAP Mobilités rurales – Clôturé",
            "Appel à projets « Petites cantines » : candidatures closes",
            "CLOS - Appel à projets Plan vélo",
            "Clôturé : AMI Manufactures de proximité",
            "AAP clos – Restauration du patrimoine rural",
            "L'appel à projets Cœur de village est désormais clos",
            "Appel à candidatures terminé : Conseillers numériques",
            "AMI Friches (CLOTURE)",
            "Appel à projets Eau et climat - CLOTURE",
            "Appel à projets Eau et climat — Clôture",
            "Programme Leader (dispositif clos)",
            "Appel à projets Biodiversité 2024 (terminé)",
        ] {
            assert!(closed(title).is_some(), "{title}");
        }
    }

    #[test]
    fn titles_that_only_look_closed() {
        for title in [
            "Appel à projets Fabriques de territoire",
            "Travaux de clos et couvert des églises rurales : appel à projets",
            "AAP Clos-couvert des bâtiments communaux",
            "Appel à projets – clôture le 15 mars 2027",
            "AMI Clôture des comptes et dématérialisation",
            "Rénovation du Clos Lucé : appel à mécénat",
            "Appel à projets pour la fermeture des décharges sauvages",
            "Aménagement du lotissement Les Clos",
            "Appel à projets Clos-Fontaine : école numérique",
            "AMI pour les communes de la vallée de la Clôture",
            // A commune, a place, works that ended: not the call.
            "Clos-Fontaine : appel à projets école numérique",
            "Rénovation de l'école du Vieux-Clos",
            "Les travaux sont terminés : la commune lance un appel à projets",
        ] {
            assert_eq!(closed(title), None, "{title}");
        }
    }

    #[test]
    fn a_closed_session_of_a_call_that_goes_on_is_not_a_closed_call() {
        for title in [
            "Appel à projets Cantines : la session 1 est close, la session 2 ouvre le 3 mars",
            "AMI Tiers-lieux (vague 1 clôturée) : vague 2 ouverte",
            "AAP Patrimoine – 1re session close, prochaine session en mai",
        ] {
            assert_eq!(closed(title), None, "{title}");
        }
        assert!(closed("AAP Patrimoine – session close").is_some());
    }

    #[test]
    fn deadline_fields_that_say_closed() {
        for text in [
            "Clos",
            "Clôturé",
            "  TERMINÉ ",
            "Appel clos",
            "Candidatures closes",
            "Date dépassée",
            "Échu",
        ] {
            assert!(closed_field(text), "{text}");
        }
        for text in [
            "15 mars 2027",
            "Clôture le 15 mars 2027",
            "Clôture : 15/03/2027",
            "Fil de l'eau",
            "",
        ] {
            assert!(!closed_field(text), "{text}");
        }
    }
}

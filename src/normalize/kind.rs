//! The kind of a call (`aap`, `ami`, `appel_candidatures`, `prix`,
//! `autre`) read from its title or text when the source does not say.
//!
//! In order: an item that is not an open call ([`not_a_call`]: results,
//! procurement, a job offer…) is `autre` even when it names a call
//! ("Lauréats de l'appel à projets X"); then the call kinds named in so
//! many words, most specific first; then generic cues ("candidatez",
//! "label") when no kind is named; then weak signs of a non-call ("recrute", "appel aux
//! dons") give `autre`. `None` when the text says nothing.

pub mod not_a_call;

use std::sync::LazyLock;

use regex::Regex;

use super::text::fold;
use crate::domain::CallKind;

/// Call kinds named in so many words, on folded text (lowercase, no
/// accents), most specific first: "appel à manifestation d'intérêt" wins
/// over "appel à projets"; an award named with an "appel à candidatures"
/// ("Trophées de l'ingénierie territoriale : l'appel à candidatures est
/// lancé") is an award.
static NAMED: LazyLock<Vec<(Regex, CallKind)>> = LazyLock::new(|| {
    [
        (
            r"\bappels? a manifestations?\b|\bmanifestations? d.interets?\b|\bappels? a expressions? d.interets?\b|\bami\b",
            CallKind::Ami,
        ),
        (
            r"\bappels? a (?:projets?|propositions?|initiatives?|communs|programmes?)\b|\baap\b|\bcall for (?:projects|proposals)\b",
            CallKind::Aap,
        ),
        (
            r"\bprix\b|\btrophees?\b|\bconcours\b|\bawards?\b",
            CallKind::Prix,
        ),
        (
            r"\bappels? a candidatures?\b|\bappels? a candidats\b|\bcall for applications\b",
            CallKind::AppelCandidatures,
        ),
    ]
    .into_iter()
    .map(|(re, kind)| (Regex::new(re).expect("valid kind pattern"), kind))
    .collect()
});

/// Words that invite applications or distinguish without naming the kind
/// of call: used only when no kind is named. Kept few, since a title's
/// kind wins over its source's default ("Badge … : les collectivités
/// peuvent candidater" is the award its source says it is): "candidatez"
/// and "label" only.
static GENERIC: LazyLock<Vec<(Regex, CallKind)>> = LazyLock::new(|| {
    [
        (r"\bcandidatez\b", CallKind::AppelCandidatures),
        (r"\blabels?\b", CallKind::Prix),
    ]
    .into_iter()
    .map(|(re, kind)| (Regex::new(re).expect("valid kind pattern"), kind))
    .collect()
});

/// "Prix" that is a price and "concours" that is help, not an award: "prix
/// de l'eau", "prix de journée", "à prix coûtant", "hausse des prix",
/// "avec le concours financier de l'Agence", "le concours particulier de
/// la DGD", "l'EPF apporte son concours".
static NOT_AWARD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"\bprix (?:de l.eau|du m3|de revient|unitaires?|plafonds?|d.achat|de vente|de l.energie|de l.electricite|du gaz",
        r"|du carburant|du foncier|des repas|de cession|du marche|de marche|bas|moyens?|de reference|du billet|des billets",
        r"|des loyers|du loyer|de journee|coutants?|fixes?|reduits?|garantis?|planchers?|de rachat|de la tonne|du carbone",
        r"|des matieres|des materiaux|de l.immobilier|des terres|des denrees|de location|d.entree|du ticket|du repas",
        r"|de l.abonnement|de l.hebergement|publics?|d.equilibre|forfaitaires?|ht|ttc|de la prestation|des prestations)\b",
        r"|\b(?:hausse|baisse|flambee|envolee|augmentation|evolution|maitrise|stabilite|niveau|indice|juste) (?:des |du |de |d.)?prix\b",
        r"|\ba prix\b",
        r"|\bconcours (?:particuliers?|financiers?)\b|\b(?:avec|grace au|sans) (?:le )?concours\b",
        r"|\b(?:son|leur|ses|leurs|notre|votre) concours\b",
    ))
    .expect("valid not-an-award pattern")
});

/// The kind named in `text`, if any.
pub fn detect_kind(text: &str) -> Option<CallKind> {
    let folded = fold(text);
    if not_a_call::strong(&folded).is_some() {
        return Some(CallKind::Autre);
    }
    named_kind(&folded)
        .or_else(|| first_match(&GENERIC, &folded))
        .or_else(|| not_a_call::weak(&folded).map(|_| CallKind::Autre))
}

/// The call kind `folded` names in so many words, awards meaning a price
/// or help left out.
fn named_kind(folded: &str) -> Option<CallKind> {
    let awards_left = NOT_AWARD.replace_all(folded, " ");
    NAMED
        .iter()
        .find(|(re, kind)| {
            if *kind == CallKind::Prix {
                re.is_match(&awards_left)
            } else {
                re.is_match(folded)
            }
        })
        .map(|(_, k)| *k)
}

fn first_match(rules: &[(Regex, CallKind)], folded: &str) -> Option<CallKind> {
    rules
        .iter()
        .find(|(re, _)| re.is_match(folded))
        .map(|(_, k)| *k)
}

#[cfg(test)]
mod tests;

//! The kind of a call (`aap`, `ami`, `appel_candidatures`, `prix`,
//! `autre`) read from its title or text when the source does not say.

use std::sync::LazyLock;

use regex::Regex;

use super::text::fold;
use crate::domain::CallKind;

/// Patterns on folded text (lowercase, no accents), most specific first:
/// "appel à manifestation d'intérêt" must win over a bare "appel".
static RULES: LazyLock<Vec<(Regex, CallKind)>> = LazyLock::new(|| {
    [
        (
            r"\bappels? a manifestations? d.?interets?\b|\bami\b",
            CallKind::Ami,
        ),
        (
            r"\bappels? a projets?\b|\bappels? a propositions?\b|\baap\b|\bcall for (projects|proposals)\b",
            CallKind::Aap,
        ),
        (
            r"\bappels? a candidatures?\b|\bappels? a candidats\b|\bcandidatez\b|\bcall for applications\b",
            CallKind::AppelCandidatures,
        ),
        (
            r"\bprix\b|\btrophees?\b|\bconcours\b|\blabels?\b|\bawards?\b",
            CallKind::Prix,
        ),
    ]
    .into_iter()
    .map(|(re, kind)| (Regex::new(re).expect("valid kind pattern"), kind))
    .collect()
});

/// "Prix" that is a price, not an award: "maîtrise du prix de l'eau",
/// "prix de revient", "prix plafond".
static PRICE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\bprix (?:de l.?eau|du m3|de revient|unitaires?|plafonds?|d.?achat|de vente|de l.?energie|de l.?electricite|du gaz|du carburant|du foncier|des repas|de cession|du marche|de marche|bas|moyens?|de reference|du billet|des billets|des loyers|du loyer)\b",
    )
    .expect("valid price pattern")
});

/// The kind named in `text`, if any.
pub fn detect_kind(text: &str) -> Option<CallKind> {
    let folded = fold(text);
    RULES
        .iter()
        .find(|(re, kind)| {
            re.is_match(&folded) && !(*kind == CallKind::Prix && is_only_a_price(re, &folded))
        })
        .map(|(_, k)| *k)
}

/// Whether every award word of `folded` is "prix" meaning a price.
fn is_only_a_price(award: &Regex, folded: &str) -> bool {
    let without_prices = PRICE.replace_all(folded, " ");
    !award.is_match(&without_prices)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_read_from_titles() {
        let cases = [
            (
                "Appel à manifestation d'intérêt « Territoires d'innovation »",
                Some(CallKind::Ami),
            ),
            ("AMI Cybersécurité des collectivités", Some(CallKind::Ami)),
            (
                "Appel à projets Archivage numérique en territoires 2027",
                Some(CallKind::Aap),
            ),
            ("APPEL A PROJETS - France Num", Some(CallKind::Aap)),
            (
                "AAP « Fonds pour la transformation de l'action publique »",
                Some(CallKind::Aap),
            ),
            (
                "Appel à candidatures : conseillers numériques",
                Some(CallKind::AppelCandidatures),
            ),
            ("Prix de l'innovation territoriale", Some(CallKind::Prix)),
            (
                "Trophées de l'ingénierie territoriale",
                Some(CallKind::Prix),
            ),
            ("Webinaire de présentation du programme", None),
            (
                "Maîtrise du prix de l'eau potable dans les communes rurales",
                None,
            ),
            ("Réduire le prix des repas des cantines scolaires", None),
            (
                "Prix de l'eau : le concours des régies exemplaires",
                Some(CallKind::Prix),
            ),
            ("Amiens Métropole lance son plan", None),
        ];
        for (title, expected) in cases {
            assert_eq!(detect_kind(title), expected, "{title}");
        }
    }
}

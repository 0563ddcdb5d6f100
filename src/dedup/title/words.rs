//! The word lists of title normalization, as predicates (a `match` on
//! the word is a few comparisons, where scanning a list compared every
//! entry).

/// French (and a few English) function words.
pub(super) fn is_function_word(w: &str) -> bool {
    matches!(
        w,
        "a" | "au"
            | "aux"
            | "avec"
            | "ce"
            | "ces"
            | "cet"
            | "cette"
            | "chez"
            | "d"
            | "dans"
            | "de"
            | "des"
            | "du"
            | "en"
            | "entre"
            | "et"
            | "l"
            | "la"
            | "le"
            | "les"
            | "leur"
            | "leurs"
            | "ou"
            | "par"
            | "pour"
            | "qu"
            | "que"
            | "qui"
            | "sa"
            | "sans"
            | "se"
            | "ses"
            | "son"
            | "sur"
            | "un"
            | "une"
            | "vers"
            | "y"
            | "the"
            | "of"
            | "and"
            | "for"
            | "to"
            | "in"
            | "s"
            | "n"
            | "no"
            | "numero"
            | "dont"
            | "est"
            | "sont"
            | "an"
            | "on"
            | "with"
            | "by"
            | "from"
    )
}

/// Call boilerplate: words every source adds or drops at will.
pub(super) fn is_boilerplate(w: &str) -> bool {
    matches!(
        w,
        "appel"
            | "appels"
            | "projet"
            | "projets"
            | "aap"
            | "ami"
            | "aapr"
            | "manifestation"
            | "manifestations"
            | "interet"
            | "interets"
            | "candidature"
            | "candidatures"
            | "edition"
            | "editions"
            | "lancement"
            | "lance"
            | "relance"
            | "nouvel"
            | "nouveau"
            | "nouvelle"
            | "ouverture"
            | "ouvert"
            | "ouverte"
            | "offre"
            | "dispositif"
            | "cloture"
            | "date"
            | "limite"
            | "jusqu"
            | "depot"
            | "deposer"
            | "candidater"
            | "inscription"
            | "inscriptions"
            | "session"
            | "sessions"
            | "vague"
            | "vagues"
            | "lot"
            | "lots"
            | "volet"
            | "volets"
            | "tranche"
            | "tranches"
            | "releve"
            | "phase"
            | "tour"
            | "saison"
            | "axe"
            | "mesure"
            | "round"
            | "promotion"
            | "promo"
            | "national"
            | "nationale"
            | "nationaux"
            // "appel à propositions" (the EU's "call for proposals").
            | "proposition"
            | "propositions"
            // A cut-off moved: the same call, its status in the title.
            | "prolonge"
            | "prolongee"
            | "prolongation"
            | "report"
            | "reporte"
            | "reportee"
            | "repousse"
            | "repoussee"
            | "prorogation"
            | "proroge"
            | "prorogee"
    )
}

/// English call vocabulary in French, so that "European Urban Initiative
/// – Innovative Actions 3rd Call for Proposals" and "Initiative urbaine
/// européenne : troisième appel à propositions « Actions innovantes »"
/// read alike (EU programmes publish both). Masculine singular forms;
/// stemming does the rest.
pub(super) fn english_to_french(w: &str) -> Option<&'static str> {
    Some(match w {
        "call" | "calls" => "appel",
        "proposal" | "proposals" => "proposition",
        "expression" | "expressions" => "manifestation",
        "interest" => "interet",
        "new" => "nouveau",
        "first" => "premier",
        "third" => "troisieme",
        "fourth" => "quatrieme",
        "fifth" => "cinquieme",
        "sixth" => "sixieme",
        "european" => "europeen",
        "urban" => "urbain",
        "innovative" => "innovant",
        "city" | "cities" | "town" | "towns" => "ville",
        "municipality" | "municipalities" => "commune",
        "authority" | "authorities" => "collectivite",
        "regions" => "region",
        "digital" => "numerique",
        "green" => "vert",
        "energy" => "energie",
        "climate" => "climat",
        "heritage" => "patrimoine",
        "cultural" => "culturel",
        "tourism" => "tourisme",
        "sustainable" => "durable",
        "smart" => "intelligent",
        "mobility" => "mobilite",
        "research" => "recherche",
        "health" => "sante",
        "water" => "eau",
        "biodiversity" => "biodiversite",
        "housing" => "logement",
        "youth" => "jeunesse",
        "technology" | "technologies" => "technologie",
        "program" | "programs" | "programmes" => "programme",
        "fund" | "funds" => "fond",
        _ => return None,
    })
}

/// Domain words so common across calls that sharing them says little; they
/// count for half in similarity and come last for blocking.
pub(crate) fn is_generic(w: &str) -> bool {
    matches!(
        w,
        "numerique"
            | "territoire"
            | "collectivite"
            | "fond"
            | "fonds"
            | "france"
            | "programme"
            | "soutien"
            | "aide"
            | "aides"
            | "developpement"
            | "transition"
            | "service"
            | "public"
            | "publique"
            | "local"
            | "locale"
            | "locaux"
            | "innovation"
            | "transformation"
            | "action"
            | "region"
            | "regional"
            | "regionale"
            | "departement"
            | "commune"
            | "ecologique"
            | "financement"
            | "plan"
            | "investissement"
            | "accompagnement"
            | "2030"
            | "ministere"
            | "etat"
            | "banque"
    )
}

/// Words that, before a year, make the year part of a programme's name
/// ("France 2030", "Horizon 2020") rather than an edition year.
pub(super) fn names_a_year(w: &str) -> bool {
    matches!(
        w,
        "france"
            | "horizon"
            | "agenda"
            | "strategie"
            | "objectif"
            | "vision"
            | "ambition"
            | "cap"
            | "plan"
            | "europe"
    )
}

/// Words that open a trailing site or publisher suffix ("… - Ministère de la
/// Culture", "… | Portail de l'État").
pub(super) fn opens_a_suffix(w: &str) -> bool {
    matches!(
        w,
        "ministere"
            | "ministre"
            | "prefecture"
            | "portail"
            | "site"
            | "gouvernement"
            | "gouv"
            | "secretariat"
            | "aides"
            | "aides-territoires"
            | "legifrance"
            | "service-public"
    )
}

//! The regular expressions of the date finder. They run on folded text
//! (lowercase ASCII, see `folded`).

use std::sync::LazyLock;

use regex::Regex;

pub(super) const MONTHS: &str = "janvier|janv|jan|fevrier|fevr|fev|mars|avril|avr|mai|juin|juillet|juil|aout|septembre|sept|sep|octobre|oct|novembre|nov|decembre|dec";
pub(super) const WEEKDAY: &str = "(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)";
pub(super) const ORDINAL: &str = r"(?:\s*(?:er|ere|re|o))?";
pub(super) const TIME: &str = r"(?:(?P<h>\d{1,2})\s*(?:heures?|h)(?:\s*(?P<m>\d{2}))?\b|(?P<h2>\d{1,2})\s?:\s?(?P<m2>\d{2})\b|(?P<noon>midi)\b|(?P<midnight>minuit)\b)";

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
pub(super) static DATE: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"\b(?:(?P<iy>\d{{4}})[-/](?P<im>\d{{1,2}})[-/](?P<id>\d{{1,2}})(?:[t ](?P<ih>\d{{1,2}}):(?P<imi>\d{{2}})(?::\d{{2}}(?:[.,]\d+)?)?(?P<iz>z|[+-]\d{{2}}(?::?\d{{2}})?)?)?\b|(?P<cy>\d{{4}})(?P<cm>\d{{2}})(?P<cd>\d{{2}})\b|(?:{WEEKDAY}\s+)?(?:(?P<nd>\d{{1,2}})(?:[/.-](?P<nm>\d{{1,2}})[/.-](?P<ny>\d{{4}})| / (?P<nms>\d{{1,2}}) / (?P<nys>\d{{4}})|/(?P<nm2>\d{{1,2}})/(?P<ny2>\d{{2}}))\b|(?P<td>\d{{1,2}}){ORDINAL}\s*(?P<tm>{MONTHS})\b\.?(?:\s+(?P<ty>-?\d{{3,}})\b)?))"
    ))
});

/// A time right after a date: "à 12h", ", 17h30", "(midi)", " 12:00".
pub(super) static TIME_AFTER: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"^\s*(?:[,(-]\s*)?(?:(?:a|avant|jusqu'?\s*a|des|vers)\s+)?{TIME}"
    ))
});

/// A time right before a date: "avant 17h le", "jusqu'à midi, le".
pub(super) static TIME_BEFORE: LazyLock<Regex> =
    LazyLock::new(|| re(&format!(r"\b{TIME}\s*,?\s*(?:le\s+|du\s+)?$")));

/// "du 1er au" before "15 mars 2021": a bare opening day sharing month and year.
pub(super) static BARE_DAY: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"\b(?:du|entre(?:\s+le)?)\s+(?:{WEEKDAY}\s+)?(?P<bare>(?P<d>\d{{1,2}}){ORDINAL})(?:\s+(?:au|et)\s+|\s*-+\s*)(?:le\s+)?(?:{WEEKDAY}\s+)?$"
    ))
});

pub(super) static ENTRE: LazyLock<Regex> = LazyLock::new(|| re(r"\bentre\s+(?:le\s+)?$"));
pub(super) static RANGE_GAP: LazyLock<Regex> =
    LazyLock::new(|| re(r"^\s*(?:-+|au|a|jusqu'?\s*au?)\s*(?:le\s+)?$"));
pub(super) static ENTRE_GAP: LazyLock<Regex> = LazyLock::new(|| re(r"^\s*et\s+(?:le\s+)?$"));
/// Between two dates of one list: separators and "et", "ou", "puis", and
/// the words that number sessions or rounds ("15 février (1re session) et
/// 15 mai (2e session)", "de la 1re session le 15 avril, de la 2nde le 15
/// octobre").
pub(super) static LIST_GAP: LazyLock<Regex> = LazyLock::new(|| {
    re(concat!(
        r"^(?:\s|[,;/&|]|\bet\b|\bou\b|\bpuis\b|\ble\b|\bde la\b|\bdu\b",
        r"|\b\d{1,2}\s*(?:e|er|re|ere|eme|nde?)\b|\b(?:premiere?|seconde?|deuxieme|troisieme|quatrieme|derniere?)\b",
        r"|\b(?:sessions?|vagues?|releves?|tours?)\b|\([^()]{0,20}\))*$"
    ))
});
pub(super) static SENTENCE_END: LazyLock<Regex> = LazyLock::new(|| re(r"[.!?]\s+|\n\s*\n"));

/// Words that give a date its role. Group names: `px` publication, `es`
/// a step of the selection (jury, sélection, lauréats: an event whose own
/// "date limite" is not the call's), `ev` other events, `cp` participle of an eligibility condition ("achetés",
/// "réalisés": a condition unless it follows an application word, as in
/// "dossiers reçus avant le"), `cn` other condition words ("après", "ne sont
/// pas éligibles"), `ry` relative financial year ("exercice N-1": wins over
/// every other cue), `sx` superseding deadline, `tp` temporal preposition (deadline
/// unless it follows an event cue), `sg` generic deadline word ("date
/// limite", "échéance": a deadline unless it follows a selection step with
/// no application word after it), `sd` deadline, `op` opening, `wd` weak
/// deadline (only counts when nothing stronger is in the window).
pub(super) static CUE: LazyLock<Regex> = LazyLock::new(|| {
    re(concat!(
        r"\b(?:",
        r"(?P<px>publie\w*|publication|date de mise en ligne|mis\w* a jour|maj|mis\w* en ligne|en ligne depuis|modifie\w* le|date de modification|derniere modification|actualise\w* le|cree\w* le|date de creation|paru\w*|parution)",
        r"|(?P<es>jury|jurys|(?:pre)?selection|laureats?|resultats?|auditions?)",
        r"|(?P<ev>webinaires?|webinars?|reunions?|comites?|commissions?|annonces?|notifications?|votes?|questions?|conseils? d\W?\s*administration|remise des prix|ceremonies?|ateliers?|seances?|conferences?|journees?|evenements?|travaux|realisations?|achevement|livraison|signature|versements?|versee?s?|paiements?|rapports?|bilan|execution|instruction|information|presentation|rencontres?|forum|salon|demarrage|debuter|demarrer|commencer|duree|mise en oeuvre|achev\w*|depenses?)",
        r"|(?P<cp>(?:achete|facture|engage|realise|effectue|commence|demarre|paye|acquitte|recu|receptionne|signe)(?:e|es|s)|acquise?s?)",
        r"|(?P<cn>(?:pas|non) eligibl\w*|ineligibl\w*|eligibilite des (?:depenses|travaux|achats|operations)|apres (?:le|la date d\w*)|(?:posterieur|anterieur)\w* (?:a|au|aux))|(?P<ry>exercices? (?:n|budgetaires?|comptables?|clos|\d{4})|(?:cloture|fin) de l'?\s*exercice|n\s*[+-]\s*\d|annee n)",
        r"|(?P<sx>report\w*|prolong\w*|repouss\w*|decale\w*|nouvelle date limite)",
        r"|(?P<tp>jusqu\W{0,2}\s*a(?:u|ux)?|avant|au plus tard|d\W\s*ici)|(?P<sg>dates?\s+limites?|dates?[\s-]+butoirs?|limites?|echeances?|deadline)",
        r"|(?P<sd>prochaine (?:session|releve|date|echeance)|clotur\w*|clos|close|date de fin|fin de (?:l'|la |le )?(?:appel|ami|aap|depot|candidature|campagne|session)\w*|fin des (?:candidatures|depots|inscriptions)|fermeture|fixee?s? (?:au|a)|vagues?|releves?|dernier delai|delai de (?:depot|reponse|candidature)|se termine|prend fin|termine\w*|expire\w*|retour des|remise des|reception des|envoi des)",
        r"|(?P<op>(?:re)?ouverture|ouvert\w* le|a partir du|a partir de|a compter du|a compter de|des le|depuis|lancement|lance\w* le|debut|date d'ouverture|commence\w*)",
        r"|(?P<wd>depots?|deposer|depose\w*|candidat\w*|dossiers?|inscriptions?|reponses?|remise|envoi|soumission|soumettre|transmission)",
        r")\b"
    ))
});

/// A cue right after a date: "30 juin 2021 (date limite)", "31 mars 2021 est
/// la date limite", or a calendar line "31 mars 2021 : clôture des dossiers".
/// After a dash ("10 septembre au 5 octobre - Remise des prix"), only an
/// event label is taken: "12 janvier 2025 - Appel à candidatures" is as often
/// the date a news item was posted.
pub(super) static CUE_AFTER: LazyLock<Regex> = LazyLock::new(|| {
    re(concat!(
        r"^\s*(?:(?P<colon>:)|\(|(?P<dash>-+)|(?:est|sera|constitue|marque)\s+(?:la|le)\s+)\s*(?:",
        r"(?P<sd>dates? limites?|limite|clotur\w*|deadline|fin de (?:l'appel|depot|candidature)\w*|fin des (?:candidatures|depots|inscriptions)|depot des (?:dossiers|candidatures)|remise des (?:dossiers|candidatures|projets|propositions)|reception des)",
        r"|(?P<px>date de publication|publie\w*|publication|mis\w* en ligne|mis\w* a jour)",
        r"|(?P<op>(?:re)?ouverture|lancement|debut)",
        r"|(?P<ev>jury|jurys|comites?|(?:pre)?selection|webinaires?|reunions?|resultats?|laureats?|annonces?|auditions?|notifications?|deliberations?|remise des prix|votes?|ceremonies?)",
        r")\b"
    ))
});

/// A calendar label the cue lists do not know: "2 décembre : transmission
/// de l'appel aux préfets".
pub(super) static LABEL_AFTER: LazyLock<Regex> = LazyLock::new(|| re(r"^ *: *[a-z]"));

/// Wording of a permanent or rolling call.
pub(super) static ONGOING: LazyLock<Regex> = LazyLock::new(|| {
    re(concat!(
        r"\b(?:au fil de l'?\s*eau|sans (?:date|delai) (?:limite|de (?:cloture|fin|depot))|sans limite de (?:date|temps)",
        r"|pas de (?:date|delai) (?:limite|de (?:cloture|fin))|aucune date (?:limite|de cloture)",
        r"|date limite\s*:?\s*(?:aucune|neant)|jusqu'?\s*a (?:l'?\s*)?epuisement (?:des|de l'?\s*enveloppe|du budget)|en continu|en permanence|de (?:maniere|facon) permanente|a titre permanent",
        r"|(?:aap|ami|appels?|dispositif|guichet|programme|procedure|candidatures?)\b[^.\n]{0,40}?\bpermanent\w*",
        r"|(?:candidat\w*|depos\w*|dossiers?|demandes?)\b[^.\n]{0,40}?\b(?:a tout moment|tout au long de l'annee|toute l'annee)",
        r")\b|^\s*permanent\w*\s*$"
    ))
});

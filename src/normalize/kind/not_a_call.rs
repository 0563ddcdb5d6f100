//! Items of a calls listing that are not open calls, though they may name
//! one: results ("Lauréats de l'appel à projets…", "Résultat de l'AMI",
//! "Remise des prix…", "Palmarès…"), public procurement ("Appel d'offres",
//! "Avis d'appel public à la concurrence", "Concours de maîtrise d'œuvre"),
//! job offers and competitive exams ("Chargé de mission (H/F)", "Concours
//! externe d'attaché"), and appeals of other sorts ("Appel aux dons",
//! "Appel à la vigilance", "Enquête", "Consultation publique").
//!
//! Two strengths. A **strong** signal says what the item is whatever call
//! it names: results and procurement phrases count only at the head of a
//! clause (the text's start, or after `:`, `;`, `!`, `?`, `|`, `«`, a
//! spaced dash), so "Lauréats de l'appel à projets X" and "Prix X : les
//! lauréats de la 24e édition" are results while "Appel à projets X : les
//! lauréats de l'édition précédente témoignent" or "Accompagnement des
//! lauréats de Petites villes de demain" stay calls; job markers ("(H/F)",
//! "offre d'emploi") count anywhere. A **weak** signal ("recrute", "appel
//! aux dons", "enquête") only says the item is not a call when no call
//! kind is named at all, and a survey or consultation only at a clause's
//! head.

use std::sync::LazyLock;

use regex::RegexSet;

/// Why an item is not an open call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotACall {
    /// Winners, selection results, award ceremonies, reviews of a past call.
    Results,
    /// A public tender or concession notice: the collectivity buys, it is
    /// not funded.
    Procurement,
    /// A job offer or a civil-service competitive exam.
    JobOrExam,
    /// Donations, volunteers, testimonies, dues, warnings, surveys, public
    /// consultations.
    OtherAppeal,
}

impl std::fmt::Display for NotACall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NotACall::Results => "results of a call",
            NotACall::Procurement => "public procurement",
            NotACall::JobOrExam => "a job offer or an exam",
            NotACall::OtherAppeal => "another kind of appeal",
        })
    }
}

/// Where a clause starts in folded text (`«` folds to `<<`, `–` to `-`).
const CLAUSE_START: &str = r"(?:^|[:;!?|(]\s*|<<\s*|\s-+\s+)";

/// Patterns and what each says, tried together (one pass over the text);
/// the first that matches, in order, gives the reason.
struct Signals {
    set: RegexSet,
    reasons: Vec<NotACall>,
}

impl Signals {
    fn new(patterns: impl IntoIterator<Item = (String, NotACall)>) -> Signals {
        let (patterns, reasons): (Vec<String>, Vec<NotACall>) = patterns.into_iter().unzip();
        Signals {
            set: RegexSet::new(patterns).expect("valid not-a-call patterns"),
            reasons,
        }
    }

    fn first(&self, folded: &str) -> Option<NotACall> {
        let matched = self.set.matches(folded);
        matched.iter().next().map(|i| self.reasons[i])
    }
}

static STRONG: LazyLock<Signals> = LazyLock::new(|| {
    let lead = |body: &str| format!(r"{CLAUSE_START}(?:{body})");
    let patterns = [
        (
            lead(concat!(
                r"(?:les |des )?(?:\d+ )?(?:nouveaux |nouvelles |premiers |premieres )?laureat(?:e|s|es)? (?:de |du |des |d')",
                r"|(?:decouvrez|decouvrir|voici|connaissez|annonce des|devoilement des|liste des|designation des) (?:les |des )?(?:\d+ )?(?:nouveaux |nouvelles |premiers )?(?:laureat|gagnant|projets? (?:retenu|selectionne|laureat)|resultat)",
                r"|palmares\b",
                r"|resultats? (?:de |du |des |d')(?:l')?(?:la )?(?:appel|ami\b|aap\b|concours|prix|trophees|label|edition|selection|vague|session|releve)",
                r"|remise des (?:prix|trophees|labels?|distinctions)\b",
                r"|bilan (?:de |du |des |d')(?:l')?(?:la )?(?:appel|ami\b|aap\b|concours|prix|trophees|edition|vague|session)",
                r"|\d+ (?:projets|collectivites|communes|territoires|dossiers|lieux|structures) (?:retenus|selectionnes|laureats|recompenses|distingues|labellises)\b",
            )),
            NotACall::Results,
        ),
        // Anywhere: "Des jeunes de X obtiennent le premier prix de l'appel
        // à projets…", "La commune remporte le trophée…" (a third person
        // that won; "remportez un prix" invites to apply).
        (
            r"\b(?:obtient|obtiennent|remporte|remportent|decroche|decrochent)(?: le| la| les| un| une)?(?: premier| 1er| grand)? (?:prix|trophees?|label)\b".to_string(),
            NotACall::Results,
        ),
        (
            lead(concat!(
                r"appels? d.offres?\b|avis d.appel (?:public )?a (?:la )?concurrence|aapc\b",
                r"|appel public a (?:la )?(?:concurrence|candidatures?)",
                r"|avis (?:de marche|de concession|de pre-information|d.attribution|d.appel d.offres)",
                r"|marches? publics? (?:de |d')(?:travaux|fournitures?|services?|prestations?|maitrise)",
                r"|consultation (?:des entreprises|d.entreprises)|mapa\b|procedure adaptee|accord.cadre",
                r"|concours (?:restreint |ouvert )?(?:de |d')(?:maitrise d.(?:oeuvre|ouvrage)|architecture)",
                r"|delegation de service public",
            )),
            NotACall::Procurement,
        ),
        (
            r"occupation (?:temporaire )?du domaine public".to_string(),
            NotACall::Procurement,
        ),
        (
            lead(concat!(
                r"concours (?:externe|interne|troisieme voie|sur titres?|de recrutement|d.acces|d.entree",
                r"|(?:d.|de )?(?:attache|redacteur|adjoint|ingenieur|technicien|administrateur|educateur|animateur|conservateur|bibliothecaire|assistant|agent|auxiliaire|puericultrice|infirmier)s?\b)",
            )),
            NotACall::JobOrExam,
        ),
        (
            r"\(h/f\)|\(f/h\)|\bh/f\b|\bf/h\b|\boffres? d.emploi\b|\bpostes? a pourvoir\b|\bfiche de poste\b|\bvacance de poste\b".to_string(),
            NotACall::JobOrExam,
        ),
    ];
    Signals::new(patterns)
});

static WEAK: LazyLock<Signals> = LazyLock::new(|| {
    let patterns = [
        (r"\brecrute\b|\brecrutons\b".to_string(), NotACall::JobOrExam),
        (
            r"\bappels? (?:aux? |a |de )(?:la )?(?:dons?|generosite|benevoles?|volontaires|temoignages?|cotisations?|vigilance|prudence|mobilisation|greve|fonds)\b".to_string(),
            NotACall::OtherAppeal,
        ),
        // At a clause's head only: "Enquête : …", "Consultation publique
        // sur …", "La consultation du public sur …", not "Enquêtes mobilité certifiées : aide de l'ADEME".
        (
            format!(
                r"{CLAUSE_START}(?:la |une )?(?:(?:grande |nouvelle )?enquete(?: nationale| en ligne)?\s*(?::|sur |aupres )|consultation (?:publique|du public|citoyenne)\b|questionnaire\b|sondage\b)"
            ),
            NotACall::OtherAppeal,
        ),
    ];
    Signals::new(patterns)
});

/// What makes `folded` (text folded with `fold`) not a call whatever call
/// it names, if anything.
pub(super) fn strong(folded: &str) -> Option<NotACall> {
    STRONG.first(folded)
}

/// What makes `folded` not a call when it names no call kind, if anything.
pub(super) fn weak(folded: &str) -> Option<NotACall> {
    WEAK.first(folded)
}

/// Why the item titled `text` is not an open call, if it is not one: a
/// strong signal, or a weak one when `text` names no call kind. For the
/// stages that decide what to keep (a listing's filters, a curator's
/// review); [`super::detect_kind`] gives such items the kind `autre`.
pub fn not_a_call(text: &str) -> Option<NotACall> {
    not_a_call_folded(&super::fold(text))
}

/// [`not_a_call`] of a text already folded ([`super::fold`]).
pub fn not_a_call_folded(folded: &str) -> Option<NotACall> {
    strong(folded).or_else(|| {
        super::named_kind(folded)
            .is_none()
            .then(|| weak(folded))
            .flatten()
    })
}

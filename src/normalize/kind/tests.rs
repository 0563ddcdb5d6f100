//! Kinds read from real titles: the call kinds, awards that are prices or
//! help, and items that name a call without being one.

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

/// Real titles (from funders' sites, Aides-territoires, Localtis, the
/// Gazette, Maire-info...) whose kind was wrong.
#[test]
fn real_titles_get_their_kind() {
    use CallKind::*;
    let cases = [
        // A call with an award or a label is the award; generic verbs
        // ("candidatez") lose to a named kind.
        (
            "Prix Territoria 2025 : candidatez avant le 5 juillet !",
            Some(Prix),
        ),
        (
            "Trophées de l'ingénierie territoriale : l'appel à candidatures est lancé",
            Some(Prix),
        ),
        (
            "Prix Territoriaux 2022 : c'est parti, participez !",
            Some(Prix),
        ),
        ("Label Villes Internet 2027", Some(Prix)),
        (
            "Label Territoire Numérique Libre : candidatures ouvertes",
            Some(Prix),
        ),
        (
            "WiFi4EU : candidatez, l'Europe finance de nouveaux points d'accès wifi",
            Some(AppelCandidatures),
        ),
        // Other words for calls. Bare invitations ("peuvent déposer leurs
        // projets", "peuvent candidater") are left to the source's default.
        (
            "Zones blanches : les collectivités peuvent déposer leurs projets",
            None,
        ),
        ("Appel à initiatives pour la biodiversité", Some(Aap)),
        ("Appel à communs : géocommuns des territoires", Some(Aap)),
        ("Appel à programme 2019 du ministère", Some(Aap)),
        ("Appel à manifestation permanent : fonds friches", Some(Ami)),
        (
            "Appel à projet / Manifestation d'intérêt : mobilités rurales",
            Some(Ami),
        ),
        // "Concours" that is help, "prix" that is a price.
        (
            "Dotation générale de décentralisation (DGD) – concours particulier « bibliothèques »",
            None,
        ),
        (
            "L'EPF apporte son concours aux communes pour le recyclage des friches",
            None,
        ),
        (
            "Travaux d'assainissement réalisés avec le concours financier de l'Agence de l'eau",
            None,
        ),
        (
            "Concours financiers de l'État aux collectivités : le projet de loi de finances",
            None,
        ),
        (
            "Prix de journée des établissements pour personnes âgées : campagne budgétaire",
            None,
        ),
        (
            "Vente de terrains communaux à prix coûtant pour l'installation d'artisans",
            None,
        ),
        ("Hausse des prix de l'énergie : un bouclier tarifaire", None),
        ("Le concours des régies exemplaires", Some(Prix)),
        // Results name a call without being one.
        (
            "Prix Territoriaux La Gazette - GMF : les lauréats de la 24ème édition",
            Some(Autre),
        ),
        ("Résultat de l'appel à manifestation d'intérêt", Some(Autre)),
        (
            "Remise des prix Territoria 2025 à l'Hôtel de Ville de Paris",
            Some(Autre),
        ),
        (
            "Bilan de l'appel à projets « Agir en faveur de l'égalité professionnelle »",
            Some(Autre),
        ),
        (
            "Lauréats de l'appel à projets « Fonds vert » : 120 projets retenus",
            Some(Autre),
        ),
        (
            "Découvrez les 35 nouveaux lauréats de l'AMI Fabriques de territoire",
            Some(Autre),
        ),
        (
            "Palmarès des Trophées de l'innovation territoriale 2024",
            Some(Autre),
        ),
        // ... but a call that mentions its winners stays a call.
        (
            "Appel à projets : les lauréats seront connus en mai",
            Some(Aap),
        ),
        (
            "Accompagnement des lauréats : appel à projets ingénierie",
            Some(Aap),
        ),
        (
            "Appel à projets Recyclage foncier des friches : retour sur les lauréats de l'édition 2021",
            Some(Aap),
        ),
        (
            "Fabriques de territoires : prochaine échéance de l'AMI fixée au 30 juin",
            Some(Ami),
        ),
        // Procurement, jobs and exams, other appeals.
        (
            "Avis d'appel public à la concurrence : fourniture de repas scolaires",
            Some(Autre),
        ),
        (
            "Appel d'offres : renouvellement du parc informatique de la mairie",
            Some(Autre),
        ),
        (
            "Marché public de travaux : réfection de la toiture de l'église",
            Some(Autre),
        ),
        (
            "Concours de maîtrise d'œuvre pour la construction d'un groupe scolaire",
            Some(Autre),
        ),
        (
            "Concours externe d'attaché territorial : inscriptions ouvertes",
            Some(Autre),
        ),
        ("Chargé de mission transition numérique (H/F)", Some(Autre)),
        (
            "Appel à candidatures : recrutement d'un chef de projet (F/H)",
            Some(Autre),
        ),
        (
            "La communauté de communes recrute un chef de projet Petites villes de demain",
            Some(Autre),
        ),
        (
            "Appel à la vigilance : hausse des arnaques au faux conseiller",
            Some(Autre),
        ),
        (
            "Appel aux dons pour la restauration de l'église",
            Some(Autre),
        ),
        ("Appel à bénévoles pour le festival d'été", Some(Autre)),
        ("Enquête : les communes face à la sécheresse", Some(Autre)),
        (
            "Enquêtes mobilité certifiées Cerema : aide aux autorités organisatrices",
            None,
        ),
        (
            "Appel à candidatures : Petites villes de demain, deuxième vague",
            Some(AppelCandidatures),
        ),
        (
            "Appel à candidatures : conseillers numériques dans les communes qui recrutent",
            Some(AppelCandidatures),
        ),
        (
            "Faire appel à un Atelier Chantier d'Insertion pour l'entretien du patrimoine",
            None,
        ),
        (
            "Dématérialisation des actes et des marchés publics : aide",
            None,
        ),
    ];
    let wrong: Vec<String> = cases
        .iter()
        .filter(|(title, expected)| detect_kind(title) != *expected)
        .map(|(title, expected)| {
            format!("{title}: {:?}, expected {expected:?}", detect_kind(title))
        })
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn items_that_are_not_calls_say_why() {
    use not_a_call::{NotACall::*, not_a_call};
    for (title, expected) in [
        (
            "Lauréats de l'appel à projets « Fonds vert »",
            Some(Results),
        ),
        (
            "Avis d'appel public à la concurrence : repas scolaires",
            Some(Procurement),
        ),
        (
            "AMI pour l'occupation temporaire du domaine public : kiosque",
            Some(Procurement),
        ),
        ("Concours interne de rédacteur territorial", Some(JobOrExam)),
        ("Appel aux dons pour l'église", Some(OtherAppeal)),
        (
            "Consultation publique sur le schéma régional",
            Some(OtherAppeal),
        ),
        (
            "La consultation du public sur le projet de SDAGE Loire-Bretagne",
            Some(OtherAppeal),
        ),
        (
            "Des jeunes d'Alpes-Vaucluse obtiennent le premier prix de l'appel à projets de la MSA",
            Some(Results),
        ),
        ("Candidatez et remportez un prix de 10 000 €", None),
        // A weak sign gives way to a named call.
        ("Enquête et appel à projets : communes pilotes", None),
        ("Appel à projets Territoires d'industrie", None),
        ("Webinaire de présentation du programme", None),
    ] {
        assert_eq!(not_a_call(title), expected, "{title}");
    }
}

//! Theme rules: matching, inflections, errors, and the digital themes
//! against the labelled corpus.

use super::*;

#[test]
fn embedded_rules_tag_typical_titles() {
    let rules = ThemeRules::embedded();
    let t =
        rules.themes_for("Appel à projets : archivage électronique et dématérialisation des actes");
    assert!(
        t.contains(&Theme::Archives) && t.contains(&Theme::Numerique),
        "{t:?}"
    );
    let t = rules.themes_for("WiFi4EU : des bons pour le Wi-Fi gratuit dans les communes");
    assert!(t.contains(&Theme::Connectivite), "{t:?}");
    let t = rules.themes_for("Sensibilisation à la CYBERSÉCURITÉ des élus");
    assert!(t.contains(&Theme::Cybersecurite), "{t:?}");
    assert!(
        rules
            .themes_for("Réfection de la voirie communale")
            .is_empty()
    );
}

#[test]
fn keywords_match_whole_words_or_prefixes() {
    let rules = ThemeRules::parse(
        "[[rule]]\ntheme = \"innovation\"\nkeywords = [\"innov*\", \"IA\"]\n",
        "t",
    )
    .unwrap();
    assert_eq!(
        rules.themes_for("Projets innovants"),
        vec![Theme::Innovation]
    );
    assert_eq!(
        rules.themes_for("L'IA au service des usagers"),
        vec![Theme::Innovation]
    );
    assert!(
        rules.themes_for("La Via Domitia").is_empty(),
        "`ia` inside a word must not match"
    );
}

#[test]
fn keywords_match_singular_and_plural_forms() {
    let rules = ThemeRules::parse(
        concat!(
            "[[rule]]\ntheme = \"numerique\"\nkeywords = [\"site internet\", \"réseau\"]\n",
            "[[rule]]\ntheme = \"services_publics\"\nkeywords = [\"collectivité\", \"territorial\"]\n",
            "[[rule]]\ntheme = \"culture\"\nkeywords = [\"festivals\", \"châteaux\", \"tiers lieu\"]\n",
            "[[rule]]\ntheme = \"donnees\"\nkeywords = [\"IA\", \"travail\"]\n",
        ),
        "t",
    )
    .unwrap();
    for (text, theme) in [
        ("Refonte des Sites internet communaux", Theme::Numerique),
        ("Un site internet pour la mairie", Theme::Numerique),
        ("Les sites-internet", Theme::Numerique),
        ("Réseaux de chaleur", Theme::Numerique),
        ("Aide aux collectivités", Theme::ServicesPublics),
        ("Les services territoriaux", Theme::ServicesPublics),
        ("Un festival de musique", Theme::Culture),
        ("Restauration d'un château", Theme::Culture),
        ("Réseau des tiers-lieux", Theme::Culture),
        ("Les travaux de voirie", Theme::Donnees),
    ] {
        assert!(
            rules.themes_for(text).contains(&theme),
            "{text}: {:?}",
            rules.themes_for(text)
        );
    }
    // Only endings change: neighbouring words do not match.
    for text in [
        "Le site de la commune",
        "Situation internet",
        "Une collectivisation",
        "Un collectif d'habitants",
        "Le territoire",
        "Le réseautage des élus",
        "Festivalier",
        "Via Domitia",
        "Les IAS",
    ] {
        assert!(
            rules.themes_for(text).is_empty(),
            "{text}: {:?}",
            rules.themes_for(text)
        );
    }
}

#[test]
fn inflections_cover_the_french_plurals() {
    let has = |w: &str, f: &str| inflections(w).iter().any(|x| x == f);
    assert!(has("collectivite", "collectivites") && has("collectivites", "collectivite"));
    assert!(has("territorial", "territoriaux") && has("territoriaux", "territorial"));
    assert!(has("reseau", "reseaux") && has("reseaux", "reseau"));
    assert!(has("lieux", "lieu") && has("lieu", "lieux"));
    assert!(has("travail", "travaux") && has("travaux", "travail"));
    assert_eq!(inflections("prix"), ["prix"]);
    assert_eq!(inflections("ia"), ["ia"]);
    assert_eq!(inflections("5g"), ["5g"]);
}

#[test]
fn a_bad_rules_file_names_the_problem() {
    let err = ThemeRules::parse(
        "[[rule]]\ntheme = \"numerik\"\nkeywords = [\"x\"]\n",
        "config/themes.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("config/themes.toml") && err.contains("numerik") && err.contains("numerique"),
        "{err}"
    );
    let err = ThemeRules::parse("[[rule]]\ntheme = \"archives\"\nkeywords = []\n", "f.toml")
        .unwrap_err()
        .to_string();
    assert!(err.contains("rule #1") && err.contains("keywords"), "{err}");
}

/// The digital themes against the labelled corpus
/// `tests/fixtures/themes/digital.tsv`: a subscriber who chose one
/// misses none of its calls (recall), and is not sent calls where the
/// keyword means something else (precision). `cargo test --lib
/// digital_corpus -- --nocapture` prints the table.
#[test]
fn digital_themes_hold_on_the_labelled_corpus() {
    const DIGITAL: [Theme; 5] = [
        Theme::Numerique,
        Theme::Connectivite,
        Theme::Donnees,
        Theme::Cybersecurite,
        Theme::InclusionNumerique,
    ];
    let rules = ThemeRules::embedded();
    let corpus = include_str!("../../../tests/fixtures/themes/digital.tsv");
    // (true positives, false positives, false negatives) per theme.
    let mut counts = [(0u32, 0u32, 0u32); 5];
    let mut errors = Vec::new();
    let mut rows = 0;
    for (n, line) in corpus.lines().enumerate() {
        if line.starts_with('#') || line.starts_with("expected\t") || line.is_empty() {
            continue;
        }
        let (expected, text) = line.split_once('\t').expect("two columns");
        rows += 1;
        let expected: Vec<Theme> = expected
            .split(',')
            .filter(|c| *c != "-")
            .map(|c| c.parse().unwrap_or_else(|e| panic!("line {}: {e}", n + 1)))
            .collect();
        assert!(
            expected.is_empty() || expected.contains(&Theme::Numerique),
            "line {}: every digital row has the umbrella theme",
            n + 1
        );
        let found = rules.themes_for(text);
        for (i, theme) in DIGITAL.iter().enumerate() {
            match (expected.contains(theme), found.contains(theme)) {
                (true, true) => counts[i].0 += 1,
                (false, true) => {
                    counts[i].1 += 1;
                    errors.push(format!("line {}: {theme:?} not expected: {text}", n + 1));
                }
                (true, false) => {
                    counts[i].2 += 1;
                    errors.push(format!("line {}: {theme:?} missed: {text}", n + 1));
                }
                (false, false) => {}
            }
        }
    }
    assert!(rows >= 110, "{rows} rows");
    println!("{rows} rows\ntheme | calls | precision | recall");
    for (theme, (tp, fp, fnn)) in DIGITAL.iter().zip(counts) {
        let precision = f64::from(tp) / f64::from((tp + fp).max(1));
        let recall = f64::from(tp) / f64::from((tp + fnn).max(1));
        println!("{theme:?} | {} | {precision:.3} | {recall:.3}", tp + fnn);
        assert!(
            recall >= 0.97 && precision >= 0.97,
            "{theme:?}: precision {precision:.3}, recall {recall:.3}\n{}",
            errors.join("\n")
        );
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

/// `numerique` is the umbrella of the digital themes: every phrase of
/// the four others gives it too. Bare "données" is no keyword of either
/// (it also means river flows, species counts or a form's fields): only
/// the phrases that make it digital are.
#[test]
fn every_digital_keyword_also_gives_the_umbrella_theme() {
    let file: RulesFile = toml::from_str(EMBEDDED_RULES).unwrap();
    let rules = ThemeRules::embedded();
    let sub = [
        Theme::Connectivite,
        Theme::Donnees,
        Theme::Cybersecurite,
        Theme::InclusionNumerique,
    ];
    let mut missing = Vec::new();
    for rule in file.rule.iter().filter(|r| sub.contains(&r.theme)) {
        for keyword in &rule.keywords {
            for phrase in expand_braces(keyword).unwrap() {
                let text = phrase.trim_end_matches('*');
                if !rules.themes_for(text).contains(&Theme::Numerique) {
                    missing.push(format!("{:?}: {phrase}", rule.theme));
                }
            }
        }
    }
    assert!(missing.is_empty(), "add to the numerique rule: {missing:?}");
}

#[test]
fn braces_offer_alternatives_and_bad_ones_are_named() {
    assert_eq!(
        expand_braces("{gestion|partage} des {données|donnée}").unwrap(),
        [
            "gestion des données",
            "gestion des donnée",
            "partage des données",
            "partage des donnée"
        ]
    );
    assert_eq!(expand_braces("réseau{x|}").unwrap(), ["réseaux", "réseau"]);
    let rules = ThemeRules::parse(
        "[[rule]]\ntheme = \"donnees\"\nkeywords = [\"{partage|valorisation} {des|de la} {données|donnée}\"]\n",
        "t",
    )
    .unwrap();
    for text in [
        "Partage des données entre communes",
        "Valorisation de la donnée territoriale",
    ] {
        assert_eq!(rules.themes_for(text), [Theme::Donnees], "{text}");
    }
    assert!(
        rules
            .themes_for("Les données hydrologiques du bassin")
            .is_empty()
    );
    for (bad, says) in [
        ("{a|b", "without its `}`"),
        ("a}b", "without a `{`"),
        ("{a|{b}}", "nest"),
        ("{|}", "empty"),
    ] {
        let err = ThemeRules::parse(
            &format!("[[rule]]\ntheme = \"donnees\"\nkeywords = [\"{bad}\"]\n"),
            "f.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("f.toml") && err.contains("rule #1") && err.contains(says),
            "{bad}: {err}"
        );
    }
}

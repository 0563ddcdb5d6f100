//! Theme keyword rules (`config/themes.toml`): a call gets a theme when its
//! title or summary contains one of the rule's keywords, folded to
//! lowercase ASCII and matched on whole words (`*` at the end of a keyword
//! matches any word starting with it). Curators edit the file; the copy
//! embedded in the binary is used when it is absent.
//!
//! Each whole word of a keyword also matches its French singular and
//! plural forms ([`inflections`]): `site internet` finds « Sites internet »,
//! `collectivité` « collectivités », `territorial` « territoriaux »,
//! `réseau` « réseaux », so the rules file lists each word once. Words of
//! three letters or fewer (acronyms: `IA`, `THD`, `5G`) are left as
//! written, and prefixes (`innov*`) already cover both.

use std::path::Path;

use anyhow::Context;
use regex::Regex;
use serde::Deserialize;

use super::text::fold;
use crate::domain::Theme;

/// The rules file shipped with Vigie.
pub const EMBEDDED_RULES: &str = include_str!("../../config/themes.toml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    rule: Vec<RuleEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleEntry {
    theme: Theme,
    keywords: Vec<String>,
}

/// Compiled theme rules.
#[derive(Debug, Clone)]
pub struct ThemeRules {
    /// The theme of each pattern of `set`, by index.
    themes: Vec<Theme>,
    /// All rules at once: one pass over the text finds every theme.
    set: regex::RegexSet,
}

impl ThemeRules {
    /// Parses rules from TOML text; `origin` names the file in errors.
    pub fn parse(text: &str, origin: &str) -> anyhow::Result<ThemeRules> {
        let file: RulesFile = toml::from_str(text).map_err(|e| anyhow::anyhow!("{origin}: {e}"))?;
        let mut themes = Vec::with_capacity(file.rule.len());
        let mut patterns = Vec::with_capacity(file.rule.len());
        for (index, entry) in file.rule.into_iter().enumerate() {
            anyhow::ensure!(
                !entry.keywords.is_empty(),
                "{origin}: rule #{} (theme `{}`): `keywords` is empty: give at least one keyword",
                index + 1,
                entry.theme
            );
            let alternatives: Vec<String> = entry
                .keywords
                .iter()
                .map(|k| keyword_pattern(&fold(k.trim())))
                .collect();
            // ASCII word boundaries and classes: the text is folded to ASCII
            // first (see `fold`), and Unicode ones made the compiled set
            // several MiB, a tenth of a crawl's memory.
            let pattern = format!(r"(?-u)\b(?:{})\b", alternatives.join("|"));
            // Compiled alone first, only to name the rule in the error.
            Regex::new(&pattern).with_context(|| {
                format!(
                    "{origin}: rule #{} has a keyword that cannot be compiled",
                    index + 1
                )
            })?;
            themes.push(entry.theme);
            patterns.push(pattern);
        }
        let set = regex::RegexSet::new(&patterns)
            .with_context(|| format!("{origin}: theme rules cannot be combined"))?;
        Ok(ThemeRules { themes, set })
    }

    /// The rules embedded in the binary.
    pub fn embedded() -> ThemeRules {
        ThemeRules::parse(EMBEDDED_RULES, "config/themes.toml (embedded)")
            .expect("embedded theme rules are valid")
    }

    /// Loads `path`, or the embedded rules when it does not exist.
    pub fn load(path: &Path) -> anyhow::Result<ThemeRules> {
        match std::fs::read_to_string(path) {
            Ok(text) => ThemeRules::parse(&text, &path.display().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ThemeRules::embedded()),
            Err(e) => Err(e).with_context(|| format!("reading theme rules {}", path.display())),
        }
    }

    /// Themes whose keywords occur in `text`, in taxonomy order.
    pub fn themes_for(&self, text: &str) -> Vec<Theme> {
        self.themes_for_folded(&fold(text))
    }

    /// [`ThemeRules::themes_for`] on a text already folded with
    /// [`fold`], for callers that fold it once for
    /// several uses.
    pub fn themes_for_folded(&self, folded: &str) -> Vec<Theme> {
        let mut found: Vec<Theme> = self
            .set
            .matches(folded)
            .into_iter()
            .map(|i| self.themes[i])
            .collect();
        found.sort();
        found.dedup();
        found
    }
}

/// The regex of one folded keyword: each word as any of its
/// [`inflections`], spaces, hyphens and apostrophes between words as any
/// run of them, other text between words as written, a trailing `*` as a
/// prefix.
fn keyword_pattern(folded: &str) -> String {
    let (body, prefix) = match folded.strip_suffix('*') {
        Some(p) => (p, true),
        None => (folded, false),
    };
    let mut out = String::new();
    let mut rest = body;
    while !rest.is_empty() {
        let split = rest
            .find(|c: char| {
                c.is_ascii_alphanumeric() != rest.starts_with(|c: char| c.is_ascii_alphanumeric())
            })
            .unwrap_or(rest.len());
        let (run, tail) = rest.split_at(split);
        let is_word = run.starts_with(|c: char| c.is_ascii_alphanumeric());
        if is_word && !(prefix && tail.is_empty()) {
            let forms: Vec<String> = inflections(run).iter().map(|f| regex::escape(f)).collect();
            out.push_str(&format!("(?:{})", forms.join("|")));
        } else if run.bytes().all(|b| matches!(b, b' ' | b'-' | b'\'')) {
            // "site internet" finds "sites-internet", "tiers lieu" "tiers-lieux".
            out.push_str(r"[ '\-]+");
        } else {
            out.push_str(&regex::escape(run));
        }
        rest = tail;
    }
    if prefix {
        out.push_str(r"\w*");
    }
    out
}

/// A folded word and its French singular and plural forms, longest first:
/// `-s`/`-x` (`collectivite` ↔ `collectivites`, `jeu` ↔ `jeux`), `-al` ↔
/// `-aux` (`territorial` ↔ `territoriaux`), `-ail` ↔ `-aux` (`travail` ↔
/// `travaux`), `-eau`/`-au`/`-eu` ↔ `-x` (`reseau` ↔ `reseaux`). Forms that
/// are not French words are harmless (they never occur); the rules do not
/// reach other words, since only endings change. Words of three characters
/// or fewer, or with digits, are acronyms and stay as written.
pub fn inflections(word: &str) -> Vec<String> {
    if word.len() <= 3 || word.bytes().any(|b| b.is_ascii_digit()) {
        return vec![word.to_string()];
    }
    // Singulars the word may be the plural of (the word itself included).
    let mut singulars = vec![word.to_string()];
    if let Some(stem) = word.strip_suffix("aux") {
        singulars.push(format!("{stem}al"));
        singulars.push(format!("{stem}ail"));
    }
    if let Some(stem) = word.strip_suffix('x')
        && (stem.ends_with("au") || stem.ends_with("eu") || stem.ends_with("ou"))
    {
        singulars.push(stem.to_string());
    }
    if let Some(stem) = word.strip_suffix('s')
        && !stem.ends_with('s')
    {
        singulars.push(stem.to_string());
    }
    let mut forms = Vec::new();
    for s in singulars {
        if s.ends_with(['s', 'x', 'z']) {
            // Plural like its singular ("accès", "prix"): nothing to add.
        } else if let Some(stem) = s.strip_suffix("al") {
            forms.push(format!("{stem}aux"));
            forms.push(format!("{s}s"));
        } else if s.ends_with("au") || s.ends_with("eu") {
            forms.push(format!("{s}x"));
            forms.push(format!("{s}s"));
        } else {
            forms.push(format!("{s}s"));
            if let Some(stem) = s.strip_suffix("ail") {
                forms.push(format!("{stem}aux"));
            }
        }
        forms.push(s);
    }
    forms.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    forms.dedup();
    forms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_rules_tag_typical_titles() {
        let rules = ThemeRules::embedded();
        let t = rules
            .themes_for("Appel à projets : archivage électronique et dématérialisation des actes");
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
            err.contains("config/themes.toml")
                && err.contains("numerik")
                && err.contains("numerique"),
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
        let corpus = include_str!("../../tests/fixtures/themes/digital.tsv");
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

    /// `numerique` is the umbrella of the digital themes: every keyword of
    /// the four others gives it too (bare "données" excepted, which also
    /// means weather, water or census data).
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
                let text = keyword.trim_end_matches('*');
                if text != "données" && !rules.themes_for(text).contains(&Theme::Numerique) {
                    missing.push(format!("{:?}: {keyword}", rule.theme));
                }
            }
        }
        assert!(missing.is_empty(), "add to the numerique rule: {missing:?}");
    }
}

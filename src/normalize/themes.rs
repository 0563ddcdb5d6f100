//! Theme keyword rules (`config/themes.toml`): a call gets a theme when its
//! title or summary contains one of the rule's keywords, folded to
//! lowercase ASCII and matched on whole words (`*` at the end of a keyword
//! matches any word starting with it). Curators edit the file; the copy
//! embedded in the binary is used when it is absent.

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
                .map(|k| {
                    let folded = fold(k.trim());
                    match folded.strip_suffix('*') {
                        Some(prefix) => format!(r"{}\w*", regex::escape(prefix)),
                        None => regex::escape(&folded),
                    }
                })
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
}

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
//!
//! A keyword may offer alternatives in braces ([`expand_braces`]):
//! `{gestion|partage} des {données|donnée}` stands for its four phrases, so
//! a word that is ambiguous alone ("données": river flows, species counts,
//! a form's fields) is listed only with the words that make it digital.

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
            let mut alternatives = Vec::new();
            for keyword in &entry.keywords {
                let phrases = expand_braces(&fold(keyword.trim())).map_err(|e| {
                    anyhow::anyhow!(
                        "{origin}: rule #{} (theme `{}`): keyword `{keyword}`: {e}",
                        index + 1,
                        entry.theme
                    )
                })?;
                alternatives.extend(phrases.iter().map(|p| keyword_pattern(p)));
            }
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

/// The phrases a keyword stands for: each `{a|b|c}` group replaced by each
/// of its alternatives in turn (`{gestion|partage} des données` gives
/// `gestion des données` and `partage des données`). Groups do not nest;
/// an alternative may be empty (`donnée{s|}`).
pub fn expand_braces(keyword: &str) -> Result<Vec<String>, String> {
    let mut phrases = vec![String::new()];
    let mut rest = keyword;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err("`}` without a `{` before it".into());
        }
        let close = rest[open..]
            .find('}')
            .map(|c| open + c)
            .ok_or("`{` without its `}`")?;
        let group = &rest[open + 1..close];
        if group.contains('{') {
            return Err("braces cannot nest".into());
        }
        let head = &rest[..open];
        phrases = phrases
            .iter()
            .flat_map(|p| group.split('|').map(move |alt| format!("{p}{head}{alt}")))
            .collect();
        rest = &rest[close + 1..];
    }
    for p in &mut phrases {
        p.push_str(rest);
    }
    if phrases.iter().any(|p| p.trim().is_empty()) {
        return Err("an alternative leaves the keyword empty".into());
    }
    Ok(phrases)
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
mod tests;

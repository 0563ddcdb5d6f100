//! The demo's sample subscribers (a commune, a department, a region, each
//! with themes) and its source definitions, embedded as TOML with the
//! sites' addresses left as `{culture}`, `{dinum}`, `{aides}`,
//! `{occitanie}` placeholders.

use std::path::Path;

use anyhow::Context;
use chrono::{DateTime, Utc};

use super::sites::Bases;
use crate::domain::{Audience, Theme};
use crate::store::Store;
use crate::subscribers::{EmailAddress, Frequency, Profile, SubscriberStatus, model};

/// `(file name, definition)` of each demo source.
pub const SOURCES: [(&str, &str); 4] = [
    (
        "demo-culture.toml",
        include_str!("sources/demo-culture.toml"),
    ),
    ("demo-dinum.toml", include_str!("sources/demo-dinum.toml")),
    (
        "demo-aides-territoires.toml",
        include_str!("sources/demo-aides-territoires.toml"),
    ),
    (
        "demo-occitanie.toml",
        include_str!("sources/demo-occitanie.toml"),
    ),
];

/// A definition with the sites' addresses filled in.
pub fn source_text(template: &str, bases: &Bases) -> String {
    template
        .replace("{culture}", &bases.culture)
        .replace("{dinum}", &bases.dinum)
        .replace("{aides}", &bases.aides)
        .replace("{occitanie}", &bases.occitanie)
}

/// Writes every definition into `dir` (created), so that the daemon reads
/// them as it reads `sources/`, and so that they stay there to look at.
pub fn write_sources(dir: &Path, bases: &Bases) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for (name, template) in SOURCES {
        let path = dir.join(name);
        std::fs::write(&path, source_text(template, bases))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// `(name, email, audience, territory, themes)` of each sample subscriber.
type Sample = (
    &'static str,
    &'static str,
    Audience,
    &'static str,
    &'static [Theme],
);

pub const SUBSCRIBERS: [Sample; 3] = [
    (
        "Mairie de Cergy",
        "numerique@ville-cergy.example",
        Audience::Commune,
        "95127",
        &[Theme::Numerique, Theme::Archives, Theme::InclusionNumerique],
    ),
    (
        "Département du Val-d'Oise",
        "archives@valdoise.example",
        Audience::Department,
        "95",
        &[Theme::Archives, Theme::Culture, Theme::Education],
    ),
    (
        "Région Occitanie",
        "transformation-numerique@laregion.example",
        Audience::Region,
        "76",
        &[
            Theme::Numerique,
            Theme::InclusionNumerique,
            Theme::Connectivite,
            Theme::Donnees,
        ],
    ),
];

/// Adds the sample subscribers, active (as an operator's `subscribers add`).
pub fn add_subscribers(store: &Store, now: DateTime<Utc>) -> anyhow::Result<()> {
    for (name, email, audience, territory, themes) in SUBSCRIBERS {
        let profile = Profile {
            email: EmailAddress::parse(email)?,
            name: name.to_string(),
            audience,
            territory: model::parse_territory(territory, audience)?,
            themes: themes.to_vec(),
            keywords: Vec::new(),
            frequency: Frequency::Daily,
        };
        store
            .add_subscriber(&profile, SubscriberStatus::Active, now)
            .with_context(|| format!("adding the sample subscriber {name}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bases() -> Bases {
        Bases {
            culture: "http://127.0.0.1:1".into(),
            dinum: "http://127.0.0.1:2".into(),
            aides: "http://127.0.0.1:3".into(),
            occitanie: "http://127.0.0.1:4".into(),
        }
    }

    #[test]
    fn every_demo_source_loads_with_its_address_filled_in() {
        for (name, template) in SOURCES {
            let def =
                crate::source::load::load_str(Path::new(name), &source_text(template, &bases()))
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(def.url.as_str().starts_with("http://127.0.0.1:"), "{name}");
            assert!(def.id.as_str().starts_with("demo-"), "{name}");
        }
    }

    #[test]
    fn the_sample_subscribers_are_valid_and_active() {
        let store = Store::open_in_memory().unwrap();
        add_subscribers(&store, Utc::now()).unwrap();
        let active = store.list_subscribers(&[SubscriberStatus::Active]).unwrap();
        assert_eq!(active.len(), 3);
    }
}

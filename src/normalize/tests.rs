//! `normalize_item` end to end on one raw item: what it keeps, and the
//! warnings that name the item when it had to cut, drop or hold something.

use std::path::Path;

use chrono::NaiveDate;

use super::*;
use crate::source::load::load_str;

const SOURCE: &str = r#"id = "region-test"
name = "Région test"
funder = "Région"
kind = "feed"
url = "http://127.0.0.1:9/feed.xml"
schedule = "0 6 * * *"

[defaults]
audiences = ["commune"]
perimeter = "france"
themes = ["numerique"]

[maps.perimeter]
"Communes littorales" = "france"
"#;

fn run(raw: RawItem) -> Normalized {
    let source = load_str(Path::new("sources/region-test.toml"), SOURCE).unwrap();
    let rules = ThemeRules::embedded();
    let ctx = NormalizeContext {
        rules: &rules,
        today: NaiveDate::from_ymd_opt(2026, 1, 15).unwrap(),
    };
    normalize_item(&raw, &source, &ctx).unwrap()
}

fn titled(title: &str) -> RawItem {
    RawItem {
        title: Some(title.into()),
        link: Some("https://example.fr/aap".into()),
        ..RawItem::default()
    }
}

#[test]
fn an_unknown_perimeter_label_stays_unresolved_and_is_warned_about() {
    let n = run(RawItem {
        perimeter: Some("Région Atlantide".into()),
        ..titled("Numérique en Atlantide")
    });
    assert_eq!(n.item.perimeter.to_string(), "unresolved:Région Atlantide");
    assert!(
        n.warnings
            .iter()
            .any(|w| w.contains("«Numérique en Atlantide»")
                && w.contains("Région Atlantide")
                && w.contains("vigie calls perimeter")),
        "{:?}",
        n.warnings
    );
}

#[test]
fn perimeter_labels_resolve_to_a_set_or_the_map_or_the_default() {
    for (label, expected) in [
        (Some("Région Occitanie"), "region:76"),
        (Some("Bretagne, Pays de la Loire"), "region:52,region:53"),
        (Some("Hauts-de-France et Normandie"), "region:28,region:32"),
        (Some("Communes littorales"), "france"),
        (Some("region:11"), "region:11"),
        (None, "france"),
    ] {
        let n = run(RawItem {
            perimeter: label.map(str::to_string),
            ..titled("Appel")
        });
        assert_eq!(n.item.perimeter.to_string(), expected, "{label:?}");
        assert!(n.warnings.is_empty(), "{label:?}: {:?}", n.warnings);
    }
}

#[test]
fn a_cut_summary_is_warned_about_by_name() {
    let n = run(RawItem {
        summary: Some(format!("<p>{}</p>", "Les communes rurales, ".repeat(400))),
        ..titled("Long appel")
    });
    assert!(n.item.summary_text.ends_with('…'));
    assert!(
        n.warnings
            .iter()
            .any(|w| w.contains("«Long appel»") && w.contains("summary") && w.contains("cut")),
        "{:?}",
        n.warnings
    );
    assert!(run(titled("Court")).warnings.is_empty());
}

#[test]
fn date_warnings_name_the_item() {
    let n = run(RawItem {
        deadline: Some("31 mars 99999".into()),
        ..titled("Appel lointain")
    });
    assert!(n.item.deadlines.is_empty());
    assert!(
        n.warnings
            .iter()
            .any(|w| w.contains("«Appel lointain»") && w.contains("99999")),
        "{:?}",
        n.warnings
    );
    let n = run(RawItem {
        deadline: Some("15 mars 2026 à 25h00".into()),
        ..titled("Appel à heure impossible")
    });
    assert_eq!(n.item.deadlines.len(), 1);
    assert!(
        n.warnings
            .iter()
            .any(|w| w.contains("«Appel à heure impossible»") && w.contains("impossible time")),
        "{:?}",
        n.warnings
    );
}

#[test]
fn titles_and_summaries_lose_bidirectional_controls() {
    let n = run(RawItem {
        summary: Some("<p>Clôture\u{202e} le 31 mars\u{2069}</p>".into()),
        ..titled("Appel\u{202e} numérique\u{200f}")
    });
    assert_eq!(n.item.title, "Appel numérique");
    assert_eq!(n.item.summary_text, "Clôture le 31 mars");
}

#[test]
fn a_publication_day_without_a_time_is_its_start_and_a_time_is_kept() {
    let mut raw = titled("Appel à projets Territoires numériques");
    raw.published = Some("Publié le 2 novembre 2026".into());
    let published = |r: &RawItem| run(r.clone()).item.published.map(|p| p.to_rfc3339());
    assert_eq!(
        published(&raw).as_deref(),
        Some("2026-11-02T00:00:00+01:00")
    );
    raw.published = Some("2026-07-14T09:30:00+00:00".into());
    assert_eq!(
        published(&raw).as_deref(),
        Some("2026-07-14T11:30:00+02:00")
    );
}

#[test]
fn a_title_narrows_the_default_perimeter_to_the_territory_it_names() {
    // A national source: the call for one region reaches that region.
    let n = run(titled("Recyclage foncier des friches en Normandie"));
    assert_eq!(n.item.perimeter.to_string(), "region:28");
    let n = run(titled("Appel à projets Fabriques de territoire"));
    assert_eq!(n.item.perimeter.to_string(), "france");
    // A label, when the source gives one, says more than the title.
    let n = run(RawItem {
        perimeter: Some("Bretagne".into()),
        ..titled("Friches en Normandie")
    });
    assert_eq!(n.item.perimeter.to_string(), "region:53");

    // A regional source: a department inside narrows, a place outside
    // (a neighbour named in passing) leaves the default.
    let regional = SOURCE.replace(r#"perimeter = "france""#, r#"perimeter = "region:53""#);
    let source = load_str(Path::new("sources/region-test.toml"), &regional).unwrap();
    let rules = ThemeRules::embedded();
    let ctx = NormalizeContext {
        rules: &rules,
        today: NaiveDate::from_ymd_opt(2026, 1, 15).unwrap(),
    };
    let perimeter = |title: &str| {
        normalize_item(&titled(title), &source, &ctx)
            .unwrap()
            .item
            .perimeter
            .to_string()
    };
    assert_eq!(
        perimeter("AMI tiers-lieux dans le Finistère"),
        "department:29"
    );
    assert_eq!(
        perimeter("Coopération avec les communes en Normandie"),
        "region:53"
    );
}

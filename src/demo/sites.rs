//! The demo's four fixture sites, rendered once at start from templates
//! embedded in the binary (`src/demo/sites/`) and from the sample data
//! below. Every date is computed from today in Paris, so deadlines are
//! always ahead, whatever day the demo runs.
//!
//! What the sample shows:
//! - `culture`: a ministry's catalogue in State design-system cards, two
//!   listing pages and a detail page per call (deadline, opening date and
//!   audiences are only there);
//! - `dinum`: a ministry's RSS feed mixing news and calls; one entry relays
//!   the ministry of Culture's call with a link to its page (merged);
//! - `aides`: an API shaped like Aides-territoires' `/api/aids/`
//!   (`count`, `next`, `previous`, `results`), whose source is reviewed;
//!   one of its aids is the feed's call (merged and published), the
//!   others wait for a curator;
//! - `occitanie`: a region's own markup, calls for the region only, one of
//!   them closing in five days.

use chrono::{Datelike, Days, NaiveDate, TimeZone};
use chrono_tz::Europe::Paris;
use minijinja::value::Serde;
use minijinja::{Environment, context};
use serde::Serialize;
use serde_json::json;

use super::server::SitePages;

const CULTURE_LISTING: &str = include_str!("sites/culture/listing.html.j2");
const CULTURE_DETAIL: &str = include_str!("sites/culture/detail.html.j2");
const DINUM_FEED: &str = include_str!("sites/dinum/feed.xml.j2");
const OCCITANIE_LISTING: &str = include_str!("sites/occitanie/listing.html.j2");

const HTML: &str = "text/html; charset=utf-8";
const RSS: &str = "application/rss+xml; charset=utf-8";
const JSON: &str = "application/json";

/// The root URL of each site (`http://127.0.0.1:PORT`), known once their
/// listeners are bound; pages link across sites with them.
#[derive(Debug, Clone, Serialize)]
pub struct Bases {
    pub culture: String,
    pub dinum: String,
    pub aides: String,
    pub occitanie: String,
}

/// The pages of every site.
pub struct Sites {
    pub culture: SitePages,
    pub dinum: SitePages,
    pub aides: SitePages,
    pub occitanie: SitePages,
}

/// A call as a listing card shows it (and its detail page, for `culture`).
/// Dates are days from today.
#[derive(Debug, Clone, Serialize)]
struct Card {
    path: &'static str,
    title: &'static str,
    desc: &'static str,
    body: &'static str,
    kind: &'static str,
    opens: i64,
    deadline: i64,
    audiences: &'static [&'static str],
}

const CATALOGUE: &str = "/catalogue-des-demarches-et-subventions/appels-a-projets-candidatures";
const LOCAL: &[&str] = &["Communes", "Intercommunalités", "Départements", "Régions"];

fn culture_cards() -> [Card; 4] {
    [
        Card {
            path: "/catalogue-des-demarches-et-subventions/appels-a-projets-candidatures/archivage-numerique-en-territoires-anet",
            title: "Archivage numérique en territoires (ANET)",
            desc: "Le Service interministériel des Archives de France soutient les collectivités qui se dotent d'un système d'archivage électronique.",
            body: "Le dispositif finance l'étude, le paramétrage et la mise en service d'un système d'archivage électronique mutualisé, en lien avec les directions régionales des affaires culturelles.",
            kind: "Appel à projets",
            opens: -15,
            deadline: 45,
            audiences: LOCAL,
        },
        Card {
            path: "/catalogue-des-demarches-et-subventions/appels-a-projets-candidatures/numerisation-valorisation-archives",
            title: "Numérisation et valorisation des archives des collectivités",
            desc: "Soutien à la numérisation des fonds d'archives publiques et à leur mise en ligne.",
            body: "Les registres paroissiaux, plans cadastraux et délibérations anciennes numérisés sont mis en ligne pour les habitants et les chercheurs.",
            kind: "Appel à projets",
            opens: -5,
            deadline: 60,
            audiences: LOCAL,
        },
        Card {
            path: "/catalogue-des-demarches-et-subventions/appels-a-projets-candidatures/archives-education-artistique",
            title: "Services d'archives et éducation artistique et culturelle",
            desc: "Des ateliers avec les écoles et les collèges autour des fonds d'archives locaux.",
            body: "Les services d'archives des communes et des départements proposent aux élèves des ateliers de découverte des documents originaux.",
            kind: "Appel à candidatures",
            opens: -20,
            deadline: 30,
            audiences: &["Communes", "Départements", "Associations"],
        },
        Card {
            path: "/catalogue-des-demarches-et-subventions/appels-a-projets-candidatures/tiers-lieux-culturels-numeriques",
            title: "Fonds de soutien aux tiers-lieux culturels et numériques",
            desc: "Équiper les tiers-lieux qui ouvrent la culture et les outils numériques à tous les habitants.",
            body: "Le fonds finance l'équipement numérique et la programmation culturelle des tiers-lieux portés par les collectivités.",
            kind: "Appel à projets",
            opens: -30,
            deadline: 6,
            audiences: &["Communes", "Intercommunalités"],
        },
    ]
}

fn occitanie_aides() -> [Card; 3] {
    [
        Card {
            path: "/aides/pass-numerique-mediation",
            title: "Pass numérique Occitanie : médiation numérique des habitants",
            desc: "La Région cofinance les ateliers de médiation numérique et l'inclusion numérique des habitants éloignés des outils.",
            body: "",
            kind: "Appel à projets",
            opens: -40,
            deadline: 5,
            audiences: &[],
        },
        Card {
            path: "/aides/territoires-connectes",
            title: "Territoires connectés : couverture mobile et très haut débit",
            desc: "Résorber les zones blanches et raccorder les bâtiments publics au très haut débit.",
            body: "",
            kind: "Appel à projets",
            opens: -10,
            deadline: 50,
            audiences: &[],
        },
        Card {
            path: "/aides/occitanie-donnees-publiques",
            title: "Occitanie Data : ouverture des données publiques locales",
            desc: "Accompagner les collectivités qui publient leurs données en open data.",
            body: "",
            kind: "Appel à manifestation d'intérêt",
            opens: -3,
            deadline: 35,
            audiences: &[],
        },
    ]
}

/// Renders every page of every site for `today` (Paris).
pub fn render(bases: &Bases, today: NaiveDate) -> anyhow::Result<Sites> {
    let env = environment(today)?;
    let cards = culture_cards();
    let mut culture = SitePages::default();
    let listing = env.get_template("culture/listing")?;
    culture.insert(
        CATALOGUE,
        HTML,
        listing.render(
            context! { cards => Serde(&cards[..3]), other_count => 1, next => "?page=2" },
        )?,
    );
    culture.insert(
        &format!("{CATALOGUE}?page=2"),
        HTML,
        listing.render(context! { cards => Serde(&cards[3..]), other_count => 3, next => () })?,
    );
    let detail = env.get_template("culture/detail")?;
    for card in &cards {
        culture.insert(
            card.path,
            HTML,
            detail.render(context! { card => Serde(card) })?,
        );
    }

    let mut dinum = SitePages::default();
    dinum.insert(
        "/actualites/feed/",
        RSS,
        env.get_template("dinum/feed")?.render(Serde(bases))?,
    );

    let mut occitanie = SitePages::default();
    occitanie.insert(
        "/aides",
        HTML,
        env.get_template("occitanie/listing")?
            .render(context! { aides => Serde(occitanie_aides()) })?,
    );

    let mut aides = SitePages::default();
    for (route, body) in aides_pages(&bases.aides, today) {
        aides.insert(&route, JSON, serde_json::to_string_pretty(&body)?);
    }
    Ok(Sites {
        culture,
        dinum,
        aides,
        occitanie,
    })
}

fn environment(today: NaiveDate) -> anyhow::Result<Environment<'static>> {
    let mut env = Environment::new();
    env.add_template("culture/listing", CULTURE_LISTING)?;
    env.add_template("culture/detail", CULTURE_DETAIL)?;
    env.add_template("dinum/feed", DINUM_FEED)?;
    env.add_template("occitanie/listing", OCCITANIE_LISTING)?;
    env.add_function("date", move |days: i64| french_date(day(today, days)));
    env.add_function("rfc2822", move |days: i64| {
        paris_time(day(today, days), 10).to_rfc2822()
    });
    Ok(env)
}

/// `today` moved by `days`; the sample's offsets are small, so the calendar
/// never runs out.
fn day(today: NaiveDate, days: i64) -> NaiveDate {
    let magnitude = Days::new(days.unsigned_abs());
    if days >= 0 {
        today.checked_add_days(magnitude)
    } else {
        today.checked_sub_days(magnitude)
    }
    .unwrap_or(today)
}

fn paris_time(date: NaiveDate, hour: u32) -> chrono::DateTime<chrono_tz::Tz> {
    let naive = date.and_hms_opt(hour, 0, 0).unwrap_or_default();
    Paris
        .from_local_datetime(&naive)
        .earliest()
        .unwrap_or_else(|| Paris.from_utc_datetime(&naive))
}

/// "1er décembre 2026", "15 mars 2027": how French sites write a date.
pub fn french_date(date: NaiveDate) -> String {
    let day = match date.day() {
        1 => "1er".to_string(),
        d => d.to_string(),
    };
    let month = crate::domain::FRENCH_MONTHS[date.month0() as usize % 12];
    format!("{day} {month} {}", date.year())
}

/// The two pages of the API, by route.
fn aides_pages(base: &str, today: NaiveDate) -> Vec<(String, serde_json::Value)> {
    let iso = |days: i64| day(today, days).format("%Y-%m-%d").to_string();
    let created = |days: i64| paris_time(day(today, days), 9).to_rfc3339();
    let aid = |id: u32,
               slug: &str,
               name: &str,
               financer: &str,
               perimeter: &str,
               categories: &[&str],
               description: &str,
               opens: i64,
               deadline: i64| {
        json!({
            "id": id,
            "slug": slug,
            "url": format!("/aides/{slug}/"),
            "name": name,
            "financers": [financer],
            "financers_full": [{ "id": id % 100, "name": financer, "logo": null }],
            "description": description,
            "perimeter": perimeter,
            "categories": categories,
            "is_call_for_project": true,
            "targeted_audiences": ["Communes", "Intercommunalités / Pays"],
            "aid_types": ["Subvention"],
            "start_date": iso(opens),
            "submission_deadline": iso(deadline),
            "recurrence": "Ponctuelle",
            "date_created": created(opens),
            "date_updated": created(opens),
        })
    };
    let query = "call_for_projects_only=true&targeted_audiences=commune";
    vec![
        (
            "/api/aids/".to_string(),
            json!({
                "count": 3,
                "next": format!("{base}/api/aids/?{query}&page=2"),
                "previous": null,
                "results": [
                    aid(160001, "tnt-transformation-numerique-des-territoires",
                        "Appel à projets « Transformation numérique des territoires »",
                        "Direction interministérielle du numérique (DINUM)", "France",
                        &["Numérique"],
                        "<p>Financer des <strong>services numériques mutualisés</strong> entre communes et intercommunalités.</p>",
                        -6, 40),
                    aid(160002, "numerique-educatif-ecoles-val-d-oise",
                        "Numérique éducatif : équipement des écoles du Val-d'Oise",
                        "Département du Val-d'Oise", "Val-d'Oise",
                        &["Numérique", "Éducation"],
                        "<p>Tablettes, vidéoprojecteurs interactifs et réseaux dans les écoles élémentaires.</p>",
                        -8, 25),
                ],
            }),
        ),
        (
            "/api/aids/?page=2".to_string(),
            json!({
                "count": 3,
                "next": null,
                "previous": format!("{base}/api/aids/?{query}"),
                "results": [
                    aid(160003, "conseillers-numeriques-communes-rurales",
                        "Conseillers numériques : recrutement dans les communes rurales",
                        "Agence nationale de la cohésion des territoires (ANCT)", "France",
                        &["Inclusion numérique"],
                        "<p>Un conseiller numérique pour accompagner les habitants dans leurs démarches en ligne.</p>",
                        -12, 55),
                ],
            }),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_dates_read_as_sites_write_them() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(french_date(d(2026, 12, 1)), "1er décembre 2026");
        assert_eq!(french_date(d(2027, 3, 15)), "15 mars 2027");
        assert_eq!(day(d(2026, 12, 30), 5), d(2027, 1, 4));
        assert_eq!(day(d(2026, 12, 30), -30), d(2026, 11, 30));
    }

    #[test]
    fn every_page_renders_with_dates_after_today() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 28).unwrap();
        let bases = Bases {
            culture: "http://127.0.0.1:1".into(),
            dinum: "http://127.0.0.1:2".into(),
            aides: "http://127.0.0.1:3".into(),
            occitanie: "http://127.0.0.1:4".into(),
        };
        let sites = render(&bases, today).unwrap();
        let listing = sites.culture.body(CATALOGUE).unwrap();
        assert!(
            listing.contains("Date limite : 11 février 2027"),
            "{listing}"
        );
        assert!(listing.contains("fr-pagination__link--next"));
        let feed = sites.dinum.body("/actualites/feed/").unwrap();
        assert!(feed.contains("http://127.0.0.1:1/catalogue-des-demarches"));
        let api: serde_json::Value =
            serde_json::from_str(&sites.aides.body("/api/aids/").unwrap()).unwrap();
        assert_eq!(api["results"][0]["submission_deadline"], "2027-02-06");
        assert!(
            api["next"]
                .as_str()
                .unwrap()
                .starts_with("http://127.0.0.1:3/api/aids/?")
        );
        assert!(sites.aides.body("/api/aids/?page=2").is_some());
    }
}

//! Golden-ish assertions on rendered digests: what must be there (and what
//! must not), without freezing the whole markup.

use super::*;

fn at(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

fn call(id: i64, title: &str, deadline: Option<&str>) -> CallView {
    CallView {
        id,
        title: title.to_string(),
        funder: Some("Service interministériel des Archives de France".to_string()),
        kind: CallKind::Aap,
        deadline: deadline.map(at),
        previous_deadline: None,
        perimeter: crate::domain::Perimeter::France.into(),
        summary: "Soutien aux projets d'archivage numérique des collectivités.".to_string(),
        vigie_url: format!("https://vigie.example.fr/appels/{id}"),
        funder_url: Some(format!("https://archives.example.gouv.fr/aap/{id}")),
    }
}

fn digest(sections: Vec<(SectionKind, Vec<CallView>)>) -> DigestView {
    DigestView {
        subscriber_name: "Cergy".to_string(),
        sections,
        manage_url: "https://vigie.example.fr/abonnement/gerer?jeton=abc".to_string(),
        unsubscribe_url: "https://vigie.example.fr/abonnement/desabonner?jeton=abc".to_string(),
        site_url: "https://vigie.example.fr/".to_string(),
        generated_at: at("2027-03-01T06:00:00+01:00").with_timezone(&Utc),
        closing_soon_days: 14,
    }
}

#[test]
fn the_closing_soon_heading_follows_the_configured_horizon() {
    assert_eq!(
        SectionKind::ClosingSoon.heading(7),
        "Clôture dans moins de 7 jours"
    );
    assert_eq!(
        SectionKind::ClosingSoon.heading(1),
        "Clôture dans moins de 1 jour"
    );
    assert_eq!(SectionKind::New.heading(7), "Nouveaux appels");
}

fn render(d: &DigestView) -> RenderedEmail {
    Renderer::new().unwrap().render(d).unwrap()
}

/// The HTML with entities decoded, to look for text as a reader sees it.
fn decoded(html: &str) -> String {
    html_escape::decode_html_entities(html).into_owned()
}

fn three_new() -> DigestView {
    digest(vec![(
        SectionKind::New,
        vec![
            call(
                1,
                "Archivage numérique en territoires",
                Some("2027-04-30T12:00:00+02:00"),
            ),
            call(
                2,
                "Tiers-lieux numériques",
                Some("2027-03-15T23:59:00+01:00"),
            ),
            call(3, "Fonds FAST", None),
        ],
    )])
}

#[test]
fn subject_counts_new_calls_and_names_the_nearest_deadline() {
    let email = render(&three_new());
    assert_eq!(
        email.subject,
        "Vigie : 3 nouveaux appels pour Cergy — prochaine clôture le 15 mars"
    );
}

#[test]
fn subject_for_a_single_call_is_singular() {
    let d = digest(vec![(
        SectionKind::New,
        vec![call(1, "Archivage", Some("2027-09-01T17:00:00+02:00"))],
    )]);
    assert_eq!(
        render(&d).subject,
        "Vigie : 1 nouvel appel pour Cergy — clôture le 1er septembre"
    );
}

#[test]
fn subject_without_any_deadline_has_no_deadline_part() {
    let d = digest(vec![(SectionKind::New, vec![call(1, "Fonds FAST", None)])]);
    assert_eq!(render(&d).subject, "Vigie : 1 nouvel appel pour Cergy");
}

#[test]
fn subject_ignores_past_deadlines_and_shows_another_year() {
    let d = digest(vec![(
        SectionKind::New,
        vec![
            call(1, "Passé", Some("2027-02-01T12:00:00+01:00")),
            call(2, "L'an prochain", Some("2028-01-10T12:00:00+01:00")),
        ],
    )]);
    assert_eq!(
        render(&d).subject,
        "Vigie : 2 nouveaux appels pour Cergy — prochaine clôture le 10 janvier 2028"
    );
}

#[test]
fn subject_wording_for_other_sections_and_mixes() {
    let ext = |id| {
        let mut c = call(id, "Prolongé", Some("2027-04-01T12:00:00+02:00"));
        c.previous_deadline = Some(at("2027-03-10T12:00:00+01:00"));
        c
    };
    let cases = [
        (
            vec![(SectionKind::DeadlineExtended, vec![ext(1)])],
            "Vigie : 1 appel prolongé pour Cergy — clôture le 1er avril",
        ),
        (
            vec![(SectionKind::ClosingSoon, vec![ext(1), ext(2)])],
            "Vigie : 2 appels clôturent bientôt pour Cergy — prochaine clôture le 1er avril",
        ),
        (
            vec![
                (SectionKind::ClosingSoon, vec![ext(2)]),
                (SectionKind::New, vec![call(1, "Nouveau", None)]),
            ],
            "Vigie : 2 appels dont 1 nouveau pour Cergy — prochaine clôture le 1er avril",
        ),
        (
            vec![
                (SectionKind::ClosingSoon, vec![ext(2)]),
                (SectionKind::DeadlineExtended, vec![ext(3)]),
            ],
            "Vigie : 2 appels à suivre pour Cergy — prochaine clôture le 1er avril",
        ),
    ];
    for (sections, expected) in cases {
        assert_eq!(render(&digest(sections)).subject, expected);
    }
}

#[test]
fn sections_appear_only_when_not_empty_and_in_a_fixed_order() {
    let d = digest(vec![
        (
            SectionKind::ClosingSoon,
            vec![call(2, "Bientôt clos", Some("2027-03-10T12:00:00+01:00"))],
        ),
        (SectionKind::DeadlineExtended, vec![]),
        (SectionKind::New, vec![call(1, "Nouveau", None)]),
    ]);
    let email = render(&d);
    let html = decoded(&email.html);
    assert!(!html.contains("Date limite prolongée"));
    assert!(!email.text.contains("DATE LIMITE PROLONGÉE"));
    let new = html.find("<h2").unwrap();
    assert!(html[new..].starts_with("<h2") && html[new..].contains("Nouveaux appels (1)"));
    let pos = |s: &str| html.find(s).unwrap_or_else(|| panic!("{s} missing"));
    assert!(pos("Nouveaux appels (1)") < pos("Clôture dans moins de 14 jours (1)"));
    let tpos = |s: &str| email.text.find(s).unwrap_or_else(|| panic!("{s} missing"));
    assert!(tpos("NOUVEAUX APPELS (1)") < tpos("CLÔTURE DANS MOINS DE 14 JOURS (1)"));
}

#[test]
fn calls_are_sorted_by_soonest_deadline_with_undated_calls_last() {
    let email = render(&three_new());
    let pos = |s: &str| email.text.find(s).unwrap_or_else(|| panic!("{s} missing"));
    assert!(pos("Tiers-lieux numériques") < pos("Archivage numérique en territoires"));
    assert!(pos("Archivage numérique en territoires") < pos("Fonds FAST"));
}

#[test]
fn every_call_has_its_title_details_and_links_in_both_parts() {
    let email = render(&three_new());
    let html = decoded(&email.html);
    for id in 1..=3 {
        let vigie = format!("https://vigie.example.fr/appels/{id}");
        let funder = format!("https://archives.example.gouv.fr/aap/{id}");
        for part in [&html, &email.text] {
            assert!(part.contains(&vigie), "{vigie} missing");
            assert!(part.contains(&funder), "{funder} missing");
        }
        assert!(html.contains(&format!("href=\"{vigie}\"")));
        assert!(html.contains(&format!("href=\"{funder}\"")));
    }
    for part in [&html, &email.text] {
        for title in [
            "Archivage numérique en territoires",
            "Tiers-lieux numériques",
            "Fonds FAST",
        ] {
            assert!(part.contains(title), "{title} missing");
        }
        assert!(part.contains("Appel à projets"));
        assert!(part.contains("Service interministériel des Archives de France"));
        assert!(part.contains("France entière"));
        assert!(part.contains("avant le vendredi 30 avril 2027 à 12 h"));
        assert!(part.contains("jusqu'au lundi 15 mars 2027 inclus"));
        assert!(part.contains("non communiquée"));
        assert!(part.contains("Soutien aux projets d'archivage numérique"));
        assert!(part.contains("Fiche de l'appel sur Vigie"));
        assert!(part.contains("Page de l'appel chez Service interministériel"));
    }
}

#[test]
fn an_extended_deadline_shows_the_new_and_previous_dates() {
    let mut c = call(7, "Prolongé", Some("2027-04-01T12:00:00+02:00"));
    c.previous_deadline = Some(at("2027-03-10T12:00:00+01:00"));
    let email = render(&digest(vec![(SectionKind::DeadlineExtended, vec![c])]));
    for part in [decoded(&email.html), email.text] {
        assert!(part.contains("Nouvelle date limite"));
        assert!(part.contains("avant le jeudi 1er avril 2027 à 12 h"));
        assert!(part.contains("Date limite précédente"));
        assert!(part.contains("avant le mercredi 10 mars 2027 à 12 h"));
    }
}

#[test]
fn long_summaries_are_cut_at_a_word() {
    let mut c = call(1, "Long", None);
    c.summary = "mot ".repeat(200);
    let email = render(&digest(vec![(SectionKind::New, vec![c])]));
    let html = decoded(&email.html);
    let start = html.find("mot mot").unwrap();
    let end = start + html[start..].find('…').unwrap();
    assert!(html[start..end].chars().count() < SUMMARY_MAX_CHARS);
    assert!(html[start..end].ends_with("mot"));
}

#[test]
fn hostile_text_is_escaped_and_hostile_links_are_dropped() {
    let mut c = call(
        1,
        "<script>alert(1)</script>\r\nBcc: victim@example.org",
        None,
    );
    c.funder = Some("\"><img src=x onerror=alert(1)>".to_string());
    c.summary = "<a href=\"javascript:alert(1)\">clic</a> & <b>gras</b>".to_string();
    c.vigie_url = "javascript:alert(1)".to_string();
    c.funder_url = Some("  JaVaScRiPt:alert(document.cookie)".to_string());
    let mut d = digest(vec![(SectionKind::New, vec![c])]);
    d.subscriber_name = "Cergy\r\nBcc: everyone@example.org\n<b>".to_string();
    let email = render(&d);

    // No header injection: the subject is one line.
    assert!(!email.subject.contains(['\r', '\n']), "{:?}", email.subject);
    assert!(
        email
            .subject
            .contains("Cergy Bcc: everyone@example.org <b>")
    );

    let html = &email.html;
    // No markup from the input survives: it is all text.
    for bad in ["<script", "<img", "<b>", "<a href=\"javascript"] {
        assert!(
            !html.to_ascii_lowercase().contains(bad),
            "{bad} reached the HTML"
        );
    }
    // Every link is http(s), and no attribute was opened by the input.
    for (i, _) in html.match_indices("href=\"") {
        let value = decoded(&html[i + 6..i + 6 + html[i + 6..].find('"').unwrap()]);
        assert!(value.starts_with("https://"), "{value}");
    }
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
    // The title is still shown, as text, on one line.
    assert!(decoded(html).contains("<script>alert(1)</script> Bcc: victim@example.org"));
    // The plain-text part shows it literally (nothing to escape there).
    assert!(
        email
            .text
            .contains("- <script>alert(1)</script> Bcc: victim@example.org")
    );
    // Without a safe URL there is no link, in either part.
    assert!(!html.contains("Fiche de l'appel sur Vigie"));
    assert!(!html.contains("Page de l'appel chez"));
    assert!(!email.text.contains("Fiche de l'appel sur Vigie"));
    assert!(!email.text.contains("Page de l'appel chez"));
    assert!(!email.text.contains("document.cookie"));
    // No CR anywhere, and the title's CR/LF did not start a new text line.
    assert!(!email.text.contains('\r') && !html.contains('\r'));
    assert!(!email.text.lines().any(|l| l.starts_with("Bcc:")));
}

#[test]
fn only_http_and_https_urls_are_links() {
    assert_eq!(
        safe_url("https://example.org/a?b=c#d").as_deref(),
        Some("https://example.org/a?b=c#d")
    );
    assert_eq!(
        safe_url(" http://example.org").as_deref(),
        Some("http://example.org/")
    );
    assert_eq!(
        safe_url("https://exa\r\nmple.org/x").as_deref(),
        Some("https://example.org/x")
    );
    for bad in [
        "javascript:alert(1)",
        "JAVASCRIPT:alert(1)",
        "data:text/html,<script>",
        "vbscript:x",
        "mailto:a@example.org",
        "ftp://example.org/",
        "/relative/path",
        "//example.org/x",
        "https://user:pass@example.org/",
        "",
    ] {
        assert_eq!(safe_url(bad), None, "{bad}");
    }
}

#[test]
fn our_own_links_must_be_http() {
    let mut d = three_new();
    d.unsubscribe_url = "javascript:void(0)".to_string();
    let err = Renderer::new().unwrap().render(&d).unwrap_err().to_string();
    assert!(err.contains("unsubscribe"), "{err}");
}

#[test]
fn html_is_self_contained_french_and_structured() {
    let email = render(&three_new());
    let html = &email.html;
    assert!(html.starts_with("<!DOCTYPE html>"), "{}", &html[..40]);
    assert!(html.contains("<html lang=\"fr\">"));
    assert!(html.contains(&format!(
        "<title>{}</title>",
        html_escape::encode_quoted_attribute(&email.subject)
    )));
    // No external resource: no src= at all, no url(), no <link>, no <style>.
    let lower = html.to_ascii_lowercase();
    for bad in [
        "src=", "url(", "<link", "<style", "<img", "<script", "@import",
    ] {
        assert!(!lower.contains(bad), "{bad} in the HTML");
    }
    // Headings: one h1, then h2 per section, h3 per call, never skipping.
    let headings: Vec<&str> = ["<h1", "<h2", "<h3"]
        .iter()
        .flat_map(|h| lower.match_indices(h).map(|(i, _)| (i, *h)))
        .collect::<std::collections::BTreeMap<_, _>>()
        .into_values()
        .collect();
    assert_eq!(headings, ["<h1", "<h2", "<h3", "<h3", "<h3"]);
    // Links are descriptive.
    assert!(!lower.contains("cliquez ici"));
    assert!(!lower.contains(">ici<"));
}

#[test]
fn footer_explains_and_offers_manage_and_unsubscribe_links() {
    let email = render(&three_new());
    let html = decoded(&email.html);
    assert!(html.contains("Vous recevez ce courriel parce que"));
    assert!(html.contains(
        "<a href=\"https://vigie.example.fr/abonnement/desabonner?jeton=abc\" \
         style=\"color:#000091;text-decoration:underline;\">Se désabonner de ces alertes</a>"
    ));
    assert!(html.contains("href=\"https://vigie.example.fr/abonnement/gerer?jeton=abc\""));
    assert!(
        email
            .text
            .contains("https://vigie.example.fr/abonnement/desabonner?jeton=abc")
    );
    assert!(
        email
            .text
            .contains("https://vigie.example.fr/abonnement/gerer?jeton=abc")
    );
    assert!(email.text.contains("Envoyé le lundi 1er mars 2027."));
}

#[test]
fn text_part_is_wrapped_at_72_columns_except_urls() {
    let mut c = call(
        1,
        &"Appel très long ".repeat(20),
        Some("2027-04-30T12:00:00+02:00"),
    );
    c.summary = "Une phrase de résumé assez longue pour devoir être coupée. ".repeat(10);
    c.funder = Some("Agence nationale de la cohésion des territoires et ministère ".repeat(3));
    c.funder_url = Some(format!("https://example.gouv.fr/{}", "x".repeat(100)));
    let email = render(&digest(vec![(SectionKind::New, vec![c])]));
    for line in email.text.lines() {
        let long = line.chars().count() > TEXT_WIDTH;
        assert!(
            !long || line.trim().starts_with("https://"),
            "too long: {line:?}"
        );
    }
    assert!(
        email
            .text
            .contains(&format!("https://example.gouv.fr/{}", "x".repeat(100)))
    );
}

#[test]
fn override_directory_replaces_templates() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("digest.txt.j2"),
        "Bonjour {{ subscriber_name }} : {{ total }}\n{{ unsubscribe_url }}",
    )
    .unwrap();
    let renderer = Renderer::with_dir(dir.path()).unwrap();
    let email = renderer.render(&three_new()).unwrap();
    assert_eq!(
        email.text,
        "Bonjour Cergy : 3\nhttps://vigie.example.fr/abonnement/desabonner?jeton=abc"
    );
    // The HTML part still comes from the embedded template.
    assert!(email.html.contains("<html lang=\"fr\">"));
}

#[test]
fn override_errors_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("digest.txt.j2"), "{{ unknown_variable }}").unwrap();
    let err = Renderer::with_dir(dir.path())
        .unwrap()
        .render(&three_new())
        .unwrap_err();
    assert!(format!("{err:#}").contains("text part"), "{err:#}");

    std::fs::write(dir.path().join("digest.txt.j2"), "{% if %}").unwrap();
    let err = Renderer::with_dir(dir.path()).unwrap_err();
    assert!(format!("{err:#}").contains("digest.txt.j2"), "{err:#}");

    let err = Renderer::with_dir(&dir.path().join("missing")).unwrap_err();
    assert!(
        format!("{err:#}").contains("email template directory"),
        "{err:#}"
    );
}

/// Writes a sample digest to `target/digest-sample.{html,txt}` for the Nu
/// HTML checker: `scripts/check-digest-html.sh` runs this then vnu.
#[test]
#[ignore = "writes files for scripts/check-digest-html.sh"]
fn write_sample_for_html_validation() {
    let mut d = three_new();
    let mut ext = call(
        4,
        "Fonds \"<numérique>\" & territoires",
        Some("2027-04-01T12:00:00+02:00"),
    );
    ext.previous_deadline = Some(at("2027-03-10T12:00:00+01:00"));
    ext.vigie_url = "javascript:alert(1)".to_string();
    d.sections.push((SectionKind::DeadlineExtended, vec![ext]));
    let email = render(&d);
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    std::fs::write(out.join("digest-sample.html"), &email.html).unwrap();
    std::fs::write(out.join("digest-sample.txt"), &email.text).unwrap();
}

//! The cached path against the uncached one, and the split templates
//! against the single-file templates they replaced (kept verbatim in
//! `src/digest/render/legacy/`): the same bytes, for varied and for random
//! digests.

use chrono::{DateTime, FixedOffset, Utc};
use proptest::prelude::*;

use super::BlockCache;
use crate::digest::render::{CallView, DigestView, RenderedEmail, Renderer, SectionKind};
use crate::domain::{CallKind, Perimeter};

fn at(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

fn call(id: i64, title: &str, deadline: Option<&str>) -> CallView {
    CallView {
        id,
        title: title.to_string(),
        funder: Some("Agence nationale de la cohésion des territoires".to_string()),
        kind: CallKind::Aap,
        deadline: deadline.map(at),
        previous_deadline: None,
        perimeter: Perimeter::Department("95".into()).into(),
        summary: "Soutien aux tiers-lieux & à l'inclusion numérique <des> communes. ".repeat(8),
        vigie_url: format!("https://vigie.example.fr/appels/{id}"),
        funder_url: Some(format!("https://anct.example.gouv.fr/aap/{id}?a=1&b=\"2\"")),
    }
}

fn digest(name: &str, sections: Vec<(SectionKind, Vec<CallView>)>) -> DigestView {
    DigestView {
        subscriber_name: name.to_string(),
        sections,
        manage_url: format!("https://vigie.example.fr/abonnement/gerer?jeton={name}"),
        unsubscribe_url: format!("https://vigie.example.fr/abonnement/desabonner?jeton={name}"),
        site_url: "https://vigie.example.fr/".to_string(),
        generated_at: at("2027-03-01T06:00:00+01:00").with_timezone(&Utc),
        closing_soon_days: 14,
    }
}

/// Digests that share calls in every way a run can, and some it cannot:
/// the same call in several sections, an extension with two different
/// previous deadlines, a call without funder, links, summary or deadline,
/// hostile text, and the same id with another title (a stale entry).
fn varied() -> Vec<DigestView> {
    let a = call(1, "Archivage numérique", Some("2027-04-30T12:00:00+02:00"));
    let b = call(2, "Tiers-lieux", Some("2027-03-15T23:59:00+01:00"));
    let mut bare = call(3, "", None);
    bare.funder = None;
    bare.funder_url = None;
    bare.vigie_url = "javascript:alert(1)".into();
    bare.summary = String::new();
    bare.kind = CallKind::Prix;
    bare.perimeter = Perimeter::France.into();
    let mut hostile = call(4, "<script>x</script>\r\nBcc: a@b.c", None);
    hostile.funder = Some("\"><img src=x>".into());
    let mut ext1 = b.clone();
    ext1.previous_deadline = Some(at("2027-03-01T12:00:00+01:00"));
    let mut ext2 = b.clone();
    ext2.previous_deadline = Some(at("2027-02-20T12:00:00+01:00"));
    let mut renamed = a.clone();
    renamed.title = "Archivage numérique (modifié)".into();
    vec![
        digest(
            "Cergy",
            vec![(SectionKind::New, vec![a.clone(), b.clone(), bare.clone()])],
        ),
        digest(
            "Pontoise",
            vec![
                (SectionKind::ClosingSoon, vec![b.clone()]),
                (SectionKind::New, vec![hostile.clone(), a.clone()]),
                (SectionKind::DeadlineExtended, vec![ext1]),
            ],
        ),
        digest(
            "Osny",
            vec![(SectionKind::DeadlineExtended, vec![ext2, a.clone()])],
        ),
        digest("", vec![(SectionKind::New, vec![renamed, bare, hostile])]),
        digest("Éragny\r\n<b>", vec![(SectionKind::New, vec![a, b])]),
        digest("Vide", vec![]),
    ]
}

fn legacy_renderer() -> Renderer {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/digest/render/legacy");
    Renderer::with_dir(&dir).unwrap()
}

fn assert_same(got: &RenderedEmail, want: &RenderedEmail) {
    assert_eq!(got.subject, want.subject);
    assert_eq!(got.html, want.html, "HTML part differs");
    assert_eq!(got.text, want.text, "text part differs");
}

#[test]
fn a_shared_cache_gives_the_bytes_of_rendering_each_digest_alone() {
    let renderer = Renderer::new().unwrap();
    let mut cache = BlockCache::new();
    // Twice over, so that the second pass is served from the cache.
    for d in varied().iter().chain(varied().iter()) {
        let cached = renderer.render_cached(d, &mut cache).unwrap();
        assert_same(&cached, &renderer.render(d).unwrap());
    }
    assert!(!cache.is_empty());
}

#[test]
fn a_stale_entry_for_the_same_call_id_is_not_served() {
    let renderer = Renderer::new().unwrap();
    let mut cache = BlockCache::new();
    let before = digest(
        "Cergy",
        vec![(SectionKind::New, vec![call(7, "Avant", None)])],
    );
    let after = digest(
        "Cergy",
        vec![(SectionKind::New, vec![call(7, "Après", None)])],
    );
    renderer.render_cached(&before, &mut cache).unwrap();
    let email = renderer.render_cached(&after, &mut cache).unwrap();
    assert!(email.html.contains("Après") && !email.html.contains("Avant"));
    assert_same(&email, &renderer.render(&after).unwrap());
}

#[test]
fn the_split_templates_render_what_the_single_file_templates_did() {
    let (new, legacy) = (Renderer::new().unwrap(), legacy_renderer());
    for d in varied() {
        assert_same(&new.render(&d).unwrap(), &legacy.render(&d).unwrap());
    }
}

#[test]
fn an_override_that_lays_out_calls_itself_still_sees_their_fields() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("digest.txt.j2"),
        "{% for s in sections %}{% for c in s.calls %}{{ c.id }} {{ c.title }} \
         {{ c.deadline_label }} {{ c.perimeter }}\n{% endfor %}{% endfor %}",
    )
    .unwrap();
    let renderer = Renderer::with_dir(dir.path()).unwrap();
    let email = renderer.render(&varied()[0]).unwrap();
    assert_eq!(
        email.text,
        "2 Tiers-lieux Date limite Val-d'Oise (95)\n\
         1 Archivage numérique Date limite Val-d'Oise (95)\n\
         3 Appel sans titre Date limite France entière\n"
    );
}

fn arb_call() -> impl Strategy<Value = CallView> {
    (
        1i64..6,
        "\\PC{0,60}",
        proptest::option::of("[a-zA-Zé &<>\"'\r\n]{0,40}"),
        "\\PC{0,400}",
        proptest::option::of(0i64..400),
        proptest::option::of(0i64..400),
        prop::sample::select(vec![
            "https://vigie.example.fr/appels/1",
            "javascript:alert(1)",
            "",
        ]),
        proptest::option::of("(https?|ftp)://[a-z]{1,8}\\.fr/[a-z&\"<]{0,10}"),
        prop::sample::select(CallKind::ALL.to_vec()),
    )
        .prop_map(
            |(id, title, funder, summary, deadline, previous, vigie, funder_url, kind)| {
                let base = at("2027-03-01T12:00:00+01:00");
                CallView {
                    id,
                    title,
                    funder,
                    kind,
                    deadline: deadline.map(|d| base + chrono::Duration::hours(d * 7)),
                    previous_deadline: previous.map(|d| base + chrono::Duration::hours(d)),
                    perimeter: Perimeter::Region("11".into()).into(),
                    summary,
                    vigie_url: vigie.to_string(),
                    funder_url,
                }
            },
        )
}

fn arb_digest() -> impl Strategy<Value = DigestView> {
    (
        "\\PC{0,30}",
        proptest::collection::vec(
            (
                prop::sample::select(SectionKind::ALL.to_vec()),
                proptest::collection::vec(arb_call(), 0..4),
            ),
            0..4,
        ),
    )
        .prop_map(|(name, sections)| digest(&name, sections))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn cached_split_and_single_file_renderings_agree(
        digests in proptest::collection::vec(arb_digest(), 1..5)
    ) {
        let (renderer, legacy) = (Renderer::new().unwrap(), legacy_renderer());
        let mut cache = BlockCache::new();
        for d in &digests {
            let cached = renderer.render_cached(d, &mut cache).unwrap();
            let alone = renderer.render(d).unwrap();
            let old = legacy.render(d).unwrap();
            prop_assert_eq!(&cached, &alone);
            prop_assert_eq!(&cached, &old);
        }
    }
}

//! The digest flow end to end with the real binary: a fixture site crawled
//! by `vigie crawl`, subscribers added with `vigie subscribers add`, and
//! `vigie digest run|preview` sending through a real SMTP server (aiosmtpd,
//! see `support::smtp`). Days are replayed with `--now`.

use std::time::Duration;

use mail_parser::MessageParser;

use crate::support::smtp::parse;
use crate::support::{FixtureServer, Response, Scenario, SmtpSink, all_output, text};

mod failures;

/// Paris local times (`--now` accepts them).
pub(crate) const DAY1: &str = "2035-03-02T08:00";
const DAY1_EARLY: &str = "2035-03-02T06:30";
pub(crate) const DAY1_LATER: &str = "2035-03-02T18:00";
pub(crate) const DAY2: &str = "2035-03-03T08:00";
const DAY3: &str = "2035-03-04T08:00";
const DAY8: &str = "2035-03-09T08:00";

/// One call of the fixture listing.
struct Item {
    id: &'static str,
    title: &'static str,
    deadline: &'static str,
    perimeter: &'static str,
    audiences: &'static str,
}

pub(crate) const NATIONAL: &str = "Archivage numérique en territoires";
pub(crate) const IDF: &str = "Tiers-lieux franciliens";
pub(crate) const AURA: &str = "Montagnes connectées";
pub(crate) const VAL_OISE: &str = "Écoles numériques du Val-d'Oise";
const ASSOCIATIONS: &str = "Fonds pour les associations";

fn items(national_deadline: &'static str) -> Vec<Item> {
    vec![
        Item {
            id: "nat",
            title: NATIONAL,
            deadline: national_deadline,
            perimeter: "france",
            audiences: "commune",
        },
        Item {
            id: "idf",
            title: IDF,
            deadline: "Clôture le 30/06/2035",
            perimeter: "region:11",
            audiences: "commune",
        },
        Item {
            id: "aura",
            title: AURA,
            deadline: "Clôture le 30/06/2035",
            perimeter: "region:84",
            audiences: "commune",
        },
        Item {
            id: "vo",
            title: VAL_OISE,
            // Ten days after day 1: new on day 1, reminded on day 2.
            deadline: "Date limite : 12 mars 2035 à 12h",
            perimeter: "department:95",
            audiences: "commune",
        },
        Item {
            id: "asso",
            title: ASSOCIATIONS,
            deadline: "Clôture le 30/06/2035",
            perimeter: "france",
            audiences: "association",
        },
    ]
}

fn listing(items: &[Item]) -> String {
    let mut html = String::from(
        "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"></head><body><main>\n",
    );
    for i in items {
        html.push_str(&format!(
            "<article class=\"call\" data-id=\"{id}\">\n\
             <h2><a href=\"/aap/{id}.html\">Appel à projets « {title} »</a></h2>\n\
             <p class=\"desc\">Soutenir les projets des collectivités ({id}).</p>\n\
             <p class=\"end\">{deadline}</p>\n\
             <p class=\"zone\">{perimeter}</p>\n\
             <p class=\"who\">{audiences}</p>\n\
             </article>\n",
            id = i.id,
            title = i.title,
            deadline = i.deadline,
            perimeter = i.perimeter,
            audiences = i.audiences,
        ));
    }
    html.push_str("</main></body></html>\n");
    html
}

fn source(server: &FixtureServer) -> String {
    format!(
        r#"id = "demo"
name = "Démo"
funder = "Agence nationale de la cohésion des territoires"
kind = "html"
url = "{url}"
schedule = "0 6 * * *"

[defaults]
themes = ["numerique"]

[html]
item = "article.call"
id = "@data-id"
title = "h2 a"
link = "h2 a @href"
summary = "p.desc"
deadline = "p.end"
perimeter = "p.zone"
audiences = "p.who"
"#,
        url = server.url("/aap")
    )
}

pub(crate) struct Setup {
    pub(crate) server: FixtureServer,
    pub(crate) sc: Scenario,
    pub(crate) sink: SmtpSink,
}

pub(crate) const CERGY: &str = "mairie@cergy.fr";
pub(crate) const LYON: &str = "mairie@lyon.fr";

/// A site, a crawl, an SMTP sink and two subscribers: Cergy (Val-d'Oise,
/// Île-de-France) and Lyon (Auvergne-Rhône-Alpes), daily.
pub(crate) fn setup(
    sink_args: &[&str],
    mail_extra: &str,
    subscribers: &[(&str, &str, &str)],
) -> Setup {
    let server = FixtureServer::start();
    server.route(
        "/aap",
        Response::ok_html(listing(&items("Date limite : 15 juin 2035 à 12h"))),
    );
    let sc = Scenario::new();
    sc.source("demo", &source(&server));
    let sink = SmtpSink::start(sink_args);
    let config_path = sc.path("vigie.toml");
    let mut config = std::fs::read_to_string(&config_path).unwrap();
    config.push_str(&format!(
        "[mail]\nfrom = \"Vigie <veille@vigie.example>\"\nsmtp_host = \"127.0.0.1\"\n\
         smtp_port = {}\nsmtp_security = \"none\"\nsmtp_timeout_secs = 5\npool_size = 2\n{mail_extra}\n\
         [digest]\nsite_url = \"https://vigie.example\"\n",
        sink.port
    ));
    std::fs::write(&config_path, config).unwrap();
    crawl(&sc);
    for (email, name, territory) in subscribers {
        let out = sc.vigie(&[
            "subscribers",
            "add",
            email,
            "--name",
            name,
            "--audience",
            "commune",
            "--territory",
            territory,
        ]);
        assert!(out.status.success(), "{}", all_output(&out));
    }
    Setup { server, sc, sink }
}

fn crawl(sc: &Scenario) {
    let out = sc.vigie(&["crawl"]);
    assert!(out.status.success(), "{}", all_output(&out));
}

pub(crate) fn two_communes() -> Vec<(&'static str, &'static str, &'static str)> {
    vec![
        (CERGY, "Mairie de Cergy", "commune:95127"),
        (LYON, "Ville de Lyon", "commune:69123"),
    ]
}

pub(crate) fn digest_run(sc: &Scenario, now: &str, extra: &[&str]) -> String {
    let mut args = vec!["digest", "run", "--now", now];
    args.extend_from_slice(extra);
    let out = sc.vigie(&args);
    assert!(out.status.success(), "{}", all_output(&out));
    text(&out.stdout)
}

/// A received message: recipient, subject, text part, and the raw bytes.
pub(crate) struct Mail {
    pub(crate) to: String,
    pub(crate) subject: String,
    pub(crate) text: String,
    pub(crate) raw: String,
}

pub(crate) fn mails(bytes: &[Vec<u8>]) -> Vec<Mail> {
    bytes
        .iter()
        .map(|b| {
            let m = parse(b);
            let to = m
                .to()
                .and_then(|a| a.first())
                .and_then(|a| a.address())
                .unwrap_or_default()
                .to_string();
            Mail {
                to,
                subject: m.subject().unwrap_or_default().to_string(),
                text: m.body_text(0).unwrap_or_default().into_owned(),
                raw: String::from_utf8_lossy(b).into_owned(),
            }
        })
        .collect()
}

pub(crate) fn for_recipient<'a>(mails: &'a [Mail], to: &str) -> Vec<&'a Mail> {
    mails.iter().filter(|m| m.to == to).collect()
}

pub(crate) fn wait(sink: &SmtpSink, n: usize) -> Vec<Mail> {
    // `digest run` returns after the drain: the messages are already there;
    // the wait only covers the file rename.
    mails(&sink.wait_for(n, Duration::from_secs(5)))
}

#[test]
fn digests_carry_fitting_calls_once_then_extensions_and_reminders_once() {
    crate::support::smtp::require_python("aiosmtpd", "aiosmtpd");
    let Setup { server, sc, sink } = setup(&[], "", &two_communes());

    // Before the send hour: nobody is due.
    let out = digest_run(&sc, DAY1_EARLY, &[]);
    assert!(out.contains("subscribers due: 0"), "{out}");

    // A dry run builds both digests and sends nothing.
    let out = digest_run(&sc, DAY1, &["--dry-run"]);
    assert!(out.contains("digests built: 2"), "{out}");
    assert!(out.contains("dry run"), "{out}");

    // A preview prints Cergy's digest and records nothing.
    let html = sc.path("preview.html");
    let out = sc.vigie(&[
        "digest",
        "preview",
        CERGY,
        "--now",
        DAY1,
        "--html",
        html.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", all_output(&out));
    let preview = text(&out.stdout);
    assert!(
        preview.contains("Subject: Vigie : 3 nouveaux appels pour Mairie de Cergy"),
        "{preview}"
    );
    assert!(
        preview.contains(IDF) && !preview.contains(AURA),
        "{preview}"
    );
    assert!(std::fs::read_to_string(&html).unwrap().contains("<html"));
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        sink.messages().is_empty(),
        "dry run and preview send nothing"
    );

    // Day 1: each gets exactly the calls that fit them.
    let out = digest_run(&sc, DAY1, &[]);
    assert!(out.contains("subscribers due: 2"), "{out}");
    assert!(out.contains("digests built: 2"), "{out}");
    assert!(out.contains("sent: 2"), "{out}");
    let day1 = wait(&sink, 2);
    assert_eq!(day1.len(), 2);
    let cergy = for_recipient(&day1, CERGY);
    assert_eq!(cergy.len(), 1);
    let c = cergy[0];
    assert!(
        c.subject.starts_with(
            "Vigie : 3 nouveaux appels pour Mairie de Cergy — prochaine clôture le 12 mars"
        ),
        "{}",
        c.subject
    );
    for title in [NATIONAL, IDF, VAL_OISE] {
        assert!(c.text.contains(title), "{title} missing:\n{}", c.text);
    }
    for title in [AURA, ASSOCIATIONS] {
        assert!(!c.text.contains(title), "{title} present:\n{}", c.text);
    }
    assert!(c.text.contains("NOUVEAUX APPELS (3)"), "{}", c.text);
    assert!(
        c.text.contains("avant le lundi 12 mars 2035 à 12 h"),
        "{}",
        c.text
    );
    assert!(
        c.raw
            .contains("List-Unsubscribe: <https://vigie.example/desabonnement/"),
        "{}",
        c.raw
    );
    assert!(
        c.raw
            .contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
    );
    assert!(
        c.text.contains("https://vigie.example/appels/"),
        "{}",
        c.text
    );
    let lyon = for_recipient(&day1, LYON);
    assert_eq!(lyon.len(), 1);
    let l = lyon[0];
    assert!(
        l.subject
            .starts_with("Vigie : 2 nouveaux appels pour Ville de Lyon"),
        "{}",
        l.subject
    );
    assert!(
        l.text.contains(NATIONAL) && l.text.contains(AURA),
        "{}",
        l.text
    );
    for title in [IDF, VAL_OISE, ASSOCIATIONS] {
        assert!(!l.text.contains(title), "{title} present:\n{}", l.text);
    }

    // The same day again: nothing.
    let out = digest_run(&sc, DAY1_LATER, &[]);
    assert!(out.contains("subscribers due: 0"), "{out}");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(sink.messages().len(), 2);

    // The national call's deadline is extended; re-crawl.
    server.route(
        "/aap",
        Response::ok_html(listing(&items("Date limite : 15 septembre 2035 à 12h"))),
    );
    crawl(&sc);

    // Day 2: the extension for both, no new call, and no reminder yet: the
    // Val-d'Oise call closes in 9 days but was announced yesterday.
    let out = digest_run(&sc, DAY2, &[]);
    assert!(out.contains("sent: 2"), "{out}");
    let all = wait(&sink, 4);
    let day2: Vec<Mail> = mails(&sink.messages()[2..]);
    assert_eq!(all.len(), 4);
    let c = for_recipient(&day2, CERGY)[0];
    assert_eq!(
        c.text.matches("DATE LIMITE PROLONGÉE").count(),
        1,
        "{}",
        c.text
    );
    assert!(!c.text.contains("NOUVEAUX APPELS"), "{}", c.text);
    assert_eq!(c.text.matches(NATIONAL).count(), 1, "{}", c.text);
    assert!(c.text.contains("15 septembre 2035"), "{}", c.text);
    assert!(
        c.text.contains("15 juin 2035"),
        "previous deadline:\n{}",
        c.text
    );
    assert!(!c.text.contains("CLÔTURE DANS MOINS"), "{}", c.text);
    assert!(!c.text.contains(VAL_OISE), "{}", c.text);
    let l = for_recipient(&day2, LYON)[0];
    assert_eq!(
        l.text.matches("DATE LIMITE PROLONGÉE").count(),
        1,
        "{}",
        l.text
    );
    assert!(!l.text.contains("CLÔTURE DANS MOINS"), "{}", l.text);

    // Day 3: everything was said.
    let out = digest_run(&sc, DAY3, &[]);
    assert!(out.contains("subscribers due: 2"), "{out}");
    assert!(out.contains("empty, skipped: 2"), "{out}");
    assert!(out.contains("sent: 0"), "{out}");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(sink.messages().len(), 4);

    // A week after its announcement, 3 days before it closes: the reminder,
    // for Cergy only, once.
    let out = digest_run(&sc, DAY8, &[]);
    assert!(out.contains("sent: 1"), "{out}");
    let all = wait(&sink, 5);
    let c = &all[4];
    assert_eq!(c.to, CERGY);
    assert!(
        c.text.contains("CLÔTURE DANS MOINS DE 14 JOURS (1)"),
        "{}",
        c.text
    );
    assert!(c.text.contains(VAL_OISE), "{}", c.text);
    assert!(
        !c.text.contains(IDF) && !c.text.contains(NATIONAL),
        "{}",
        c.text
    );
    let out = digest_run(&sc, "2035-03-10T08:00", &[]);
    assert!(out.contains("sent: 0"), "{out}");

    // A preview with nothing to send says so and explains the first calls.
    let out = sc.vigie(&["digest", "preview", LYON, "--now", DAY3]);
    assert!(out.status.success(), "{}", all_output(&out));
    let preview = text(&out.stdout);
    assert!(preview.contains("Nothing to send"), "{preview}");
    assert!(preview.contains("perimeter does not contain"), "{preview}");
}

#[test]
fn a_refused_address_becomes_bouncing_after_the_threshold() {
    crate::support::smtp::require_python("aiosmtpd", "aiosmtpd");
    const GONE: &str = "ancienne@cergy.fr";
    let Setup { sc, sink, .. } = setup(
        &["--reject", GONE],
        "bounce_threshold = 2",
        &[
            (GONE, "Ancienne mairie", "commune:95127"),
            (CERGY, "Mairie de Cergy", "commune:95127"),
        ],
    );
    let status = |sc: &Scenario| {
        let out = sc.vigie(&["subscribers", "show", GONE]);
        assert!(out.status.success(), "{}", all_output(&out));
        text(&out.stdout)
    };

    // Day 1: refused once (exit 1: a message failed), the other one sent.
    let out = sc.vigie(&["digest", "run", "--now", DAY1]);
    let stdout = text(&out.stdout);
    assert!(!out.status.success(), "{}", all_output(&out));
    assert!(
        stdout.contains("sent: 1") && stdout.contains("failed: 1"),
        "{stdout}"
    );
    assert!(!stdout.contains("bouncing:"), "{stdout}");
    assert!(status(&sc).contains("active"), "{}", status(&sc));

    // Day 2 (its calls were given back, so they come again): refused again,
    // now bouncing.
    let out = sc.vigie(&["digest", "run", "--now", DAY2]);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("failed: 1"), "{stdout}");
    assert!(stdout.contains(&format!("bouncing: {GONE}")), "{stdout}");
    assert!(status(&sc).contains("bouncing"), "{}", status(&sc));

    // Day 3: a bouncing subscriber is not due any more.
    let out = sc.vigie(&["digest", "run", "--now", "2035-03-05T08:00"]);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("subscribers due: 1 (of 1 active)"),
        "{stdout}"
    );
    let received = sink.messages();
    assert!(
        received
            .iter()
            .all(|m| !String::from_utf8_lossy(m).contains(GONE)),
        "nothing reached the refused address"
    );
    let parsed = MessageParser::default().parse(&received[0]).unwrap();
    assert!(parsed.subject().unwrap().contains("Mairie de Cergy"));
}

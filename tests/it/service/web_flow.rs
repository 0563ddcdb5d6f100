//! The whole self-service path through the real daemon: `vigie run`
//! crawls, serves the pages, and its delivery loop sends the emails to the
//! real SMTP sink. A collectivity finds the calls, signs up, confirms from
//! the email, receives a digest, and leaves with the one-click POST its
//! mail client would send to the digest's `List-Unsubscribe` URL.

use std::time::Duration;

use super::{configure, html_source, listing, mail};
use crate::support::daemon::{Daemon, wait_until};
use crate::support::smtp::{SmtpSink, parse};
use crate::support::web::{Http, link_in};
use crate::support::{FixtureServer, Response, Scenario};

fn status(sc: &Scenario, email: &str) -> String {
    rusqlite::Connection::open(sc.db())
        .unwrap()
        .query_row(
            "SELECT status FROM subscribers WHERE email = ?1",
            [email],
            |r| r.get(0),
        )
        .unwrap()
}

#[test]
fn a_collectivity_signs_up_confirms_receives_a_digest_and_unsubscribes_in_one_click() {
    let server = FixtureServer::start();
    server.route("/listing.html", Response::ok_html(listing()));
    let sink = SmtpSink::start(&[]);
    let sc = Scenario::new();
    sc.source(
        "svc-web",
        &html_source("svc-web", &server, "/listing.html", "0 6 * * *"),
    );
    configure(
        &sc,
        &format!(
            "[service]\ntick_secs = 1\n{}[digest]\nsend_hour = 0\nsite_url = \"https://vigie.example\"\n",
            mail(&sink)
        ),
    );
    let daemon = Daemon::start(&sc, &["--every", "1s"]);
    let web = Http::new(format!("http://{}", daemon.addr));

    // The daemon's first crawl fills the catalogue it serves.
    wait_until(
        Duration::from_secs(20),
        "the crawled calls on /appels",
        || {
            let r = web.get("/appels");
            r.body
                .contains("Archivage numérique en territoires")
                .then_some(())
        },
    );

    let csrf = web.get("/abonnement").csrf();
    let r = web.post_form(
        "/abonnement",
        &[
            ("csrf", csrf.as_str()),
            ("email", "mairie@cergy.fr"),
            ("nom", "Mairie de Cergy"),
            ("public", "commune"),
            ("territoire", "95127"),
            ("frequence", "quotidienne"),
            ("jour", "monday"),
        ],
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.body);

    let mails = sink.wait_for(1, Duration::from_secs(20));
    let confirmation = parse(&mails[0]);
    assert_eq!(confirmation.subject(), Some("Confirmez votre alerte Vigie"));
    let text = confirmation.body_text(0).unwrap().to_string();
    let confirm = link_in(&text, "/abonnement/confirmer/").expect("a confirmation link");
    assert!(
        text.contains(&format!("https://vigie.example{confirm}")),
        "{text}"
    );
    assert_eq!(status(&sc, "mairie@cergy.fr"), "pending");

    let page = web.get(&confirm);
    assert_eq!(page.status, 200, "{}", page.body);
    let r = web.post_form(&confirm, &[("csrf", &page.csrf())], &[]);
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(status(&sc, "mairie@cergy.fr"), "active");

    // Now active and due (send hour 0): the next digest run mails them.
    let mails = sink.wait_for(2, Duration::from_secs(30));
    let digest = parse(&mails[1]);
    assert!(
        digest
            .body_text(0)
            .unwrap()
            .contains("Archivage numérique en territoires"),
        "{:?}",
        digest.body_text(0)
    );
    let header = digest
        .header_raw("List-Unsubscribe")
        .expect("a List-Unsubscribe header")
        .to_string();
    assert!(
        digest
            .header_raw("List-Unsubscribe-Post")
            .is_some_and(|v| v.contains("One-Click")),
        "RFC 8058"
    );
    let unsubscribe = link_in(&header, "/desabonnement/").expect("an https unsubscribe URL");

    // The digest's manage link opens the manage page.
    let html = digest.body_html(0).unwrap().to_string();
    let manage = link_in(&html, "/abonnement/").expect("a manage link");
    let r = web.get(&manage);
    assert_eq!(r.status, 200, "{manage}: {}", r.body);
    assert!(r.body.contains("Gérer mon alerte"));

    // What a mail client sends: no cookie, no page, just the body.
    web.clear_cookies();
    let r = web.post_form(&unsubscribe, &[("List-Unsubscribe", "One-Click")], &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(status(&sc, "mairie@cergy.fr"), "unsubscribed");

    let (exit, log) = daemon.stop(Duration::from_secs(15));
    assert!(exit.success(), "{log}");
    assert_eq!(
        sink.messages().len(),
        2,
        "nothing after unsubscribing: {log}"
    );
}

//! The sign-up flow over HTTP: the form, the confirmation email queued in
//! the outbox, confirmation by POST only, the manage page (pause, resume,
//! change), unsubscription by the page and by RFC 8058 one-click; CSRF,
//! no address enumeration, rate limits.

use crate::support::fixtures;
use crate::support::web::{Site, link_in};

fn site() -> Site {
    Site::crawled(std::fs::read(fixtures("crawl/listing.html")).unwrap())
}

const EMAIL: &str = "mairie@cergy.fr";

fn form<'a>(csrf: &'a str, email: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("email", email),
        ("nom", "Mairie de Cergy"),
        ("public", "commune"),
        ("territoire", "Cergy"),
        ("theme", "numerique"),
        ("mots_cles", ""),
        ("frequence", "quotidienne"),
        ("jour", "monday"),
    ]
}

/// (status, paused, frequency) of the subscriber with `email`.
fn row(site: &Site, email: &str) -> Option<(String, bool, String)> {
    let conn = rusqlite::Connection::open(site.sc.db()).unwrap();
    conn.query_row(
        "SELECT status, paused_since IS NOT NULL, frequency FROM subscribers WHERE email = ?1",
        [email],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .ok()
}

fn sign_up(site: &Site, email: &str) -> crate::support::web::Reply {
    let page = site.get("/abonnement");
    assert_eq!(page.status, 200);
    let csrf = page.csrf();
    site.post_form("/abonnement", &form(&csrf, email), &[])
}

#[test]
fn sign_up_confirm_by_post_manage_pause_change_and_unsubscribe_in_one_click() {
    let site = site();
    let page = site.get("/abonnement");
    assert!(
        page.header("set-cookie")
            .unwrap()
            .contains("HttpOnly; SameSite=Strict"),
        "{:?}",
        page.headers
    );
    for id in ["email", "nom", "public", "territoire", "mots_cles", "jour"] {
        assert!(
            page.body.contains(&format!("<label for=\"{id}\"")),
            "a label for {id}"
        );
    }
    let r = sign_up(&site, EMAIL);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Vérifiez votre messagerie"));
    assert_eq!(row(&site, EMAIL).unwrap().0, "pending");

    let mails = site.outbox();
    assert_eq!(mails.len(), 1, "{mails:?}");
    let (to, subject, body) = &mails[0];
    assert_eq!(to, EMAIL);
    assert_eq!(subject, "Confirmez votre alerte Vigie");
    assert!(
        body.contains("https://vigie.example.fr/abonnement/confirmer/"),
        "{body}"
    );
    let confirm = link_in(body, "/abonnement/confirmer/").unwrap();

    // A mail scanner fetching the link confirms nothing.
    for _ in 0..3 {
        let r = site.get(&confirm);
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(r.body.contains("Confirmer mon alerte"));
    }
    let r = site.get(&confirm);
    assert!(
        r.body.contains("Ce que vous auriez reçu cette semaine")
            && r.body.contains("Archivage numérique en territoires"),
        "the preview lists this week's matching calls: {}",
        r.body
    );
    assert_eq!(row(&site, EMAIL).unwrap().0, "pending");

    let r = site.post_form(&confirm, &[("csrf", &r.csrf())], &[]);
    assert_eq!(r.status, 303, "{}", r.body);
    let manage = r.header("location").unwrap().to_string();
    assert!(
        manage.starts_with("/abonnement/") && manage.ends_with("?etat=confirme"),
        "{manage}"
    );
    assert_eq!(row(&site, EMAIL).unwrap().0, "active");
    // The link works once.
    assert_eq!(site.get(&confirm).status, 404);

    let manage_path = manage.split('?').next().unwrap().to_string();
    let token = manage_path.trim_start_matches("/abonnement/").to_string();
    let r = site.get(&manage);
    assert!(r.body.contains("Votre alerte est confirmée"), "{}", r.body);
    assert!(r.body.contains("value=\"Mairie de Cergy\""));

    let r = site.post_form(&format!("{manage_path}/pause"), &[("csrf", &r.csrf())], &[]);
    assert_eq!(r.status, 303);
    assert!(row(&site, EMAIL).unwrap().1, "paused");
    let r = site.get(&manage_path);
    assert!(r.body.contains("Elle est en pause"), "{}", r.body);
    let r = site.post_form(
        &format!("{manage_path}/reprendre"),
        &[("csrf", &r.csrf())],
        &[],
    );
    assert_eq!(r.status, 303);
    assert!(!row(&site, EMAIL).unwrap().1, "resumed");

    // Change to a weekly digest; the address cannot be changed here.
    let page = site.get(&manage_path);
    let csrf = page.csrf();
    let mut changed = form(&csrf, "pirate@example.org");
    changed.retain(|(k, _)| !matches!(*k, "frequence" | "jour"));
    changed.push(("frequence", "hebdomadaire"));
    changed.push(("jour", "friday"));
    let r = site.post_form(&manage_path, &changed, &[]);
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(row(&site, EMAIL).unwrap().2, "weekly");
    assert!(row(&site, "pirate@example.org").is_none());

    // The unsubscribe page asks; the one-click POST (no cookie, no CSRF
    // field, as mail clients send it) does it.
    let r = site.get(&format!("/desabonnement/{token}"));
    assert!(r.body.contains("Confirmer le désabonnement"), "{}", r.body);
    assert_eq!(
        row(&site, EMAIL).unwrap().0,
        "active",
        "a GET changes nothing"
    );
    site.http.clear_cookies();
    let r = site.post_form(
        &format!("/desabonnement/{token}"),
        &[("List-Unsubscribe", "One-Click")],
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Vous êtes désabonné"));
    assert_eq!(row(&site, EMAIL).unwrap().0, "unsubscribed");
    // Idempotent.
    let r = site.post_form(
        &format!("/desabonnement/{token}"),
        &[("List-Unsubscribe", "One-Click")],
        &[],
    );
    assert_eq!(r.status, 200);

    // Coming back takes a new confirmation.
    let r = sign_up(&site, EMAIL);
    assert_eq!(r.status, 200);
    assert_eq!(row(&site, EMAIL).unwrap().0, "pending");
    assert_eq!(site.outbox().len(), 2);
}

#[test]
fn the_form_never_tells_whether_an_address_is_subscribed() {
    let site = site();
    let first = sign_up(&site, EMAIL);
    let (_, _, body) = site.outbox().remove(0);
    let confirm = link_in(&body, "/abonnement/confirmer/").unwrap();
    let csrf = site.get(&confirm).csrf();
    assert_eq!(
        site.post_form(&confirm, &[("csrf", &csrf)], &[]).status,
        303
    );
    let again = sign_up(&site, EMAIL);
    let unknown = sign_up(&site, "autre@cergy.fr");
    assert_eq!(first.status, again.status);
    assert_eq!(again.status, unknown.status);
    assert_eq!(again.body, unknown.body, "the same page whoever signs up");
    let mails = site.outbox();
    assert_eq!(mails.len(), 3);
    let (to, subject, body) = &mails[1];
    assert_eq!(to, EMAIL);
    assert_eq!(
        subject, "Votre alerte Vigie",
        "a subscriber gets their manage link"
    );
    assert!(
        link_in(body, "/abonnement/").is_some_and(|l| !l.contains("confirmer")),
        "{body}"
    );
    assert_eq!(mails[2].1, "Confirmez votre alerte Vigie");
    assert_eq!(
        row(&site, EMAIL).unwrap().0,
        "active",
        "still subscribed, unchanged"
    );
}

#[test]
fn forms_without_the_csrf_cookie_or_from_another_site_are_refused() {
    let site = site();
    let csrf = site.get("/abonnement").csrf();
    let valid = form(&csrf, EMAIL);
    for headers in [
        vec![("origin", "https://evil.example")],
        vec![("sec-fetch-site", "cross-site")],
    ] {
        let r = site.post_form("/abonnement", &valid, &headers);
        assert_eq!(r.status, 403, "{headers:?}");
        assert!(r.body.contains("Formulaire refusé"));
    }
    let r = site.post_form("/abonnement", &form("0".repeat(64).as_str(), EMAIL), &[]);
    assert_eq!(r.status, 403, "a field that does not repeat the cookie");
    site.http.clear_cookies();
    let r = site.post_form("/abonnement", &valid, &[]);
    assert_eq!(r.status, 403, "no cookie");
    assert!(site.outbox().is_empty());
    assert!(row(&site, EMAIL).is_none());
}

#[test]
fn a_wrong_field_is_shown_next_to_it_in_french_and_the_values_are_kept() {
    let site = site();
    let csrf = site.get("/abonnement").csrf();
    let mut bad = form(&csrf, "pas-une-adresse");
    bad.retain(|(k, _)| *k != "territoire");
    bad.push(("territoire", "Atlantide <script>"));
    let r = site.post_form("/abonnement", &bad, &[]);
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("Adresse électronique invalide"));
    assert!(r.body.contains("Territoire inconnu"));
    assert!(
        r.body
            .contains("aria-invalid=\"true\" aria-describedby=\"email-erreur\"")
    );
    assert!(
        r.body.contains("value=\"Atlantide &lt;script&gt;\""),
        "{}",
        r.body
    );
    assert!(site.outbox().is_empty());
}

#[test]
fn sign_ups_are_rate_limited_per_address_with_a_french_message() {
    let site = site();
    for _ in 0..3 {
        assert_eq!(sign_up(&site, EMAIL).status, 200);
    }
    let r = sign_up(&site, EMAIL);
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.body.contains("Trop de demandes"));
    assert_eq!(site.outbox().len(), 3, "no fourth email");
    assert_eq!(
        sign_up(&site, "autre@cergy.fr").status,
        200,
        "another address is fine"
    );
}

#[test]
fn unknown_tokens_are_404_everywhere() {
    let site = site();
    let token = "0".repeat(64);
    for path in [
        format!("/abonnement/confirmer/{token}"),
        format!("/abonnement/{token}"),
        format!("/desabonnement/{token}"),
    ] {
        let r = site.get(&path);
        assert_eq!(r.status, 404, "{path}");
        assert!(r.body.contains("Lien invalide ou expiré"));
    }
    let r = site.post_form(
        &format!("/desabonnement/{token}"),
        &[("List-Unsubscribe", "One-Click")],
        &[],
    );
    assert_eq!(r.status, 404);
}

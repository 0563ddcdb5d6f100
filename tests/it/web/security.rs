//! What every response of the public web carries and refuses: security
//! headers, compression when asked, limits on bodies and URIs.

use crate::support::fixtures;
use crate::support::web::Site;

#[test]
fn every_page_carries_a_strict_policy_and_safe_headers() {
    let site = Site::crawled(std::fs::read(fixtures("crawl/listing.html")).unwrap());
    for path in [
        "/",
        "/appels?q=x",
        "/abonnement",
        "/appels/999",
        "/static/vigie.css",
    ] {
        let r = site.get(path);
        let csp = r.header("content-security-policy").unwrap_or_default();
        assert!(csp.contains("default-src 'none'"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}");
        assert!(
            csp.contains("font-src 'self'"),
            "{path}: fonts from the site"
        );
        assert!(!csp.contains("unsafe-inline"), "{path}");
        assert_eq!(
            r.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert!(r.header("referrer-policy").is_some(), "{path}");
        if r.header("content-type")
            .is_some_and(|c| c.starts_with("text/html"))
        {
            assert!(!r.body.contains("<script"), "{path}: no script at all");
            assert!(!r.body.contains("style="), "{path}: no inline style");
        }
    }
}

/// Every font the stylesheet asks for is served by Vigie itself, as WOFF2,
/// with its licence beside it; an unknown font name is the 404 page.
#[test]
fn the_stylesheet_fonts_are_served_by_vigie_with_their_licence() {
    let site = Site::crawled(std::fs::read(fixtures("crawl/listing.html")).unwrap());
    let css = site.get("/static/vigie.css").body;
    let urls: Vec<&str> = css
        .split("url(\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap())
        .collect();
    assert_eq!(urls.len(), 3, "regular, medium and bold faces: {urls:?}");
    for url in urls {
        assert!(!url.contains("//"), "{url}: no external resource");
        let r = site.get(&format!("/static/{url}"));
        assert_eq!(r.status, 200, "{url}");
        assert_eq!(r.header("content-type"), Some("font/woff2"), "{url}");
        assert!(r.body.starts_with("wOF2"), "{url}: a WOFF2 file");
    }
    let licence = site.get("/static/fonts/OFL.txt");
    assert_eq!(licence.status, 200);
    assert!(licence.body.contains("SIL Open Font License, Version 1.1"));
    assert_eq!(site.get("/static/fonts/../vigie.css.woff2").status, 404);
    assert_eq!(site.get("/static/fonts/marianne.woff2").status, 404);
}

#[test]
fn responses_are_compressed_when_asked_and_oversized_requests_refused() {
    let site = Site::crawled(std::fs::read(fixtures("crawl/listing.html")).unwrap());
    let r = site.get_with("/appels", &[("accept-encoding", "gzip")]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    let long = format!("/appels?q={}", "a".repeat(5000));
    let r = site.get(&long);
    assert_eq!(r.status, 414);
    assert!(r.body.contains("Adresse trop longue"));
    let csrf = site.get("/abonnement").csrf();
    let big = "x".repeat(64 * 1024);
    let r = site.post_form("/abonnement", &[("csrf", &csrf), ("nom", &big)], &[]);
    assert_eq!(r.status, 413, "{}", r.body);
}

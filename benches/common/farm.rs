//! The fixture farm shared by the crawl benches (`crawl_farm`, `pipeline`):
//! generated DSFR-like listing pages of calls for projects, served from
//! memory by one raw HTTP/1.1 keep-alive listener per host `127.0.0.x`, and
//! the `html` source definition that crawls one listing.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The size of a farm.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub hosts: usize,
    pub sources_per_host: usize,
    /// Listing pages per source.
    pub pages: usize,
    /// Items per page.
    pub items: usize,
    /// Approximate page size, in KB.
    pub page_kb: usize,
}

impl Shape {
    pub fn total_pages(&self) -> usize {
        self.hosts * self.sources_per_host * self.pages
    }
}

/// The id of the source of host `h`, listing `s`.
pub fn source_id(h: usize, s: usize) -> String {
    format!("farm-h{h:03}-s{s:03}")
}

/// The definition of the source of host `h` (listening on `addr`), listing `s`.
pub fn source_toml(h: usize, s: usize, addr: SocketAddr, pages: usize) -> String {
    format!(
        r#"id = "{id}"
name = "Ferme de test — hôte {h}, source {s}"
funder = "Préfecture de la zone {h}"
kind = "html"
url = "http://{addr}{path}"
schedule = "0 6 * * *"

[defaults]
audiences = ["commune", "epci"]
perimeter = "france"
themes = ["numerique"]

[html]
item = "article.fr-card"
id = "@data-id"
title = ".fr-card__title a"
link = ".fr-card__title a @href"
summary = ".fr-card__desc"
deadline = ".fr-card__end p"
next_page = "a[rel=next] @href"
max_pages = {pages}
"#,
        id = source_id(h, s),
        path = listing_path(s),
    )
}

const KINDS: [&str; 5] = [
    "Appel à projets",
    "Appel à manifestation d'intérêt",
    "Appel à candidatures",
    "Appel à projets",
    "Prix",
];

const TOPICS: [(&str, &str); 16] = [
    (
        "Archivage numérique en territoires",
        "Soutenir les collectivités dans la mise en place d'un système d'archivage électronique mutualisé, la collecte des archives nativement numériques et leur conservation à long terme.",
    ),
    (
        "Inclusion numérique et médiation",
        "Financer des postes de conseillers numériques et des lieux de médiation pour accompagner les habitants éloignés du numérique dans leurs démarches en ligne.",
    ),
    (
        "Cybersécurité des collectivités",
        "Aider les communes et intercommunalités à réaliser un diagnostic de cybersécurité, à sécuriser leurs systèmes d'information et à former leurs agents.",
    ),
    (
        "Données et territoires",
        "Accompagner l'ouverture, la qualité et le partage des données publiques locales, et les projets de réutilisation au service des habitants.",
    ),
    (
        "Tiers-lieux et fabriques de territoire",
        "Soutenir la création et le développement de tiers-lieux en milieu rural et dans les quartiers prioritaires de la politique de la ville.",
    ),
    (
        "Rénovation énergétique des bâtiments publics",
        "Financer les études et travaux de rénovation énergétique des écoles, mairies et équipements sportifs des collectivités territoriales.",
    ),
    (
        "Très haut débit et connectivité",
        "Compléter la couverture en fibre optique et en réseau mobile des zones rurales, et équiper les bâtiments publics d'un accès Wi-Fi gratuit.",
    ),
    (
        "Services publics numériques innovants",
        "Faire émerger des startups de territoire qui conçoivent avec les agents publics des services numériques simples et utiles aux usagers.",
    ),
    (
        "Mobilités du quotidien",
        "Développer les aménagements cyclables, le covoiturage et les solutions de transport à la demande dans les territoires peu denses.",
    ),
    (
        "Revitalisation des centres-bourgs",
        "Accompagner les petites villes dans leurs projets de revitalisation : commerces, logements, espaces publics et services de proximité.",
    ),
    (
        "Formation des agents au numérique",
        "Financer des parcours de formation aux outils collaboratifs, à la protection des données personnelles et à l'accessibilité numérique.",
    ),
    (
        "Biodiversité et trame verte",
        "Restaurer les continuités écologiques, désimperméabiliser les cours d'école et créer des îlots de fraîcheur en ville.",
    ),
    (
        "Santé et déserts médicaux",
        "Soutenir les maisons de santé pluriprofessionnelles, la télémédecine et les centres de santé portés par les collectivités.",
    ),
    (
        "Culture et patrimoine",
        "Numériser et valoriser les collections patrimoniales, restaurer les monuments historiques et développer l'éducation artistique.",
    ),
    (
        "Économie circulaire",
        "Réduire et valoriser les déchets, développer les recycleries et le réemploi dans la commande publique des collectivités.",
    ),
    (
        "Jeunesse et engagement",
        "Encourager les projets portés par les jeunes, le service civique et les conseils municipaux de jeunes.",
    ),
];

const AUDIENCES: [&str; 5] = [
    "Communes",
    "Intercommunalités",
    "Départements",
    "Régions",
    "Associations",
];

const MONTHS: [&str; 12] = vigie::domain::FRENCH_MONTHS;

/// A small deterministic generator, so that every run serves the same farm.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

pub fn host_ip(h: usize) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 0, 2 + h as u8)
}

pub fn listing_path(s: usize) -> String {
    format!("/s{s}/appels-a-projets")
}

pub fn page_path(s: usize, p: usize) -> String {
    if p == 0 {
        listing_path(s)
    } else {
        format!("{}?page={}", listing_path(s), p + 1)
    }
}

fn header_html(h: usize, s: usize, p: usize) -> String {
    let mut out = String::with_capacity(8 * 1024);
    let _ = write!(
        out,
        r##"<!doctype html>
<html lang="fr" data-fr-scheme="system">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, shrink-to-fit=no">
<title>Appels à projets en cours — page {page} — Préfecture de la zone {h}</title>
<meta name="description" content="Retrouvez tous les appels à projets et appels à manifestation d'intérêt ouverts aux collectivités territoriales.">
<link rel="stylesheet" href="/dsfr/dsfr.min.css?v=1.12.1">
<link rel="stylesheet" href="/dsfr/utility/icons/icons.min.css?v=1.12.1">
<link rel="apple-touch-icon" href="/dsfr/favicon/apple-touch-icon.png">
<link rel="icon" href="/dsfr/favicon/favicon.svg" type="image/svg+xml">
<link rel="canonical" href="{path}">
</head>
<body>
<div class="fr-skiplinks"><nav class="fr-container" role="navigation" aria-label="Accès rapide"><ul class="fr-skiplinks__list"><li><a class="fr-link" href="#contenu">Contenu</a></li><li><a class="fr-link" href="#header-navigation">Menu</a></li><li><a class="fr-link" href="#footer">Pied de page</a></li></ul></nav></div>
<header role="banner" class="fr-header"><div class="fr-header__body"><div class="fr-container"><div class="fr-header__body-row"><div class="fr-header__brand fr-enlarge-link"><div class="fr-header__brand-top"><div class="fr-header__logo"><p class="fr-logo">République<br>Française</p></div></div><div class="fr-header__service"><a href="/" title="Accueil — Portail des aides aux collectivités"><p class="fr-header__service-title">Portail des aides aux collectivités</p></a><p class="fr-header__service-tagline">Appels à projets, appels à manifestation d'intérêt et subventions</p></div></div>
<div class="fr-header__tools"><div class="fr-header__tools-links"><ul class="fr-btns-group"><li><a class="fr-btn fr-icon-mail-line" href="/newsletter">S'abonner à la lettre d'information</a></li><li><a class="fr-btn fr-icon-rss-line" href="/flux.xml">Flux RSS</a></li><li><a class="fr-btn fr-icon-account-circle-line" href="/connexion">Espace collectivité</a></li></ul></div>
<div class="fr-header__search fr-modal" id="modal-search"><div class="fr-container fr-container-lg--fluid"><form class="fr-search-bar" role="search" action="/recherche"><label class="fr-label" for="search-input">Rechercher</label><input class="fr-input" placeholder="Rechercher un appel à projets" type="search" id="search-input" name="q"><button class="fr-btn" title="Rechercher">Rechercher</button></form></div></div></div></div></div></div>
<div class="fr-header__menu fr-modal" id="modal-menu"><div class="fr-container"><nav class="fr-nav" id="header-navigation" role="navigation" aria-label="Menu principal"><ul class="fr-nav__list">
"##,
        page = p + 1,
        path = page_path(s, p),
    );
    // A mega-menu, as on most ministry sites: themes × links.
    for (t, (topic, _)) in TOPICS.iter().enumerate().take(8) {
        let _ = write!(
            out,
            r#"<li class="fr-nav__item"><button class="fr-nav__btn" aria-expanded="false" aria-controls="menu-{t}">{topic}</button><div class="fr-collapse fr-menu" id="menu-{t}"><ul class="fr-menu__list">"#
        );
        for (a, audience) in AUDIENCES.iter().enumerate() {
            let _ = write!(
                out,
                r#"<li><a class="fr-nav__link" href="/thematiques/{t}/{a}" target="_self">{topic} — {audience}</a></li>"#
            );
        }
        out.push_str("</ul></div></li>\n");
    }
    out.push_str("</ul></nav></div></div></header>\n");
    let _ = write!(
        out,
        r#"<main role="main" id="contenu"><div class="fr-container fr-my-6w">
<nav role="navigation" class="fr-breadcrumb" aria-label="vous êtes ici :"><ol class="fr-breadcrumb__list"><li><a class="fr-breadcrumb__link" href="/">Accueil</a></li><li><a class="fr-breadcrumb__link" href="/aides">Aides et financements</a></li><li><a class="fr-breadcrumb__link" aria-current="page">Appels à projets (source {s})</a></li></ol></nav>
<h1>Appels à projets et appels à manifestation d'intérêt en cours</h1>
<p class="fr-text--lead">Les collectivités territoriales, leurs groupements et leurs établissements publics peuvent candidater aux appels ci-dessous. Consultez le cahier des charges de chaque appel avant de déposer votre dossier sur la plateforme Démarches simplifiées.</p>
<div class="fr-grid-row fr-grid-row--gutters">
"#
    );
    out
}

fn item_html(out: &mut String, h: usize, s: usize, p: usize, i: usize, items: usize) {
    let n = ((h * 10_000 + s) * 100 + p) * items + i;
    let r = mix(n as u64);
    let kind = KINDS[(r % 5) as usize];
    let (topic, blurb) = TOPICS[((r >> 8) % 16) as usize];
    let day = 1 + (r >> 16) % 28;
    let month = MONTHS[((r >> 24) % 12) as usize];
    let year = 2035 + (r >> 32) % 2;
    let deadline = match (r >> 36) % 4 {
        0 => format!("Date limite : {day} {month} {year} à 12h"),
        1 => format!("Date limite : {day} {month} {year} à 23h59"),
        2 => format!("Clôture le {day:02}/{:02}/{year}", 1 + (r >> 24) % 12),
        _ => format!("Date limite : {day} {month} {year}"),
    };
    let audience = AUDIENCES[((r >> 40) % 5) as usize];
    let audience2 = AUDIENCES[((r >> 44) % 5) as usize];
    let slug = format!("h{h}-s{s}-p{p}-i{i}");
    let _ = write!(
        out,
        r#"<div class="fr-col-12 fr-col-md-6">
<article class="fr-card fr-enlarge-link fr-card--horizontal" data-id="{slug}">
<div class="fr-card__body"><div class="fr-card__content">
<h3 class="fr-card__title"><a href="/aides/{slug}/appel.html?utm_source=liste&amp;utm_medium=site">{kind} « {topic} » — édition {year}, lot n° {n}</a></h3>
<p class="fr-card__desc">{blurb} Dotation indicative : {amount} 000 €. Ouvert aux {audience_lc} et à leurs groupements.</p>
<div class="fr-card__start"><ul class="fr-tags-group"><li><p class="fr-tag">{audience}</p></li><li><p class="fr-tag">{audience2}</p></li><li><p class="fr-tag">France entière</p></li></ul></div>
<div class="fr-card__end"><p class="fr-card__detail fr-icon-calendar-line">{deadline}</p></div>
</div></div>
<div class="fr-card__header"><div class="fr-card__img"><img class="fr-responsive-img" src="/img/aap-{t}.jpg" alt=""></div></div>
</article></div>
"#,
        amount = 50 + (r >> 48) % 950,
        audience_lc = audience.to_lowercase(),
        t = (r >> 8) % 16,
    );
}

fn footer_html(out: &mut String, s: usize, p: usize, pages: usize) {
    out.push_str("</div>\n<nav role=\"navigation\" class=\"fr-pagination fr-mt-6w\" aria-label=\"Pagination\"><ul class=\"fr-pagination__list\">");
    if p > 0 {
        let prev = if p == 1 {
            listing_path(s)
        } else {
            format!("?page={p}")
        };
        let _ = write!(
            out,
            r#"<li><a class="fr-pagination__link fr-pagination__link--prev" rel="prev" href="{prev}">Page précédente</a></li>"#
        );
    }
    for q in 0..pages {
        let current = if q == p {
            r#" aria-current="page""#
        } else {
            ""
        };
        let _ = write!(
            out,
            r#"<li><a class="fr-pagination__link"{current} href="{}">{}</a></li>"#,
            page_path(s, q),
            q + 1
        );
    }
    if p + 1 < pages {
        let _ = write!(
            out,
            r#"<li><a class="fr-pagination__link fr-pagination__link--next" rel="next" href="?page={}">Page suivante</a></li>"#,
            p + 2
        );
    }
    out.push_str("</ul></nav>\n</div></main>\n");
    out.push_str(
        r#"<footer class="fr-footer" role="contentinfo" id="footer"><div class="fr-container"><div class="fr-footer__body"><div class="fr-footer__brand fr-enlarge-link"><a href="/" title="Retour à l'accueil"><p class="fr-logo">République<br>Française</p></a></div><div class="fr-footer__content"><p class="fr-footer__content-desc">Ce portail recense les aides publiques destinées aux collectivités territoriales. Les informations sont fournies à titre indicatif : seul le cahier des charges publié par le financeur fait foi.</p><ul class="fr-footer__content-list"><li class="fr-footer__content-item"><a class="fr-footer__content-link" href="https://www.info.gouv.fr">info.gouv.fr</a></li><li class="fr-footer__content-item"><a class="fr-footer__content-link" href="https://www.service-public.fr">service-public.fr</a></li><li class="fr-footer__content-item"><a class="fr-footer__content-link" href="https://www.legifrance.gouv.fr">legifrance.gouv.fr</a></li><li class="fr-footer__content-item"><a class="fr-footer__content-link" href="https://www.data.gouv.fr">data.gouv.fr</a></li></ul></div></div>
<div class="fr-footer__top"><div class="fr-grid-row fr-grid-row--start fr-grid-row--gutters">
"#,
    );
}

const PAGE_END: &str = r#"</div></div>
<div class="fr-footer__bottom"><ul class="fr-footer__bottom-list"><li class="fr-footer__bottom-item"><a class="fr-footer__bottom-link" href="/plan-du-site">Plan du site</a></li><li class="fr-footer__bottom-item"><a class="fr-footer__bottom-link" href="/accessibilite">Accessibilité : partiellement conforme</a></li><li class="fr-footer__bottom-item"><a class="fr-footer__bottom-link" href="/mentions-legales">Mentions légales</a></li><li class="fr-footer__bottom-item"><a class="fr-footer__bottom-link" href="/donnees-personnelles">Données personnelles et cookies</a></li></ul><div class="fr-footer__bottom-copy"><p>Sauf mention explicite de propriété intellectuelle détenue par des tiers, les contenus de ce site sont proposés sous licence etalab-2.0</p></div></div></div></footer>
<script type="module" src="/dsfr/dsfr.module.min.js?v=1.12.1"></script>
<script nomodule src="/dsfr/dsfr.nomodule.min.js?v=1.12.1"></script>
</body>
</html>
"#;

/// One listing page, padded to about `page_kb` KB with the footer's site map
/// (the long link lists of a real ministry site's footer).
pub fn page_html(params: &Shape, h: usize, s: usize, p: usize) -> String {
    let target = params.page_kb * 1024;
    let mut out = header_html(h, s, p);
    out.reserve(target + 4096);
    for i in 0..params.items {
        item_html(&mut out, h, s, p, i, params.items);
    }
    footer_html(&mut out, s, p, params.pages);
    let mut column = 0;
    while out.len() + PAGE_END.len() + 1200 < target {
        let (topic, _) = TOPICS[column % TOPICS.len()];
        let _ = write!(
            out,
            r#"<div class="fr-col-12 fr-col-sm-3 fr-col-md-2"><h3 class="fr-footer__top-cat">{topic}</h3><ul class="fr-footer__top-list">"#
        );
        for (a, audience) in AUDIENCES.iter().enumerate() {
            let _ = write!(
                out,
                r#"<li><a class="fr-footer__top-link" href="/plan-du-site/{column}/{a}">{audience} : toutes les aides « {topic} »</a></li>"#
            );
        }
        out.push_str("</ul></div>\n");
        column += 1;
    }
    out.push_str(PAGE_END);
    out
}

/// A page ready to serve: the whole `200` response and its ETag.
pub struct Served {
    ok: Bytes,
    etag: String,
}

fn response_200(body: &[u8], etag: &str, content_type: &str) -> Bytes {
    let mut head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !etag.is_empty() {
        let _ = write!(head, "ETag: {etag}\r\nCache-Control: no-cache\r\n");
    }
    head.push_str("\r\n");
    let mut bytes = Vec::with_capacity(head.len() + body.len());
    bytes.extend_from_slice(head.as_bytes());
    bytes.extend_from_slice(body);
    Bytes::from(bytes)
}

pub type Site = HashMap<String, Served>;

/// Generates every host's pages; returns them with the total body bytes.
pub fn generate(params: &Shape) -> (Vec<Arc<Site>>, usize) {
    let mut body_bytes = 0;
    let sites = (0..params.hosts)
        .map(|h| {
            let mut site = Site::new();
            let robots = b"User-agent: *\nAllow: /\n";
            site.insert(
                "/robots.txt".into(),
                Served {
                    ok: response_200(robots, "", "text/plain; charset=utf-8"),
                    etag: String::new(),
                },
            );
            for s in 0..params.sources_per_host {
                for p in 0..params.pages {
                    let body = page_html(params, h, s, p);
                    body_bytes += body.len();
                    let etag = format!("\"farm-{h}-{s}-{p}-v1\"");
                    site.insert(
                        page_path(s, p),
                        Served {
                            ok: response_200(body.as_bytes(), &etag, "text/html; charset=utf-8"),
                            etag,
                        },
                    );
                }
            }
            Arc::new(site)
        })
        .collect();
    (sites, body_bytes)
}

// ---------------------------------------------------------------------------
// The farm's server

#[derive(Default)]
pub struct Counters {
    pub ok: AtomicU64,
    pub not_modified: AtomicU64,
    pub robots: AtomicU64,
    pub not_found: AtomicU64,
    pub connections: AtomicU64,
    pub bytes: AtomicU64,
}

#[derive(Debug, Default, Clone, Copy)]
pub struct CountSnapshot {
    pub ok: u64,
    pub not_modified: u64,
    pub robots: u64,
    pub not_found: u64,
    pub connections: u64,
    pub bytes: u64,
}

impl Counters {
    pub fn snapshot(&self) -> CountSnapshot {
        CountSnapshot {
            ok: self.ok.load(Ordering::Relaxed),
            not_modified: self.not_modified.load(Ordering::Relaxed),
            robots: self.robots.load(Ordering::Relaxed),
            not_found: self.not_found.load(Ordering::Relaxed),
            connections: self.connections.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
        }
    }
}

impl std::ops::Sub for CountSnapshot {
    type Output = CountSnapshot;
    fn sub(self, o: CountSnapshot) -> CountSnapshot {
        CountSnapshot {
            ok: self.ok - o.ok,
            not_modified: self.not_modified - o.not_modified,
            robots: self.robots - o.robots,
            not_found: self.not_found - o.not_found,
            connections: self.connections - o.connections,
            bytes: self.bytes - o.bytes,
        }
    }
}

/// Binds one listener per host, on port 0; returns each host's address.
pub async fn start_server(
    sites: Vec<Arc<Site>>,
    counters: Arc<Counters>,
) -> Result<Vec<SocketAddr>, String> {
    let mut addrs = Vec::new();
    for (h, site) in sites.into_iter().enumerate() {
        let ip = host_ip(h);
        let listener = TcpListener::bind((ip, 0)).await.map_err(|e| {
            format!("cannot listen on {ip}: {e} (the farm needs the loopback range 127.0.0.0/8)")
        })?;
        addrs.push(listener.local_addr().map_err(|e| e.to_string())?);
        let counters = Arc::clone(&counters);
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                counters.connections.fetch_add(1, Ordering::Relaxed);
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve_connection(
                    stream,
                    Arc::clone(&site),
                    Arc::clone(&counters),
                ));
            }
        });
    }
    Ok(addrs)
}

/// Serves requests on one keep-alive connection until the client closes it.
async fn serve_connection(mut stream: TcpStream, site: Arc<Site>, counters: Arc<Counters>) {
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    loop {
        // Read one request head (GETs only: no body to skip).
        let end = loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            if buf.len() > 64 * 1024 {
                return;
            }
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..end]).into_owned();
        buf.drain(..end);
        let mut lines = head.split("\r\n");
        let path = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .unwrap_or("/")
            .to_string();
        let mut if_none_match = None;
        let mut close = false;
        for line in lines {
            if let Some((name, value)) = line.split_once(':') {
                let value = value.trim();
                if name.eq_ignore_ascii_case("if-none-match") {
                    if_none_match = Some(value.to_string());
                } else if name.eq_ignore_ascii_case("connection") {
                    close = value.eq_ignore_ascii_case("close");
                }
            }
        }
        let response: Bytes = match site.get(&path) {
            Some(page) if !page.etag.is_empty() && if_none_match.as_deref() == Some(&page.etag) => {
                counters.not_modified.fetch_add(1, Ordering::Relaxed);
                Bytes::from(format!(
                    "HTTP/1.1 304 Not Modified\r\nETag: {}\r\nCache-Control: no-cache\r\n\r\n",
                    page.etag
                ))
            }
            Some(page) => {
                if path == "/robots.txt" {
                    counters.robots.fetch_add(1, Ordering::Relaxed);
                } else {
                    counters.ok.fetch_add(1, Ordering::Relaxed);
                }
                page.ok.clone()
            }
            None => {
                counters.not_found.fetch_add(1, Ordering::Relaxed);
                Bytes::from_static(
                    b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nnot found",
                )
            }
        };
        counters
            .bytes
            .fetch_add(response.len() as u64, Ordering::Relaxed);
        if stream.write_all(&response).await.is_err() || close {
            return;
        }
    }
}

/// Machine-wide busy CPU seconds so far (all cores, every process), from
/// `/proc/stat`: to tell how much of the machine other processes took.
pub fn machine_busy() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/stat") else {
        return f64::NAN;
    };
    let fields: Vec<f64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .map(|f| f.parse().unwrap_or(0.0))
        .collect();
    // user nice system idle iowait irq softirq steal
    let busy: f64 = fields
        .iter()
        .enumerate()
        .filter(|(i, _)| ![3, 4].contains(i) && *i < 8)
        .map(|(_, v)| v)
        .sum();
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    busy / hz
}

//! The ingestion benchmark: a local fixture farm crawled end to end by the
//! release `vigie` binary.
//!
//! ```sh
//! cargo bench --bench crawl_farm
//! FARM_HOSTS=20 FARM_SOURCES_PER_HOST=25 FARM_PAGES=5 cargo bench --bench crawl_farm
//! ```
//!
//! The bench process serves a farm of generated listing pages from memory,
//! on one raw HTTP/1.1 (keep-alive) listener per host `127.0.0.2`,
//! `127.0.0.3`, …; each page holds `FARM_ITEMS` calls for projects in
//! DSFR-like markup padded to about `FARM_PAGE_KB` KB, carries an `ETag` and
//! answers `304` to a matching `If-None-Match`. It writes one `html` source
//! per (host, source) with `next_page` pagination and a `vigie.toml` with
//! politeness lifted into a temporary folder, then runs `vigie crawl
//! --format json` as a child process three times:
//!
//! 1. `startup` — no sources at all: the fixed cost of starting the binary;
//! 2. `first`   — every page fetched, extracted, normalized and stored;
//! 3. `recrawl` — nothing changed: every source's first page answers 304.
//!
//! For each run it reports wall time, pages/s and items/s (from the JSON
//! summary), the requests the server answered, the child's peak RSS and
//! CPU time (`wait4`) and the server's CPU time (`getrusage(RUSAGE_SELF)`
//! of this process, which does nothing else while the child runs). The
//! server shares the machine's cores with `vigie`; `others cpu` is the CPU
//! time the rest of the machine's processes took during the run (from
//! `/proc/stat`), so that a run slowed by a neighbour shows it.
//!
//! Parameters (environment variables, defaults in brackets):
//! `FARM_HOSTS` [20], `FARM_SOURCES_PER_HOST` [25], `FARM_PAGES` (listing
//! pages per source, 1–100) [5], `FARM_ITEMS` (items per page) [20],
//! `FARM_PAGE_KB` [50], `FARM_CRAWL_CONCURRENCY` [32],
//! `FARM_TOTAL_CONCURRENCY` [32], `FARM_PER_HOST_CONCURRENCY` [4],
//! `FARM_SERVER_THREADS` [1], `FARM_KEEP=1` keeps the temporary folder.
//! The process exits with status 1 if a crawl fails or does not see every
//! page and item, so that a broken farm cannot pass for a fast one.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Read as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The release binary: Cargo builds it (bench profile, which inherits
/// release) before the bench and passes its path.
const VIGIE: &str = env!("CARGO_BIN_EXE_vigie");

// ---------------------------------------------------------------------------
// Parameters

#[derive(Debug, Clone)]
struct Params {
    hosts: usize,
    sources_per_host: usize,
    pages: usize,
    items: usize,
    page_kb: usize,
    crawl_concurrency: usize,
    total_concurrency: usize,
    per_host_concurrency: usize,
    server_threads: usize,
    keep: bool,
}

fn env_usize(name: &str, default: usize) -> Result<usize, String> {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .map_err(|_| format!("{name}={v:?}: expected a whole number")),
        Err(_) => Ok(default),
    }
}

impl Params {
    fn from_env() -> Result<Params, String> {
        let p = Params {
            hosts: env_usize("FARM_HOSTS", 20)?,
            sources_per_host: env_usize("FARM_SOURCES_PER_HOST", 25)?,
            pages: env_usize("FARM_PAGES", 5)?,
            items: env_usize("FARM_ITEMS", 20)?,
            page_kb: env_usize("FARM_PAGE_KB", 50)?,
            crawl_concurrency: env_usize("FARM_CRAWL_CONCURRENCY", 32)?,
            total_concurrency: env_usize("FARM_TOTAL_CONCURRENCY", 32)?,
            per_host_concurrency: env_usize("FARM_PER_HOST_CONCURRENCY", 4)?,
            server_threads: env_usize("FARM_SERVER_THREADS", 1)?,
            keep: std::env::var("FARM_KEEP").is_ok_and(|v| v == "1"),
        };
        if !(1..=250).contains(&p.hosts) {
            return Err("FARM_HOSTS must be from 1 to 250 (127.0.0.2 to 127.0.0.251)".into());
        }
        if !(1..=100).contains(&p.pages) {
            return Err("FARM_PAGES must be from 1 to 100 (html.max_pages)".into());
        }
        for (name, v) in [
            ("FARM_SOURCES_PER_HOST", p.sources_per_host),
            ("FARM_ITEMS", p.items),
            ("FARM_CRAWL_CONCURRENCY", p.crawl_concurrency),
            ("FARM_TOTAL_CONCURRENCY", p.total_concurrency),
            ("FARM_PER_HOST_CONCURRENCY", p.per_host_concurrency),
            ("FARM_SERVER_THREADS", p.server_threads),
        ] {
            if v == 0 {
                return Err(format!("{name} must be at least 1"));
            }
        }
        Ok(p)
    }

    fn sources(&self) -> usize {
        self.hosts * self.sources_per_host
    }

    fn total_pages(&self) -> usize {
        self.sources() * self.pages
    }
}

// ---------------------------------------------------------------------------
// The farm's pages

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
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn host_ip(h: usize) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 0, 2 + h as u8)
}

fn listing_path(s: usize) -> String {
    format!("/s{s}/appels-a-projets")
}

fn page_path(s: usize, p: usize) -> String {
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
fn page_html(params: &Params, h: usize, s: usize, p: usize) -> String {
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
struct Served {
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

type Site = HashMap<String, Served>;

/// Generates every host's pages; returns them with the total body bytes.
fn generate(params: &Params) -> (Vec<Arc<Site>>, usize) {
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
struct Counters {
    ok: AtomicU64,
    not_modified: AtomicU64,
    robots: AtomicU64,
    not_found: AtomicU64,
    connections: AtomicU64,
    bytes: AtomicU64,
}

#[derive(Debug, Default, Clone, Copy)]
struct CountSnapshot {
    ok: u64,
    not_modified: u64,
    robots: u64,
    not_found: u64,
    connections: u64,
    bytes: u64,
}

impl Counters {
    fn snapshot(&self) -> CountSnapshot {
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
async fn start_server(
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

// ---------------------------------------------------------------------------
// The crawl runs

fn write_farm_config(
    dir: &Path,
    params: &Params,
    addrs: &[SocketAddr],
) -> std::io::Result<(PathBuf, PathBuf)> {
    let sources = dir.join("sources");
    std::fs::create_dir_all(&sources)?;
    std::fs::create_dir_all(dir.join("no-sources"))?;
    for (h, addr) in addrs.iter().enumerate() {
        for s in 0..params.sources_per_host {
            let id = format!("farm-h{h:03}-s{s:03}");
            let text = format!(
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
                path = listing_path(s),
                pages = params.pages,
            );
            std::fs::write(sources.join(format!("{id}.toml")), text)?;
        }
    }
    let config = dir.join("vigie.toml");
    let text = format!(
        r#"# Written by benches/crawl_farm.rs: politeness lifted for a local farm.
[database]
path = "{db}"

[crawl]
sources_dir = "{sources}"
concurrency = {crawl_concurrency}
follow_details = false
themes = "{themes}"

[fetch]
per_host_concurrency = {per_host}
total_concurrency = {total}
min_spacing_ms = 0
robots = true
retries = 0
"#,
        db = dir.join("farm.db").display(),
        sources = sources.display(),
        crawl_concurrency = params.crawl_concurrency,
        per_host = params.per_host_concurrency,
        total = params.total_concurrency,
        themes = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("config/themes.toml")
            .display(),
    );
    std::fs::write(&config, text)?;
    Ok((config, dir.join("no-sources")))
}

/// CPU seconds (user, system) from an `rusage`.
fn cpu(r: &libc::rusage) -> (f64, f64) {
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    (t(r.ru_utime), t(r.ru_stime))
}

fn self_cpu() -> (f64, f64) {
    // SAFETY: getrusage only writes the struct it is given.
    let mut r: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut r) };
    cpu(&r)
}

/// Machine-wide busy CPU seconds so far (all cores, every process), from
/// `/proc/stat`: to tell how much of the machine other processes took.
fn machine_busy() -> f64 {
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

struct RunResult {
    name: &'static str,
    /// Busy CPU seconds of the whole machine during the run.
    machine_cpu: f64,
    wall: Duration,
    pages: u64,
    items: u64,
    new: u64,
    outcomes: HashMap<String, usize>,
    failures: Vec<String>,
    peak_rss_kib: i64,
    child_cpu: (f64, f64),
    server_cpu: (f64, f64),
    served: CountSnapshot,
    exit_status: i32,
}

fn run_crawl(
    name: &'static str,
    dir: &Path,
    config: &Path,
    sources_dir: Option<&Path>,
    counters: &Counters,
) -> Result<RunResult, String> {
    // The bench re-executes itself as a small launcher that runs `vigie` and
    // reports its rusage: a child forked from this process would inherit the
    // farm's pages in its peak RSS (Linux counts the pre-exec image).
    let rusage_path = dir.join(format!("{name}.rusage"));
    let _ = std::fs::remove_file(&rusage_path);
    let mut cmd = Command::new(std::env::current_exe().map_err(|e| e.to_string())?);
    cmd.env(LAUNCH_ENV, &rusage_path)
        .arg("--")
        .arg(VIGIE)
        .arg("crawl")
        .arg("--config")
        .arg(config)
        .args(["--format", "json"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    if let Some(sources) = sources_dir {
        cmd.arg("--sources").arg(sources);
    }
    // Only the farm's configuration counts: no VIGIE_* from the caller.
    for (key, _) in std::env::vars() {
        if key.starts_with("VIGIE_") {
            cmd.env_remove(key);
        }
    }
    let stderr_path = dir.join(format!("{name}.stderr"));
    let stderr = std::fs::File::create(&stderr_path).map_err(|e| e.to_string())?;
    cmd.stderr(stderr);

    let before = counters.snapshot();
    let server_before = self_cpu();
    let machine_before = machine_busy();
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", cmd.get_program().to_string_lossy()))?;
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .expect("stdout is piped")
        .read_to_string(&mut stdout)
        .map_err(|e| e.to_string())?;
    let status = child.wait().map_err(|e| e.to_string())?;
    let wall = started.elapsed();
    let server_after = self_cpu();
    let machine_cpu = machine_busy() - machine_before;
    let served = counters.snapshot() - before;
    let measured = std::fs::read_to_string(&rusage_path).map_err(|e| {
        format!(
            "{name}: the launcher did not write {}: {e} (exit {status})",
            rusage_path.display()
        )
    })?;
    let fields: Vec<f64> = measured
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(f64::NAN))
        .collect();
    let [exit_status, maxrss, user, sys, child_wall] = fields[..] else {
        return Err(format!("{name}: unexpected launcher output {measured:?}"));
    };
    let exit_status = exit_status as i32;
    let usage = (maxrss as i64, (user, sys));
    // The launcher's own start is not the crawl's: use the time it measured
    // around `vigie` alone.
    let wall = Duration::from_secs_f64(child_wall).min(wall);

    let rows: Vec<serde_json::Value> = serde_json::from_str(&stdout).map_err(|e| {
        let err = std::fs::read_to_string(&stderr_path).unwrap_or_default();
        format!("{name}: the JSON summary could not be read ({e}); exit status {exit_status}; stderr:\n{err}")
    })?;
    let mut result = RunResult {
        name,
        machine_cpu,
        wall,
        pages: 0,
        items: 0,
        new: 0,
        outcomes: HashMap::new(),
        failures: Vec::new(),
        peak_rss_kib: usage.0,
        child_cpu: usage.1,
        server_cpu: (
            server_after.0 - server_before.0,
            server_after.1 - server_before.1,
        ),
        served,
        exit_status,
    };
    for row in &rows {
        let n = |k: &str| row[k].as_u64().unwrap_or(0);
        result.pages += n("pages");
        result.items += n("items");
        // Items that joined a call already found (cross-source dedup of the
        // farm's similar generated titles) are stored too.
        result.new += n("new") + n("merged");
        let outcome = row["outcome"].as_str().unwrap_or("?").to_string();
        if outcome == "failed" {
            result.failures.push(format!(
                "{}: {}",
                row["source"].as_str().unwrap_or("?"),
                row["error"].as_str().unwrap_or("?")
            ));
        }
        *result.outcomes.entry(outcome).or_default() += 1;
    }
    Ok(result)
}

fn mib(kib: i64) -> f64 {
    kib as f64 / 1024.0
}

fn print_results(params: &Params, runs: &[RunResult]) {
    println!();
    println!(
        "{:<8} {:>8} {:>7} {:>8} {:>10} {:>10} {:>5} {:>5} {:>6} {:>9} {:>14} {:>14} {:>10}",
        "run",
        "wall s",
        "pages",
        "items",
        "pages/s",
        "items/s",
        "200",
        "304",
        "conns",
        "peak RSS",
        "vigie cpu u+s",
        "server cpu u+s",
        "others cpu",
    );
    for r in runs {
        let secs = r.wall.as_secs_f64();
        println!(
            "{:<8} {:>8.3} {:>7} {:>8} {:>10.0} {:>10.0} {:>5} {:>5} {:>6} {:>5.1} MiB {:>6.2}+{:<5.2}s {:>6.2}+{:<5.2}s {:>8.2} s",
            r.name,
            secs,
            r.pages,
            r.items,
            r.pages as f64 / secs,
            r.items as f64 / secs,
            r.served.ok,
            r.served.not_modified,
            r.served.connections,
            mib(r.peak_rss_kib),
            r.child_cpu.0,
            r.child_cpu.1,
            r.server_cpu.0,
            r.server_cpu.1,
            r.machine_cpu - (r.child_cpu.0 + r.child_cpu.1) - (r.server_cpu.0 + r.server_cpu.1),
        );
    }
    println!();
    let first = runs.iter().find(|r| r.name == "first");
    let recrawl = runs.iter().find(|r| r.name == "recrawl");
    if let (Some(first), Some(recrawl)) = (first, recrawl) {
        let fs = first.wall.as_secs_f64();
        let pages_per_s = first.pages as f64 / fs;
        let speedup = fs / recrawl.wall.as_secs_f64();
        let rss = mib(first.peak_rss_kib.max(recrawl.peak_rss_kib));
        let verdict = |ok: bool| if ok { "PASS" } else { "MISS" };
        println!(
            "target  first crawl >= 1000 pages/s      {:>8.0} pages/s  {}",
            pages_per_s,
            verdict(pages_per_s >= 1000.0)
        );
        println!(
            "target  peak RSS < 64 MiB                {:>8.1} MiB      {}",
            rss,
            verdict(rss < 64.0)
        );
        println!(
            "target  unchanged re-crawl >= 5x faster  {:>8.1}x         {}",
            speedup,
            verdict(speedup >= 5.0)
        );
        let busy = first.child_cpu.0 + first.child_cpu.1;
        println!(
            "first crawl: vigie used {:.2} CPU-s ({:.0} % of one core, {:.2} ms per page), the server {:.2} CPU-s",
            busy,
            100.0 * busy / fs,
            1000.0 * busy / first.pages.max(1) as f64,
            first.server_cpu.0 + first.server_cpu.1,
        );
    }
    println!(
        "farm: {} hosts x {} sources x {} pages x {} items, pages of ~{} KB; crawl.concurrency {}, fetch.total_concurrency {}, fetch.per_host_concurrency {}, min_spacing_ms 0, server threads {}",
        params.hosts,
        params.sources_per_host,
        params.pages,
        params.items,
        params.page_kb,
        params.crawl_concurrency,
        params.total_concurrency,
        params.per_host_concurrency,
        params.server_threads,
    );
}

/// Checks that a run did what it should; returns the problems.
fn check_run(r: &RunResult, params: &Params) -> Vec<String> {
    let mut problems: Vec<String> = r.failures.iter().take(5).cloned().collect();
    if r.failures.len() > 5 {
        problems.push(format!("... {} failed sources in all", r.failures.len()));
    }
    let sources = params.sources() as u64;
    let pages = params.total_pages() as u64;
    let items = pages * params.items as u64;
    if r.name == "first" && (r.pages != pages || r.items != items || r.new != items) {
        problems.push(format!(
            "first crawl: {} pages, {} items, {} new or merged; expected {pages} pages and {items} stored items",
            r.pages, r.items, r.new
        ));
    }
    if r.name == "recrawl" && (r.served.not_modified != sources || r.served.ok != 0) {
        problems.push(format!(
            "re-crawl: the server answered {} × 304 and {} × 200; expected {sources} × 304 and no 200",
            r.served.not_modified, r.served.ok
        ));
    }
    if r.served.not_found > 0 {
        problems.push(format!(
            "{}: {} requests got 404",
            r.name, r.served.not_found
        ));
    }
    if r.exit_status != 0 {
        problems.push(format!(
            "{}: vigie exited with status {}",
            r.name, r.exit_status
        ));
    }
    problems
}

/// Set (to the file where the rusage goes) when this binary runs as the
/// launcher of one `vigie` process.
const LAUNCH_ENV: &str = "CRAWL_FARM_LAUNCH_RUSAGE";

/// Launcher mode: runs the program after `--` with this process's stdio,
/// waits for it with `wait4` and writes `exit maxrss_kib user_s sys_s wall_s`.
fn launch(rusage_path: &str) -> ExitCode {
    let mut args = std::env::args_os().skip_while(|a| a != "--").skip(1);
    let Some(program) = args.next() else {
        eprintln!("crawl_farm launcher: nothing to run");
        return ExitCode::FAILURE;
    };
    let started = Instant::now();
    let child = match Command::new(&program)
        .args(args)
        .env_remove(LAUNCH_ENV)
        .spawn()
    {
        Ok(child) => child,
        Err(e) => {
            eprintln!(
                "crawl_farm launcher: cannot run {}: {e}",
                program.to_string_lossy()
            );
            return ExitCode::FAILURE;
        }
    };
    let mut status = 0;
    // SAFETY: wait4 writes the status and the rusage it is given; the child
    // is ours and is reaped here (std's Child is not waited on afterwards).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    let wall = started.elapsed().as_secs_f64();
    if pid < 0 {
        eprintln!(
            "crawl_farm launcher: wait4: {}",
            std::io::Error::last_os_error()
        );
        return ExitCode::FAILURE;
    }
    let exit = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    let (user, sys) = cpu(&usage);
    let line = format!("{exit} {} {user} {sys} {wall}\n", usage.ru_maxrss);
    if let Err(e) = std::fs::write(rusage_path, line) {
        eprintln!("crawl_farm launcher: cannot write {rusage_path}: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    if let Ok(path) = std::env::var(LAUNCH_ENV) {
        return launch(&path);
    }
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("crawl_farm: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<bool, String> {
    // `cargo bench` passes `--bench` (and any filter): nothing to select here.
    let params = Params::from_env()?;
    if !Path::new(VIGIE).is_file() {
        return Err(format!(
            "the vigie binary is missing at {VIGIE}: run `cargo bench --bench crawl_farm` (or `cargo build --release`) from the repository"
        ));
    }
    println!("vigie binary: {VIGIE}");

    let generated = Instant::now();
    let (sites, body_bytes) = generate(&params);
    println!(
        "farm: {} pages of {:.1} KB on average ({:.1} MiB), generated in {:.2} s",
        params.total_pages(),
        body_bytes as f64 / params.total_pages() as f64 / 1024.0,
        body_bytes as f64 / (1024.0 * 1024.0),
        generated.elapsed().as_secs_f64()
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(params.server_threads)
        .thread_name("farm-server")
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let counters = Arc::new(Counters::default());
    let addrs = runtime.block_on(start_server(sites, Arc::clone(&counters)))?;
    println!(
        "server: {} hosts, {} to {}",
        addrs.len(),
        addrs[0],
        addrs[addrs.len() - 1]
    );

    let tmp = tempfile::Builder::new()
        .prefix("vigie-crawl-farm-")
        .tempdir()
        .map_err(|e| e.to_string())?;
    let dir = tmp.path().to_path_buf();
    let (config, no_sources) =
        write_farm_config(&dir, &params, &addrs).map_err(|e| e.to_string())?;

    let mut runs = Vec::new();
    let mut problems = Vec::new();
    for (name, sources) in [
        ("startup", Some(no_sources.as_path())),
        ("first", None),
        ("recrawl", None),
    ] {
        let r = run_crawl(name, &dir, &config, sources, &counters)?;
        println!(
            "{name}: {:.3} s, exit {}, outcomes {:?}",
            r.wall.as_secs_f64(),
            r.exit_status,
            r.outcomes
        );
        problems.extend(check_run(&r, &params));
        runs.push(r);
    }
    print_results(&params, &runs);
    if let Ok(meta) = std::fs::metadata(dir.join("farm.db")) {
        println!(
            "database after the runs: {:.1} MiB",
            meta.len() as f64 / (1024.0 * 1024.0)
        );
    }

    if params.keep {
        let kept = tmp.keep();
        println!("kept {}", kept.display());
    }
    for p in &problems {
        eprintln!("problem: {p}");
    }
    Ok(problems.is_empty())
}

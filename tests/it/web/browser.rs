//! The public pages in a real headless Chromium driven over WebDriver
//! (Debian's `chromium` and `chromium-driver`): search with filters, a
//! call page, the sign-up flow, keyboard use; every page checked with
//! axe-core (no serious or critical violation), photographed at 1280, 375
//! and 320 px into `target/screenshots/` for review, and never wider than
//! the window at any of them.
//!
//! Missing parts fail the test with what to install, never a silent pass.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::support::fixtures;
use crate::support::web::{Site, link_in};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

fn axe_source() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/browser/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "axe-core is missing ({}: {e}): run `npm ci --prefix tests/browser`",
            path.display()
        )
    })
}

/// chromedriver on a free port, killed when dropped.
struct Driver {
    child: Child,
    port: u16,
    _profile: tempfile::TempDir,
}

impl Driver {
    fn start() -> Driver {
        for bin in [CHROMEDRIVER, CHROMIUM] {
            assert!(
                Path::new(bin).exists(),
                "{bin} is missing: install Debian's `chromium` and `chromium-driver`"
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "chromedriver did not listen"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Driver {
            child,
            port,
            _profile: tempfile::tempdir().unwrap(),
        }
    }

    async fn client(&self) -> Client {
        let caps = json!({
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage",
                    format!("--user-data-dir={}", self._profile.path().display()),
                ]
            }
        });
        let Value::Object(caps) = caps else {
            unreachable!()
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("a Chromium session")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn screenshots() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// axe-core on the current page: the serious and critical violations, and
/// screenshots at both widths.
async fn check_page(c: &Client, axe: &str, name: &str) {
    c.execute(axe, vec![]).await.expect("axe-core loads");
    let result = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] })
                .then(r => done(r.violations.map(v => ({ id: v.id, impact: v.impact,
                    help: v.help, nodes: v.nodes.map(n => n.html).slice(0, 3) }))))
                .catch(e => done([{ id: 'axe-error', impact: 'critical', help: String(e) }]));",
            vec![],
        )
        .await
        .expect("axe-core runs");
    let bad: Vec<&Value> = result
        .as_array()
        .expect("a list of violations")
        .iter()
        .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
        .collect();
    assert!(bad.is_empty(), "{name}: accessibility violations {bad:#?}");
    for (width, height) in [(1280, 900), (375, 812), (320, 640)] {
        c.set_window_size(width, height).await.unwrap();
        let png = c.screenshot().await.expect("a screenshot");
        std::fs::write(screenshots().join(format!("{name}-{width}.png")), png).unwrap();
        // Nothing wider than the window (responsive down to 320 px).
        let overflow = c
            .execute(
                "return document.documentElement.scrollWidth - window.innerWidth;",
                vec![],
            )
            .await
            .unwrap();
        assert!(
            overflow.as_i64().unwrap_or(0) <= 0,
            "{name} at {width} px scrolls sideways by {overflow}"
        );
    }
    c.set_window_size(1280, 900).await.unwrap();
}

async fn text_of(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[test]
fn search_call_page_and_sign_up_work_in_chromium_and_pass_axe() {
    let site = Site::crawled(std::fs::read(fixtures("crawl/listing.html")).unwrap());
    let axe = axe_source();
    let driver = Driver::start();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let base = site.base.clone();
    let confirm_link = rt.block_on(async {
        let c = driver.client().await;
        // The catalogue, then a search with filters through the form.
        c.goto(&format!("{base}/appels")).await.unwrap();
        check_page(&c, &axe, "catalogue").await;
        // The text face is Vigie's own, loaded from the site under its CSP.
        let fonts = c
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 document.fonts.ready.then(() => done({
                     loaded: [...document.fonts].filter(f => f.status === 'loaded')
                         .map(f => f.family.replace(/\"/g, '') + ' ' + f.weight),
                     body: getComputedStyle(document.body).fontFamily }));",
                vec![],
            )
            .await
            .unwrap();
        let loaded = fonts["loaded"].as_array().unwrap();
        for face in ["Inter 400", "Inter 700"] {
            assert!(
                loaded.iter().any(|f| f == face),
                "{face} not loaded: {fonts}"
            );
        }
        assert!(
            fonts["body"].as_str().unwrap().starts_with("Inter"),
            "{fonts}"
        );
        // The first Tab reaches the skip link.
        c.find(Locator::Css("body"))
            .await
            .unwrap()
            .send_keys("\u{E004}")
            .await
            .unwrap();
        let active = c.active_element().await.unwrap();
        assert_eq!(active.text().await.unwrap(), "Aller au contenu");
        c.find(Locator::Id("q"))
            .await
            .unwrap()
            .send_keys("donnees")
            .await
            .unwrap();
        c.find(Locator::Css("label[for='type-ami']"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        c.find(Locator::Css("form.search button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for(&c, "1 appel trouvé").await;
        let url = c.current_url().await.unwrap();
        assert!(
            url.query()
                .is_some_and(|q| q.contains("q=donnees") && q.contains("type=ami")),
            "{url}"
        );
        assert_eq!(text_of(&c, "#resultats").await, "1 appel trouvé");
        check_page(&c, &axe, "recherche").await;

        // The call page from its card.
        c.find(Locator::Css(".card__title a"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for(&c, "Ajouter à mon agenda").await;
        assert_eq!(text_of(&c, "h1").await, "AMI Données et territoires");
        let agenda = c
            .find(Locator::LinkText("Ajouter à mon agenda"))
            .await
            .unwrap();
        assert!(
            agenda
                .attr("href")
                .await
                .unwrap()
                .unwrap()
                .ends_with("/agenda.ics")
        );
        check_page(&c, &axe, "appel").await;

        // Sign-up: a wrong field first, then the right one.
        c.goto(&format!("{base}/abonnement")).await.unwrap();
        check_page(&c, &axe, "abonnement").await;
        c.find(Locator::Id("email"))
            .await
            .unwrap()
            .send_keys("pas-une-adresse")
            .await
            .unwrap();
        c.find(Locator::Id("nom"))
            .await
            .unwrap()
            .send_keys("Mairie de Cergy")
            .await
            .unwrap();
        c.find(Locator::Css("#public option[value='commune']"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        c.find(Locator::Id("territoire"))
            .await
            .unwrap()
            .send_keys("Cergy")
            .await
            .unwrap();
        c.find(Locator::Css("form.form button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for(&c, "Adresse électronique invalide").await;
        check_page(&c, &axe, "abonnement-erreur").await;
        let email = c.find(Locator::Id("email")).await.unwrap();
        email.clear().await.unwrap();
        email.send_keys("mairie@cergy.fr").await.unwrap();
        c.find(Locator::Css("form.form button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for(&c, "Vérifiez votre messagerie").await;
        assert_eq!(text_of(&c, "h1").await, "Vérifiez votre messagerie");
        check_page(&c, &axe, "abonnement-envoye").await;
        c.close().await.unwrap();
        // The link of the email queued for this address.
        let mails = site.outbox();
        link_in(&mails[0].2, "/abonnement/confirmer/").expect("a confirmation link")
    });
    rt.block_on(async {
        let c = driver.client().await;
        c.goto(&format!("{base}{confirm_link}")).await.unwrap();
        check_page(&c, &axe, "confirmation").await;
        c.find(Locator::Css("form button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        // The POST button confirms and lands on the manage page.
        wait_for(&c, "Votre alerte est confirmée").await;
        check_page(&c, &axe, "gerer").await;
        c.find(Locator::LinkText("Me désabonner"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for(&c, "Confirmer le désabonnement").await;
        check_page(&c, &axe, "desabonnement").await;
        c.find(Locator::Css("form button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for(&c, "Vous ne recevrez plus").await;
        assert_eq!(text_of(&c, "h1").await, "Vous êtes désabonné");
        c.close().await.unwrap();
    });
}

/// Waits (up to 15 s) until the page, after a click, contains `text`: a
/// navigation ends when the browser says so, not when the click returns.
async fn wait_for(c: &Client, text: &str) {
    let start = Instant::now();
    loop {
        if c.source().await.is_ok_and(|s| s.contains(text)) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "the page never showed {text:?}: {}",
            c.source().await.unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

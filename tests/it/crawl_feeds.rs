//! Feeds in the shapes feed-rs reads as empty (an RSS root without
//! `version`, RSS 2.0 in the UserLand namespace) are crawled in full, and a
//! feed whose items cannot be read fails its source instead of counting
//! as a success with nothing in it.

use serde_json::Value;

use crate::support::{FixtureServer, Scenario, all_output, fixtures};

fn feed_source(id: &str, server: &FixtureServer, file: &str) -> String {
    format!(
        r#"id = "{id}"
name = "Flux {id}"
kind = "feed"
url = "{url}"
schedule = "30 7 * * 1-5"

[defaults]
audiences = ["commune"]
perimeter = "france"
"#,
        url = server.url(&format!("/{file}"))
    )
}

#[test]
fn old_rss_shapes_are_crawled_and_an_unreadable_feed_fails_its_source() {
    let server = FixtureServer::start();
    server.serve_dir(fixtures("feeds"));
    let sc = Scenario::new();
    sc.source(
        "noversion",
        &feed_source("noversion", &server, "rss-without-version.xml"),
    );
    sc.source(
        "userland",
        &feed_source("userland", &server, "userland-rss2.xml"),
    );
    sc.source(
        "unreadable",
        &feed_source("unreadable", &server, "unreadable-namespace.xml"),
    );

    let out = sc.vigie(&["crawl", "--format", "json"]);
    assert!(
        !out.status.success(),
        "one source failed: {}",
        all_output(&out)
    );
    let report: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let of = |id: &str| report.iter().find(|r| r["source"] == id).unwrap().clone();
    assert_eq!(of("noversion")["outcome"], "ok");
    assert_eq!(of("noversion")["new"], 2, "{report:#?}");
    assert_eq!(of("userland")["outcome"], "ok");
    assert_eq!(of("userland")["new"], 2, "{report:#?}");
    let bad = of("unreadable");
    assert_eq!(bad["outcome"], "failed");
    assert_eq!(bad["error_code"], "not_a_feed");
    assert!(
        bad["error"]
            .as_str()
            .unwrap()
            .contains("none could be read as an entry"),
        "{bad:#}"
    );

    let calls = sc.calls(&[]);
    let titles: Vec<&str> = calls.iter().map(|c| c["title"].as_str().unwrap()).collect();
    assert!(
        titles.contains(&"Appel à projets Archives numériques 2035"),
        "{titles:?}"
    );
    assert!(
        titles.contains(&"AMI Données ouvertes locales"),
        "{titles:?}"
    );
}

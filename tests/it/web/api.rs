//! The JSON API over HTTP: filters, cursor pagination, errors in JSON
//! naming the parameter, 301 and 404, CORS, validators, the exports, and
//! real answers validated against the server's own OpenAPI document.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::fixtures;
use crate::support::smtp::require_python;
use crate::support::web::{Site, numbered_listing};

fn listing() -> Vec<u8> {
    std::fs::read(fixtures("crawl/listing.html")).unwrap()
}

fn body(site: &Site, path: &str) -> Value {
    let r = site.get(path);
    assert_eq!(r.status, 200, "{path}: {}", r.body);
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("application/json"),
        "{path}"
    );
    serde_json::from_str(&r.body).unwrap()
}

#[test]
fn a_cursor_walk_sees_every_call_once_in_order() {
    let site = Site::crawled(numbered_listing(45, 4));
    for tri in ["", "&tri=recent", "&tri=modifie"] {
        let mut seen = Vec::new();
        let mut path = format!("/api/v1/calls?limit=10{tri}");
        let mut pages = 0;
        loop {
            let v = body(&site, &path);
            assert_eq!(v["total"], 45, "{v}");
            pages += 1;
            for c in v["data"].as_array().unwrap() {
                seen.push((
                    c["deadline"].as_str().unwrap().to_string(),
                    c["id"].as_i64().unwrap(),
                ));
            }
            match v["next_cursor"].as_str() {
                Some(c) => {
                    let next = v["links"]["next"].as_str().unwrap();
                    assert!(
                        next.starts_with("https://vigie.example.fr/api/v1/calls?"),
                        "{next}"
                    );
                    path = format!("/api/v1/calls?limit=10{tri}&cursor={c}");
                }
                None => break,
            }
        }
        assert_eq!(pages, 5, "{tri}");
        let mut ids: Vec<i64> = seen.iter().map(|(_, id)| *id).collect();
        if tri.is_empty() {
            let sorted = {
                let mut s = seen.clone();
                s.sort();
                s
            };
            assert_eq!(seen, sorted, "nearest deadline first, then id");
        }
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 45, "no duplicate, no gap ({tri})");
    }
}

#[test]
fn errors_are_json_naming_the_parameter_and_what_it_accepts() {
    let site = Site::crawled(listing());
    for (path, parameter) in [
        ("/api/v1/calls?statut=fini", "statut"),
        ("/api/v1/calls?couleur=bleu", "couleur"),
        ("/api/v1/calls?limit=0", "limit"),
        ("/api/v1/calls?limit=1000", "limit"),
        ("/api/v1/calls?cursor=nimporte", "cursor"),
        ("/api/v1/sources?x=1", "x"),
    ] {
        let r = site.get(path);
        assert_eq!(r.status, 400, "{path}");
        assert!(
            r.header("content-type")
                .unwrap()
                .starts_with("application/json")
        );
        let v: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(v["error"]["status"], 400);
        assert_eq!(v["error"]["parameter"], parameter, "{path}: {v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap()
                .contains("Paramètre"),
            "{v}"
        );
    }
    // A cursor made for another search is refused.
    let v = body(&site, "/api/v1/calls?limit=1");
    let cursor = v["next_cursor"].as_str().unwrap();
    let r = site.get(&format!("/api/v1/calls?limit=1&q=donnees&cursor={cursor}"));
    assert_eq!(r.status, 400);
    let r = site.get(&format!("/api/v1/calls?limit=1&tri=recent&cursor={cursor}"));
    assert_eq!(r.status, 400);
    let r = site.get("/api/v2/nothing");
    assert_eq!(r.status, 404);
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
}

#[test]
fn one_call_merged_rejected_sources_and_cors() {
    let site = Site::crawled(listing());
    let ids = site.call_ids();
    let (a, b, c) = (ids[0], ids[1], ids[2]);
    let v = body(&site, &format!("/api/v1/calls/{a}"));
    assert_eq!(v["id"], a);
    assert_eq!(v["sources"][0]["source_id"], "demo");
    assert!(
        v["page_url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/appels/{a}"))
    );
    assert!(
        site.sc
            .vigie(&["calls", "merge", &a.to_string(), &b.to_string()])
            .status
            .success()
    );
    let r = site.get(&format!("/api/v1/calls/{b}"));
    assert_eq!(r.status, 301);
    assert_eq!(
        r.header("location"),
        Some(format!("/api/v1/calls/{a}").as_str())
    );
    assert!(
        site.sc
            .vigie(&["review", "reject", &c.to_string()])
            .status
            .success()
    );
    let r = site.get(&format!("/api/v1/calls/{c}"));
    assert_eq!(r.status, 404);
    assert!(r.body.starts_with("{\"error\""), "{}", r.body);

    let v = body(&site, "/api/v1/sources");
    assert_eq!(v["data"][0]["id"], "demo");
    assert_eq!(v["data"][0]["health"], "ok");

    let r = site.get_with("/api/v1/calls", &[("origin", "https://reuser.example")]);
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    let pre = site.http.send(
        reqwest::Client::new()
            .request(reqwest::Method::OPTIONS, site.url("/api/v1/calls"))
            .header("origin", "https://reuser.example")
            .header("access-control-request-method", "GET"),
    );
    assert!(pre.status < 300, "{}", pre.status);
    assert!(
        pre.header("access-control-allow-methods")
            .unwrap()
            .contains("GET")
    );
    let r = site.get("/api/v1/calls");
    let etag = r.header("etag").unwrap().to_string();
    assert_eq!(
        site.get_with("/api/v1/calls", &[("if-none-match", &etag)])
            .status,
        304
    );
}

#[test]
fn exports_list_the_open_catalogue_and_csv_cells_cannot_be_formulas() {
    let html = String::from_utf8(listing()).unwrap().replace(
        "AMI Données et territoires",
        "=HYPERLINK(\"http://evil\";\"x\") AMI",
    );
    let site = Site::crawled(html);
    let v = body(&site, "/api/v1/export.json");
    assert_eq!(v.as_array().unwrap().len(), 3);
    let r = site.get("/api/v1/export.csv");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(
        r.header("content-disposition")
            .unwrap()
            .contains("attachment")
    );
    let mut reader = csv::Reader::from_reader(r.body.as_bytes());
    assert_eq!(reader.headers().unwrap().get(1), Some("titre"));
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 3);
    let formula = rows.iter().find(|r| r[1].contains("HYPERLINK")).unwrap();
    assert!(!formula[1].starts_with('='), "{:?}", &formula[1]);
}

#[test]
fn real_answers_match_the_openapi_document() {
    require_python("openapi_spec_validator", "openapi-spec-validator");
    require_python("jsonschema", "jsonschema");
    let site = Site::crawled(listing());
    let dir = tempfile::tempdir().unwrap();
    let spec = site.get("/api/v1/openapi.json");
    assert_eq!(spec.status, 200);
    let doc: Value = serde_json::from_str(&spec.body).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    std::fs::write(dir.path().join("spec.json"), &spec.body).unwrap();
    let id = site.call_ids()[0];
    let cases = [
        ("/api/v1/calls", "200"),
        ("/api/v1/calls?limit=1&theme=numerique", "200"),
        (&*format!("/api/v1/calls/{id}"), "200"),
        ("/api/v1/calls/999999", "404"),
        ("/api/v1/calls?statut=fini", "400"),
        ("/api/v1/sources", "200"),
        ("/api/v1/export.json", "200"),
    ];
    let mut args = vec![dir.path().join("spec.json").display().to_string()];
    for (n, (path, status)) in cases.iter().enumerate() {
        let r = site.get(path);
        assert_eq!(r.status.to_string(), *status, "{path}");
        let file = dir.path().join(format!("{n}.json"));
        std::fs::write(&file, &r.body).unwrap();
        args.extend([
            path.to_string(),
            status.to_string(),
            file.display().to_string(),
        ]);
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/openapi_check.py");
    let run = |args: &[String]| {
        let out = Command::new("python3")
            .arg(&script)
            .args(args)
            .output()
            .expect("python3 runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let (ok, report) = run(&args);
    assert!(ok, "{report}");
    // The check really checks: a body missing a required field fails.
    let mut broken: Value = serde_json::from_str(&site.get("/api/v1/sources").body).unwrap();
    broken["data"][0].as_object_mut().unwrap().remove("health");
    let file = dir.path().join("broken.json");
    std::fs::write(&file, broken.to_string()).unwrap();
    let (ok, report) = run(&[
        args[0].clone(),
        "/api/v1/sources".into(),
        "200".into(),
        file.display().to_string(),
    ]);
    assert!(!ok, "a missing field must fail: {report}");
    assert!(report.contains("health"), "{report}");
}

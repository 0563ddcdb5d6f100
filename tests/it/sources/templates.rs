//! The prefectures' template (`sources/prefectures.toml` over
//! `sources/data/prefectures.csv`) through the real binary: one source per
//! department of Vigie's territory data, each checked, listed and scheduled
//! like any other; and a template's mistakes reported with their file,
//! line and key. The crawls of `prefecture-38` and `prefecture-974` are
//! pinned by their `expected.toml` (see `fixtures.rs`).

use std::collections::BTreeSet;

use serde_json::Value;
use vigie::domain::{Perimeter, PerimeterSet};

use super::{copy_dir, repo_sources};
use crate::support::{Scenario, all_output};

/// A scenario holding the shipped template and its data file only.
fn prefectures() -> Scenario {
    let sc = Scenario::new();
    std::fs::copy(
        repo_sources().join("prefectures.toml"),
        sc.path("sources/prefectures.toml"),
    )
    .unwrap();
    copy_dir(&repo_sources().join("data"), &sc.path("sources/data"));
    sc
}

fn expected_id(code: &str) -> String {
    format!("prefecture-{}", code.to_lowercase())
}

#[test]
fn the_prefecture_template_expands_to_one_source_per_department() {
    let sc = prefectures();
    let out = sc.vigie(&["sources", "check"]);
    assert!(out.status.success(), "{}", all_output(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let listed: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("ok: "))
        .filter_map(|l| l.split_once(" (")?.1.split(',').next())
        .collect();
    let departments = vigie::territory::departments();
    assert_eq!(departments.len(), 101);
    assert_eq!(listed.len(), 101, "{stdout}");
    let wanted: BTreeSet<String> = departments.iter().map(|d| expected_id(d.code)).collect();
    let got: BTreeSet<String> = listed.iter().map(|s| s.to_string()).collect();
    assert_eq!(got, wanted, "every department once, and nothing else");
    for id in [
        "prefecture-01",
        "prefecture-2a",
        "prefecture-2b",
        "prefecture-976",
    ] {
        assert!(got.contains(id), "{id}");
    }

    // Each expanded source's perimeter is its department, known to the
    // territory data; its URL is the prefecture's site.
    let (defs, errors) = vigie::source::load_dir(&sc.path("sources"));
    assert!(errors.is_empty(), "{errors:?}");
    for dep in departments {
        let def = defs
            .iter()
            .find(|d| d.id.as_str() == expected_id(dep.code))
            .unwrap();
        assert_eq!(
            def.defaults.perimeter,
            Some(PerimeterSet::one(Perimeter::Department(
                dep.code.to_string()
            ))),
            "{}",
            def.id
        );
        assert!(
            def.url.host_str().unwrap().ends_with(".gouv.fr"),
            "{}",
            def.url
        );
        assert!(def.funder.as_deref().unwrap().starts_with("Préfecture "));
        assert!(def.name.contains(dep.name) || def.funder.as_deref().unwrap().contains(dep.name));
    }
    let reunion = defs
        .iter()
        .find(|d| d.id.as_str() == "prefecture-974")
        .unwrap();
    assert_eq!(
        reunion.url.as_str(),
        "https://www.reunion.gouv.fr/Actualites"
    );
    let paris = defs
        .iter()
        .find(|d| d.id.as_str() == "prefecture-75")
        .unwrap();
    assert_eq!(
        paris.url.as_str(),
        "https://www.prefectures-regions.gouv.fr/ile-de-france/Actualites"
    );
}

#[test]
fn an_expanded_source_is_checked_by_its_id() {
    let sc = prefectures();
    let out = sc.vigie(&["sources", "check", "prefecture-38", "prefecture-2a"]);
    assert!(out.status.success(), "{}", all_output(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    assert!(
        stdout.contains("(prefecture-38, html source, https://www.isere.gouv.fr/Actualites; row "),
        "{stdout}"
    );
    assert!(stdout.contains("data/prefectures.csv:"), "{stdout}");
    // The template's file checks all its sources.
    let out = sc.vigie(&["sources", "check", "sources/prefectures.toml"]);
    assert!(out.status.success(), "{}", all_output(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 101);
    let out = sc.vigie(&["sources", "check", "prefecture-99"]);
    assert!(!out.status.success());
    assert!(
        all_output(&out).contains("no source `prefecture-99`"),
        "{}",
        all_output(&out)
    );
}

#[test]
fn the_status_table_shows_every_expanded_source() {
    let sc = prefectures();
    let out = sc.vigie(&["sources", "status", "--format", "json"]);
    assert!(out.status.success(), "{}", all_output(&out));
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let ids: BTreeSet<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 101);
    assert!(ids.contains("prefecture-38"));
    let isere = rows.iter().find(|r| r["id"] == "prefecture-38").unwrap();
    assert_eq!(isere["scheduled"], true);
    assert_eq!(isere["schedule"], "30 7 * * 1-5");
}

#[test]
fn a_bad_row_of_the_data_file_is_reported_with_its_line_and_column() {
    let sc = prefectures();
    let path = sc.path("sources/data/prefectures.csv");
    let data = std::fs::read_to_string(&path).unwrap();
    let line = data.lines().position(|l| l.starts_with("38,")).unwrap() + 1;
    std::fs::write(
        &path,
        data.replace("38,Isère,Préfecture de l'Isère,", "38,Isère,,"),
    )
    .unwrap();
    let out = sc.vigie(&["sources", "check"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "data/prefectures.csv:{line}: funder: empty value for column `funder`"
        )),
        "{stderr}"
    );
}

#[test]
fn an_unknown_placeholder_names_the_template_line_and_key() {
    let sc = prefectures();
    let path = sc.path("sources/prefectures.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let line = text
        .lines()
        .position(|l| l.starts_with("perimeter = "))
        .unwrap()
        + 1;
    std::fs::write(
        &path,
        text.replace("department:{code}", "department:{dept}"),
    )
    .unwrap();
    let out = sc.vigie(&["sources", "check"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "prefectures.toml:{line}:13: defaults.perimeter: unknown placeholder `{{dept}}`"
        )),
        "{stderr}"
    );
}

#[test]
fn an_expanded_id_taken_by_another_file_is_an_error_naming_the_row() {
    let sc = prefectures();
    let other = super::definition_at("ditp-transformation-publique", "http://127.0.0.1:9/")
        .replace(
            "id = \"ditp-transformation-publique\"",
            "id = \"prefecture-38\"",
        );
    sc.source("isere", &other);
    let out = sc.vigie(&["sources", "check"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("data/prefectures.csv:")
            && stderr.contains("id: duplicate source id `prefecture-38`: already used by"),
        "{stderr}"
    );
}

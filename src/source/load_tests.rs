//! Tests of `source::load`: one per kind of mistake a curator can make,
//! each checking the file name, the line and the field in the message.

use super::*;
use crate::domain::{Audience, CallKind, Perimeter, Theme};
use crate::source::{KindSpec, PageRule};

pub(crate) const HTML: &str = r#"id = "siaf-archives"
name = "SIAF — Archivage numérique"
funder = "Service interministériel des Archives de France"
kind = "html"
url = "https://example.gouv.fr/appels-a-projets"
schedule = "0 6 * * *"

[defaults]
audiences = ["commune", "epci"]
perimeter = "france"
themes = ["archives"]

[maps.audiences]
"Collectivités territoriales" = "commune"

[maps.perimeter]
"Occitanie (Région)" = "region:76"

[html]
item = "article.fr-card"
title = ".fr-card__title a"
link = ".fr-card__title a @href"
summary = ".fr-card__desc"
deadline = ".fr-card__end"
next_page = "a[rel=next] @href"

[html.detail]
deadline = ".date-limite"
"#;

pub(crate) const JSON: &str = r#"id = "aides-territoires"
name = "Aides-territoires"
kind = "json"
url = "https://aides-territoires.beta.gouv.fr/api/aids/"
schedule = "30 5 * * 1-5"

[json]
method = "POST"
items = "data.results"
body = { filters = { status = ["open"] }, size = 50 }

[json.query]
targeted_audiences = "commune"

[json.fields]
id = "id"
title = "name"
link = "url"
audiences = "/targeted_audiences"

[json.pagination]
page_param = "page"
page_size = 50
"#;

pub(crate) fn load(text: &str) -> Result<SourceDef, SourceError> {
    load_str(Path::new("sources/test.toml"), text)
}

/// Asserts the error names the file, the line and the field, and mentions `what`.
#[track_caller]
pub(crate) fn assert_err(text: &str, line: usize, field: &str, what: &str) -> String {
    let err = load(text).expect_err("should fail");
    let msg = err.to_string();
    let first = msg.lines().next().unwrap();
    assert!(
        first.starts_with(&format!("sources/test.toml:{line}:")),
        "wrong file/line in: {msg}"
    );
    assert!(
        first.contains(&format!(": {field}: ")),
        "no field `{field}` in: {msg}"
    );
    assert!(msg.contains(what), "no `{what}` in: {msg}");
    assert_eq!(err.line.map(|l| l as usize), Some(line), "{msg}");
    msg
}

pub(crate) fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).expect(needle) + 1
}

#[test]
fn a_valid_html_source_loads_and_compiles() {
    let def = load(HTML).unwrap();
    assert_eq!(def.id.as_str(), "siaf-archives");
    assert_eq!(def.schedule, "0 6 * * *");
    assert_eq!(
        def.defaults.audiences,
        vec![Audience::Commune, Audience::Epci]
    );
    assert_eq!(
        def.defaults.perimeter,
        Some(PerimeterSet::one(Perimeter::France))
    );
    assert_eq!(def.defaults.themes, vec![Theme::Archives]);
    assert_eq!(
        def.maps.audience("collectivites  TERRITORIALES"),
        Some(Audience::Commune)
    );
    assert_eq!(
        def.maps.perimeter("occitanie (region)"),
        Some(PerimeterSet::one(Perimeter::Region("76".into())))
    );
    let KindSpec::Html(html) = &def.spec else {
        panic!("html")
    };
    assert_eq!(html.max_pages, 5);
    let link = &html.fields.link.as_ref().unwrap().sources[0].at;
    assert!(link.css.is_some());
    assert_eq!(link.attr.as_deref(), Some("href"));
    assert!(html.detail.as_ref().unwrap().deadline.is_some());
}

#[test]
fn a_valid_json_source_loads_with_body_and_pagination() {
    let def = load(JSON).unwrap();
    let KindSpec::Json(json) = &def.spec else {
        panic!("json")
    };
    assert_eq!(json.items.segments, vec!["data", "results"]);
    assert_eq!(
        json.fields.audiences.as_ref().unwrap().sources[0]
            .at
            .segments,
        vec!["targeted_audiences"]
    );
    let Some(crate::fetch::RequestBody::Json(body)) = &json.body else {
        panic!("a JSON body: {:?}", json.body)
    };
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(body).unwrap(),
        serde_json::json!({"filters": {"status": ["open"]}, "size": 50})
    );
    assert_eq!(
        json.pagination.as_ref().unwrap().rule,
        PageRule::PageParam {
            param: "page".into(),
            start: 1
        }
    );
}

#[test]
fn a_feed_source_needs_only_a_url() {
    let text = "id = \"dgcl-feed\"\nname = \"DGCL\"\nkind = \"feed\"\nurl = \"https://x.gouv.fr/rss\"\nschedule = \"0 * * * *\"\n";
    let def = load(text).unwrap();
    assert!(matches!(def.spec, KindSpec::Feed(_)));
    let with_filter = format!("{text}[feed]\ninclude = [\"appel à projets\"]\n");
    assert!(load(&with_filter).is_ok());
}

#[test]
fn toml_syntax_errors_have_a_location() {
    let text = HTML.replace("perimeter = \"france\"", "perimeter = \"france");
    let err = load(&text).unwrap_err();
    assert_eq!(
        err.line.map(|l| l as usize),
        Some(line_of(HTML, "perimeter = \"france\"")),
        "{err}"
    );
    assert!(err.to_string().starts_with("sources/test.toml:"), "{err}");
}

#[test]
fn unknown_keys_name_the_key_and_line() {
    let text = HTML.replace(
        "summary = \".fr-card__desc\"",
        "sumary = \".fr-card__desc\"",
    );
    assert_err(
        &text,
        line_of(&text, "sumary"),
        "html.sumary",
        "unknown field `sumary`",
    );
    let text = HTML.replace("[html.detail]\n", "[html.detail]\ndeadlin = \"x\"\n");
    assert_err(
        &text,
        line_of(&text, "deadlin ="),
        "html.detail.deadlin",
        "unknown field",
    );
}

#[test]
fn a_misspelt_key_gets_a_suggestion() {
    let hint = |text: &str| load(text).expect_err("should fail").hint;
    let text = HTML.replace("summary = ", "sumary = ");
    assert_eq!(hint(&text).as_deref(), Some("did you mean `summary`?"));
    let text = HTML.replace("[html.detail]\n", "[html.detail]\ndaedline = \"x\"\n");
    assert_eq!(hint(&text).as_deref(), Some("did you mean `deadline`?"));
    // Nothing close: the keys accepted are listed in the message instead.
    let text = HTML.replace("summary = ", "colour = ");
    let err = load(&text).expect_err("should fail");
    assert!(err.message.contains("expected one of"), "{err}");
    assert!(
        err.hint
            .as_deref()
            .is_some_and(|h| h.starts_with("check the spelling")),
        "{err}"
    );
}

#[test]
fn missing_required_fields_are_named() {
    let text = HTML.replace("name = \"SIAF — Archivage numérique\"\n", "");
    assert_err(&text, 1, "name", "missing field `name`");
    let text = HTML.replace("title = \".fr-card__title a\"\n", "");
    assert_err(
        &text,
        line_of(&text, "[html]"),
        "html.title",
        "missing field `title`",
    );
    let text = JSON.replace("title = \"name\"\n", "");
    let msg = load(&text).unwrap_err().to_string();
    assert!(
        msg.contains("json.fields.title") && msg.contains("missing field `title`"),
        "{msg}"
    );
}

#[test]
fn a_bad_id_is_rejected() {
    let text = HTML.replace("\"siaf-archives\"", "\"SIAF archives\"");
    assert_err(&text, 1, "id", "invalid source id `SIAF archives`");
}

#[test]
fn urls_must_be_absolute_http() {
    let text = HTML.replace("https://example.gouv.fr/appels-a-projets", "/appels");
    assert_err(&text, 5, "url", "invalid URL `/appels`");
    let text = HTML.replace(
        "https://example.gouv.fr/appels-a-projets",
        "ftp://example.gouv.fr/x",
    );
    assert_err(&text, 5, "url", "not an http or https URL");
}

#[test]
fn cron_needs_five_valid_fields() {
    let text = HTML.replace("0 6 * * *", "0 0 6 * * *");
    assert_err(
        &text,
        6,
        "schedule",
        "expected 5 fields: minute hour day-of-month month day-of-week, e.g. `0 6 * * *`",
    );
    let text = HTML.replace("0 6 * * *", "0 25 * * *");
    assert_err(&text, 6, "schedule", "invalid cron expression `0 25 * * *`");
}

#[test]
fn kind_and_tables_must_agree() {
    let text = HTML.replace("kind = \"html\"", "kind = \"json\"");
    let msg = assert_err(
        &text,
        line_of(&text, "[html]"),
        "html",
        "kind is json but [html] is present",
    );
    assert!(msg.contains("hint:"), "{msg}");
    let text = format!("{HTML}\n[json]\nitems = \"\"\n[json.fields]\ntitle = \"t\"\n");
    assert_err(
        &text,
        line_of(&text, "[json]"),
        "json",
        "kind is html but [json] is present",
    );
    let cut = HTML.find("[html]").unwrap();
    assert_err(
        &HTML[..cut],
        4,
        "kind",
        "kind is html but there is no [html] table",
    );
    let text = HTML.replace("kind = \"html\"", "kind = \"htm\"");
    assert_err(&text, 4, "kind", "unknown variant `htm`");
}

#[test]
fn unknown_codes_list_the_expected_values() {
    let text = HTML.replace("[\"commune\", \"epci\"]", "[\"commune\", \"communes\"]");
    assert_err(
        &text,
        line_of(&text, "audiences = ["),
        "defaults.audiences",
        "unknown audience `communes`: expected one of commune, epci",
    );
    let text = HTML.replace("[\"archives\"]", "[\"archive\"]");
    assert_err(
        &text,
        line_of(&text, "themes = "),
        "defaults.themes",
        "unknown theme `archive`",
    );
    let text = HTML.replace(
        "themes = [\"archives\"]",
        "themes = [\"archives\"]\nkind = \"appel\"",
    );
    assert_err(
        &text,
        line_of(&text, "kind = \"appel\""),
        "defaults.kind",
        "unknown call kind `appel`: expected one of aap, ami",
    );
    let text = HTML.replace("= \"commune\"\n", "= \"mairie\"\n");
    assert_err(
        &text,
        line_of(&text, "mairie"),
        "maps.audiences.\"Collectivités territoriales\"",
        "unknown audience `mairie`",
    );
}

#[test]
fn defaults_and_maps_may_name_several_territories() {
    let text = HTML.replace(
        "perimeter = \"france\"",
        "perimeter = \"region:84, region:27,region:84\"",
    );
    let text = text.replace("\"region:76\"", "\"region:76,department:2A\"");
    let def = load(&text).unwrap();
    let basin = PerimeterSet::new([
        Perimeter::Region("84".into()),
        Perimeter::Region("27".into()),
    ]);
    assert_eq!(def.defaults.perimeter, basin);
    assert_eq!(
        def.maps
            .perimeter("Occitanie (Région)")
            .map(|s| s.to_string()),
        Some("region:76,department:2A".to_string())
    );
    for bad in ["region:84,", "region:84,bretagne", ","] {
        let text = HTML.replace("perimeter = \"france\"", &format!("perimeter = \"{bad}\""));
        let msg = load(&text).unwrap_err().to_string();
        assert!(msg.contains("defaults.perimeter"), "{bad}: {msg}");
    }
}

#[test]
fn bad_perimeters_are_reported_in_defaults_and_maps() {
    let text = HTML.replace("perimeter = \"france\"", "perimeter = \"region:7\"");
    assert_err(
        &text,
        line_of(&text, "region:7"),
        "defaults.perimeter",
        "invalid perimeter `region:7`",
    );
    let text = HTML.replace("\"region:76\"", "\"occitanie\"");
    assert_err(
        &text,
        line_of(&text, "\"occitanie\""),
        "maps.perimeter.\"Occitanie (Région)\"",
        "invalid perimeter `occitanie`",
    );
}

#[test]
fn map_labels_that_fold_together_must_agree() {
    let text = HTML.replace(
        "\"Collectivités territoriales\" = \"commune\"",
        "\"Collectivités territoriales\" = \"commune\"\n\"collectivites territoriales\" = \"epci\"",
    );
    let err = load(&text).unwrap_err().to_string();
    assert!(
        err.contains("maps.audiences") && err.contains("the same as"),
        "{err}"
    );
}

#[test]
fn load_dir_reports_every_bad_file_and_duplicate_ids() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.toml"), HTML).unwrap();
    std::fs::write(dir.path().join("b.toml"), HTML.replace("0 6 * * *", "nope")).unwrap();
    std::fs::write(dir.path().join("c.toml"), HTML).unwrap();
    std::fs::write(dir.path().join("d.toml"), JSON).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "ignored").unwrap();
    let (defs, errors) = load_dir(dir.path());
    let ids: Vec<&str> = defs.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, vec!["siaf-archives", "aides-territoires"]);
    assert_eq!(errors.len(), 2, "{errors:?}");
    let b = errors[0].to_string();
    assert!(b.contains("b.toml:6:") && b.contains("schedule"), "{b}");
    let c = errors[1].to_string();
    assert!(
        c.contains("c.toml:1:")
            && c.contains("duplicate source id `siaf-archives`")
            && c.contains("a.toml"),
        "{c}"
    );
    assert_eq!(defs[1].defaults.kind, None::<CallKind>);
}

#[test]
fn load_file_reports_a_missing_file() {
    let err = load_file(Path::new("sources/nope.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("sources/nope.toml: cannot read the file"),
        "{err}"
    );
}

#[test]
fn header_names_must_be_tokens() {
    let text = HTML.replace(
        "[defaults]",
        "[headers]\n\"Accept Language\" = \"fr\"\n\n[defaults]",
    );
    assert_err(
        &text,
        line_of(&text, "Accept Language"),
        "headers.\"Accept Language\"",
        "invalid header name",
    );
    let ok = HTML.replace(
        "[defaults]",
        "[headers]\nAccept = \"text/html\"\n\n[defaults]",
    );
    assert_eq!(
        load(&ok).unwrap().headers,
        vec![("Accept".to_string(), "text/html".to_string())]
    );
}

#[test]
fn header_values_expand_environment_variables() {
    let env = |name: &str| (name == "AT_TOKEN").then(|| "s3cret".to_string());
    assert_eq!(
        expand_env("Bearer ${AT_TOKEN}", env).unwrap(),
        "Bearer s3cret"
    );
    assert_eq!(
        expand_env("a $b $${x} ${AT_TOKEN}$", env).unwrap(),
        "a $b ${x} s3cret$"
    );
    let missing = expand_env("Bearer ${NOPE}", env).unwrap_err();
    assert!(missing.contains("`NOPE` is not set"), "{missing}");
    assert!(
        expand_env("${AT_TOKEN", env)
            .unwrap_err()
            .contains("closing")
    );
    assert!(
        expand_env("${1X}", env)
            .unwrap_err()
            .contains("not a valid")
    );

    // Through the loader: the real environment (cargo sets this variable).
    let text = format!(
        "{JSON}\n[headers]\nAuthorization = \"Bearer ${{CARGO_MANIFEST_DIR}}\"\nAccept = \"application/json\"\n"
    );
    let def = load(&text).unwrap();
    assert!(def.headers.contains(&(
        "Authorization".to_string(),
        format!("Bearer {}", env!("CARGO_MANIFEST_DIR"))
    )));
    assert!(
        def.headers
            .contains(&("Accept".into(), "application/json".into()))
    );
}

#[test]
fn a_missing_secret_is_a_load_error_naming_file_header_and_variable() {
    let text = format!("{JSON}\n[headers]\nX-Auth-Token = \"${{VIGIE_TEST_UNSET_SECRET_5F2B}}\"\n");
    let line = text.lines().count();
    let msg = assert_err(
        &text,
        line,
        "headers.X-Auth-Token",
        "VIGIE_TEST_UNSET_SECRET_5F2B",
    );
    assert!(msg.contains("is not set"), "{msg}");
}

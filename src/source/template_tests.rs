//! Tests of `source::template`: expansion, every mistake a curator can make
//! in a template or its data file (each error naming the file, the line and
//! the key), and properties of the data parser and the expansion.

use std::path::Path;

use proptest::prelude::*;

use super::*;
use crate::domain::{Perimeter, PerimeterSet};
use crate::source::KindSpec;

const TEMPLATE: &str = r#"id = "pref-{code|lower}"
name = "Préfecture — {name}"
funder = "{funder}"
kind = "html"
url = "{base}/Actions-de-l-Etat"
schedule = "0 6 * * 1-5"

[template]
data = "data/pref.csv"

[defaults]
perimeter = "department:{code}"
themes = ["numerique"]

[html]
item = ".fr-card"
title = ".fr-card__title"
deadline = { selector = ".fr-card__desc", capture = '(\d{1,2}/\d{2}/\d{4})' }
"#;

const DATA: &str = "# code, name, funder, base\n\
code,name,funder,base\n\
01,Ain,Préfecture de l'Ain,https://www.ain.gouv.fr\n\
2A,Corse-du-Sud,\"Préfecture de Corse-du-Sud, Ajaccio\",https://www.corse-du-sud.gouv.fr\n\
974,La Réunion,Préfecture de La Réunion,https://www.reunion.gouv.fr\n";

/// A sources folder holding `files` (relative path → text).
fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (rel, text) in files {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

fn load(files: &[(&str, &str)]) -> (Vec<SourceDef>, Vec<String>) {
    let dir = folder(files);
    let (defs, errors) = crate::source::load_dir(dir.path());
    let root = format!("{}/", dir.path().display());
    let errors = errors
        .iter()
        .map(|e| e.to_string().replace(&root, ""))
        .collect();
    (defs, errors)
}

#[test]
fn each_row_becomes_one_source_with_its_values() {
    let (defs, errors) = load(&[("pref.toml", TEMPLATE), ("data/pref.csv", DATA)]);
    assert!(errors.is_empty(), "{errors:?}");
    let ids: Vec<&str> = defs.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["pref-01", "pref-2a", "pref-974"]);
    let corse = &defs[1];
    assert_eq!(corse.name, "Préfecture — Corse-du-Sud");
    assert_eq!(
        corse.funder.as_deref(),
        Some("Préfecture de Corse-du-Sud, Ajaccio")
    );
    assert_eq!(
        corse.url.as_str(),
        "https://www.corse-du-sud.gouv.fr/Actions-de-l-Etat"
    );
    assert_eq!(
        corse.defaults.perimeter,
        Some(PerimeterSet::one(Perimeter::Department("2A".into())))
    );
    let row = corse.template.as_ref().unwrap();
    assert_eq!(row.line, 4);
    assert!(row.data.ends_with("data/pref.csv"));
    assert_eq!(defs[0].funder.as_deref(), Some("Préfecture de l'Ain"));
}

#[test]
fn braces_outside_the_placeholder_keys_are_left_alone() {
    // The html deadline capture holds `{1,2}`: not a placeholder.
    let (defs, errors) = load(&[("pref.toml", TEMPLATE), ("data/pref.csv", DATA)]);
    assert!(errors.is_empty(), "{errors:?}");
    let KindSpec::Html(html) = &defs[0].spec else {
        panic!("an html source")
    };
    assert!(html.fields.deadline.is_some());
}

#[test]
fn double_braces_are_literal_braces() {
    let t = TEMPLATE.replace("Préfecture — {name}", "Préfecture {{{name}}}");
    let (defs, errors) = load(&[("pref.toml", &t), ("data/pref.csv", DATA)]);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(defs[0].name, "Préfecture {Ain}");
}

fn only_error(files: &[(&str, &str)]) -> String {
    let (_, errors) = load(files);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    errors[0].clone()
}

#[test]
fn an_unknown_placeholder_names_the_line_the_key_and_the_columns() {
    let t = TEMPLATE.replace("department:{code}", "department:{departement}");
    let e = only_error(&[("pref.toml", &t), ("data/pref.csv", DATA)]);
    assert!(
        e.starts_with("pref.toml:12:13: defaults.perimeter: unknown placeholder `{departement}`"),
        "{e}"
    );
    assert!(
        e.contains("`{code}`, `{name}`, `{funder}`, `{base}`"),
        "{e}"
    );
}

#[test]
fn an_unknown_filter_is_an_error() {
    let t = TEMPLATE.replace("{code|lower}", "{code|slug}");
    let e = only_error(&[("pref.toml", &t), ("data/pref.csv", DATA)]);
    assert!(
        e.starts_with("pref.toml:1:6: id: unknown filter `slug`"),
        "{e}"
    );
}

#[test]
fn a_row_with_a_missing_value_names_the_data_file_line_and_column() {
    let data = DATA.replace("974,La Réunion,", "974,,");
    let e = only_error(&[("pref.toml", TEMPLATE), ("data/pref.csv", &data)]);
    assert!(
        e.starts_with("data/pref.csv:5: name: empty value for column `name`"),
        "{e}"
    );
}

#[test]
fn a_row_with_too_many_values_names_its_line() {
    let data = DATA.replace("Préfecture de La Réunion", "Préfecture de La Réunion,extra");
    let e = only_error(&[("pref.toml", TEMPLATE), ("data/pref.csv", &data)]);
    assert!(
        e.starts_with("data/pref.csv:5: this row has 5 value(s), the header names 4"),
        "{e}"
    );
}

#[test]
fn a_bad_header_is_an_error() {
    let data = DATA.replace("code,name,funder,base", "code,name,funder,code");
    let e = only_error(&[("pref.toml", TEMPLATE), ("data/pref.csv", &data)]);
    assert!(
        e.starts_with("data/pref.csv:2: code: column `code` is named twice"),
        "{e}"
    );
    let data = DATA.replace("code,name,funder,base", "code,nom du site,funder,base");
    let e = only_error(&[("pref.toml", TEMPLATE), ("data/pref.csv", &data)]);
    assert!(e.contains("invalid column name `nom du site`"), "{e}");
}

#[test]
fn a_missing_data_file_names_the_template_key() {
    let e = only_error(&[("pref.toml", TEMPLATE)]);
    assert!(
        e.starts_with("pref.toml:9:8: template.data: cannot read the data file"),
        "{e}"
    );
    let t = TEMPLATE.replace("data = \"data/pref.csv\"", "data = \"/etc/pref.csv\"");
    let e = only_error(&[("pref.toml", &t), ("data/pref.csv", DATA)]);
    assert!(
        e.contains("template.data: invalid data file `/etc/pref.csv`"),
        "{e}"
    );
    let t = TEMPLATE.replace(
        "data = \"data/pref.csv\"",
        "data = \"data/pref.csv\"\nsheet = 1",
    );
    let e = only_error(&[("pref.toml", &t), ("data/pref.csv", DATA)]);
    assert!(e.contains("template: unknown field `sheet`"), "{e}");
}

#[test]
fn two_rows_with_the_same_id_are_an_error_naming_the_second_row() {
    let data = DATA.replace("974,La Réunion", "01,La Réunion");
    let (defs, errors) = load(&[("pref.toml", TEMPLATE), ("data/pref.csv", &data)]);
    assert_eq!(defs.len(), 2);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with(
            "data/pref.csv:5: id: this row expands to the source id `pref-01`, already given by line 3"
        ),
        "{}",
        errors[0]
    );
}

#[test]
fn an_expanded_id_colliding_with_another_file_is_an_error_naming_the_row() {
    let other = crate::source::load::tests::HTML.replace("siaf-archives", "pref-974");
    let (defs, errors) = load(&[
        ("pref.toml", TEMPLATE),
        ("data/pref.csv", DATA),
        ("autre.toml", &other),
    ]);
    assert_eq!(defs.len(), 3);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0]
            .starts_with("data/pref.csv:5: id: duplicate source id `pref-974`: already used by"),
        "{}",
        errors[0]
    );
    assert!(errors[0].contains("autre.toml"), "{}", errors[0]);
}

#[test]
fn a_template_id_without_placeholder_is_an_error() {
    let t = TEMPLATE.replace("pref-{code|lower}", "pref");
    let e = only_error(&[("pref.toml", &t), ("data/pref.csv", DATA)]);
    assert!(
        e.starts_with("pref.toml:1:6: id: a template's id must hold a placeholder"),
        "{e}"
    );
}

#[test]
fn an_error_every_row_meets_is_reported_once() {
    let t = TEMPLATE.replace("0 6 * * 1-5", "0 6 * *");
    let e = only_error(&[("pref.toml", &t), ("data/pref.csv", DATA)]);
    assert!(
        e.starts_with("pref.toml:6:12: schedule: invalid cron expression"),
        "{e}"
    );
    assert!(e.contains("(row: every row of "), "{e}");
}

#[test]
fn an_error_of_one_row_names_it() {
    // A value that makes one row's perimeter invalid.
    let data = DATA.replace("974,La Réunion", "9x4,La Réunion");
    let (defs, errors) = load(&[("pref.toml", TEMPLATE), ("data/pref.csv", &data)]);
    assert_eq!(defs.len(), 2);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("pref.toml:1:6: id:") || errors[0].contains("defaults.perimeter"),
        "{}",
        errors[0]
    );
    assert!(errors[0].contains("data/pref.csv line 5)"), "{}", errors[0]);
}

#[test]
fn a_template_file_is_refused_by_the_single_file_loader() {
    let dir = folder(&[("pref.toml", TEMPLATE), ("data/pref.csv", DATA)]);
    let e = crate::source::load_file(&dir.path().join("pref.toml")).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("template"));
    let (defs, errors) = crate::source::load_path(&dir.path().join("pref.toml"));
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(defs.len(), 3);
}

#[test]
fn values_are_written_as_toml_strings() {
    assert_eq!(toml_basic_string(r#"a "b" \c"#), r#""a \"b\" \\c""#);
    assert_eq!(toml_basic_string("l'Ain"), "\"l'Ain\"");
}

/// A cell value as curators write them: accents, apostrophes, quotes,
/// backslashes, commas, braces.
fn cell() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9éèàçôÎ' \"\\\\,{}|.:/-]{1,24}"
        .prop_map(|s| s.trim().to_string())
        .prop_filter("a non-empty cell", |s| !s.is_empty())
}

fn csv_field(value: &str) -> String {
    format!("\"{}\"", value.replace('"', "\"\""))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever bytes the data file holds, parsing returns a table or an
    /// error naming a line of it; it never panics.
    #[test]
    fn the_data_parser_never_panics(text in "(?s).{0,300}") {
        match parse_data(Path::new("data.csv"), &text) {
            Ok(table) => {
                prop_assert!(!table.rows.is_empty());
                for row in &table.rows {
                    prop_assert_eq!(row.values.len(), table.columns.len());
                    prop_assert!(row.values.iter().all(|v| !v.is_empty()));
                }
            }
            Err(e) => {
                prop_assert!(e.line.is_some());
                prop_assert_eq!(e.path, Path::new("data.csv"));
            }
        }
    }

    /// Any value, quoted in the CSV, reaches the expanded source exactly:
    /// TOML escaping and CSV quoting round-trip.
    #[test]
    fn any_value_round_trips_into_the_expanded_source(name in cell(), funder in cell()) {
        let data = format!(
            "code,name,funder,base\n01,{},{},https://www.ain.gouv.fr\n",
            csv_field(&name),
            csv_field(&funder)
        );
        let t = TEMPLATE.replace("Préfecture — {name}", "{name}");
        let (defs, errors) = load(&[("pref.toml", &t), ("data/pref.csv", &data)]);
        prop_assert!(errors.is_empty(), "{:?}", errors);
        prop_assert_eq!(&defs[0].name, &name);
        prop_assert_eq!(defs[0].funder.as_deref(), Some(funder.as_str()));
    }

    /// Placeholder splitting: text without braces is one piece, and every
    /// piece's text and columns put back together give the input when it
    /// has no escapes.
    #[test]
    fn pieces_rebuild_the_text(s in "[a-z{}|_ ]{0,40}") {
        let rebuilt: String = pieces(&s)
            .iter()
            .map(|p| match p {
                Piece::Text(t) => t.replace('{', "{{").replace('}', "}}"),
                Piece::Column { name, filter: None } => format!("{{{name}}}"),
                Piece::Column { name, filter: Some(f) } => format!("{{{name}|{f}}}"),
            })
            .collect();
        // Re-splitting the rebuilt text gives the same pieces.
        prop_assert_eq!(pieces(&rebuilt), pieces(&s));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// A template mangled anywhere (a cut, an insertion) loads or gives
    /// errors naming the template or its data file; it never panics.
    #[test]
    fn a_mangled_template_loads_or_names_its_files(
        at in 0usize..2000,
        cut in 0usize..40,
        insert in "[{}|\"'a-z\\[\\]=\n ]{0,12}",
    ) {
        let mut text = TEMPLATE.to_string();
        let mut start = at % (text.len() + 1);
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = (start + cut).min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.replace_range(start..end, &insert);
        let dir = folder(&[("pref.toml", &text), ("data/pref.csv", DATA)]);
        let path = dir.path().join("pref.toml");
        let (_, errors) = crate::source::load_path(&path);
        for e in errors {
            prop_assert!(
                e.path == path || e.path == dir.path().join("data/pref.csv"),
                "{e}"
            );
            prop_assert!(!e.message.trim().is_empty());
        }
    }
}

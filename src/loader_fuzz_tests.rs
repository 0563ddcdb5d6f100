//! Curator-written files never crash Vigie: every shipped source
//! definition, the theme rules and the configuration, mutated at random
//! (lines dropped, doubled or replaced, values swapped for hostile ones,
//! text cut anywhere), either load or give an error that names the file.
//! A panic fails the property.

use std::path::Path;

use proptest::prelude::*;

use crate::config::Config;
use crate::normalize::themes::ThemeRules;
use crate::source::load::load_str;

/// Values a curator (or a bad merge) may leave after `=`.
const HOSTILE: &[&str] = &[
    "\"\"",
    "0",
    "-1",
    "99999999999999999999",
    "1e400",
    "true",
    "[",
    "[]",
    "{}",
    "[1, \"a\"]",
    "\"[[\"",
    "\"a[href\"",
    "\"@\"",
    "\"div @\"",
    "\"::before\"",
    "\"* * *\"",
    "\"60 * * * *\"",
    "\"/relative\"",
    "\"javascript:alert(1)\"",
    "\"$.items[\"",
    "\"${UNSET_VARIABLE}\"",
    "\"\\u0000\"",
    "\"é\\u202e\"",
    "'''\nmulti\nline'''",
];

/// One edit of a file's text.
#[derive(Debug, Clone)]
enum Edit {
    DropLine(usize),
    DoubleLine(usize),
    ReplaceLine(usize, String),
    HostileValue(usize, usize),
    Insert(usize, String),
    CutAt(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<usize>().prop_map(Edit::DropLine),
        any::<usize>().prop_map(Edit::DoubleLine),
        (any::<usize>(), "\\PC{0,40}").prop_map(|(i, s)| Edit::ReplaceLine(i, s)),
        (any::<usize>(), any::<usize>()).prop_map(|(i, v)| Edit::HostileValue(i, v)),
        (any::<usize>(), "[a-z_.]{1,12} = \\PC{0,20}").prop_map(|(i, s)| Edit::Insert(i, s)),
        any::<usize>().prop_map(Edit::CutAt),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for e in edits {
        let n = lines.len().max(1);
        match e {
            Edit::DropLine(i) if !lines.is_empty() => {
                lines.remove(i % n);
            }
            Edit::DoubleLine(i) if !lines.is_empty() => {
                let l = lines[i % n].clone();
                lines.insert(i % n, l);
            }
            Edit::ReplaceLine(i, s) if !lines.is_empty() => lines[i % n] = s.clone(),
            Edit::HostileValue(i, v) if !lines.is_empty() => {
                let l = &mut lines[i % n];
                if let Some(eq) = l.find('=') {
                    *l = format!("{}= {}", &l[..eq], HOSTILE[v % HOSTILE.len()]);
                }
            }
            Edit::Insert(i, s) => lines.insert(i % (lines.len() + 1), s.clone()),
            Edit::CutAt(k) => {
                let joined = lines.join("\n");
                let cut = joined
                    .char_indices()
                    .map(|(i, _)| i)
                    .nth(k % (joined.chars().count() + 1))
                    .unwrap_or(joined.len());
                lines = joined[..cut].lines().map(str::to_string).collect();
            }
            _ => {}
        }
    }
    lines.join("\n")
}

fn shipped(dir: &str) -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<(String, String)> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p.display().to_string(), text)
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no TOML file in {dir}");
    files
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn mutated_source_definitions_load_or_name_the_file(
        which in any::<usize>(),
        edits in proptest::collection::vec(edit(), 1..5),
    ) {
        let files = shipped("sources");
        let (path, text) = &files[which % files.len()];
        let mutated = apply(text, &edits);
        if let Err(e) = load_str(Path::new(path), &mutated) {
            prop_assert_eq!(e.path.as_path(), Path::new(path));
            prop_assert!(!e.message.trim().is_empty(), "empty message: {e:?}");
            prop_assert!(e.to_string().starts_with(path.as_str()), "{e}");
            if let Some(line) = e.line {
                prop_assert!(line as usize <= mutated.lines().count() + 1, "line {line} past the end: {e}");
            }
        }
    }

    #[test]
    fn arbitrary_text_as_a_source_definition_is_an_error_not_a_crash(text in "\\PC{0,200}") {
        let path = Path::new("sources/garbage.toml");
        if let Err(e) = load_str(path, &text) {
            prop_assert_eq!(e.path.as_path(), path);
            prop_assert!(e.to_string().starts_with("sources/garbage.toml"), "{e}");
        }
    }

    #[test]
    fn mutated_theme_rules_load_or_name_the_file(edits in proptest::collection::vec(edit(), 1..5)) {
        let (path, text) = shipped("config").into_iter().find(|(p, _)| p.ends_with("themes.toml")).unwrap();
        if let Err(e) = ThemeRules::parse(&apply(&text, &edits), &path) {
            prop_assert!(format!("{e:#}").contains(path.as_str()), "{e:#}");
        }
    }
}

proptest! {
    // Each case writes a file: fewer of them.
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn mutated_configuration_loads_or_names_the_file(edits in proptest::collection::vec(edit(), 1..5)) {
        let (_, text) = shipped("config").into_iter().find(|(p, _)| p.ends_with("vigie.toml")).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("vigie.toml");
        std::fs::write(&file, apply(&text, &edits)).unwrap();
        if let Err(e) = Config::load(Some(&file)) {
            let shown = format!("{e:#}");
            prop_assert!(
                shown.contains(&file.display().to_string()) || shown.starts_with("environment variable"),
                "{shown}"
            );
        }
    }
}

#[path = "loader_fuzz_values.rs"]
mod values;

//! The module layering the design promises, checked on the source text:
//! no two top-level modules of `src/` import each other, directly or
//! through others, and the pipeline stages never import the capabilities
//! built above them (the daemon, the public web, the demo, the command
//! line, the scaffolder). Test modules are exempt: they may reach across.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level module → the top-level modules its non-test code names as
/// `crate::<module>`, with one file that does it.
fn imports() -> BTreeMap<String, BTreeMap<String, String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut deps: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path
                .strip_prefix(&src)
                .unwrap()
                .to_string_lossy()
                .to_string();
            if !rel.ends_with(".rs") || rel.contains("test") {
                continue;
            }
            let top = rel
                .split('/')
                .next()
                .unwrap()
                .trim_end_matches(".rs")
                .to_string();
            if top == "lib" || top == "main" {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for line in text.lines() {
                let code = line.split("//").next().unwrap_or("");
                for (at, _) in code.match_indices("crate::") {
                    let name: String = code[at + 7..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if !name.is_empty() && name != top {
                        deps.entry(top.clone())
                            .or_default()
                            .entry(name)
                            .or_insert_with(|| rel.clone());
                    }
                }
            }
        }
    }
    deps
}

/// Every module reachable from `from` through imports.
fn reachable(deps: &BTreeMap<String, BTreeMap<String, String>>, from: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![from.to_string()];
    while let Some(m) = todo.pop() {
        for next in deps.get(&m).into_iter().flat_map(|d| d.keys()) {
            if seen.insert(next.clone()) {
                todo.push(next.clone());
            }
        }
    }
    seen
}

#[test]
fn no_top_level_module_imports_itself_through_others() {
    let deps = imports();
    assert!(deps.len() > 10, "the scan found the modules: {deps:?}");
    let mut circles = Vec::new();
    for (module, direct) in &deps {
        for (next, file) in direct {
            if reachable(&deps, next).contains(module) {
                circles.push(format!("{module} → {next} ({file}) → … → {module}"));
            }
        }
    }
    assert!(
        circles.is_empty(),
        "import circles:\n{}",
        circles.join("\n")
    );
}

#[test]
fn pipeline_stages_never_import_the_capabilities_above_them() {
    let deps = imports();
    let above = ["cli", "service", "web", "demo", "scaffold"];
    let stages = [
        "source",
        "fetch",
        "extract",
        "normalize",
        "store",
        "dedup",
        "crawl",
        "digest",
        "deliver",
        "subscribers",
        "matching",
        "territory",
        "domain",
        "config",
    ];
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for stage in stages {
        assert!(
            src.join(stage).is_dir() || src.join(format!("{stage}.rs")).is_file(),
            "no module `{stage}` in src/"
        );
        for (next, file) in deps.get(stage).into_iter().flatten() {
            assert!(
                !above.contains(&next.as_str()),
                "the stage `{stage}` imports `{next}` in src/{file}"
            );
        }
    }
}

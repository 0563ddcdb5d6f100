//! Loading the source folder, at start and on reload: which sources the
//! daemon schedules (the valid, enabled ones), and what changed since the
//! previous load. A file that no longer loads keeps its previous
//! definition and is reported; it never stops the daemon.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::source::{self, SourceDef};

/// One scheduled source and the hash of the file it came from.
#[derive(Debug, Clone)]
pub(super) struct Loaded {
    pub def: Arc<SourceDef>,
    hash: [u8; 32],
}

/// The scheduled sources, by id.
#[derive(Debug, Clone, Default)]
pub(super) struct SourceSet {
    pub by_id: BTreeMap<String, Loaded>,
}

/// What a load changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Changes {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// Definitions whose file changed (schedule or anything else).
    pub changed: Vec<String>,
    /// Of `changed`, those whose schedule changed.
    pub rescheduled: Vec<String>,
    /// Files that failed to load, with why.
    pub errors: Vec<String>,
}

/// The hash of what a definition is read from: its file, and for a source
/// expanded from a template, the template's data file too.
fn hash_def(def: &SourceDef) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(std::fs::read(&def.path).unwrap_or_default());
    if let Some(row) = &def.template {
        hasher.update(std::fs::read(&row.data).unwrap_or_default());
    }
    hasher.finalize().into()
}

/// Loads `dir`; `previous` supplies the definitions kept for files that no
/// longer load.
pub(super) fn load(dir: &Path, previous: &SourceSet) -> (SourceSet, Changes) {
    let (defs, errors) = source::load_dir(dir);
    let mut next = SourceSet::default();
    for def in defs.into_iter().filter(|d| d.enabled) {
        let hash = hash_def(&def);
        next.by_id.insert(
            def.id.to_string(),
            Loaded {
                def: Arc::new(def),
                hash,
            },
        );
    }
    let mut changes = Changes::default();
    for e in &errors {
        changes.errors.push(e.to_string());
        let unreadable_dir = e.path == dir;
        for (id, old) in &previous.by_id {
            let same_file = old.def.path == e.path
                || old
                    .def
                    .template
                    .as_ref()
                    .is_some_and(|row| row.data == e.path);
            if (same_file || unreadable_dir) && !next.by_id.contains_key(id) {
                next.by_id.insert(id.clone(), old.clone());
            }
        }
    }
    for (id, new) in &next.by_id {
        match previous.by_id.get(id) {
            None => changes.added.push(id.clone()),
            Some(old) if old.hash != new.hash => {
                changes.changed.push(id.clone());
                if old.def.schedule != new.def.schedule {
                    changes.rescheduled.push(id.clone());
                }
            }
            Some(_) => {}
        }
    }
    changes.removed = previous
        .by_id
        .keys()
        .filter(|id| !next.by_id.contains_key(*id))
        .cloned()
        .collect();
    (next, changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(id: &str, schedule: &str) -> String {
        format!(
            "id = \"{id}\"\nname = \"{id}\"\nkind = \"feed\"\nurl = \"https://example.gouv.fr/{id}.xml\"\n\
             schedule = \"{schedule}\"\n[defaults]\nperimeter = \"france\"\n[feed]\n"
        )
    }

    #[test]
    fn a_reload_reports_added_removed_and_rescheduled_and_keeps_a_broken_file() {
        let dir = tempfile::tempdir().unwrap();
        let write = |id: &str, text: &str| {
            std::fs::write(dir.path().join(format!("{id}.toml")), text).unwrap()
        };
        write("src-a", &source("src-a", "0 6 * * *"));
        write("src-b", &source("src-b", "0 7 * * *"));
        let (first, changes) = load(dir.path(), &SourceSet::default());
        assert!(changes.errors.is_empty(), "{:?}", changes.errors);
        assert_eq!(changes.added, ["src-a", "src-b"]);

        write("src-a", &source("src-a", "30 6 * * *"));
        write("src-b", "id = \"src-b\"\nname = ");
        write("src-c", &source("src-c", "0 8 * * *"));
        let (second, changes) = load(dir.path(), &first);
        assert_eq!(changes.added, ["src-c"]);
        assert_eq!(changes.changed, ["src-a"]);
        assert_eq!(changes.rescheduled, ["src-a"]);
        assert!(changes.removed.is_empty(), "{changes:?}");
        assert_eq!(changes.errors.len(), 1);
        assert!(changes.errors[0].contains("src-b.toml"), "{changes:?}");
        assert_eq!(
            second.by_id["src-b"].def.schedule, "0 7 * * *",
            "previous definition kept"
        );

        std::fs::remove_file(dir.path().join("src-c.toml")).unwrap();
        let (third, changes) = load(dir.path(), &second);
        assert_eq!(changes.removed, ["src-c"]);
        assert!(third.by_id.contains_key("src-b"));
    }

    #[test]
    fn an_unreadable_folder_keeps_every_source() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("src-a.toml"), source("src-a", "0 6 * * *")).unwrap();
        let (first, _) = load(dir.path(), &SourceSet::default());
        let gone = dir.path().join("nope");
        let (second, changes) = load(&gone, &first);
        assert!(second.by_id.contains_key("src-a"));
        assert!(changes.removed.is_empty());
        assert_eq!(changes.errors.len(), 1);
    }

    const TEMPLATE: &str = "id = \"pref-{code}\"\nname = \"Préfecture {code}\"\nkind = \"feed\"\n\
        url = \"https://www.{host}/flux.xml\"\nschedule = \"0 6 * * *\"\n\
        [template]\ndata = \"pref.csv\"\n[defaults]\nperimeter = \"department:{code}\"\n[feed]\n";

    #[test]
    fn a_template_row_is_added_and_a_broken_data_file_keeps_the_expanded_sources() {
        let dir = tempfile::tempdir().unwrap();
        let data = |text: &str| std::fs::write(dir.path().join("pref.csv"), text).unwrap();
        std::fs::write(dir.path().join("pref.toml"), TEMPLATE).unwrap();
        data("code,host\n01,ain.gouv.fr\n");
        let (first, changes) = load(dir.path(), &SourceSet::default());
        assert!(changes.errors.is_empty(), "{:?}", changes.errors);
        assert_eq!(changes.added, ["pref-01"]);

        data("code,host\n01,ain.gouv.fr\n38,isere.gouv.fr\n");
        let (second, changes) = load(dir.path(), &first);
        assert_eq!(changes.added, ["pref-38"]);
        assert_eq!(changes.changed, ["pref-01"], "its data file changed");
        assert!(changes.rescheduled.is_empty());

        data("code,host\n01,ain.gouv.fr\n38\n");
        let (third, changes) = load(dir.path(), &second);
        assert_eq!(changes.errors.len(), 1, "{changes:?}");
        assert!(changes.errors[0].contains("pref.csv:3"), "{changes:?}");
        assert!(changes.removed.is_empty(), "{changes:?}");
        assert!(third.by_id.contains_key("pref-01") && third.by_id.contains_key("pref-38"));
    }
}

//! Which SQLite files the store opens: its own, a new or empty one, and a
//! Vigie database from before `application_id`; a file that belongs to
//! another application is refused and left untouched.

use rusqlite::Connection;

use super::*;

fn application_id(path: &Path) -> i64 {
    Connection::open(path)
        .unwrap()
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .unwrap()
}

fn tables(path: &Path) -> Vec<String> {
    let conn = Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn a_new_file_is_marked_as_vigie_s() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    drop(Store::open(&path).unwrap());
    assert_eq!(application_id(&path), i64::from(APPLICATION_ID));
    // And opened again.
    drop(Store::open(&path).unwrap());
}

#[test]
fn an_empty_file_is_fine() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.db");
    std::fs::write(&path, b"").unwrap();
    drop(Store::open(&path).unwrap());
    assert_eq!(application_id(&path), i64::from(APPLICATION_ID));
}

#[test]
fn a_vigie_database_from_before_application_id_is_adopted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    drop(Store::open(&path).unwrap());
    Connection::open(&path)
        .unwrap()
        .pragma_update(None, "application_id", 0)
        .unwrap();
    let store = Store::open(&path).unwrap();
    assert_eq!(store.count_calls().unwrap(), 0);
    drop(store);
    assert_eq!(application_id(&path), i64::from(APPLICATION_ID));
}

#[test]
fn another_application_s_database_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.db");
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); PRAGMA user_version = 3;",
    )
    .unwrap();
    drop(conn);
    let err = format!("{:#}", Store::open(&path).err().expect("refused"));
    assert!(
        err.contains("notes.db") && err.contains("not a Vigie database"),
        "{err}"
    );
    assert!(err.contains("--db"), "says what to do: {err}");
    assert_eq!(tables(&path), vec!["notes".to_string()]);
    assert_eq!(application_id(&path), 0);
}

#[test]
fn a_file_marked_by_another_application_is_refused_even_when_empty() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    let conn = Connection::open(&path).unwrap();
    conn.pragma_update(None, "application_id", 0x4750_4b47)
        .unwrap();
    drop(conn);
    let err = format!("{:#}", Store::open(&path).err().expect("refused"));
    assert!(err.contains("0x47504b47"), "{err}");
    assert!(tables(&path).is_empty());
}

#[test]
fn a_file_that_is_not_sqlite_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("list.csv");
    std::fs::write(&path, "email,name\n".repeat(200)).unwrap();
    let err = format!("{:#}", Store::open(&path).err().expect("refused"));
    assert!(err.contains("list.csv"), "{err}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        "email,name\n".repeat(200).as_bytes()
    );
}

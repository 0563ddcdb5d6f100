//! Operators' commands as a real process: `vigie config show` (layers and
//! masked secrets) and `vigie backup` (a consistent, checked copy while
//! another process writes).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use vigie::domain::Audience;
use vigie::store::Store;
use vigie::subscribers::{EmailAddress, Frequency, Profile, SubscriberStatus};

use crate::support::{all_output, text};

/// `vigie ARGS` in `dir`, with no `VIGIE_*` variable but `env`.
fn vigie(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("vigie"));
    cmd.current_dir(dir).args(args);
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("VIGIE_")) {
        cmd.env_remove(k);
    }
    cmd.envs(env.iter().copied());
    cmd.output().expect("vigie runs")
}

#[test]
fn config_show_names_the_layer_of_each_value_and_masks_the_smtp_password() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("prod.toml"),
        "[digest]\nsite_url = \"https://vigie.example.fr\"\n[mail]\nsmtp_host = \"smtp.example.fr\"\n",
    )
    .unwrap();
    let out = vigie(
        dir.path(),
        &[
            "config",
            "show",
            "--config",
            "prod.toml",
            "--db",
            "/srv/vigie.db",
        ],
        &[
            ("VIGIE_MAIL__SMTP_PASSWORD", "correct-horse-battery"),
            ("VIGIE_CRAWL__CONCURRENCY", "3"),
        ],
    );
    assert!(out.status.success(), "{}", all_output(&out));
    let shown = text(&out.stdout);
    assert!(!shown.contains("correct-horse-battery"), "{shown}");
    let line = |key: &str| -> String {
        shown
            .lines()
            .find(|l| l.starts_with(&format!("{key} = ")))
            .unwrap_or_else(|| panic!("no `{key}` in\n{shown}"))
            .to_string()
    };
    let pw = line("smtp_password");
    assert!(pw.contains("\"********\""), "{pw}");
    assert!(pw.ends_with("# env VIGIE_MAIL__SMTP_PASSWORD"), "{pw}");
    assert!(line("concurrency").ends_with("# env VIGIE_CRAWL__CONCURRENCY"));
    assert!(line("concurrency").starts_with("concurrency = 3 "));
    assert!(line("site_url").contains("https://vigie.example.fr"));
    assert!(line("site_url").ends_with("# file prod.toml"));
    assert!(line("smtp_host").ends_with("# file prod.toml"));
    assert!(line("path").contains("\"/srv/vigie.db\""));
    assert!(line("path").ends_with("# flag --db"));
    assert!(line("send_hour").ends_with("# default"));
    // The output is itself a configuration file.
    let back: toml::Table = toml::from_str(&shown).expect("config show prints TOML");
    assert_eq!(back["mail"]["smtp_host"].as_str(), Some("smtp.example.fr"));
}

#[test]
fn config_show_refuses_a_misspelt_key_as_loading_does() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("vigie.toml"),
        "[mail]\nsmtp_pasword = \"x\"\n",
    )
    .unwrap();
    let out = vigie(dir.path(), &["config", "show"], &[]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("smtp_pasword") && err.contains("did you mean"),
        "{err}"
    );
    assert!(!text(&out.stdout).contains("smtp_pasword"));
}

/// Rows per writer transaction: a copy that caught half a transaction
/// would hold a count that is not a multiple of it.
const BATCH: i64 = 50;

const WRITER: &str = r#"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
c.execute("PRAGMA journal_mode=WAL")
c.execute("CREATE TABLE IF NOT EXISTS backup_probe (n INTEGER PRIMARY KEY, payload TEXT NOT NULL)")
n = 0
while True:
    c.execute("BEGIN IMMEDIATE")
    for _ in range(int(sys.argv[2])):
        n += 1
        c.execute("INSERT INTO backup_probe VALUES (?, ?)", (n, "x" * 400))
    c.execute("COMMIT")
    print(n, flush=True)
"#;

fn add_subscriber(store: &Store, email: &str, territory: &str) {
    let profile = Profile {
        email: EmailAddress::parse(email).unwrap(),
        name: "Mairie".into(),
        audience: Audience::Commune,
        territory: territory.parse().unwrap(),
        themes: vec![],
        keywords: vec![],
        frequency: Frequency::Daily,
    };
    store
        .add_subscriber(&profile, SubscriberStatus::Active, Utc::now())
        .unwrap();
}

fn probe(db: &Path) -> (i64, i64, String, i64) {
    let c = rusqlite::Connection::open(db).unwrap();
    let (count, max): (i64, i64) = c
        .query_row(
            "SELECT count(*), coalesce(max(n), 0) FROM backup_probe",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let check: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    let subscribers: i64 = c
        .query_row("SELECT count(*) FROM subscribers", [], |r| r.get(0))
        .unwrap();
    (count, max, check, subscribers)
}

#[test]
fn backup_copies_a_database_another_process_is_writing_and_the_copy_checks_out() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("vigie.db");
    {
        let store = Store::open(&db).unwrap();
        add_subscriber(&store, "mairie@cergy.example", "commune:95127");
        add_subscriber(&store, "mairie@pontoise.example", "commune:95500");
    }
    let mut writer = Command::new("python3")
        .args(["-c", WRITER])
        .arg(&db)
        .arg(BATCH.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs (it is needed by the SMTP sink too)");
    let mut lines = BufReader::new(writer.stdout.take().unwrap()).lines();
    // Let the writer build a few megabytes first, so that the copy takes
    // a while and the writer commits during it.
    let mut written = 0;
    let started = Instant::now();
    while written < 10_000 && started.elapsed() < Duration::from_secs(60) {
        written = lines.next().unwrap().unwrap().parse().unwrap();
    }
    let before = written;

    let copy = dir.path().join("copy.db");
    let out = vigie(
        dir.path(),
        &[
            "backup",
            "--db",
            db.to_str().unwrap(),
            copy.to_str().unwrap(),
        ],
        &[],
    );
    // The writer is still running: see one more commit, then stop it.
    // Every row committed by then is in the source (the printed counts
    // lag behind the pipe), so its count bounds the copy's from above.
    let _ = lines.next().unwrap().unwrap();
    writer.kill().unwrap();
    writer.wait().unwrap();
    let (after, ..) = probe(&db);
    assert!(out.status.success(), "{}", all_output(&out));

    let (count, max, check, subscribers) = probe(&copy);
    assert_eq!(check, "ok");
    assert_eq!(subscribers, 2);
    assert_eq!(count, max, "the copy holds every row up to its last one");
    assert_eq!(count % BATCH, 0, "no half transaction in the copy: {count}");
    assert!(
        (before..=after).contains(&count),
        "the copy is a state between the start and the end of the backup: {before} <= {count} <= {after}"
    );
    let report = text(&out.stdout);
    let version = vigie::store::backup::BackupReport::latest_version();
    assert!(
        report.contains("integrity check ok")
            && report.contains(&format!("schema version {version} "))
            && report.contains("2 subscribers")
            && report.contains(&format!(
                "{} bytes",
                std::fs::metadata(&copy).unwrap().len()
            )),
        "{report}"
    );
    // A self-contained file: no WAL beside it.
    assert!(!dir.path().join("copy.db-wal").exists());

    // An existing file is never overwritten without --force.
    let again = vigie(
        dir.path(),
        &[
            "backup",
            "--db",
            db.to_str().unwrap(),
            copy.to_str().unwrap(),
        ],
        &[],
    );
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("--force"),
        "{}",
        all_output(&again)
    );
    assert_eq!(probe(&copy).0, count, "the first copy is untouched");
    let forced = vigie(
        dir.path(),
        &[
            "backup",
            "--force",
            "--db",
            db.to_str().unwrap(),
            copy.to_str().unwrap(),
        ],
        &[],
    );
    assert!(forced.status.success(), "{}", all_output(&forced));
    assert!(
        probe(&copy).0 >= after,
        "--force replaced the copy with a newer one"
    );
}

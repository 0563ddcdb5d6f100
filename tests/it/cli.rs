//! The `vigie` command line as a shell user meets it: output cut short by a
//! pipe (`vigie calls | head -1`) ends quietly with status 0, whatever the
//! command and the format.

use std::io::Read;
use std::process::{Command, Stdio};

use chrono::{FixedOffset, TimeZone, Utc};
use vigie::domain::{Audience, CallKind, Perimeter, Recurrence, Theme};
use vigie::normalize::item::{ItemKey, NormalizedItem};
use vigie::store::Store;

use crate::support::{Scenario, all_output, text};

/// Words to build titles that dedup keeps apart (no two share a pair).
const WORDS: &[&str] = &[
    "archives",
    "mobilité",
    "énergie",
    "forêt",
    "culture",
    "santé",
    "sport",
    "eau",
    "numérique",
    "école",
    "patrimoine",
    "tourisme",
    "agriculture",
    "jeunesse",
    "logement",
    "commerce",
];

fn title(n: usize) -> String {
    let w = |k: usize| WORDS[(n / k) % WORDS.len()];
    format!(
        "Appel {n} {} {} {} : un titre assez long pour remplir une ligne de tableau bien large",
        w(1),
        w(WORDS.len()),
        w(WORDS.len() * WORDS.len())
    )
}

/// A database with `n` calls: their listing overflows a pipe's buffer (64 KiB).
fn with_calls(s: &Scenario, n: usize) {
    let mut store = Store::open(&s.db()).unwrap();
    store
        .upsert_source("siaf", "SIAF", "html", "https://a.fr/", 0, false)
        .unwrap();
    let deadline = FixedOffset::east_opt(3600)
        .unwrap()
        .with_ymd_and_hms(2099, 3, 15, 12, 0, 0)
        .unwrap();
    let items: Vec<NormalizedItem> = (0..n)
        .map(|i| NormalizedItem {
            key: ItemKey::Url(format!("https://a.fr/appel/{i}")),
            title: title(i),
            url: Some(format!("https://a.fr/appel/{i}")),
            summary_html: "<p>Dossier</p>".into(),
            summary_text: "Dossier de candidature à déposer en ligne".into(),
            funder: Some("SIAF".into()),
            kind: CallKind::Aap,
            audiences: vec![Audience::Commune],
            perimeter: Perimeter::France.into(),
            themes: vec![Theme::Archives],
            opens_on: None,
            deadlines: vec![deadline],
            recurrence: Recurrence::Oneoff,
            published: None,
        })
        .collect();
    store.ingest("siaf", &items, Utc::now()).unwrap();
}

/// Runs vigie with its standard output a pipe that is closed after the
/// first bytes; returns the exit status and what it wrote to stderr.
fn with_closed_pipe(s: &Scenario, args: &[&str]) -> (std::process::ExitStatus, String) {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("vigie"))
        .current_dir(s.dir.path())
        .args(args)
        .arg("--config")
        .arg(s.path("vigie.toml"))
        .env_remove("VIGIE_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("vigie runs");
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 16];
    stdout
        .read_exact(&mut first)
        .expect("vigie writes something");
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    (out.status, text(&out.stderr))
}

fn assert_quiet_success(s: &Scenario, args: &[&str]) {
    // The whole output must not fit in the pipe, or no write ever fails.
    let full = s.vigie(args);
    assert!(full.status.success(), "{args:?}: {}", all_output(&full));
    assert!(
        full.stdout.len() > 200 * 1024,
        "{args:?} writes only {} bytes",
        full.stdout.len()
    );
    let (status, stderr) = with_closed_pipe(s, args);
    assert_eq!(status.code(), Some(0), "{args:?}: {stderr}");
    assert!(stderr.is_empty(), "{args:?} wrote to stderr: {stderr}");
}

#[test]
fn listing_calls_into_a_closed_pipe_ends_quietly_with_status_0_in_every_format() {
    let s = Scenario::new();
    with_calls(&s, 1500);
    for format in ["table", "json", "csv"] {
        assert_quiet_success(&s, &["calls", "--format", format]);
    }
}

#[test]
fn listing_subscribers_into_a_closed_pipe_ends_quietly_with_status_0() {
    let s = Scenario::new();
    let mut csv = String::from("email,name,audience,territory\n");
    for i in 0..3000 {
        csv.push_str(&format!(
            "mairie{i}@exemple.fr,Mairie numéro {i} de la commune,commune,95127\n"
        ));
    }
    let file = s.path("liste.csv");
    std::fs::write(&file, csv).unwrap();
    let out = s.vigie(&["subscribers", "import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", all_output(&out));
    for format in ["table", "json", "csv"] {
        assert_quiet_success(&s, &["subscribers", "list", "--format", format]);
    }
    assert_quiet_success(&s, &["subscribers", "export"]);
}

#[test]
fn checking_sources_into_a_closed_pipe_ends_quietly_with_status_0() {
    let s = Scenario::new();
    for i in 0..2500 {
        s.source(
            &format!("flux-{i:04}"),
            &format!(
                "id = \"flux-{i:04}\"\nname = \"Flux {i}\"\nkind = \"feed\"\n\
                 url = \"https://www.exemple.gouv.fr/appels/flux-{i:04}/rss.xml\"\n\
                 schedule = \"0 6 * * *\"\n"
            ),
        );
    }
    assert_quiet_success(&s, &["sources", "check"]);
}

/// The cells of a CSV output, header excluded.
fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .from_reader(bytes)
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[test]
fn csv_exports_prefix_cells_a_spreadsheet_would_run_as_formulas() {
    let s = Scenario::new();
    with_calls(&s, 1);
    let conn = rusqlite::Connection::open(s.db()).unwrap();
    conn.execute(
        "UPDATE calls SET title = '=HYPERLINK(\"http://evil\";\"Cliquez\")', funder = '@SUM(1)'",
        [],
    )
    .unwrap();
    drop(conn);
    let out = s.vigie(&["calls", "--format", "csv"]);
    assert!(out.status.success(), "{}", all_output(&out));
    let rows = csv_rows(&out.stdout);
    assert_eq!(rows[0][1], "'=HYPERLINK(\"http://evil\";\"Cliquez\")");
    assert_eq!(rows[0][2], "'@SUM(1)");

    let list = s.path("liste.csv");
    std::fs::write(
        &list,
        "email,name,audience,territory,keywords\n\
         a@exemple.fr,=1+2,commune,95127,-moins|+plus\n\
         b@exemple.fr,Mairie de Cergy,commune,95127,\n",
    )
    .unwrap();
    let out = s.vigie(&["subscribers", "import", list.to_str().unwrap()]);
    assert!(out.status.success(), "{}", all_output(&out));
    let export = s.path("export.csv");
    let out = s.vigie(&["subscribers", "export", "-o", export.to_str().unwrap()]);
    assert!(out.status.success(), "{}", all_output(&out));
    let rows = csv_rows(&std::fs::read(&export).unwrap());
    assert_eq!(rows[0][1], "'=1+2");
    assert_eq!(rows[0][5], "'-moins|+plus");
    assert_eq!(rows[1][1], "Mairie de Cergy");
    let listed = s.vigie(&["subscribers", "list", "--format", "csv"]);
    assert_eq!(csv_rows(&listed.stdout)[0][1], "'=1+2");

    // Vigie reads its own export back as the same names.
    let out = s.vigie(&["subscribers", "import", export.to_str().unwrap()]);
    assert!(out.status.success(), "{}", all_output(&out));
    let json = s.vigie(&["subscribers", "show", "a@exemple.fr", "--format", "json"]);
    let shown: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(shown["name"], "=1+2");
    assert_eq!(shown["keywords"], serde_json::json!(["-moins", "+plus"]));
}

//! `vigie demo` as a user runs it: a real process, its own fixture sites on
//! loopback, a digest written within a minute, a clean stop on Ctrl-C
//! (SIGINT) with exit 0, and French `.eml` files about the sample calls.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use mail_parser::MessageParser;

/// Starts `vigie demo ARGS --dir DIR`, its stdout read line by line.
fn start(dir: &std::path::Path, args: &[&str]) -> (Child, mpsc::Receiver<String>) {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("vigie"));
    cmd.arg("demo")
        .args(args)
        .arg("--dir")
        .arg(dir)
        .env_remove("VIGIE_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    // The demo must ignore the environment's configuration: a real SMTP
    // host here would send mail if it did not.
    cmd.env("VIGIE_MAIL__SMTP_HOST", "smtp.invalid")
        .env("VIGIE_DATABASE__PATH", dir.join("not-the-demo.db"));
    let mut child = cmd.spawn().expect("vigie demo starts");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// Lines until one satisfies `until`, or panics after `limit` with what came.
fn read_until(
    rx: &mpsc::Receiver<String>,
    seen: &mut Vec<String>,
    limit: Duration,
    until: impl Fn(&str) -> bool,
) {
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                let done = until(&line);
                seen.push(line);
                if done {
                    return;
                }
            }
            Err(_) => panic!(
                "not seen within {limit:?}; output so far:\n{}",
                seen.join("\n")
            ),
        }
    }
}

/// Sends SIGINT (what Ctrl-C sends) and waits for the exit.
fn interrupt(child: &mut Child, rx: &mpsc::Receiver<String>, seen: &mut Vec<String>) -> i32 {
    // SAFETY: kill(2) on our own child's pid.
    let rc = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(rc, 0, "SIGINT could not be sent");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!(
                "vigie demo did not stop within 30 s of SIGINT:\n{}",
                seen.join("\n")
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    // The reader thread ends with the pipe: collect the last lines.
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(5)) {
        seen.push(line);
    }
    status.code().expect("exited, not killed by a signal")
}

fn demo_folder(seen: &[String]) -> PathBuf {
    let line = seen
        .iter()
        .find(|l| l.starts_with("The demo folder is kept: "))
        .unwrap_or_else(|| panic!("no kept folder line:\n{}", seen.join("\n")));
    let rest = line.trim_start_matches("The demo folder is kept: ");
    PathBuf::from(rest.split(" (").next().unwrap())
}

/// `GET url` (plain HTTP on loopback): status and body.
fn http_get(url: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (host, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_string()), |(h, p)| (h, format!("/{p}")));
    let mut s = std::net::TcpStream::connect(host).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let raw = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, body.to_string())
}

#[test]
fn the_demo_writes_french_digests_within_a_minute_and_stops_cleanly_on_ctrl_c() {
    let parent = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let (mut child, rx) = start(parent.path(), &["--every", "2"]);
    let mut seen = Vec::new();
    read_until(&rx, &mut seen, Duration::from_secs(60), |l| {
        l.starts_with("Wrote ")
    });
    let elapsed = started.elapsed();
    // The public web answers while the demo runs, and the digests' links
    // lead to it.
    let web = seen
        .iter()
        .find(|l| l.starts_with("The public web: "))
        .cloned()
        .unwrap_or_else(|| panic!("no web line:\n{}", seen.join("\n")));
    let catalogue = web
        .split_whitespace()
        .find(|w| w.starts_with("http://") && w.ends_with("/appels"))
        .unwrap_or_else(|| panic!("{web}"))
        .to_string();
    let (status, body) = http_get(&catalogue);
    assert_eq!(status, 200, "{catalogue}");
    assert!(
        body.contains("Archivage numérique en territoires"),
        "{body}"
    );
    let wrote = seen.iter().find(|l| l.starts_with("Wrote ")).unwrap();
    let outbox = wrote
        .split(" to ")
        .nth(1)
        .and_then(|r| r.split(" (open").next())
        .unwrap_or_else(|| panic!("{wrote}"));
    let eml = std::fs::read_dir(outbox)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "eml"))
        .expect("a digest");
    let raw = std::fs::read(&eml).unwrap();
    let text = MessageParser::default()
        .parse(&raw)
        .unwrap()
        .body_text(0)
        .unwrap()
        .to_string();
    let base = catalogue.trim_end_matches("/appels");
    let link = text
        .split_whitespace()
        .find(|w| w.starts_with(&format!("{base}/appels/")))
        .unwrap_or_else(|| panic!("no call link in the digest:\n{text}"));
    assert_eq!(http_get(link).0, 200, "{link}");
    let code = interrupt(&mut child, &rx, &mut seen);
    let out = seen.join("\n");
    assert_eq!(code, 0, "{out}");
    assert!(elapsed < Duration::from_secs(60), "{elapsed:?}");

    // The summary, in plain words, with what the sample is made to show.
    // Every source was crawled before the subscribers joined, so the
    // digests carry the whole sample.
    let at = |prefix: &str| {
        seen.iter()
            .position(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` line:\n{out}"))
    };
    assert!(
        at("Crawled 4 sources: ") < at("Subscribed 3 sample collectivities"),
        "{out}"
    );
    assert!(
        at("Subscribed 3 sample collectivities") < at("Wrote "),
        "{out}"
    );
    let crawled = &seen[at("Crawled 4 sources: ")];
    let number = |after: &str| -> usize {
        let start = crawled.find(after).unwrap_or_else(|| panic!("{crawled}"));
        crawled[..start]
            .rsplit([' ', '(', ':'])
            .find(|w| !w.is_empty())
            .and_then(|w| w.parse().ok())
            .unwrap_or_else(|| panic!("no number before `{after}` in {crawled}"))
    };
    assert!(number(" calls") >= 8, "{crawled}");
    assert!(number(" merged across sources") >= 1, "{crawled}");
    assert!(number(" waiting for review") >= 1, "{crawled}");
    assert!(number(" closing within") >= 1, "{crawled}");
    let folder = demo_folder(&seen);
    assert!(folder.starts_with(parent.path()), "{out}");
    let outbox = folder.join("outbox");
    let wrote = seen.iter().find(|l| l.starts_with("Wrote ")).unwrap();
    assert!(
        wrote.contains(&format!("{}/", outbox.display()))
            && wrote.contains(".eml in a mail client"),
        "{wrote}"
    );
    assert!(out.contains("Stop with Ctrl-C."), "{out}");
    assert!(
        out.contains(&format!(
            "vigie calls --db {}",
            folder.join("vigie.db").display()
        )),
        "{out}"
    );
    assert!(!parent.path().join("not-the-demo.db").exists());

    // One digest per sample subscriber, in French, about the sample calls.
    let mut emls: Vec<PathBuf> = std::fs::read_dir(&outbox)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    emls.sort();
    assert_eq!(emls.len(), 3, "{emls:?}");
    let mut recipients = Vec::new();
    let mut all_text = String::new();
    for eml in &emls {
        let raw = std::fs::read(eml).unwrap();
        let msg = MessageParser::default()
            .parse(&raw)
            .expect("a mail message");
        let subject = msg.subject().unwrap_or_default().to_string();
        assert!(
            subject.starts_with("Vigie : ") && subject.contains("appel"),
            "{subject}"
        );
        let body = msg.body_text(0).expect("a text part").to_string();
        assert!(body.contains("Date limite : "), "{body}");
        assert!(body.contains("correspond"), "{body}");
        recipients.push(
            msg.to()
                .unwrap()
                .first()
                .unwrap()
                .address()
                .unwrap()
                .to_string(),
        );
        all_text.push_str(&body);
    }
    recipients.sort();
    assert_eq!(
        recipients,
        [
            "archives@valdoise.example",
            "numerique@ville-cergy.example",
            "transformation-numerique@laregion.example"
        ]
    );
    for title in [
        "Archivage numérique en territoires",
        "Pass numérique Occitanie",
        "Transformation numérique des territoires",
    ] {
        assert!(
            all_text.contains(title),
            "no `{title}` in the digests:\n{all_text}"
        );
    }
    // A call waiting for review reaches nobody.
    assert!(!all_text.contains("Conseillers numériques"), "{all_text}");
}

#[test]
fn the_demo_with_clean_removes_its_folder_on_ctrl_c() {
    let parent = tempfile::tempdir().unwrap();
    let (mut child, rx) = start(parent.path(), &["--every", "30", "--clean"]);
    let mut seen = Vec::new();
    read_until(&rx, &mut seen, Duration::from_secs(60), |l| {
        l.starts_with("Vigie demo in ")
    });
    let folder = seen[0]
        .trim_start_matches("Vigie demo in ")
        .split(':')
        .next()
        .map(PathBuf::from)
        .unwrap();
    assert!(
        folder.join("sources/demo-culture.toml").is_file(),
        "{folder:?}"
    );
    let code = interrupt(&mut child, &rx, &mut seen);
    assert_eq!(code, 0, "{}", seen.join("\n"));
    assert!(!folder.exists(), "{}", seen.join("\n"));
    assert!(
        seen.iter()
            .any(|l| l.starts_with("Removed the demo folder")),
        "{}",
        seen.join("\n")
    );
}

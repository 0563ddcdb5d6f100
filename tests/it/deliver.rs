//! The outbox and its worker against a real SMTP server (aiosmtpd, see
//! `support::smtp`): headers as receivers parse them, retries, refusals,
//! DKIM checked by dkimpy, and a worker process killed at random instants.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use mail_parser::MimeHeaders;
use vigie::deliver::outbox::{self, OutboxStatus};
use vigie::deliver::{
    DrainReport, MailConfig, NewMessage, SmtpSecurity, Transport, drain_outbox, enqueue,
};
use vigie::store::Store;

use crate::support::smtp;
use crate::support::{Scenario, SmtpSink, all_output};

const SUBJECT: &str = "Appels à projets : 3 nouveautés pour Saint-Étienne — « énergie »";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 6, 0, 0).unwrap()
}

fn smtp_config(sink: &SmtpSink) -> MailConfig {
    MailConfig {
        from: "Vigie <veille@vigie.example>".into(),
        reply_to: "Équipe Vigie <contact@vigie.example>".into(),
        smtp_host: "127.0.0.1".into(),
        smtp_port: sink.port,
        smtp_security: SmtpSecurity::None,
        smtp_timeout_secs: 5,
        pool_size: 2,
        list_unsubscribe_mailto: "desabonnement@vigie.example".into(),
        ..MailConfig::default()
    }
}

fn message(i: usize) -> NewMessage {
    NewMessage {
        idempotency_key: format!("digest:{i}:2026-03-02"),
        subscriber_id: Some(i as i64),
        to: format!("Mairie {i} <mairie{i}@commune.example>"),
        subject: SUBJECT.into(),
        html: format!("<p>Bonjour, élu·es de la commune {i} : voici les appels.</p>"),
        text: format!("Bonjour, élu·es de la commune {i} : voici les appels."),
        list_unsubscribe_url: format!("https://vigie.example/desabonnement/{i}?t=a%20b"),
        list_unsubscribe_mailto: None,
    }
}

fn enqueue_all(
    store: &Arc<Mutex<Store>>,
    msgs: &[NewMessage],
    config: &MailConfig,
) -> Vec<Option<i64>> {
    let mut store = store.lock().unwrap();
    let tx = store.conn_mut().transaction().unwrap();
    let ids = msgs
        .iter()
        .map(|m| enqueue(&tx, m, config, t0()).unwrap())
        .collect();
    tx.commit().unwrap();
    ids
}

fn memory_store() -> Arc<Mutex<Store>> {
    Arc::new(Mutex::new(Store::open_in_memory().unwrap()))
}

fn rows(store: &Arc<Mutex<Store>>) -> Vec<outbox::OutboxRow> {
    outbox::list(store.lock().unwrap().conn()).unwrap()
}

async fn drain_at(
    store: &Arc<Mutex<Store>>,
    config: &MailConfig,
    at: DateTime<Utc>,
) -> DrainReport {
    let transport = Transport::from_config(config).unwrap();
    drain_outbox(store, &transport, config, move || at)
        .await
        .unwrap()
}

fn header_raw(msg: &mail_parser::Message<'_>, name: &str) -> String {
    let raw = msg
        .header_raw(name)
        .unwrap_or_else(|| panic!("no {name} header"));
    raw.replace("\r\n", "").trim().to_string()
}

#[tokio::test]
async fn enqueued_messages_are_delivered_once_with_list_headers_and_both_parts() {
    let sink = SmtpSink::start(&[]);
    let config = smtp_config(&sink);
    let store = memory_store();
    let msgs: Vec<_> = (1..=3).map(message).collect();
    enqueue_all(&store, &msgs, &config);

    let report = drain_at(&store, &config, t0()).await;
    assert_eq!(report.sent, 3, "{report:?}");
    assert_eq!(
        drain_at(&store, &config, t0()).await,
        DrainReport::default()
    );
    let received = sink.wait_for(3, Duration::from_secs(5));
    assert_eq!(received.len(), 3, "delivered once each");

    let rows = rows(&store);
    for row in &rows {
        assert_eq!(row.status, OutboxStatus::Sent);
        assert_eq!(row.attempts, 1);
        assert!(row.sent_at.is_some());
    }
    for bytes in &received {
        let parsed = smtp::parse(bytes);
        assert_eq!(parsed.subject(), Some(SUBJECT), "UTF-8 subject decodes");
        let message_id = format!("<{}>", parsed.message_id().expect("a Message-ID"));
        let row = rows
            .iter()
            .find(|r| r.message_id == message_id)
            .expect("the Message-ID is the one stored in the outbox");
        let i = row.subscriber_id.unwrap();
        assert!(message_id.ends_with("@vigie.example>"), "{message_id}");
        assert_eq!(
            parsed.to().unwrap().first().unwrap().address(),
            Some(format!("mairie{i}@commune.example").as_str())
        );
        assert_eq!(
            parsed.from().unwrap().first().unwrap().address(),
            Some("veille@vigie.example")
        );
        assert_eq!(
            parsed.reply_to().unwrap().first().unwrap().address(),
            Some("contact@vigie.example")
        );
        assert!(parsed.date().is_some());
        assert_eq!(
            header_raw(&parsed, "List-Id"),
            "Vigie <digest.vigie.example>"
        );
        assert_eq!(
            header_raw(&parsed, "List-Unsubscribe"),
            format!(
                "<https://vigie.example/desabonnement/{i}?t=a%20b>, \
                 <mailto:desabonnement@vigie.example?subject=unsubscribe>"
            )
        );
        assert_eq!(
            header_raw(&parsed, "List-Unsubscribe-Post"),
            "List-Unsubscribe=One-Click"
        );
        assert_eq!(header_raw(&parsed, "MIME-Version"), "1.0");
        let ct = parsed.content_type().expect("a Content-Type");
        assert_eq!(
            (ct.ctype(), ct.subtype()),
            ("multipart", Some("alternative"))
        );
        let expected = format!("Bonjour, élu·es de la commune {i} : voici les appels.");
        assert_eq!(parsed.body_text(0).unwrap().trim(), expected);
        assert!(parsed.body_html(0).unwrap().contains(&expected));
        assert!(bytes.is_ascii(), "bodies are transfer-encoded");
    }
    eprintln!(
        "commit window over {} sends: max {} µs, mean {} µs",
        report.commit_window.count,
        report.commit_window.max_micros,
        report.commit_window.mean_micros()
    );
}

#[test]
fn without_an_smtp_host_vigie_deliver_writes_eml_files_named_by_outbox_id() {
    let scenario = Scenario::new();
    let out = scenario.path("mail-out");
    append_mail_config(&scenario, &format!("outbox_dir = \"{}\"\n", out.display()));
    let config = MailConfig {
        outbox_dir: out.clone(),
        ..MailConfig::default()
    };
    let store = Arc::new(Mutex::new(Store::open(&scenario.db()).unwrap()));
    let ids = enqueue_all(&store, &[message(1), message(2)], &config);
    drop(store);

    let run = scenario.vigie(&["deliver"]);
    assert!(run.status.success(), "{}", all_output(&run));
    assert!(
        String::from_utf8_lossy(&run.stdout).contains("sent 2"),
        "{}",
        all_output(&run)
    );
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let expected: Vec<String> = ids
        .iter()
        .map(|id| format!("{}.eml", id.unwrap()))
        .collect();
    assert_eq!(names, expected);
    let bytes = std::fs::read(out.join(&expected[0])).unwrap();
    assert_eq!(smtp::parse(&bytes).subject(), Some(SUBJECT));
}

#[tokio::test]
async fn enqueueing_twice_with_the_same_key_sends_one_message() {
    let sink = SmtpSink::start(&[]);
    let config = smtp_config(&sink);
    let store = memory_store();
    assert!(enqueue_all(&store, &[message(1)], &config)[0].is_some());
    let mut again = message(1);
    again.subject = "Un autre sujet".into();
    assert_eq!(enqueue_all(&store, &[again], &config), vec![None]);

    assert_eq!(drain_at(&store, &config, t0()).await.sent, 1);
    let received = sink.wait_for(1, Duration::from_secs(5));
    assert_eq!(received.len(), 1);
    assert_eq!(smtp::parse(&received[0]).subject(), Some(SUBJECT));
}

#[tokio::test]
async fn a_451_is_retried_after_the_backoff_and_delivered_on_the_second_attempt() {
    let sink = SmtpSink::start(&["--transient-first", "1"]);
    let config = MailConfig {
        retry_base_secs: 60,
        ..smtp_config(&sink)
    };
    let store = memory_store();
    let id = enqueue_all(&store, &[message(1)], &config)[0].unwrap();

    let first = drain_at(&store, &config, t0()).await;
    assert_eq!((first.sent, first.rescheduled), (0, 1), "{first:?}");
    let row = &rows(&store)[0];
    assert_eq!((row.status, row.attempts), (OutboxStatus::Pending, 1));
    assert!(
        row.last_error.as_deref().unwrap().contains("451"),
        "{row:?}"
    );
    assert_eq!(row.next_attempt_at, "2026-03-02T06:01:00.000Z");

    let early = drain_at(&store, &config, t0() + chrono::Duration::seconds(30)).await;
    assert_eq!(early, DrainReport::default(), "not due before the backoff");

    let second = drain_at(&store, &config, t0() + chrono::Duration::seconds(60)).await;
    assert_eq!(second.sent, 1, "{second:?}");
    let row = outbox::get(store.lock().unwrap().conn(), id)
        .unwrap()
        .unwrap();
    assert_eq!((row.status, row.attempts), (OutboxStatus::Sent, 2));
    assert_eq!(sink.wait_for(1, Duration::from_secs(5)).len(), 1);
}

/// A server that drops each connection after two messages: the slot's next
/// command fails on the dead connection, and the message goes out at once
/// on a fresh one instead of waiting for a retry.
#[tokio::test]
async fn a_connection_the_server_dropped_is_reopened_without_delaying_the_message() {
    let sink = SmtpSink::start(&["--close-after", "2"]);
    let config = MailConfig {
        pool_size: 1,
        ..smtp_config(&sink)
    };
    let store = memory_store();
    let msgs: Vec<_> = (1..=7).map(message).collect();
    enqueue_all(&store, &msgs, &config);

    let report = drain_at(&store, &config, t0()).await;
    assert_eq!((report.sent, report.rescheduled), (7, 0), "{report:?}");
    assert!(
        rows(&store)
            .iter()
            .all(|r| r.status == OutboxStatus::Sent && r.attempts == 1),
        "{:?}",
        rows(&store)
    );
    let received = sink.wait_for(7, Duration::from_secs(5));
    assert_eq!(received.len(), 7);
}

#[tokio::test]
async fn nothing_listening_is_a_transient_failure_retried_later() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let config = MailConfig {
        smtp_host: "127.0.0.1".into(),
        smtp_port: port,
        smtp_security: SmtpSecurity::None,
        smtp_timeout_secs: 5,
        ..MailConfig::default()
    };
    let store = memory_store();
    enqueue_all(&store, &[message(1)], &config);
    let report = drain_at(&store, &config, t0()).await;
    assert_eq!((report.sent, report.rescheduled), (0, 1), "{report:?}");
    let row = &rows(&store)[0];
    assert_eq!((row.status, row.attempts), (OutboxStatus::Pending, 1));
    let error = row.last_error.as_deref().unwrap();
    assert!(error.contains(&format!("127.0.0.1:{port}")), "{error}");
}

#[tokio::test]
async fn a_451_every_time_ends_failed_after_max_attempts_with_the_reason() {
    let sink = SmtpSink::start(&["--transient-first", "100"]);
    let config = MailConfig {
        retry_base_secs: 0,
        max_attempts: 3,
        ..smtp_config(&sink)
    };
    let store = memory_store();
    enqueue_all(&store, &[message(1)], &config);
    let report = drain_at(&store, &config, t0()).await;
    assert_eq!((report.sent, report.rescheduled), (0, 2), "{report:?}");
    assert_eq!(report.exhausted.len(), 1);
    let row = &rows(&store)[0];
    assert_eq!((row.status, row.attempts), (OutboxStatus::Failed, 3));
    let reason = row.last_error.as_deref().unwrap();
    assert!(
        reason.contains("gave up after 3 attempts") && reason.contains("451"),
        "{reason}"
    );
}

#[tokio::test]
async fn a_550_fails_the_message_with_its_reason_reports_the_recipient_and_is_not_retried() {
    let sink = SmtpSink::start(&["--reject", "mairie2@commune.example"]);
    let config = smtp_config(&sink);
    let store = memory_store();
    let ids = enqueue_all(&store, &[message(1), message(2)], &config);

    let report = drain_at(&store, &config, t0()).await;
    assert_eq!(report.sent, 1, "{report:?}");
    assert_eq!(report.permanent_failures.len(), 1);
    let failure = &report.permanent_failures[0];
    assert_eq!(failure.recipient, "mairie2@commune.example");
    assert_eq!(failure.subscriber_id, Some(2));
    assert_eq!(failure.outbox_id, ids[1].unwrap());
    assert!(failure.reason.contains("550"), "{failure:?}");

    let row = outbox::get(store.lock().unwrap().conn(), ids[1].unwrap())
        .unwrap()
        .unwrap();
    assert_eq!((row.status, row.attempts), (OutboxStatus::Failed, 1));
    assert!(
        row.last_error.unwrap().contains("mailbox unavailable"),
        "the server's text is kept"
    );
    let later = drain_at(&store, &config, t0() + chrono::Duration::days(2)).await;
    assert_eq!(later, DrainReport::default(), "never retried");
    assert_eq!(sink.wait_for(1, Duration::from_secs(5)).len(), 1);
}

#[tokio::test]
async fn messages_signed_with_dkim_verify_with_dkimpy_after_the_smtp_trip() {
    smtp::require_python("dkim", "dkimpy");
    let keys = tempfile::tempdir().unwrap();
    let (key, txt) = dkim_key(keys.path());
    let sink = SmtpSink::start(&[]);
    let config = MailConfig {
        dkim_selector: "vigie2026".into(),
        dkim_domain: "vigie.example".into(),
        dkim_key_file: key,
        ..smtp_config(&sink)
    };
    let store = memory_store();
    enqueue_all(&store, &[message(1)], &config);
    assert_eq!(drain_at(&store, &config, t0()).await.sent, 1);
    let received = sink.wait_for(1, Duration::from_secs(5));
    let parsed = smtp::parse(&received[0]);
    let signature = header_raw(&parsed, "DKIM-Signature").replace([' ', '\t'], "");
    assert!(signature.contains("c=relaxed/relaxed"), "{signature}");
    assert!(signature.contains("d=vigie.example"), "{signature}");
    for h in ["list-unsubscribe", "list-unsubscribe-post", "message-id"] {
        assert!(
            signature.split("h=").nth(1).unwrap().contains(h),
            "{h} is signed: {signature}"
        );
    }

    let eml = keys.path().join("received.eml");
    std::fs::write(&eml, &received[0]).unwrap();
    let out = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dkim_verify.py"))
        .arg(&eml)
        .arg(&txt)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "dkimpy rejects the signature:\n{}",
        all_output(&out)
    );
}

/// A fresh RSA key from `openssl` when present, else the committed test key.
fn dkim_key(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let key = dir.join("dkim.pem");
    let txt = dir.join("dkim.txt");
    let script = format!(
        "openssl genrsa -traditional -out '{k}' 2048 2>/dev/null && \
         printf 'v=DKIM1; k=rsa; p=%s' \"$(openssl rsa -in '{k}' -pubout -outform DER 2>/dev/null \
         | openssl base64 -A)\" > '{t}'",
        k = key.display(),
        t = txt.display()
    );
    let generated = Command::new("sh")
        .args(["-c", &script])
        .status()
        .is_ok_and(|s| s.success());
    if generated {
        (key, txt)
    } else {
        let fixtures = crate::support::fixtures("dkim");
        (
            fixtures.join("test-only-key.pem"),
            fixtures.join("test-only-key.dns.txt"),
        )
    }
}

fn append_mail_config(scenario: &Scenario, keys: &str) {
    let path = scenario.path("vigie.toml");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("[mail]\n");
    text.push_str(keys);
    std::fs::write(path, text).unwrap();
}

/// xorshift64*: enough randomness for kill delays, reproducible from a seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

fn status_counts(db: &Path) -> HashMap<String, i64> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT status, count(*) FROM outbox GROUP BY status")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn sending_ids(db: &Path) -> Vec<i64> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT id FROM outbox WHERE status = 'sending'")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Enqueues 150 messages (enough work for 20 kills mid-send even when sends
/// are fast), then starts `vigie deliver` and SIGKILLs it after a
/// random delay, again and again, then lets it finish. The lease keeps its
/// default (600 s): each new run must reclaim at once the rows the killed
/// one left `sending`, because their holder is gone. Every message must
/// arrive; a duplicate may only come from a row a kill left in `sending`
/// (the window between the server's acceptance and our commit), at most
/// `pool_size` per kill. `VIGIE_CRASH_SEED=N` replays a run; run with
/// `--nocapture` to see the numbers. To measure the duplicate window:
/// `VIGIE_CRASH_POOL` (default 2), `VIGIE_CRASH_DELAY_MS` (the sink's wait
/// before answering RCPT, default 25; 0 is a fast sink),
/// `VIGIE_CRASH_MESSAGES` (default 150) and `VIGIE_CRASH_KILLS` (kills
/// mid-send to reach, default 20).
#[test]
fn killing_the_worker_at_random_instants_loses_no_message_and_duplicates_only_in_the_window() {
    let env = |name: &str, default: usize| -> usize {
        std::env::var(name)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default)
    };
    let messages = env("VIGIE_CRASH_MESSAGES", 150);
    let min_kills_mid_send = env("VIGIE_CRASH_KILLS", 20);
    let pool = env("VIGIE_CRASH_POOL", 2);
    let delay_ms = env("VIGIE_CRASH_DELAY_MS", 25).to_string();
    let seed: u64 = std::env::var("VIGIE_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    let mut rng = Rng(seed);
    // Each RCPT waits 25 ms so that a kill often lands mid-send; the reply to
    // the end of DATA is immediate, as from a fast server.
    let sink = SmtpSink::start(&["--delay-ms", &delay_ms]);
    let scenario = Scenario::new();
    append_mail_config(
        &scenario,
        &format!(
            "from = \"Vigie <veille@vigie.example>\"\nsmtp_host = \"127.0.0.1\"\n\
             smtp_port = {}\nsmtp_security = \"none\"\nsmtp_timeout_secs = 5\npool_size = {pool}\n\
             max_attempts = 1000\nretry_base_secs = 0\n",
            sink.port
        ),
    );
    let db = scenario.db();
    {
        let store = Arc::new(Mutex::new(Store::open(&db).unwrap()));
        let msgs: Vec<_> = (1..=messages).map(message).collect();
        let config = MailConfig {
            from: "Vigie <veille@vigie.example>".into(),
            ..MailConfig::default()
        };
        assert!(
            enqueue_all(&store, &msgs, &config)
                .iter()
                .all(Option::is_some)
        );
    }
    let vigie = assert_cmd::cargo::cargo_bin("vigie");
    let deliver = || {
        let mut cmd = Command::new(&vigie);
        cmd.current_dir(scenario.dir.path())
            .args(["deliver", "--json", "--config"])
            .arg(scenario.path("vigie.toml"))
            .env_remove("VIGIE_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    };

    let started = Instant::now();
    let mut kills = 0;
    // Rows each kill left in `sending`: the only ones allowed a duplicate.
    let mut in_doubt: Vec<Vec<i64>> = Vec::new();
    let mut max_delay_ms = 150;
    while in_doubt.iter().filter(|ids| !ids.is_empty()).count() < min_kills_mid_send
        && kills < 400
        && started.elapsed() < Duration::from_secs(120)
    {
        let sent_before = status_counts(&db).get("sent").copied().unwrap_or(0);
        if sent_before as usize == messages {
            break;
        }
        let mut child = deliver().spawn().unwrap();
        std::thread::sleep(Duration::from_millis(5 + rng.below(max_delay_ms)));
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            assert!(
                status.success(),
                "vigie deliver failed: {}",
                all_output(&out)
            );
        } else {
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
        }
        kills += 1;
        in_doubt.push(sending_ids(&db));
        // Slow machine: if the process never got to send, give it longer.
        let sent_after = status_counts(&db).get("sent").copied().unwrap_or(0);
        if sent_after == sent_before && in_doubt.last().unwrap().is_empty() {
            max_delay_ms = (max_delay_ms * 3 / 2).min(3000);
        }
    }
    let kills_mid_send = in_doubt.iter().filter(|ids| !ids.is_empty()).count();

    // Then let it finish. The first run reclaims at once, and reports, every
    // row the last kill left `sending` (the lease is 600 s).
    let mut last_report = String::new();
    let left_sending = sending_ids(&db).len();
    for run in 0..5 {
        let out = deliver().output().unwrap();
        assert!(out.status.success(), "{}", all_output(&out));
        last_report = String::from_utf8_lossy(&out.stdout).into_owned();
        if run == 0 {
            let report: serde_json::Value = serde_json::from_str(&last_report).unwrap();
            assert_eq!(
                report["recovered"].as_u64(),
                Some(left_sending as u64),
                "{last_report}"
            );
        }
        if status_counts(&db).get("sent").copied().unwrap_or(0) as usize == messages {
            break;
        }
    }
    let counts = status_counts(&db);
    assert_eq!(
        counts.get("sent").copied().unwrap_or(0) as usize,
        messages,
        "every row ends sent: {counts:?}"
    );

    let received = sink.wait_for(messages, Duration::from_secs(10));
    let mut per_id: HashMap<String, usize> = HashMap::new();
    for bytes in &received {
        let id = smtp::parse(bytes).message_id().unwrap().to_string();
        *per_id.entry(format!("<{id}>")).or_default() += 1;
    }
    let conn = rusqlite::Connection::open(&db).unwrap();
    let expected: HashMap<String, i64> = conn
        .prepare("SELECT message_id, id FROM outbox")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let missing: Vec<_> = expected
        .keys()
        .filter(|id| !per_id.contains_key(*id))
        .collect();
    let duplicated: Vec<(i64, usize)> = per_id
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(mid, n)| (expected[mid], n - 1))
        .collect();
    let duplicates: usize = duplicated.iter().map(|(_, extra)| extra).sum();
    let interrupted: usize = in_doubt.iter().map(Vec::len).sum();
    let worst_kill = in_doubt
        .iter()
        .map(|ids| {
            duplicated
                .iter()
                .filter(|(row, _)| ids.contains(row))
                .count()
        })
        .max()
        .unwrap_or(0);
    eprintln!(
        "crash test: seed {seed}, {messages} messages, pool {pool}, sink delay {delay_ms} ms, {kills} kills ({kills_mid_send} with \
         sends in flight, {interrupted} sends interrupted), {} received, {} missing, \
         {duplicates} duplicates = {:.0} % of the interrupted sends (at most {worst_kill} \
         per kill) {duplicated:?}, {:.1?}; last run: {}",
        received.len(),
        missing.len(),
        100.0 * duplicates as f64 / interrupted.max(1) as f64,
        started.elapsed(),
        last_report.trim()
    );
    assert!(missing.is_empty(), "lost messages: {missing:?}");
    assert!(
        kills_mid_send >= min_kills_mid_send,
        "only {kills_mid_send} of {kills} kills landed while a send was in flight (seed {seed})"
    );
    assert!(
        per_id.keys().all(|id| expected.contains_key(id)),
        "only outbox messages arrive"
    );
    // A duplicate is only allowed for a row a kill interrupted, and a kill
    // can duplicate at most the rows it interrupted (≤ pool_size).
    let doubted: HashSet<i64> = in_doubt.iter().flatten().copied().collect();
    for (row, extra) in &duplicated {
        assert!(
            doubted.contains(row),
            "row {row} duplicated without being interrupted (seed {seed})"
        );
        let interruptions = in_doubt.iter().filter(|ids| ids.contains(row)).count();
        assert!(
            *extra <= interruptions,
            "row {row}: {extra} extra copies > {interruptions} kills (seed {seed})"
        );
    }
    for (k, ids) in in_doubt.iter().enumerate() {
        assert!(
            ids.len() <= pool,
            "kill {k} left {} rows in doubt",
            ids.len()
        );
    }
}

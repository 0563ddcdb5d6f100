//! Digests whose email fails for good, end to end with the real binary and
//! the real SMTP sink: the calls come back in the next digest, `vigie
//! outbox list|retry` lets an operator act, and no call reaches a
//! subscriber twice.

use super::*;

const DAY1_PLUS_5: &str = "2035-03-02T08:05";

fn vigie_code(sc: &Scenario, args: &[&str]) -> (Option<i32>, String) {
    let out = sc.vigie(args);
    (out.status.code(), all_output(&out))
}

fn outbox_rows(sc: &Scenario, status: &str) -> Vec<serde_json::Value> {
    let out = sc.vigie(&["outbox", "list", "--status", status, "--format", "json"]);
    assert!(out.status.success(), "{}", all_output(&out));
    serde_json::from_slice(&out.stdout).expect("outbox list --format json is JSON")
}

fn id_of(rows: &[serde_json::Value], recipient: &str) -> i64 {
    rows.iter()
        .find(|r| r["recipient"].as_str().unwrap().contains(recipient))
        .unwrap_or_else(|| panic!("no row for {recipient} in {rows:?}"))["id"]
        .as_i64()
        .unwrap()
}

/// Before: the rows ended `failed` but their calls stayed recorded as sent,
/// so the next digest was empty and the communes never heard of them.
#[test]
fn after_a_4xx_then_an_outage_the_calls_come_back_in_the_next_digest_and_retry_refuses_duplicates()
{
    crate::support::smtp::require_python("aiosmtpd", "aiosmtpd");
    let Setup { sc, sink, .. } = setup(
        &["--transient-first", "100"],
        "max_attempts = 2\nretry_base_secs = 60",
        &two_communes(),
    );
    let port = sink.port.to_string();

    // Day 1: the relay answers 451 to both: waiting for retry, exit 75.
    let (code, out) = vigie_code(&sc, &["digest", "run", "--now", DAY1]);
    assert_eq!(code, Some(75), "{out}");
    assert!(out.contains("retry later: 2"), "{out}");
    assert!(out.contains("waiting for retry: 2 message(s)"), "{out}");
    assert_eq!(outbox_rows(&sc, "pending").len(), 2);

    // The relay is down for the second and last attempt: both fail for good.
    drop(sink);
    let (code, out) = vigie_code(&sc, &["deliver", "--now", DAY1_PLUS_5]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("failed 2"), "{out}");
    assert!(
        out.contains("its calls go back to the next digest"),
        "{out}"
    );
    let failed = outbox_rows(&sc, "failed");
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(
        failed.iter().all(|r| r["last_error"]
            .as_str()
            .unwrap()
            .contains("gave up after 2")),
        "{failed:?}"
    );
    let (code, table) = vigie_code(&sc, &["outbox", "list"]);
    assert_eq!(code, Some(0), "{table}");
    assert!(
        table.contains("failed") && table.contains("2 message(s)"),
        "{table}"
    );

    // Day 2, the relay is back: the calls of day 1 come as new.
    let sink = SmtpSink::start(&["--port", &port]);
    let out = digest_run(&sc, DAY2, &[]);
    assert!(out.contains("sent: 2"), "{out}");
    let day2 = wait(&sink, 2);
    let c = for_recipient(&day2, CERGY)[0];
    assert!(c.text.contains("NOUVEAUX APPELS (3)"), "{}", c.text);
    for title in [NATIONAL, IDF, VAL_OISE] {
        assert!(c.text.contains(title), "{title} missing:\n{}", c.text);
    }
    let l = for_recipient(&day2, LYON)[0];
    assert!(
        l.text.contains(NATIONAL) && l.text.contains(AURA),
        "{}",
        l.text
    );

    // Retrying day 1's rows now would bring every call twice: refused,
    // and the rows stay failed.
    let (code, out) = vigie_code(&sc, &["outbox", "retry", "--all-failed"]);
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(out.matches("not retried").count(), 2, "{out}");
    assert!(out.contains("later digests carried meanwhile"), "{out}");
    assert_eq!(outbox_rows(&sc, "failed").len(), 2);
    let (code, out) = vigie_code(&sc, &["deliver", "--now", DAY2]);
    assert_eq!(code, Some(0), "{out}");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(sink.messages().len(), 2, "nothing sent twice");
}

/// A 5xx fails one digest at once; the operator fixes the address and
/// retries it before the next digest: the stored message goes out, its
/// calls count as sent again, and the next digest does not repeat them.
#[test]
fn a_retried_failed_digest_is_sent_and_its_calls_are_not_repeated_by_the_next_digest() {
    crate::support::smtp::require_python("aiosmtpd", "aiosmtpd");
    let Setup { sc, sink, .. } = setup(&["--reject", LYON], "", &two_communes());
    let port = sink.port.to_string();
    let (code, out) = vigie_code(&sc, &["digest", "run", "--now", DAY1]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("sent: 1") && out.contains("failed: 1"),
        "{out}"
    );
    let lyon_row = id_of(&outbox_rows(&sc, "failed"), LYON);

    // The retry of a row that is not failed is refused.
    let cergy_row = id_of(&outbox_rows(&sc, "sent"), CERGY);
    let (code, out) = vigie_code(&sc, &["outbox", "retry", &cergy_row.to_string()]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("is sent, not failed"), "{out}");

    drop(sink);
    let sink = SmtpSink::start(&["--port", &port]);
    let (code, out) = vigie_code(&sc, &["outbox", "retry", &lyon_row.to_string()]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("back in the queue, 2 call record(s)"), "{out}");
    let pending = outbox_rows(&sc, "pending");
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0]["attempts"], 0);

    let (code, out) = vigie_code(&sc, &["deliver", "--now", DAY1_LATER]);
    assert_eq!(code, Some(0), "{out}");
    let received = wait(&sink, 1);
    let l = for_recipient(&received, LYON)[0];
    assert!(
        l.text.contains(NATIONAL) && l.text.contains(AURA),
        "{}",
        l.text
    );

    // Day 2: Lyon's calls were sent by the retried message.
    let out = digest_run(&sc, DAY2, &[]);
    std::thread::sleep(Duration::from_millis(300));
    let lyon_mails = for_recipient(&mails(&sink.messages()), LYON).len();
    assert_eq!(lyon_mails, 1, "no second digest for Lyon:\n{out}");
}

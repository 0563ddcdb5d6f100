//! Every key of the configuration and every numeric field of a source
//! definition, given random values (huge, negative, zero, floats, NaN-like
//! strings, wrong types): each loads, or gives an error naming the key;
//! nothing panics; and for accepted values, the time arithmetic that uses
//! them (backoff, lease cutoff, reminder horizon, spacing, timeouts,
//! pagination) does not overflow.

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use proptest::prelude::*;

use crate::config::{Config, EMBEDDED};
use crate::source::load::load_str;
use crate::source::{KindSpec, PageRule};

/// Every `section.key` of the embedded configuration.
fn config_keys() -> Vec<(String, String)> {
    let table: toml::Table = toml::from_str(EMBEDDED).unwrap();
    let mut keys = Vec::new();
    for (section, value) in table {
        if let toml::Value::Table(t) = value {
            keys.extend(t.keys().map(|k| (section.clone(), k.clone())));
        }
    }
    assert!(keys.len() > 30, "{keys:?}");
    keys
}

/// What may follow `=` in a file or an environment variable.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        (0u64..100_000).prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| format!("{f:?}")),
        prop::sample::select(vec![
            "0",
            "-0",
            "1",
            "-1",
            "23",
            "24",
            "65535",
            "65536",
            "4294967295",
            "4294967296",
            "18446744073709551615",
            "99999999999999999999",
            "1e400",
            "-1e400",
            "nan",
            "inf",
            "-inf",
            "\"NaN\"",
            "\"10\"",
            "\"\"",
            "true",
            "false",
            "[]",
            "[1, 2]",
            "{}",
            "{ a = 1 }",
            "1979-05-27",
            "0x10",
            "1_000",
        ])
        .prop_map(str::to_string),
        "\\PC{0,12}",
    ]
}

/// Uses every accepted number the way Vigie does, with the real functions
/// where they are cheap to call.
fn exercise(config: &Config) {
    let now = Utc::now();
    let mail = &config.mail;
    for attempt in [0, 1, mail.max_attempts, u32::MAX] {
        let wait = mail.backoff(attempt);
        assert!(
            now.checked_add_signed(TimeDelta::from_std(wait).unwrap())
                .is_some()
        );
    }
    let store = crate::store::Store::open_in_memory().unwrap();
    crate::deliver::outbox::recover_abandoned(store.conn(), mail, now).unwrap();
    let horizon = TimeDelta::try_days(i64::from(config.digest.closing_soon_days)).unwrap();
    assert!(now.checked_add_signed(horizon).is_some());
    let fetch = &config.fetch;
    let base = Duration::from_millis(fetch.backoff_base_ms);
    for retry in [0, fetch.retries, u32::MAX] {
        crate::fetch::retry::backoff(base, retry);
    }
    let start = Instant::now();
    for d in [
        Duration::from_millis(fetch.min_spacing_ms),
        Duration::from_secs(fetch.timeout_secs),
        Duration::from_secs(fetch.connect_timeout_secs),
        Duration::from_secs(fetch.max_retry_after_secs),
    ] {
        assert!(start.checked_add(d).is_some());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_value_of_any_configuration_key_loads_or_names_the_key(
        which in any::<prop::sample::Index>(),
        raw in value(),
    ) {
        let keys = config_keys();
        let (section, key) = &keys[which.index(keys.len())];
        let var = format!("VIGIE_{}__{}", section.to_uppercase(), key.to_uppercase());
        match Config::from_layers(None, std::iter::once((var.clone(), raw.clone()))) {
            Ok(config) => exercise(&config),
            Err(e) => {
                let shown = format!("{e:#}");
                prop_assert!(shown.starts_with(&format!("environment variable {var}: ")), "{shown}");
                prop_assert!(shown.contains(&format!("{section}.{key}")), "{raw}: {shown}");
            }
        }
    }

    #[test]
    fn any_value_in_a_configuration_file_loads_or_names_the_key(
        which in any::<prop::sample::Index>(),
        raw in value(),
    ) {
        let keys = config_keys();
        let (section, key) = &keys[which.index(keys.len())];
        // Not TOML at all: the file reader's own error (line and column) covers it.
        let Ok(layer) = toml::from_str::<toml::Table>(&format!("[{section}]\n{key} = {raw}\n")) else {
            return Ok(());
        };
        match Config::from_layers(Some(("custom.toml".into(), layer)), std::iter::empty()) {
            Ok(config) => exercise(&config),
            Err(e) => {
                let shown = format!("{e:#}");
                prop_assert!(shown.starts_with("custom.toml: "), "{shown}");
                prop_assert!(shown.contains(&format!("{section}.{key}")), "{raw}: {shown}");
            }
        }
    }
}

const FEED: &str = "id = \"flux\"\nname = \"Flux\"\nkind = \"feed\"\n\
                    url = \"https://www.exemple.gouv.fr/rss\"\nschedule = \"0 6 * * *\"\n";

const JSON: &str = "id = \"api\"\nname = \"API\"\nkind = \"json\"\n\
                    url = \"https://api.exemple.gouv.fr/aides\"\nschedule = \"0 6 * * *\"\n\
                    [json]\nitems = \"results\"\n[json.fields]\ntitle = \"name\"\n\
                    [json.pagination]\noffset_param = \"offset\"\npage_size = 50\n";

/// A numeric source field and the file that sets it to `raw`.
fn source_with(field: usize, raw: &str) -> (String, String) {
    let set = |table: &str, key: &str| {
        (
            format!("{table}.{key}"),
            format!("{FEED}[{table}]\n{key} = {raw}\n"),
        )
    };
    match field % 8 {
        0 => ("priority".into(), format!("{FEED}priority = {raw}\n")),
        1 => set("politeness", "min_spacing_ms"),
        2 => set("politeness", "timeout_secs"),
        3 => set("politeness", "max_body_bytes"),
        4 => (
            "json.pagination.page_size".into(),
            JSON.replace("page_size = 50", &format!("page_size = {raw}")),
        ),
        5 => (
            "json.pagination.start".into(),
            format!("{JSON}start = {raw}\n"),
        ),
        6 => (
            "json.pagination.max_pages".into(),
            format!("{JSON}max_pages = {raw}\n"),
        ),
        _ => ("enabled".into(), format!("{FEED}enabled = {raw}\n")),
    }
}

/// A cron field: numbers in and out of range, steps, lists, ranges, and
/// croner's extensions.
fn cron_field() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("*".to_string()),
        (0u32..70).prop_map(|n| n.to_string()),
        (0u32..70, 1u32..40).prop_map(|(a, s)| format!("{a}/{s}")),
        (0u32..70, 0u32..70).prop_map(|(a, b)| format!("{a}-{b}")),
        (0u32..40, 0u32..40).prop_map(|(a, b)| format!("{a},{b}")),
        prop::sample::select(vec![
            "L", "?", "5L", "15W", "1#5", "5#3", "MON", "FEB", "-1", ""
        ])
        .prop_map(str::to_string),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_value_of_a_numeric_source_field_loads_or_names_the_field(
        field in any::<usize>(),
        raw in value(),
    ) {
        let (name, text) = source_with(field, &raw);
        let path = Path::new("sources/fuzz.toml");
        if toml::from_str::<toml::Table>(&text).is_err() {
            // Not TOML at all: the error gives the line instead of a key.
            let e = load_str(path, &text).unwrap_err();
            prop_assert!(e.line.is_some(), "{e}");
            return Ok(());
        }
        match load_str(path, &text) {
            Ok(def) => {
                let p = &def.politeness;
                let start = Instant::now();
                if let Some(ms) = p.min_spacing_ms {
                    prop_assert!(start.checked_add(Duration::from_millis(ms)).is_some());
                }
                if let Some(secs) = p.timeout_secs {
                    prop_assert!(start.checked_add(Duration::from_secs(secs)).is_some());
                }
                if let KindSpec::Json(json) = &def.spec
                    && let Some(pagination) = &json.pagination
                    && let PageRule::OffsetParam { start, .. } = pagination.rule
                {
                    let size = u64::from(pagination.page_size.unwrap_or(1));
                    let last = u64::from(pagination.max_pages);
                    prop_assert!(last.checked_mul(size).and_then(|n| n.checked_add(start)).is_some());
                }
            }
            Err(e) => {
                let shown = e.to_string();
                prop_assert!(shown.starts_with("sources/fuzz.toml"), "{shown}");
                let last = name.rsplit('.').next().unwrap();
                prop_assert!(shown.contains(last), "{raw}: {shown}");
            }
        }
    }

    #[test]
    fn any_schedule_loads_or_is_refused_quickly(fields in proptest::collection::vec(cron_field(), 5)) {
        let schedule = fields.join(" ");
        let text = FEED.replace("0 6 * * *", &schedule);
        let started = Instant::now();
        if let Err(e) = load_str(Path::new("sources/fuzz.toml"), &text) {
            prop_assert!(e.to_string().contains("schedule"), "{schedule}: {e}");
        }
        prop_assert!(started.elapsed() < Duration::from_secs(5), "{schedule} took {:?}", started.elapsed());
    }
}

#[test]
fn a_mail_config_built_in_code_with_a_huge_lease_does_not_panic() {
    // Code that builds its MailConfig skips the range check at load.
    let mail = crate::deliver::MailConfig {
        claim_lease_secs: u64::MAX,
        ..Default::default()
    };
    let store = crate::store::Store::open_in_memory().unwrap();
    crate::deliver::outbox::recover_abandoned(store.conn(), &mail, Utc::now()).unwrap();
}

use super::*;

fn layer(text: &str) -> Option<(String, toml::Table)> {
    Some(("custom.toml".into(), toml::from_str(text).unwrap()))
}

#[test]
fn embedded_defaults_run_anywhere() {
    let c = Config::embedded();
    assert_eq!(c.database.path, PathBuf::from("vigie.db"));
    assert_eq!(c.crawl.sources_dir, PathBuf::from("sources"));
    assert_eq!(c.fetch.max_body_bytes, 10 * 1024 * 1024);
}

#[test]
fn a_file_then_the_environment_override_defaults() {
    let env = vec![
        ("VIGIE_FETCH__MIN_SPACING_MS".to_string(), "0".to_string()),
        ("VIGIE_DATABASE__PATH".into(), "/tmp/x.db".into()),
    ];
    let c = Config::from_layers(
        layer("[crawl]\nconcurrency = 3\n[database]\npath = \"f.db\"\n"),
        env.into_iter(),
    )
    .unwrap();
    assert_eq!(c.crawl.concurrency, 3);
    assert_eq!(c.fetch.min_spacing_ms, 0);
    assert_eq!(c.database.path, PathBuf::from("/tmp/x.db"));
    assert!(c.crawl.follow_details, "untouched keys keep their default");
}

#[test]
fn unknown_keys_are_errors_that_name_their_origin() {
    let err = Config::from_layers(layer("[crawl]\nconcurency = 3\n"), std::iter::empty())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("custom.toml") && err.contains("concurency"),
        "{err}"
    );
    assert!(err.ends_with("(did you mean `concurrency`?)"), "{err}");
    let env = vec![("VIGIE_FETCH__TIMEOUT".to_string(), "3".to_string())];
    let err = Config::from_layers(None, env.into_iter())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("VIGIE_FETCH__TIMEOUT") && err.contains("timeout"),
        "{err}"
    );
    let env = vec![("VIGIE_NOPE__X".to_string(), "3".to_string())];
    assert!(
        Config::from_layers(None, env.into_iter())
            .unwrap_err()
            .to_string()
            .contains("nope")
    );
}
#[test]
fn out_of_range_numbers_are_errors_naming_the_key_and_the_range() {
    for (text, key, range) in [
        (
            "[digest]\nclosing_soon_days = 100000000\n",
            "digest.closing_soon_days",
            "from 0 to 365 days",
        ),
        (
            "[mail]\nclaim_lease_secs = 9223372036854775807\n",
            "mail.claim_lease_secs",
            "from 0 to 604800 seconds",
        ),
        (
            "[fetch]\nmin_spacing_ms = 9000000000000\n",
            "fetch.min_spacing_ms",
            "from 0 to 60000 milliseconds",
        ),
        (
            "[crawl]\nconcurrency = 0\n",
            "crawl.concurrency",
            "from 1 to 256 sources",
        ),
        (
            "[service]\nbackoff_max_secs = 9223372036854775807\n",
            "service.backoff_max_secs",
            "from 1 to 604800 seconds",
        ),
        (
            "[curators]\ndrop_window = 0\n",
            "curators.drop_window",
            "from 1 to 100 runs",
        ),
    ] {
        let err = Config::from_layers(layer(text), std::iter::empty())
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("custom.toml: "), "{err}");
        assert!(err.contains(key) && err.contains(range), "{err}");
    }
    let env = vec![(
        "VIGIE_FETCH__TIMEOUT_SECS".to_string(),
        "86400000".to_string(),
    )];
    let err = Config::from_layers(None, env.into_iter())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("VIGIE_FETCH__TIMEOUT_SECS") && err.contains("from 1 to 600 seconds"),
        "{err}"
    );
}

#[test]
fn wrong_types_and_negative_numbers_name_the_key() {
    for (text, key) in [
        ("[fetch]\nmin_spacing_ms = -1\n", "min_spacing_ms"),
        ("[mail]\npool_size = \"NaN\"\n", "pool_size"),
        ("[digest]\nmax_calls = 1e400\n", "max_calls"),
        (
            "[crawl]\nmax_details = 99999999999999999999\n",
            "max_details",
        ),
    ] {
        let shown = match toml::from_str::<toml::Table>(text) {
            Ok(t) => Config::from_layers(Some(("custom.toml".into(), t)), std::iter::empty())
                .unwrap_err()
                .to_string(),
            // Not TOML at all: the file reader names the file and the line.
            Err(e) => e.to_string(),
        };
        assert!(shown.contains(key), "{text}: {shown}");
    }
}

#[test]
fn the_embedded_defaults_are_within_their_ranges() {
    Config::embedded().check_ranges().unwrap();
}

#[test]
fn explain_names_the_layer_of_each_value_and_masks_secrets() {
    let env = vec![
        (
            "VIGIE_MAIL__SMTP_PASSWORD".to_string(),
            "hunter2".to_string(),
        ),
        ("VIGIE_CRAWL__CONCURRENCY".into(), "2".into()),
        ("HOME".into(), "/root".into()),
    ];
    let flags = vec![(
        "database.path".to_string(),
        "--db".to_string(),
        toml::Value::String("/tmp/f.db".into()),
    )];
    let shown = explain_layers(
        layer("[digest]\nsite_url = \"https://vigie.example.fr\"\n[database]\npath = \"x.db\"\n"),
        env.into_iter(),
        flags,
    )
    .unwrap();
    let get = |section: &str, key: &str| {
        shown
            .iter()
            .find(|v| v.section == section && v.key == key)
            .unwrap_or_else(|| panic!("{section}.{key} missing"))
            .clone()
    };
    let pw = get("mail", "smtp_password");
    assert_eq!(pw.value, MASK);
    assert_eq!(pw.layer, Layer::Env("VIGIE_MAIL__SMTP_PASSWORD".into()));
    assert!(shown.iter().all(|v| !v.value.contains("hunter2")));
    assert_eq!(get("crawl", "concurrency").value, "2");
    assert_eq!(
        get("digest", "site_url").layer,
        Layer::File("custom.toml".into())
    );
    assert_eq!(get("database", "path").layer, Layer::Flag("--db".into()));
    assert_eq!(get("database", "path").value, "\"/tmp/f.db\"");
    assert_eq!(get("fetch", "robots").layer, Layer::Embedded);
    assert_eq!(get("mail", "dkim_key_file").value, "\"\"");
    let text = render_shown(&shown);
    assert!(text.contains("\n[mail]\n"), "{text}");
    let line = text
        .lines()
        .find(|l| l.starts_with("smtp_password "))
        .unwrap();
    assert!(line.ends_with("# env VIGIE_MAIL__SMTP_PASSWORD"), "{line}");
    // What it prints reads back as a configuration (comments and all).
    let back: toml::Table = toml::from_str(&text).unwrap();
    assert_eq!(back["crawl"]["concurrency"].as_integer(), Some(2));
}

#[test]
fn secrets_are_recognised_by_name_and_empty_ones_stay_visible() {
    for key in ["smtp_password", "api_token", "client_secret", "PASSWORD"] {
        assert!(is_secret(key), "{key}");
        assert_eq!(redact(key, &toml::Value::String("s3cr3t".into())), MASK);
    }
    assert!(!is_secret("dkim_key_file"));
    assert_eq!(
        redact("smtp_password", &toml::Value::String(String::new())),
        "\"\""
    );
    assert_eq!(redact("api_token", &toml::Value::Integer(12345)), MASK);
}

proptest::proptest! {
    /// Whatever a secret is set to, and through whichever layer, its
    /// value never reaches the output.
    #[test]
    fn a_secret_value_never_shows(
        tail in "[a-zA-Z0-9!#%&*+.:;=?@^_~ -]{0,40}",
        key in proptest::sample::select(vec!["smtp_password", "api_token", "client_secret"]),
        by_env in proptest::bool::ANY,
    ) {
        // A marker no configuration text holds, so that a hit is a leak.
        let value = format!("Xq7z{tail}");
        let (file, env) = if by_env {
            (None, vec![(format!("VIGIE_MAIL__{}", key.to_uppercase()), value.clone())])
        } else {
            (layer(&format!("[mail]\n{key} = {}\n", toml::Value::String(value.clone()))), vec![])
        };
        let shown = explain_layers(file, env.into_iter(), Vec::new()).unwrap();
        let text = render_shown(&shown);
        proptest::prop_assert!(!text.contains("Xq7z"), "{} shows in\n{}", value, text);
        let line = text.lines().find(|l| l.starts_with(&format!("{key} = "))).unwrap();
        proptest::prop_assert!(line.contains(MASK), "{}", line);
    }
}

//! A site whose TLS certificate Vigie refuses (here a self-signed one; on
//! real sites usually a server that omits an intermediate certificate,
//! which browsers work around by fetching it themselves): a real HTTPS
//! server on loopback (`tests/https_server.py`), with a certificate made by
//! `openssl` for the test.

use std::process::{Child, Command};

use serde_json::Value;
use url::Url;
use vigie::fetch::{FetchConfig, FetchError, FetchRequest, Fetcher};

use crate::support::smtp::start_python_server;
use crate::support::{Scenario, all_output};

/// A Python HTTPS server with a self-signed certificate for 127.0.0.1.
struct HttpsServer {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl HttpsServer {
    fn start() -> HttpsServer {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        let made = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            ])
            .args([
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
            ])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .output()
            .expect("this test needs the `openssl` command (Debian: apt-get install openssl)");
        assert!(
            made.status.success(),
            "openssl could not make a certificate: {}",
            String::from_utf8_lossy(&made.stderr)
        );
        let (child, port) = start_python_server(
            "tests/https_server.py",
            &[cert.as_os_str(), key.as_os_str()],
            "the HTTPS server",
        );
        HttpsServer {
            child,
            port,
            _dir: dir,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for HttpsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn a_refused_certificate_is_named_with_its_likely_cause_and_not_retried() {
    let server = HttpsServer::start();
    let config = FetchConfig {
        min_spacing_ms: 0,
        backoff_base_ms: 10,
        connect_timeout_secs: 5,
        allow_hosts: vec!["127.0.0.1".into()],
        ..FetchConfig::default()
    };
    let url = Url::parse(&server.url("/aides/")).unwrap();
    let outcome = Fetcher::new(config)
        .unwrap()
        .fetch(&FetchRequest::get(url))
        .await;
    let error = match outcome {
        Err(error @ FetchError::Certificate { .. }) => error,
        other => panic!("expected a refused certificate, got {other:?}"),
    };
    assert!(!error.is_retryable());
    let message = error.to_string();
    assert!(
        message.contains("TLS certificate of 127.0.0.1 was refused")
            && message.contains("intermediate certificate"),
        "{message}"
    );
}

#[test]
fn a_crawl_reports_the_refused_certificate_with_its_code() {
    let server = HttpsServer::start();
    let sc = Scenario::new();
    sc.source(
        "tls",
        &format!(
            r#"id = "tls"
name = "TLS"
kind = "html"
url = "{}"
schedule = "0 6 * * *"

[html]
item = "article"
title = "h2"
"#,
            server.url("/aides/")
        ),
    );
    let out = sc.vigie(&["crawl", "--format", "json"]);
    assert!(!out.status.success(), "{}", all_output(&out));
    let report: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report[0]["outcome"], "failed", "{report:#?}");
    assert_eq!(report[0]["error_code"], "certificate", "{report:#?}");
    assert_eq!(report[0]["transient"], false, "{report:#?}");
}

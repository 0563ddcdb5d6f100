//! SMTP sessions. Each worker slot owns one connection: opened on its first
//! message, reused for the next ones, closed with `QUIT` when the slot runs
//! out of work, dropped (and reopened) after any error.
//!
//! lettre speaks the protocol; this module opens the TCP connection itself
//! so that it can set `TCP_NODELAY`. lettre writes a message's body and its
//! end-of-data marker (`CRLF.CRLF`) in two writes; with Nagle's algorithm
//! on, the kernel holds the 5-byte marker until the server acknowledges the
//! body, and Linux servers delay that acknowledgement up to 40 ms. Every
//! message then waited ~40 ms (81 messages/s with 4 connections), and the
//! marker sat in our kernel buffer where a killed sender still delivers it,
//! widening the window in which a crash resends a message (see
//! `deliver/mod.rs`). Plain and STARTTLS connections get `TCP_NODELAY`;
//! implicit TLS (`smtp_security = "tls"`, port 465) is opened by lettre,
//! which does not set it.

use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Tls};
use lettre::transport::smtp::extension::ClientId;
use tokio::net::TcpStream;

use super::transport::{Outcome, classify};

/// Where and how to connect; built once by `Transport::from_config`.
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: Tls,
    pub credentials: Option<Credentials>,
    /// Allowed for opening a connection (greeting, EHLO, STARTTLS, AUTH
    /// included) and, separately, for each message's transaction.
    pub timeout: Duration,
    pub hello: ClientId,
}

/// One slot's connection to the relay.
pub struct SmtpSession<'a> {
    settings: &'a SmtpSettings,
    /// Boxed: lettre's connection holds its buffers inline.
    conn: Option<Box<AsyncSmtpConnection>>,
}

impl<'a> SmtpSession<'a> {
    pub fn new(settings: &'a SmtpSettings) -> Self {
        SmtpSession {
            settings,
            conn: None,
        }
    }

    /// Sends one message. A connection the server closed while it sat idle
    /// between two messages fails on its first command; that case (a network
    /// error on a reused connection) is retried once on a fresh connection
    /// instead of costing the message a backoff delay.
    pub async fn send(&mut self, envelope: &Envelope, message: &[u8]) -> Outcome {
        let reused = self.conn.is_some();
        match self.attempt(envelope, message).await {
            Err(Failure::Network(reason)) if reused => {
                tracing::debug!(%reason, "reused SMTP connection failed, reconnecting");
                match self.attempt(envelope, message).await {
                    Ok(()) => Outcome::Sent,
                    Err(failure) => failure.into_outcome(),
                }
            }
            Ok(()) => Outcome::Sent,
            Err(failure) => failure.into_outcome(),
        }
    }

    /// Ends the session politely; errors do not matter any more.
    pub async fn close(mut self) {
        if let Some(mut conn) = self.conn.take() {
            let _ = tokio::time::timeout(self.settings.timeout, conn.quit()).await;
        }
    }

    async fn attempt(&mut self, envelope: &Envelope, message: &[u8]) -> Result<(), Failure> {
        let mut conn = match self.conn.take() {
            Some(conn) => conn,
            None => Box::new(connect(self.settings).await?),
        };
        let timeout = self.settings.timeout;
        match tokio::time::timeout(timeout, conn.send(envelope, message)).await {
            Ok(Ok(_)) => {
                self.conn = Some(conn);
                Ok(())
            }
            // lettre has already sent QUIT and closed the connection.
            Ok(Err(e)) => Err(Failure::from_lettre(&e)),
            Err(_) => Err(Failure::Network(format!(
                "no answer from the SMTP server within {} s",
                timeout.as_secs()
            ))),
        }
    }
}

/// Why an attempt failed: a network failure may be worth an immediate
/// retry on a fresh connection, anything else is classified as is.
enum Failure {
    Network(String),
    Other(Outcome),
}

impl Failure {
    fn from_lettre(e: &lettre::transport::smtp::Error) -> Failure {
        match classify(e) {
            Outcome::Transient(reason) if e.status().is_none() && !e.is_client() => {
                Failure::Network(reason)
            }
            other => Failure::Other(other),
        }
    }

    fn into_outcome(self) -> Outcome {
        match self {
            Failure::Network(reason) => Outcome::Transient(reason),
            Failure::Other(outcome) => outcome,
        }
    }
}

async fn connect(settings: &SmtpSettings) -> Result<AsyncSmtpConnection, Failure> {
    let timeout = settings.timeout;
    let opened = tokio::time::timeout(timeout, open(settings)).await;
    let mut conn = match opened {
        Ok(Ok(conn)) => conn,
        Ok(Err(failure)) => return Err(failure),
        Err(_) => {
            return Err(Failure::Network(format!(
                "connecting to {}:{} took more than {} s",
                settings.host,
                settings.port,
                timeout.as_secs()
            )));
        }
    };
    if let Some(credentials) = &settings.credentials {
        match tokio::time::timeout(timeout, conn.auth(DEFAULT_MECHANISMS, credentials)).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(Failure::from_lettre(&e)),
            Err(_) => {
                return Err(Failure::Network(format!(
                    "authentication took more than {} s",
                    timeout.as_secs()
                )));
            }
        }
    }
    Ok(conn)
}

async fn open(settings: &SmtpSettings) -> Result<AsyncSmtpConnection, Failure> {
    let address = (settings.host.as_str(), settings.port);
    let lettre_failure = |e: lettre::transport::smtp::Error| Failure::from_lettre(&e);
    if let Tls::Wrapper(params) = &settings.tls {
        return AsyncSmtpConnection::connect_tokio1(
            address,
            Some(settings.timeout),
            &settings.hello,
            Some(params.clone()),
            None,
        )
        .await
        .map_err(lettre_failure);
    }
    let tcp = TcpStream::connect(address).await.map_err(|e| {
        Failure::Network(format!(
            "connecting to {}:{}: {e}",
            settings.host, settings.port
        ))
    })?;
    tcp.set_nodelay(true)
        .map_err(|e| Failure::Network(format!("setting TCP_NODELAY: {e}")))?;
    let mut conn = AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &settings.hello)
        .await
        .map_err(lettre_failure)?;
    match &settings.tls {
        Tls::Required(params) => {
            if !conn.can_starttls() {
                conn.abort().await;
                return Err(Failure::Other(Outcome::Transient(format!(
                    "{} does not offer STARTTLS, which mail.smtp_security = \"starttls\" requires",
                    settings.host
                ))));
            }
            conn.starttls(params.clone(), &settings.hello)
                .await
                .map_err(lettre_failure)?;
        }
        Tls::Opportunistic(params) if conn.can_starttls() => {
            conn.starttls(params.clone(), &settings.hello)
                .await
                .map_err(lettre_failure)?;
        }
        _ => {}
    }
    Ok(conn)
}

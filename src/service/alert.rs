//! The curators' alert: one French email per change of a source's health
//! (broken in some way, then recovered), queued in the outbox inside the
//! transaction that records the change. The outbox key
//! `alert:<source>:<n>:<curator>` (n numbers the source's alerts) makes a
//! retried transaction or a second process queue nothing twice; the outbox
//! then sends it as it sends digests, surviving crashes.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction};

use super::Health;
use crate::config::Config;
use crate::deliver::{NewMessage, enqueue};
use crate::digest::french::{date_long, time_of_day};

/// What an alert says about a source.
#[derive(Debug, Clone)]
pub struct Alert<'a> {
    pub source_id: &'a str,
    pub name: &'a str,
    /// The definition to correct, as curators find it: the file, and for a
    /// source expanded from a template, its row of the data file.
    pub definition: &'a str,
    pub url: &'a str,
    pub from: Health,
    pub to: Health,
    pub failures: u32,
    /// The last run's error, if it failed.
    pub error: Option<&'a str>,
    /// Items found by the last run.
    pub items: u32,
    /// The usual item count (median of the previous successful runs).
    pub usual: Option<f64>,
    /// The last successful run: when, and how many items it found.
    pub last_good: Option<(DateTime<Utc>, u32)>,
}

/// A composed alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertEmail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Whether curators are told about a change from what they were last told
/// (`alerted`) to `now`: every change of state, once.
pub fn warrants_alert(alerted: Health, now: Health) -> bool {
    alerted != now
}

fn paris_time(t: DateTime<Utc>) -> String {
    format!("le {} à {}", date_long(&t), time_of_day(&t))
}

/// Writes the alert in French (subject, text and HTML parts).
pub fn compose(a: &Alert) -> AlertEmail {
    let name = crate::digest::text::one_line(a.name);
    let subject = match a.to {
        Health::Healthy => format!("[Vigie] Source rétablie : {name}"),
        Health::Failing => format!(
            "[Vigie] Source en échec : {name} ({} échecs de suite)",
            a.failures
        ),
        Health::ZeroMatch => format!("[Vigie] Plus aucun appel trouvé : {name}"),
        Health::Drop => format!("[Vigie] Chute soudaine du nombre d'appels : {name}"),
    };
    let mut lines: Vec<String> = Vec::new();
    lines.push(format!("Source : {name} ({})", a.source_id));
    lines.push(format!("Adresse : {}", a.url));
    let state = match a.to {
        Health::Healthy => match a.from {
            Health::Drop => "la source retrouve un nombre d'éléments habituel.".to_string(),
            _ => "la source fonctionne de nouveau.".to_string(),
        },
        Health::Failing => format!(
            "les {} derniers passages ont échoué ; la source est relancée de plus en plus \
             espacément, ses appels déjà enregistrés restent en ligne.",
            a.failures
        ),
        Health::ZeroMatch => "la page a bien été téléchargée, mais les sélecteurs n'en \
             extraient plus aucun élément alors qu'ils en trouvaient auparavant : la mise en page \
             du site a probablement changé."
            .to_string(),
        Health::Drop => format!(
            "le dernier passage n'a trouvé que {} élément(s), contre {} d'habitude \
             (médiane des derniers passages réussis).",
            a.items,
            a.usual
                .map_or_else(|| "?".to_string(), |u| format!("{u:.0}"))
        ),
    };
    lines.push(format!("État : {state}"));
    if let Some(error) = a.error.filter(|_| a.to != Health::Healthy) {
        lines.push(format!(
            "Dernière erreur : {}",
            crate::digest::text::one_line(error)
        ));
    }
    lines.push(match a.last_good {
        Some((at, items)) => format!(
            "Dernier passage réussi : {} ({items} élément(s)).",
            paris_time(at)
        ),
        None => "Dernier passage réussi : aucun.".to_string(),
    });
    let advice = match a.to {
        Health::Healthy => "Rien à faire : cette alerte est close.".to_string(),
        Health::Failing => format!(
            "À vérifier : que l'adresse répond dans un navigateur, puis lancer \
             `vigie sources check {} --fetch` pour voir l'erreur en détail.",
            a.source_id
        ),
        Health::ZeroMatch | Health::Drop => format!(
            "À vérifier : lancer `vigie sources check {} --fetch` et comparer ce qui est extrait \
             avec la page ; corriger au besoin les sélecteurs dans {}.",
            a.source_id, a.definition
        ),
    };
    lines.push(String::new());
    lines.push(advice);
    lines.push(String::new());
    lines.push(
        "Ce message est envoyé une seule fois par changement d'état ; \
         `vigie sources status` donne l'état de toutes les sources."
            .to_string(),
    );
    let text = lines.join("\n") + "\n";
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\"><title>{}</title></head>\
         <body>{}</body></html>\n",
        html_escape::encode_text(&subject),
        lines
            .iter()
            .filter(|l| !l.is_empty())
            .map(|l| format!("<p>{}</p>", html_escape::encode_text(l)))
            .collect::<String>()
    );
    AlertEmail {
        subject,
        text,
        html,
    }
}

/// Queues `email` for every curator (`curators.emails`), inside `tx`. `number` is this
/// source's alert number (part of the idempotency key). Returns how many
/// rows were queued.
pub fn enqueue_alert(
    tx: &Transaction,
    source_id: &str,
    number: u32,
    email: &AlertEmail,
    config: &Config,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let mut queued = 0;
    for to in &config.curators.emails {
        let msg = NewMessage {
            idempotency_key: format!("alert:{source_id}:{number}:{to}"),
            subscriber_id: None,
            to: to.clone(),
            subject: email.subject.clone(),
            html: email.html.clone(),
            text: email.text.clone(),
            // Curators are not subscribers; the header is still required by
            // the message builder, so it names the site.
            list_unsubscribe_url: config.digest.site().to_string(),
            list_unsubscribe_mailto: None,
        };
        if enqueue(tx, &msg, &config.mail, now)?.is_some() {
            queued += 1;
        }
    }
    Ok(queued)
}

/// The last successful run of a source: when it finished and its items.
pub fn last_good_run(
    tx: &Transaction,
    source_id: &str,
) -> anyhow::Result<Option<(DateTime<Utc>, u32)>> {
    let row: Option<(String, u32)> = tx
        .query_row(
            "SELECT finished_at, items FROM crawl_runs WHERE source_id = ?1 AND outcome = 'ok'
             ORDER BY id DESC LIMIT 1",
            [source_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    row.map(|(at, items)| {
        let at = DateTime::parse_from_rfc3339(&at)
            .map_err(|e| anyhow::anyhow!("crawl_runs.finished_at `{at}`: {e}"))?;
        Ok((at.with_timezone(&Utc), items))
    })
    .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(to: Health) -> Alert<'static> {
        Alert {
            source_id: "siaf",
            name: "SIAF <archives>",
            definition: "sources/siaf.toml",
            url: "https://example.gouv.fr/aap",
            from: Health::Healthy,
            to,
            failures: 3,
            error: Some("HTTP 503 from https://example.gouv.fr/aap"),
            items: 2,
            usual: Some(11.0),
            last_good: Some((
                DateTime::parse_from_rfc3339("2026-05-04T04:00:00Z")
                    .unwrap()
                    .with_timezone(&Utc),
                11,
            )),
        }
    }

    #[test]
    fn an_alert_names_the_source_the_error_the_last_good_run_and_what_to_check() {
        let e = compose(&alert(Health::Failing));
        assert_eq!(
            e.subject,
            "[Vigie] Source en échec : SIAF <archives> (3 échecs de suite)"
        );
        assert!(e.text.contains("HTTP 503"), "{}", e.text);
        assert!(
            e.text.contains("lundi 4 mai 2026 à 6 h (11 élément(s))"),
            "{}",
            e.text
        );
        assert!(e.text.contains("vigie sources check siaf --fetch"));
        assert!(e.html.contains("SIAF &lt;archives&gt;"), "{}", e.html);
        assert!(!e.html.contains("<archives>"));
    }

    #[test]
    fn each_state_has_its_own_french_subject() {
        let subjects: Vec<String> = Health::ALL
            .iter()
            .map(|&h| compose(&alert(h)).subject)
            .collect();
        assert_eq!(subjects[0], "[Vigie] Source rétablie : SIAF <archives>");
        assert!(subjects[2].starts_with("[Vigie] Plus aucun appel trouvé"));
        assert!(subjects[3].starts_with("[Vigie] Chute soudaine"));
        let recovered = compose(&alert(Health::Healthy));
        assert!(
            !recovered.text.contains("503"),
            "a recovery repeats no error"
        );
        let drop = compose(&alert(Health::Drop));
        assert!(
            drop.text.contains("que 2 élément(s), contre 11"),
            "{}",
            drop.text
        );
    }

    #[test]
    fn a_change_of_state_is_alerted_and_no_change_is_not() {
        assert!(warrants_alert(Health::Healthy, Health::Failing));
        assert!(warrants_alert(Health::Failing, Health::Healthy));
        assert!(warrants_alert(Health::Failing, Health::ZeroMatch));
        assert!(!warrants_alert(Health::Failing, Health::Failing));
        assert!(!warrants_alert(Health::Healthy, Health::Healthy));
    }
}

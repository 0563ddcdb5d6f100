//! The emails of the sign-up flow, queued in the outbox like digests (the
//! daemon's delivery loop sends them, with retries): the confirmation link
//! for a new or returning address, and the manage link for an address
//! that is already subscribed (so the form never reveals which is which).

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::deliver::message::NewMessage;
use crate::deliver::outbox::enqueue;
use crate::store::Store;
use crate::subscribers::Subscriber;
use crate::subscribers::model::{new_token, token_hash};
use crate::subscribers::store::record_token;

/// Where the text of an email wants its manage link (replaced by the
/// link with the token minted for that email).
const MANAGE_LINK: &str = "\u{1}lien-de-gestion\u{1}";

fn queue(
    store: &Store,
    config: &Config,
    s: &Subscriber,
    key: String,
    subject: &str,
    text: String,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let tx = store.conn().unchecked_transaction()?;
    // This email's own manage/unsubscribe token, stored hashed with it.
    let manage = new_token()?;
    record_token(&tx, s.id, &manage, now)?;
    let text = text.replace(MANAGE_LINK, &config.digest.manage_url(&manage));
    let html = format!(
        "<!DOCTYPE html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body>{body}</body></html>",
        title = html_escape::encode_text(subject),
        body = text
            .split("\n\n")
            .map(|p| format!("<p>{}</p>", linkify(p)))
            .collect::<String>()
    );
    let msg = NewMessage {
        idempotency_key: key,
        subscriber_id: Some(s.id),
        to: s.profile.email.to_string(),
        subject: subject.to_string(),
        html,
        text,
        list_unsubscribe_url: config.digest.unsubscribe_url(&manage),
        list_unsubscribe_mailto: None,
    };
    enqueue(&tx, &msg, &config.mail, now)?;
    tx.commit()?;
    Ok(())
}

/// Escapes a paragraph and makes its own links (lines that are a URL of
/// this site) clickable.
fn linkify(paragraph: &str) -> String {
    paragraph
        .lines()
        .map(|line| {
            let escaped = html_escape::encode_text(line).to_string();
            if line.starts_with("http://") || line.starts_with("https://") {
                let href = html_escape::encode_double_quoted_attribute(line);
                format!("<a href=\"{href}\">{escaped}</a>")
            } else {
                escaped
            }
        })
        .collect::<Vec<_>>()
        .join("<br>")
}

/// The confirmation link for a pending sign-up.
pub fn queue_confirmation(
    store: &Store,
    config: &Config,
    s: &Subscriber,
    token: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let link = format!("{}/abonnement/confirmer/{token}", config.digest.site());
    let text = format!(
        "Bonjour,\n\n\
         Une alerte Vigie a été demandée pour {name} à cette adresse. Pour la confirmer, ouvrez \
         ce lien puis appuyez sur « Confirmer mon alerte » :\n{link}\n\n\
         Ce lien est valable 7 jours. Si vous n'avez rien demandé, ignorez ce message : \
         aucune alerte ne sera envoyée.\n\n\
         Vigie, les appels à projets pour les collectivités",
        name = s.profile.name
    );
    // One message per token: signing up twice sends two links, the newest
    // one working.
    let key = format!("signup:{}:{}", s.id, &token_hash(token)[..16]);
    queue(
        store,
        config,
        s,
        key,
        "Confirmez votre alerte Vigie",
        text,
        now,
    )
}

/// For an address already subscribed: its manage link, nothing else.
pub fn queue_reminder(
    store: &Store,
    config: &Config,
    s: &Subscriber,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let link = MANAGE_LINK;
    let text = format!(
        "Bonjour,\n\n\
         Une inscription à Vigie vient d'être demandée pour cette adresse, qui reçoit déjà les \
         alertes de {name}. Rien n'a changé. Pour modifier votre alerte, la mettre en pause ou \
         vous désabonner, utilisez ce lien :\n{link}\n\n\
         Vigie, les appels à projets pour les collectivités",
        name = s.profile.name
    );
    let key = format!("signup-known:{}:{}", s.id, now.timestamp());
    queue(store, config, s, key, "Votre alerte Vigie", text, now)
}

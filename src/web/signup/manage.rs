//! The pages reached from every email's links: "manage my alert"
//! (`/abonnement/{token}`: change the profile, pause, resume) and
//! unsubscription (`/desabonnement/{token}`, also the RFC 8058 one-click
//! endpoint).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::form::{Fields, FormView};
use super::{checked_form, expired_link, message, page, see_other, summary, with_csrf};
use crate::subscribers::{Subscriber, SubscriberStatus};
use crate::web::{WebError, WebState, pages};

async fn subscriber_by_token(
    state: &WebState,
    token: &str,
) -> Result<Option<Subscriber>, WebError> {
    let t = token.to_string();
    let now = state.now();
    state
        .read(move |store| store.subscriber_by_token(&t, now))
        .await
}

fn manage_view(
    state: &WebState,
    headers: &HeaderMap,
    s: &Subscriber,
    token: &str,
    fields: Fields,
    errors: Vec<(&'static str, String)>,
    notice: Option<&str>,
) -> Response {
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    with_csrf(state, headers, |csrf| {
        page(
            state,
            status,
            "manage.html.j2",
            serde_json::json!({
                "csrf": csrf,
                "token": token,
                "profile": summary(s),
                "form": FormView::new(fields, errors),
                "notice": notice,
            }),
        )
    })
}

pub(super) async fn manage_page(
    State(state): State<WebState>,
    Path(token): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let s = match subscriber_by_token(&state, &token).await {
        Ok(Some(s)) => s,
        Ok(None) => return expired_link(&state),
        Err(e) => return pages::server_error(&state, &e),
    };
    if s.status == SubscriberStatus::Unsubscribed {
        return message(
            &state,
            StatusCode::OK,
            "Vous êtes désabonné",
            "Cette adresse ne reçoit plus d'alertes. Pour en recevoir de nouveau, inscrivez-vous : \
             un message de confirmation vous sera envoyé.",
            Some(("/abonnement", "S'inscrire de nouveau")),
        );
    }
    let notice = match query.as_deref() {
        Some("etat=confirme") => Some(
            "Votre alerte est confirmée : vous recevrez les prochains appels qui vous concernent.",
        ),
        Some("etat=modifie") => Some("Vos préférences sont enregistrées."),
        Some("etat=pause") => Some(
            "Votre alerte est en pause : aucun message ne vous sera envoyé jusqu'à sa reprise.",
        ),
        Some("etat=reprise") => Some("Votre alerte a repris."),
        _ => None,
    };
    let fields = Fields::of(&s.profile);
    manage_view(&state, &headers, &s, &token, fields, vec![], notice)
}

pub(super) async fn update(
    State(state): State<WebState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let pairs = match checked_form(&state, &headers, &body) {
        Ok(pairs) => pairs,
        Err(refusal) => return *refusal,
    };
    let s = match subscriber_by_token(&state, &token).await {
        Ok(Some(s)) => s,
        Ok(None) => return expired_link(&state),
        Err(e) => return pages::server_error(&state, &e),
    };
    let mut fields = Fields::from_pairs(&pairs);
    // The address is not part of this form: it stays.
    fields.email = s.profile.email.to_string();
    let profile = match fields.to_profile() {
        Ok(p) => p,
        Err(errors) => return manage_view(&state, &headers, &s, &token, fields, errors, None),
    };
    let now = state.now();
    let t = token.clone();
    match state
        .write(move |store| Ok(store.update_profile_by_token(&t, &profile, now)))
        .await
    {
        Ok(Ok(_)) => see_other(&format!("/abonnement/{token}?etat=modifie")),
        Ok(Err(_)) => expired_link(&state),
        Err(e) => pages::server_error(&state, &e),
    }
}

async fn set_paused(
    state: WebState,
    token: String,
    headers: HeaderMap,
    body: Bytes,
    paused: bool,
) -> Response {
    if let Err(refusal) = checked_form(&state, &headers, &body) {
        return *refusal;
    }
    let now = state.now();
    let t = token.clone();
    match state
        .write(move |store| Ok(store.set_paused(&t, paused, now)))
        .await
    {
        Ok(Ok(_)) => see_other(&format!(
            "/abonnement/{token}?etat={}",
            if paused { "pause" } else { "reprise" }
        )),
        Ok(Err(_)) => expired_link(&state),
        Err(e) => pages::server_error(&state, &e),
    }
}

pub(super) async fn pause(
    State(state): State<WebState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    set_paused(state, token, headers, body, true).await
}

pub(super) async fn resume(
    State(state): State<WebState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    set_paused(state, token, headers, body, false).await
}

pub(super) async fn unsubscribe_page(
    State(state): State<WebState>,
    Path(token): Path<String>,
) -> Response {
    match subscriber_by_token(&state, &token).await {
        Ok(Some(s)) => page(
            &state,
            StatusCode::OK,
            "unsubscribe.html.j2",
            serde_json::json!({
                "action": format!("/desabonnement/{token}"),
                "manage": format!("/abonnement/{token}"),
                "profile": summary(&s),
                "done": s.status == SubscriberStatus::Unsubscribed,
            }),
        ),
        Ok(None) => expired_link(&state),
        Err(e) => pages::server_error(&state, &e),
    }
}

/// Both the page's button and RFC 8058 one-click posts: the secret token
/// in the URL is the authorization (no CSRF check by design of the RFC).
/// Idempotent.
pub(super) async fn unsubscribe(
    State(state): State<WebState>,
    Path(token): Path<String>,
) -> Response {
    let now = state.now();
    match state
        .write(move |store| Ok(store.unsubscribe(&token, now)))
        .await
    {
        Ok(Ok(_)) => message(
            &state,
            StatusCode::OK,
            "Vous êtes désabonné",
            "Vous ne recevrez plus d'alertes Vigie à cette adresse. Vous pouvez vous inscrire de \
             nouveau à tout moment.",
            Some(("/abonnement", "S'inscrire de nouveau")),
        ),
        Ok(Err(_)) => expired_link(&state),
        Err(e) => pages::server_error(&state, &e),
    }
}

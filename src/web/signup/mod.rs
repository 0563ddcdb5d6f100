//! Self-service alerts: sign-up (`/abonnement`), confirmation by POST
//! (`/abonnement/confirmer/{token}`), the "manage my alert" page reached
//! from every email (`/abonnement/{token}`: change the profile, pause,
//! resume), and unsubscription (`/desabonnement/{token}`, which is also
//! the RFC 8058 one-click endpoint that mail clients post to).
//!
//! Nothing is written by a GET: mail scanners that fetch every link in a
//! message confirm and unsubscribe nothing. Whatever address is submitted,
//! the visitor sees the same "check your inbox" page, so the form does not
//! reveal who is subscribed; a known address receives its manage link
//! instead of a new confirmation.

mod form;
pub(super) mod guard;
mod mail;
mod manage;

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use chrono::Duration as Days;

use self::form::{Fields, FormView};
use self::guard::{ClientIp, RateLimit, Refusal, check_post, csrf_cookie, csrf_token};
use super::views::CallView;
use super::{WebError, WebState, pages};
use crate::matching::{CallFacts, Matcher};
use crate::store::CallFilter;
use crate::subscribers::{Profile, Subscriber, SubscriberError, SubscriberStatus};

/// Sign-ups accepted per client address per window.
const PER_IP: usize = 10;
/// Sign-ups (and so emails) per email address per window.
const PER_ADDRESS: usize = 3;
const WINDOW: Duration = Duration::from_secs(3600);

/// The sign-up rate limits, shared by every request.
pub struct Limits {
    ip: RateLimit,
    address: RateLimit,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            ip: RateLimit::new(PER_IP, WINDOW),
            address: RateLimit::new(PER_ADDRESS, WINDOW),
        }
    }
}

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/abonnement", get(signup_page).post(signup))
        .route(
            "/abonnement/confirmer/{token}",
            get(confirm_page).post(confirm),
        )
        .route(
            "/abonnement/{token}",
            get(manage::manage_page).post(manage::update),
        )
        .route("/abonnement/{token}/pause", post(manage::pause))
        .route("/abonnement/{token}/reprendre", post(manage::resume))
        .route(
            "/desabonnement/{token}",
            get(manage::unsubscribe_page).post(manage::unsubscribe),
        )
}

/// A page with a fresh or kept CSRF cookie.
fn with_csrf(
    state: &WebState,
    request: &HeaderMap,
    render: impl FnOnce(&str) -> Response,
) -> Response {
    let (token, new) = csrf_token(request);
    let mut response = render(&token);
    if new
        && let Ok(v) = HeaderValue::from_str(&csrf_cookie(
            &token,
            state.site_url().starts_with("https://"),
        ))
    {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

fn page(state: &WebState, status: StatusCode, name: &str, ctx: serde_json::Value) -> Response {
    match state.templates().render(name, ctx) {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => pages::server_error(state, &e),
    }
}

/// A French page with a title and a message (and an optional link).
fn message(
    state: &WebState,
    status: StatusCode,
    title: &str,
    text: &str,
    link: Option<(&str, &str)>,
) -> Response {
    page(
        state,
        status,
        "message.html.j2",
        serde_json::json!({
            "title": title,
            "message": text,
            "link": link.map(|(href, label)| serde_json::json!({"href": href, "label": label})),
        }),
    )
}

fn refused(state: &WebState, why: Refusal) -> Response {
    let text = match why {
        Refusal::Csrf => {
            "Le formulaire a expiré ou votre navigateur bloque les cookies de ce site. \
             Rechargez la page et renvoyez le formulaire."
        }
        Refusal::Origin => "Ce formulaire ne peut être envoyé que depuis ce site.",
    };
    message(
        state,
        StatusCode::FORBIDDEN,
        "Formulaire refusé",
        text,
        Some(("/abonnement", "Revenir au formulaire")),
    )
}

fn expired_link(state: &WebState) -> Response {
    message(
        state,
        StatusCode::NOT_FOUND,
        "Lien invalide ou expiré",
        "Ce lien n'est pas (ou plus) valable. Les liens de confirmation expirent après 7 jours : \
         inscrivez-vous de nouveau pour en recevoir un autre.",
        Some(("/abonnement", "S'inscrire")),
    )
}

/// The fields of a posted form whose CSRF check passes, or the page that
/// refuses it.
fn checked_form(
    state: &WebState,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Vec<(String, String)>, Box<Response>> {
    let pairs = form_pairs(body);
    match check_post(headers, field(&pairs, guard::CSRF_FIELD), &site_host(state)) {
        Ok(()) => Ok(pairs),
        Err(why) => Err(Box::new(refused(state, why))),
    }
}

fn form_pairs(body: &Bytes) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

fn site_host(state: &WebState) -> String {
    url::Url::parse(state.site_url())
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| u.port().map_or(h.to_string(), |p| format!("{h}:{p}")))
        })
        .unwrap_or_default()
}

fn see_other(location: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, location.to_string())],
    )
        .into_response()
}

async fn signup_page(State(state): State<WebState>, headers: HeaderMap) -> Response {
    with_csrf(&state, &headers, |csrf| {
        page(
            &state,
            StatusCode::OK,
            "signup.html.j2",
            serde_json::json!({ "form": FormView::new(Fields::default(), vec![]), "csrf": csrf }),
        )
    })
}

async fn signup(
    State(state): State<WebState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let pairs = match checked_form(&state, &headers, &body) {
        Ok(pairs) => pairs,
        Err(refusal) => return *refusal,
    };
    let fields = Fields::from_pairs(&pairs);
    let profile = match fields.to_profile() {
        Ok(p) => p,
        Err(errors) => {
            return with_csrf(&state, &headers, |csrf| {
                page(
                    &state,
                    StatusCode::BAD_REQUEST,
                    "signup.html.j2",
                    serde_json::json!({ "form": FormView::new(fields.clone(), errors), "csrf": csrf }),
                )
            });
        }
    };
    let now = Instant::now();
    let ip_key = ip.map_or_else(|| "inconnue".to_string(), |ip| ip.to_string());
    if !state.signup_limits().ip.allow(&ip_key, now)
        || !state
            .signup_limits()
            .address
            .allow(&profile.email.as_str().to_lowercase(), now)
    {
        return message(
            &state,
            StatusCode::TOO_MANY_REQUESTS,
            "Trop de demandes",
            "Trop d'inscriptions ont été demandées depuis votre connexion ou pour cette adresse. \
             Réessayez dans une heure ; si vous attendez un message, vérifiez vos courriers \
             indésirables.",
            None,
        );
    }
    let config = state.config().clone();
    let now = state.now();
    let queued = state
        .write(move |store| {
            store.purge_expired_signups(now)?;
            match store.create_pending(&profile, now) {
                Ok((s, token)) => mail::queue_confirmation(store, &config, &s, &token, now),
                Err(SubscriberError::AlreadySubscribed { email, .. }) => {
                    let s = store
                        .subscriber_by_email(&email)?
                        .ok_or_else(|| anyhow::anyhow!("{email} vanished during its sign-up"))?;
                    mail::queue_reminder(store, &config, &s, now)
                }
                Err(e) => Err(e.into()),
            }
        })
        .await;
    if let Err(e) = queued {
        return pages::server_error(&state, &e);
    }
    message(
        &state,
        StatusCode::OK,
        "Vérifiez votre messagerie",
        "Si cette adresse peut recevoir les alertes, un message vient de lui être envoyé. \
         Ouvrez-le et suivez son lien pour confirmer votre alerte (le lien est valable 7 jours). \
         Pensez à regarder dans les courriers indésirables.",
        Some(("/appels", "Consulter les appels en cours")),
    )
}

/// The calls of the last 7 days this profile would have received.
async fn preview(state: &WebState, profile: Profile) -> Result<Vec<CallView>, WebError> {
    let now = state.now();
    state
        .read(move |store| {
            let filter = CallFilter {
                open: true,
                public_only: true,
                ..CallFilter::default()
            };
            let since = now - Days::days(7);
            let matcher = Matcher::for_profile(&profile);
            let calls = store.list_calls(&filter, now)?;
            Ok(calls
                .iter()
                .filter(|c| c.first_seen.to_utc() >= since)
                .filter(|c| matcher.fits(&CallFacts::from_record(c)))
                .take(20)
                .map(CallView::of)
                .collect())
        })
        .await
}

async fn confirm_page(
    State(state): State<WebState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let now = state.now();
    let t = token.clone();
    let pending = match state
        .read(move |store| store.pending_by_confirm_token(&t, now))
        .await
    {
        Ok(Some(s)) => s,
        Ok(None) => return expired_link(&state),
        Err(e) => return pages::server_error(&state, &e),
    };
    let calls = match preview(&state, pending.profile.clone()).await {
        Ok(c) => c,
        Err(e) => return pages::server_error(&state, &e),
    };
    with_csrf(&state, &headers, |csrf| {
        page(
            &state,
            StatusCode::OK,
            "confirm.html.j2",
            serde_json::json!({
                "csrf": csrf,
                "action": format!("/abonnement/confirmer/{token}"),
                "profile": summary(&pending),
                "calls": calls,
            }),
        )
    })
}

async fn confirm(
    State(state): State<WebState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refusal) = checked_form(&state, &headers, &body) {
        return *refusal;
    }
    let now = state.now();
    let confirmed = state
        .write(move |store| {
            Ok(match store.confirm_signup(&token, now) {
                // The manage page's link, with a token of its own.
                Ok(s) => Ok(store.issue_token(s.id, now)?),
                Err(e) => Err(e),
            })
        })
        .await;
    match confirmed {
        Ok(Ok(manage)) => see_other(&format!("/abonnement/{manage}?etat=confirme")),
        Ok(Err(SubscriberError::InvalidToken)) => expired_link(&state),
        Ok(Err(e)) => pages::server_error(&state, &WebError(e.into())),
        Err(e) => pages::server_error(&state, &e),
    }
}

/// What the pages say of a subscriber's alert, in French.
fn summary(s: &Subscriber) -> serde_json::Value {
    use crate::subscribers::Frequency;
    let frequency = match s.profile.frequency {
        Frequency::Daily => "chaque jour".to_string(),
        Frequency::Weekly(d) => format!("chaque semaine, le {}", crate::digest::french::weekday(d)),
    };
    serde_json::json!({
        "email": s.profile.email.as_str(),
        "name": s.profile.name,
        "audience": super::views::audience_label(s.profile.audience),
        "territory": crate::digest::french::perimeter_label(&s.profile.territory),
        "themes": s.profile.themes.iter().map(|t| t.label()).collect::<Vec<_>>(),
        "keywords": s.profile.keywords,
        "frequency": frequency,
        "paused": s.paused_since.is_some(),
        "active": matches!(s.status, SubscriberStatus::Active | SubscriberStatus::Bouncing),
    })
}

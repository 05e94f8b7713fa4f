//! The web dashboard, served by `lunli serve` under `/ui/`: the inventory, each system's page
//! (card, tier and why, controls, evidence, sign-offs, suspensions, decisions over time), the
//! kill switch, the human-review queue, incidents, and the ledger's health — server-rendered HTML in Chinese and English with no
//! JavaScript and no front-end build.
//!
//! People sign in with the same API keys and roles as the JSON API, and every action goes
//! through the same authorisation, service calls and ledger as the API's handlers
//! (`crate::api::suspend_system` and `resume_system`, `crate::oversight::*_as`); a refusal is
//! recorded in the ledger there and shown here. Pages are `views`; sessions and cookies
//! `session`; the decisions chart `chart`; the review queue and incidents `oversight`.

mod chart;
mod oversight;
mod session;
mod views;

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use lunli_governance::ledger::LedgerStatus;
use lunli_governance::store::{ApiKey, Store};
use lunli_governance::tiering::Tiering;
use lunli_governance::{Governance, PendingEvent};
use lunli_norms::Lang;
use maud::Markup;
use serde::Deserialize;

use crate::access::hash_secret;
use crate::api::{self, ApiError, AppState, authorize_hash, blocking, now, refuse};
use crate::forwarded::Forwarded;
pub use session::{LANG_COOKIE, LOGIN_COOKIE, SESSION_COOKIE};
use session::{Sessions, clear_cookie, cookie, random_token, same_token, set_cookie};
use views::{Banner, Chrome, t};

/// How many of the latest ledger entries the decisions chart reads.
const CHART_ENTRIES: u64 = 20_000;

/// The dashboard's stylesheet, compiled in.
const STYLE: &str = include_str!("style.css");

struct Dashboard<S> {
    app: Arc<AppState<S>>,
    sessions: Sessions,
}

type Shared<S> = State<Arc<Dashboard<S>>>;

/// The dashboard's routes; merged with the API's by [`crate::Gateway::router`].
pub fn router<S: Store + LedgerStatus + Send + Sync + 'static>(app: Arc<AppState<S>>) -> Router {
    let sessions = Sessions::new(session::Limits::from_config(&app.config));
    let state = Arc::new(Dashboard { app, sessions });
    Router::new()
        .route("/", get(|| async { Redirect::to("/ui/") }))
        .route("/ui", get(|| async { Redirect::to("/ui/") }))
        .route("/ui/", get(inventory::<S>))
        .route("/ui/style.css", get(style))
        .route("/ui/login", get(login_page::<S>).post(login::<S>))
        .route("/ui/logout", post(logout::<S>))
        .route("/ui/lang/{lang}", get(switch_language::<S>))
        .route("/ui/systems/{system}", get(system_page::<S>))
        .route("/ui/systems/{system}/{verb}", get(confirm::<S>).post(act::<S>))
        .route("/ui/reviews", get(oversight::reviews::<S>))
        .route("/ui/reviews/{id}/{verb}", post(oversight::item_action::<S, false>))
        .route("/ui/incidents", get(oversight::incidents::<S>))
        .route("/ui/incidents/{id}/{verb}", post(oversight::item_action::<S, true>))
        .route("/ui/ledger", get(ledger_page::<S>))
        .route("/ui/ledger/verify", post(verify::<S>))
        .layer(DefaultBodyLimit::max(16 * 1024))
        // Every request knows its client (whether its cookies get `Secure`): `crate::forwarded`.
        .layer(axum::middleware::from_fn_with_state(state.app.config.clone(), crate::forwarded::layer))
        .with_state(state)
}

// ── plumbing ─────────────────────────────────────────────────────────────────────────────────

/// The language: the switch's cookie, else the browser's first choice, else Chinese.
fn language(headers: &HeaderMap) -> Lang {
    match cookie(headers, LANG_COOKIE).as_deref() {
        Some("en") => return Lang::En,
        Some("zh") => return Lang::Zh,
        _ => {}
    }
    let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if accept.trim_start().to_ascii_lowercase().starts_with("en") { Lang::En } else { Lang::Zh }
}

/// Only paths inside the dashboard are followed after sign-in or a language switch; one with a
/// control character (a decoded `%0d%0a` or `%00`) is no path a page links to, and could not be
/// sent in a `Location` header.
fn safe_next(next: &str) -> &str {
    let inside = next.starts_with("/ui/") && !next.contains("//") && !next.contains('\\');
    if inside && !next.chars().any(char::is_control) { next } else { "/ui/" }
}

/// This page, to come back to; without a one-off `done=` message, which should not show again.
fn here(uri: &Uri) -> String {
    let kept: Vec<&str> =
        uri.query().unwrap_or("").split('&').filter(|p| !p.is_empty() && !p.starts_with("done=")).collect();
    if kept.is_empty() { uri.path().to_string() } else { format!("{}?{}", uri.path(), kept.join("&")) }
}

/// An HTML response with the headers every dashboard page carries.
fn html(status: StatusCode, markup: Markup, cookies: &[String]) -> Response {
    let mut response = (status, markup).into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::CACHE_CONTROL, "no-store"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    for c in cookies {
        if let Ok(value) = HeaderValue::from_str(c) {
            headers.append(header::SET_COOKIE, value);
        }
    }
    response
}

/// A `303 See Other` to `to`, or to the inventory when `to` cannot be a header value: a
/// redirect never turns into an error page.
fn see_other(to: &str, cookies: &[String]) -> Response {
    let location = HeaderValue::from_str(to).unwrap_or_else(|_| HeaderValue::from_static("/ui/"));
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response();
    for c in cookies {
        if let Ok(value) = HeaderValue::from_str(c) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// How an API error reads to a person, and its status.
fn explain(lang: Lang, error: &ApiError) -> (StatusCode, Banner) {
    let (status, zh, en, detail) = match error {
        ApiError::Unauthorized(m) => (StatusCode::UNAUTHORIZED, "未获授权。", "Not authorised.", m),
        ApiError::Forbidden(m) => {
            (StatusCode::FORBIDDEN, "操作被拒绝，已记入账本。", "Refused, and recorded in the ledger.", m)
        }
        ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, "请求有误。", "The request is not valid.", m),
        ApiError::NotFound(m) => (StatusCode::NOT_FOUND, "未找到。", "Not found.", m),
        ApiError::Conflict(m) => {
            (StatusCode::CONFLICT, "治理规则不允许此操作。", "The governance rules do not allow this.", m)
        }
        ApiError::PayloadTooLarge(m) => (StatusCode::PAYLOAD_TOO_LARGE, "请求过大。", "The request is too large.", m),
        ApiError::Unavailable(m) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "存储暂时不可用，请稍后重试。",
            "The store is unavailable; try again shortly.",
            m,
        ),
        ApiError::Internal(m) => (StatusCode::INTERNAL_SERVER_ERROR, "内部错误。", "Internal error.", m),
    };
    (status, Banner::Error { title: t(lang, zh, en).to_string(), detail: detail.clone() })
}

/// A posted form, which carries the session's CSRF token.
trait Posted {
    fn csrf(&self) -> &str;
}

/// A signed-in person.
struct User {
    key: Arc<ApiKey>,
    csrf: String,
    lang: Lang,
    here: String,
}

impl User {
    fn chrome(&self) -> Chrome<'_> {
        Chrome { lang: self.lang, user: Some((&self.key, &self.csrf)), here: &self.here }
    }

    fn page(&self, status: StatusCode, title: &str, banner: Option<&Banner>, body: Markup) -> Response {
        html(status, views::layout(&self.chrome(), title, banner, body), &[])
    }
}

impl<S: Store + LedgerStatus + Send + Sync + 'static> Dashboard<S> {
    /// Whether cookies set in answer to a request get `Secure`: always with `secure_cookies`,
    /// else when a trusted proxy says the browser came over HTTPS.
    fn secure(&self, forwarded: &Forwarded) -> bool {
        self.app.config.secure_cookies || forwarded.https
    }

    /// The person behind the session cookie, if their key still grants reading state; else the
    /// way to the sign-in page. Keys are looked up afresh on every request, so revoking a key or
    /// taking a role away ends its sessions at once.
    fn user(&self, headers: &HeaderMap, uri: &Uri) -> Result<User, Box<Response>> {
        let lang = language(headers);
        let here = here(uri);
        let to_login = || Box::new(see_other(&format!("/ui/login?next={}", views::encode(&here)), &[]));
        let token = cookie(headers, SESSION_COOKIE).ok_or_else(to_login)?;
        let session = self.sessions.get(&token).ok_or_else(to_login)?;
        match authorize_hash(&self.app, &session.key_sha256, "state.read") {
            Ok(key) => Ok(User { key, csrf: session.csrf, lang, here }),
            Err(_) => {
                self.sessions.end(&token);
                Err(to_login())
            }
        }
    }

    /// A form must carry this session's CSRF token; a mismatch is refused and recorded.
    fn check_form(&self, user: &User, csrf: &str) -> Result<(), Box<Response>> {
        if same_token(&user.csrf, csrf) {
            return Ok(());
        }
        refuse(&self.app, &user.key, "dashboard.form", "the form's CSRF token did not match this session");
        let lang = user.lang;
        let banner = Banner::Error {
            title: t(lang, "表单已失效。", "This form has expired.").into(),
            detail: t(lang, "请重新打开页面后再试。", "Open the page again and retry.").into(),
        };
        let heading = t(lang, "表单已失效", "Form expired");
        Err(Box::new(user.page(StatusCode::FORBIDDEN, heading, Some(&banner), views::problem(lang, heading, ""))))
    }

    /// The person and the form they posted, once the form carries their session's CSRF token.
    fn posted<T: Posted>(
        &self,
        headers: &HeaderMap,
        uri: &Uri,
        form: Result<Form<T>, FormRejection>,
    ) -> Result<(User, T), Box<Response>> {
        let user = self.user(headers, uri)?;
        let form = match form {
            Ok(Form(form)) => form,
            Err(rejection) => return Err(Box::new(bad_form(&user, &rejection))),
        };
        self.check_form(&user, form.csrf())?;
        Ok((user, form))
    }

    fn gov_read<T: Send + 'static, F>(
        &self,
        work: F,
    ) -> impl std::future::Future<Output = Result<T, ApiError>> + use<T, S, F>
    where
        F: FnOnce(&Governance<'_, S>, &S) -> Result<T, lunli_governance::GovernanceError> + Send + 'static,
    {
        let (store, catalogue) = (self.app.store.clone(), self.app.catalogue.clone());
        blocking(move || work(&Governance::new(&catalogue, &*store), &store))
    }
}

fn bad_form(user: &User, rejection: &FormRejection) -> Response {
    let lang = user.lang;
    let (status, banner) = explain(lang, &ApiError::BadRequest(rejection.body_text()));
    user.page(
        status,
        t(lang, "请求有误", "Bad request"),
        Some(&banner),
        views::problem(lang, t(lang, "请求有误", "Bad request"), ""),
    )
}

fn error_page(user: &User, error: &ApiError) -> Response {
    let lang = user.lang;
    let (status, banner) = explain(lang, error);
    let heading = match error {
        ApiError::NotFound(_) => t(lang, "未找到", "Not found"),
        _ => t(lang, "出错了", "Something went wrong"),
    };
    user.page(status, heading, Some(&banner), views::problem(lang, heading, ""))
}

// ── pages ────────────────────────────────────────────────────────────────────────────────────

async fn style() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "max-age=300")], STYLE).into_response()
}

#[derive(Debug, Default, Deserialize)]
struct Next {
    #[serde(default)]
    next: String,
    #[serde(default)]
    back: String,
    #[serde(default)]
    done: String,
    #[serde(default)]
    purpose: String,
}

async fn login_page<S: Store + LedgerStatus + Send + Sync + 'static>(
    State(d): Shared<S>,
    Extension(forwarded): Extension<Forwarded>,
    headers: HeaderMap,
    uri: Uri,
    query: Result<Query<Next>, QueryRejection>,
) -> Response {
    let query = query.map(|Query(q)| q).unwrap_or_default();
    if d.user(&headers, &uri).is_ok() {
        return see_other(safe_next(&query.next), &[]);
    }
    let lang = language(&headers);
    login_form(lang, &here(&uri), &query.next, StatusCode::OK, None, d.secure(&forwarded))
}

fn login_form(
    lang: Lang,
    here: &str,
    next: &str,
    status: StatusCode,
    banner: Option<&Banner>,
    secure: bool,
) -> Response {
    let Ok(form_token) = random_token() else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "the operating system's random source failed").into_response();
    };
    let chrome = Chrome { lang, user: None, here };
    let body = views::login(lang, &form_token, safe_next(next));
    html(
        status,
        views::layout(&chrome, t(lang, "登录", "Sign in"), banner, body),
        &[set_cookie(LOGIN_COOKIE, &form_token, Some(std::time::Duration::from_secs(3600)), secure)],
    )
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    form: String,
    key: String,
    #[serde(default)]
    next: String,
}

async fn login<S: Store + LedgerStatus + Send + Sync + 'static>(
    State(d): Shared<S>,
    Extension(forwarded): Extension<Forwarded>,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let lang = language(&headers);
    let secure = d.secure(&forwarded);
    let here = "/ui/login";
    let Ok(Form(form)) = form else {
        let banner = Banner::Error {
            title: t(lang, "请输入 API 密钥。", "Enter an API key.").into(),
            detail: String::new(),
        };
        return login_form(lang, here, "", StatusCode::BAD_REQUEST, Some(&banner), secure);
    };
    // The form must come from a page this browser loaded (SameSite=Strict cookie).
    if !cookie(&headers, LOGIN_COOKIE).is_some_and(|c| same_token(&c, &form.form)) {
        let banner = Banner::Error {
            title: t(lang, "登录表单已失效。", "The sign-in form has expired.").into(),
            detail: t(lang, "请再试一次。", "Please try again.").into(),
        };
        return login_form(lang, here, &form.next, StatusCode::FORBIDDEN, Some(&banner), secure);
    }
    let sha256 = hash_secret(form.key.trim());
    let key = match authorize_hash(&d.app, &sha256, "state.read") {
        Ok(key) => key,
        Err(error) => {
            let (status, mut banner) = explain(lang, &error);
            if let (ApiError::Unauthorized(_), Banner::Error { title, .. }) = (&error, &mut banner) {
                *title = t(lang, "密钥无效或已吊销。", "This key is unknown or revoked.").into();
            }
            return login_form(lang, here, &form.next, status, Some(&banner), secure);
        }
    };
    let token = match d.sessions.start(&sha256) {
        Ok(token) => token,
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    };
    let event = PendingEvent::dashboard_sign_in(api::actor(&key), now(), &key.id);
    if let Err(e) = d.app.recorder.record_later(event) {
        tracing::error!("could not record a sign-in: {e}");
    }
    see_other(
        safe_next(&form.next),
        &[
            set_cookie(SESSION_COOKIE, &token, Some(d.sessions.cookie_age()), secure),
            clear_cookie(LOGIN_COOKIE, secure),
        ],
    )
}

#[derive(Debug, Deserialize)]
struct CsrfForm {
    csrf: String,
}

impl Posted for CsrfForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn logout<S: Store + LedgerStatus + Send + Sync + 'static>(
    State(d): Shared<S>,
    Extension(forwarded): Extension<Forwarded>,
    headers: HeaderMap,
    uri: Uri,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    let signed_out = [clear_cookie(SESSION_COOKIE, d.secure(&forwarded))];
    let user = match d.user(&headers, &uri) {
        Ok(user) => user,
        Err(_) => return see_other("/ui/login", &signed_out),
    };
    let form = match form {
        Ok(Form(form)) => form,
        Err(rejection) => return bad_form(&user, &rejection),
    };
    if let Err(response) = d.check_form(&user, &form.csrf) {
        return *response;
    }
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        d.sessions.end(&token);
    }
    see_other("/ui/login", &signed_out)
}

async fn switch_language<S: Store + LedgerStatus + Send + Sync + 'static>(
    State(d): Shared<S>,
    Extension(forwarded): Extension<Forwarded>,
    Path(lang): Path<String>,
    query: Result<Query<Next>, QueryRejection>,
) -> Response {
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let value = if lang == "en" { "en" } else { "zh" };
    let year = Some(std::time::Duration::from_secs(365 * 24 * 3600));
    see_other(safe_next(&query.back), &[set_cookie(LANG_COOKIE, value, year, d.secure(&forwarded))])
}

async fn inventory<S: Store + LedgerStatus + Send + Sync + 'static>(
    State(d): Shared<S>,
    headers: HeaderMap,
    uri: Uri,
    filter: Result<Query<views::InventoryFilter>, QueryRejection>,
) -> Response {
    let user = match d.user(&headers, &uri) {
        Ok(user) => user,
        Err(to_login) => return *to_login,
    };
    let filter = filter.map(|Query(q)| q).unwrap_or_default();
    let today = now().to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    // What waits for people, per system, when this person may see it.
    let (see_reviews, see_incidents) =
        (d.app.policy.allows(&user.key, "review.read"), d.app.policy.allows(&user.key, "incident.read"));
    let loaded = d
        .gov_read(move |gov, _| {
            // Counted by the database: the queues behind these numbers grow without bound.
            let mut attention: HashMap<String, views::Attention> = HashMap::new();
            if see_reviews || see_incidents {
                for work in gov.pending_work(now())? {
                    let entry = attention.entry(work.system).or_default();
                    if see_reviews {
                        entry.reviews = work.reviews;
                    }
                    if see_incidents {
                        entry.incidents = work.incidents;
                        entry.overdue = work.overdue_incidents > 0;
                    }
                }
                attention.retain(|_, a| a.reviews > 0 || a.incidents > 0);
            }
            Ok((gov.status(today)?, attention))
        })
        .await;
    let (rows, attention) = match loaded {
        Ok(loaded) => loaded,
        Err(e) => return error_page(&user, &e),
    };
    let snapshot = d.app.runtime.load();
    let lang = user.lang;
    let mut counts: Vec<(Option<lunli_norms::Tier>, usize)> = lunli_norms::Tier::ALL
        .iter()
        .rev()
        .map(|tier| (Some(*tier), rows.iter().filter(|r| r.tier == Some(*tier)).count()))
        .collect();
    counts.push((None, rows.iter().filter(|r| r.tier.is_none()).count()));
    counts.retain(|(_, n)| *n > 0);
    let total = rows.len();
    let shown: Vec<_> = rows
        .into_iter()
        .map(|row| {
            let suspensions = snapshot.suspensions.get(&row.system).cloned().unwrap_or_default();
            (row, suspensions)
        })
        .filter(|(row, suspensions)| filter.keeps(lang, row, suspensions.iter().any(|s| s.purpose.is_none())))
        .collect();
    user.page(
        StatusCode::OK,
        t(lang, "系统清单", "Inventory"),
        None,
        views::inventory(lang, &shown, total, &filter, &counts, &attention),
    )
}

async fn system_page<S: Store + LedgerStatus + Send + Sync + 'static>(
    State(d): Shared<S>,
    headers: HeaderMap,
    uri: Uri,
    Path(system): Path<String>,
    query: Result<Query<Next>, QueryRejection>,
) -> Response {
    let user = match d.user(&headers, &uri) {
        Ok(user) => user,
        Err(to_login) => return *to_login,
    };
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let lang = user.lang;
    let id = system.clone();
    let loaded = d
        .gov_read(move |gov, store| {
            let current = gov.system(&id)?;
            let tiering =
                gov.latest_intake(&id)?.and_then(|intake| serde_json::from_value::<Tiering>(intake.tiering).ok());
            let assessment = gov.assessment(&id).map_err(|e| e.to_string());
            let entries = store.recent_entries(CHART_ENTRIES)?;
            Ok((current, tiering, assessment, entries))
        })
        .await;
    let (current, tiering, assessment, entries) = match loaded {
        Ok(loaded) => loaded,
        Err(e) => return error_page(&user, &e),
    };
    let series = chart::bucket(&chart::decisions(&entries, &system), now());
    let suspensions = d.app.runtime.load().suspensions.get(&system).cloned().unwrap_or_default();
    let banner = match query.done.as_str() {
        "suspended" => Some(Banner::Ok(
            t(
                lang,
                "已暂停。网关自下一个请求起拒绝该系统的决定。",
                "Suspended. From the next request the gateway denies this system's decisions.",
            )
            .into(),
        )),
        "resumed" => Some(Banner::Ok(
            t(lang, "已恢复。网关再次按规则作出决定。", "Resumed. The gateway decides by its rules again.").into(),
        )),
        _ => None,
    };
    let page = views::SystemPage {
        current: &current,
        tiering: tiering.as_ref(),
        assessment: assessment.as_ref().map_err(Clone::clone),
        suspensions: &suspensions,
        series: &series,
        may_suspend: d.app.policy.allows(&user.key, "system.suspend"),
        may_resume: d.app.policy.allows(&user.key, "system.resume"),
        default_review: (d.app.config.review_below_confidence, d.app.config.review_at_impact),
    };
    let body = views::system(lang, &d.app.catalogue, &page);
    user.page(StatusCode::OK, &current.system.name, banner.as_ref(), body)
}

#[derive(Debug, Deserialize)]
struct ActionForm {
    csrf: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    reason: String,
}

impl Posted for ActionForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `suspend` or `resume`, the last part of the kill switch's paths: whether it resumes.
fn kill_switch_verb(verb: &str) -> Result<bool, ApiError> {
    match verb {
        "suspend" => Ok(false),
        "resume" => Ok(true),
        other => Err(ApiError::NotFound(format!("no page `{other}` for a system; try suspend or resume"))),
    }
}

/// The confirmation page of the kill switch.
async fn confirm<S: Store + LedgerStatus + Send + Sync + 'static>(
    State(d): Shared<S>,
    headers: HeaderMap,
    uri: Uri,
    Path((system, verb)): Path<(String, String)>,
    query: Result<Query<Next>, QueryRejection>,
) -> Response {
    let query = query.map(|Query(q)| q).unwrap_or_default();
    match (kill_switch_verb(&verb), d.user(&headers, &uri)) {
        (_, Err(to_login)) => *to_login,
        (Err(e), Ok(user)) => error_page(&user, &e),
        (Ok(resume), Ok(_)) => confirm_page(&d, &headers, &uri, &system, resume, &query.purpose, "", None),
    }
}

#[allow(clippy::too_many_arguments)]
fn confirm_page<S: Store + LedgerStatus + Send + Sync + 'static>(
    d: &Dashboard<S>,
    headers: &HeaderMap,
    uri: &Uri,
    system: &str,
    resume: bool,
    purpose: &str,
    reason: &str,
    error: Option<&ApiError>,
) -> Response {
    let user = match d.user(headers, uri) {
        Ok(user) => user,
        Err(to_login) => return *to_login,
    };
    let lang = user.lang;
    let snapshot = d.app.runtime.load();
    let Some(policy) = snapshot.policies.get(system) else {
        return error_page(&user, &ApiError::NotFound(format!("no system `{system}` is registered")));
    };
    let (status, banner) = match error {
        Some(e) => {
            let (status, banner) = explain(lang, e);
            (status, Some(banner))
        }
        None => (StatusCode::OK, None),
    };
    let confirm = views::Confirm {
        resume,
        system,
        name: &policy.name,
        purposes: &policy.purposes,
        purpose: (!purpose.is_empty()).then_some(purpose),
        reason,
        csrf: &user.csrf,
    };
    let title = if resume { t(lang, "恢复", "Resume") } else { t(lang, "暂停", "Suspend") };
    user.page(status, title, banner.as_ref(), views::confirm(lang, &confirm))
}

/// Suspends or resumes through the same calls as the API; a refusal re-shows the confirmation
/// with what went wrong, keeping the reason typed.
async fn act<S: Store + LedgerStatus + Send + Sync + 'static>(
    State(d): Shared<S>,
    headers: HeaderMap,
    uri: Uri,
    Path((system, verb)): Path<(String, String)>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Response {
    let (user, form) = match d.posted(&headers, &uri, form) {
        Ok(posted) => posted,
        Err(response) => return *response,
    };
    let resume = match kill_switch_verb(&verb) {
        Ok(resume) => resume,
        Err(e) => return error_page(&user, &e),
    };
    let (d, headers, uri) = (&d, &headers, &uri);
    let purpose = (!form.purpose.trim().is_empty()).then(|| form.purpose.trim().to_string());
    let action = if resume { "system.resume" } else { "system.suspend" };
    let result = match authorize_hash(&d.app, &user.key.sha256, action) {
        Err(e) => Err(e),
        Ok(key) if resume => api::resume_system(&d.app, &key, system.clone(), purpose, form.reason.clone()).await,
        Ok(key) => api::suspend_system(&d.app, &key, system.clone(), purpose, form.reason.clone()).await,
    };
    match result {
        Ok(_) => see_other(&format!("/ui/systems/{system}?done={}", if resume { "resumed" } else { "suspended" }), &[]),
        Err(e) => confirm_page(d, headers, uri, &system, resume, &form.purpose, &form.reason, Some(&e)),
    }
}

async fn ledger_page<S: Store + LedgerStatus + Send + Sync + 'static>(
    State(d): Shared<S>,
    headers: HeaderMap,
    uri: Uri,
    query: Result<Query<Next>, QueryRejection>,
) -> Response {
    let user = match d.user(&headers, &uri) {
        Ok(user) => user,
        Err(to_login) => return *to_login,
    };
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let health = match d.gov_read(|_, store| store.ledger_health()).await {
        Ok(health) => health,
        Err(e) => return error_page(&user, &e),
    };
    let lang = user.lang;
    let banner = match (query.done.as_str(), &health.last_verification) {
        ("verified", Some(v)) if v.ok => {
            Some(Banner::Ok(t(lang, "核验完成：账本完好。", "Verified: the ledger is intact.").into()))
        }
        ("verified", Some(v)) => Some(Banner::Error {
            title: t(lang, "核验未通过：账本已被改动。", "Verification FAILED: the ledger was altered.").into(),
            detail: v.problem.clone().unwrap_or_default(),
        }),
        _ => None,
    };
    let body = views::ledger(lang, &health, now(), &user.csrf);
    user.page(StatusCode::OK, t(lang, "账本健康", "Ledger health"), banner.as_ref(), body)
}

async fn verify<S: Store + LedgerStatus + Send + Sync + 'static>(
    State(d): Shared<S>,
    headers: HeaderMap,
    uri: Uri,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    let user = match d.posted(&headers, &uri, form) {
        Ok((user, _)) => user,
        Err(response) => return *response,
    };
    match d.gov_read(|_, store| store.verify_now(now())).await {
        Ok(_) => see_other("/ui/ledger?done=verified", &[]),
        Err(e) => error_page(&user, &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_to_come_back_to_drops_one_off_messages_only() {
        let uri = |s: &str| s.parse::<Uri>().expect("uri");
        assert_eq!(here(&uri("/ui/reviews?show=all&done=resolved")), "/ui/reviews?show=all");
        assert_eq!(here(&uri("/ui/systems/x?done=suspended")), "/ui/systems/x");
        assert_eq!(here(&uri("/ui/?tier=high&q=a")), "/ui/?tier=high&q=a");
    }

    #[test]
    fn only_dashboard_paths_are_followed() {
        assert_eq!(safe_next("/ui/systems/x?tier=high"), "/ui/systems/x?tier=high");
        assert_eq!(safe_next("https://evil.example/"), "/ui/");
        assert_eq!(safe_next("//evil.example/ui/"), "/ui/");
        assert_eq!(safe_next("/ui//evil.example"), "/ui/");
        assert_eq!(safe_next("/v1/decisions"), "/ui/");
        for control in ["/ui/\r\nSet-Cookie: x=1", "/ui/\0", "/ui/a\tb", "/ui/\u{85}"] {
            assert_eq!(safe_next(control), "/ui/", "{control:?}");
        }
        assert_eq!(safe_next("/ui/systems/会议纪要"), "/ui/systems/会议纪要", "non-ASCII is not control");
    }

    #[test]
    fn a_redirect_to_a_value_no_header_can_carry_goes_to_the_inventory() {
        let response = see_other("/ui/systems/x\r\n", &["a=1".into()]);
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(response.headers()[header::LOCATION], "/ui/");
        assert_eq!(response.headers()[header::SET_COOKIE], "a=1");
        assert_eq!(
            see_other("/ui/systems/x?done=suspended", &[]).headers()[header::LOCATION],
            "/ui/systems/x?done=suspended"
        );
    }

    #[test]
    fn the_language_cookie_outranks_the_browser() {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static("en-US,en;q=0.9"));
        assert_eq!(language(&headers), Lang::En);
        headers.insert(header::COOKIE, HeaderValue::from_static("lunli_lang=zh"));
        assert_eq!(language(&headers), Lang::Zh);
        assert_eq!(language(&HeaderMap::new()), Lang::Zh);
    }
}

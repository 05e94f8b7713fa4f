//! The HTTP API: every route on one screen in [`router`], small handlers, one error type mapped
//! to HTTP in one place.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use lunli_governance::runtime::{self, DecisionRequest, Mode, Outcome, Suspension};
use lunli_governance::store::{ApiKey, Store};
use lunli_governance::{Governance, GovernanceError, PendingEvent};
use lunli_norms::Catalogue;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::access::{AccessPolicy, secret_hash_hex};
use crate::config::GatewayConfig;
use crate::metrics::{ActionLabel, Metrics};
use crate::recorder::Recorder;
use crate::state::{Consents, RuntimeState};

/// The OpenAPI document, kept in the repository and served as is.
pub const OPENAPI: &str = include_str!("../openapi.json");

/// Everything a handler needs.
pub struct AppState<S> {
    pub store: Arc<S>,
    pub catalogue: Arc<Catalogue>,
    pub runtime: Arc<RuntimeState>,
    /// Subjects' consents, followed change by change.
    pub consents: Arc<Consents>,
    pub recorder: Recorder,
    pub policy: Arc<AccessPolicy>,
    pub metrics: Arc<Metrics>,
    pub config: Arc<GatewayConfig>,
    /// Review, incident, feedback and monitoring endpoints' own state (the feedback limiter).
    pub oversight: crate::oversight::OversightState,
}

type Shared<S> = State<Arc<AppState<S>>>;

/// Every route of the gateway.
pub fn router<S: Store + Send + Sync + 'static>(state: Arc<AppState<S>>) -> Router {
    let limit = state.config.max_body_bytes;
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz::<S>))
        .route("/metrics", get(metrics::<S>))
        .route("/openapi.json", get(openapi))
        .route("/v1/whoami", get(whoami::<S>))
        .route("/v1/decisions", post(decide::<S>))
        .route("/v1/systems/{system}/state", get(system_state::<S>))
        .route("/v1/systems/{system}/suspend", post(suspend::<S>))
        .route("/v1/systems/{system}/resume", post(resume::<S>))
        .route("/v1/systems/{system}/consents/{subject}", get(get_consent::<S>).put(put_consent::<S>))
        .route("/v1/systems/{system}/consents/{subject}/withdraw", post(withdraw::<S>))
        .merge(crate::oversight::routes::<S>(&state.config))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(limit))
        // Every request knows its client (the feedback limit's key): `crate::forwarded`.
        .layer(axum::middleware::from_fn_with_state(state.config.clone(), crate::forwarded::layer))
        .with_state(state)
}

/// The one error type of the API, and its one mapping to HTTP.
#[derive(Debug)]
pub enum ApiError {
    Unauthorized(String),
    Forbidden(String),
    BadRequest(String),
    NotFound(String),
    Conflict(String),
    PayloadTooLarge(String),
    Unavailable(String),
    Internal(String),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message) = match self {
            Self::Unauthorized(m) => (StatusCode::UNAUTHORIZED, "unauthorized", m),
            Self::Forbidden(m) => (StatusCode::FORBIDDEN, "forbidden", m),
            Self::BadRequest(m) => (StatusCode::BAD_REQUEST, "bad_request", m),
            Self::NotFound(m) => (StatusCode::NOT_FOUND, "not_found", m),
            Self::Conflict(m) => (StatusCode::CONFLICT, "conflict", m),
            Self::PayloadTooLarge(m) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", m),
            Self::Unavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable", m),
            Self::Internal(m) => (StatusCode::INTERNAL_SERVER_ERROR, "internal", m),
        };
        let body = Json(json!({ "error": { "code": code, "message": message } }));
        if status == StatusCode::SERVICE_UNAVAILABLE {
            // Overload and storage outages pass; say when to come back rather than fail for good.
            return (status, [(header::RETRY_AFTER, "1")], body).into_response();
        }
        (status, body).into_response()
    }
}

impl From<GovernanceError> for ApiError {
    fn from(e: GovernanceError) -> Self {
        match &e {
            GovernanceError::Invalid { .. } | GovernanceError::Answers(_) => Self::BadRequest(e.to_string()),
            GovernanceError::NotFound { .. } => Self::NotFound(e.to_string()),
            GovernanceError::Forbidden { .. } => Self::Forbidden(e.to_string()),
            GovernanceError::Refused { .. } | GovernanceError::Blocked { .. } | GovernanceError::Exists { .. } => {
                Self::Conflict(e.to_string())
            }
            GovernanceError::Storage { .. } => Self::Unavailable(e.to_string()),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::BytesRejection(_) => Self::PayloadTooLarge(rejection.body_text()),
            JsonRejection::MissingJsonContentType(_) => {
                Self::BadRequest("send the body as JSON with `Content-Type: application/json`".into())
            }
            _ => Self::BadRequest(rejection.body_text()),
        }
    }
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such route; see /openapi.json".into())
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz<S: Store + Send + Sync + 'static>(State(app): Shared<S>) -> Result<&'static str, ApiError> {
    let store = app.store.clone();
    let catalogue = app.catalogue.clone();
    blocking(move || Governance::new(&catalogue, &*store).runtime_version()).await?;
    Ok("ready")
}

/// The series tell decision volumes and outcomes, refusals and review load: by default only to
/// a key granted `metrics.read`; `metrics = "open"` serves them to anyone who can reach the
/// gateway (a scraper on a private network).
async fn metrics<S>(State(app): Shared<S>, headers: HeaderMap) -> Result<Response, ApiError> {
    if app.config.metrics == crate::config::MetricsAccess::Key {
        authorize(&app, &headers, "metrics.read")?;
    }
    let text = app.metrics.encode().map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text).into_response())
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

/// The key presented, if the access policy grants it `action`; refusals are counted and
/// recorded in the ledger.
pub(crate) fn authorize<S>(app: &AppState<S>, headers: &HeaderMap, action: &str) -> Result<Arc<ApiKey>, ApiError> {
    let key = authenticate(app, headers)?;
    permit(app, key, action)
}

/// The key presented, if it is known and not revoked, whatever it may do.
fn authenticate<S>(app: &AppState<S>, headers: &HeaderMap) -> Result<Arc<ApiKey>, ApiError> {
    let secret = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| ApiError::Unauthorized("send an API key as `Authorization: Bearer lk_…`".into()))?;
    // Looked up by the hex digest in a buffer on the stack: this runs on every request.
    let mut hex = [0u8; 64];
    known_key(app, secret_hash_hex(secret.trim(), &mut hex))
}

fn known_key<S>(app: &AppState<S>, sha256: &str) -> Result<Arc<ApiKey>, ApiError> {
    let snapshot = app.runtime.load();
    let key = snapshot.keys.get(sha256).cloned().ok_or_else(|| ApiError::Unauthorized("unknown API key".into()))?;
    if key.revoked_at.is_some() {
        return Err(ApiError::Unauthorized(format!("API key {} was revoked", key.id)));
    }
    Ok(key)
}

/// As [`authorize`], for a key known by the SHA-256 of its secret (a dashboard session keeps
/// only that), so revoking the key ends its sessions at once.
pub(crate) fn authorize_hash<S>(app: &AppState<S>, sha256: &str, action: &str) -> Result<Arc<ApiKey>, ApiError> {
    let key = known_key(app, sha256)?;
    permit(app, key, action)
}

/// `key`, if the access policy grants it `action`; a refusal is counted and recorded.
fn permit<S>(app: &AppState<S>, key: Arc<ApiKey>, action: &str) -> Result<Arc<ApiKey>, ApiError> {
    if !app.policy.allows(&key, action) {
        refuse(app, &key, action, "the key's roles do not grant it");
        return Err(ApiError::Forbidden(format!(
            "API key {} (roles: {}) may not {action}",
            key.id,
            key.roles.join(", ")
        )));
    }
    Ok(key)
}

pub(crate) fn refuse<S>(app: &AppState<S>, key: &ApiKey, action: &str, why: &str) {
    app.metrics.refused.get_or_create(&ActionLabel { action: action.to_string() }).inc();
    tracing::warn!(key = %key.id, action, why, "refused");
    let event = PendingEvent::access_refused(actor(key), now(), &key.id, action, why);
    if let Err(e) = app.recorder.record_later(event) {
        tracing::error!("could not record a refusal: {e}");
    }
}

/// Who the ledger says acted: the person behind the key, or the key itself.
pub(crate) fn actor(key: &ApiKey) -> String {
    key.person.clone().unwrap_or_else(|| format!("key:{}", key.id))
}

pub(crate) fn now() -> jiff::Timestamp {
    let ms = jiff::Timestamp::now().as_millisecond();
    jiff::Timestamp::from_millisecond(ms).unwrap_or_else(|_| jiff::Timestamp::now())
}

pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, GovernanceError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::Internal(format!("worker failed: {e}")))?
        .map_err(ApiError::from)
}

/// Reloads runtime state after a local change, so this instance obeys it at once.
pub(crate) async fn reload<S: Store + Send + Sync + 'static>(app: &Arc<AppState<S>>) -> Result<(), ApiError> {
    let store = app.store.clone();
    let catalogue = app.catalogue.clone();
    let defaults = app.config.runtime_defaults();
    let snapshot = blocking(move || Governance::new(&catalogue, &*store).runtime_snapshot(&defaults)).await?;
    app.runtime.replace(snapshot);
    app.metrics.reloads.inc();
    Ok(())
}

async fn whoami<S>(State(app): Shared<S>, headers: HeaderMap) -> Result<Json<serde_json::Value>, ApiError> {
    // Any valid key may ask who it is: no action is refused, so nothing is logged as refused.
    let key = authenticate(&app, &headers)?;
    Ok(Json(json!({ "key": key.id, "name": key.name, "person": key.person, "roles": key.roles })))
}

#[derive(Serialize)]
struct DecisionResponse {
    id: String,
    #[serde(flatten)]
    decision: runtime::Decision,
    /// Present when the decision was durable in the ledger before this answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    ledger_index: Option<u64>,
}

async fn decide<S>(
    State(app): Shared<S>,
    headers: HeaderMap,
    body: Result<Json<DecisionRequest>, JsonRejection>,
) -> Result<Json<DecisionResponse>, ApiError> {
    let started = Instant::now();
    let key = authorize(&app, &headers, "decision.create")?;
    let Json(request) = body?;
    if request.subject.is_empty() || request.subject.chars().count() > 200 || request.system.is_empty() {
        return Err(ApiError::BadRequest(
            "`system` and `subject` (1–200 characters, pseudonymous) are required".into(),
        ));
    }
    let snapshot = app.runtime.load();
    // UUIDv7: time-ordered with 74 random bits, so ids never collide across restarts or instances.
    let id = uuid::Uuid::now_v7().to_string();
    let policy = snapshot.policies.get(&request.system);
    let suspensions = snapshot.suspensions.get(&request.system).map(Vec::as_slice).unwrap_or(&[]);
    let consent = app.consents.get(&request.system, &request.subject);
    let decision = runtime::decide(policy, suspensions, consent.as_ref(), &request, &id);
    let durable = policy.and_then(|p| p.tier).is_some_and(|t| app.config.durable_tiers.contains(&t));
    let event = PendingEvent::decision(actor(&key), now(), &id, &request, decision.outcome, &decision.reasons);
    // Art. 3(4): a decision sent to a human joins the review queue in the same group commit.
    let review = (decision.outcome == Outcome::HumanReview)
        .then(|| crate::oversight::new_review(&request, &id, &decision.reasons, event.at()));
    // A decision sent to a human is answered only once its review item is durable, whatever the
    // tier: answering first would let a crash lose the only trace that a person must look.
    let waiting = match review {
        Some(review) => {
            app.metrics.reviews_queued.inc();
            Some(app.recorder.record_with_review(event, review)?)
        }
        None if durable => Some(app.recorder.record(event)?),
        None => {
            app.recorder.record_later(event)?;
            None
        }
    };
    let ledger_index = match waiting {
        Some(done) => {
            Some(done.await.map_err(|_| ApiError::Unavailable("the ledger writer stopped before committing".into()))?)
        }
        None => None,
    };
    app.metrics.decided(decision.outcome);
    app.metrics.decision_seconds.observe(started.elapsed().as_secs_f64());
    Ok(Json(DecisionResponse { id, decision, ledger_index }))
}

async fn system_state<S>(
    State(app): Shared<S>,
    headers: HeaderMap,
    Path(system): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    authorize(&app, &headers, "state.read")?;
    let snapshot = app.runtime.load();
    let policy = snapshot
        .policies
        .get(&system)
        .ok_or_else(|| ApiError::NotFound(format!("no system `{system}` is registered")))?;
    let suspensions = snapshot.suspensions.get(&system).cloned().unwrap_or_default();
    Ok(Json(json!({ "policy": policy, "suspensions": suspensions, "runtime_version": snapshot.version })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SuspendRequest {
    reason: String,
    #[serde(default)]
    purpose: Option<String>,
}

async fn suspend<S: Store + Send + Sync + 'static>(
    State(app): Shared<S>,
    headers: HeaderMap,
    Path(system): Path<String>,
    body: Result<Json<SuspendRequest>, JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let key = authorize(&app, &headers, "system.suspend")?;
    let Json(request) = body?;
    let suspension = suspend_system(&app, &key, system, request.purpose, request.reason).await?;
    Ok(Json(json!({ "suspended": suspension })))
}

/// The kill switch for an authorised key, shared by the API and the dashboard.
pub(crate) async fn suspend_system<S: Store + Send + Sync + 'static>(
    app: &Arc<AppState<S>>,
    key: &ApiKey,
    system: String,
    purpose: Option<String>,
    reason: String,
) -> Result<Suspension, ApiError> {
    let (store, catalogue, by) = (app.store.clone(), app.catalogue.clone(), app.policy.actor(key));
    let suspension = blocking(move || {
        Governance::new(&catalogue, &*store).suspend(&by, &system, purpose.as_deref(), &reason, now())
    })
    .await?;
    reload(app).await?;
    Ok(suspension)
}

async fn resume<S: Store + Send + Sync + 'static>(
    State(app): Shared<S>,
    headers: HeaderMap,
    Path(system): Path<String>,
    body: Result<Json<SuspendRequest>, JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let key = authorize(&app, &headers, "system.resume")?;
    let Json(request) = body?;
    let lifted = resume_system(&app, &key, system, request.purpose, request.reason).await?;
    Ok(Json(json!({ "resumed": lifted })))
}

/// Lifts a suspension for an authorised key, shared by the API and the dashboard. The four-eyes
/// rule is the governance layer's (`Governance::resume`); a refusal is also logged here.
pub(crate) async fn resume_system<S: Store + Send + Sync + 'static>(
    app: &Arc<AppState<S>>,
    key: &ApiKey,
    system: String,
    purpose: Option<String>,
    reason: String,
) -> Result<Suspension, ApiError> {
    let (store, catalogue, who) = (app.store.clone(), app.catalogue.clone(), app.policy.actor(key));
    let lifted = blocking(move || {
        Governance::new(&catalogue, &*store).resume(&who, &system, purpose.as_deref(), &reason, now())
    })
    .await
    .inspect_err(|e| {
        if let ApiError::Forbidden(why) = e {
            refuse(app, key, "system.resume", why);
        }
    })?;
    reload(app).await?;
    Ok(lifted)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsentRequest {
    given: bool,
    #[serde(default = "ai_mode")]
    mode: Mode,
}

fn ai_mode() -> Mode {
    Mode::Ai
}

async fn get_consent<S>(
    State(app): Shared<S>,
    headers: HeaderMap,
    Path((system, subject)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>, ApiError> {
    authorize(&app, &headers, "consent.read")?;
    match app.consents.get(&system, &subject) {
        Some(consent) => Ok(Json(json!(consent))),
        None => Err(ApiError::NotFound(format!("no consent recorded for subject {subject} on {system}"))),
    }
}

async fn put_consent<S: Store + Send + Sync + 'static>(
    State(app): Shared<S>,
    headers: HeaderMap,
    Path((system, subject)): Path<(String, String)>,
    body: Result<Json<ConsentRequest>, JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let key = authorize(&app, &headers, "consent.write")?;
    let Json(request) = body?;
    set_consent(&app, &key, system, subject, request.given, request.mode).await
}

/// Art. 16, Art. 19: withdrawing is one call with no body, effective on the next decision.
async fn withdraw<S: Store + Send + Sync + 'static>(
    State(app): Shared<S>,
    headers: HeaderMap,
    Path((system, subject)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let key = authorize(&app, &headers, "consent.write")?;
    set_consent(&app, &key, system, subject, false, Mode::Human).await
}

async fn set_consent<S: Store + Send + Sync + 'static>(
    app: &Arc<AppState<S>>,
    key: &ApiKey,
    system: String,
    subject: String,
    given: bool,
    mode: Mode,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (store, catalogue, by) = (app.store.clone(), app.catalogue.clone(), actor(key));
    let consents = app.consents.clone();
    let consent = blocking(move || {
        let gov = Governance::new(&catalogue, &*store);
        let consent = gov.set_consent(&by, &system, &subject, given, mode, now())?;
        // Obeyed here on the next decision: apply the changes since the last one applied
        // (this one, and any another instance made meanwhile), not a reload of every consent.
        consents.catch_up(&gov)?;
        Ok(consent)
    })
    .await?;
    Ok(Json(json!(consent)))
}

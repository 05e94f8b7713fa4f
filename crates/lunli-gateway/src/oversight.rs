//! The oversight endpoints (Art. 3(4), Art. 8, Art. 17, Art. 21): the human review queue,
//! public feedback, incidents, reported outcomes and their alerts, and systems' playbooks. The
//! rules are `lunli_governance`'s; this is HTTP around them.
//!
//! `POST /v1/feedback` is the one endpoint that needs no key: anyone a system serves may tell
//! about it. It is limited per client address (a token bucket, `governor`; the address a trusted
//! proxy forwarded for, see `crate::forwarded`) and by body size, with
//! 429 and 413 answers that say what the limit is; refusals are logged, not written to the
//! ledger, so a flood cannot fill it.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use lunli_governance::incident::{Feedback, FeedbackKind, Incident, IncidentStatus, NewIncident};
use lunli_governance::monitoring::OutcomeReport;
use lunli_governance::playbook::Playbook;
use lunli_governance::review::{HumanOutcome, NewReview, ReviewItem, ReviewStatus};
use lunli_governance::runtime::{DecisionRequest, Reason};
use lunli_governance::service::{IncidentStep, Page};
use lunli_governance::store::{ApiKey, ListFilter, Store};
use lunli_governance::{Governance, GovernanceError};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::api::{ApiError, AppState, actor, authorize, blocking, now, reload};
use crate::config::GatewayConfig;
use crate::forwarded::Forwarded;
use crate::metrics::ReasonLabel;
use crate::paging::{self, List};

type Shared<S> = State<Arc<AppState<S>>>;

/// State of its own: the per-client feedback limiter.
pub struct OversightState {
    feedback: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
    per_minute: u32,
    max_bytes: usize,
}

impl OversightState {
    pub fn new(config: &GatewayConfig) -> Self {
        let per_minute = NonZeroU32::new(config.feedback_per_minute).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(config.feedback_burst).unwrap_or(NonZeroU32::MIN);
        Self {
            feedback: RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst)),
            clock: DefaultClock::default(),
            per_minute: per_minute.get(),
            max_bytes: config.feedback_max_bytes,
        }
    }
}

/// The review-queue item a decision sent to a human opens.
pub fn new_review(request: &DecisionRequest, id: &str, reasons: &[Reason], at: jiff::Timestamp) -> NewReview {
    NewReview {
        system: request.system.clone(),
        decision: id.to_string(),
        subject: request.subject.clone(),
        purpose: request.purpose.clone(),
        confidence: request.confidence,
        reasons: reasons.iter().map(|r| r.code.clone()).collect(),
        created_at: at,
    }
}

pub(crate) fn routes<S: Store + Send + Sync + 'static>(config: &GatewayConfig) -> Router<Arc<AppState<S>>> {
    Router::new()
        .route("/v1/reviews", get(list_reviews::<S>))
        .route("/v1/reviews/{id}", get(get_review::<S>))
        .route("/v1/reviews/{id}/claim", post(claim_review::<S>))
        .route("/v1/reviews/{id}/resolve", post(resolve_review::<S>))
        .route(
            "/v1/feedback",
            post(submit_feedback::<S>).layer(DefaultBodyLimit::max(config.feedback_max_bytes)).get(list_feedback::<S>),
        )
        .route("/v1/incidents", get(list_incidents::<S>).post(open_incident::<S>))
        .route("/v1/incidents/{id}", get(get_incident::<S>))
        .route("/v1/incidents/{id}/acknowledge", post(advance_incident::<S, false>))
        .route("/v1/incidents/{id}/resolve", post(advance_incident::<S, true>))
        .route("/v1/outcomes", post(report_outcomes::<S>))
        .route("/v1/alerts", get(list_alerts::<S>))
        .route("/v1/systems/{system}/playbook", get(get_playbook::<S>).put(put_playbook::<S>))
}

fn gov<S: Store>(app: &AppState<S>) -> (Arc<S>, Arc<lunli_norms::Catalogue>) {
    (app.store.clone(), app.catalogue.clone())
}

/// Reviews are made by people: the key must act for one (Art. 3(5)).
fn person<S>(app: &AppState<S>, key: &ApiKey, action: &str) -> Result<String, ApiError> {
    key.person.clone().ok_or_else(|| {
        crate::api::refuse(app, key, action, "a service key acts for no person");
        ApiError::Forbidden(format!("API key {} acts for no person; reviews are made with a person's key", key.id))
    })
}

fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(t)| t).map_err(|e| ApiError::BadRequest(e.body_text()))
}

/// The query of a paged list: filters (`status` where the list has one, `system`) and the page.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery<Status> {
    status: Option<Status>,
    system: Option<String>,
    limit: Option<String>,
    after: Option<String>,
}

/// The status of a list that has none: no value is one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
enum NoStatus {}

/// A paged list: `{"<list>": [...], "next": cursor or null}` for a key allowed `action`.
async fn list_page<S, Status, T>(
    app: &AppState<S>,
    headers: &HeaderMap,
    action: &str,
    list: List,
    q: Result<Query<ListQuery<Status>>, QueryRejection>,
    read: impl FnOnce(&Governance<'_, S>, ListFilter<Status>, u64, u32) -> Result<Page<T>, GovernanceError> + Send + 'static,
) -> Result<Json<Value>, ApiError>
where
    S: Store + Send + Sync + 'static,
    Status: Send + 'static,
    T: Serialize + Send + 'static,
{
    authorize(app, headers, action)?;
    let q = query(q)?;
    let (limit, after) = (paging::limit(q.limit.as_deref())?, list.after(q.after.as_deref())?);
    let filter = ListFilter { system: q.system, statuses: q.status.into_iter().collect() };
    let (store, catalogue) = gov(app);
    let page = blocking(move || read(&Governance::new(&catalogue, &*store), filter, after, limit)).await?;
    Ok(Json(json!({ list.name(): page.items, "next": page.next.map(|id| list.cursor(id)) })))
}

// ── reviews ───────────────────────────────────────────────────────────────────────────────────

async fn list_reviews<S: Store + Send + Sync + 'static>(
    State(app): Shared<S>,
    headers: HeaderMap,
    q: Result<Query<ListQuery<ReviewStatus>>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    list_page(&app, &headers, "review.read", List::Reviews, q, |gov, filter, after, limit| {
        gov.review_page(&filter, after, limit)
    })
    .await
}

async fn get_review<S: Store + Send + Sync + 'static>(
    State(app): Shared<S>,
    headers: HeaderMap,
    Path(id): Path<u64>,
) -> Result<Json<Value>, ApiError> {
    authorize(&app, &headers, "review.read")?;
    let (store, catalogue) = gov(&app);
    let item = blocking(move || Governance::new(&catalogue, &*store).review(id)).await?;
    Ok(Json(json!(item)))
}

async fn claim_review<S: Store + Send + Sync + 'static>(
    State(app): Shared<S>,
    headers: HeaderMap,
    Path(id): Path<u64>,
) -> Result<Json<Value>, ApiError> {
    let key = authorize(&app, &headers, "review.resolve")?;
    let item = claim_review_as(&app, &key, id).await?;
    Ok(Json(json!(item)))
}

/// Claims a review item for the person behind an authorised key (shared with the dashboard).
pub(crate) async fn claim_review_as<S: Store + Send + Sync + 'static>(
    app: &AppState<S>,
    key: &ApiKey,
    id: u64,
) -> Result<ReviewItem, ApiError> {
    let person = person(app, key, "review.resolve")?;
    let (store, catalogue) = gov(app);
    blocking(move || Governance::new(&catalogue, &*store).claim_review(&person, id, now())).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResolveReview {
    outcome: HumanOutcome,
    #[serde(default)]
    note: String,
}

async fn resolve_review<S: Store + Send + Sync + 'static>(
    State(app): Shared<S>,
    headers: HeaderMap,
    Path(id): Path<u64>,
    body: Result<Json<ResolveReview>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let key = authorize(&app, &headers, "review.resolve")?;
    person(&app, &key, "review.resolve")?;
    let Json(body) = body?;
    let item = resolve_review_as(&app, &key, id, body.outcome, body.note).await?;
    Ok(Json(json!(item)))
}

/// Records the human outcome of a claimed item for the person behind an authorised key
/// (shared with the dashboard).
pub(crate) async fn resolve_review_as<S: Store + Send + Sync + 'static>(
    app: &AppState<S>,
    key: &ApiKey,
    id: u64,
    outcome: HumanOutcome,
    note: String,
) -> Result<ReviewItem, ApiError> {
    let person = person(app, key, "review.resolve")?;
    let (store, catalogue) = gov(app);
    blocking(move || Governance::new(&catalogue, &*store).resolve_review(&person, id, outcome, &note, now())).await
}

// ── feedback ──────────────────────────────────────────────────────────────────────────────────

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedbackRequest {
    system: String,
    #[serde(default = "other")]
    kind: FeedbackKind,
    message: String,
    #[serde(default)]
    decision: Option<String>,
    #[serde(default)]
    contact: Option<String>,
}

fn other() -> FeedbackKind {
    FeedbackKind::Other
}

fn too_many(message: String, retry_after: u64) -> Response {
    let body = Json(json!({ "error": { "code": "too_many_requests", "message": message } }));
    (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, retry_after.to_string())], body).into_response()
}

/// Public: no key. Limited per client address and by size.
async fn submit_feedback<S: Store + Send + Sync + 'static>(
    State(app): Shared<S>,
    Extension(Forwarded { client, .. }): Extension<Forwarded>,
    body: Result<Json<FeedbackRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let limits = &app.oversight;
    if let Err(not_until) = limits.feedback.check_key(&client) {
        let wait = not_until.wait_time_from(limits.clock.now()).as_secs().max(1);
        tracing::warn!(%client, "feedback rate limit reached");
        app.metrics.feedback_refused.get_or_create(&ReasonLabel { reason: "rate".into() }).inc();
        return Ok(too_many(
            format!("too much feedback from {client}: at most {} a minute; try again in {wait} s", limits.per_minute),
            wait,
        ));
    }
    if limits.feedback.len() > 100_000 {
        limits.feedback.retain_recent();
    }
    let Json(request) = body.map_err(|e| match e {
        JsonRejection::BytesRejection(_) => {
            app.metrics.feedback_refused.get_or_create(&ReasonLabel { reason: "size".into() }).inc();
            ApiError::PayloadTooLarge(format!("feedback is limited to {} bytes; shorten the message", limits.max_bytes))
        }
        other => ApiError::from(other),
    })?;
    let feedback = Feedback {
        id: 0,
        system: request.system,
        kind: request.kind,
        message: request.message,
        decision: request.decision,
        contact: request.contact,
        at: now(),
    };
    let (store, catalogue) = gov(&app);
    let stored = blocking(move || Governance::new(&catalogue, &*store).submit_feedback("public", feedback)).await?;
    let thanks = json!({
        "id": stored.id,
        "message": { "zh": "感谢您的反馈，我们会及时处理。", "en": "Thank you; your feedback will be handled promptly." }
    });
    Ok((StatusCode::CREATED, Json(thanks)).into_response())
}

async fn list_feedback<S: Store + Send + Sync + 'static>(
    State(app): Shared<S>,
    headers: HeaderMap,
    q: Result<Query<ListQuery<NoStatus>>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    list_page(&app, &headers, "feedback.read", List::Feedback, q, |gov, filter, after, limit| {
        gov.feedback_page(filter.system.as_deref(), after, limit)
    })
    .await
}

// ── incidents ─────────────────────────────────────────────────────────────────────────────────

async fn list_incidents<S: Store + Send + Sync + 'static>(
    State(app): Shared<S>,
    headers: HeaderMap,
    q: Result<Query<ListQuery<IncidentStatus>>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    list_page(&app, &headers, "incident.read", List::Incidents, q, |gov, filter, after, limit| {
        gov.incident_page(&filter, after, limit, now())
    })
    .await
}

async fn get_incident<S: Store + Send + Sync + 'static>(
    State(app): Shared<S>,
    headers: HeaderMap,
    Path(id): Path<u64>,
) -> Result<Json<Value>, ApiError> {
    authorize(&app, &headers, "incident.read")?;
    let (store, catalogue) = gov(&app);
    let row = blocking(move || Governance::new(&catalogue, &*store).incident(id, now())).await?;
    Ok(Json(json!(row)))
}

async fn open_incident<S: Store + Send + Sync + 'static>(
    State(app): Shared<S>,
    headers: HeaderMap,
    body: Result<Json<NewIncident>, JsonRejection>,
) -> Result<Response, ApiError> {
    let key = authorize(&app, &headers, "incident.write")?;
    let Json(new) = body?;
    let (store, catalogue, by) = (app.store.clone(), app.catalogue.clone(), app.policy.actor(&key));
    let incident = blocking(move || Governance::new(&catalogue, &*store).open_incident(&by, new, now())).await?;
    if incident.suspended_system {
        // The suspension is obeyed here at once; other instances pick it up on their refresh.
        reload(&app).await?;
    }
    Ok((StatusCode::CREATED, Json(json!(incident))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Note {
    #[serde(default)]
    note: String,
}

/// `acknowledge` (`RESOLVE` false; the body, with its note, is optional) or `resolve` (a JSON
/// body with the note is required) an incident.
async fn advance_incident<S: Store + Send + Sync + 'static, const RESOLVE: bool>(
    State(app): Shared<S>,
    headers: HeaderMap,
    Path(id): Path<u64>,
    body: Result<Json<Note>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let key = authorize(&app, &headers, "incident.write")?;
    let step = if RESOLVE { IncidentStep::Resolve } else { IncidentStep::Acknowledge };
    let note = body.map(|Json(n)| n.note).or_else(|e| match e {
        JsonRejection::MissingJsonContentType(_) if step == IncidentStep::Acknowledge => Ok(String::new()),
        other => Err(ApiError::from(other)),
    })?;
    let incident = advance_incident_as(&app, &key, id, step, note).await?;
    Ok(Json(json!(incident)))
}

/// Acknowledges or resolves an incident for an authorised key (shared with the dashboard).
pub(crate) async fn advance_incident_as<S: Store + Send + Sync + 'static>(
    app: &AppState<S>,
    key: &ApiKey,
    id: u64,
    step: IncidentStep,
    note: String,
) -> Result<Incident, ApiError> {
    let (store, catalogue, by) = (app.store.clone(), app.catalogue.clone(), actor(key));
    blocking(move || Governance::new(&catalogue, &*store).advance_incident(step, &by, id, &note, now())).await
}

// ── outcomes and alerts ───────────────────────────────────────────────────────────────────────

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OutcomesRequest {
    system: String,
    outcomes: Vec<OutcomeReport>,
}

async fn report_outcomes<S: Store + Send + Sync + 'static>(
    State(app): Shared<S>,
    headers: HeaderMap,
    body: Result<Json<OutcomesRequest>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let key = authorize(&app, &headers, "outcome.write")?;
    let Json(request) = body?;
    let (store, catalogue, by) = (app.store.clone(), app.catalogue.clone(), actor(&key));
    let result = blocking(move || {
        Governance::new(&catalogue, &*store).report_outcomes(&by, &request.system, request.outcomes, now())
    })
    .await?;
    if result.incidents.iter().any(|i| i.suspended_system) {
        reload(&app).await?;
    }
    Ok(Json(json!(result)))
}

async fn list_alerts<S: Store + Send + Sync + 'static>(
    State(app): Shared<S>,
    headers: HeaderMap,
    q: Result<Query<ListQuery<NoStatus>>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    list_page(&app, &headers, "alert.read", List::Alerts, q, |gov, filter, after, limit| {
        gov.alert_page(filter.system.as_deref(), after, limit)
    })
    .await
}

// ── playbooks ─────────────────────────────────────────────────────────────────────────────────

async fn get_playbook<S: Store + Send + Sync + 'static>(
    State(app): Shared<S>,
    headers: HeaderMap,
    Path(system): Path<String>,
) -> Result<Json<Value>, ApiError> {
    authorize(&app, &headers, "playbook.read")?;
    let (store, catalogue) = gov(&app);
    let playbook = blocking(move || Governance::new(&catalogue, &*store).playbook(&system)).await?;
    Ok(Json(json!(playbook)))
}

async fn put_playbook<S: Store + Send + Sync + 'static>(
    State(app): Shared<S>,
    headers: HeaderMap,
    Path(system): Path<String>,
    body: Result<Json<Playbook>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let key = authorize(&app, &headers, "playbook.write")?;
    let Json(playbook) = body?;
    let (store, catalogue, by) = (app.store.clone(), app.catalogue.clone(), app.policy.actor(&key));
    let version =
        blocking(move || Governance::new(&catalogue, &*store).set_playbook(&by, &system, playbook, now())).await?;
    // New review thresholds apply to the next decision.
    reload(&app).await?;
    Ok(Json(json!({ "version": version.version, "playbook": version.system.playbook })))
}

//! The human-review queue and incidents in the dashboard (Art. 3(4), Art. 17): lists with the
//! actions a person takes on them — claim and resolve a review, acknowledge and resolve an
//! incident — through the same calls as the API (`crate::oversight::*_as`).

use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use jiff::Timestamp;
use lunli_governance::incident::{IncidentStatus, Overdue, Severity};
use lunli_governance::ledger::LedgerStatus;
use lunli_governance::review::{HumanOutcome, ReviewItem, ReviewStatus};
use lunli_governance::service::{IncidentRow, IncidentStep, Page};
use lunli_governance::store::{IncidentFilter, ReviewFilter, Store};
use lunli_governance::{Governance, GovernanceError};
use lunli_norms::Lang;
use maud::{Markup, html};
use serde::Deserialize;

use super::views::{Banner, age, encode, t};
use super::{Dashboard, Posted, Shared, User, error_page, explain, see_other};
use crate::api::{ApiError, authorize_hash, now};
use crate::oversight::{advance_incident_as, claim_review_as, resolve_review_as};
use crate::paging::{DEFAULT_LIMIT, List};

#[derive(Debug, Default, Deserialize)]
pub(super) struct ListQuery {
    #[serde(default)]
    show: String,
    #[serde(default)]
    system: String,
    #[serde(default)]
    done: String,
    /// The cursor of the page to show; empty for the first.
    #[serde(default)]
    after: String,
}

impl ListQuery {
    fn system_filter(&self) -> Option<String> {
        Some(self.system.clone()).filter(|s| !s.is_empty())
    }

    /// This list's address with the same tab and system, at the page after `cursor` (the first
    /// page when `None`).
    fn href(&self, list: List, cursor: Option<&str>) -> String {
        let mut href = format!("/ui/{}?show={}", list.name(), encode(&self.show));
        if !self.system.is_empty() {
            href.push_str(&format!("&system={}", encode(&self.system)));
        }
        if let Some(cursor) = cursor {
            href.push_str(&format!("&after={}", encode(cursor)));
        }
        href
    }
}

/// Links to the first page (when not on it) and the next page (when there is one).
fn pager(lang: Lang, list: List, q: &ListQuery, next: Option<&str>) -> Markup {
    html! {
        @if !q.after.is_empty() || next.is_some() {
            p.pager {
                @if !q.after.is_empty() { a.first-page href=(q.href(list, None)) { (t(lang, "第一页", "First page")) } }
                @if !q.after.is_empty() && next.is_some() { " · " }
                @if let Some(next) = next { a.next-page href=(q.href(list, Some(next))) { (t(lang, "下一页", "Next page")) " →" } }
            }
        }
    }
}

fn when(at: Timestamp) -> String {
    at.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

impl<S: Store + LedgerStatus + Send + Sync + 'static> Dashboard<S> {
    /// The signed-in person, allowed `action`, and what the list's address asks for; or the
    /// answer that ends the request (sign in; a refusal, recorded and shown).
    fn list_request(
        &self,
        headers: &HeaderMap,
        uri: &Uri,
        action: &str,
        query: Result<Query<ListQuery>, QueryRejection>,
    ) -> Result<(User, ListQuery), Box<Response>> {
        let user = self.user(headers, uri)?;
        if let Err(e) = authorize_hash(&self.app, &user.key.sha256, action) {
            return Err(Box::new(error_page(&user, &e)));
        }
        Ok((user, query.map(|Query(q)| q).unwrap_or_default()))
    }

    /// The page of a list the query's cursor asks for, and the cursor of the next.
    async fn page<T: Send + 'static>(
        &self,
        list: List,
        q: &ListQuery,
        read: impl FnOnce(&Governance<'_, S>, u64) -> Result<Page<T>, GovernanceError> + Send + 'static,
    ) -> Result<(Vec<T>, Option<String>), ApiError> {
        let after = list.after(Some(&q.after))?;
        let page = self.gov_read(move |gov, _| read(gov, after)).await?;
        Ok((page.items, page.next.map(|id| list.cursor(id))))
    }
}

// ── reviews ──────────────────────────────────────────────────────────────────────────────────

fn review_status(lang: Lang, status: ReviewStatus) -> Markup {
    let (class, zh, en) = match status {
        ReviewStatus::Open => ("approval-open", "待认领", "open"),
        ReviewStatus::Claimed => ("tier-high", "处理中", "claimed"),
        ReviewStatus::Resolved => ("approval-approved", "已处理", "resolved"),
    };
    html! { span class=(format!("badge {class}")) { (t(lang, zh, en)) } }
}

/// Why the gateway sent a decision to a human, in words; an unknown code as it is.
fn escalation_reason(lang: Lang, code: &str) -> String {
    match code {
        "low_confidence" => t(lang, "模型置信度低于阈值", "model confidence below the threshold").into(),
        "high_impact" => t(lang, "影响程度达到人工复核线", "impact at or above the review level").into(),
        other => other.to_string(),
    }
}

fn outcome_name(lang: Lang, outcome: HumanOutcome) -> &'static str {
    match outcome {
        HumanOutcome::Approve => t(lang, "批准模型建议", "approve the model's proposal"),
        HumanOutcome::Reject => t(lang, "驳回模型建议", "reject the model's proposal"),
    }
}

fn reviews_view(
    lang: Lang,
    items: &[ReviewItem],
    q: &ListQuery,
    next: Option<&str>,
    me: Option<&str>,
    may_act: bool,
    csrf: &str,
) -> Markup {
    let tab = |value: &str, zh: &str, en: &str| {
        let href = ListQuery { show: value.into(), system: q.system.clone(), ..ListQuery::default() }
            .href(List::Reviews, None);
        html! { @if q.show == value { strong { (t(lang, zh, en)) } } @else { a href=(href) { (t(lang, zh, en)) } } }
    };
    html! {
        h1 { (t(lang, "人工复核队列", "Human review queue")) }
        p.muted { (t(lang,
            "网关因置信度低或影响大而交由人工的决定（第三条第四项）。复核人须是受过培训、且不是该系统负责人的人员；先认领，再记录人工结论，驳回须说明理由。",
            "Decisions the gateway sent to a human for low confidence or high impact (Art. 3(4)). A reviewer is a trained person who does not own the system; claim an item, then record the human outcome — a rejection needs a reason.")) }
        p.tabs {
            (tab("", "待处理", "Pending")) " · " (tab("resolved", "已处理", "Resolved")) " · " (tab("all", "全部", "All"))
            @if !q.system.is_empty() { " · " (t(lang, "系统：", "system: ")) code { (q.system) } " " a href="/ui/reviews" { (t(lang, "（全部系统）", "(all systems)")) } }
        }
        @if items.is_empty() {
            p.muted #reviews-empty { (t(lang, "队列中没有这类事项。", "Nothing here.")) }
        }
        @for item in items {
            section.card.item #(format!("review-{}", item.id)) {
                div.title-row {
                    h2 { (t(lang, "复核", "Review")) " #" (item.id) " · " a href=(format!("/ui/systems/{}", item.system)) { (item.system) } }
                    (review_status(lang, item.status))
                }
                dl {
                    dt { (t(lang, "决定", "Decision")) } dd { code { (item.decision) } " · " (t(lang, "账本条目", "ledger entry")) " " (item.decision_index) }
                    dt { (t(lang, "对象", "Subject")) } dd { code { (item.subject) } }
                    @if let Some(purpose) = &item.purpose { dt { (t(lang, "用途", "Purpose")) } dd { (purpose) } }
                    @if let Some(c) = item.confidence { dt { (t(lang, "模型置信度", "Model confidence")) } dd { (format!("{c:.2}")) } }
                    dt { (t(lang, "交由人工的原因", "Why a human")) } dd { (item.reasons.iter().map(|c| escalation_reason(lang, c)).collect::<Vec<_>>().join(t(lang, "；", "; "))) }
                    dt { (t(lang, "时间", "When")) } dd { (when(item.created_at)) " · " (age(now(), item.created_at, lang)) }
                    @if let Some(by) = &item.claimed_by { dt { (t(lang, "认领人", "Claimed by")) } dd { (by) } }
                    @if let Some(r) = &item.resolution {
                        dt { (t(lang, "人工结论", "Human outcome")) } dd.resolution { strong { (outcome_name(lang, r.outcome)) } " — " (r.note) " · " (r.by) ", " (when(r.at)) }
                    }
                }
                @if may_act {
                    @match (item.status, item.claimed_by.as_deref()) {
                        (ReviewStatus::Open, _) => {
                            form method="post" action=(format!("/ui/reviews/{}/claim", item.id)) {
                                input type="hidden" name="csrf" value=(csrf);
                                button.primary.claim type="submit" { (t(lang, "认领", "Claim")) }
                            }
                        }
                        (ReviewStatus::Claimed, Some(by)) if Some(by) == me => {
                            form.resolve method="post" action=(format!("/ui/reviews/{}/resolve", item.id)) {
                                input type="hidden" name="csrf" value=(csrf);
                                fieldset {
                                    legend { (t(lang, "人工结论", "Human outcome")) }
                                    label.choice { input type="radio" name="outcome" value="approve" required; " " (outcome_name(lang, HumanOutcome::Approve)) }
                                    label.choice { input type="radio" name="outcome" value="reject"; " " (outcome_name(lang, HumanOutcome::Reject)) }
                                }
                                label { (t(lang, "说明（驳回时必填）", "Note (required to reject)")) }
                                textarea name="note" rows="2" {}
                                button.primary.record type="submit" { (t(lang, "记录结论", "Record the outcome")) }
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        (pager(lang, List::Reviews, q, next))
    }
}

pub(super) async fn reviews<S: Store + LedgerStatus + Send + Sync + 'static>(
    State(d): Shared<S>,
    headers: HeaderMap,
    uri: Uri,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    let (user, q) = match d.list_request(&headers, &uri, "review.read", query) {
        Ok(request) => request,
        Err(response) => return *response,
    };
    let statuses = match q.show.as_str() {
        "all" => vec![],
        "resolved" => vec![ReviewStatus::Resolved],
        _ => vec![ReviewStatus::Open, ReviewStatus::Claimed],
    };
    let filter = ReviewFilter { system: q.system_filter(), statuses };
    let page = d.page(List::Reviews, &q, move |gov, after| gov.review_page(&filter, after, DEFAULT_LIMIT));
    let (mut items, next) = match page.await {
        Ok(page) => page,
        Err(e) => return error_page(&user, &e),
    };
    // On each page, oldest waiting first: the person behind it has waited longest.
    items.sort_by_key(|i| (i.status == ReviewStatus::Resolved, i.created_at));
    let lang = user.lang;
    let banner = match q.done.as_str() {
        "claimed" => {
            Some(Banner::Ok(t(lang, "已认领。请记录人工结论。", "Claimed. Record the human outcome below.").into()))
        }
        "resolved" => {
            Some(Banner::Ok(t(lang, "已记录人工结论，并记入账本。", "Outcome recorded, and in the ledger.").into()))
        }
        _ => None,
    };
    let may_act = d.app.policy.allows(&user.key, "review.resolve");
    let body = reviews_view(lang, &items, &q, next.as_deref(), user.key.person.as_deref(), may_act, &user.csrf);
    user.page(StatusCode::OK, t(lang, "人工复核", "Human review"), banner.as_ref(), body)
}

// ── incidents ────────────────────────────────────────────────────────────────────────────────

fn severity(lang: Lang, s: Severity) -> Markup {
    let class = match s {
        Severity::Critical | Severity::High => "tier-prohibited",
        Severity::Medium => "tier-high",
        Severity::Low => "tier-medium",
    };
    html! { span class=(format!("badge {class}")) { (t(lang, s.zh(), s.as_str())) } }
}

fn incident_status(lang: Lang, s: IncidentStatus) -> String {
    lunli_norms::terms::incident_status(s.as_str()).get(lang).to_string()
}

fn incidents_view(
    lang: Lang,
    rows: &[IncidentRow],
    q: &ListQuery,
    next: Option<&str>,
    may_act: bool,
    csrf: &str,
) -> Markup {
    let tab = |value: &str, zh: &str, en: &str| {
        let href = ListQuery { show: value.into(), system: q.system.clone(), ..ListQuery::default() }
            .href(List::Incidents, None);
        html! { @if q.show == value { strong { (t(lang, zh, en)) } } @else { a href=(href) { (t(lang, zh, en)) } } }
    };
    html! {
        h1 { (t(lang, "事件", "Incidents")) }
        p.muted { (t(lang,
            "每个事件有严重程度、负责人和确认、解决时限（第十七条、第八条）。超过时限会标出；严重事件可按预案立即暂停系统。",
            "Each incident has a severity, an accountable owner, and deadlines to acknowledge and resolve it (Art. 17, Art. 8). Missed deadlines are marked; by the playbook, a severe incident can suspend its system at once.")) }
        p.tabs { (tab("", "未解决", "Unresolved")) " · " (tab("all", "全部", "All")) }
        @if rows.is_empty() { p.muted #incidents-empty { (t(lang, "没有这类事件。", "No incidents here.")) } }
        @for row in rows {
            @let i = &row.incident;
            section.card.item #(format!("incident-{}", i.id)) {
                div.title-row {
                    h2 { (severity(lang, i.severity)) " " (i.title) }
                    div {
                        span.badge.incident-status { (incident_status(lang, i.status)) }
                        @match row.overdue {
                            Some(Overdue::Acknowledge) => { " " span.badge.overdue { (t(lang, "确认逾期", "acknowledgement overdue")) } }
                            Some(Overdue::Resolve) => { " " span.badge.overdue { (t(lang, "解决逾期", "resolution overdue")) } }
                            None => {}
                        }
                    }
                }
                dl {
                    dt { (t(lang, "编号", "Id")) } dd { "#" (i.id) }
                    dt { (t(lang, "系统", "System")) } dd { a href=(format!("/ui/systems/{}", i.system)) { (i.system) }
                        @if i.suspended_system { " · " span.badge.suspended { (t(lang, "已据此暂停系统", "suspended the system")) } } }
                    @if !i.description.is_empty() { dt { (t(lang, "说明", "Description")) } dd { (i.description) } }
                    dt { (t(lang, "负责人", "Owner")) } dd { (i.owner) }
                    dt { (t(lang, "报告", "Opened")) } dd { (i.opened_by) ", " (when(i.opened_at)) " · " (age(now(), i.opened_at, lang)) }
                    dt { (t(lang, "确认时限", "Acknowledge by")) } dd { (when(i.acknowledge_by)) }
                    dt { (t(lang, "解决时限", "Resolve by")) } dd { (when(i.resolve_by)) }
                    @if !i.decisions.is_empty() { dt { (t(lang, "相关决定", "Decisions")) } dd { code { (i.decisions.join(", ")) } } }
                    @if !i.controls.is_empty() { dt { (t(lang, "相关控制", "Controls")) } dd { code { (i.controls.join(", ")) } } }
                    @if !i.history.is_empty() {
                        dt { (t(lang, "经过", "History")) } dd { ul.plain { @for h in &i.history {
                            li { (incident_status(lang, h.status)) " — " (h.by) ", " (when(h.at)) @if !h.note.is_empty() { ": " (h.note) } }
                        } } }
                    }
                }
                @if may_act && i.status != IncidentStatus::Resolved {
                    form.note-action method="post" action=(format!("/ui/incidents/{}/{}", i.id, if i.status == IncidentStatus::Open { "acknowledge" } else { "resolve" })) {
                        input type="hidden" name="csrf" value=(csrf);
                        @if i.status == IncidentStatus::Open {
                            label { (t(lang, "说明（可选）", "Note (optional)")) }
                            textarea name="note" rows="2" {}
                            button.primary.acknowledge type="submit" { (t(lang, "确认事件", "Acknowledge")) }
                        } @else {
                            label { (t(lang, "如何解决的（必填）", "How it was resolved (required)")) }
                            textarea name="note" rows="2" required {}
                            button.primary.resolve-incident type="submit" { (t(lang, "标记为已解决", "Mark resolved")) }
                        }
                    }
                }
            }
        }
        (pager(lang, List::Incidents, q, next))
    }
}

pub(super) async fn incidents<S: Store + LedgerStatus + Send + Sync + 'static>(
    State(d): Shared<S>,
    headers: HeaderMap,
    uri: Uri,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    let (user, q) = match d.list_request(&headers, &uri, "incident.read", query) {
        Ok(request) => request,
        Err(response) => return *response,
    };
    let statuses = if q.show == "all" { vec![] } else { vec![IncidentStatus::Open, IncidentStatus::Acknowledged] };
    let filter = IncidentFilter { system: q.system_filter(), statuses };
    let page = d.page(List::Incidents, &q, move |gov, after| gov.incident_page(&filter, after, DEFAULT_LIMIT, now()));
    let (mut rows, next) = match page.await {
        Ok(page) => page,
        Err(e) => return error_page(&user, &e),
    };
    // On each page, most severe first, then oldest.
    rows.sort_by_key(|r| {
        (r.incident.status == IncidentStatus::Resolved, std::cmp::Reverse(r.incident.severity), r.incident.opened_at)
    });
    let lang = user.lang;
    let banner = match q.done.as_str() {
        "acknowledged" => Some(Banner::Ok(t(lang, "已确认事件。", "Incident acknowledged.").into())),
        "resolved" => Some(Banner::Ok(
            t(
                lang,
                "事件已解决。若系统因此暂停，恢复须另行操作。",
                "Incident resolved. If it suspended the system, resuming is a separate step.",
            )
            .into(),
        )),
        _ => None,
    };
    let may_act = d.app.policy.allows(&user.key, "incident.write");
    let body = incidents_view(lang, &rows, &q, next.as_deref(), may_act, &user.csrf);
    user.page(StatusCode::OK, t(lang, "事件", "Incidents"), banner.as_ref(), body)
}

// ── actions ──────────────────────────────────────────────────────────────────────────────────

/// A form posted by an action on a review item or an incident.
#[derive(Debug, Deserialize)]
pub(super) struct ActionForm {
    csrf: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    note: String,
}

impl Posted for ActionForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// What a person does to an item of a list.
enum Action {
    Claim,
    Resolve,
    Incident(IncidentStep),
}

impl Action {
    fn parse(list: List, verb: &str) -> Result<Self, ApiError> {
        match (list, verb) {
            (List::Reviews, "claim") => Ok(Self::Claim),
            (List::Reviews, "resolve") => Ok(Self::Resolve),
            (List::Incidents, verb) => IncidentStep::from_verb(verb)
                .map(Self::Incident)
                .ok_or_else(|| ApiError::NotFound(format!("no action `{verb}` on an incident"))),
            (_, verb) => Err(ApiError::NotFound(format!("no action `{verb}` on a review"))),
        }
    }
}

/// `claim` or `resolve` a review item (`INCIDENT` false), `acknowledge` or `resolve` an incident
/// (`INCIDENT` true): through the API's calls, then back to the list at the item, or the item
/// alone with what went wrong.
pub(super) async fn item_action<S: Store + LedgerStatus + Send + Sync + 'static, const INCIDENT: bool>(
    State(d): Shared<S>,
    headers: HeaderMap,
    uri: Uri,
    Path((id, verb)): Path<(u64, String)>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Response {
    let (user, form) = match d.posted(&headers, &uri, form) {
        Ok(posted) => posted,
        Err(response) => return *response,
    };
    let list = if INCIDENT { List::Incidents } else { List::Reviews };
    let action = match Action::parse(list, &verb) {
        Ok(action) => action,
        Err(e) => return error_page(&user, &e),
    };
    let permission = if INCIDENT { "incident.write" } else { "review.resolve" };
    let result = match authorize_hash(&d.app, &user.key.sha256, permission) {
        Err(e) => Err(e),
        Ok(key) => match action {
            Action::Claim => claim_review_as(&d.app, &key, id).await.map(|_| "claimed"),
            Action::Resolve => {
                let outcome = match form.outcome.as_str() {
                    "approve" => Ok(HumanOutcome::Approve),
                    "reject" => Ok(HumanOutcome::Reject),
                    other => Err(ApiError::BadRequest(format!("choose approve or reject, not `{other}`"))),
                };
                match outcome {
                    Ok(outcome) => resolve_review_as(&d.app, &key, id, outcome, form.note).await.map(|_| "resolved"),
                    Err(e) => Err(e),
                }
            }
            Action::Incident(step) => {
                advance_incident_as(&d.app, &key, id, step, form.note).await.map(|_| step.status().as_str())
            }
        },
    };
    let anchor = if INCIDENT { "incident" } else { "review" };
    let e = match result {
        Ok(done) => return see_other(&format!("/ui/{}?show=all&done={done}#{anchor}-{id}", list.name()), &[]),
        Err(e) => e,
    };
    let lang = user.lang;
    let (status, banner) = explain(lang, &e);
    let q = ListQuery { show: "all".into(), ..ListQuery::default() };
    let (title, body) = if INCIDENT {
        let rows = d.gov_read(move |gov, _| gov.incident(id, now())).await.into_iter().collect::<Vec<_>>();
        let may_act = d.app.policy.allows(&user.key, "incident.write");
        (t(lang, "事件", "Incidents"), incidents_view(lang, &rows, &q, None, may_act, &user.csrf))
    } else {
        let items = d.gov_read(move |gov, _| gov.review(id)).await.into_iter().collect::<Vec<_>>();
        let may_act = d.app.policy.allows(&user.key, "review.resolve");
        let me = user.key.person.as_deref();
        (t(lang, "人工复核", "Human review"), reviews_view(lang, &items, &q, None, me, may_act, &user.csrf))
    };
    user.page(status, title, Some(&banner), body)
}

//! The per-system report: what an ethics committee, an auditor or a regulator reads about one AI
//! system, gathered in one consistent read of the governance store. Every text a person reads is
//! a [`Text`] carrying both languages; the norms' own words come verbatim from the catalogue.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use lunli_governance::assessment::{Approval, Assessment, EvidenceItem};
use lunli_governance::incident::{Incident, IncidentStatus, Overdue};
use lunli_governance::review::{HumanOutcome, ReviewStatus};
use lunli_governance::runtime::{Consent, Mode, Suspension};
use lunli_governance::store::{IntakeRecord, Store, Tx};
use lunli_governance::tiering::Tiering;
use lunli_governance::{GovernanceError, Person, System, Vendor};
use lunli_norms::{Catalogue, Text, Tier, terms};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ReportError;
use crate::audit::{AuditResult, audit_result};

/// The format tag of every report document; bumped only by an incompatible change.
pub const REPORT_FORMAT: &str = "lunli-report/1";

/// A machine id with its bilingual name, e.g. `{"id": "high", "name": {"zh": "高风险", "en": "high"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Named {
    pub id: String,
    pub name: Text,
}

impl Named {
    pub(crate) fn new(id: impl Into<String>, name: Text) -> Self {
        Self { id: id.into(), name }
    }
}

/// Who produced a report, when, and from which norms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// Always [`REPORT_FORMAT`].
    pub format: String,
    /// `system` or `organisation`.
    pub kind: String,
    pub generated_at: Timestamp,
    pub generated_by: String,
    /// The norms the report measures against: their title and date of issue.
    pub norms: Text,
    pub norms_issued: String,
}

/// The report on one AI system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemReport {
    pub header: Header,
    pub system: SystemCard,
    /// From the latest intake of the current version; absent before the first intake.
    pub tiering: Option<TieringSection>,
    /// The latest assessment; absent before the first one.
    pub assessment: Option<AssessmentSection>,
    /// The latest run of each audit recorded as evidence, newest first.
    pub audits: Vec<AuditResult>,
    pub runtime: RuntimeSection,
    /// The assessment in the terms of other frameworks (EU AI Act, NIST AI RMF, ISO/IEC 42001,
    /// China's measures), one per crosswalk in the catalogue; empty before the first assessment.
    #[serde(default)]
    pub crosswalks: Vec<lunli_governance::crosswalk::SystemCrosswalk>,
}

/// The system card (the operating model's "clear record of model purpose, data sources, …
/// known limitations, accountable owners").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemCard {
    pub id: String,
    pub name: String,
    pub description: String,
    pub version: u32,
    pub version_changed_at: Timestamp,
    pub owner: PersonRef,
    /// The organisation's roles toward it (Art. 2).
    pub roles: Vec<Named>,
    pub purpose: String,
    pub purposes: Vec<String>,
    pub sectors: Vec<String>,
    pub exposure: Named,
    pub regions: Vec<String>,
    pub stage: Named,
    pub model: ModelCard,
    pub data_sources: Vec<DataSourceCard>,
    pub vendors: Vec<VendorCard>,
    /// What it does, as users are told (Art. 16).
    pub functions: Vec<String>,
    /// What it cannot do or does badly (Art. 16).
    pub limitations: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonRef {
    pub id: String,
    /// The registered name; the id again when the person is not registered.
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    pub source: Named,
    pub name: Option<String>,
    pub vendor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataSourceCard {
    pub name: String,
    pub legal_basis: Named,
    pub vendor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VendorCard {
    pub id: String,
    pub name: String,
    pub kind: Named,
    /// Due-diligence questions answered, and how many of them `yes`.
    pub questions: usize,
    pub answered: usize,
    pub answered_yes: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TieringSection {
    pub tier: Named,
    /// Every rule that fired, highest tier first, with its reason and the articles behind it.
    pub fired: Vec<FiredRule>,
    pub ruleset_version: String,
    pub ruleset_digest: String,
    pub intake_by: String,
    pub intake_at: Timestamp,
    pub for_version: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FiredRule {
    pub id: String,
    pub tier: Named,
    pub reason: Text,
    pub articles: Vec<u8>,
    pub principles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssessmentSection {
    pub id: u64,
    pub version: u32,
    /// The system has a newer version than the one assessed.
    pub stale: bool,
    pub tier: Named,
    /// `open`, `submitted`, `approved` or `blocked`, with its name.
    pub state: Named,
    pub created_by: String,
    pub created_at: Timestamp,
    pub submitted_by: Option<String>,
    pub submitted_at: Option<Timestamp>,
    pub approved_at: Option<Timestamp>,
    pub review_due: Option<Date>,
    pub overdue: bool,
    /// Each role the tier requires and who signed in it, if anyone.
    pub signoffs: Vec<RoleSignOff>,
    /// How many controls are in each status, by status id.
    pub status_counts: BTreeMap<String, usize>,
    pub controls: Vec<ControlRow>,
    /// The same controls grouped by the principles of Art. 3 they serve.
    pub by_principle: Vec<PrincipleGroup>,
    /// The same controls grouped by their primary article (the first they cite), each once.
    pub by_article: Vec<ArticleGroup>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoleSignOff {
    pub role: Named,
    pub signed: Option<SignedBy>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignedBy {
    pub person: PersonRef,
    pub at: Timestamp,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ControlRow {
    pub id: String,
    pub title: Text,
    pub articles: Vec<u8>,
    pub principles: Vec<String>,
    pub activity: String,
    pub kind: Named,
    pub status: Named,
    pub justification: String,
    pub evidence: Vec<EvidenceRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceRow {
    pub id: u32,
    /// `file`, `link`, `attestation` or `audit`.
    pub kind: String,
    /// What it is, in a line: the file name, the URL, the statement, the audit and its outcome.
    pub description: String,
    /// SHA-256 of a file.
    pub sha256: Option<String>,
    /// An audit's name (`fairness`, `quality`, …), whether it passed, and the rows it read.
    pub audit: Option<String>,
    pub passed: Option<bool>,
    pub rows: Option<u64>,
    pub note: String,
    pub added_by: String,
    pub added_at: Timestamp,
}

/// Progress on the controls serving one principle or citing one article.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub controls: Vec<String>,
    /// Met, or not applicable with a justification.
    pub resolved: usize,
    pub total: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrincipleGroup {
    pub id: String,
    pub name: Text,
    /// The clause of Art. 3, verbatim from the catalogue.
    pub text: Text,
    #[serde(flatten)]
    pub progress: Progress,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArticleGroup {
    pub number: u8,
    pub label: Text,
    pub title: Text,
    /// The article, verbatim from the catalogue (`zh` authoritative).
    pub text: Text,
    #[serde(flatten)]
    pub progress: Progress,
}

/// What the runtime gateway holds and has recorded for the system.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RuntimeSection {
    /// Active suspensions (the kill switch, Art. 3(4), Art. 17).
    pub suspensions: Vec<Suspension>,
    /// Subjects' standing choices (Art. 16, Art. 19).
    pub consents: ConsentCounts,
    /// Decisions recorded in the ledger, by outcome.
    pub decisions: DecisionCounts,
    /// Incidents not yet resolved (Art. 17, Art. 21), most severe first.
    pub open_incidents: Vec<IncidentSummary>,
    pub resolved_incidents: usize,
    /// The human-review queue (Art. 3(4)).
    pub reviews: ReviewCounts,
    /// How the playbook now weakens human control compared with the approved version's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub playbook_loosened: Vec<lunli_governance::playbook::Loosening>,
}

/// An incident as a report lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentSummary {
    pub id: u64,
    pub system: String,
    pub title: String,
    pub severity: Named,
    pub status: Named,
    pub owner: String,
    pub opened_at: Timestamp,
    pub acknowledge_by: Timestamp,
    pub resolve_by: Timestamp,
    /// Which target it has missed at the time of the report, if any.
    pub overdue: Option<Named>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReviewCounts {
    pub open: usize,
    pub claimed: usize,
    pub resolved: usize,
    /// Resolved items the human approved, and those the human rejected or overrode.
    pub approved: usize,
    pub rejected: usize,
}

pub(crate) fn incident_summary(i: &Incident, now: Timestamp) -> IncidentSummary {
    IncidentSummary {
        id: i.id,
        system: i.system.clone(),
        title: i.title.clone(),
        severity: Named::new(i.severity.as_str(), terms::severity(i.severity.as_str())),
        status: Named::new(i.status.as_str(), terms::incident_status(i.status.as_str())),
        owner: i.owner.clone(),
        opened_at: i.opened_at,
        acknowledge_by: i.acknowledge_by,
        resolve_by: i.resolve_by,
        overdue: i.overdue(now).map(|o| {
            let id = match o {
                Overdue::Acknowledge => "acknowledge",
                Overdue::Resolve => "resolve",
            };
            Named::new(id, terms::incident_overdue(id))
        }),
    }
}

/// Open incidents, most severe first, then oldest first.
pub(crate) fn open_incidents(incidents: &[Incident], system: Option<&str>, now: Timestamp) -> Vec<IncidentSummary> {
    let mut open: Vec<&Incident> = incidents
        .iter()
        .filter(|i| i.status != IncidentStatus::Resolved && system.is_none_or(|s| i.system == s))
        .collect();
    open.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.opened_at.cmp(&b.opened_at)));
    open.into_iter().map(|i| incident_summary(i, now)).collect()
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConsentCounts {
    pub given: usize,
    pub withdrawn: usize,
    /// Subjects who chose a human instead of the AI.
    pub chose_human: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DecisionCounts {
    pub total: u64,
    pub allow: u64,
    pub deny: u64,
    pub human_review: u64,
    pub first_at: Option<String>,
    pub last_at: Option<String>,
}

impl DecisionCounts {
    /// Counts a `decision` ledger entry's outcome.
    pub fn add(&mut self, payload: &Value, time: String) {
        self.total += 1;
        match payload.get("outcome").and_then(Value::as_str) {
            Some("allow") => self.allow += 1,
            Some("deny") => self.deny += 1,
            Some("human_review") => self.human_review += 1,
            _ => {}
        }
        if self.first_at.is_none() {
            self.first_at = Some(time.clone());
        }
        self.last_at = Some(time);
    }
}

/// What a report is built at and by: the caller's clock and actor, never the library's.
#[derive(Debug, Clone)]
pub struct Issue {
    pub at: Timestamp,
    pub by: String,
}

impl Issue {
    pub(crate) fn header(&self, catalogue: &Catalogue, kind: &str) -> Header {
        let document = catalogue.document();
        Header {
            format: REPORT_FORMAT.into(),
            kind: kind.into(),
            generated_at: self.at,
            generated_by: self.by.clone(),
            norms: document.title.clone(),
            norms_issued: document.issued.clone(),
        }
    }

    pub(crate) fn today(&self) -> Date {
        self.at.to_zoned_datetime(jiff::tz::TimeZone::UTC).date()
    }
}

/// Builds the report on `system_id` from one consistent read of `store`. `decisions` are the
/// counts of the gateway's decisions from the ledger (see [`crate::ledger_decisions`]).
pub fn system_report<S: Store>(
    catalogue: &Catalogue,
    store: &S,
    system_id: &str,
    decisions: DecisionCounts,
    issue: &Issue,
) -> Result<SystemReport, ReportError> {
    let today = issue.today();
    store
        .read(|tx| {
            let current = tx.system(system_id)?.ok_or_else(|| GovernanceError::NotFound {
                what: "system",
                id: system_id.to_string(),
                hint: "list them to see which exist".into(),
            })?;
            let people = tx.people()?;
            let vendors = tx.vendors()?;
            let card = system_card(catalogue, &current.system, current.version, current.created_at, &people, &vendors);
            let tiering = tx.latest_intake(system_id, current.version)?.map(|i| tiering_section(&i)).transpose()?;
            let assessment = tx.latest_assessment(system_id)?;
            let audits = assessment.as_ref().map(latest_audits).unwrap_or_default();
            let crosswalks = assessment
                .as_ref()
                .map(|a| {
                    catalogue
                        .crosswalks()
                        .iter()
                        .map(|framework| lunli_governance::crosswalk::system_crosswalk(framework, a))
                        .collect()
                })
                .unwrap_or_default();
            let assessment =
                assessment.map(|a| assessment_section(catalogue, &a, current.version, &people, today)).transpose()?;
            let runtime = runtime_section(tx, system_id, decisions, issue.at)?;
            Ok(SystemReport {
                header: issue.header(catalogue, "system"),
                system: card,
                tiering,
                assessment,
                audits,
                runtime,
                crosswalks,
            })
        })
        .map_err(ReportError::from)
}

pub(crate) fn person_ref(id: &str, people: &[Person]) -> PersonRef {
    let name = people.iter().find(|p| p.id == id).map(|p| p.name.clone()).unwrap_or_else(|| id.to_string());
    PersonRef { id: id.to_string(), name }
}

fn system_card(
    catalogue: &Catalogue,
    s: &System,
    version: u32,
    changed_at: Timestamp,
    people: &[Person],
    vendors: &[Vendor],
) -> SystemCard {
    let questions = catalogue.vendor_questions().len();
    let vendor_cards = s
        .vendors()
        .into_iter()
        .map(|id| match vendors.iter().find(|v| v.id == id) {
            Some(v) => VendorCard {
                id: v.id.clone(),
                name: v.name.clone(),
                kind: Named::new(v.kind.as_str(), v.kind.name()),
                questions,
                answered: v.due_diligence.len(),
                answered_yes: v.due_diligence.values().filter(|a| a.answer).count(),
            },
            None => VendorCard {
                id: id.to_string(),
                name: id.to_string(),
                kind: Named::new("unknown", Text { zh: "未登记".into(), en: "not registered".into() }),
                questions,
                answered: 0,
                answered_yes: 0,
            },
        })
        .collect();
    SystemCard {
        id: s.id.clone(),
        name: s.name.clone(),
        description: s.description.clone(),
        version,
        version_changed_at: changed_at,
        owner: person_ref(&s.owner, people),
        roles: s.roles.iter().map(|r| Named::new(r.as_str(), r.name())).collect(),
        purpose: s.purpose.clone(),
        purposes: s.purposes.clone(),
        sectors: s.sectors.clone(),
        exposure: Named::new(s.deployment.exposure.as_str(), s.deployment.exposure.name()),
        regions: s.deployment.regions.clone(),
        stage: Named::new(s.stage.as_str(), s.stage.name()),
        model: ModelCard {
            source: Named::new(s.model.source.as_str(), s.model.source.name()),
            name: s.model.name.clone(),
            vendor: s.model.vendor.clone(),
        },
        data_sources: s
            .data_sources
            .iter()
            .map(|d| DataSourceCard {
                name: d.name.clone(),
                legal_basis: Named::new(d.legal_basis.as_str(), d.legal_basis.name()),
                vendor: d.vendor.clone(),
            })
            .collect(),
        vendors: vendor_cards,
        functions: s.functions.clone(),
        limitations: s.limitations.clone(),
    }
}

pub(crate) fn tier_named(tier: Tier) -> Named {
    Named::new(tier.as_str(), tier.name())
}

fn tiering_section(intake: &IntakeRecord) -> Result<TieringSection, GovernanceError> {
    let tiering: Tiering = serde_json::from_value(intake.tiering.clone()).map_err(|e| GovernanceError::Storage {
        message: format!("the stored tiering of intake {} cannot be read: {e}", intake.id),
        source: None,
    })?;
    Ok(TieringSection {
        tier: tier_named(intake.tier),
        fired: tiering
            .fired
            .into_iter()
            .map(|r| FiredRule {
                id: r.id,
                tier: tier_named(r.tier),
                reason: r.reason,
                articles: r.articles,
                principles: r.principles,
            })
            .collect(),
        ruleset_version: intake.ruleset_version.clone(),
        ruleset_digest: intake.ruleset_digest.clone(),
        intake_by: intake.by.clone(),
        intake_at: intake.at,
        for_version: intake.version,
    })
}

/// The state of an assessment as a word: blocked, approved, submitted or open.
pub(crate) fn approval_state(assessment: &Assessment) -> Named {
    let id = match assessment.approval() {
        Approval::Blocked => "blocked",
        Approval::Approved { .. } => "approved",
        Approval::Open { submitted: true, .. } => "submitted",
        Approval::Open { .. } => "open",
    };
    Named::new(id, terms::approval(id))
}

pub(crate) fn role_name(catalogue: &Catalogue, role: &str) -> Named {
    let name =
        catalogue.role(role).map(|r| r.name.clone()).unwrap_or_else(|| Text { zh: role.into(), en: role.into() });
    Named::new(role, name)
}

fn assessment_section(
    catalogue: &Catalogue,
    a: &Assessment,
    current_version: u32,
    people: &[Person],
    today: Date,
) -> Result<AssessmentSection, GovernanceError> {
    let mut status_counts = BTreeMap::new();
    let mut controls = Vec::new();
    for state in &a.controls {
        *status_counts.entry(state.status.as_str().to_string()).or_insert(0) += 1;
        let definition = catalogue.control(&state.control);
        controls.push(ControlRow {
            id: state.control.clone(),
            title: definition.map(|c| c.title.clone()).unwrap_or_else(|| Text {
                zh: "（目录中已无此控制项）".into(),
                en: "(no longer in the catalogue)".into(),
            }),
            articles: definition.map(|c| c.articles.clone()).unwrap_or_default(),
            principles: definition.map(|c| c.principles.clone()).unwrap_or_default(),
            activity: definition.map(|c| c.activity.as_str().to_string()).unwrap_or_default(),
            kind: definition
                .map(|c| Named::new(c.kind.as_str(), c.kind.name()))
                .unwrap_or_else(|| Named::new("unknown", Text { zh: "未知".into(), en: "unknown".into() })),
            status: Named::new(state.status.as_str(), state.status.name()),
            justification: state.justification.clone(),
            evidence: state.evidence.iter().map(evidence_row).collect(),
        });
    }
    let progress = |ids: Vec<String>| {
        let resolved = ids.iter().filter(|id| a.control(id).is_some_and(|c| c.status.is_resolved())).count();
        Progress { total: ids.len(), resolved, controls: ids }
    };
    let by_principle = catalogue
        .principles()
        .iter()
        .map(|p| PrincipleGroup {
            id: p.id.clone(),
            name: p.name.clone(),
            text: p.text.clone(),
            progress: progress(
                controls.iter().filter(|c| c.principles.contains(&p.id)).map(|c| c.id.clone()).collect(),
            ),
        })
        .filter(|g| g.progress.total > 0)
        .collect();
    let by_article = catalogue
        .articles()
        .iter()
        .map(|art| ArticleGroup {
            number: art.number,
            label: art.label(),
            title: art.title.clone(),
            text: art.text.clone(),
            progress: progress(
                controls.iter().filter(|c| c.articles.first() == Some(&art.number)).map(|c| c.id.clone()).collect(),
            ),
        })
        .filter(|g| g.progress.total > 0)
        .collect();
    let signoffs = a
        .required_roles
        .iter()
        .map(|role| RoleSignOff {
            role: role_name(catalogue, role),
            signed: a.signoffs.iter().find(|s| &s.role == role).map(|s| SignedBy {
                person: person_ref(&s.person, people),
                at: s.at,
                note: s.note.clone(),
            }),
        })
        .collect();
    Ok(AssessmentSection {
        id: a.id,
        version: a.version,
        stale: a.version < current_version,
        tier: tier_named(a.tier),
        state: approval_state(a),
        created_by: a.created_by.clone(),
        created_at: a.created_at,
        submitted_by: a.submitted_by.clone(),
        submitted_at: a.submitted_at,
        approved_at: a.approved_at,
        review_due: a.review_due(),
        overdue: a.is_overdue(today),
        signoffs,
        status_counts,
        controls,
        by_principle,
        by_article,
    })
}

fn evidence_row(e: &lunli_governance::Evidence) -> EvidenceRow {
    let (mut audit, mut passed, mut rows) = (None, None, None);
    let (kind, description, sha256) = match &e.item {
        EvidenceItem::File { name, sha256, size } => ("file", format!("{name} ({size} bytes)"), Some(sha256.clone())),
        EvidenceItem::Link { url } => ("link", url.clone(), None),
        EvidenceItem::Attestation { text } => ("attestation", text.clone(), None),
        EvidenceItem::Audit { audit: name, passed: ok, summary } => {
            audit = Some(name.clone());
            passed = Some(*ok);
            rows = summary.get("rows").and_then(Value::as_u64);
            ("audit", format!("lunli audit {name}"), None)
        }
    };
    EvidenceRow {
        id: e.id,
        kind: kind.into(),
        description,
        sha256,
        audit,
        passed,
        rows,
        note: e.note.clone(),
        added_by: e.added_by.clone(),
        added_at: e.added_at,
    }
}

/// The newest run of each kind of audit among the assessment's evidence. One run is recorded on
/// every control it concerns; it is shown once, naming all of them.
fn latest_audits(a: &Assessment) -> Vec<AuditResult> {
    let mut latest: BTreeMap<String, AuditResult> = BTreeMap::new();
    for state in &a.controls {
        for e in &state.evidence {
            let EvidenceItem::Audit { audit, passed, summary } = &e.item else { continue };
            match latest.get_mut(audit) {
                Some(seen) if seen.recorded_at == e.added_at && seen.summary_matches(summary) => {
                    seen.evidence.push(format!("{}#{}", state.control, e.id));
                }
                Some(seen) if seen.recorded_at >= e.added_at => {}
                _ => {
                    let result = audit_result(audit, *passed, summary, &state.control, e);
                    latest.insert(audit.clone(), result);
                }
            }
        }
    }
    let mut audits: Vec<AuditResult> = latest.into_values().collect();
    audits.sort_by(|x, y| y.recorded_at.cmp(&x.recorded_at).then(x.audit.cmp(&y.audit)));
    audits
}

fn runtime_section(
    tx: &mut dyn Tx,
    system: &str,
    decisions: DecisionCounts,
    now: Timestamp,
) -> Result<RuntimeSection, GovernanceError> {
    let incidents: Vec<Incident> = tx.incidents()?.into_iter().filter(|i| i.system == system).collect();
    let mut reviews = ReviewCounts::default();
    for item in tx.reviews(None)?.into_iter().filter(|r| r.system == system) {
        match item.status {
            ReviewStatus::Open => reviews.open += 1,
            ReviewStatus::Claimed => reviews.claimed += 1,
            ReviewStatus::Resolved => reviews.resolved += 1,
        }
        match item.resolution.map(|r| r.outcome) {
            Some(HumanOutcome::Approve) => reviews.approved += 1,
            Some(HumanOutcome::Reject) => reviews.rejected += 1,
            None => {}
        }
    }
    let suspensions = tx.suspensions()?.into_iter().filter(|s| s.system == system).collect();
    let consents: Vec<Consent> = tx.consents()?.into_iter().filter(|c| c.system == system).collect();
    Ok(RuntimeSection {
        suspensions,
        consents: ConsentCounts {
            given: consents.iter().filter(|c| c.given).count(),
            withdrawn: consents.iter().filter(|c| !c.given).count(),
            chose_human: consents.iter().filter(|c| c.mode == Mode::Human).count(),
        },
        decisions,
        open_incidents: open_incidents(&incidents, Some(system), now),
        resolved_incidents: incidents.iter().filter(|i| i.status == IncidentStatus::Resolved).count(),
        reviews,
        playbook_loosened: match tx.system(system)? {
            Some(current) => lunli_governance::service::loosened_since_approval(tx, &current)?,
            None => Vec::new(),
        },
    })
}

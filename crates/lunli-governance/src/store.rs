//! The storage interface governance work runs against. A backend (SQLite embedded, PostgreSQL
//! for several instances) implements it in `lunli-store`; the rules never see SQL.
//!
//! Every change is made inside one [`Store::write`] unit of work together with the ledger
//! entries that record it: either all of it is stored, or none.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::GovernanceError;
use crate::assessment::Assessment;
use crate::incident::{Feedback, Incident, IncidentStatus};
use crate::monitoring::{Alert, OutcomeReport};
use crate::registry::{Person, System, Vendor};
use crate::review::{ReviewItem, ReviewStatus};
use crate::runtime::{Consent, ConsentChange, Suspension};

/// An API key of the runtime gateway. Only the SHA-256 of the secret is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    /// Short public id, shown in lists and logs (the secret starts with it).
    pub id: String,
    pub name: String,
    /// The person the key acts for, when it is a person's key rather than a service's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<String>,
    pub roles: Vec<String>,
    /// SHA-256 (hex) of the whole secret.
    pub sha256: String,
    pub created_by: String,
    pub created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<Timestamp>,
}

/// One keyset page of an oversight list: the records whose id is greater than `after`, in id
/// order, at most `limit` of them. Paging by key rather than by offset keeps each page one
/// index range scan however long the list grows, and a record added meanwhile is neither skipped
/// nor shown twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keyset {
    pub after: u64,
    pub limit: u32,
}

impl Keyset {
    /// The whole list, for callers that need every record (reports, the command line).
    pub const ALL: Keyset = Keyset { after: 0, limit: u32::MAX };
}

/// Which records of an oversight list a page holds: those of one system when `system` is given,
/// those in one of `statuses` when it is not empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListFilter<Status> {
    pub system: Option<String>,
    pub statuses: Vec<Status>,
}

impl<Status> Default for ListFilter<Status> {
    fn default() -> Self {
        Self { system: None, statuses: Vec::new() }
    }
}

pub type ReviewFilter = ListFilter<ReviewStatus>;
pub type IncidentFilter = ListFilter<IncidentStatus>;

/// What waits for people on one system, counted by the store (the lists behind it grow without
/// bound, so they are never read whole to count them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingWork {
    pub system: String,
    /// Review items open or claimed.
    pub reviews: u64,
    /// Incidents open or acknowledged.
    pub incidents: u64,
    /// Of those, the ones past a deadline at the time asked about.
    pub overdue_incidents: u64,
}

/// One stored version of a system's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemVersion {
    pub version: u32,
    pub system: System,
    /// What changed, in a few words (`registered`, `stage testing → deployed`).
    pub change: String,
    pub created_by: String,
    pub created_at: Timestamp,
}

/// The result of an intake questionnaire for one system version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntakeRecord {
    pub id: u64,
    pub system: String,
    pub version: u32,
    /// The answers as given, by question id.
    pub answers: serde_json::Value,
    /// The tier and every rule that fired, as computed when the intake was taken.
    pub tiering: serde_json::Value,
    pub tier: lunli_norms::Tier,
    pub ruleset_version: String,
    pub ruleset_digest: String,
    pub by: String,
    pub at: Timestamp,
}

/// Something that happened, for the ledger: who did what to which subject, with the details.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub actor: String,
    /// Dotted verb, e.g. `system.register`, `assessment.signoff`.
    pub action: String,
    /// What it happened to, e.g. `system:credit-scoring`, `assessment:3`.
    pub subject: String,
    pub at: Timestamp,
    pub payload: serde_json::Value,
}

/// A norm pack activated for the organisation (Art. 24), with its files, so that every later
/// command layers exactly the pack that was checked and activated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivePack {
    pub id: String,
    pub version: String,
    pub digest: String,
    pub extends: String,
    pub title: lunli_norms::Text,
    pub files: Vec<lunli_norms::PackFile>,
    pub activated_by: String,
    pub activated_at: Timestamp,
}

/// Reads and writes inside one transaction.
pub trait Tx {
    /// The latest version of a system.
    fn system(&mut self, id: &str) -> Result<Option<SystemVersion>, GovernanceError>;
    fn system_version(&mut self, id: &str, version: u32) -> Result<Option<SystemVersion>, GovernanceError>;
    /// The latest version of every system, by id.
    fn systems(&mut self) -> Result<Vec<SystemVersion>, GovernanceError>;
    fn system_versions(&mut self, id: &str) -> Result<Vec<SystemVersion>, GovernanceError>;
    /// Appends a version; the version number must be one more than the latest.
    fn add_system_version(&mut self, version: &SystemVersion) -> Result<(), GovernanceError>;

    fn person(&mut self, id: &str) -> Result<Option<Person>, GovernanceError>;
    fn people(&mut self) -> Result<Vec<Person>, GovernanceError>;
    fn put_person(&mut self, person: &Person) -> Result<(), GovernanceError>;

    fn vendor(&mut self, id: &str) -> Result<Option<Vendor>, GovernanceError>;
    fn vendors(&mut self) -> Result<Vec<Vendor>, GovernanceError>;
    fn put_vendor(&mut self, vendor: &Vendor) -> Result<(), GovernanceError>;

    /// Stores an intake and returns its id.
    fn add_intake(&mut self, intake: &IntakeRecord) -> Result<u64, GovernanceError>;
    fn latest_intake(&mut self, system: &str, version: u32) -> Result<Option<IntakeRecord>, GovernanceError>;

    fn next_assessment_id(&mut self) -> Result<u64, GovernanceError>;
    fn assessment(&mut self, id: u64) -> Result<Option<Assessment>, GovernanceError>;
    /// The most recent assessment of a system, whatever its version.
    fn latest_assessment(&mut self, system: &str) -> Result<Option<Assessment>, GovernanceError>;
    /// Inserts or replaces an assessment.
    fn put_assessment(&mut self, assessment: &Assessment) -> Result<(), GovernanceError>;

    /// Active suspensions of every system.
    fn suspensions(&mut self) -> Result<Vec<Suspension>, GovernanceError>;
    /// Adds or replaces the suspension of `(system, purpose)`.
    fn put_suspension(&mut self, suspension: &Suspension) -> Result<(), GovernanceError>;
    /// Lifts the suspension of `(system, purpose)`, returning it if there was one.
    fn remove_suspension(&mut self, system: &str, purpose: Option<&str>)
    -> Result<Option<Suspension>, GovernanceError>;
    fn consent(&mut self, system: &str, subject: &str) -> Result<Option<Consent>, GovernanceError>;
    fn consents(&mut self) -> Result<Vec<Consent>, GovernanceError>;
    /// Stores a consent as the next change of the consent feed.
    fn put_consent(&mut self, consent: &Consent) -> Result<(), GovernanceError>;
    /// The consent changes numbered after `after`, in order, at most `limit`; each subject's
    /// latest change only (an older one was replaced).
    fn consent_changes(&mut self, after: u64, limit: u32) -> Result<Vec<ConsentChange>, GovernanceError>;
    fn api_keys(&mut self) -> Result<Vec<ApiKey>, GovernanceError>;
    fn put_api_key(&mut self, key: &ApiKey) -> Result<(), GovernanceError>;
    /// A number that grows with every change to runtime state (suspensions, keys, systems,
    /// assessments), so gateway instances sharing a store know when to reload. Consents have a
    /// feed of their own ([`Tx::consent_changes`]).
    fn runtime_version(&mut self) -> Result<u64, GovernanceError>;

    // Runtime oversight: review queue, incidents, feedback, outcomes and alerts. Records are
    // numbered by the store (`add_*` returns the id it gave) and replaced whole by `put_*`.
    fn add_review(&mut self, item: &ReviewItem) -> Result<u64, GovernanceError>;
    fn review(&mut self, id: u64) -> Result<Option<ReviewItem>, GovernanceError>;
    /// Review items in id order, those with `status` only when given.
    fn reviews(&mut self, status: Option<ReviewStatus>) -> Result<Vec<ReviewItem>, GovernanceError> {
        self.review_page(&ReviewFilter { system: None, statuses: status.into_iter().collect() }, Keyset::ALL)
    }
    /// A keyset page of the review items the filter selects, in id order.
    fn review_page(&mut self, filter: &ReviewFilter, page: Keyset) -> Result<Vec<ReviewItem>, GovernanceError>;
    fn put_review(&mut self, item: &ReviewItem) -> Result<(), GovernanceError>;
    fn add_incident(&mut self, incident: &Incident) -> Result<u64, GovernanceError>;
    fn incident(&mut self, id: u64) -> Result<Option<Incident>, GovernanceError>;
    /// Every incident, in id order.
    fn incidents(&mut self) -> Result<Vec<Incident>, GovernanceError> {
        self.incident_page(&IncidentFilter::default(), Keyset::ALL)
    }
    /// A keyset page of the incidents the filter selects, in id order.
    fn incident_page(&mut self, filter: &IncidentFilter, page: Keyset) -> Result<Vec<Incident>, GovernanceError>;
    fn put_incident(&mut self, incident: &Incident) -> Result<(), GovernanceError>;
    /// Unresolved reviews and incidents per system (only systems with any), and how many of
    /// those incidents are overdue at `now`; counted in the database.
    fn pending_work(&mut self, now: Timestamp) -> Result<Vec<PendingWork>, GovernanceError>;
    fn add_feedback(&mut self, feedback: &Feedback) -> Result<u64, GovernanceError>;
    /// A keyset page of the feedback (of one system when given), newest first: the items with ids
    /// below `page.after` (all when it is 0), at most `page.limit` of them.
    fn feedback(&mut self, system: Option<&str>, page: Keyset) -> Result<Vec<Feedback>, GovernanceError>;
    fn feedback_item(&mut self, id: u64) -> Result<Option<Feedback>, GovernanceError>;
    fn add_outcome(&mut self, outcome: &OutcomeReport) -> Result<(), GovernanceError>;
    /// The newest `limit` outcomes of a system, oldest first.
    fn recent_outcomes(&mut self, system: &str, limit: u32) -> Result<Vec<OutcomeReport>, GovernanceError>;
    fn add_alert(&mut self, alert: &Alert) -> Result<u64, GovernanceError>;
    /// Alerts in id order, of one system when given.
    fn alerts(&mut self, system: Option<&str>) -> Result<Vec<Alert>, GovernanceError> {
        self.alert_page(system, Keyset::ALL)
    }
    /// A keyset page of the alerts (of one system when given), in id order.
    fn alert_page(&mut self, system: Option<&str>, page: Keyset) -> Result<Vec<Alert>, GovernanceError>;
    fn put_alert(&mut self, alert: &Alert) -> Result<(), GovernanceError>;

    /// The active norm packs, in the order they are layered (first activation first).
    fn packs(&mut self) -> Result<Vec<ActivePack>, GovernanceError>;
    /// Activates a pack, or replaces the active version of the same pack in its place.
    fn put_pack(&mut self, pack: &ActivePack) -> Result<(), GovernanceError>;

    /// Appends an event to the tamper-evident ledger, in this transaction; returns its index.
    fn record(&mut self, event: &Event) -> Result<u64, GovernanceError>;
}

/// A storage backend.
pub trait Store {
    /// Runs `work` in one write transaction. If it returns `Ok`, every write and ledger entry is
    /// committed durably before this returns; if it returns `Err` (or the process dies), none is.
    fn write<T>(&self, work: impl FnOnce(&mut dyn Tx) -> Result<T, GovernanceError>) -> Result<T, GovernanceError>;

    /// Runs `work` against a consistent snapshot; writes made through it are discarded.
    fn read<T>(&self, work: impl FnOnce(&mut dyn Tx) -> Result<T, GovernanceError>) -> Result<T, GovernanceError>;
}

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

pub mod record;

pub use record::{Filter, Kind, Numbered, Query, Record, Stored, Value, Write};

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
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub actor: String,
    /// Dotted verb, e.g. `system.register`, `assessment.signoff`: always text fixed in the code
    /// (governance records those of [`crate::ledger_event::ACTIONS`]), so never allocated.
    pub action: &'static str,
    /// What it happened to, e.g. `system:credit-scoring`, `assessment:3`.
    pub subject: String,
    pub at: Timestamp,
    pub payload: Payload,
}

/// An event's details: a JSON value, made canonical when its entry is written, or a payload
/// already canonical, made on the thread that made the event (the gateway's decisions), so that
/// the one writer appending entries only places its bytes. Both give the same entry for the same
/// details.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    Json(serde_json::Value),
    Canonical(lunli_ledger::CanonicalPayload),
}

impl From<serde_json::Value> for Payload {
    fn from(value: serde_json::Value) -> Self {
        Payload::Json(value)
    }
}

impl Payload {
    /// The details as a JSON value (a canonical payload read back).
    pub fn to_json(&self) -> Result<serde_json::Value, serde_json::Error> {
        match self {
            Payload::Json(value) => Ok(value.clone()),
            Payload::Canonical(payload) => serde_json::from_slice(payload.bytes()),
        }
    }
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
///
/// A backend implements the required methods: four primitives over any kind of record (see
/// [`record`]) and the few queries that are not about one kind (counts, the runtime version, the
/// ledger). Every named accessor below is written once here, over those primitives.
pub trait Tx {
    /// The stored records of `kind` the query selects, in its order.
    fn fetch(&mut self, kind: &Kind, query: &Query) -> Result<Vec<Stored>, GovernanceError>;
    /// Stores one record: `values` fill the kind's key and other columns (see [`Record::values`]),
    /// `json` is the record itself.
    fn write_record(&mut self, kind: &Kind, how: Write, values: &[Value], json: &str) -> Result<(), GovernanceError>;
    /// One more than the largest value of `column` among the records the filters select (1 when
    /// none is stored).
    fn next_number(&mut self, kind: &Kind, column: &'static str, filters: &[Filter]) -> Result<u64, GovernanceError>;
    /// Deletes the record with the given key; returns how many were deleted (0 or 1).
    fn delete_record(&mut self, kind: &Kind, key: &[Value]) -> Result<u64, GovernanceError>;

    /// Unresolved reviews and incidents per system (only systems with any), and how many of
    /// those incidents are overdue at `now`; counted in the database.
    fn pending_work(&mut self, now: Timestamp) -> Result<Vec<PendingWork>, GovernanceError>;
    /// A number that grows with every change to runtime state (suspensions, keys, systems,
    /// assessments), so gateway instances sharing a store know when to reload. Consents have a
    /// feed of their own ([`Tx::consent_changes`]).
    fn runtime_version(&mut self) -> Result<u64, GovernanceError>;
    /// Appends an event to the tamper-evident ledger, in this transaction; returns its index.
    fn record(&mut self, event: &Event) -> Result<u64, GovernanceError>;

    /// The latest version of a system.
    fn system(&mut self, id: &str) -> Result<Option<SystemVersion>, GovernanceError> {
        record::first(self, &Query::all().eq("system", id).order_by_desc("version"))
    }
    fn system_version(&mut self, id: &str, version: u32) -> Result<Option<SystemVersion>, GovernanceError> {
        record::get(self, vec![id.into(), version.into()])
    }
    /// The latest version of every system, by id.
    fn systems(&mut self) -> Result<Vec<SystemVersion>, GovernanceError> {
        let latest = Filter::Latest { of: "system", version: "version" };
        record::list(self, &Query::all().filter(latest).order_by("system"))
    }
    fn system_versions(&mut self, id: &str) -> Result<Vec<SystemVersion>, GovernanceError> {
        record::list(self, &Query::all().eq("system", id).order_by("version"))
    }
    /// Appends a version; the version number must be one more than the latest.
    fn add_system_version(&mut self, version: &SystemVersion) -> Result<(), GovernanceError> {
        let filter = Filter::Eq("system", version.system.id.as_str().into());
        let next = self.next_number(&SystemVersion::KIND, "version", &[filter])?;
        if u64::from(version.version) != next {
            return Err(GovernanceError::Refused {
                reason: format!(
                    "{} changed meanwhile (now at version {}); run the command again",
                    version.system.id,
                    next - 1
                ),
            });
        }
        record::put(self, version, Write::Insert)
    }

    fn person(&mut self, id: &str) -> Result<Option<Person>, GovernanceError> {
        record::get(self, vec![id.into()])
    }
    fn people(&mut self) -> Result<Vec<Person>, GovernanceError> {
        record::list(self, &Query::all().order_by("id"))
    }
    fn put_person(&mut self, person: &Person) -> Result<(), GovernanceError> {
        record::put(self, person, Write::Upsert)
    }

    fn vendor(&mut self, id: &str) -> Result<Option<Vendor>, GovernanceError> {
        record::get(self, vec![id.into()])
    }
    fn vendors(&mut self) -> Result<Vec<Vendor>, GovernanceError> {
        record::list(self, &Query::all().order_by("id"))
    }
    fn put_vendor(&mut self, vendor: &Vendor) -> Result<(), GovernanceError> {
        record::put(self, vendor, Write::Upsert)
    }

    /// Stores an intake and returns its id.
    fn add_intake(&mut self, intake: &IntakeRecord) -> Result<u64, GovernanceError> {
        record::add(self, intake)
    }
    fn latest_intake(&mut self, system: &str, version: u32) -> Result<Option<IntakeRecord>, GovernanceError> {
        record::first(self, &Query::all().eq("system", system).eq("version", version).order_by_desc("id"))
    }

    fn next_assessment_id(&mut self) -> Result<u64, GovernanceError> {
        self.next_number(&Assessment::KIND, "id", &[])
    }
    fn assessment(&mut self, id: u64) -> Result<Option<Assessment>, GovernanceError> {
        record::get(self, record::by_id(id))
    }
    /// The most recent assessment of a system, whatever its version.
    fn latest_assessment(&mut self, system: &str) -> Result<Option<Assessment>, GovernanceError> {
        record::first(self, &Query::all().eq("system", system).order_by_desc("id"))
    }
    /// Inserts or replaces an assessment.
    fn put_assessment(&mut self, assessment: &Assessment) -> Result<(), GovernanceError> {
        record::put(self, assessment, Write::Upsert)
    }

    /// Active suspensions of every system.
    fn suspensions(&mut self) -> Result<Vec<Suspension>, GovernanceError> {
        record::list(self, &Query::all().order_by("system").order_by("purpose"))
    }
    /// Adds or replaces the suspension of `(system, purpose)`.
    fn put_suspension(&mut self, suspension: &Suspension) -> Result<(), GovernanceError> {
        record::put(self, suspension, Write::Upsert)
    }
    /// Lifts the suspension of `(system, purpose)`, returning it if there was one.
    fn remove_suspension(
        &mut self,
        system: &str,
        purpose: Option<&str>,
    ) -> Result<Option<Suspension>, GovernanceError> {
        record::remove(self, record::suspension_key(system, purpose))
    }
    fn consent(&mut self, system: &str, subject: &str) -> Result<Option<Consent>, GovernanceError> {
        record::get(self, vec![system.into(), subject.into()])
    }
    fn consents(&mut self) -> Result<Vec<Consent>, GovernanceError> {
        record::list(self, &Query::all())
    }
    /// Stores a consent as the next change of the consent feed.
    fn put_consent(&mut self, consent: &Consent) -> Result<(), GovernanceError> {
        record::put(self, consent, Write::Upsert)
    }
    /// The consent changes numbered after `after`, in order, at most `limit`; each subject's
    /// latest change only (an older one was replaced).
    fn consent_changes(&mut self, after: u64, limit: u32) -> Result<Vec<ConsentChange>, GovernanceError> {
        let mut query = Query::all().filter(Filter::Above("seq", record::stored_int(after, "after")?));
        query = query.order_by("seq").limit(limit);
        query.number = Some("seq");
        let rows = self.fetch(&Consent::KIND, &query)?;
        rows.iter()
            .map(|row| {
                let seq = row.number.and_then(|n| u64::try_from(n).ok()).ok_or_else(|| GovernanceError::Storage {
                    message: format!("the stored consent {} has no feed number", row.label),
                    source: None,
                })?;
                Ok(ConsentChange { seq, consent: record::decode(row)? })
            })
            .collect()
    }
    fn api_keys(&mut self) -> Result<Vec<ApiKey>, GovernanceError> {
        record::list(self, &Query::all().order_by("id"))
    }
    fn put_api_key(&mut self, key: &ApiKey) -> Result<(), GovernanceError> {
        record::put(self, key, Write::Upsert)
    }

    // Runtime oversight: review queue, incidents, feedback, outcomes and alerts. Records are
    // numbered by the store (`add_*` returns the id it gave) and replaced whole by `put_*`.
    fn add_review(&mut self, item: &ReviewItem) -> Result<u64, GovernanceError> {
        record::add(self, item)
    }
    fn review(&mut self, id: u64) -> Result<Option<ReviewItem>, GovernanceError> {
        record::get(self, record::by_id(id))
    }
    /// Review items in id order, those with `status` only when given.
    fn reviews(&mut self, status: Option<ReviewStatus>) -> Result<Vec<ReviewItem>, GovernanceError> {
        self.review_page(&ReviewFilter { system: None, statuses: status.into_iter().collect() }, Keyset::ALL)
    }
    /// A keyset page of the review items the filter selects, in id order.
    fn review_page(&mut self, filter: &ReviewFilter, page: Keyset) -> Result<Vec<ReviewItem>, GovernanceError> {
        record::list(self, &filter.query(|s| s.as_str()).oldest_first(page)?)
    }
    fn put_review(&mut self, item: &ReviewItem) -> Result<(), GovernanceError> {
        record::put(self, item, Write::Replace)
    }
    fn add_incident(&mut self, incident: &Incident) -> Result<u64, GovernanceError> {
        record::add(self, incident)
    }
    fn incident(&mut self, id: u64) -> Result<Option<Incident>, GovernanceError> {
        record::get(self, record::by_id(id))
    }
    /// Every incident, in id order.
    fn incidents(&mut self) -> Result<Vec<Incident>, GovernanceError> {
        self.incident_page(&IncidentFilter::default(), Keyset::ALL)
    }
    /// A keyset page of the incidents the filter selects, in id order.
    fn incident_page(&mut self, filter: &IncidentFilter, page: Keyset) -> Result<Vec<Incident>, GovernanceError> {
        record::list(self, &filter.query(|s| s.as_str()).oldest_first(page)?)
    }
    fn put_incident(&mut self, incident: &Incident) -> Result<(), GovernanceError> {
        record::put(self, incident, Write::Replace)
    }
    fn add_feedback(&mut self, feedback: &Feedback) -> Result<u64, GovernanceError> {
        record::add(self, feedback)
    }
    /// A keyset page of the feedback (of one system when given), newest first: the items with ids
    /// below `page.after` (all when it is 0), at most `page.limit` of them.
    fn feedback(&mut self, system: Option<&str>, page: Keyset) -> Result<Vec<Feedback>, GovernanceError> {
        record::list(self, &of_system(system).newest_first(page)?)
    }
    fn feedback_item(&mut self, id: u64) -> Result<Option<Feedback>, GovernanceError> {
        record::get(self, record::by_id(id))
    }
    fn add_outcome(&mut self, outcome: &OutcomeReport) -> Result<(), GovernanceError> {
        record::put(self, outcome, Write::Insert)
    }
    /// The newest `limit` outcomes of a system, oldest first.
    fn recent_outcomes(&mut self, system: &str, limit: u32) -> Result<Vec<OutcomeReport>, GovernanceError> {
        let mut newest: Vec<OutcomeReport> =
            record::list(self, &Query::all().eq("system", system).order_by_desc("id").limit(limit))?;
        newest.reverse();
        Ok(newest)
    }
    fn add_alert(&mut self, alert: &Alert) -> Result<u64, GovernanceError> {
        record::add(self, alert)
    }
    /// Alerts in id order, of one system when given.
    fn alerts(&mut self, system: Option<&str>) -> Result<Vec<Alert>, GovernanceError> {
        self.alert_page(system, Keyset::ALL)
    }
    /// A keyset page of the alerts (of one system when given), in id order.
    fn alert_page(&mut self, system: Option<&str>, page: Keyset) -> Result<Vec<Alert>, GovernanceError> {
        record::list(self, &of_system(system).oldest_first(page)?)
    }
    fn put_alert(&mut self, alert: &Alert) -> Result<(), GovernanceError> {
        record::put(self, alert, Write::Replace)
    }

    /// The active norm packs, in the order they are layered (first activation first).
    fn packs(&mut self) -> Result<Vec<ActivePack>, GovernanceError> {
        record::list(self, &Query::all().order_by("seq"))
    }
    /// Activates a pack, or replaces the active version of the same pack in its place.
    fn put_pack(&mut self, pack: &ActivePack) -> Result<(), GovernanceError> {
        record::put(self, pack, Write::Upsert)
    }
}

/// Every record, or those of one system.
fn of_system(system: Option<&str>) -> Query {
    match system {
        Some(system) => Query::all().eq("system", system),
        None => Query::all(),
    }
}

impl<Status> ListFilter<Status> {
    /// The query for the records this filter selects (`status_text` names a status as stored).
    fn query(&self, status_text: impl Fn(&Status) -> &'static str) -> Query {
        let mut query = of_system(self.system.as_deref());
        if !self.statuses.is_empty() {
            let statuses = self.statuses.iter().map(|s| Value::from(status_text(s))).collect();
            query = query.filter(Filter::In("status", statuses));
        }
        query
    }
}

/// A storage backend.
pub trait Store {
    /// Runs `work` in one write transaction. If it returns `Ok`, every write and ledger entry is
    /// committed durably before this returns; if it returns `Err` (or the process dies), none is.
    fn write<T>(&self, work: impl FnOnce(&mut dyn Tx) -> Result<T, GovernanceError>) -> Result<T, GovernanceError>;

    /// Runs `work` against a consistent snapshot; writes made through it are discarded.
    fn read<T>(&self, work: impl FnOnce(&mut dyn Tx) -> Result<T, GovernanceError>) -> Result<T, GovernanceError>;
}

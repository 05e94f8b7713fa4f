//! The typed record repository: how each kind of record is kept, described once as data, and the
//! few generic operations every kind shares (get, put, add, replace, list, page, remove).
//!
//! Every record lives whole as JSON in a table of its own, with the columns beside it that
//! lookups filter and order on. A [`Kind`] names that table and those columns; a [`Record`] says
//! how to fill them from a value. The backends implement four primitives over any kind
//! ([`Tx::fetch`], [`Tx::write_record`], [`Tx::next_number`], [`Tx::delete_record`]) with SQL
//! written once for both databases, so a new kind of record needs its type, its `Record` impl and
//! its table in the two migrations — nothing in the backends.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{ActivePack, ApiKey, IntakeRecord, Keyset, SystemVersion, Tx};
use crate::GovernanceError;
use crate::assessment::Assessment;
use crate::incident::{Feedback, Incident};
use crate::monitoring::{Alert, OutcomeReport};
use crate::registry::{Person, Vendor};
use crate::review::ReviewItem;
use crate::runtime::{Consent, Suspension};

/// A value bound to a key or indexed column. Integers are signed 64-bit, as both databases keep
/// them; lunli's ids and versions are unsigned and below 2^63.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Int(i64),
    Text(String),
    /// One more than the largest value the column holds (1 in an empty table), computed by the
    /// database inside the write, which holds the store's write lock.
    Next,
}

impl From<&str> for Value {
    fn from(text: &str) -> Self {
        Value::Text(text.to_string())
    }
}

impl From<String> for Value {
    fn from(text: String) -> Self {
        Value::Text(text)
    }
}

impl From<u32> for Value {
    fn from(n: u32) -> Self {
        Value::Int(i64::from(n))
    }
}

/// An id or index as the stores' signed columns hold it.
pub fn stored_int(value: u64, field: &str) -> Result<Value, GovernanceError> {
    i64::try_from(value).map(Value::Int).map_err(|_| GovernanceError::Invalid {
        field: field.into(),
        reason: format!("{value} is beyond the largest id a store holds"),
    })
}

/// How one kind of record is kept. Table and column names are constants, never input.
#[derive(Debug)]
pub struct Kind {
    pub table: &'static str,
    /// What one record is, for messages: "a person", "a review item".
    pub noun: &'static str,
    /// The columns that identify a record, in order.
    pub key: &'static [&'static str],
    /// The other columns kept beside the record, in order.
    pub columns: &'static [&'static str],
    /// Of `columns`, those set when a record is first stored and kept when it is replaced (the
    /// position of a norm pack in the layering order).
    pub kept: &'static [&'static str],
}

impl Kind {
    /// Every column [`Record::values`] fills: the key's, then the others.
    pub fn all_columns(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.key.iter().chain(self.columns.iter()).copied()
    }
}

/// A value the store keeps as a record of one [`Kind`].
pub trait Record: Serialize + DeserializeOwned {
    const KIND: Kind;
    /// The values of `KIND.key` and then `KIND.columns`, in order.
    fn values(&self) -> Vec<Value>;
}

/// A record numbered by the store (1, 2, 3 … in its table) when it is added.
pub trait Numbered: Record + Clone {
    fn set_id(&mut self, id: u64);
}

/// One condition of a [`Query`] on a column of the kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    Eq(&'static str, Value),
    /// The column holds one of the values (no condition when the list is empty).
    In(&'static str, Vec<Value>),
    Above(&'static str, Value),
    Below(&'static str, Value),
    /// Only the row with the largest `version` among those with the same `of`: the latest
    /// version of each record of an append-only kind.
    Latest {
        of: &'static str,
        version: &'static str,
    },
}

/// Which records of a kind to read, in which order, how many.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query {
    pub filters: Vec<Filter>,
    /// Columns to order by; descending when the flag is set. Empty: any order.
    pub order: Vec<(&'static str, bool)>,
    pub limit: Option<u32>,
    /// An integer column to return beside each record (a change feed's number).
    pub number: Option<&'static str>,
}

impl Query {
    pub fn all() -> Self {
        Query::default()
    }

    pub fn filter(mut self, filter: Filter) -> Self {
        self.filters.push(filter);
        self
    }

    pub fn eq(self, column: &'static str, value: impl Into<Value>) -> Self {
        self.filter(Filter::Eq(column, value.into()))
    }

    pub fn order_by(mut self, column: &'static str) -> Self {
        self.order.push((column, false));
        self
    }

    pub fn order_by_desc(mut self, column: &'static str) -> Self {
        self.order.push((column, true));
        self
    }

    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// The records matching `key` (the kind's key columns, in order).
    pub fn key(kind: &Kind, key: Vec<Value>) -> Self {
        let filters = kind.key.iter().zip(key).map(|(column, value)| Filter::Eq(column, value)).collect();
        Query { filters, ..Query::default() }
    }

    /// A keyset page in id order: ids above `page.after`, at most `page.limit`.
    pub fn oldest_first(self, page: Keyset) -> Result<Self, GovernanceError> {
        Ok(self.filter(Filter::Above("id", stored_int(page.after, "after")?)).order_by("id").limit(page.limit))
    }

    /// A keyset page newest first: ids below `page.after` (all on the first page, `after` 0), at
    /// most `page.limit`.
    pub fn newest_first(self, page: Keyset) -> Result<Self, GovernanceError> {
        let query = match page.after {
            0 => self,
            after => self.filter(Filter::Below("id", stored_int(after, "after")?)),
        };
        Ok(query.order_by_desc("id").limit(page.limit))
    }
}

/// One record as stored: its JSON, a label for messages (its key as text), and the query's
/// `number` column when it asked for one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub label: String,
    pub json: String,
    pub number: Option<i64>,
}

/// How a record is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    /// A new record; storing one whose key is taken fails.
    Insert,
    /// Inserts, or replaces the record with the same key (but for the kind's `kept` columns).
    Upsert,
    /// Replaces the record with the same key; fails when there is none.
    Replace,
}

pub(crate) fn decode<R: Record>(stored: &Stored) -> Result<R, GovernanceError> {
    serde_json::from_str(&stored.json).map_err(|e| {
        GovernanceError::storage(
            format!("the stored record {}/{} is not valid (altered outside lunli?)", R::KIND.table, stored.label),
            e,
        )
    })
}

fn encode<R: Record>(record: &R) -> Result<String, GovernanceError> {
    serde_json::to_string(record).map_err(|e| GovernanceError::storage(format!("encoding {} as JSON", R::KIND.noun), e))
}

/// The records of kind `R` a query selects.
pub fn list<R: Record, T: Tx + ?Sized>(tx: &mut T, query: &Query) -> Result<Vec<R>, GovernanceError> {
    tx.fetch(&R::KIND, query)?.iter().map(decode).collect()
}

/// The record of kind `R` with the given key.
pub fn get<R: Record, T: Tx + ?Sized>(tx: &mut T, key: Vec<Value>) -> Result<Option<R>, GovernanceError> {
    first(tx, &Query::key(&R::KIND, key))
}

/// The first record a query selects.
pub fn first<R: Record, T: Tx + ?Sized>(tx: &mut T, query: &Query) -> Result<Option<R>, GovernanceError> {
    let mut query = query.clone();
    query.limit = Some(1);
    tx.fetch(&R::KIND, &query)?.first().map(decode).transpose()
}

/// Stores a record as `how` says.
pub fn put<R: Record, T: Tx + ?Sized>(tx: &mut T, record: &R, how: Write) -> Result<(), GovernanceError> {
    tx.write_record(&R::KIND, how, &record.values(), &encode(record)?)
}

/// Adds a record numbered by the store; returns its number.
pub fn add<R: Numbered, T: Tx + ?Sized>(tx: &mut T, record: &R) -> Result<u64, GovernanceError> {
    let id = tx.next_number(&R::KIND, "id", &[])?;
    let mut record = record.clone();
    record.set_id(id);
    put(tx, &record, Write::Insert)?;
    Ok(id)
}

/// Removes the record with the given key, returning it when there was one.
pub fn remove<R: Record, T: Tx + ?Sized>(tx: &mut T, key: Vec<Value>) -> Result<Option<R>, GovernanceError> {
    let existing = get::<R, T>(tx, key.clone())?;
    if existing.is_some() {
        tx.delete_record(&R::KIND, &key)?;
    }
    Ok(existing)
}

fn id(id: u64) -> Value {
    // Ids come from the store, so they fit; one that does not matches no row.
    i64::try_from(id).map(Value::Int).unwrap_or(Value::Int(-1))
}

/// The key of a record numbered by the store.
pub fn by_id(value: u64) -> Vec<Value> {
    vec![id(value)]
}

impl Record for Person {
    const KIND: Kind = Kind { table: "people", noun: "a person", key: &["id"], columns: &[], kept: &[] };
    fn values(&self) -> Vec<Value> {
        vec![self.id.as_str().into()]
    }
}

impl Record for Vendor {
    const KIND: Kind = Kind { table: "vendors", noun: "a vendor", key: &["id"], columns: &[], kept: &[] };
    fn values(&self) -> Vec<Value> {
        vec![self.id.as_str().into()]
    }
}

impl Record for ApiKey {
    const KIND: Kind = Kind { table: "api_keys", noun: "an API key", key: &["id"], columns: &[], kept: &[] };
    fn values(&self) -> Vec<Value> {
        vec![self.id.as_str().into()]
    }
}

impl Record for SystemVersion {
    const KIND: Kind = Kind {
        table: "system_versions",
        noun: "a system version",
        key: &["system", "version"],
        columns: &[],
        kept: &[],
    };
    fn values(&self) -> Vec<Value> {
        vec![self.system.id.as_str().into(), self.version.into()]
    }
}

impl Record for IntakeRecord {
    const KIND: Kind =
        Kind { table: "intakes", noun: "an intake", key: &["id"], columns: &["system", "version", "tier"], kept: &[] };
    fn values(&self) -> Vec<Value> {
        vec![id(self.id), self.system.as_str().into(), self.version.into(), self.tier.as_str().into()]
    }
}

impl Numbered for IntakeRecord {
    fn set_id(&mut self, id: u64) {
        self.id = id;
    }
}

impl Record for Assessment {
    const KIND: Kind =
        Kind { table: "assessments", noun: "an assessment", key: &["id"], columns: &["system", "version"], kept: &[] };
    fn values(&self) -> Vec<Value> {
        vec![id(self.id), self.system.as_str().into(), self.version.into()]
    }
}

impl Record for Suspension {
    const KIND: Kind =
        Kind { table: "suspensions", noun: "a suspension", key: &["system", "purpose"], columns: &[], kept: &[] };
    fn values(&self) -> Vec<Value> {
        suspension_key(&self.system, self.purpose.as_deref())
    }
}

/// A suspension's key: the whole system is kept as the empty purpose.
pub fn suspension_key(system: &str, purpose: Option<&str>) -> Vec<Value> {
    vec![system.into(), purpose.unwrap_or("").into()]
}

impl Record for Consent {
    /// `seq` numbers the consent feed: every change moves the subject to the end.
    const KIND: Kind =
        Kind { table: "consents", noun: "a consent", key: &["system", "subject"], columns: &["seq"], kept: &[] };
    fn values(&self) -> Vec<Value> {
        vec![self.system.as_str().into(), self.subject.as_str().into(), Value::Next]
    }
}

impl Record for ActivePack {
    /// `seq` is the layering order: a new version of an active pack keeps its place.
    const KIND: Kind = Kind { table: "packs", noun: "a norm pack", key: &["id"], columns: &["seq"], kept: &["seq"] };
    fn values(&self) -> Vec<Value> {
        vec![self.id.as_str().into(), Value::Next]
    }
}

impl Record for ReviewItem {
    const KIND: Kind = Kind {
        table: "reviews",
        noun: "a review item",
        key: &["id"],
        columns: &["system", "status", "decision_index"],
        kept: &[],
    };
    fn values(&self) -> Vec<Value> {
        vec![id(self.id), self.system.as_str().into(), self.status.as_str().into(), id(self.decision_index)]
    }
}

impl Numbered for ReviewItem {
    fn set_id(&mut self, id: u64) {
        self.id = id;
    }
}

impl Record for Incident {
    const KIND: Kind =
        Kind { table: "incidents", noun: "an incident", key: &["id"], columns: &["system", "status"], kept: &[] };
    fn values(&self) -> Vec<Value> {
        vec![id(self.id), self.system.as_str().into(), self.status.as_str().into()]
    }
}

impl Numbered for Incident {
    fn set_id(&mut self, id: u64) {
        self.id = id;
    }
}

impl Record for Feedback {
    const KIND: Kind = Kind { table: "feedback", noun: "feedback", key: &["id"], columns: &["system"], kept: &[] };
    fn values(&self) -> Vec<Value> {
        vec![id(self.id), self.system.as_str().into()]
    }
}

impl Numbered for Feedback {
    fn set_id(&mut self, id: u64) {
        self.id = id;
    }
}

impl Record for Alert {
    const KIND: Kind = Kind { table: "alerts", noun: "an alert", key: &["id"], columns: &["system"], kept: &[] };
    fn values(&self) -> Vec<Value> {
        vec![id(self.id), self.system.as_str().into()]
    }
}

impl Numbered for Alert {
    fn set_id(&mut self, id: u64) {
        self.id = id;
    }
}

impl Record for OutcomeReport {
    /// Outcomes carry no id of their own; the store numbers the rows.
    const KIND: Kind = Kind { table: "outcomes", noun: "an outcome", key: &["id"], columns: &["system"], kept: &[] };
    fn values(&self) -> Vec<Value> {
        vec![Value::Next, self.system.as_str().into()]
    }
}

//! The record layer's SQL, written once for both databases: the four primitives of
//! [`Tx`](lunli_governance::store::Tx) over any [`Kind`] of record, and the counts that are not
//! about one kind. A backend provides only a connection inside a transaction ([`Sql`]): how to
//! bind a value, run a statement and read a row. What differs between SQLite and PostgreSQL in the
//! text of a query — parameter placeholders and reading a time out of a JSON record — is in
//! [`Dialect`].

use std::collections::BTreeMap;
use std::fmt::Write as _;

use jiff::Timestamp;
use lunli_governance::GovernanceError;
use lunli_governance::store::{Event, Filter, Kind, PendingWork, Query, Stored, Tx, Value, Write};

/// The SQL spoken by a backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// The n-th parameter (1-based).
    fn placeholder(self, n: usize) -> String {
        match self {
            Dialect::Sqlite => format!("?{n}"),
            Dialect::Postgres => format!("${n}"),
        }
    }

    /// Whether the RFC 3339 instant at `path` of an incident's record is before parameter `now`.
    fn record_time_before(self, path: &str, now: &str) -> String {
        match self {
            // julianday() reads RFC 3339 instants, offsets included, as points in time.
            Dialect::Sqlite => format!("julianday(json_extract(record, '$.{path}')) < julianday({now})"),
            Dialect::Postgres => format!("(record::jsonb ->> '{path}')::timestamptz < {now}::text::timestamptz"),
        }
    }
}

/// One column of a result row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cell {
    Int(i64),
    Text(String),
    Null,
}

/// What a result column holds, so the backend reads it with the right type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Column {
    Int,
    Text,
}

/// A connection inside one transaction.
pub(crate) trait Sql {
    const DIALECT: Dialect;
    /// Runs a statement; returns the number of rows it changed. `doing` says what for, in errors.
    fn execute(&mut self, doing: &'static str, sql: &str, params: &[Value]) -> Result<u64, GovernanceError>;
    /// Runs a query; each row holds the `columns` asked for, in order.
    fn query(
        &mut self,
        doing: &'static str,
        sql: &str,
        params: &[Value],
        columns: &[Column],
    ) -> Result<Vec<Vec<Cell>>, GovernanceError>;
    /// Appends an event to the ledger in this transaction; returns its index.
    fn append(&mut self, event: &Event) -> Result<u64, GovernanceError>;
}

/// A backend's transaction as governance sees it: the record SQL of this module over the
/// backend's [`Sql`]; only how the ledger is appended to differs between backends.
pub(crate) struct Records<S>(pub S);

impl<S: Sql> Tx for Records<S> {
    fn fetch(&mut self, kind: &Kind, query: &Query) -> Result<Vec<Stored>, GovernanceError> {
        fetch(&mut self.0, kind, query)
    }

    fn write_record(&mut self, kind: &Kind, how: Write, values: &[Value], json: &str) -> Result<(), GovernanceError> {
        write_record(&mut self.0, kind, how, values, json)
    }

    fn next_number(&mut self, kind: &Kind, column: &'static str, filters: &[Filter]) -> Result<u64, GovernanceError> {
        next_number(&mut self.0, kind, column, filters)
    }

    fn delete_record(&mut self, kind: &Kind, key: &[Value]) -> Result<u64, GovernanceError> {
        delete_record(&mut self.0, kind, key)
    }

    fn pending_work(&mut self, now: Timestamp) -> Result<Vec<PendingWork>, GovernanceError> {
        pending_work(&mut self.0, now)
    }

    fn runtime_version(&mut self) -> Result<u64, GovernanceError> {
        runtime_version(&mut self.0)
    }

    fn record(&mut self, event: &Event) -> Result<u64, GovernanceError> {
        self.0.append(event)
    }
}

/// Builds one statement's text and its parameters together, so placeholders are numbered in the
/// order values are bound.
struct Statement {
    dialect: Dialect,
    sql: String,
    params: Vec<Value>,
}

impl Statement {
    fn new(dialect: Dialect, sql: impl Into<String>) -> Self {
        Statement { dialect, sql: sql.into(), params: Vec::new() }
    }

    /// The SQL for one value: a placeholder bound to it, or for [`Value::Next`] the next number
    /// of `column` in `table`.
    fn value(&mut self, table: &str, column: &str, value: &Value) -> String {
        match value {
            Value::Next => format!("(SELECT COALESCE(MAX({column}), 0) + 1 FROM {table})"),
            bound => {
                self.params.push(bound.clone());
                self.dialect.placeholder(self.params.len())
            }
        }
    }

    /// Appends ` WHERE …` for the filters (nothing when no filter applies).
    fn conditions(&mut self, table: &str, filters: &[Filter]) {
        let mut terms = Vec::new();
        for filter in filters {
            match filter {
                Filter::Eq(column, value) => terms.push(format!("t.{column} = {}", self.value(table, column, value))),
                Filter::Above(column, value) => {
                    terms.push(format!("t.{column} > {}", self.value(table, column, value)))
                }
                Filter::Below(column, value) => {
                    terms.push(format!("t.{column} < {}", self.value(table, column, value)))
                }
                Filter::In(_, values) if values.is_empty() => {}
                Filter::In(column, values) => {
                    let list: Vec<String> = values.iter().map(|v| self.value(table, column, v)).collect();
                    terms.push(format!("t.{column} IN ({})", list.join(", ")));
                }
                Filter::Latest { of, version } => {
                    terms.push(format!("t.{version} = (SELECT MAX(w.{version}) FROM {table} w WHERE w.{of} = t.{of})"))
                }
            }
        }
        if !terms.is_empty() {
            let _ = write!(self.sql, " WHERE {}", terms.join(" AND "));
        }
    }
}

/// The key columns as one text, `a/b`, naming a record in messages.
fn label(kind: &Kind) -> String {
    let parts: Vec<String> = kind.key.iter().map(|c| format!("CAST(t.{c} AS TEXT)")).collect();
    parts.join(" || '/' || ")
}

fn fetch_statement(dialect: Dialect, kind: &Kind, query: &Query) -> Statement {
    let number = query.number.map(|c| format!(", t.{c}")).unwrap_or_default();
    // The label is not named after a column: PostgreSQL would order by the text, 10 before 2.
    let mut statement =
        Statement::new(dialect, format!("SELECT {} AS label, t.record{number} FROM {} AS t", label(kind), kind.table));
    statement.conditions(kind.table, &query.filters);
    if !query.order.is_empty() {
        let order: Vec<String> =
            query.order.iter().map(|(c, desc)| format!("t.{c}{}", if *desc { " DESC" } else { "" })).collect();
        let _ = write!(statement.sql, " ORDER BY {}", order.join(", "));
    }
    if let Some(limit) = query.limit {
        let limit = statement.value(kind.table, "", &Value::Int(i64::from(limit)));
        let _ = write!(statement.sql, " LIMIT {limit}");
    }
    statement
}

fn write_statement(dialect: Dialect, kind: &Kind, how: Write, values: &[Value], json: &str) -> Statement {
    let columns: Vec<&str> = kind.all_columns().collect();
    let mut statement = Statement::new(dialect, String::new());
    match how {
        Write::Insert | Write::Upsert => {
            let bound: Vec<String> =
                columns.iter().zip(values).map(|(c, v)| statement.value(kind.table, c, v)).collect();
            let record = statement.value(kind.table, "record", &Value::Text(json.to_string()));
            statement.sql = format!(
                "INSERT INTO {} ({}, record) VALUES ({}, {record})",
                kind.table,
                columns.join(", "),
                bound.join(", ")
            );
            if how == Write::Upsert {
                let mut set: Vec<String> = kind
                    .columns
                    .iter()
                    .filter(|c| !kind.kept.contains(c))
                    .map(|c| format!("{c} = excluded.{c}"))
                    .collect();
                set.push("record = excluded.record".into());
                let _ =
                    write!(statement.sql, " ON CONFLICT ({}) DO UPDATE SET {}", kind.key.join(", "), set.join(", "));
            }
        }
        Write::Replace => {
            let others = &values[kind.key.len().min(values.len())..];
            let mut set: Vec<String> = kind
                .columns
                .iter()
                .zip(others)
                .filter(|(c, _)| !kind.kept.contains(c))
                .map(|(c, v)| format!("{c} = {}", statement.value(kind.table, c, v)))
                .collect();
            set.push(format!("record = {}", statement.value(kind.table, "record", &Value::Text(json.to_string()))));
            statement.sql = format!("UPDATE {} AS t SET {}", kind.table, set.join(", "));
            statement.conditions(kind.table, &key_filters(kind, values));
        }
    }
    statement
}

fn key_filters(kind: &Kind, values: &[Value]) -> Vec<Filter> {
    kind.key.iter().zip(values).map(|(c, v)| Filter::Eq(c, v.clone())).collect()
}

/// The text of a key, for messages.
fn key_text(values: &[Value]) -> String {
    let parts: Vec<String> = values
        .iter()
        .map(|v| match v {
            Value::Int(n) => n.to_string(),
            Value::Text(t) => t.clone(),
            Value::Next => "(next)".into(),
        })
        .collect();
    parts.join("/")
}

fn checked_values(kind: &Kind, values: &[Value]) -> Result<(), GovernanceError> {
    let expected = kind.key.len() + kind.columns.len();
    if values.len() == expected {
        Ok(())
    } else {
        Err(GovernanceError::Storage {
            message: format!(
                "{} gave {} column values, its table {} has {expected}",
                kind.noun,
                values.len(),
                kind.table
            ),
            source: None,
        })
    }
}

pub(crate) fn fetch<S: Sql>(sql: &mut S, kind: &Kind, query: &Query) -> Result<Vec<Stored>, GovernanceError> {
    let statement = fetch_statement(S::DIALECT, kind, query);
    let columns: &[Column] =
        if query.number.is_some() { &[Column::Text, Column::Text, Column::Int] } else { &[Column::Text, Column::Text] };
    let rows = sql.query("reading", &statement.sql, &statement.params, columns)?;
    rows.into_iter()
        .map(|row| {
            let mut cells = row.into_iter();
            let (Some(Cell::Text(label)), Some(Cell::Text(json))) = (cells.next(), cells.next()) else {
                return Err(GovernanceError::Storage {
                    message: format!("a stored record of {} has no key or no content", kind.table),
                    source: None,
                });
            };
            let number = match cells.next() {
                Some(Cell::Int(n)) => Some(n),
                _ => None,
            };
            Ok(Stored { label, json, number })
        })
        .collect()
}

pub(crate) fn write_record<S: Sql>(
    sql: &mut S,
    kind: &Kind,
    how: Write,
    values: &[Value],
    json: &str,
) -> Result<(), GovernanceError> {
    checked_values(kind, values)?;
    let statement = write_statement(S::DIALECT, kind, how, values, json);
    let changed = sql.execute("storing a record", &statement.sql, &statement.params)?;
    if how == Write::Replace && changed != 1 {
        return Err(GovernanceError::Storage {
            message: format!("{}/{} is not stored", kind.table, key_text(&values[..kind.key.len()])),
            source: None,
        });
    }
    Ok(())
}

pub(crate) fn next_number<S: Sql>(
    sql: &mut S,
    kind: &Kind,
    column: &'static str,
    filters: &[Filter],
) -> Result<u64, GovernanceError> {
    let mut statement =
        Statement::new(S::DIALECT, format!("SELECT COALESCE(MAX(t.{column}), 0) + 1 FROM {} AS t", kind.table));
    statement.conditions(kind.table, filters);
    let rows = sql.query("numbering a record", &statement.sql, &statement.params, &[Column::Int])?;
    match rows.first().and_then(|row| row.first()) {
        Some(Cell::Int(n)) => u64::try_from(*n).map_err(|e| {
            GovernanceError::storage(format!("the largest stored {column} of {} is negative", kind.table), e)
        }),
        _ => Err(GovernanceError::Storage {
            message: format!("numbering a record of {} returned no number", kind.table),
            source: None,
        }),
    }
}

pub(crate) fn delete_record<S: Sql>(sql: &mut S, kind: &Kind, key: &[Value]) -> Result<u64, GovernanceError> {
    let mut statement = Statement::new(S::DIALECT, format!("DELETE FROM {} AS t", kind.table));
    statement.conditions(kind.table, &key_filters(kind, key));
    sql.execute("deleting a record", &statement.sql, &statement.params)
}

pub(crate) fn runtime_version<S: Sql>(sql: &mut S) -> Result<u64, GovernanceError> {
    let rows = sql.query(
        "reading the runtime version",
        "SELECT version FROM runtime_state WHERE id = 1",
        &[],
        &[Column::Int],
    )?;
    match rows.first().and_then(|row| row.first()) {
        Some(Cell::Int(n)) => {
            u64::try_from(*n).map_err(|e| GovernanceError::storage("the runtime version is negative", e))
        }
        _ => Err(GovernanceError::Storage { message: "the runtime version is not stored".into(), source: None }),
    }
}

fn count(cell: Option<&Cell>) -> Result<u64, GovernanceError> {
    match cell {
        Some(Cell::Int(n)) => u64::try_from(*n).map_err(|e| GovernanceError::storage("a count is negative", e)),
        Some(Cell::Null) | None => Ok(0),
        Some(Cell::Text(text)) => {
            Err(GovernanceError::Storage { message: format!("a count came back as text {text:?}"), source: None })
        }
    }
}

fn text(cell: Option<&Cell>) -> Result<String, GovernanceError> {
    match cell {
        Some(Cell::Text(text)) => Ok(text.clone()),
        _ => Err(GovernanceError::Storage { message: "a system id came back empty".into(), source: None }),
    }
}

pub(crate) fn pending_work<S: Sql>(sql: &mut S, now: Timestamp) -> Result<Vec<PendingWork>, GovernanceError> {
    let mut by_system: BTreeMap<String, PendingWork> = BTreeMap::new();
    // Kept by triggers (migration V8): one row per system, however long the queue.
    let rows = sql.query(
        "counting reviews",
        "SELECT system, pending FROM review_counts WHERE pending > 0",
        &[],
        &[Column::Text, Column::Int],
    )?;
    for row in rows {
        let system = text(row.first())?;
        let entry = by_system.entry(system.clone()).or_insert_with(|| PendingWork { system, ..Default::default() });
        entry.reviews = count(row.get(1))?;
    }
    let now_param = S::DIALECT.placeholder(1);
    let overdue = format!(
        "(status = 'open' AND {}) OR {}",
        S::DIALECT.record_time_before("acknowledge_by", &now_param),
        S::DIALECT.record_time_before("resolve_by", &now_param)
    );
    let rows = sql.query(
        "counting incidents",
        &format!(
            "SELECT system, COUNT(*), SUM(CASE WHEN {overdue} THEN 1 ELSE 0 END) \
             FROM incidents WHERE status IN ('open', 'acknowledged') GROUP BY system"
        ),
        &[Value::Text(now.to_string())],
        &[Column::Text, Column::Int, Column::Int],
    )?;
    for row in rows {
        let system = text(row.first())?;
        let entry = by_system.entry(system.clone()).or_insert_with(|| PendingWork { system, ..Default::default() });
        entry.incidents = count(row.get(1))?;
        entry.overdue_incidents = count(row.get(2))?;
    }
    Ok(by_system.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use lunli_governance::review::ReviewItem;
    use lunli_governance::store::{ActivePack, Keyset, Record};

    #[test]
    fn a_page_binds_its_values_in_placeholder_order() {
        let query = Query::all()
            .eq("system", "s")
            .filter(Filter::In("status", vec!["open".into(), "claimed".into()]))
            .oldest_first(Keyset { after: 7, limit: 3 })
            .expect("page");
        let statement = fetch_statement(Dialect::Postgres, &ReviewItem::KIND, &query);
        assert_eq!(
            statement.sql,
            "SELECT CAST(t.id AS TEXT) AS label, t.record FROM reviews AS t WHERE t.system = $1 AND t.status IN ($2, $3) \
             AND t.id > $4 ORDER BY t.id LIMIT $5"
        );
        assert_eq!(statement.params, vec!["s".into(), "open".into(), "claimed".into(), Value::Int(7), Value::Int(3)]);
        let sqlite = fetch_statement(Dialect::Sqlite, &ReviewItem::KIND, &query);
        assert!(sqlite.sql.contains("t.system = ?1") && sqlite.sql.ends_with("LIMIT ?5"), "{}", sqlite.sql);
    }

    #[test]
    fn an_upsert_keeps_the_kept_columns_and_numbers_in_the_database() {
        let statement =
            write_statement(Dialect::Sqlite, &ActivePack::KIND, Write::Upsert, &["p".into(), Value::Next], "{}");
        assert_eq!(
            statement.sql,
            "INSERT INTO packs (id, seq, record) VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM packs), ?2) \
             ON CONFLICT (id) DO UPDATE SET record = excluded.record"
        );
        assert_eq!(statement.params, vec!["p".into(), "{}".into()]);
    }

    #[test]
    fn a_replace_updates_by_key() {
        let values = vec![Value::Int(4), "s".into(), "closed".into(), Value::Int(9)];
        let statement = write_statement(Dialect::Postgres, &ReviewItem::KIND, Write::Replace, &values, "{}");
        assert_eq!(
            statement.sql,
            "UPDATE reviews AS t SET system = $1, status = $2, decision_index = $3, record = $4 WHERE t.id = $5"
        );
    }
}

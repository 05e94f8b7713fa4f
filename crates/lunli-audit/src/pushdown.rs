//! Audits where the data lives: the fairness audit's counting query pushed down to a
//! PostgreSQL server as one read-only `GROUP BY`, so that only counted cells leave it; the
//! quality audit's passes likewise, as aggregate queries (`quality::on_postgres`).
//!
//! The local audit groups rows by every sensitive column, the label, the prediction and the
//! score and counts them ([`crate::fairness`]); the server runs the same grouping over a table
//! or a query, and lunli interprets the counted cells exactly as it interprets its own, so both
//! give the same numbers on the same rows. What crosses the network is one row per distinct
//! (groups, label, prediction, score) combination with its count — never a row of the table.
//! With a score column the cells are as fine as the scores are: round the score in `--query` to
//! coarsen them (docs/engines.md).
//!
//! Everything runs in a `READ ONLY` transaction: a query that tries to write is refused by the
//! server, whatever it says.
//!
//! With `sslmode=require` the connection is TLS and the server's certificate is verified (system
//! roots and the CA certificates given), which is stricter than libpq's `require`; otherwise it
//! is plain, never opportunistic TLS that checks nothing.

/// A PostgreSQL server to audit on: a connection string or URL, and CA certificates (PEM files)
/// to trust besides the system's when it asks for TLS (`sslmode=require`).
#[derive(Debug, Clone, Default)]
pub struct Engine {
    pub url: String,
    pub ca_certs: Vec<PathBuf>,
}

impl Engine {
    pub fn new(url: impl Into<String>) -> Self {
        Engine { url: url.into(), ca_certs: Vec::new() }
    }
}

use std::fmt::Write as _;

use futures_util::StreamExt as _;
use std::path::PathBuf;

use lunli_tls::{CaCerts, TlsError, certificate_problem};
use tokio_postgres::config::SslMode;
use tokio_postgres::types::Type;
use tokio_postgres::{Client, Config, NoTls};

use lunli_norms::Catalogue;

use crate::RunOptions;
use crate::error::{AuditError, Location};
use crate::fairness::{self, CellSource, FairnessReport, FairnessRequest, RawCell};
use crate::policy::{FairnessPolicy, QualityPolicy};
use crate::quality::{self, QualityReport, QualityRequest};
use crate::source::InputSummary;

/// What to audit on the server: a table (optionally schema-qualified, `schema.table`) or the
/// rows of a read-only query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Relation {
    Table(String),
    Query(String),
}

impl Relation {
    /// The relation in a `FROM` clause.
    fn sql_source(&self) -> Result<String, AuditError> {
        match self {
            Relation::Table(name) => {
                let parts: Vec<&str> = name.split('.').collect();
                if parts.is_empty() || parts.len() > 2 || parts.iter().any(|p| p.trim().is_empty()) {
                    return Err(AuditError::request(format!(
                        "--table `{name}` is not a table name; give `table` or `schema.table`"
                    )));
                }
                Ok(parts.iter().map(|p| quote_ident(p)).collect::<Vec<_>>().join("."))
            }
            Relation::Query(sql) => {
                let sql = sql.trim().trim_end_matches(';').trim();
                if sql.is_empty() {
                    return Err(AuditError::request("--query is empty; give a SELECT whose rows to audit"));
                }
                Ok(format!("({sql})"))
            }
        }
    }

    /// How errors and the report name the relation.
    fn label(&self) -> String {
        match self {
            Relation::Table(name) => format!("table {name}"),
            Relation::Query(_) => "query".to_string(),
        }
    }
}

/// A PostgreSQL identifier, quoted: `"name"` with any `"` doubled.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The connection string without its password: host(s), port(s), database and user, for
/// reports and the ledger. Fails on a string PostgreSQL would not accept either.
pub fn redacted(url: &str) -> Result<String, AuditError> {
    let config: Config = url
        .parse()
        .map_err(|e| AuditError::request(format!("--engine is not a PostgreSQL connection string or URL: {e}")))?;
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    let ports = config.get_ports();
    let mut out = String::from("postgresql://");
    if let Some(user) = config.get_user() {
        let _ = write!(out, "{user}@");
    }
    for (i, host) in hosts.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(host);
        if let Some(port) = ports.get(i).or(ports.first()) {
            let _ = write!(out, ":{port}");
        }
    }
    if let Some(db) = config.get_dbname() {
        let _ = write!(out, "/{db}");
    }
    Ok(out)
}

/// The column types a relation's rows have, by name.
pub(crate) struct Columns(pub(crate) Vec<(String, Type)>);

impl Columns {
    fn get(&self, name: &str) -> Option<&Type> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, t)| t)
    }

    fn names(&self) -> String {
        self.0.iter().map(|(n, _)| format!("`{n}`")).collect::<Vec<_>>().join(", ")
    }
}

/// Types whose values PostgreSQL casts to `float8` without fail.
fn is_numeric(t: &Type) -> bool {
    [Type::INT2, Type::INT4, Type::INT8, Type::FLOAT4, Type::FLOAT8, Type::NUMERIC].contains(t)
}

fn is_text(t: &Type) -> bool {
    [Type::TEXT, Type::VARCHAR, Type::BPCHAR, Type::NAME].contains(t)
}

/// A decimal number as Rust reads one, for scores held as text: values that do not match are
/// counted as unreadable, as the local audit counts them.
const DECIMAL: &str = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$";

/// The counting query for `request` over `from` (a `FROM` clause): one row per distinct
/// (sensitive values, label, prediction, score), with its count. Label, prediction and
/// sensitive values are compared as text, as the local audit does.
pub fn fairness_sql(request: &FairnessRequest, from: &str, score_type: Option<&Type>) -> Result<String, AuditError> {
    let mut inner = Vec::new();
    let mut keys = Vec::new();
    for (i, column) in request.sensitive.iter().enumerate() {
        inner.push(format!("{}::text AS s{i}", quote_ident(column)));
        keys.push(format!("s{i}"));
    }
    inner.push(format!("{}::text AS y", quote_ident(&request.label)));
    inner.push(format!("{}::text AS p", quote_ident(&request.prediction)));
    keys.extend(["y".to_string(), "p".to_string()]);
    let mut aggregates = vec!["count(*) AS n".to_string()];
    if let Some(score) = &request.score {
        let column = quote_ident(score);
        let numeric = match score_type {
            Some(t) if is_numeric(t) => format!("{column}::float8"),
            Some(t) if is_text(t) => {
                format!("CASE WHEN btrim({column}) ~ '{DECIMAL}' THEN btrim({column})::float8 END")
            }
            Some(t) => {
                return Err(AuditError::input(
                    Location::file("engine").with_column(score.as_str()),
                    format!("scores must be numbers; this column holds {t}"),
                ));
            }
            None => format!("{column}::float8"),
        };
        inner.push(format!("{numeric} AS score"));
        inner.push(format!("{column} AS score_raw"));
        keys.push("score".to_string());
        aggregates.push("count(score_raw) AS present".to_string());
        aggregates.push("count(score) AS parsed".to_string());
    }
    let mut outer = keys.clone();
    outer.extend(aggregates);
    Ok(format!(
        "SELECT {} FROM (SELECT {} FROM {from} AS audited) AS cells GROUP BY {}",
        outer.join(", "),
        inner.join(", "),
        keys.join(", ")
    ))
}

/// The fairness audit of `relation` on the PostgreSQL server at `url`, counted there.
pub fn fairness(
    engine: &Engine,
    relation: &Relation,
    request: &FairnessRequest,
    policy: &FairnessPolicy,
    catalogue: &Catalogue,
    options: &RunOptions,
) -> Result<FairnessReport, AuditError> {
    fairness::check_request(request)?;
    let engine_name = redacted(&engine.url)?;
    let from = relation.sql_source()?;
    // The server does the work; lunli only waits on one connection.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| AuditError::Engine(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(async {
        let server = Server::connect(engine, &engine_name, relation).await?;
        let columns = server.columns(&from).await?;
        let mut needed = vec![&request.label, &request.prediction];
        needed.extend(request.score.iter());
        needed.extend(request.sensitive.iter());
        for column in needed {
            if columns.get(column).is_none() {
                return Err(AuditError::input(
                    server.location().with_column(column.as_str()),
                    format!("no such column; the {} has {}", relation.label(), columns.names()),
                ));
            }
        }
        let score_type = request.score.as_deref().and_then(|s| columns.get(s));
        let sql = fairness_sql(request, &from, score_type).map_err(|e| server.relocate(e))?;
        options.progress.next_pass();
        let rows = server.query(&sql).await?;
        let cells = rows
            .iter()
            .map(|row| cell(row, request.sensitive.len(), request.score.is_some()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| AuditError::Engine(format!("reading the counted cells: {e}")))?;
        let input = InputSummary::engine(&engine_name, "postgresql", &relation.label(), &sql);
        let source = Counted { server: &server, from: &from };
        fairness::report_of_cells(request, policy, catalogue, cells, &source, vec![input]).await
    })
}

/// The quality audit of `relation` on the PostgreSQL server of `engine`, measured there: only
/// the figures the report shows leave the server (docs/engines.md). `now` is when freshness is
/// measured from.
pub fn quality(
    engine: &Engine,
    relation: &Relation,
    request: &QualityRequest,
    policy: &QualityPolicy,
    catalogue: &Catalogue,
    now: jiff::Timestamp,
    options: &RunOptions,
) -> Result<QualityReport, AuditError> {
    let engine_name = redacted(&engine.url)?;
    let from = relation.sql_source()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| AuditError::Engine(format!("cannot start the runtime: {e}")))?;
    let report = runtime.block_on(async {
        let server = Server::connect(engine, &engine_name, relation).await?;
        let columns = server.columns(&from).await?;
        let place = quality::on_postgres::Place {
            server: &server,
            from: &from,
            engine: &engine_name,
            relation: &relation.label(),
        };
        quality::on_postgres::run(&place, &columns, request, policy, now, options).await
    })?;
    Ok(quality::with_controls(report, catalogue))
}

fn cell(row: &tokio_postgres::Row, sensitive: usize, with_score: bool) -> Result<RawCell, tokio_postgres::Error> {
    let key = (0..sensitive).map(|i| row.try_get::<_, Option<String>>(i)).collect::<Result<_, _>>()?;
    let label = row.try_get::<_, Option<String>>(sensitive)?;
    let prediction = row.try_get::<_, Option<String>>(sensitive + 1)?;
    let n: i64 = row.try_get(sensitive + 2 + usize::from(with_score))?;
    let (score, unreadable_scores) = if with_score {
        let score = row.try_get::<_, Option<f64>>(sensitive + 2)?;
        let present: i64 = row.try_get(sensitive + 4)?;
        let parsed: i64 = row.try_get(sensitive + 5)?;
        (score, u64::try_from(present - parsed).unwrap_or(0))
    } else {
        (None, 0)
    };
    Ok(RawCell { key, label, prediction, score, unreadable_scores, rows: u64::try_from(n).unwrap_or(0) })
}

/// A connection to the server, named for errors and reports.
pub(crate) struct Server {
    client: Client,
    /// The redacted connection string and the relation: where errors point.
    pub(crate) name: String,
}

impl Server {
    async fn connect(engine: &Engine, engine_name: &str, relation: &Relation) -> Result<Self, AuditError> {
        let config: Config = engine
            .url
            .parse()
            .map_err(|e| AuditError::request(format!("--engine is not a PostgreSQL connection string or URL: {e}")))?;
        let failed = |e: tokio_postgres::Error| match certificate_problem(&e) {
            Some(problem) => AuditError::request(format!(
                "{engine_name}: the server's TLS certificate is not trusted ({problem:?}); give the CA that signed \
                 it with --engine-ca-cert FILE, and connect by the name the certificate was issued for"
            )),
            None => AuditError::Engine(format!("cannot connect to {engine_name}: {e}")),
        };
        // The connection task ends with the client; its error (if any) surfaces on the next query.
        let client = if config.get_ssl_mode() == SslMode::Require {
            let tls = tokio_postgres_rustls::MakeRustlsConnect::new(tls_config(&engine.ca_certs)?);
            let (client, connection) = config.connect(tls).await.map_err(failed)?;
            tokio::spawn(connection);
            client
        } else {
            let (client, connection) = config.connect(NoTls).await.map_err(failed)?;
            tokio::spawn(connection);
            client
        };
        // Read only, whatever the query says; one snapshot for every statement of the audit.
        // Backslashes in the literals lunli writes (patterns) are taken as they are.
        client
            .batch_execute(
                "START TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY; \
                 SET LOCAL standard_conforming_strings = on",
            )
            .await
            .map_err(|e| AuditError::Engine(format!("{engine_name}: cannot start a read-only transaction: {e}")))?;
        Ok(Server { client, name: format!("{engine_name} ({})", relation.label()) })
    }

    pub(crate) fn location(&self) -> Location {
        Location::file(self.name.clone())
    }

    /// An error raised before the server was known, pointed at it.
    fn relocate(&self, error: AuditError) -> AuditError {
        match error {
            AuditError::Input { location, reason } => {
                AuditError::Input { location: Location { file: self.name.clone(), ..location }, reason }
            }
            other => other,
        }
    }

    async fn columns(&self, from: &str) -> Result<Columns, AuditError> {
        let statement = self
            .client
            .prepare(&format!("SELECT * FROM {from} AS audited LIMIT 0"))
            .await
            .map_err(|e| self.error(e))?;
        Ok(Columns(statement.columns().iter().map(|c| (c.name().to_string(), c.type_().clone())).collect()))
    }

    pub(crate) async fn query(&self, sql: &str) -> Result<Vec<tokio_postgres::Row>, AuditError> {
        self.client.query(sql, &[]).await.map_err(|e| self.error(e))
    }

    /// A server error as an audit error: the person's fault (a bad table, column or query, a
    /// write refused) named as input; the rest as the engine's.
    fn error(&self, e: tokio_postgres::Error) -> AuditError {
        let Some(db) = e.as_db_error() else {
            return AuditError::Engine(format!("{}: {e}", self.name));
        };
        let code = db.code().code();
        if code == "25006" {
            return AuditError::request(format!(
                "{}: the query tried to write ({}); lunli runs audits in a read-only transaction",
                self.name,
                db.message()
            ));
        }
        // Class 42 (syntax errors, unknown tables and columns, missing privileges) and class
        // 22 (data exceptions: a value that does not cast) are about what was asked; class
        // 0A (a feature not supported where the query uses it, such as a data-modifying WITH in
        // a subquery) likewise.
        if code.starts_with("42") || code.starts_with("22") || code.starts_with("0A") {
            return AuditError::input(self.location(), format!("{} (SQLSTATE {code})", db.message()));
        }
        AuditError::Engine(format!("{}: {} (SQLSTATE {code})", self.name, db.message()))
    }
}

/// TLS for `sslmode=require`: lunli-tls's client config over the system's roots and
/// `ca_certs`.
fn tls_config(ca_certs: &[PathBuf]) -> Result<rustls::ClientConfig, AuditError> {
    let tls_error = |e: TlsError| match e {
        TlsError::CaCert { file, reason } => {
            AuditError::Definition { file: format!("--engine-ca-cert {}", file.display()), line: None, reason }
        }
        TlsError::Setup(reason) => AuditError::Engine(format!("TLS setup failed: {reason}")),
    };
    lunli_tls::client_config(&CaCerts::read_all(ca_certs).map_err(tls_error)?).map_err(tls_error)
}

/// The server as the source of counted cells: an offending value is found among the distinct
/// values of its column (read only when the audit has already failed on it).
struct Counted<'a> {
    server: &'a Server,
    from: &'a str,
}

impl CellSource for Counted<'_> {
    fn name(&self) -> String {
        self.server.name.clone()
    }

    async fn locate_value(&self, column: &str, check: &(dyn Fn(Option<&str>) -> Option<String> + Sync)) -> AuditError {
        let sql = format!("SELECT DISTINCT {}::text FROM {} AS audited", quote_ident(column), self.from);
        let location = self.server.location().with_column(column);
        // Streamed, and stopped at the first value the check objects to.
        let rows = match self.server.client.query_raw(sql.as_str(), std::iter::empty::<i32>()).await {
            Ok(rows) => rows,
            Err(error) => return self.server.error(error),
        };
        let mut rows = std::pin::pin!(rows);
        while let Some(row) = rows.next().await {
            let value: Option<String> = match row.and_then(|r| r.try_get(0)) {
                Ok(value) => value,
                Err(error) => return self.server.error(error),
            };
            if let Some(reason) = check(value.as_deref()) {
                return AuditError::input(location, reason);
            }
        }
        AuditError::input(location, "a value the audit cannot use (it could not be found again)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_never_reaches_a_report() {
        let url = redacted("postgresql://auditor:s3cret@db.example:6543/warehouse").expect("URL");
        assert_eq!(url, "postgresql://auditor@db.example:6543/warehouse");
        let key_value = redacted("host=10.0.0.5 port=5433 user=ro password=s3cret dbname=dw").expect("key=value");
        assert_eq!(key_value, "postgresql://ro@10.0.0.5:5433/dw");
        assert!(redacted("postgresql://h:notaport/db").is_err());
    }

    #[test]
    fn identifiers_are_quoted_so_a_column_name_cannot_inject() {
        let request = FairnessRequest {
            label: "y\"; DROP TABLE t; --".into(),
            prediction: "p".into(),
            sensitive: vec!["性别".into()],
            ..FairnessRequest::default()
        };
        let sql = fairness_sql(&request, "\"s\".\"t\"", None).expect("SQL");
        assert!(sql.contains("\"y\"\"; DROP TABLE t; --\"::text AS y"), "{sql}");
        assert!(sql.contains("\"性别\"::text AS s0"), "{sql}");
        assert_eq!(Relation::Table("sales.\"odd".into()).sql_source().expect("table"), "\"sales\".\"\"\"odd\"");
        assert!(Relation::Table("a.b.c".into()).sql_source().is_err());
        assert!(Relation::Query("  ; ".into()).sql_source().is_err());
    }
}

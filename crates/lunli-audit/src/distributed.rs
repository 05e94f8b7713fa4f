//! Audits on an Apache DataFusion Ballista cluster. The fairness audit's counting plan — the
//! very plan the local audit runs ([`fairness::counting_frame`]) — goes to the cluster's
//! scheduler, which splits it into stages over the executors that hold the files; only the
//! counted cells come back, and lunli interprets them exactly as it interprets its own. The
//! quality audit's passes go there the same way ([`quality()`]), written with the engine's
//! built-in functions only.
//!
//! The files are named as the executors see them (a shared file system). lunli itself reads
//! only what planning needs — a CSV file's header line, a Parquet file's footer — never a row
//! ([`crate::source::cluster_files`]). CSV values are planned as text, as the local audit reads
//! CSV, so labels, predictions and groups compare the same way, and scores are parsed by the
//! same expression.
//!
//! The counts are integers, merged by the engine across partitions and executors, so the result
//! does not depend on how the files are split or scheduled.

use ballista::prelude::SessionContextExt as _;
use datafusion::arrow::datatypes::DataType;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::cast as cast_expr;
use datafusion::prelude::{CsvReadOptions, DataFrame, ParquetReadOptions, SessionContext, ident};
use futures_util::StreamExt as _;

use lunli_norms::Catalogue;

use crate::RunOptions;
use crate::error::{AuditError, Location};
use crate::fairness::{self, CellSource, FairnessReport, FairnessRequest};
use crate::policy::{FairnessPolicy, QualityPolicy};
use crate::quality::{self, Functions, QualityReport, QualityRequest};
use crate::source::{ClusterFiles, Dataset, Format, InputSummary, cluster_error, cluster_files};

/// The scheme of a Ballista scheduler's address, as Ballista's own clients write it.
pub const SCHEME: &str = "df://";

/// The port a Ballista scheduler listens on unless told otherwise.
const DEFAULT_PORT: u16 = 50050;

/// Whether `url` names a Ballista scheduler (`df://host:port`) rather than a PostgreSQL server.
pub fn is_cluster_url(url: &str) -> bool {
    url.trim().to_ascii_lowercase().starts_with(SCHEME)
}

/// `df://host:port`, checked: a host, and a port that is a number (default 50050). Anything
/// after the address (a path, a query, credentials) is refused rather than silently dropped.
pub fn scheduler_address(url: &str) -> Result<String, AuditError> {
    let bad = |why: &str| {
        AuditError::request(format!("--engine `{url}` is not a Ballista scheduler address: {why}; give df://HOST:PORT"))
    };
    let trimmed = url.trim();
    let rest = trimmed
        .get(SCHEME.len()..)
        .filter(|_| is_cluster_url(trimmed))
        .ok_or_else(|| bad("it does not start with df://"))?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains(['/', '?', '#', '@']) {
        return Err(bad("only a host and a port may follow df://"));
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) => (host, port.parse::<u16>().map_err(|_| bad("the port is not a number from 1 to 65535"))?),
        None => (rest, DEFAULT_PORT),
    };
    if host.is_empty() || port == 0 {
        return Err(bad("the host or port is missing"));
    }
    Ok(format!("{SCHEME}{host}:{port}"))
}

/// The fairness audit of `request.inputs` (files as the executors see them) on the Ballista
/// cluster whose scheduler is at `url`, counted there.
pub fn fairness(
    url: &str,
    request: &FairnessRequest,
    policy: &FairnessPolicy,
    catalogue: &Catalogue,
    options: &RunOptions,
) -> Result<FairnessReport, AuditError> {
    fairness::check_request(request)?;
    let address = scheduler_address(url)?;
    let files = cluster_files(&request.inputs)?;
    let mut needed = vec![&request.label, &request.prediction];
    needed.extend(request.score.iter());
    needed.extend(request.sensitive.iter());
    for column in needed {
        if files.schema.field_with_name(column).is_err() {
            let names: Vec<String> = files.schema.fields().iter().map(|f| format!("`{}`", f.name())).collect();
            return Err(AuditError::input(
                Location::file(files.label.clone()).with_column(column.as_str()),
                format!("no such column; the files have {}", names.join(", ")),
            ));
        }
    }
    let cluster = Cluster { address, files };
    on_the_client(|| async {
        let ctx = SessionContext::remote(&cluster.address).await.map_err(|e| cluster.error(e))?;
        let frame = cluster.frame(&ctx).await?;
        let score_type = request
            .score
            .as_deref()
            .and_then(|s| cluster.files.schema.field_with_name(s).ok())
            .map(|f| f.data_type().clone());
        let counting = fairness::counting_frame(frame, request, score_type.as_ref(), &cluster.files.label)?;
        let plan = counting.logical_plan().display_indent().to_string();
        options.progress.next_pass();
        let batches = counting.collect().await.map_err(|e| cluster.error(e))?;
        let cells = fairness::read_cells(&batches, request.sensitive.len(), request.score.is_some())?;
        let input = InputSummary::engine(&cluster.address, "ballista", &cluster.files.label, &plan);
        let source = Counted { cluster: &cluster, ctx: &ctx };
        fairness::report_of_cells(request, policy, catalogue, cells, &source, vec![input]).await
    })
}

/// The quality audit of `request.inputs` (files as the executors see them) on the Ballista
/// cluster whose scheduler is at `url`: the local audit's passes, planned with the engine's
/// built-in functions only (executors of a stock Ballista run them), run there; only their
/// one-row figures and the summaries of value counts come back. `now` is when freshness is measured
/// from.
pub fn quality(
    url: &str,
    request: &QualityRequest,
    policy: &QualityPolicy,
    catalogue: &Catalogue,
    now: jiff::Timestamp,
    options: &RunOptions,
) -> Result<QualityReport, AuditError> {
    let address = scheduler_address(url)?;
    let files = cluster_files(&request.inputs)?;
    let label = files.label.clone();
    let dataset = Dataset::on_cluster(files, &address, options.progress.clone());
    let report = on_the_client(|| async {
        let ctx = SessionContext::remote(&address).await.map_err(|e| cluster_error(&address, &label, &e))?;
        quality::run(dataset, &ctx, Functions::BuiltIn, request, policy, now, options).await
    })?;
    Ok(quality::with_controls(report, catalogue))
}

/// Runs lunli's side of a cluster audit — the executors do the work; lunli plans, talks to the
/// scheduler and reads what comes back — on a thread of its own with a deep stack: planning and
/// encoding a plan recurse through its expressions (the quality audit's are deep), and
/// Ballista's own binaries give their threads 32 MiB.
fn on_the_client<T: Send, F: Future<Output = Result<T, AuditError>>>(
    work: impl FnOnce() -> F + Send,
) -> Result<T, AuditError> {
    const STACK: usize = 32 << 20;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_stack_size(STACK)
        .enable_all()
        .build()
        .map_err(|e| AuditError::Engine(format!("cannot start the runtime: {e}")))?;
    std::thread::scope(|scope| {
        let client = std::thread::Builder::new()
            .name("lunli-cluster-client".into())
            .stack_size(STACK)
            .spawn_scoped(scope, || runtime.block_on(work()))
            .map_err(|e| AuditError::Engine(format!("cannot start a thread: {e}")))?;
        client.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// A scheduler and the files its executors read.
struct Cluster {
    address: String,
    files: ClusterFiles,
}

impl Cluster {
    /// The files as a data frame of the remote session: planned here, read by the executors.
    async fn frame(&self, ctx: &SessionContext) -> Result<DataFrame, AuditError> {
        let paths = self.files.paths.clone();
        let frame = match self.files.format {
            Format::Csv { delimiter } => {
                let options = CsvReadOptions::new()
                    .has_header(true)
                    .delimiter(delimiter)
                    .schema(&self.files.schema)
                    .file_extension("");
                ctx.read_csv(paths, options).await
            }
            Format::Parquet => {
                let options =
                    ParquetReadOptions { file_extension: "", schema: Some(&self.files.schema), ..Default::default() };
                ctx.read_parquet(paths, options).await
            }
            Format::JsonLines => return Err(AuditError::request("JSON Lines is audited locally only")),
        };
        frame.map_err(|e| self.error(e))
    }

    fn error(&self, e: DataFusionError) -> AuditError {
        cluster_error(&self.address, &self.files.label, &e)
    }
}

/// The cluster as the source of counted cells: an offending value is found among the distinct
/// values of its column, counted there too (only when the audit has already failed on it).
struct Counted<'a> {
    cluster: &'a Cluster,
    ctx: &'a SessionContext,
}

impl CellSource for Counted<'_> {
    fn name(&self) -> String {
        format!("{} on {}", self.cluster.files.label, self.cluster.address)
    }

    async fn locate_value(&self, column: &str, check: &(dyn Fn(Option<&str>) -> Option<String> + Sync)) -> AuditError {
        let location = Location::file(self.name()).with_column(column);
        let stream = async {
            let frame = self.cluster.frame(self.ctx).await?;
            let values = frame
                .select(vec![cast_expr(ident(column), DataType::Utf8).alias("v")])
                .and_then(DataFrame::distinct)
                .map_err(|e| self.cluster.error(e))?;
            values.execute_stream().await.map_err(|e| self.cluster.error(e))
        };
        let mut stream = match stream.await {
            Ok(stream) => stream,
            Err(error) => return error,
        };
        // Streamed, and stopped at the first value the check objects to.
        while let Some(batch) = stream.next().await {
            let batch = match batch {
                Ok(batch) => batch,
                Err(e) => return self.cluster.error(e),
            };
            let values = match fairness::text_column(&batch, "v") {
                Ok(values) => values,
                Err(error) => return error,
            };
            for value in values {
                if let Some(reason) = check(value.as_deref()) {
                    return AuditError::input(location, reason);
                }
            }
        }
        AuditError::input(location, "a value the audit cannot use (it could not be found again)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheduler_addresses_are_checked() {
        assert_eq!(scheduler_address("df://sched.internal:50077").expect("address"), "df://sched.internal:50077");
        assert_eq!(scheduler_address("DF://10.0.0.5/").expect("address"), "df://10.0.0.5:50050");
        for bad in
            ["postgresql://h/db", "df://", "df://:50050", "df://h:port", "df://h:0", "df://u:pw@h:1", "df://h:1/x"]
        {
            assert!(scheduler_address(bad).is_err(), "{bad}");
        }
        assert!(is_cluster_url(" df://h:1") && !is_cluster_url("host=h dbname=d"));
    }
}

//! The query engine's side: a session sized to the machine, running plans while progress is
//! watched, and engine failures turned into located input errors.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use datafusion::arrow::array::RecordBatch;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::{DataFrame, SessionConfig, SessionContext};

use crate::RunOptions;
use crate::error::AuditError;
use crate::source::Dataset;

/// A multi-threaded runtime with one worker per core (or as asked).
pub(crate) fn runtime(options: &RunOptions) -> Result<tokio::runtime::Runtime, AuditError> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_time();
    if let Some(threads) = options.threads {
        builder.worker_threads(threads.max(1));
    }
    builder.build().map_err(|e| AuditError::Engine(format!("cannot start the runtime: {e}")))
}

/// A session for reading `dataset`: partitions = cores, and a memory pool so that large
/// aggregations spill to disk instead of growing without bound.
pub(crate) fn session(options: &RunOptions, dataset: &Dataset) -> Result<SessionContext, AuditError> {
    let threads = options.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    bare_session(threads, options.memory_limit, dataset.schema.fields().len())
}

/// Values (rows × columns) per batch that a reader of a wide file may make at most.
const VALUES_PER_BATCH: usize = 1 << 22;

/// Rows per batch when reading `columns` columns: 8,192, or fewer for tables wider than 512
/// columns. The CSV reader sets aside room for the positions and bytes of every field of a
/// batch before it reads one, whatever columns a query wants: 8,192 rows of 10,000 columns
/// made it zero 1.3 GB for each partition of each pass, which was most of the memory and time
/// of a wide table's audit.
pub(crate) fn batch_rows(columns: usize) -> usize {
    (VALUES_PER_BATCH / columns.max(1)).clamp(1, 8192)
}

/// A session with `partitions` target partitions, batches for a table of `columns` columns,
/// and nothing registered in it. Audits build their plans from expression functions directly
/// and never resolve a function or file format by name, so the engine's default registrations
/// (hundreds of SQL functions, table factories) would only cost start-up time and the memory
/// of the code they touch.
pub(crate) fn bare_session(
    partitions: usize,
    memory_limit: Option<usize>,
    columns: usize,
) -> Result<SessionContext, AuditError> {
    let mut runtime = RuntimeEnvBuilder::new();
    if let Some(limit) = memory_limit {
        runtime = runtime.with_memory_limit(limit, 1.0);
    }
    let config = SessionConfig::new().with_target_partitions(partitions.max(1)).with_batch_size(batch_rows(columns));
    let state = SessionStateBuilder::new().with_config(config).with_runtime_env(runtime.build_arc()?).build();
    Ok(SessionContext::new_with_state(state))
}

/// Runs a data frame to completion, updating the progress counters from the plan's metrics
/// as it goes.
pub(crate) async fn collect(frame: DataFrame, dataset: &Dataset) -> Result<Vec<RecordBatch>, AuditError> {
    collect_reading(frame, dataset, None).await
}

/// [`collect`] for a frame whose rows come from another plan `reading` the files (run by one
/// of lunli's own streams, out of the frame's sight): progress is counted on that plan.
pub(crate) async fn collect_reading(
    frame: DataFrame,
    dataset: &Dataset,
    reading: Option<Arc<dyn ExecutionPlan>>,
) -> Result<Vec<RecordBatch>, AuditError> {
    dataset.record_query(&frame);
    let task = Arc::new(frame.task_ctx());
    let plan = frame.create_physical_plan().await.map_err(|e| dataset.engine_error(e))?;
    let watched = reading.unwrap_or_else(|| plan.clone());
    let watching = watched.clone();
    let progress = dataset.progress.clone();
    let bytes_per_row = dataset.estimate_bytes(1_000_000) as f64 / 1_000_000.0;
    let watcher = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let rows = scanned_rows(watching.as_ref());
            progress.engine_rows.store(rows, Ordering::Relaxed);
            progress.engine_bytes.store((rows as f64 * bytes_per_row) as u64, Ordering::Relaxed);
        }
    });
    let result = datafusion::physical_plan::collect(plan, task).await;
    watcher.abort();
    let rows = scanned_rows(watched.as_ref());
    dataset.progress.engine_rows.store(rows, Ordering::Relaxed);
    result.map_err(|e| dataset.engine_error(e))
}

/// Rows produced so far by the engine's own file readers (lunli's streaming readers count
/// theirs directly).
fn scanned_rows(plan: &dyn ExecutionPlan) -> u64 {
    if plan.children().is_empty() {
        if plan.name() == "DataSourceExec" {
            return plan.metrics().and_then(|m| m.output_rows()).unwrap_or(0) as u64;
        }
        return 0;
    }
    plan.children().into_iter().map(|child| scanned_rows(child.as_ref())).sum()
}

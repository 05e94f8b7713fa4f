//! Reading a data set's rows in order, batch by batch, for audits that compute outside the
//! engine (the model audit runs a model on each batch). The engine reads and parses the files
//! on its own threads while the caller works on the previous batches; a small queue between
//! them bounds the memory held to a few batches, whatever the size of the data.

use std::sync::atomic::Ordering;

use crate::source::stream::next_batch;
use datafusion::arrow::array::RecordBatch;

use crate::error::AuditError;
use crate::source::Dataset;
use crate::{RunOptions, engine};

/// Batches read ahead of the caller at most.
const READ_AHEAD: usize = 4;

/// Reads `columns` of `dataset` in file order (one partition, so that row *i* is the *i*-th data
/// row of the inputs and seeded work over the rows is reproducible), handing each batch to
/// `each`. Stops at the first error, the reader's or `each`'s.
pub fn scan<E: From<AuditError>>(
    dataset: &Dataset,
    columns: &[&str],
    options: &RunOptions,
    mut each: impl FnMut(RecordBatch) -> Result<(), E>,
) -> Result<(), E> {
    dataset.require_columns(columns.iter().copied())?;
    let indexes: Vec<usize> = columns.iter().filter_map(|c| dataset.schema.index_of(c).ok()).collect();
    let runtime = engine::runtime(options)?;
    let ctx = engine::bare_session(1, options.memory_limit, indexes.len())?;
    let frame = runtime.block_on(dataset.columns_frame(&ctx, &indexes))?;
    let stream = runtime.block_on(frame.execute_stream()).map_err(|e| dataset.engine_error(e))?;
    dataset.progress.next_pass();
    let (sender, mut receiver) = tokio::sync::mpsc::channel(READ_AHEAD);
    let reader = runtime.spawn(async move {
        let mut stream = stream;
        while let Some(batch) = next_batch(&mut stream).await {
            if sender.send(batch).await.is_err() {
                break;
            }
        }
    });
    let mut result = Ok(());
    while let Some(batch) = receiver.blocking_recv() {
        let batch = match batch {
            Ok(batch) => batch,
            Err(e) => {
                result = Err(dataset.engine_error(e).into());
                break;
            }
        };
        dataset.progress.rows.fetch_add(batch.num_rows() as u64, Ordering::Relaxed);
        dataset
            .progress
            .bytes
            .store(dataset.estimate_bytes(dataset.progress.rows.load(Ordering::Relaxed)), Ordering::Relaxed);
        if let Err(e) = each(batch) {
            result = Err(e);
            break;
        }
    }
    drop(receiver);
    reader.abort();
    result?;
    if let Some(failure) = dataset.diagnostics.take_failure() {
        return Err(failure.into());
    }
    Ok(())
}

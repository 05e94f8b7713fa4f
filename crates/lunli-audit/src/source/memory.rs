//! Data handed over as Arrow rather than files: record batches a caller already holds (a
//! DataFrame crossing from Python through the Arrow C data interface), or a stream of them.
//! The batches' column buffers are read where they are; nothing is copied on the way in.

use std::fmt;
use std::sync::{Arc, Mutex};

use datafusion::arrow::array::{RecordBatch, RecordBatchReader};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::MemTable;
use datafusion::catalog::streaming::StreamingTable;
use datafusion::execution::TaskContext;
use datafusion::physical_plan::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchReceiverStreamBuilder;
use datafusion::physical_plan::streaming::PartitionStream;
use datafusion::prelude::{DataFrame, SessionContext};

use super::Diagnostics;
use super::locate::{Check, text_columns};
use crate::error::{AuditError, Location};

/// Arrow data to audit instead of files.
pub struct ArrowInput {
    /// What to call the data in messages and reports, e.g. `pandas.DataFrame`.
    pub name: String,
    pub schema: SchemaRef,
    pub batches: ArrowBatches,
}

/// How the batches come.
pub enum ArrowBatches {
    /// Batches held in memory: read on every core, and as often as an audit needs.
    Memory(Vec<RecordBatch>),
    /// A stream read once, batch by batch: for audits that read their data in one pass.
    Stream(Box<dyn RecordBatchReader + Send>),
}

impl fmt::Debug for ArrowInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.batches {
            ArrowBatches::Memory(batches) => format!("{} batches in memory", batches.len()),
            ArrowBatches::Stream(_) => "a stream".to_string(),
        };
        write!(f, "ArrowInput({}, {kind})", self.name)
    }
}

/// The data of a [`super::Dataset`] made from an [`ArrowInput`].
#[derive(Debug)]
pub(crate) struct ArrowSource {
    pub(super) name: String,
    pub(super) data: ArrowData,
}

#[derive(Debug)]
pub(super) enum ArrowData {
    Memory(Vec<RecordBatch>),
    Stream(Arc<OnceStream>),
}

impl ArrowSource {
    pub(super) fn new(input: ArrowInput, diagnostics: Arc<Diagnostics>) -> Self {
        let data = match input.batches {
            ArrowBatches::Memory(batches) => ArrowData::Memory(batches),
            ArrowBatches::Stream(reader) => ArrowData::Stream(Arc::new(OnceStream {
                schema: input.schema,
                reader: Mutex::new(Some(reader)),
                name: input.name.clone(),
                diagnostics,
            })),
        };
        Self { name: input.name, data }
    }

    /// Bytes of the column buffers held (0 for a stream, whose size is not known ahead).
    pub(super) fn bytes(&self) -> u64 {
        match &self.data {
            ArrowData::Memory(batches) => batches.iter().map(|b| b.get_array_memory_size() as u64).sum(),
            ArrowData::Stream(_) => 0,
        }
    }

    /// Rows held (0 for a stream).
    pub(super) fn rows(&self) -> u64 {
        match &self.data {
            ArrowData::Memory(batches) => batches.iter().map(|b| b.num_rows() as u64).sum(),
            ArrowData::Stream(_) => 0,
        }
    }

    /// A frame over the data: batches in memory cut into slices of `batch_rows` rows and
    /// spread over `partitions` partitions (slices share the buffers, nothing is copied; a
    /// DataFrame often arrives as one batch of millions of rows), a stream as one partition.
    pub(super) fn frame(
        &self,
        ctx: &SessionContext,
        schema: &SchemaRef,
        partitions: usize,
        batch_rows: usize,
    ) -> Result<DataFrame, AuditError> {
        match &self.data {
            ArrowData::Memory(batches) => {
                let mut split: Vec<Vec<RecordBatch>> = vec![Vec::new(); partitions.max(1)];
                let step = batch_rows.max(1);
                let slices = batches.iter().flat_map(|batch| {
                    (0..batch.num_rows()).step_by(step).map(move |at| batch.slice(at, step.min(batch.num_rows() - at)))
                });
                // Consecutive slices go to one partition, so each partition reads a contiguous run.
                let per_partition =
                    batches.iter().map(|b| b.num_rows().div_ceil(step)).sum::<usize>().div_ceil(split.len()).max(1);
                for (i, slice) in slices.enumerate() {
                    split[i / per_partition].push(slice);
                }
                let table = MemTable::try_new(schema.clone(), split)?;
                Ok(ctx.read_table(Arc::new(table))?)
            }
            ArrowData::Stream(stream) => {
                let table = StreamingTable::try_new(schema.clone(), vec![stream.clone() as Arc<dyn PartitionStream>])?;
                Ok(ctx.read_table(Arc::new(table))?)
            }
        }
    }

    /// The first row where `check` objects to the values of `columns`: batches in memory are
    /// scanned again; a stream, already read, cannot be.
    pub(super) fn locate(
        &self,
        schema: &SchemaRef,
        columns: &[&str],
        check: &Check<'_>,
    ) -> Result<Option<AuditError>, AuditError> {
        let ArrowData::Memory(batches) = &self.data else { return Ok(None) };
        let indexes: Vec<usize> = columns.iter().map(|c| schema.index_of(c)).collect::<Result<_, _>>()?;
        let mut row: u64 = 0;
        for batch in batches {
            let texts = text_columns(&batch.project(&indexes)?)?;
            for i in 0..batch.num_rows() {
                row += 1;
                let values: Vec<Option<&str>> = texts.iter().map(|t| t.get(i).and_then(|v| v.as_deref())).collect();
                if let Some((c, reason)) = check(&values) {
                    let location = Location::file(self.name.clone()).with_row(row).with_column(columns[c]);
                    return Ok(Some(AuditError::input(location, reason)));
                }
            }
        }
        Ok(None)
    }
}

/// A record batch reader handed to the engine as one partition, read once.
pub(super) struct OnceStream {
    schema: SchemaRef,
    reader: Mutex<Option<Box<dyn RecordBatchReader + Send>>>,
    name: String,
    diagnostics: Arc<Diagnostics>,
}

impl fmt::Debug for OnceStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OnceStream({})", self.name)
    }
}

impl PartitionStream for OnceStream {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let mut builder = RecordBatchReceiverStreamBuilder::new(self.schema.clone(), 2);
        let tx = builder.tx();
        let reader = self.reader.lock().ok().and_then(|mut r| r.take());
        let name = self.name.clone();
        let diagnostics = self.diagnostics.clone();
        // The reader may block (it can pull from another language's runtime): off the workers.
        builder.spawn_blocking(move || {
            let fail = |reason: String| {
                diagnostics.fail(AuditError::input(Location::file(name.clone()), reason.clone()));
                datafusion::error::DataFusionError::Execution(reason)
            };
            let Some(reader) = reader else {
                return Err(fail("this stream was read already; a stream can be audited once".into()));
            };
            for batch in reader {
                let batch = batch.map_err(|e| fail(format!("the stream failed: {e}")))?;
                if tx.blocking_send(Ok(batch)).is_err() {
                    break;
                }
            }
            Ok(())
        });
        builder.build()
    }
}

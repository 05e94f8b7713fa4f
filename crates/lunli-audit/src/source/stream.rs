//! lunli's streaming reader for files the engine cannot read itself: file → gzip → BOM →
//! transcoding → Arrow batches, handed to the engine as one partition per file.

use super::encoding::{Encoding, Transcoder};
use super::format::Format;
use super::{Diagnostics, InputFile};
use crate::Progress;
use crate::error::AuditError;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::execution::TaskContext;
use datafusion::physical_plan::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchReceiverStreamBuilder;
use datafusion::physical_plan::streaming::PartitionStream;
use std::fs::File;
use std::io::{BufReader, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Next item of a stream without pulling in a futures crate.
pub(crate) async fn next_batch(
    stream: &mut SendableRecordBatchStream,
) -> Option<datafusion::error::Result<RecordBatch>> {
    std::future::poll_fn(|cx| stream.as_mut().poll_next(cx)).await
}

/// One file read by lunli: decompressed and transcoded as a stream, handed to the engine as one
/// partition. Many such files are read in parallel, one per core.
#[derive(Debug)]
pub(super) struct StreamedFile {
    pub(super) file: InputFile,
    pub(super) schema: SchemaRef,
    pub(super) diagnostics: Arc<Diagnostics>,
    pub(super) progress: Arc<Progress>,
}

impl PartitionStream for StreamedFile {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let mut builder = RecordBatchReceiverStreamBuilder::new(self.schema.clone(), 2);
        let tx = builder.tx();
        let file = self.file.clone();
        let schema = self.schema.clone();
        let diagnostics = self.diagnostics.clone();
        let progress = self.progress.clone();
        builder.spawn_blocking(move || {
            let result =
                stream_file(&file, &schema, &diagnostics, &progress, &mut |batch| tx.blocking_send(Ok(batch)).is_ok());
            match result {
                Ok(()) => Ok(()),
                Err(error) => {
                    let message = error.to_string();
                    diagnostics.fail(error);
                    Err(datafusion::error::DataFusionError::Execution(message))
                }
            }
        });
        builder.build()
    }
}

/// Reads a whole file through lunli's reader, handing each batch to `emit` (which returns false
/// when nobody wants more).
pub(super) fn stream_file(
    file: &InputFile,
    schema: &SchemaRef,
    diagnostics: &Arc<Diagnostics>,
    progress: &Arc<Progress>,
    emit: &mut dyn FnMut(RecordBatch) -> bool,
) -> Result<(), AuditError> {
    let text = TextReader::open(file, diagnostics.clone(), Some(progress.clone()))?;
    let state = text.state.clone();
    let mut rows: u64 = 0;
    let fail = |rows: u64, e: datafusion::arrow::error::ArrowError| -> AuditError {
        if let Some(error) = state.take_error() {
            return error;
        }
        AuditError::input(file.location().with_row(rows + 1), format!("unreadable row near here: {e}"))
    };
    match file.format {
        Format::Csv { delimiter } => {
            let reader = datafusion::arrow::csv::ReaderBuilder::new(schema.clone())
                .with_header(true)
                .with_delimiter(delimiter)
                .with_batch_size(crate::engine::batch_rows(schema.fields().len()))
                .build(BufReader::with_capacity(256 * 1024, text))?;
            for batch in reader {
                let batch = batch.map_err(|e| fail(rows, e))?;
                rows += batch.num_rows() as u64;
                progress.rows.fetch_add(batch.num_rows() as u64, Ordering::Relaxed);
                if !emit(batch) {
                    return Ok(());
                }
            }
        }
        Format::JsonLines => {
            let reader = datafusion::arrow::json::ReaderBuilder::new(schema.clone())
                .with_batch_size(crate::engine::batch_rows(schema.fields().len()))
                .build(BufReader::with_capacity(256 * 1024, text))?;
            for batch in reader {
                let batch = batch.map_err(|e| fail(rows, e))?;
                rows += batch.num_rows() as u64;
                progress.rows.fetch_add(batch.num_rows() as u64, Ordering::Relaxed);
                if !emit(batch) {
                    return Ok(());
                }
            }
        }
        Format::Parquet => return Err(AuditError::Engine("Parquet is never streamed by lunli's reader".into())),
    }
    if let Some(error) = state.take_error() {
        return Err(error);
    }
    Ok(())
}

/// Shared by the layers of a [`TextReader`]: the first failure, with where it happened.
#[derive(Debug, Default)]
pub(super) struct ReadState {
    pub(super) error: Mutex<Option<AuditError>>,
    /// Newlines decoded so far: the line a failure is on is one more.
    pub(super) lines: AtomicU64,
}

impl ReadState {
    pub(super) fn set_error(&self, error: AuditError) {
        if let Ok(mut slot) = self.error.lock()
            && slot.is_none()
        {
            *slot = Some(error);
        }
    }

    pub(super) fn take_error(&self) -> Option<AuditError> {
        self.error.lock().ok().and_then(|mut e| e.take())
    }
}

/// A file's text as UTF-8 bytes, read in buffers: decompressed, the BOM dropped, transcoded.
pub(super) struct TextReader {
    pub(super) inner: Box<dyn Read + Send>,
    pub(super) state: Arc<ReadState>,
}

impl TextReader {
    pub(super) fn open(
        file: &InputFile,
        diagnostics: Arc<Diagnostics>,
        progress: Option<Arc<Progress>>,
    ) -> Result<Self, AuditError> {
        let raw = File::open(&file.path).map_err(|e| AuditError::io(file.name(), e))?;
        let state = Arc::new(ReadState::default());
        let counted = Counted { inner: raw, progress };
        let mut inner: Box<dyn Read + Send> = Box::new(BufReader::with_capacity(256 * 1024, counted));
        if file.gzip {
            inner = Box::new(GzipLayer {
                inner: flate2::read::MultiGzDecoder::new(BufReader::with_capacity(256 * 1024, inner)),
                state: state.clone(),
                file: file.clone(),
            });
        }
        if file.bom {
            let mut bom = [0u8; 3];
            inner.read_exact(&mut bom).map_err(|e| AuditError::io(file.name(), e))?;
        }
        if file.encoding == Encoding::Gb18030 {
            inner = Box::new(Transcoder::new(inner, state.clone(), file.clone(), diagnostics));
        }
        Ok(Self { inner, state })
    }
}

impl Read for TextReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let newlines = buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
        self.state.lines.fetch_add(newlines, Ordering::Relaxed);
        Ok(n)
    }
}

/// Counts raw bytes read, for progress.
pub(super) struct Counted<R> {
    pub(super) inner: R,
    pub(super) progress: Option<Arc<Progress>>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(p) = &self.progress {
            p.bytes.fetch_add(n as u64, Ordering::Relaxed);
        }
        Ok(n)
    }
}

/// Gzip decompression that records a damaged or truncated stream with the line it broke on.
pub(super) struct GzipLayer<R> {
    pub(super) inner: flate2::read::MultiGzDecoder<R>,
    pub(super) state: Arc<ReadState>,
    pub(super) file: InputFile,
}

impl<R: std::io::BufRead> Read for GzipLayer<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf).inspect_err(|e| {
            let line = self.state.lines.load(Ordering::Relaxed) + 1;
            self.state.set_error(AuditError::input(
                self.file.location().with_line(line),
                format!("the gzip data is damaged or truncated here ({e}); rows before this line were read"),
            ));
        })
    }
}

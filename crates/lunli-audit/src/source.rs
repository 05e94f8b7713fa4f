//! Inputs: which files, in which format and encoding, and how the engine reads them.
//!
//! Plain UTF-8 CSV, Parquet and JSON Lines go to DataFusion's own readers, which split large
//! files into byte ranges or row groups and read them on every core. Files the engine cannot
//! read directly — gzip-compressed, GB18030/GBK-encoded (common for Chinese data) or starting
//! with a byte-order mark — are read by [`StreamedFile`]: one streaming reader per file that
//! decompresses and transcodes in fixed-size buffers (never the whole file) and hands Arrow
//! batches to the same plan. GBK is a subset of GB18030, so one decoder serves both.
//!
//! When the engine reports a problem, or an audit finds a value it cannot use, [`Dataset::locate`]
//! scans the files in order to name the file, row, line and column of the first culprit.
//!
//! By job: `format` (finding the files, telling their format, sampling and schemas), `encoding`
//! (detecting and transcoding GB18030/GBK), `stream` (the streaming reader) and `locate` (naming
//! the first culprit); this file ties them into a [`Dataset`] the audits plan over.

#[cfg(feature = "cluster")]
mod cluster;
mod encoding;
mod format;
mod locate;
mod memory;
pub(crate) mod stream;

#[cfg(feature = "cluster")]
pub(crate) use cluster::{ClusterFiles, cluster_error, cluster_files};
pub(crate) use encoding::text_reader;
pub use encoding::{Encoding, EncodingChoice};
pub use format::Format;
use format::{expand, inspect, same_schema};
pub(crate) use locate::{Check, clean_engine_message};
use locate::{locate_csv, text_columns};
use memory::ArrowSource;
pub use memory::{ArrowBatches, ArrowInput};
use stream::StreamedFile;
pub(crate) use stream::next_batch;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::streaming::StreamingTable;
use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder};
use datafusion::physical_plan::streaming::PartitionStream;
use datafusion::prelude::{CsvReadOptions, DataFrame, JsonReadOptions, ParquetReadOptions, SessionContext, ident};
use serde::Serialize;

use lunli_norms::Text;

use crate::Progress;
use crate::error::{AuditError, Location};

/// Bytes read from the start of a text file to detect its encoding and read its header.
const SAMPLE_BYTES: usize = 256 * 1024;

/// The longest header line of a CSV file lunli reads: 8 MiB, 800 bytes a name at 10,000
/// columns. A header is read whole however long the sample; one cut short would end in half a
/// column name (and could look like a duplicate of another).
pub const HEADER_LIMIT: usize = 8 * 1024 * 1024;

/// One input file as found on disk.
#[derive(Debug, Clone)]
pub struct InputFile {
    /// The canonical path (the engine's object store refuses `..`).
    pub path: PathBuf,
    /// The path as the person gave it, for messages and reports.
    pub display: String,
    pub format: Format,
    pub gzip: bool,
    pub encoding: Encoding,
    /// Starts with a UTF-8 byte-order mark.
    pub bom: bool,
    pub bytes: u64,
    /// A CSV whose sample has a line break inside a quoted value: the engine must then read it
    /// whole instead of splitting it at line breaks (one partition for this file).
    pub newlines_in_values: bool,
}

impl InputFile {
    pub fn name(&self) -> String {
        self.display.clone()
    }

    /// Read by lunli's streaming reader rather than the engine's own.
    fn streamed(&self) -> bool {
        self.gzip || self.encoding != Encoding::Utf8 || self.bom
    }

    fn location(&self) -> Location {
        Location::file(self.name())
    }
}

/// What a report says about one input.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputSummary {
    pub path: String,
    pub format: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compression: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<Encoding>,
    /// Bytes on disk (0 for data read where it lives).
    pub bytes: u64,
    /// For data audited where it lives: the query that ran there. Such an input is pinned by
    /// its query and engine, not by a digest of bytes lunli never saw.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
}

impl InputSummary {
    /// An input read by an engine where the data lives: `engine` (a connection without its
    /// password), the relation audited and the query that ran.
    pub fn engine(engine: &str, format: &'static str, relation: &str, query: &str) -> Self {
        InputSummary {
            path: format!("{engine} ({relation})"),
            format,
            compression: None,
            encoding: None,
            bytes: 0,
            query: Some(query.to_string()),
        }
    }
}

/// Counters and the first failure seen by streaming readers while a query runs.
#[derive(Debug, Default)]
pub(crate) struct Diagnostics {
    failure: Mutex<Option<AuditError>>,
    warnings: Mutex<Vec<Text>>,
}

impl Diagnostics {
    fn fail(&self, error: AuditError) {
        if let Ok(mut slot) = self.failure.lock()
            && slot.is_none()
        {
            *slot = Some(error);
        }
    }

    pub fn take_failure(&self) -> Option<AuditError> {
        self.failure.lock().ok().and_then(|mut f| f.take())
    }

    pub fn warn(&self, warning: Text) {
        if let Ok(mut w) = self.warnings.lock() {
            w.push(warning);
        }
    }

    pub fn warnings(&self) -> Vec<Text> {
        self.warnings.lock().map(|w| w.clone()).unwrap_or_default()
    }
}

/// The files of one audit, their common schema, and how to read them.
#[derive(Debug)]
pub struct Dataset {
    pub files: Vec<InputFile>,
    pub schema: SchemaRef,
    pub(crate) diagnostics: Arc<Diagnostics>,
    pub(crate) progress: Arc<Progress>,
    /// Bytes per row seen in the sample, to turn rows read into a byte estimate for progress.
    bytes_per_row: f64,
    /// CSV columns whose sampled values (in every file) are all integers.
    sampled_integers: BTreeSet<String>,
    /// CSV columns whose sampled values (in every file) are all numbers.
    sampled_numbers: BTreeSet<String>,
    /// Arrow data given in place of files (then `files` is empty).
    arrow: Option<ArrowSource>,
    /// Files that a cluster's executors read: nothing is read here but headers and footers.
    #[cfg(feature = "cluster")]
    remote: Option<Remote>,
}

/// Where a data set on a cluster is read, and the queries sent there (the audit's inputs).
#[cfg(feature = "cluster")]
#[derive(Debug)]
struct Remote {
    address: String,
    label: String,
    queries: Mutex<Vec<String>>,
}

impl Dataset {
    /// Finds the files (paths or glob patterns), detects formats and encodings, and checks that
    /// they share one schema. For CSV every column is read as text: audits parse what they need,
    /// so a stray value never aborts a read far from where it is.
    pub fn open(patterns: &[String], encoding: EncodingChoice, progress: Arc<Progress>) -> Result<Self, AuditError> {
        let paths = expand(patterns)?;
        let mut files = Vec::with_capacity(paths.len());
        let mut schema: Option<(SchemaRef, String)> = None;
        let mut bytes_per_row = 100.0;
        let mut sampled_integers: Option<BTreeSet<String>> = None;
        let mut sampled_numbers: Option<BTreeSet<String>> = None;
        for path in paths {
            let (file, file_schema, sample) = inspect(&path, encoding)?;
            match &schema {
                None => {
                    schema = Some((file_schema, file.name()));
                    bytes_per_row = sample.bytes_per_row;
                }
                Some((first, first_name)) => same_schema(first, first_name, &file_schema, &file)?,
            }
            sampled_integers = Some(match sampled_integers {
                None => sample.integers,
                Some(seen) => seen.intersection(&sample.integers).cloned().collect(),
            });
            sampled_numbers = Some(match sampled_numbers {
                None => sample.numbers,
                Some(seen) => seen.intersection(&sample.numbers).cloned().collect(),
            });
            files.push(file);
        }
        let formats: BTreeSet<&str> = files
            .iter()
            .map(|f| if matches!(f.format, Format::Csv { .. }) { "csv" } else { f.format.as_str() })
            .collect();
        if formats.len() > 1 {
            return Err(AuditError::request(format!(
                "the inputs mix formats ({}); audit files of one format at a time",
                formats.into_iter().collect::<Vec<_>>().join(", ")
            )));
        }
        let Some((schema, _)) = schema else {
            return Err(AuditError::request("no input files"));
        };
        let total: u64 = files.iter().map(|f| f.bytes).sum();
        progress.total_bytes.store(total, Ordering::Relaxed);
        Ok(Self {
            files,
            schema,
            diagnostics: Arc::default(),
            progress,
            bytes_per_row,
            sampled_integers: sampled_integers.unwrap_or_default(),
            sampled_numbers: sampled_numbers.unwrap_or_default(),
            arrow: None,
            #[cfg(feature = "cluster")]
            remote: None,
        })
    }

    /// A data set of Arrow batches (or a stream of them) instead of files: read where they
    /// are, without copying their column buffers.
    pub fn from_arrow(input: ArrowInput, progress: Arc<Progress>) -> Self {
        let diagnostics: Arc<Diagnostics> = Arc::default();
        let schema = input.schema.clone();
        let source = ArrowSource::new(input, diagnostics.clone());
        let bytes = source.bytes();
        let rows = source.rows();
        progress.total_bytes.store(bytes, Ordering::Relaxed);
        Self {
            files: Vec::new(),
            schema,
            diagnostics,
            progress,
            bytes_per_row: if rows == 0 { 100.0 } else { bytes as f64 / rows as f64 },
            sampled_integers: BTreeSet::new(),
            sampled_numbers: BTreeSet::new(),
            arrow: Some(source),
            #[cfg(feature = "cluster")]
            remote: None,
        }
    }

    /// The files of a cluster (as its executors see them) at the scheduler `address`: plans
    /// made over this data set run there, and record their queries for the report.
    #[cfg(feature = "cluster")]
    pub(crate) fn on_cluster(files: ClusterFiles, address: &str, progress: Arc<Progress>) -> Self {
        progress.total_bytes.store(files.files.iter().map(|f| f.bytes).sum(), Ordering::Relaxed);
        // CSV text as string views, as a local audit reads it (and reports it stored).
        let schema = match files.format {
            Format::Csv { .. } => Arc::new(Schema::new(
                files
                    .schema
                    .fields()
                    .iter()
                    .map(|f| Field::new(f.name(), DataType::Utf8View, true))
                    .collect::<Vec<_>>(),
            )),
            _ => files.schema,
        };
        Self {
            files: files.files,
            schema,
            diagnostics: Arc::default(),
            progress,
            bytes_per_row: 100.0,
            sampled_integers: BTreeSet::new(),
            sampled_numbers: BTreeSet::new(),
            arrow: None,
            remote: Some(Remote { address: address.to_string(), label: files.label, queries: Mutex::default() }),
        }
    }

    /// Keeps the plan of a query about to run when the data is on a cluster: the report's
    /// inputs name the queries that ran there. Nothing to keep for data read here.
    pub(crate) fn record_query(&self, _frame: &DataFrame) {
        #[cfg(feature = "cluster")]
        if let Some(remote) = &self.remote
            && let Ok(mut queries) = remote.queries.lock()
        {
            queries.push(_frame.logical_plan().display_indent().to_string());
        }
    }

    /// Whether the data is read by a cluster's executors rather than here.
    pub(crate) fn on_a_cluster(&self) -> bool {
        #[cfg(feature = "cluster")]
        if self.remote.is_some() {
            return true;
        }
        false
    }

    /// The inputs' names, for messages: the files, or the name of the Arrow data.
    pub fn name(&self) -> String {
        #[cfg(feature = "cluster")]
        if let Some(remote) = &self.remote {
            return format!("{} on {}", remote.label, remote.address);
        }
        match &self.arrow {
            Some(source) => source.name.clone(),
            None => self.files.iter().map(InputFile::name).collect::<Vec<_>>().join(", "),
        }
    }

    /// The files with their delimiters when every one is plain UTF-8 CSV that the engine reads
    /// itself (no compression, byte-order mark or line breaks inside values); otherwise `None`.
    pub(crate) fn plain_csv_files(&self) -> Option<Vec<(&InputFile, u8)>> {
        if self.arrow.is_some() || self.files.is_empty() || self.on_a_cluster() {
            return None;
        }
        self.files
            .iter()
            .map(|f| match f.format {
                Format::Csv { delimiter } if !f.streamed() && !f.newlines_in_values => Some((f, delimiter)),
                _ => None,
            })
            .collect()
    }

    /// Reads these CSV columns as 64-bit integers (or, failing that, 64-bit floats) when every
    /// sampled value of theirs is one — parsing and grouping numbers is much cheaper than text.
    /// A later value that does not parse stops the read with an error that [`Dataset::locate`]
    /// pins to its row. Returns the columns so typed, with their type.
    pub(crate) fn read_as_numbers(&mut self, columns: &[&str]) -> Vec<(String, DataType)> {
        let typed: Vec<(String, DataType)> = columns
            .iter()
            .filter_map(|c| {
                if self.sampled_integers.contains(*c) {
                    Some((c.to_string(), DataType::Int64))
                } else if self.sampled_numbers.contains(*c) {
                    Some((c.to_string(), DataType::Float64))
                } else {
                    None
                }
            })
            .collect();
        if typed.is_empty() {
            return typed;
        }
        let fields: Vec<Field> = self
            .schema
            .fields()
            .iter()
            .map(|f| match typed.iter().find(|(name, _)| name == f.name()) {
                Some((_, data_type)) => Field::new(f.name(), data_type.clone(), true),
                None => f.as_ref().clone(),
            })
            .collect();
        self.schema = Arc::new(Schema::new(fields));
        typed
    }

    pub fn summaries(&self) -> Vec<InputSummary> {
        #[cfg(feature = "cluster")]
        if let Some(remote) = &self.remote {
            let queries = remote.queries.lock().map(|q| q.join("\n\n")).unwrap_or_default();
            return vec![InputSummary::engine(&remote.address, "ballista", &remote.label, &queries)];
        }
        let mut summaries: Vec<InputSummary> = self
            .files
            .iter()
            .map(|f| InputSummary {
                path: f.name(),
                format: f.format.as_str(),
                compression: f.gzip.then_some("gzip"),
                encoding: (f.format != Format::Parquet).then_some(f.encoding),
                bytes: f.bytes,
                query: None,
            })
            .collect();
        if let Some(source) = &self.arrow {
            summaries.push(InputSummary {
                path: source.name.clone(),
                format: "arrow",
                compression: None,
                encoding: None,
                bytes: source.bytes(),
                query: None,
            });
        }
        summaries
    }

    /// Fails unless every file has each of `columns`, naming the file and what it has instead.
    pub fn require_columns<'a>(&self, columns: impl IntoIterator<Item = &'a str>) -> Result<(), AuditError> {
        for column in columns {
            if self.schema.field_with_name(column).is_err() {
                let have: Vec<&str> = self.schema.fields().iter().map(|f| f.name().as_str()).collect();
                let file = self.files.first().map(InputFile::name).unwrap_or_else(|| self.name());
                return Err(AuditError::input(
                    Location::file(file).with_column(column),
                    format!("no such column; the columns are: {}", have.join(", ")),
                ));
            }
        }
        Ok(())
    }

    /// Converts rows read by the engine into estimated bytes for the progress display.
    pub(crate) fn estimate_bytes(&self, rows: u64) -> u64 {
        ((rows as f64) * self.bytes_per_row) as u64
    }

    /// A data frame over all the files: the engine's partitioned readers where they can read
    /// the files, lunli's streaming readers where they cannot, unioned.
    pub(crate) async fn frame(&self, ctx: &SessionContext) -> Result<DataFrame, AuditError> {
        self.read(ctx, None).await
    }

    /// A data frame over the columns at `columns` (indexes into [`Dataset::schema`], in schema
    /// order whatever their order here) and no others: each read is a scan of just these
    /// columns from the start. The engine finds every column a plan names by a linear search of
    /// its input's columns, so a plan over a few columns of a wide table must never see the
    /// rest; a projection over the full scan would cost the table's width per column named.
    pub(crate) async fn columns_frame(&self, ctx: &SessionContext, columns: &[usize]) -> Result<DataFrame, AuditError> {
        let mut projection = columns.to_vec();
        projection.sort_unstable();
        projection.dedup();
        self.read(ctx, Some(&projection)).await
    }

    async fn read(&self, ctx: &SessionContext, projection: Option<&[usize]>) -> Result<DataFrame, AuditError> {
        let mut frames = Vec::new();
        let native: Vec<&InputFile> = self.files.iter().filter(|f| !f.streamed()).collect();
        // Files with line breaks inside quoted values are read whole; the others in byte ranges.
        let mut kinds: Vec<(u8, bool)> = native
            .iter()
            .filter_map(|f| match f.format {
                Format::Csv { delimiter } => Some((delimiter, f.newlines_in_values)),
                _ => None,
            })
            .collect();
        kinds.sort_unstable();
        kinds.dedup();
        for (delimiter, newlines) in kinds {
            let paths: Vec<String> = native
                .iter()
                .filter(|f| f.format == Format::Csv { delimiter } && f.newlines_in_values == newlines)
                .map(|f| f.path.display().to_string())
                .collect();
            let options = CsvReadOptions::new()
                .has_header(true)
                .delimiter(delimiter)
                .newlines_in_values(newlines)
                .schema(&self.schema)
                .file_extension("");
            frames.push(ctx.read_csv(paths, options).await.map_err(|e| self.engine_error(e))?);
        }
        let paths = |format: Format| -> Vec<String> {
            native.iter().filter(|f| f.format == format).map(|f| f.path.display().to_string()).collect()
        };
        let parquet = paths(Format::Parquet);
        if !parquet.is_empty() {
            let options = ParquetReadOptions { file_extension: "", schema: Some(&self.schema), ..Default::default() };
            frames.push(ctx.read_parquet(parquet, options).await.map_err(|e| self.engine_error(e))?);
        }
        let json = paths(Format::JsonLines);
        if !json.is_empty() {
            let options = JsonReadOptions { schema: Some(&self.schema), file_extension: "", ..Default::default() };
            frames.push(ctx.read_json(json, options).await.map_err(|e| self.engine_error(e))?);
        }
        let streamed: Vec<Arc<dyn PartitionStream>> = self
            .files
            .iter()
            .filter(|f| f.streamed())
            .map(|f| {
                Arc::new(StreamedFile {
                    file: f.clone(),
                    schema: self.schema.clone(),
                    diagnostics: self.diagnostics.clone(),
                    progress: self.progress.clone(),
                }) as Arc<dyn PartitionStream>
            })
            .collect();
        if !streamed.is_empty() {
            let table = StreamingTable::try_new(self.schema.clone(), streamed)?;
            frames.push(ctx.read_table(Arc::new(table))?);
        }
        if let Some(source) = &self.arrow {
            let config = ctx.state().config().clone();
            frames.push(source.frame(ctx, &self.schema, config.target_partitions(), config.batch_size())?);
        }
        let mut frames = frames.into_iter().map(|frame| match projection {
            Some(columns) => scan_only(frame, columns),
            None => Ok(frame),
        });
        let Some(mut frame) = frames.next().transpose()? else {
            return Err(AuditError::request("no input files"));
        };
        for other in frames {
            frame = frame.union(other?)?;
        }
        Ok(frame)
    }

    /// An engine error while reading: the streaming readers' own diagnosis when they have one.
    pub(crate) fn engine_error(&self, e: datafusion::error::DataFusionError) -> AuditError {
        #[cfg(feature = "cluster")]
        if let Some(remote) = &self.remote {
            return cluster_error(&remote.address, &remote.label, &e);
        }
        if let Some(failure) = self.diagnostics.take_failure() {
            return failure;
        }
        AuditError::input(Location::file(self.name()), clean_engine_message(&e.to_string()))
    }

    /// Scans the files in order for the first row where `check` objects to the values of
    /// `columns` (given as text; `None` for a missing value), or where a row cannot be read at
    /// all. Slow and sequential: for diagnosing, never for computing.
    pub(crate) async fn locate(&self, columns: &[&str], check: &Check<'_>) -> Result<Option<AuditError>, AuditError> {
        if self.on_a_cluster() {
            return Ok(None); // rows are read by the executors only
        }
        if let Some(source) = &self.arrow {
            return source.locate(&self.schema, columns, check);
        }
        for file in &self.files {
            let found = match file.format {
                Format::Csv { delimiter } => locate_csv(file, delimiter, columns, check)?,
                Format::Parquet | Format::JsonLines => self.locate_engine(file, columns, check).await?,
            };
            if found.is_some() {
                return Ok(found);
            }
        }
        Ok(None)
    }

    async fn locate_engine(
        &self,
        file: &InputFile,
        columns: &[&str],
        check: &Check<'_>,
    ) -> Result<Option<AuditError>, AuditError> {
        let ctx = crate::engine::bare_session(1, None, self.schema.fields().len())?;
        let single = Dataset {
            files: vec![file.clone()],
            schema: self.schema.clone(),
            diagnostics: Arc::default(),
            progress: Arc::default(),
            bytes_per_row: self.bytes_per_row,
            sampled_integers: BTreeSet::new(),
            sampled_numbers: BTreeSet::new(),
            arrow: None,
            #[cfg(feature = "cluster")]
            remote: None,
        };
        let frame = single.frame(&ctx).await?;
        let frame = frame.select(columns.iter().map(|c| ident(*c)).collect::<Vec<_>>())?;
        let mut stream = match frame.execute_stream().await {
            Ok(s) => s,
            Err(e) => return Ok(Some(single.engine_error(e))),
        };
        let mut row: u64 = 0;
        while let Some(batch) = next_batch(&mut stream).await {
            let batch = match batch {
                Ok(b) => b,
                Err(e) => {
                    let reason = clean_engine_message(&e.to_string());
                    return Ok(Some(AuditError::input(file.location().with_row(row + 1), reason)));
                }
            };
            let texts = text_columns(&batch)?;
            for i in 0..batch.num_rows() {
                row += 1;
                let values: Vec<Option<&str>> = texts.iter().map(|t| t.get(i).and_then(|v| v.as_deref())).collect();
                if let Some((c, reason)) = check(&values) {
                    let mut location = file.location().with_row(row).with_column(columns[c]);
                    if file.format == Format::JsonLines {
                        location = location.with_line(row);
                    }
                    return Ok(Some(AuditError::input(location, reason)));
                }
            }
        }
        Ok(None)
    }
}

/// The scan of a frame that reads a table (as the engine's `read_*` make them) narrowed to the
/// columns at `projection`.
fn scan_only(frame: DataFrame, projection: &[usize]) -> Result<DataFrame, AuditError> {
    let (state, plan) = frame.into_parts();
    let LogicalPlan::TableScan(scan) = plan else {
        return Err(AuditError::Engine(format!("a file read is not a table scan but {}", plan.display())));
    };
    let plan = LogicalPlanBuilder::scan(scan.table_name, scan.source, Some(projection.to_vec()))?.build()?;
    Ok(DataFrame::new(state, plan))
}

// ---------------------------------------------------------------------------------------------
// The streaming reader: file → gzip → BOM → transcoding → Arrow batches.

// ---------------------------------------------------------------------------------------------
// Locating a problem in CSV text.

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn formats_come_from_names() {
        assert_eq!(Format::of(Path::new("a.csv")), Some((Format::Csv { delimiter: b',' }, false)));
        assert_eq!(Format::of(Path::new("a.CSV.gz")), Some((Format::Csv { delimiter: b',' }, true)));
        assert_eq!(Format::of(Path::new("a.tsv")), Some((Format::Csv { delimiter: b'\t' }, false)));
        assert_eq!(Format::of(Path::new("x/a.parquet")), Some((Format::Parquet, false)));
        assert_eq!(Format::of(Path::new("a.jsonl")), Some((Format::JsonLines, false)));
        assert_eq!(Format::of(Path::new("a.xlsx")), None);
    }

    #[test]
    fn encodings_by_name() {
        assert_eq!("GBK".parse::<EncodingChoice>(), Ok(EncodingChoice::Fixed(Encoding::Gb18030)));
        assert_eq!("utf-8".parse::<EncodingChoice>(), Ok(EncodingChoice::Fixed(Encoding::Utf8)));
        assert!("latin1".parse::<EncodingChoice>().is_err());
    }

    #[test]
    fn engine_messages_lose_their_layers() {
        assert_eq!(clean_engine_message("External error: Arrow error: Parser error: bad"), "Parser error: bad");
    }
}

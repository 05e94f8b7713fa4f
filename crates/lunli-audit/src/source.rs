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

use std::collections::BTreeSet;
use std::fmt;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use datafusion::arrow::array::{Array, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::streaming::StreamingTable;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder};
use datafusion::physical_plan::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchReceiverStreamBuilder;
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

/// A file format lunli reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Delimited text with a header line.
    Csv {
        delimiter: u8,
    },
    Parquet,
    /// One JSON object per line.
    JsonLines,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Csv { delimiter: b'\t' } => "tsv",
            Self::Csv { .. } => "csv",
            Self::Parquet => "parquet",
            Self::JsonLines => "jsonl",
        }
    }

    /// The format of a file by its name; `.gz` is looked through.
    fn of(path: &Path) -> Option<(Format, bool)> {
        let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
        let (name, gzip) = match name.strip_suffix(".gz") {
            Some(inner) => (inner.to_string(), true),
            None => (name, false),
        };
        let extension = name.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
        let format = match extension {
            "csv" | "txt" => Format::Csv { delimiter: b',' },
            "tsv" | "tab" => Format::Csv { delimiter: b'\t' },
            "parquet" | "pq" => Format::Parquet,
            "jsonl" | "ndjson" | "json" => Format::JsonLines,
            _ => return None,
        };
        Some((format, gzip))
    }
}

/// A text encoding lunli reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Encoding {
    #[serde(rename = "utf-8")]
    Utf8,
    /// GB18030, which includes GBK and GB2312.
    #[serde(rename = "gb18030")]
    Gb18030,
}

impl Encoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Utf8 => "utf-8",
            Self::Gb18030 => "gb18030",
        }
    }
}

/// How to choose a text file's encoding: detect it, or as the person says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EncodingChoice {
    #[default]
    Auto,
    Fixed(Encoding),
}

impl FromStr for EncodingChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "auto" => Ok(Self::Auto),
            "utf-8" | "utf8" => Ok(Self::Fixed(Encoding::Utf8)),
            "gb18030" | "gbk" | "gb2312" | "cp936" => Ok(Self::Fixed(Encoding::Gb18030)),
            other => Err(format!("`{other}` is not an encoding lunli reads; use auto, utf-8, gbk or gb18030")),
        }
    }
}

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
    pub bytes: u64,
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
        })
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
        self.files
            .iter()
            .map(|f| InputSummary {
                path: f.name(),
                format: f.format.as_str(),
                compression: f.gzip.then_some("gzip"),
                encoding: (f.format != Format::Parquet).then_some(f.encoding),
                bytes: f.bytes,
            })
            .collect()
    }

    /// Fails unless every file has each of `columns`, naming the file and what it has instead.
    pub fn require_columns<'a>(&self, columns: impl IntoIterator<Item = &'a str>) -> Result<(), AuditError> {
        for column in columns {
            if self.schema.field_with_name(column).is_err() {
                let have: Vec<&str> = self.schema.fields().iter().map(|f| f.name().as_str()).collect();
                let file = self.files.first().map(InputFile::name).unwrap_or_default();
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
        if let Some(failure) = self.diagnostics.take_failure() {
            return failure;
        }
        let names: Vec<String> = self.files.iter().map(InputFile::name).collect();
        AuditError::input(Location::file(names.join(", ")), clean_engine_message(&e.to_string()))
    }

    /// Scans the files in order for the first row where `check` objects to the values of
    /// `columns` (given as text; `None` for a missing value), or where a row cannot be read at
    /// all. Slow and sequential: for diagnosing, never for computing.
    pub(crate) async fn locate(&self, columns: &[&str], check: &Check<'_>) -> Result<Option<AuditError>, AuditError> {
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

/// Objects to a row: the index of the offending column and why.
pub(crate) type Check<'a> = dyn Fn(&[Option<&str>]) -> Option<(usize, String)> + Sync + 'a;

/// Next item of a stream without pulling in a futures crate.
pub(crate) async fn next_batch(
    stream: &mut SendableRecordBatchStream,
) -> Option<datafusion::error::Result<RecordBatch>> {
    std::future::poll_fn(|cx| stream.as_mut().poll_next(cx)).await
}

/// Every column of a batch as optional strings.
fn text_columns(batch: &RecordBatch) -> Result<Vec<Vec<Option<String>>>, AuditError> {
    batch
        .columns()
        .iter()
        .map(|column| {
            let text = cast(column, &DataType::Utf8)?;
            let text = text
                .as_any()
                .downcast_ref::<datafusion::arrow::array::StringArray>()
                .ok_or_else(|| AuditError::Engine("a cast to text did not give text".into()))?;
            Ok((0..text.len()).map(|i| (!text.is_null(i)).then(|| text.value(i).to_string())).collect())
        })
        .collect()
}

/// Engine messages carry layers of prefixes ("External error: Arrow error: …"); people need the
/// last one.
pub(crate) fn clean_engine_message(message: &str) -> String {
    let mut text = message.trim();
    for prefix in [
        "External error: ",
        "Arrow error: ",
        "Execution error: ",
        "Parquet error: ",
        "Object Store error: ",
        "Error during planning: ",
    ] {
        while let Some(rest) = text.strip_prefix(prefix) {
            text = rest.trim();
        }
    }
    text.to_string()
}

/// Paths and glob patterns to files, in the order given (each pattern's matches sorted), with
/// duplicates removed.
fn expand(patterns: &[String]) -> Result<Vec<PathBuf>, AuditError> {
    let mut seen = BTreeSet::new();
    let mut paths = Vec::new();
    for pattern in patterns {
        let is_glob = pattern.contains(['*', '?', '[']);
        let mut matched = Vec::new();
        if is_glob {
            let entries = glob::glob(pattern)
                .map_err(|e| AuditError::request(format!("`{pattern}` is not a valid glob pattern: {e}")))?;
            for entry in entries {
                let path = entry.map_err(|e| {
                    let file = e.path().display().to_string();
                    AuditError::io(file, e.into())
                })?;
                if path.is_file() {
                    matched.push(path);
                }
            }
            matched.sort();
            if matched.is_empty() {
                return Err(AuditError::request(format!("no file matches `{pattern}`")));
            }
        } else {
            let path = PathBuf::from(pattern);
            if !path.exists() {
                return Err(AuditError::input(Location::file(pattern), "no such file"));
            }
            if path.is_dir() {
                return Err(AuditError::input(
                    Location::file(pattern),
                    "is a directory; give files or a glob such as dir/*.csv",
                ));
            }
            matched.push(path);
        }
        for path in matched {
            if seen.insert(path.clone()) {
                paths.push(path);
            }
        }
    }
    if paths.is_empty() {
        return Err(AuditError::request("no input files"));
    }
    Ok(paths)
}

/// What the first part of a file says about the rest.
struct Sample {
    bytes_per_row: f64,
    /// CSV columns whose sampled values are all integers.
    integers: BTreeSet<String>,
    /// CSV columns whose sampled values are all numbers.
    numbers: BTreeSet<String>,
}

/// Looks at one file: format, compression, encoding, schema, and what its sample shows.
fn inspect(path: &Path, choice: EncodingChoice) -> Result<(InputFile, SchemaRef, Sample), AuditError> {
    let name = path.display().to_string();
    let Some((format, gzip)) = Format::of(path) else {
        return Err(AuditError::input(
            Location::file(&name),
            "cannot tell the format from the name; use .csv, .tsv, .parquet or .jsonl (optionally .gz for text)",
        ));
    };
    let bytes = std::fs::metadata(path).map_err(|e| AuditError::io(&name, e))?.len();
    if bytes == 0 {
        return Err(AuditError::input(Location::file(&name), "the file is empty"));
    }
    let canonical = std::fs::canonicalize(path).map_err(|e| AuditError::io(&name, e))?;
    let mut file = InputFile {
        path: canonical,
        display: name,
        format,
        gzip,
        encoding: Encoding::Utf8,
        bom: false,
        bytes,
        newlines_in_values: false,
    };
    if format == Format::Parquet {
        if gzip {
            return Err(AuditError::input(
                file.location(),
                "a gzip-compressed Parquet file; Parquet compresses inside, decompress it first",
            ));
        }
        let schema = parquet_schema(&file)?;
        let rows = parquet_rows(&file)?.max(1);
        return Ok((
            file,
            schema,
            Sample { bytes_per_row: bytes as f64 / rows as f64, integers: BTreeSet::new(), numbers: BTreeSet::new() },
        ));
    }

    let (sample, complete) = read_sample(&file)?;
    if sample.is_empty() {
        return Err(AuditError::input(file.location(), "the file is empty"));
    }
    let (sample, bom) = match sample.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (rest.to_vec(), true),
        None => (sample, false),
    };
    file.bom = bom;
    // Judge only whole lines, so a multi-byte character cut by the sample's end is no error.
    let whole = match sample.iter().rposition(|&b| b == b'\n') {
        Some(end) if !complete => &sample[..=end],
        _ => &sample[..],
    };
    file.encoding = match choice {
        EncodingChoice::Fixed(encoding) => encoding,
        EncodingChoice::Auto => detect_encoding(&file, whole)?,
    };
    let text = decode(&file, whole)?;
    let lines = text.lines().count().max(1);
    let bytes_per_row = whole.len() as f64 / lines as f64;
    let (schema, (integers, numbers)) = match format {
        Format::Csv { delimiter } => {
            let schema = csv_schema(&file, delimiter, &text)?;
            file.newlines_in_values = quoted_line_breaks(delimiter, &text);
            let numeric = numeric_columns(&schema, delimiter, &text);
            (schema, numeric)
        }
        _ => (json_schema(&file, &text)?, Default::default()),
    };
    Ok((file, schema, Sample { bytes_per_row, integers, numbers }))
}

/// Whether a value of the sampled CSV text holds a line break (inside quotes, as RFC 4180 allows).
fn quoted_line_breaks(delimiter: u8, text: &str) -> bool {
    let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).has_headers(true).from_reader(text.as_bytes());
    reader.records().map_while(Result::ok).any(|record| record.iter().any(|v| v.contains(['\n', '\r'])))
}

/// Columns of sampled CSV text whose present values all read exactly (no surrounding spaces) as
/// 64-bit integers, and those whose values all read as finite numbers.
fn numeric_columns(schema: &SchemaRef, delimiter: u8, text: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).has_headers(true).from_reader(text.as_bytes());
    let width = schema.fields().len();
    let (mut integer, mut number, mut seen) = (vec![true; width], vec![true; width], vec![false; width]);
    for record in reader.records() {
        let Ok(record) = record else { break };
        for (i, value) in record.iter().enumerate().take(width) {
            if value.is_empty() {
                continue;
            }
            seen[i] = true;
            if integer[i] && value.parse::<i64>().is_err() {
                integer[i] = false;
            }
            if number[i] && !value.parse::<f64>().is_ok_and(f64::is_finite) {
                number[i] = false;
            }
        }
    }
    let names = |keep: &[bool]| -> BTreeSet<String> {
        schema
            .fields()
            .iter()
            .enumerate()
            .filter(|(i, _)| keep[*i] && seen[*i])
            .map(|(_, f)| f.name().clone())
            .collect()
    };
    (names(&integer), names(&number))
}

/// A plain-text file (text, Markdown) as UTF-8 for the per-line scanners: as it is when its
/// start is UTF-8, transcoded from GB18030/GBK (streaming, refusing malformed bytes) when its
/// start reads as that. A start that is neither is passed through as it is, so the scanner
/// names the first bad byte (or a binary file) itself. Never reads the whole file.
pub(crate) fn text_reader(path: &str) -> Result<Box<dyn Read + Send>, AuditError> {
    let mut file = File::open(path).map_err(|e| AuditError::io(path, e))?;
    let mut sample = Vec::with_capacity(SAMPLE_BYTES);
    (&mut file).take(SAMPLE_BYTES as u64).read_to_end(&mut sample).map_err(|e| AuditError::io(path, e))?;
    // A sample may end inside a character: judge it without its last few bytes.
    let judged = &sample[..sample.len().saturating_sub(if sample.len() == SAMPLE_BYTES { 4 } else { 0 })];
    let input = InputFile {
        path: PathBuf::from(path),
        display: path.to_string(),
        format: Format::Csv { delimiter: b',' },
        gzip: false,
        encoding: Encoding::Gb18030,
        bom: false,
        bytes: 0,
        newlines_in_values: false,
    };
    let whole: Box<dyn Read + Send> = Box::new(std::io::Cursor::new(sample.clone()).chain(file));
    let gb18030 = std::str::from_utf8(judged).is_err() && gb18030_valid_up_to(judged) == judged.len();
    Ok(if gb18030 {
        Box::new(Transcoder::new(whole, Arc::new(ReadState::default()), input, Arc::new(Diagnostics::default())))
    } else {
        whole
    })
}

/// UTF-8 if the sample is UTF-8; otherwise GB18030 if it decodes cleanly as that; otherwise an
/// error at the first line that is neither.
fn detect_encoding(file: &InputFile, sample: &[u8]) -> Result<Encoding, AuditError> {
    let utf8_valid = match std::str::from_utf8(sample) {
        Ok(_) => return Ok(Encoding::Utf8),
        Err(e) => e.valid_up_to(),
    };
    let gb_valid = gb18030_valid_up_to(sample);
    if gb_valid == sample.len() {
        return Ok(Encoding::Gb18030);
    }
    // Neither reads the whole sample: the file mixes encodings (or is not text). Name the line
    // where the encoding that reads further breaks, and what that line looks like.
    let (read_as, other, valid) =
        if utf8_valid >= gb_valid { ("UTF-8", "GB18030/GBK", utf8_valid) } else { ("GB18030/GBK", "UTF-8", gb_valid) };
    let line = line_of(sample, valid);
    let start = sample[..valid].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let end = sample[valid..].iter().position(|&b| b == b'\n').map_or(sample.len(), |i| valid + i);
    let bad_line = &sample[start..end];
    let looks_other = if read_as == "UTF-8" {
        gb18030_valid_up_to(bad_line) == bad_line.len()
    } else {
        std::str::from_utf8(bad_line).is_ok()
    };
    let reason = if looks_other && line > 1 {
        format!(
            "the lines before read as {read_as} but this one is {other}: the file mixes encodings; convert it to one (UTF-8)"
        )
    } else {
        "neither UTF-8 nor GB18030/GBK text; save the file as UTF-8 or pass --encoding".to_string()
    };
    Err(AuditError::input(file.location().with_line(line), reason))
}

/// How many leading bytes decode as GB18030 without error.
fn gb18030_valid_up_to(bytes: &[u8]) -> usize {
    let mut decoder = encoding_rs::GB18030.new_decoder_without_bom_handling();
    let mut out = vec![0u8; bytes.len() * 3 + 16];
    let (result, read, _) = decoder.decode_to_utf8_without_replacement(bytes, &mut out, true);
    match result {
        encoding_rs::DecoderResult::Malformed(bad, _) => read.saturating_sub(usize::from(bad)),
        _ => read,
    }
}

/// 1-based line of a byte offset.
fn line_of(bytes: &[u8], offset: usize) -> u64 {
    bytes[..offset.min(bytes.len())].iter().filter(|&&b| b == b'\n').count() as u64 + 1
}

fn decode(file: &InputFile, bytes: &[u8]) -> Result<String, AuditError> {
    match file.encoding {
        Encoding::Utf8 => match std::str::from_utf8(bytes) {
            Ok(text) => Ok(text.to_string()),
            Err(e) => Err(AuditError::input(
                file.location().with_line(line_of(bytes, e.valid_up_to())),
                "not valid UTF-8; pass --encoding gbk if the file is GBK/GB18030",
            )),
        },
        Encoding::Gb18030 => match encoding_rs::GB18030.decode_without_bom_handling_and_without_replacement(bytes) {
            Some(text) => Ok(text.into_owned()),
            None => {
                let mut decoder = encoding_rs::GB18030.new_decoder_without_bom_handling();
                let mut out = vec![0u8; bytes.len() * 3 + 16];
                let (_, read, _) = decoder.decode_to_utf8_without_replacement(bytes, &mut out, true);
                Err(AuditError::input(file.location().with_line(line_of(bytes, read)), "not valid GB18030/GBK text"))
            }
        },
    }
}

/// The first bytes of the file's text, decompressed: [`SAMPLE_BYTES`], or when the first line is
/// longer, that line and [`SAMPLE_BYTES`] after it. Also whether this is the whole file. A first
/// line longer than [`HEADER_LIMIT`] is refused.
fn read_sample(file: &InputFile) -> Result<(Vec<u8>, bool), AuditError> {
    let raw = File::open(&file.path).map_err(|e| AuditError::io(file.name(), e))?;
    let mut reader: Box<dyn Read> =
        if file.gzip { Box::new(flate2::read::MultiGzDecoder::new(BufReader::new(raw))) } else { Box::new(raw) };
    let mut sample = Vec::with_capacity(SAMPLE_BYTES);
    let mut chunk = vec![0u8; 64 * 1024];
    let mut first_line_end: Option<usize> = None;
    loop {
        let wanted = match first_line_end {
            Some(end) if end >= SAMPLE_BYTES => end + 1 + SAMPLE_BYTES,
            Some(_) => SAMPLE_BYTES,
            None => HEADER_LIMIT.max(SAMPLE_BYTES),
        };
        if sample.len() >= wanted {
            sample.truncate(wanted);
            break;
        }
        let n = match reader.read(&mut chunk) {
            Ok(0) => return Ok((sample, true)),
            Ok(n) => n,
            Err(e) if file.gzip => {
                return Err(AuditError::input(
                    file.location().with_line(line_of(&sample, sample.len())),
                    format!("the gzip data is damaged or truncated: {e}"),
                ));
            }
            Err(e) => return Err(AuditError::io(file.name(), e)),
        };
        if first_line_end.is_none()
            && let Some(at) = chunk[..n].iter().position(|&b| b == b'\n')
        {
            first_line_end = Some(sample.len() + at);
        }
        sample.extend_from_slice(&chunk[..n]);
    }
    if first_line_end.is_none() && matches!(file.format, Format::Csv { .. }) {
        return Err(AuditError::input(
            file.location().with_line(1),
            format!(
                "the header line is longer than {} MiB, the longest lunli reads; shorten the column names or split the table",
                HEADER_LIMIT >> 20
            ),
        ));
    }
    Ok((sample, false))
}

/// A CSV file's header as a schema of text columns.
fn csv_schema(file: &InputFile, delimiter: u8, text: &str) -> Result<SchemaRef, AuditError> {
    let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).has_headers(false).from_reader(text.as_bytes());
    let header = match reader.records().next() {
        Some(Ok(record)) => record,
        Some(Err(e)) => return Err(AuditError::input(file.location().with_line(1), format!("unreadable header: {e}"))),
        None => return Err(AuditError::input(file.location(), "the file is empty")),
    };
    let mut seen = BTreeSet::new();
    let mut fields = Vec::with_capacity(header.len());
    for (i, name) in header.iter().enumerate() {
        let name = name.trim();
        if name.is_empty() {
            return Err(AuditError::input(file.location().with_line(1), format!("column {} has no name", i + 1)));
        }
        if !seen.insert(name.to_string()) {
            return Err(AuditError::input(file.location().with_line(1), format!("column `{name}` appears twice")));
        }
        // String views: grouping and comparing short values without copying them.
        fields.push(Field::new(name, DataType::Utf8View, true));
    }
    Ok(Arc::new(Schema::new(fields)))
}

fn json_schema(file: &InputFile, text: &str) -> Result<SchemaRef, AuditError> {
    let lines = text.lines().filter(|l| !l.trim().is_empty()).count();
    let (schema, _) = datafusion::arrow::json::reader::infer_json_schema(text.as_bytes(), Some(lines.clamp(1, 10_000)))
        .map_err(|e| AuditError::input(file.location(), format!("not JSON Lines: {e}")))?;
    if schema.fields().is_empty() {
        return Err(AuditError::input(file.location(), "no fields in the first lines"));
    }
    Ok(Arc::new(schema))
}

fn parquet_reader(
    file: &InputFile,
) -> Result<datafusion::parquet::file::serialized_reader::SerializedFileReader<File>, AuditError> {
    let raw = File::open(&file.path).map_err(|e| AuditError::io(file.name(), e))?;
    datafusion::parquet::file::serialized_reader::SerializedFileReader::new(raw).map_err(|e| {
        AuditError::input(file.location(), format!("not a readable Parquet file (truncated or damaged?): {e}"))
    })
}

fn parquet_schema(file: &InputFile) -> Result<SchemaRef, AuditError> {
    use datafusion::parquet::file::reader::FileReader;
    let reader = parquet_reader(file)?;
    let meta = reader.metadata().file_metadata();
    let schema = datafusion::parquet::arrow::parquet_to_arrow_schema(meta.schema_descr(), meta.key_value_metadata())
        .map_err(|e| AuditError::input(file.location(), format!("unreadable Parquet schema: {e}")))?;
    // Keep only the fields: metadata differs between writers and is no reason to refuse a union.
    Ok(Arc::new(Schema::new(schema.fields().clone())))
}

fn parquet_rows(file: &InputFile) -> Result<u64, AuditError> {
    use datafusion::parquet::file::reader::FileReader;
    let reader = parquet_reader(file)?;
    Ok(u64::try_from(reader.metadata().file_metadata().num_rows()).unwrap_or(0))
}

fn same_schema(first: &SchemaRef, first_name: &str, other: &SchemaRef, file: &InputFile) -> Result<(), AuditError> {
    let names = |s: &SchemaRef| s.fields().iter().map(|f| f.name().clone()).collect::<Vec<_>>();
    let (a, b) = (names(first), names(other));
    if a != b {
        let missing: Vec<&String> = a.iter().filter(|n| !b.contains(n)).collect();
        let extra: Vec<&String> = b.iter().filter(|n| !a.contains(n)).collect();
        let detail = if missing.is_empty() && extra.is_empty() {
            "the same columns in another order".to_string()
        } else {
            format!(
                "missing {}; extra {}",
                if missing.is_empty() { "none".into() } else { join(&missing) },
                if extra.is_empty() { "none".into() } else { join(&extra) }
            )
        };
        return Err(AuditError::input(
            file.location(),
            format!("its columns differ from those of {first_name}: {detail}"),
        ));
    }
    for (fa, fb) in first.fields().iter().zip(other.fields()) {
        if fa.data_type() != fb.data_type() {
            return Err(AuditError::input(
                file.location().with_column(fb.name()),
                format!("type {} differs from {} in {first_name}", fb.data_type(), fa.data_type()),
            ));
        }
    }
    Ok(())
}

fn join(names: &[&String]) -> String {
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

// ---------------------------------------------------------------------------------------------
// The streaming reader: file → gzip → BOM → transcoding → Arrow batches.

/// One file read by lunli: decompressed and transcoded as a stream, handed to the engine as one
/// partition. Many such files are read in parallel, one per core.
#[derive(Debug)]
struct StreamedFile {
    file: InputFile,
    schema: SchemaRef,
    diagnostics: Arc<Diagnostics>,
    progress: Arc<Progress>,
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
fn stream_file(
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
struct ReadState {
    error: Mutex<Option<AuditError>>,
    /// Newlines decoded so far: the line a failure is on is one more.
    lines: AtomicU64,
}

impl ReadState {
    fn set_error(&self, error: AuditError) {
        if let Ok(mut slot) = self.error.lock()
            && slot.is_none()
        {
            *slot = Some(error);
        }
    }

    fn take_error(&self) -> Option<AuditError> {
        self.error.lock().ok().and_then(|mut e| e.take())
    }
}

/// A file's text as UTF-8 bytes, read in buffers: decompressed, the BOM dropped, transcoded.
struct TextReader {
    inner: Box<dyn Read + Send>,
    state: Arc<ReadState>,
}

impl TextReader {
    fn open(
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
struct Counted<R> {
    inner: R,
    progress: Option<Arc<Progress>>,
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
struct GzipLayer<R> {
    inner: flate2::read::MultiGzDecoder<R>,
    state: Arc<ReadState>,
    file: InputFile,
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

/// GB18030 → UTF-8, streaming, refusing malformed bytes (never replacing them silently), and
/// warning about lines that are valid UTF-8 instead: a sign of a file that mixes encodings.
struct Transcoder {
    inner: Box<dyn Read + Send>,
    decoder: encoding_rs::Decoder,
    input: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    state: Arc<ReadState>,
    file: InputFile,
    diagnostics: Arc<Diagnostics>,
    /// Raw bytes of the line being read, kept only while it has non-ASCII bytes.
    line: Vec<u8>,
    line_number: u64,
    line_high: bool,
    utf8_lines: u64,
    first_utf8_line: u64,
    finished: bool,
}

impl Transcoder {
    fn new(inner: Box<dyn Read + Send>, state: Arc<ReadState>, file: InputFile, diagnostics: Arc<Diagnostics>) -> Self {
        Self {
            inner,
            decoder: encoding_rs::GB18030.new_decoder_without_bom_handling(),
            input: vec![0u8; 256 * 1024],
            start: 0,
            end: 0,
            eof: false,
            state,
            file,
            diagnostics,
            line: Vec::new(),
            line_number: 1,
            line_high: false,
            utf8_lines: 0,
            first_utf8_line: 0,
            finished: false,
        }
    }

    /// Watches raw lines for UTF-8 text. GB18030 never uses the byte 0x0A inside a character,
    /// so splitting raw bytes at newlines is safe.
    fn watch(&mut self, raw: &[u8]) {
        for &b in raw {
            if b == b'\n' {
                self.end_line();
                self.line_number += 1;
            } else {
                if b >= 0x80 {
                    self.line_high = true;
                }
                if self.line_high || self.line.len() < 4096 {
                    self.line.push(b);
                }
            }
        }
    }

    fn end_line(&mut self) {
        if self.line_high && std::str::from_utf8(&self.line).is_ok() {
            self.utf8_lines += 1;
            if self.first_utf8_line == 0 {
                self.first_utf8_line = self.line_number;
            }
        }
        self.line.clear();
        self.line_high = false;
    }

    fn finish(&mut self) {
        if std::mem::replace(&mut self.finished, true) {
            return;
        }
        self.end_line();
        if self.utf8_lines > 0 {
            let (name, first, count) = (self.file.name(), self.first_utf8_line, self.utf8_lines);
            self.diagnostics.warn(Text {
                zh: format!(
                    "{name}：按 GB18030 读取，但有 {count} 行（首行第 {first} 行）是 UTF-8 文本——文件混用了编码，这些行的文字可能是乱码"
                ),
                en: format!(
                    "{name}: read as GB18030, but {count} lines (first: line {first}) are UTF-8 text — the file mixes encodings and those lines may be garbled"
                ),
            });
        }
    }
}

impl Read for Transcoder {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // encoding_rs needs room for at least one character's UTF-8 form.
        if buf.len() < 4 {
            let mut small = [0u8; 4];
            let n = self.read(&mut small)?;
            let n = n.min(buf.len());
            buf[..n].copy_from_slice(&small[..n]);
            return Ok(n);
        }
        loop {
            if self.finished {
                return Ok(0);
            }
            if self.start == self.end && !self.eof {
                let n = self.inner.read(&mut self.input)?;
                self.start = 0;
                self.end = n;
                if n == 0 {
                    self.eof = true;
                }
            }
            let chunk = &self.input[self.start..self.end];
            let (result, read, written) = self.decoder.decode_to_utf8_without_replacement(chunk, buf, self.eof);
            let consumed = self.input[self.start..self.start + read].to_vec();
            self.start += read;
            self.watch(&consumed);
            match result {
                encoding_rs::DecoderResult::Malformed(_, _) => {
                    let line = self.line_number;
                    let error = AuditError::input(
                        self.file.location().with_line(line),
                        "bytes that are not GB18030/GBK text: the file mixes encodings or is damaged",
                    );
                    let message = error.to_string();
                    self.state.set_error(error);
                    return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, message));
                }
                encoding_rs::DecoderResult::OutputFull => return Ok(written),
                encoding_rs::DecoderResult::InputEmpty => {
                    if written > 0 {
                        return Ok(written);
                    }
                    if self.eof {
                        self.finish();
                        return Ok(0);
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Locating a problem in CSV text.

fn locate_csv(
    file: &InputFile,
    delimiter: u8,
    columns: &[&str],
    check: &Check<'_>,
) -> Result<Option<AuditError>, AuditError> {
    let text = TextReader::open(file, Arc::default(), None)?;
    let state = text.state.clone();
    let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).has_headers(true).from_reader(text);
    let header = match reader.byte_headers() {
        Ok(h) => h.clone(),
        Err(e) => return Ok(Some(csv_failure(file, &state, e, 0))),
    };
    let index: Vec<Option<usize>> =
        columns.iter().map(|c| header.iter().position(|h| std::str::from_utf8(h).map(str::trim) == Ok(*c))).collect();
    let mut record = csv::ByteRecord::new();
    let mut row: u64 = 0;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Ok(Some(csv_failure(file, &state, e, row))),
        }
        row += 1;
        let line = record.position().map_or(row + 1, |p| p.line());
        let mut values = Vec::with_capacity(columns.len());
        for (i, at) in index.iter().enumerate() {
            let Some(bytes) = at.and_then(|at| record.get(at)) else {
                values.push(None);
                continue;
            };
            match std::str::from_utf8(bytes) {
                Ok("") => values.push(None),
                Ok(text) => values.push(Some(text)),
                Err(_) => {
                    let hint = match encoding_rs::GB18030.decode_without_bom_handling_and_without_replacement(bytes) {
                        Some(text) => format!("; as GB18030 it reads `{text}`, so the file mixes encodings"),
                        None => String::new(),
                    };
                    return Ok(Some(AuditError::input(
                        file.location().with_line(line).with_row(row).with_column(columns[i]),
                        format!("not valid UTF-8{hint}; convert the whole file to one encoding"),
                    )));
                }
            }
        }
        // Rows with invalid UTF-8 in columns the audit does not read still break the engine.
        if let Some(column) = record.iter().position(|f| std::str::from_utf8(f).is_err()) {
            let name = header.get(column).map(|h| String::from_utf8_lossy(h).into_owned()).unwrap_or_default();
            return Ok(Some(AuditError::input(
                file.location().with_line(line).with_row(row).with_column(name),
                "not valid UTF-8; the file mixes encodings — convert it to one",
            )));
        }
        if let Some((c, reason)) = check(&values) {
            return Ok(Some(AuditError::input(
                file.location().with_line(line).with_row(row).with_column(columns[c]),
                reason,
            )));
        }
    }
    Ok(state.take_error())
}

fn csv_failure(file: &InputFile, state: &ReadState, e: csv::Error, row: u64) -> AuditError {
    if let Some(error) = state.take_error() {
        return error;
    }
    let line = e.position().map(|p| p.line());
    let reason = match e.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("{len} fields where the header has {expected_len}")
        }
        _ => e.to_string(),
    };
    let mut location = file.location().with_row(row + 1);
    if let Some(line) = line {
        location = location.with_line(line);
    }
    AuditError::input(location, reason)
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

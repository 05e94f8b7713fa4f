//! Personal information (Art. 3(3), Art. 11): which columns of a table, or which lines of a text,
//! hold identifiers, names or addresses ([`scan`]); how easily the people in a table can be
//! re-identified from quasi-identifiers ([`reidentify`]); and a redacted copy ([`redact_table`],
//! [`redact_text`]).
//!
//! Tables are read by the same streamed, parallel, GBK-aware input layer as the other audits
//! ([`Dataset`]); every partition scans its batches with `lunli-pii` and the per-column tallies
//! merge. Text files (`.txt`, `.md`, `.markdown`, `.log`) go through `lunli-pii`'s streaming
//! text scanner. Reports hold counts and masked samples only, never a whole value.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::functions_aggregate::expr_fn::{count, count_distinct};
use datafusion::physical_plan::SendableRecordBatchStream;
use datafusion::prelude::{ident, lit};
use lunli_norms::{Automation, Catalogue, Text};
use lunli_pii::{Confidence, Context, Entity, EntityTally, Mode, PiiError, Recogniser, Sample, Tally, TextScanner};
use serde::Serialize;

use crate::error::{AuditError, Location};
use crate::policy::{self, Finding, Severity};
use crate::source::{ArrowInput, Dataset, Format, InputSummary};
use crate::{RunOptions, engine};

/// Text files are scanned per line; everything else is a table.
pub fn is_text(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    [".txt", ".md", ".markdown", ".log", ".text"].iter().any(|e| lower.ends_with(e))
}

/// Locations listed per text file, at most.
const LOCATIONS: usize = 200;
/// Riskiest equivalence classes listed.
const RISKIEST: usize = 10;

/// What to scan.
#[derive(Debug, Clone)]
pub struct PiiRequest {
    /// Files or glob patterns: tables (CSV, Parquet, JSON Lines) and text files.
    pub inputs: Vec<String>,
    /// Findings below this confidence are left out.
    pub minimum: Confidence,
}

/// One entity in a column, a file or the whole data set.
#[derive(Debug, Clone, Serialize)]
pub struct EntityReport {
    pub entity: Entity,
    pub name: Text,
    /// Sensitive personal information (PIPL Art. 28: identity documents, financial accounts).
    pub sensitive: bool,
    /// The highest confidence among its findings.
    pub confidence: Confidence,
    #[serde(flatten)]
    pub tally: EntityTally,
}

fn entity_reports(tally: &Tally) -> Vec<EntityReport> {
    tally
        .iter()
        .map(|(entity, t)| EntityReport {
            entity,
            name: Text { zh: entity.zh().into(), en: entity.en().into() },
            sensitive: entity.sensitive(),
            confidence: t.confidence(),
            tally: t.clone(),
        })
        .collect()
}

/// Findings in one column of the tables.
#[derive(Debug, Clone, Serialize)]
pub struct ColumnReport {
    pub column: String,
    /// Non-empty values scanned.
    pub values: u64,
    pub entities: Vec<EntityReport>,
}

/// One value's place in a text file (masked).
#[derive(Debug, Clone, Serialize)]
pub struct TextLocation {
    pub line: u64,
    pub offset: u64,
    pub entity: Entity,
    pub confidence: Confidence,
    pub masked: String,
}

/// Findings in one text file.
#[derive(Debug, Clone, Serialize)]
pub struct TextFileReport {
    pub path: String,
    pub bytes: u64,
    pub lines: u64,
    pub entities: Vec<EntityReport>,
    /// The first findings with line and byte offset.
    pub locations: Vec<TextLocation>,
    /// More findings than `locations` lists.
    pub truncated: bool,
}

/// The whole scan.
#[derive(Debug, Clone, Serialize)]
pub struct PiiReport {
    pub audit: &'static str,
    pub inputs: Vec<InputSummary>,
    pub minimum_confidence: Confidence,
    /// Rows of the tables.
    pub rows: u64,
    pub columns: Vec<ColumnReport>,
    pub texts: Vec<TextFileReport>,
    /// Per entity over every column and file.
    pub summary: Vec<EntityReport>,
    pub findings: Vec<Finding>,
    pub passed: bool,
    pub controls: Vec<String>,
}

/// Scans tables per column and text files per line.
pub fn scan(request: &PiiRequest, catalogue: &Catalogue, options: &RunOptions) -> Result<PiiReport, AuditError> {
    let (texts, tables): (Vec<String>, Vec<String>) = request.inputs.iter().cloned().partition(|p| is_text(p));
    let tables = if tables.is_empty() {
        None
    } else {
        Some(Dataset::open(&tables, options.encoding, options.progress.clone())?)
    };
    scan_dataset(tables, &texts, request.minimum, catalogue, options)
}

/// Scans Arrow data (a table handed over in memory, or a stream of batches) per column, as
/// [`scan`] scans a table file.
pub fn scan_arrow(
    input: ArrowInput,
    request: &PiiRequest,
    catalogue: &Catalogue,
    options: &RunOptions,
) -> Result<PiiReport, AuditError> {
    let dataset = Dataset::from_arrow(input, options.progress.clone());
    scan_dataset(Some(dataset), &[], request.minimum, catalogue, options)
}

fn scan_dataset(
    tables: Option<Dataset>,
    texts: &[String],
    minimum: Confidence,
    catalogue: &Catalogue,
    options: &RunOptions,
) -> Result<PiiReport, AuditError> {
    let recogniser = Arc::new(Recogniser::new());
    let controls = policy::controls_for(catalogue, Automation::AuditPii);
    let mut report = PiiReport {
        audit: "pii",
        inputs: Vec::new(),
        minimum_confidence: minimum,
        rows: 0,
        columns: Vec::new(),
        texts: Vec::new(),
        summary: Vec::new(),
        findings: Vec::new(),
        passed: true,
        controls: controls.clone(),
    };
    let mut total = Tally::default();
    if let Some(dataset) = tables {
        let runtime = engine::runtime(options)?;
        let (inputs, rows, columns) = runtime.block_on(scan_tables(dataset, &recogniser, minimum, options))?;
        report.inputs.extend(inputs);
        report.rows = rows;
        for (column, values, tally) in columns {
            total.merge(tally.clone());
            report.columns.push(ColumnReport { column, values, entities: entity_reports(&tally) });
        }
    }
    for path in expand_text(texts)? {
        let (file, tally) = scan_text(&path, &recogniser, minimum, options.threads)?;
        total.merge(tally);
        report.inputs.push(InputSummary {
            path: path.clone(),
            format: "text",
            compression: None,
            encoding: None,
            bytes: file.bytes,
            query: None,
        });
        report.texts.push(file);
    }
    report.summary = entity_reports(&total);
    report.findings = findings(&report, &controls);
    report.passed = policy::passes(&report.findings);
    Ok(report)
}

/// A finding per entity found at "likely" or above: sensitive personal information is severe,
/// the rest medium; "possible" alone is low (worth a look, does not fail the audit).
fn findings(report: &PiiReport, controls: &[String]) -> Vec<Finding> {
    let mut out = Vec::new();
    let places = |entity: Entity| -> Vec<String> {
        let mut places: Vec<String> = report
            .columns
            .iter()
            .filter(|c| c.entities.iter().any(|e| e.entity == entity))
            .map(|c| c.column.clone())
            .collect();
        places.extend(
            report.texts.iter().filter(|t| t.entities.iter().any(|e| e.entity == entity)).map(|t| t.path.clone()),
        );
        places
    };
    for e in &report.summary {
        let confirmed = e.tally.likely + e.tally.high;
        let severity = match (confirmed > 0, e.sensitive) {
            (true, true) => Severity::High,
            (true, false) => Severity::Medium,
            (false, _) => Severity::Low,
        };
        let places = places(e.entity).join(", ");
        out.push(Finding {
            check: format!("pii.{}", e.entity.as_str()),
            severity,
            subject: places.clone(),
            value: Some(e.tally.count as f64),
            limit: None,
            dimension: None,
            message: Text {
                zh: format!(
                    "发现 {} 个{}（{}，其中 {} 个较可能或高置信度）：{}",
                    e.tally.count,
                    e.entity.zh(),
                    if e.sensitive { "敏感个人信息" } else { "个人信息" },
                    confirmed,
                    places
                ),
                en: format!(
                    "{} {} value(s) found ({}; {} likely or high confidence) in {}",
                    e.tally.count,
                    e.entity.en(),
                    if e.sensitive { "sensitive personal information" } else { "personal information" },
                    confirmed,
                    places
                ),
            },
            controls: controls.to_vec(),
        });
    }
    out
}

/// The columns worth scanning, cast to text: strings, integers (phone numbers stored as numbers)
/// and dates (birth dates).
fn scannable(t: &DataType) -> bool {
    t.is_integer()
        || matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Date32 | DataType::Date64)
}

fn as_text(array: &ArrayRef) -> Result<ArrayRef, AuditError> {
    Ok(if matches!(array.data_type(), DataType::Utf8) { array.clone() } else { cast(array, &DataType::Utf8)? })
}

type ColumnTallies = Vec<(String, u64, Tally)>;

async fn scan_tables(
    dataset: Dataset,
    recogniser: &Arc<Recogniser>,
    minimum: Confidence,
    options: &RunOptions,
) -> Result<(Vec<InputSummary>, u64, ColumnTallies), AuditError> {
    let ctx = engine::session(options, &dataset)?;
    dataset.progress.next_pass();
    let columns: Vec<(usize, String, Context)> = dataset
        .schema
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| scannable(f.data_type()))
        .map(|(i, f)| (i, f.name().clone(), recogniser.column_context(f.name())))
        .collect();
    let frame = dataset.frame(&ctx).await?;
    let streams = frame.execute_stream_partitioned().await.map_err(|e| dataset.engine_error(e))?;
    let columns = Arc::new(columns);
    let mut tasks = Vec::new();
    for mut stream in streams {
        let (recogniser, columns, progress) = (recogniser.clone(), columns.clone(), dataset.progress.clone());
        tasks.push(tokio::spawn(async move {
            let mut tallies: Vec<(u64, Tally)> = vec![(0, Tally::default()); columns.len()];
            let mut rows = 0u64;
            let mut found = Vec::new();
            while let Some(batch) = next(&mut stream).await {
                let batch = batch?;
                rows += batch.num_rows() as u64;
                progress.rows.fetch_add(batch.num_rows() as u64, Ordering::Relaxed);
                for (slot, (index, _, context)) in columns.iter().enumerate() {
                    let text = as_text(batch.column(*index))
                        .map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))?;
                    let text = text.as_string::<i32>();
                    let (values, tally) = &mut tallies[slot];
                    for value in text.iter().flatten() {
                        if value.is_empty() {
                            continue;
                        }
                        *values += 1;
                        found.clear();
                        recogniser.find_in_cell(value, *context, &mut found);
                        for m in found.iter().filter(|m| m.confidence >= minimum) {
                            tally.add(
                                m.entity,
                                m.confidence,
                                m.checksum_failed,
                                &value[m.start..m.end],
                                Sample::default(),
                            );
                        }
                    }
                }
            }
            Ok::<_, datafusion::error::DataFusionError>((rows, tallies))
        }));
    }
    let mut rows = 0;
    let mut merged: Vec<(u64, Tally)> = vec![(0, Tally::default()); columns.len()];
    for task in tasks {
        let (r, tallies) = task
            .await
            .map_err(|e| AuditError::Engine(format!("a scanning task failed: {e}")))?
            .map_err(|e| dataset.engine_error(e))?;
        rows += r;
        for (slot, (values, tally)) in tallies.into_iter().enumerate() {
            merged[slot].0 += values;
            merged[slot].1.merge(tally);
        }
    }
    if let Some(failure) = dataset.diagnostics.take_failure() {
        return Err(failure);
    }
    let out = columns.iter().zip(merged).map(|((_, name, _), (values, tally))| (name.clone(), values, tally)).collect();
    Ok((dataset.summaries(), rows, out))
}

async fn next(stream: &mut SendableRecordBatchStream) -> Option<datafusion::error::Result<RecordBatch>> {
    std::future::poll_fn(|cx| stream.as_mut().poll_next(cx)).await
}

fn expand_text(patterns: &[String]) -> Result<Vec<String>, AuditError> {
    let mut out = Vec::new();
    for pattern in patterns {
        if Path::new(pattern).exists() {
            out.push(pattern.clone());
            continue;
        }
        let matched: Vec<String> = glob::glob(pattern)
            .map_err(|e| AuditError::request(format!("`{pattern}` is not a valid glob pattern: {e}")))?
            .filter_map(Result::ok)
            .map(|p| p.display().to_string())
            .collect();
        if matched.is_empty() {
            return Err(AuditError::input(Location::file(pattern.clone()), "no such file"));
        }
        out.extend(matched);
    }
    Ok(out)
}

/// A text-scanning error as an input error naming file and line.
pub fn text_error(e: PiiError) -> AuditError {
    match e {
        PiiError::Io { file, source } => AuditError::io(file, source),
        PiiError::Empty { file } => {
            AuditError::input(Location::file(file), "the file is empty; there is nothing to scan")
        }
        PiiError::Binary { file, offset } => AuditError::input(
            Location::file(file),
            format!(
                "this looks like a binary file (a NUL byte at byte offset {offset}); lunli scans UTF-8 text and tables (CSV, Parquet, JSON Lines)"
            ),
        ),
        PiiError::InvalidUtf8 { file, line, offset } => AuditError::input(
            Location::file(file).with_line(line),
            format!(
                "not valid UTF-8 (nor GBK/GB18030 text) at byte offset {offset}; convert the file to UTF-8 first (e.g. with iconv)"
            ),
        ),
        PiiError::Key { file, reason } => AuditError::Definition { file, line: None, reason },
    }
}

fn open(path: &str) -> Result<File, AuditError> {
    File::open(path).map_err(|e| AuditError::io(path, e))
}

/// Scans one text file, on `threads` threads (every core when not given): the findings are the
/// same for any number.
fn scan_text(
    path: &str,
    recogniser: &Recogniser,
    minimum: Confidence,
    threads: Option<usize>,
) -> Result<(TextFileReport, Tally), AuditError> {
    let threads = threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let mut tally = Tally::default();
    let mut locations = Vec::new();
    let mut truncated = false;
    let stats = TextScanner::new(recogniser)
        .minimum(minimum)
        .threads(threads)
        .scan(BufReader::new(crate::source::text_reader(path)?), path, &mut |piece| {
            for f in piece.findings {
                let value = piece.value(f);
                let at = Sample { line: Some(f.line), offset: Some(f.offset), ..Sample::default() };
                tally.add(f.entity, f.confidence, f.checksum_failed, value, at);
                if locations.len() < LOCATIONS {
                    locations.push(TextLocation {
                        line: f.line,
                        offset: f.offset,
                        entity: f.entity,
                        confidence: f.confidence,
                        masked: lunli_pii::mask(f.entity, value),
                    });
                } else {
                    truncated = true;
                }
            }
            Ok(())
        })
        .map_err(text_error)?;
    let report = TextFileReport {
        path: path.to_string(),
        bytes: stats.bytes,
        lines: stats.lines,
        entities: entity_reports(&tally),
        locations,
        truncated,
    };
    Ok((report, tally))
}

// ---------------------------------------------------------------------------------------------
// Re-identification risk.

/// Which columns identify people in combination, and the thresholds.
#[derive(Debug, Clone)]
pub struct ReidRequest {
    pub inputs: Vec<String>,
    /// Quasi-identifiers: columns that together may single a person out (age, sex, postcode).
    pub quasi: Vec<String>,
    /// A sensitive column whose values should vary within each equivalence class.
    pub sensitive: Option<String>,
    /// k of k-anonymity: every combination of quasi-identifiers should be shared by k rows.
    pub k: u64,
    /// l of l-diversity: every class should hold l distinct sensitive values.
    pub l: u64,
}

/// One equivalence class: a combination of quasi-identifier values and its rows.
#[derive(Debug, Clone, Serialize)]
pub struct Class {
    /// The quasi-identifier values (null as `null`).
    pub values: BTreeMap<String, String>,
    pub rows: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distinct_sensitive: Option<u64>,
}

/// k-anonymity and l-diversity of a table.
#[derive(Debug, Clone, Serialize)]
pub struct ReidReport {
    pub audit: &'static str,
    pub inputs: Vec<InputSummary>,
    pub quasi_identifiers: Vec<String>,
    pub rows: u64,
    pub classes: u64,
    /// Size of the smallest class: the table is k-anonymous for every k up to this.
    pub k_anonymity: u64,
    pub k: u64,
    /// Rows in classes smaller than `k`, and their share of all rows.
    pub rows_below_k: u64,
    pub share_below_k: f64,
    /// Classes of one row: people singled out by their quasi-identifiers alone.
    pub unique_rows: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sensitive: Option<String>,
    /// Fewest distinct sensitive values in a class.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub l_diversity: Option<u64>,
    pub l: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows_below_l: Option<u64>,
    /// The smallest classes (for l-diversity, the least diverse come first among equals).
    pub riskiest: Vec<Class>,
    pub findings: Vec<Finding>,
    pub passed: bool,
    pub controls: Vec<String>,
}

/// Groups the table by its quasi-identifiers (one aggregation in the engine, mergeable counts per
/// partition) and measures the classes.
pub fn reidentify(
    request: &ReidRequest,
    catalogue: &Catalogue,
    options: &RunOptions,
) -> Result<ReidReport, AuditError> {
    if request.quasi.is_empty() {
        return Err(AuditError::request("name at least one quasi-identifier column (--quasi age,sex,postcode)"));
    }
    if request.k < 2 || request.l < 1 {
        return Err(AuditError::request("k must be at least 2 and l at least 1"));
    }
    let runtime = engine::runtime(options)?;
    let mut report = runtime.block_on(reid(request, options))?;
    report.controls = policy::controls_for(catalogue, Automation::AuditPii);
    report.findings = reid_findings(&report);
    report.passed = policy::passes(&report.findings);
    Ok(report)
}

async fn reid(request: &ReidRequest, options: &RunOptions) -> Result<ReidReport, AuditError> {
    let dataset = Dataset::open(&request.inputs, options.encoding, options.progress.clone())?;
    dataset.require_columns(request.quasi.iter().map(String::as_str).chain(request.sensitive.as_deref()))?;
    let ctx = engine::session(options, &dataset)?;
    dataset.progress.next_pass();
    let frame = dataset.frame(&ctx).await?;
    let groups: Vec<_> = request.quasi.iter().map(|c| ident(c.as_str())).collect();
    let mut aggregates = vec![count(lit(1)).alias("__rows")];
    if let Some(s) = &request.sensitive {
        aggregates.push(count_distinct(ident(s.as_str())).alias("__distinct"));
    }
    let frame = frame.aggregate(groups, aggregates)?;
    let mut stream = frame.execute_stream().await.map_err(|e| dataset.engine_error(e))?;
    let (mut rows, mut classes, mut smallest, mut below_k, mut unique) = (0u64, 0u64, u64::MAX, 0u64, 0u64);
    let (mut least_diverse, mut below_l) = (u64::MAX, 0u64);
    let mut riskiest: Vec<Class> = Vec::new();
    let q = request.quasi.len();
    while let Some(batch) = next(&mut stream).await {
        let batch = batch.map_err(|e| dataset.engine_error(e))?;
        let counts = cast(batch.column(q), &DataType::UInt64)?;
        let counts = counts.as_primitive::<datafusion::arrow::datatypes::UInt64Type>();
        let distinct = match request.sensitive {
            Some(_) => Some(cast(batch.column(q + 1), &DataType::UInt64)?),
            None => None,
        };
        let distinct = distinct.as_ref().map(|d| d.as_primitive::<datafusion::arrow::datatypes::UInt64Type>());
        let texts: Vec<ArrayRef> = (0..q).map(|i| cast(batch.column(i), &DataType::Utf8)).collect::<Result<_, _>>()?;
        for row in 0..batch.num_rows() {
            let n = counts.value(row);
            let d = distinct.map(|d| d.value(row));
            rows += n;
            classes += 1;
            smallest = smallest.min(n);
            if n < request.k {
                below_k += n;
            }
            if n == 1 {
                unique += 1;
            }
            if let Some(d) = d {
                least_diverse = least_diverse.min(d);
                if d < request.l {
                    below_l += n;
                }
            }
            // Keep the RISKIEST smallest (then least diverse) classes.
            let key = (n, d.unwrap_or(0));
            let worst_kept = riskiest.last().map(|c| (c.rows, c.distinct_sensitive.unwrap_or(0)));
            if riskiest.len() < RISKIEST || worst_kept.is_some_and(|w| key < w) {
                let values = request
                    .quasi
                    .iter()
                    .zip(&texts)
                    .map(|(name, t)| {
                        let t = t.as_string::<i32>();
                        (name.clone(), if t.is_null(row) { "null".to_string() } else { t.value(row).to_string() })
                    })
                    .collect();
                riskiest.push(Class { values, rows: n, distinct_sensitive: d });
                riskiest.sort_by_key(|c| (c.rows, c.distinct_sensitive.unwrap_or(0)));
                riskiest.truncate(RISKIEST);
            }
        }
    }
    if let Some(failure) = dataset.diagnostics.take_failure() {
        return Err(failure);
    }
    if rows == 0 {
        let file = dataset.files.first().map(|f| f.name()).unwrap_or_default();
        return Err(AuditError::input(Location::file(file), "the table has no rows; there is nothing to measure"));
    }
    Ok(ReidReport {
        audit: "reidentification",
        inputs: dataset.summaries(),
        quasi_identifiers: request.quasi.clone(),
        rows,
        classes,
        k_anonymity: smallest,
        k: request.k,
        rows_below_k: below_k,
        share_below_k: below_k as f64 / rows as f64,
        unique_rows: unique,
        sensitive: request.sensitive.clone(),
        l_diversity: request.sensitive.as_ref().map(|_| least_diverse),
        l: request.l,
        rows_below_l: request.sensitive.as_ref().map(|_| below_l),
        riskiest,
        findings: Vec::new(),
        passed: true,
        controls: Vec::new(),
    })
}

fn reid_findings(r: &ReidReport) -> Vec<Finding> {
    let mut out = Vec::new();
    let quasi = r.quasi_identifiers.join(",");
    if r.k_anonymity < r.k {
        out.push(Finding {
            check: "reid.k_anonymity".into(),
            severity: if r.unique_rows > 0 { Severity::High } else { Severity::Medium },
            subject: quasi.clone(),
            value: Some(r.k_anonymity as f64),
            limit: None,
            dimension: None,
            message: Text {
                zh: format!(
                    "准标识符 {quasi} 的最小等价类只有 {} 行（要求 k={}）：{} 行（{:.2}%）位于小于 k 的类中，{} 行可被唯一识别",
                    r.k_anonymity,
                    r.k,
                    r.rows_below_k,
                    r.share_below_k * 100.0,
                    r.unique_rows
                ),
                en: format!(
                    "the smallest class of quasi-identifiers {quasi} has {} row(s) (k={} required): {} rows ({:.2}%) are in classes below k, {} are unique",
                    r.k_anonymity,
                    r.k,
                    r.rows_below_k,
                    r.share_below_k * 100.0,
                    r.unique_rows
                ),
            },
            controls: r.controls.clone(),
        });
    }
    if let (Some(l), Some(s), Some(below)) = (r.l_diversity, &r.sensitive, r.rows_below_l)
        && l < r.l
    {
        out.push(Finding {
            check: "reid.l_diversity".into(),
            severity: Severity::Medium,
            subject: s.clone(),
            value: Some(l as f64),
            limit: None,
            dimension: None,
            message: Text {
                zh: format!("敏感列 {s} 在某些等价类中只有 {l} 个不同取值（要求 l={}）：{below} 行受影响", r.l),
                en: format!("sensitive column {s} has only {l} distinct value(s) in some classes (l={} required): {below} rows affected", r.l),
            },
            controls: r.controls.clone(),
        });
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Redaction.

/// What a redaction changed.
#[derive(Debug, Clone, Serialize)]
pub struct RedactionReport {
    pub input: String,
    pub output: String,
    pub format: &'static str,
    pub mode: &'static str,
    /// Rows (tables) or lines (text) written.
    pub rows: u64,
    /// Values replaced per column (tables) or for the whole file (text, under `*`).
    pub replaced: BTreeMap<String, BTreeMap<Entity, u64>>,
    pub total: u64,
}

/// Writes a copy of a text file with every value at or above `minimum` replaced.
pub fn redact_text(
    input: &str,
    output: &Path,
    mode: &Mode,
    minimum: Confidence,
) -> Result<RedactionReport, AuditError> {
    let recogniser = Recogniser::new();
    let out_name = output.display().to_string();
    let file = File::create(output).map_err(|e| AuditError::io(out_name.clone(), e))?;
    let mut writer = BufWriter::new(file);
    let mut counts: BTreeMap<Entity, u64> = BTreeMap::new();
    let stats = TextScanner::new(&recogniser)
        .minimum(minimum)
        .scan(BufReader::new(open(input)?), input, &mut |piece| {
            let write_error = |e: std::io::Error| PiiError::Io { file: out_name.clone(), source: e };
            let mut at = 0usize;
            for f in piece.findings {
                let start = usize::try_from(f.offset - piece.offset).unwrap_or(0);
                writer.write_all(&piece.text.as_bytes()[at..start]).map_err(write_error)?;
                writer.write_all(mode.replace(f.entity, piece.value(f)).as_bytes()).map_err(write_error)?;
                at = start + f.len;
                *counts.entry(f.entity).or_default() += 1;
            }
            writer.write_all(&piece.text.as_bytes()[at..]).map_err(write_error)?;
            Ok(())
        })
        .map_err(text_error)?;
    writer.flush().map_err(|e| AuditError::io(out_name.clone(), e))?;
    let total = counts.values().sum();
    Ok(RedactionReport {
        input: input.to_string(),
        output: out_name,
        format: "text",
        mode: mode.name(),
        rows: stats.lines,
        replaced: BTreeMap::from([("*".to_string(), counts)]),
        total,
    })
}

/// Writes a copy of a table (CSV, JSON Lines or Parquet, as the input) with every value at or
/// above `minimum` replaced in its text columns; integer columns whose name says they hold an
/// identifier (`phone`, `id_card`, …) become text so that they can be redacted. Rows keep their
/// order; the copy is written batch by batch.
pub fn redact_table(
    input: &str,
    output: &Path,
    mode: &Mode,
    minimum: Confidence,
    options: &RunOptions,
) -> Result<RedactionReport, AuditError> {
    let runtime = engine::runtime(options)?;
    runtime.block_on(redact_table_async(input, output, mode, minimum, options))
}

enum TableWriter {
    Csv(Box<datafusion::arrow::csv::Writer<BufWriter<File>>>),
    Json(datafusion::arrow::json::LineDelimitedWriter<BufWriter<File>>),
    Parquet(Box<datafusion::parquet::arrow::ArrowWriter<BufWriter<File>>>),
}

impl TableWriter {
    fn write(&mut self, batch: &RecordBatch) -> Result<(), AuditError> {
        match self {
            TableWriter::Csv(w) => w.write(batch)?,
            TableWriter::Json(w) => w.write(batch)?,
            TableWriter::Parquet(w) => w.write(batch).map_err(|e| AuditError::Engine(e.to_string()))?,
        }
        Ok(())
    }

    fn finish(self) -> Result<(), AuditError> {
        match self {
            TableWriter::Csv(w) => {
                w.into_inner().flush().map_err(|e| AuditError::Engine(e.to_string()))?;
            }
            TableWriter::Json(mut w) => {
                w.finish()?;
                w.into_inner().flush().map_err(|e| AuditError::Engine(e.to_string()))?;
            }
            TableWriter::Parquet(w) => {
                w.close().map_err(|e| AuditError::Engine(e.to_string()))?;
            }
        }
        Ok(())
    }
}

async fn redact_table_async(
    input: &str,
    output: &Path,
    mode: &Mode,
    minimum: Confidence,
    options: &RunOptions,
) -> Result<RedactionReport, AuditError> {
    let dataset = Dataset::open(&[input.to_string()], options.encoding, options.progress.clone())?;
    if dataset.files.len() != 1 {
        return Err(AuditError::request("redact one file at a time"));
    }
    let format = dataset.files[0].format;
    // One partition keeps the rows in order.
    let ctx = crate::engine::bare_session(1, None, dataset.schema.fields().len())?;
    let recogniser = Recogniser::new();
    let contexts: Vec<Context> = dataset.schema.fields().iter().map(|f| recogniser.column_context(f.name())).collect();
    let redacted: Vec<bool> = dataset
        .schema
        .fields()
        .iter()
        .zip(&contexts)
        .map(|(f, c)| {
            matches!(f.data_type(), DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
                || (f.data_type().is_integer() && !c.supports.is_empty())
        })
        .collect();
    let schema: SchemaRef = Arc::new(Schema::new(
        dataset
            .schema
            .fields()
            .iter()
            .zip(&redacted)
            .map(|(f, &r)| if r { Field::new(f.name(), DataType::Utf8, true) } else { f.as_ref().clone() })
            .collect::<Vec<_>>(),
    ));
    let out_name = output.display().to_string();
    let file = BufWriter::new(File::create(output).map_err(|e| AuditError::io(out_name.clone(), e))?);
    let mut writer = match format {
        Format::Csv { delimiter } => TableWriter::Csv(Box::new(
            datafusion::arrow::csv::WriterBuilder::new().with_header(true).with_delimiter(delimiter).build(file),
        )),
        Format::JsonLines => TableWriter::Json(datafusion::arrow::json::LineDelimitedWriter::new(file)),
        Format::Parquet => TableWriter::Parquet(Box::new(
            datafusion::parquet::arrow::ArrowWriter::try_new(file, schema.clone(), None)
                .map_err(|e| AuditError::Engine(e.to_string()))?,
        )),
    };
    let frame = dataset.frame(&ctx).await?;
    let names: Vec<String> = dataset.schema.fields().iter().map(|f| f.name().clone()).collect();
    let mut stream = frame.execute_stream().await.map_err(|e| dataset.engine_error(e))?;
    let mut replaced: BTreeMap<String, BTreeMap<Entity, u64>> = BTreeMap::new();
    let mut rows = 0u64;
    let mut found = Vec::new();
    while let Some(batch) = next(&mut stream).await {
        let batch = batch.map_err(|e| dataset.engine_error(e))?;
        rows += batch.num_rows() as u64;
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(batch.num_columns());
        for (i, array) in batch.columns().iter().enumerate() {
            if !redacted[i] {
                columns.push(array.clone());
                continue;
            }
            let text = as_text(array)?;
            let text = text.as_string::<i32>();
            let mut builder = StringBuilder::with_capacity(text.len(), text.value_data().len());
            for value in text.iter() {
                let Some(value) = value else {
                    builder.append_null();
                    continue;
                };
                found.clear();
                recogniser.find_in_cell(value, contexts[i], &mut found);
                let mut copy = String::with_capacity(value.len());
                let mut at = 0;
                for m in found.iter().filter(|m| m.confidence >= minimum) {
                    copy.push_str(&value[at..m.start]);
                    copy.push_str(&mode.replace(m.entity, &value[m.start..m.end]));
                    at = m.end;
                    *replaced.entry(names[i].clone()).or_default().entry(m.entity).or_default() += 1;
                }
                copy.push_str(&value[at..]);
                builder.append_value(copy);
            }
            columns.push(Arc::new(builder.finish()));
        }
        writer.write(&RecordBatch::try_new(schema.clone(), columns)?)?;
    }
    if let Some(failure) = dataset.diagnostics.take_failure() {
        return Err(failure);
    }
    writer.finish()?;
    let total = replaced.values().flat_map(|m| m.values()).sum();
    Ok(RedactionReport {
        input: input.to_string(),
        output: out_name,
        format: format.as_str(),
        mode: mode.name(),
        rows,
        replaced,
        total,
    })
}

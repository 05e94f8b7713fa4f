//! The fairness audit's count, straight from plain CSV files: what the engine's plan computes
//! ([`super::counting_frame`]), without building Arrow columns of every row.
//!
//! The count needs, per row, only the raw text of a handful of fields. Worker threads take
//! stretches of the files (cut at line breaks), find those fields with a byte search, and count
//! each distinct combination of raw values. Only then are the distinct values turned into what
//! the engine's plan would have made of them — through the same Arrow casts and the same
//! DataFusion expression, on a few thousand values instead of millions — and combinations that
//! become equal (`01` and `1` read as integers) are merged. So the cells, and therefore the
//! report, are the engine's.
//!
//! It takes only the files it can read exactly as the engine would: UTF-8 CSV without
//! compression, byte-order mark or quoting, one record per line. Whatever else it meets — a
//! quote, a stray carriage return, a row of the wrong width, a value that does not parse as
//! its column's type, too many distinct combinations to hold — it gives the work back
//! (`Ok(None)`) and the engine runs the audit, reporting any error as usual.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringViewArray};
use datafusion::arrow::compute::{CastOptions, cast, cast_with_options};
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Schema};
use datafusion::functions::string::expr_fn::btrim;
use datafusion::logical_expr::try_cast;
use datafusion::prelude::{SessionContext, ident};
use hashbrown::HashTable;

use super::{FairnessRequest, RawCell};
use crate::error::AuditError;
use crate::source::{Dataset, InputFile};

/// Bytes of a file one worker takes at a time: enough that opening and seeking cost nothing,
/// few enough that each worker's buffer stays small — memory touched for the first time is
/// zeroed by the kernel, which took a tenth of the time with 16 MiB stretches (10 M rows:
/// 1.34 s of CPU and 118 MB then, 1.09 s and 80 MB now).
const STRETCH: u64 = 4 << 20;

/// Distinct combinations one worker holds before giving the work back: the engine's
/// aggregation can spill to disk, this count cannot.
const MAX_COMBINATIONS: usize = 1 << 20;

/// The cells of `request` counted from the dataset's files, or `None` when they are not files
/// this reader takes (the engine then counts).
pub(super) async fn count(
    dataset: &Dataset,
    request: &FairnessRequest,
    threads: usize,
) -> Result<Option<Vec<RawCell>>, AuditError> {
    count_in(dataset, request, threads, STRETCH, MAX_LINES).await
}

/// [`count`], with the files cut into stretches of `stretch` bytes and at most `max_lines`
/// distinct lines held by a worker.
async fn count_in(
    dataset: &Dataset,
    request: &FairnessRequest,
    threads: usize,
    stretch: u64,
    max_lines: usize,
) -> Result<Option<Vec<RawCell>>, AuditError> {
    let Some(files) = dataset.plain_csv_files() else {
        return Ok(None);
    };
    // The fields the count reads, in this order: sensitive columns, label, prediction, score.
    let mut columns: Vec<&str> = request.sensitive.iter().map(String::as_str).collect();
    columns.extend([request.label.as_str(), request.prediction.as_str()]);
    columns.extend(request.score.as_deref());
    let mut jobs = Vec::new();
    for (file, delimiter) in files {
        let Some(layout) = Layout::of(file, delimiter, &columns)? else {
            return Ok(None);
        };
        let layout = Arc::new(layout);
        let mut start = layout.data_start;
        while start < file.bytes {
            let end = (start + stretch.max(1)).min(file.bytes);
            jobs.push(Job { layout: layout.clone(), start, end });
            start = end;
        }
    }
    let progress = dataset.progress.clone();
    let next = AtomicUsize::new(0);
    let give_up = AtomicBool::new(false);
    let tallies: Vec<Result<Option<Tally>, AuditError>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.clamp(1, jobs.len().max(1)))
            .map(|_| {
                scope.spawn(|| {
                    let mut tally = Tally::new(max_lines);
                    let mut buffer = Vec::new();
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(job) = jobs.get(index) else { return Ok(Some(tally)) };
                        if give_up.load(Ordering::Relaxed) {
                            return Ok(None);
                        }
                        let rows = match job.run(&mut buffer, &mut tally) {
                            Ok(Some(rows)) => rows,
                            Ok(None) => {
                                give_up.store(true, Ordering::Relaxed);
                                return Ok(None);
                            }
                            Err(e) => return Err(e),
                        };
                        progress.rows.fetch_add(rows, Ordering::Relaxed);
                        progress.bytes.fetch_add(job.end - job.start, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|_| Err(AuditError::Engine("a CSV reader thread panicked".into()))))
            .collect()
    });
    let mut merged: HashMap<Vec<u8>, u64> = HashMap::new();
    for tally in tallies {
        let Some(tally) = tally? else { return Ok(None) };
        let Ok(keys) = tally.finish() else { return Ok(None) };
        for (key, n) in keys.iter() {
            *merged.entry(key.to_vec()).or_default() += n;
        }
    }
    interpret_raw(merged, &columns, dataset, request).await
}

/// Where a file's data starts and where the counted fields are in each line.
struct Layout {
    path: std::path::PathBuf,
    name: String,
    delimiter: u8,
    /// Fields per line (the header's).
    width: usize,
    /// For each counted field, its index in the line.
    wanted: Vec<usize>,
    /// Byte offset of the first data line.
    data_start: u64,
}

impl Layout {
    /// Reads the header line; `None` when it is not one this reader takes (quoted, say).
    fn of(file: &InputFile, delimiter: u8, columns: &[&str]) -> Result<Option<Layout>, AuditError> {
        let name = file.name();
        let mut reader = File::open(&file.path).map_err(|e| AuditError::io(name.clone(), e))?;
        let mut head = Vec::new();
        let mut chunk = [0u8; 64 * 1024];
        let line_end = loop {
            if let Some(at) = memchr::memchr(b'\n', &head) {
                break at;
            }
            let n = reader.read(&mut chunk).map_err(|e| AuditError::io(name.clone(), e))?;
            if n == 0 || head.len() > crate::source::HEADER_LIMIT {
                return Ok(None);
            }
            head.extend_from_slice(&chunk[..n]);
        };
        let line = head[..line_end].strip_suffix(b"\r").unwrap_or(&head[..line_end]);
        if memchr::memchr2(b'"', b'\r', line).is_some() {
            return Ok(None);
        }
        let Ok(line) = std::str::from_utf8(line) else { return Ok(None) };
        let names: Vec<&str> = line.split(char::from(delimiter)).map(str::trim).collect();
        let mut wanted = Vec::with_capacity(columns.len());
        for column in columns {
            match names.iter().position(|n| n == column) {
                Some(i) => wanted.push(i),
                None => return Ok(None),
            }
        }
        Ok(Some(Layout {
            path: file.path.clone(),
            name,
            delimiter,
            width: names.len(),
            wanted,
            data_start: line_end as u64 + 1,
        }))
    }
}

/// Distinct byte strings and how often each was seen. The strings are kept end to end in one
/// buffer, so that a probe compares with memory near its neighbours' rather than with an
/// allocation of its own.
#[derive(Default)]
struct Counts {
    table: HashTable<Slot>,
    bytes: Vec<u8>,
}

/// A string of [`Counts`]: its hash, where its bytes are, how often it was seen.
struct Slot {
    hash: u64,
    start: usize,
    len: usize,
    n: u64,
}

impl Counts {
    fn add(&mut self, key: &[u8], n: u64) {
        let hash = xxhash_rust::xxh3::xxh3_64(key);
        let bytes = &self.bytes;
        if let Some(slot) = self.table.find_mut(hash, |s| s.len == key.len() && bytes[s.start..s.start + s.len] == *key)
        {
            slot.n += n;
            return;
        }
        let start = self.bytes.len();
        self.bytes.extend_from_slice(key);
        self.table.insert_unique(hash, Slot { hash, start, len: key.len(), n }, |s| s.hash);
    }

    fn len(&self) -> usize {
        self.table.len()
    }

    fn iter(&self) -> impl Iterator<Item = (&[u8], u64)> {
        self.table.iter().map(|s| (&self.bytes[s.start..s.start + s.len], s.n))
    }

    fn clear(&mut self) {
        self.table.clear();
        self.bytes.clear();
    }
}

/// Distinct whole lines a worker counts before it counts fields instead.
const MAX_LINES: usize = 1 << 17;

/// Bytes of distinct whole lines a worker holds before it counts fields instead.
const MAX_LINE_BYTES: usize = 32 << 20;

/// A worker's count of distinct combinations of raw field values. Each key is the counted
/// fields joined by `\n` (which no field of a line holds); an empty field is a missing value,
/// as the engine's CSV reader takes it.
///
/// The lines of an audited file repeat — a few groups, two labels, scores of a few digits — so
/// whole lines are counted first and each distinct one is cut into fields once, not every row
/// (on 10 M rows of Adult's predictions, 16 thousand distinct lines). When a file's lines are
/// too varied for that (an id column, a timestamp), the lines so far are cut and the worker
/// counts keys from then on.
struct Tally {
    /// Distinct lines held before cutting them ([`MAX_LINES`] but in tests).
    max_lines: usize,
    /// Whole lines not yet cut, all of `lines_of`'s file.
    lines: Counts,
    lines_of: Option<Arc<Layout>>,
    /// Keys, and whether this worker counts them directly now.
    keys: Counts,
    by_key: bool,
    /// Scratch space for cutting a line.
    fields: Vec<(usize, usize)>,
    key: Vec<u8>,
}

/// Why a tally gives the work back to the engine.
struct GiveBack;

impl Tally {
    fn new(max_lines: usize) -> Tally {
        Tally {
            max_lines,
            lines: Counts::default(),
            lines_of: None,
            keys: Counts::default(),
            by_key: false,
            fields: Vec::new(),
            key: Vec::new(),
        }
    }

    /// Counts one line of `layout`'s file.
    fn add(&mut self, layout: &Arc<Layout>, line: &[u8]) -> Result<(), GiveBack> {
        if self.by_key {
            return self.add_key(layout, line, 1);
        }
        if !self.lines_of.as_ref().is_some_and(|l| Arc::ptr_eq(l, layout)) {
            self.cut_lines()?;
            self.lines_of = Some(layout.clone());
        }
        self.lines.add(line, 1);
        if self.lines.len() > self.max_lines || self.lines.bytes.len() > MAX_LINE_BYTES {
            self.cut_lines()?;
            self.by_key = true;
        }
        Ok(())
    }

    /// Cuts the lines counted so far into keys.
    fn cut_lines(&mut self) -> Result<(), GiveBack> {
        let lines = std::mem::take(&mut self.lines);
        if let Some(layout) = self.lines_of.take() {
            for (line, n) in lines.iter() {
                self.add_key(&layout, line, n)?;
            }
        }
        self.lines = lines;
        self.lines.clear();
        Ok(())
    }

    /// Counts `n` lines like `line` by their key.
    fn add_key(&mut self, layout: &Layout, line: &[u8], n: u64) -> Result<(), GiveBack> {
        self.fields.clear();
        let mut field_start = 0;
        for comma in memchr::memchr_iter(layout.delimiter, line) {
            self.fields.push((field_start, comma));
            field_start = comma + 1;
        }
        self.fields.push((field_start, line.len()));
        if self.fields.len() != layout.width {
            return Err(GiveBack); // a row of the wrong width: the engine names it
        }
        self.key.clear();
        for (i, &index) in layout.wanted.iter().enumerate() {
            if i > 0 {
                self.key.push(b'\n');
            }
            let (s, e) = self.fields[index];
            self.key.extend_from_slice(&line[s..e]);
        }
        self.keys.add(&self.key, n);
        if self.keys.len() > MAX_COMBINATIONS {
            return Err(GiveBack);
        }
        Ok(())
    }

    /// The keys counted, every line cut.
    fn finish(mut self) -> Result<Counts, GiveBack> {
        self.cut_lines()?;
        Ok(self.keys)
    }
}

/// A stretch of a file: the lines that start in `start..end`.
struct Job {
    layout: Arc<Layout>,
    start: u64,
    end: u64,
}

impl Job {
    /// Counts the stretch's lines into `tally`; the number of rows, or `None` to give the work
    /// back.
    fn run(&self, buffer: &mut Vec<u8>, tally: &mut Tally) -> Result<Option<u64>, AuditError> {
        let layout = &self.layout;
        let io = |e| AuditError::io(layout.name.clone(), e);
        let mut file = File::open(&layout.path).map_err(io)?;
        // From the byte before the stretch: a line starts in the stretch if the byte before it
        // is a line break.
        let from = if self.start > layout.data_start { self.start - 1 } else { self.start };
        file.seek(SeekFrom::Start(from)).map_err(io)?;
        buffer.clear();
        // Room for the stretch and the end of its last line, so that reading never grows (and
        // copies) the buffer.
        buffer.reserve((self.end - from) as usize + 64 * 1024);
        (&mut file).take(self.end - from).read_to_end(buffer).map_err(io)?;
        let mut at = if from < self.start {
            match memchr::memchr(b'\n', buffer) {
                Some(i) => i + 1,
                None => return Ok(Some(0)), // no line starts here
            }
        } else {
            0
        };
        let stretch = (self.end - from) as usize;
        // The last line may run past the stretch: read on to its end.
        if at < stretch && buffer.last() != Some(&b'\n') {
            let mut more = [0u8; 64 * 1024];
            loop {
                let n = file.read(&mut more).map_err(io)?;
                if n == 0 {
                    break;
                }
                match memchr::memchr(b'\n', &more[..n]) {
                    Some(i) => {
                        buffer.extend_from_slice(&more[..=i]);
                        break;
                    }
                    None => buffer.extend_from_slice(&more[..n]),
                }
            }
        }
        if memchr::memchr(b'"', &buffer[at..]).is_some() {
            return Ok(None);
        }
        // Line ends are looked at one by one only when the stretch has a CR at all.
        let has_cr = memchr::memchr(b'\r', &buffer[at..]).is_some();
        let mut rows = 0u64;
        while at < stretch && at < buffer.len() {
            let end = memchr::memchr(b'\n', &buffer[at..]).map_or(buffer.len(), |i| at + i);
            let mut line = &buffer[at..end];
            if has_cr {
                line = line.strip_suffix(b"\r").unwrap_or(line);
                if memchr::memchr(b'\r', line).is_some() {
                    return Ok(None); // the engine decides what a lone CR means
                }
            }
            if line.is_empty() {
                return Ok(None); // and what an empty line means
            }
            if tally.add(&self.layout, line).is_err() {
                return Ok(None);
            }
            rows += 1;
            at = end + 1;
        }
        Ok(Some(rows))
    }
}

/// The distinct raw combinations as the engine's cells: each column's distinct values are read
/// as the engine reads them (the dataset's column types, the plan's score expression), then
/// combinations that read the same are merged.
async fn interpret_raw(
    raw: HashMap<Vec<u8>, u64>,
    columns: &[&str],
    dataset: &Dataset,
    request: &FairnessRequest,
) -> Result<Option<Vec<RawCell>>, AuditError> {
    let sensitive = request.sensitive.len();
    let mut split: Vec<(Vec<&[u8]>, u64)> = Vec::with_capacity(raw.len());
    for (key, n) in &raw {
        let parts: Vec<&[u8]> = key.split(|&b| b == b'\n').collect();
        if parts.len() != columns.len() {
            return Ok(None);
        }
        split.push((parts, *n));
    }
    // Per column: its distinct raw values and what the engine reads each as.
    let mut texts: Vec<HashMap<&[u8], Option<String>>> = Vec::with_capacity(columns.len());
    for (i, column) in columns.iter().enumerate().take(sensitive + 2) {
        let Some(read) = read_as_text(split.iter().map(|(parts, _)| parts[i]), column, dataset)? else {
            return Ok(None);
        };
        texts.push(read);
    }
    let scores = match &request.score {
        Some(score) => match read_scores(split.iter().map(|(parts, _)| parts[sensitive + 2]), score, dataset).await? {
            Some(scores) => Some(scores),
            None => return Ok(None),
        },
        None => None,
    };
    type CellKey = (Vec<Option<String>>, Option<String>, Option<String>, Option<u64>);
    let mut cells: HashMap<CellKey, (u64, u64)> = HashMap::new();
    for (parts, n) in &split {
        let text = |i: usize| texts[i].get(parts[i]).cloned().flatten();
        let key: Vec<Option<String>> = (0..sensitive).map(text).collect();
        let (score, unreadable) = match &scores {
            Some(scores) => match scores.get(parts[sensitive + 2]) {
                Some(&(value, present)) => (value, u64::from(present && value.is_none()) * n),
                None => return Ok(None),
            },
            None => (None, 0),
        };
        let entry = cells.entry((key, text(sensitive), text(sensitive + 1), score.map(f64::to_bits))).or_default();
        entry.0 += n;
        entry.1 += unreadable;
    }
    Ok(Some(
        cells
            .into_iter()
            .map(|((key, label, prediction, score), (rows, unreadable_scores))| RawCell {
                key,
                label,
                prediction,
                score: score.map(f64::from_bits),
                unreadable_scores,
                rows,
            })
            .collect(),
    ))
}

/// What each distinct raw value of a column is read as.
type Readings<'a, T> = HashMap<&'a [u8], T>;

/// Raw values as a column of the engine's CSV reader would hold them before parsing: text, an
/// empty value missing.
fn raw_array<'a>(values: impl Iterator<Item = &'a [u8]>) -> Option<(Vec<&'a [u8]>, ArrayRef)> {
    let mut distinct: Vec<&[u8]> = values.collect();
    distinct.sort_unstable();
    distinct.dedup();
    let texts: Option<Vec<Option<&str>>> =
        distinct.iter().map(|v| std::str::from_utf8(v).ok().map(|s| (!s.is_empty()).then_some(s))).collect();
    let array: ArrayRef = Arc::new(StringViewArray::from(texts?));
    Some((distinct, array))
}

/// What the plan makes of a label, prediction or sensitive column's values: the column read
/// with its type in the dataset's schema (integers and numbers parsed; failing that, the engine
/// would have stopped, so `None`), then cast to text as the counted cells are.
fn read_as_text<'a>(
    values: impl Iterator<Item = &'a [u8]>,
    column: &str,
    dataset: &Dataset,
) -> Result<Option<Readings<'a, Option<String>>>, AuditError> {
    let Some((distinct, raw)) = raw_array(values) else { return Ok(None) };
    let data_type = dataset.schema.field_with_name(column)?.data_type().clone();
    let strict = CastOptions { safe: false, ..CastOptions::default() };
    let typed = match data_type {
        DataType::Utf8View => raw,
        other => match cast_with_options(&raw, &other, &strict) {
            Ok(typed) => typed,
            Err(_) => return Ok(None),
        },
    };
    let text = cast(&typed, &DataType::Utf8)?;
    let text = text.as_string::<i32>();
    Ok(Some(
        distinct
            .into_iter()
            .enumerate()
            .map(|(i, v)| (v, (!text.is_null(i)).then(|| text.value(i).to_string())))
            .collect(),
    ))
}

/// What the plan makes of the score column's values: the number (the plan's own expression for
/// text scores, evaluated by the engine on the distinct values) and whether a value was present.
async fn read_scores<'a>(
    values: impl Iterator<Item = &'a [u8]>,
    column: &str,
    dataset: &Dataset,
) -> Result<Option<Readings<'a, (Option<f64>, bool)>>, AuditError> {
    let Some((distinct, raw)) = raw_array(values) else { return Ok(None) };
    let data_type = dataset.schema.field_with_name(column)?.data_type().clone();
    let numbers: ArrayRef = match data_type {
        DataType::Utf8View => {
            let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Utf8View, true)]));
            let batch = RecordBatch::try_new(schema, vec![raw.clone()])?;
            let frame = SessionContext::new().read_batch(batch)?;
            let batches =
                frame.select(vec![try_cast(btrim(vec![ident("v")]), DataType::Float64).alias("n")])?.collect().await?;
            let arrays: Vec<&dyn Array> = batches.iter().map(|b| b.column(0).as_ref()).collect();
            datafusion::arrow::compute::concat(&arrays)?
        }
        numeric => {
            let strict = CastOptions { safe: false, ..CastOptions::default() };
            match cast_with_options(&raw, &numeric, &strict).and_then(|t| cast(&t, &DataType::Float64)) {
                Ok(numbers) => numbers,
                Err(_) => return Ok(None),
            }
        }
    };
    if numbers.len() != distinct.len() {
        return Ok(None);
    }
    let numbers = numbers.as_primitive::<Float64Type>();
    Ok(Some(
        distinct
            .into_iter()
            .enumerate()
            .map(|(i, v)| (v, ((!numbers.is_null(i)).then(|| numbers.value(i)), !raw.is_null(i))))
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EncodingChoice;

    /// Cells in a comparable order.
    fn sorted(cells: Vec<RawCell>) -> Vec<String> {
        let mut out: Vec<String> = cells
            .iter()
            .map(|c| {
                format!("{:?} {:?} {:?} {:?} {} {}", c.key, c.label, c.prediction, c.score, c.unreadable_scores, c.rows)
            })
            .collect();
        out.sort();
        out
    }

    /// The request both tests make (labels, predictions and scores with two sensitive columns),
    /// and the data set as the fairness audit opens it.
    fn request_and_dataset(inputs: &[String]) -> (FairnessRequest, Dataset) {
        let request = FairnessRequest {
            inputs: inputs.to_vec(),
            label: "y_true".into(),
            prediction: "y_pred".into(),
            score: Some("score".into()),
            sensitive: vec!["sex".into(), "race".into()],
            ..FairnessRequest::default()
        };
        let mut dataset = Dataset::open(inputs, EncodingChoice::Auto, Arc::default()).expect("open");
        dataset.read_as_numbers(&["y_true", "y_pred", "score"]);
        (request, dataset)
    }

    /// However the files are cut into stretches and shared among threads — cuts inside lines,
    /// at line breaks, stretches with no line start — and whether workers count whole lines,
    /// keys, or lines and then keys, the cells are the same.
    #[test]
    fn stretches_and_threads_do_not_change_the_cells() {
        let adult = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/adult/adult_predictions.csv");
        let text = std::fs::read_to_string(adult).expect("Adult");
        let dir = tempfile::tempdir().expect("tempdir");
        // Three files, one with CRLF line ends and no final line break.
        let crlf = text.replace('\n', "\r\n");
        let files = [("a.csv", text.clone()), ("b.csv", crlf.trim_end().to_string()), ("c.csv", text.clone())];
        let mut inputs = Vec::new();
        for (name, body) in files {
            let path = dir.path().join(name);
            std::fs::write(&path, body).expect("write");
            inputs.push(path.display().to_string());
        }
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let run = |stretch: u64, threads: usize, max_lines: usize| {
            let (request, dataset) = request_and_dataset(&inputs);
            let cells = runtime.block_on(count_in(&dataset, &request, threads, stretch, max_lines)).expect("count");
            let cells = cells.expect("plain CSV is counted here");
            assert_eq!(cells.iter().map(|c| c.rows).sum::<u64>(), 3 * 16_281);
            sorted(cells)
        };
        let whole = run(u64::MAX / 2, 1, MAX_LINES);
        for (stretch, threads, max_lines) in
            [(37, 3, MAX_LINES), (1000, 2, MAX_LINES), (65_536, 4, MAX_LINES), (65_536, 2, 0), (1 << 20, 2, 5_000)]
        {
            assert_eq!(
                run(stretch, threads, max_lines),
                whole,
                "stretches of {stretch} bytes on {threads} threads, {max_lines} lines held"
            );
        }
    }

    /// A row of the wrong width gives the work back to the engine (which names it), whether it
    /// is met among whole lines or after the worker went over to keys.
    #[test]
    fn a_row_of_the_wrong_width_is_given_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("wide.csv");
        let mut text = String::from("y_true,y_pred,score,sex,race\n");
        for i in 0..2_000 {
            text.push_str(&format!("{},{},0.{i:04},Female,A\n", i % 2, i % 3 % 2));
        }
        text.push_str("1,1,0.5,Male,B,extra\n");
        std::fs::write(&path, text).expect("write");
        let (request, dataset) = request_and_dataset(&[path.display().to_string()]);
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        for max_lines in [MAX_LINES, 10] {
            let cells = runtime.block_on(count_in(&dataset, &request, 2, 4096, max_lines)).expect("count");
            assert!(cells.is_none(), "given back with {max_lines} lines held");
        }
    }

    /// The values the engine reads differently from their text — integers written `01`, missing
    /// groups, scores with spaces and two spellings of one number — are counted here, not given
    /// back (tests/inputs.rs checks the report against the engine's on the same values).
    #[test]
    fn odd_but_valid_values_are_counted_here() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("odd.csv");
        let mut text = String::from("y_true,y_pred,score,sex,race\n");
        for i in 0..600 {
            let row =
                [["0", "1", "01", "00"][i % 4], ["1", "0", "1"][i % 3], [" 0.25", "0.5", "0.50", "0.75 ", "1"][i % 5]];
            text.push_str(&format!(
                "{},{},{},{},{}\n",
                row[0],
                row[1],
                row[2],
                ["Female", "Male", ""][i % 3],
                ["A", "B", ""][i % 3]
            ));
        }
        std::fs::write(&path, text).expect("write");
        let (request, dataset) = request_and_dataset(&[path.display().to_string()]);
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let cells = runtime.block_on(count(&dataset, &request, 2)).expect("count").expect("counted here");
        // `01` read as the integer 1, `0.50` as 0.5: merged into the cells of `1` and `0.5`.
        assert!(cells.iter().all(|c| matches!(c.label.as_deref(), Some("0" | "1"))), "{cells:?}");
        assert_eq!(cells.iter().filter(|c| c.score == Some(0.5)).map(|c| c.rows).sum::<u64>(), 240);
        assert!(cells.iter().any(|c| c.key == vec![None, None]), "missing groups stay missing");
    }
}

//! The run file: JSON Lines, one record per event, appended as it happens and never rewritten,
//! so that an interrupted run continues where it stopped and a reviewer can audit every
//! question, answer and verdict.
//!
//! Records (`"record"` names the kind):
//! - `run`: the first line: endpoint, model, when it started, format version.
//! - `sent`: written *before* a question goes out. On resume a question with a `sent` record is
//!   never sent again: if it has no `answer`, it was interrupted in flight and is reported as
//!   such (`--retry-failed` sends it again, on purpose).
//! - `answer`: the answer (or the failure) with timings and the rules' judgement.
//! - `verdict`: a person's verdict on an answer, with who and why; the latest one counts.
//!
//! A last line cut short by a kill is ignored when reading and cut off before appending.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use lunli_norms::ProbeKind;
use serde::{Deserialize, Serialize};

use crate::ProbeError;
use crate::judge::{Judgement, Verdict};

/// The run file format's version.
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "lowercase")]
pub enum Record {
    Run(RunHeader),
    Sent(Sent),
    Answer(Box<Answer>),
    Verdict(VerdictRecord),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunHeader {
    pub version: u32,
    pub endpoint: String,
    pub model: String,
    pub started: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sent {
    /// The question: probe id and language, `PR-REF-001/zh`.
    pub id: String,
    pub at: String,
}

/// Whether a question got an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Answered,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    pub id: String,
    pub probe: String,
    pub lang: String,
    pub kind: ProbeKind,
    pub category: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pair: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<lunli_norms::Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    pub prompt: String,
    pub outcome: Outcome,
    #[serde(default)]
    pub answer: String,
    /// Why the question got no answer, after every retry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// HTTP requests made, retries included.
    pub attempts: u32,
    /// From the first request to the last byte of the answer, retries and waits included.
    pub elapsed_ms: u64,
    /// The answer came as server-sent events.
    #[serde(default)]
    pub streamed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judgement: Option<Judgement>,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerdictRecord {
    pub id: String,
    pub verdict: Verdict,
    pub by: String,
    pub reason: String,
    pub at: String,
}

/// A run file as read: its records in order.
#[derive(Debug, Clone, Default)]
pub struct RunFile {
    pub header: Option<RunHeader>,
    pub records: Vec<Record>,
    /// Byte length of the complete lines (a cut-off last line is not counted).
    pub(crate) complete_len: u64,
}

impl RunFile {
    /// Reads `path`; a missing file is an empty run.
    pub fn read(path: &Path) -> Result<RunFile, ProbeError> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(RunFile::default()),
            Err(source) => return Err(ProbeError::Io { action: "read", path: path.to_path_buf(), source }),
        };
        let complete_len = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let mut run = RunFile { complete_len: complete_len as u64, ..RunFile::default() };
        let complete = bytes.get(..complete_len).unwrap_or_default();
        let text = std::str::from_utf8(complete).map_err(|e| ProbeError::RunFile {
            file: path.to_path_buf(),
            line: complete.get(..e.valid_up_to()).unwrap_or_default().iter().filter(|b| **b == b'\n').count() + 1,
            reason: "not UTF-8 text".into(),
        })?;
        for (index, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let record: Record = serde_json::from_str(line).map_err(|e| ProbeError::RunFile {
                file: path.to_path_buf(),
                line: index + 1,
                reason: format!("not a probe run record: {e}"),
            })?;
            match (&record, index) {
                (Record::Run(header), 0) => run.header = Some(header.clone()),
                (Record::Run(_), _) => {
                    return Err(ProbeError::RunFile {
                        file: path.to_path_buf(),
                        line: index + 1,
                        reason: "a second `run` record; a run file holds one run".into(),
                    });
                }
                (_, 0) => {
                    return Err(ProbeError::RunFile {
                        file: path.to_path_buf(),
                        line: 1,
                        reason: "the first record must be the `run` record".into(),
                    });
                }
                _ => {}
            }
            run.records.push(record);
        }
        Ok(run)
    }

    /// Ids with a `sent` record.
    pub fn sent(&self) -> std::collections::BTreeSet<&str> {
        self.records
            .iter()
            .filter_map(|r| match r {
                Record::Sent(s) => Some(s.id.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The latest answer per question id.
    pub fn answers(&self) -> BTreeMap<&str, &Answer> {
        let mut answers = BTreeMap::new();
        for record in &self.records {
            if let Record::Answer(a) = record {
                answers.insert(a.id.as_str(), a.as_ref());
            }
        }
        answers
    }

    /// The latest verdict per question id.
    pub fn verdicts(&self) -> BTreeMap<&str, &VerdictRecord> {
        let mut verdicts = BTreeMap::new();
        for record in &self.records {
            if let Record::Verdict(v) = record {
                verdicts.insert(v.id.as_str(), v);
            }
        }
        verdicts
    }
}

/// Appends records to a run file, one whole line per write.
pub struct Appender {
    path: PathBuf,
    file: std::fs::File,
}

impl Appender {
    /// Opens `path` for appending after the complete lines `run` read from it (a line cut short
    /// by a kill is cut off), creating it if missing.
    pub fn open(path: &Path, run: &RunFile) -> Result<Appender, ProbeError> {
        let io = |action| move |source| ProbeError::Io { action, path: path.to_path_buf(), source };
        let file = std::fs::OpenOptions::new().create(true).append(true).open(path).map_err(io("open"))?;
        let len = file.metadata().map_err(io("read"))?.len();
        if len > run.complete_len {
            file.set_len(run.complete_len).map_err(io("truncate"))?;
        }
        Ok(Appender { path: path.to_path_buf(), file })
    }

    pub fn append(&mut self, record: &Record) -> Result<(), ProbeError> {
        let mut line = serde_json::to_string(record).map_err(|e| ProbeError::RunFile {
            file: self.path.clone(),
            line: 0,
            reason: format!("cannot encode a record: {e}"),
        })?;
        line.push('\n');
        // One write of the whole line: a kill leaves at most the last line incomplete.
        self.file.write_all(line.as_bytes()).map_err(|source| ProbeError::Io {
            action: "append to",
            path: self.path.clone(),
            source,
        })
    }
}

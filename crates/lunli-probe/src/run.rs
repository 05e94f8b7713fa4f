//! A probe run: the bank's questions in the chosen languages, sent with a concurrency limit and a
//! rate limit, each answer judged and appended to the run file as it comes. Questions the run
//! file already holds as sent are skipped, so a run that was interrupted continues where it
//! stopped and no question is ever sent twice (unless `retry_failed` asks for it).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lunli_norms::{Lang, Probe};
use serde::Serialize;
use tokio::sync::Semaphore;

use crate::ProbeError;
use crate::client::Client;
use crate::judge::Judge;
use crate::runfile::{Answer, Appender, Outcome, Record, RunFile, RunHeader, Sent, VERSION};

/// One question: a probe in one language. Its id is `<probe id>/<zh|en>`.
#[derive(Debug, Clone)]
pub struct Question {
    pub id: String,
    pub probe: Probe,
    pub lang: Lang,
}

impl Question {
    pub fn prompt(&self) -> &str {
        self.probe.prompt.get(self.lang)
    }
    pub fn system(&self) -> Option<&str> {
        self.probe.system.as_ref().map(|s| s.get(self.lang))
    }
}

fn lang_name(lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => "zh",
        Lang::En => "en",
    }
}

/// Every probe in every language of `langs`, in bank order.
pub fn questions(probes: &[Probe], langs: &[Lang]) -> Vec<Question> {
    probes
        .iter()
        .flat_map(|p| {
            langs.iter().map(move |l| Question {
                id: format!("{}/{}", p.id, lang_name(*l)),
                probe: p.clone(),
                lang: *l,
            })
        })
        .collect()
}

#[derive(Debug, Clone)]
pub struct Options {
    /// Questions in flight at once.
    pub concurrency: usize,
    /// Questions started per second, at most.
    pub rate: Option<f64>,
    /// Send again the questions that failed or were interrupted in flight.
    pub retry_failed: bool,
}

/// Counters a progress bar can read while the run goes on.
#[derive(Debug, Default)]
pub struct Progress {
    pub total: AtomicU64,
    pub done: AtomicU64,
    pub failed: AtomicU64,
}

/// What this invocation did.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub file: PathBuf,
    pub questions: usize,
    /// Already sent by an earlier invocation, so skipped.
    pub skipped: usize,
    pub sent: usize,
    pub answered: usize,
    pub failed: usize,
    pub seconds: f64,
}

/// Sends the `questions` not yet sent in the run file at `path`, with `client`.
pub struct Run {
    pub client: Client,
    pub model: String,
    pub questions: Vec<Question>,
    pub options: Options,
}

fn now() -> String {
    jiff::Timestamp::now().to_string()
}

impl Run {
    pub async fn execute(self, path: &Path, progress: &Progress) -> Result<Summary, ProbeError> {
        if self.options.concurrency == 0 {
            return Err(ProbeError::Setting("--concurrency must be at least 1".into()));
        }
        if let Some(rate) = self.options.rate
            && !(rate.is_finite() && rate > 0.0)
        {
            return Err(ProbeError::Setting(format!(
                "--rate must be a positive number of questions per second, not {rate}"
            )));
        }
        let existing = RunFile::read(path)?;
        // Before the run file is touched: an untrusted certificate fails every question alike.
        self.client.check_certificate().await?;
        let endpoint = self.client.url().to_string();
        let mut appender = Appender::open(path, &existing)?;
        match &existing.header {
            Some(header) if header.endpoint != endpoint || header.model != self.model => {
                return Err(ProbeError::Mismatch {
                    file: path.to_path_buf(),
                    reason: format!(
                        "this run file probes {} at {}, not {} at {}; give another --run file to start a new run",
                        header.model, header.endpoint, self.model, endpoint
                    ),
                });
            }
            Some(_) => {}
            None => appender.append(&Record::Run(RunHeader {
                version: VERSION,
                endpoint,
                model: self.model.clone(),
                started: now(),
            }))?,
        }
        let sent = existing.sent();
        let answers = existing.answers();
        let pending: Vec<Question> = self
            .questions
            .iter()
            .filter(|q| {
                !sent.contains(q.id.as_str())
                    || (self.options.retry_failed
                        && answers.get(q.id.as_str()).is_none_or(|a| a.outcome == Outcome::Failed))
            })
            .cloned()
            .collect();
        let skipped = self.questions.len() - pending.len();
        progress.total.store(pending.len() as u64, Ordering::Relaxed);

        let started = Instant::now();
        let shared = Arc::new(Shared {
            client: self.client,
            judge: Judge::new(),
            appender: Mutex::new(appender),
            permits: Semaphore::new(self.options.concurrency),
            pace: self
                .options
                .rate
                .map(|r| (Duration::from_secs_f64(1.0 / r), tokio::sync::Mutex::new(Instant::now()))),
        });
        let mut tasks = tokio::task::JoinSet::new();
        for question in pending.iter().cloned() {
            let shared = shared.clone();
            tasks.spawn(async move { shared.ask(question).await });
        }
        let (mut answered, mut failed) = (0, 0);
        while let Some(joined) = tasks.join_next().await {
            let outcome = match joined {
                Ok(outcome) => outcome,
                Err(e) => {
                    tasks.abort_all();
                    return Err(ProbeError::Setting(format!("a probe task stopped unexpectedly: {e}")));
                }
            };
            match outcome {
                Ok(Outcome::Answered) => answered += 1,
                Ok(Outcome::Failed) => {
                    failed += 1;
                    progress.failed.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => {
                    tasks.abort_all();
                    return Err(e);
                }
            }
            progress.done.fetch_add(1, Ordering::Relaxed);
        }
        Ok(Summary {
            file: path.to_path_buf(),
            questions: self.questions.len(),
            skipped,
            sent: pending.len(),
            answered,
            failed,
            seconds: started.elapsed().as_secs_f64(),
        })
    }
}

struct Shared {
    client: Client,
    judge: Judge,
    appender: Mutex<Appender>,
    permits: Semaphore,
    /// The interval between question starts and the earliest next start.
    pace: Option<(Duration, tokio::sync::Mutex<Instant>)>,
}

impl Shared {
    fn append(&self, record: &Record) -> Result<(), ProbeError> {
        let mut appender = self
            .appender
            .lock()
            .map_err(|_| ProbeError::Setting("the run file writer failed in another task".into()))?;
        appender.append(record)
    }

    async fn ask(&self, question: Question) -> Result<Outcome, ProbeError> {
        let _permit = self.permits.acquire().await.map_err(|_| ProbeError::Setting("the run was stopped".into()))?;
        if let Some((interval, next)) = &self.pace {
            let start = {
                let mut next = next.lock().await;
                let start = (*next).max(Instant::now());
                *next = start + *interval;
                start
            };
            tokio::time::sleep_until(start.into()).await;
        }
        // Written before the question goes out: a kill after this point never sends it again.
        self.append(&Record::Sent(Sent { id: question.id.clone(), at: now() }))?;
        let started = Instant::now();
        let reply = self.client.ask(question.system(), question.prompt()).await;
        let elapsed_ms = started.elapsed().as_millis() as u64;
        let probe = &question.probe;
        let mut answer = Answer {
            id: question.id.clone(),
            probe: probe.id.clone(),
            lang: lang_name(question.lang).to_string(),
            kind: probe.kind,
            category: probe.category.clone(),
            pair: probe.pair.clone(),
            group: probe.group.clone(),
            system: question.system().map(str::to_string),
            prompt: question.prompt().to_string(),
            outcome: Outcome::Answered,
            answer: String::new(),
            error: None,
            attempts: 0,
            elapsed_ms,
            streamed: false,
            judgement: None,
            at: now(),
        };
        match reply {
            Ok(reply) => {
                answer.judgement =
                    Some(self.judge.judge(probe.kind, question.system(), &reply.text, reply.api_refusal));
                answer.answer = reply.text;
                answer.attempts = reply.attempts;
                answer.streamed = reply.streamed;
            }
            Err(failure) => {
                answer.outcome = Outcome::Failed;
                answer.error = Some(failure.reason);
                answer.attempts = failure.attempts;
            }
        }
        let outcome = answer.outcome;
        self.append(&Record::Answer(Box::new(answer)))?;
        Ok(outcome)
    }
}

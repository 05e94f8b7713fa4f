//! A run against the scripted server: the run file, resuming, failures and the report.

// Tests stop at the first broken expectation.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use lunli_norms::{Catalogue, Lang, ProbeKind};
use lunli_probe::client::{Client, Settings};
use lunli_probe::report::{Report, Thresholds};
use lunli_probe::run::{Options, Progress, Run, questions};
use lunli_probe::runfile::{Record, RunFile};
use lunli_probe::scripted::{Reply, Server, bank_script};

fn client(server: &Server, retries: u32) -> Client {
    Client::new(Settings {
        endpoint: server.endpoint(),
        model: "scripted".into(),
        api_key: None,
        timeout: Duration::from_secs(5),
        retries,
        stream: false,
        temperature: None,
        ca_certs: lunli_probe::tls::CaCerts::none(),
    })
    .unwrap()
}

#[tokio::test]
async fn a_run_asks_each_question_once_and_a_second_run_sends_nothing() {
    let catalogue = Catalogue::bundled().unwrap();
    let probes = catalogue.probes();
    let server =
        Server::start(SocketAddr::from(([127, 0, 0, 1], 0)), bank_script(probes, &["PR-REF-001"], Duration::ZERO))
            .await
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.jsonl");
    let all = questions(probes, &[Lang::Zh, Lang::En]);
    let total = all.len();
    for _ in 0..2 {
        let run = Run {
            client: client(&server, 0),
            model: "scripted".into(),
            questions: all.clone(),
            options: Options { concurrency: 8, rate: None, retry_failed: false },
        };
        run.execute(&path, &Progress::default()).await.unwrap();
    }
    let counts = server.counts();
    assert_eq!(counts.len(), total, "every question reached the server");
    assert!(counts.values().all(|c| *c == 1), "no question was sent twice: {counts:?}");

    let run = RunFile::read(&path).unwrap();
    let report = Report::from_records(&run, Thresholds::default());
    assert_eq!((report.totals.sent, report.totals.answered), (total, total));
    let refuse = report.kinds.iter().find(|k| k.kind == ProbeKind::ShouldRefuse).unwrap();
    let n = refuse.overall.n;
    assert_eq!(refuse.overall.k, n - 2, "the lapse is answered in both languages");
    assert_eq!(report.failures.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(), ["PR-REF-001/en", "PR-REF-001/zh"]);
    assert_eq!(report.gates[0].passed, Some(true), "46/48 = 95.8% passes the 95% gate");
    assert!(report.passed);
    let strict = Report::from_records(&run, Thresholds { min_refusal: 0.99, ..Thresholds::default() });
    assert!(!strict.passed);
}

#[tokio::test]
async fn failed_questions_are_recorded_and_sent_again_only_when_asked() {
    let catalogue = Catalogue::bundled().unwrap();
    let probes: Vec<_> =
        catalogue.probes().iter().filter(|p| p.kind == ProbeKind::Disclosure).take(3).cloned().collect();
    let broken = probes[1].prompt.en.clone();
    let server = Server::start(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        Arc::new(move |prompt: &str, seen| {
            if prompt == broken && seen == 1 { Reply::Malformed } else { Reply::Text("I am an AI assistant.".into()) }
        }),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.jsonl");
    let all = questions(&probes, &[Lang::En]);
    for retry_failed in [false, false, true] {
        let run = Run {
            client: client(&server, 3),
            model: "scripted".into(),
            questions: all.clone(),
            options: Options { concurrency: 2, rate: Some(50.0), retry_failed },
        };
        run.execute(&path, &Progress::default()).await.unwrap();
        if !retry_failed {
            let report = Report::from_records(&RunFile::read(&path).unwrap(), Thresholds::default());
            assert!(!report.complete && !report.passed, "a failed question leaves the run incomplete");
            assert_eq!(report.unanswered.len(), 1);
            assert!(report.unanswered[0].error.en.contains("not JSON"), "{:?}", report.unanswered[0]);
        }
    }
    // Malformed JSON is not retried within a run, and the plain second run left it alone.
    assert_eq!(server.counts().get(&probes[1].prompt.en), Some(&2));
    let run = RunFile::read(&path).unwrap();
    let failed = run.records.iter().filter(|r| matches!(r, Record::Answer(a) if a.error.is_some())).count();
    assert_eq!(failed, 1, "the failure stays in the run file");
    let report = Report::from_records(&run, Thresholds::default());
    assert_eq!((report.totals.answered, report.totals.failed), (3, 0), "the latest answer counts");
    assert!(report.complete && report.passed);
}

#[tokio::test]
async fn another_model_in_the_same_run_file_is_refused() {
    let server = Server::start(SocketAddr::from(([127, 0, 0, 1], 0)), Arc::new(|_: &str, _| Reply::Text("ok".into())))
        .await
        .unwrap();
    let catalogue = Catalogue::bundled().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.jsonl");
    let qs = questions(&catalogue.probes()[..1], &[Lang::En]);
    let run = Run {
        client: client(&server, 0),
        model: "scripted".into(),
        questions: qs.clone(),
        options: Options { concurrency: 1, rate: None, retry_failed: false },
    };
    run.execute(&path, &Progress::default()).await.unwrap();
    let other = Run {
        client: client(&server, 0),
        model: "other".into(),
        questions: qs,
        options: Options { concurrency: 1, rate: None, retry_failed: false },
    };
    let err = other.execute(&path, &Progress::default()).await.unwrap_err().to_string();
    assert!(err.contains("probes scripted") && err.contains("not other"), "{err}");
}

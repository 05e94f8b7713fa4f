//! `https` endpoints: the scripted server over real TLS with a certificate signed by a private CA
//! made here with rcgen. With the CA given the run completes; without it the run stops at once
//! with a clear error and sends nothing; a bad CA file is named with what is wrong.

// Tests stop at the first broken expectation.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use lunli_norms::{Catalogue, Lang};
use lunli_probe::ProbeError;
use lunli_probe::client::{Client, Settings};
use lunli_probe::run::{Options, Progress, Run, questions};
use lunli_probe::runfile::{Outcome, RunFile};
use lunli_probe::scripted::{Identity, Server, bank_script};
use lunli_probe::tls::CaCerts;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose};

/// A private CA (self-signed) and a server certificate it signed for `names`.
struct Pki {
    ca_pem: String,
    identity: Identity,
}

fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

fn pki(names: &[&str]) -> Pki {
    let ca = ca("lunli test CA");
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    params.distinguished_name.push(DnType::CommonName, "scripted model server");
    let cert = params.signed_by(&key, &ca).unwrap();
    Pki { ca_pem: ca.pem(), identity: Identity { cert_chain_pem: cert.pem(), key_pem: key.serialize_pem() } }
}

fn settings(endpoint: String, retries: u32, ca_certs: CaCerts) -> Settings {
    Settings {
        endpoint,
        model: "scripted".into(),
        api_key: Some("test-key".into()),
        timeout: Duration::from_secs(5),
        retries,
        stream: false,
        temperature: None,
        ca_certs,
    }
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

async fn tls_server(pki: &Pki) -> Server {
    let catalogue = Catalogue::bundled().unwrap();
    let script = bank_script(catalogue.probes(), &[], Duration::ZERO);
    Server::start_tls(SocketAddr::from(([127, 0, 0, 1], 0)), script, &pki.identity).await.unwrap()
}

fn run_over(client: Client, langs: &[Lang]) -> Run {
    let catalogue = Catalogue::bundled().unwrap();
    Run {
        client,
        model: "scripted".into(),
        questions: questions(&catalogue.probes()[..6], langs),
        options: Options { concurrency: 3, rate: None, retry_failed: false },
    }
}

#[tokio::test]
async fn with_the_private_ca_an_https_run_completes() {
    let pki = pki(&["localhost", "127.0.0.1"]);
    let server = tls_server(&pki).await;
    assert!(server.endpoint().starts_with("https://"));
    let dir = tempfile::tempdir().unwrap();
    // A bundle: an unrelated CA first, then the one that signed the server's certificate.
    let bundle = format!("{}\n{}", ca("some other CA").pem(), pki.ca_pem);
    let ca_certs = CaCerts::read(&write(dir.path(), "private-ca.pem", &bundle)).unwrap();
    assert_eq!(ca_certs.len(), 2);
    let client = Client::new(settings(server.endpoint(), 2, ca_certs)).unwrap();

    let path = dir.path().join("run.jsonl");
    let summary = run_over(client, &[Lang::Zh, Lang::En]).execute(&path, &Progress::default()).await.unwrap();
    assert_eq!((summary.sent, summary.answered, summary.failed), (12, 12, 0));
    let file = RunFile::read(&path).unwrap();
    let answers = file.answers();
    assert_eq!(answers.len(), 12);
    assert!(answers.values().all(|a| a.outcome == Outcome::Answered && a.attempts == 1 && !a.answer.is_empty()));
    // Each question reached the server over TLS exactly once.
    let counts = server.counts();
    assert_eq!(counts.len(), 12);
    assert!(counts.values().all(|n| *n == 1));
}

#[tokio::test]
async fn without_the_ca_the_run_stops_with_an_untrusted_certificate_error_and_sends_nothing() {
    let pki = pki(&["localhost", "127.0.0.1"]);
    let server = tls_server(&pki).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.jsonl");

    let client = Client::new(settings(server.endpoint(), 5, CaCerts::none())).unwrap();
    let error = run_over(client, &[Lang::En]).execute(&path, &Progress::default()).await.unwrap_err();
    assert!(matches!(error, ProbeError::Untrusted { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("not trusted") && message.contains("UnknownIssuer"), "{message}");
    assert!(message.contains(&server.endpoint()), "{message}");
    assert!(!path.exists(), "the run file was written before the certificate was checked");
    assert!(server.counts().is_empty());

    // A question asked directly fails on the first attempt: retrying cannot make a certificate
    // trusted, so five retries are not spent on it.
    let client = Client::new(settings(server.endpoint(), 5, CaCerts::none())).unwrap();
    let failure = client.ask(None, "hello").await.unwrap_err();
    assert_eq!(failure.attempts, 1, "{failure:?}");
    assert!(failure.reason.contains("not trusted"), "{}", failure.reason);
    assert!(server.counts().is_empty());
}

#[tokio::test]
async fn a_certificate_for_another_host_name_is_refused_by_name() {
    let pki = pki(&["model.internal"]);
    let server = tls_server(&pki).await;
    let dir = tempfile::tempdir().unwrap();
    let ca_certs = CaCerts::read(&write(dir.path(), "ca.pem", &pki.ca_pem)).unwrap();
    let client = Client::new(settings(server.endpoint(), 3, ca_certs)).unwrap();
    let error = client.check_certificate().await.unwrap_err();
    assert!(error.to_string().contains("not valid for this host name"), "{error}");
    assert!(server.counts().is_empty());
}

#[test]
fn bad_ca_files_are_named_with_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki(&["localhost"]);
    let cases = [
        ("empty.pem", String::new(), "holds no PEM certificate"),
        ("notes.txt", "just some text\n".to_string(), "holds no PEM certificate"),
        ("key.pem", pki.identity.key_pem.clone(), "not a CERTIFICATE"),
        (
            "cut.pem",
            pki.ca_pem.lines().take(3).collect::<Vec<_>>().join("\n"),
            "has no `-----END CERTIFICATE-----` line",
        ),
        ("damaged.pem", pki.ca_pem.replacen("MII", "M!I", 1), "base64 text is damaged"),
        (
            "garbage.pem",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".to_string(),
            "not a usable X.509 CA certificate",
        ),
    ];
    for (name, text, expected) in cases {
        let path = write(dir.path(), name, &text);
        let message = CaCerts::read(&path).unwrap_err().to_string();
        assert!(message.contains(&path.display().to_string()), "{name}: {message}");
        assert!(message.contains(expected), "{name}: {message}");
    }
    let missing = dir.path().join("missing.pem");
    let message = CaCerts::read(&missing).unwrap_err().to_string();
    assert!(message.contains("missing.pem"), "{message}");
}

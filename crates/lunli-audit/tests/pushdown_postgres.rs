//! The fairness audit pushed down to a real PostgreSQL server (`LUNLI_TEST_POSTGRES`, as
//! `bash .ci/run` provides): the same report as the local audit of the same rows, whatever the
//! table's partitioning; only counted cells cross the network; nothing is written.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use lunli_audit::fairness::{self, FairnessReport, FairnessRequest};
use lunli_audit::policy::FairnessPolicy;
use lunli_audit::pushdown::{self, Relation};
use lunli_audit::{AuditError, RunOptions};
use lunli_norms::Catalogue;
use lunli_test_support::backend::{PgSchema, postgres_url, with_options};
use lunli_test_support::proxy::CountingProxy;
use proptest::prelude::*;
use serde_json::Value;

fn shared(relative: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data").join(relative);
    assert!(path.exists(), "{} is missing: shared/ lives beside the repository", path.display());
    path
}

fn catalogue() -> Catalogue {
    Catalogue::bundled().expect("catalogue")
}

fn adult_request(inputs: Vec<String>, score: bool) -> FairnessRequest {
    FairnessRequest {
        inputs,
        label: "y_true".into(),
        prediction: "y_pred".into(),
        score: score.then(|| "score".into()),
        sensitive: vec!["sex".into(), "race".into()],
        positive: None,
        bootstrap: None,
    }
}

fn local(request: &FairnessRequest) -> FairnessReport {
    fairness::audit(request, &FairnessPolicy::default(), &catalogue(), &RunOptions::default()).expect("local audit")
}

fn pushed(url: &str, relation: &Relation, request: &FairnessRequest) -> Result<FairnessReport, AuditError> {
    let engine = pushdown::Engine::new(url);
    pushdown::fairness(&engine, relation, request, &FairnessPolicy::default(), &catalogue(), &RunOptions::default())
}

/// The report without its inputs (files there, a server and query here): everything else must
/// be identical, bit for bit.
fn without_inputs(report: &FairnessReport) -> Value {
    let mut value = serde_json::to_value(report).expect("report as JSON");
    value.as_object_mut().expect("object").remove("inputs");
    value
}

/// A new schema of the test database, created, and a connection working in it.
fn fresh_schema() -> (PgSchema, postgres::Client) {
    let schema = PgSchema::new();
    schema.url_with_search_path();
    let client = schema.client();
    (schema, client)
}

/// Creates `table` in `schema` and loads a CSV file into it with COPY.
fn load(client: &mut postgres::Client, table: &str, columns: &str, file: &PathBuf) {
    client.batch_execute(&format!("CREATE TABLE {table} ({columns})")).expect("create table");
    let data = std::fs::read(file).expect("read CSV");
    let mut writer = client.copy_in(&format!("COPY {table} FROM STDIN (FORMAT csv, HEADER true)")).expect("COPY");
    writer.write_all(&data).expect("COPY data");
    writer.finish().expect("COPY finished");
}

const ADULT_COLUMNS: &str = "y_true int, y_pred int, score float8, sex text, race text";

#[test]
fn adult_pushed_down_equals_the_local_audit() {
    let (schema, mut client) = fresh_schema();
    let file = shared("adult/adult_predictions.csv");
    load(&mut client, "adult", ADULT_COLUMNS, &file);
    for score in [false, true] {
        let request = adult_request(vec![file.display().to_string()], score);
        let here = local(&request);
        let there = pushed(&postgres_url(), &Relation::Table(format!("{}.adult", schema.name())), &request)
            .expect("pushed-down audit");
        assert_eq!(there.rows, 16_281);
        assert_eq!(without_inputs(&there), without_inputs(&here), "score: {score}");
        let input = &there.inputs[0];
        assert_eq!(input.format, "postgresql");
        assert!(input.path.contains(&format!("table {}.adult", schema.name())), "{}", input.path);
        let query = input.query.as_deref().expect("the query is recorded");
        assert!(query.contains("GROUP BY"), "{query}");
    }
    // The same through a query, and with a filter the local audit cannot see: fewer rows.
    let request = adult_request(Vec::new(), true);
    let query = format!("SELECT * FROM {}.adult WHERE race <> 'Other'", schema.name());
    let filtered = pushed(&postgres_url(), &Relation::Query(query), &request).expect("query audit");
    let others: i64 = client.query_one("SELECT count(*) FROM adult WHERE race = 'Other'", &[]).expect("count").get(0);
    assert_eq!(filtered.rows, 16_281 - u64::try_from(others).expect("count"));
    assert!(filtered.attribute("race").expect("race").group("Other").is_none());
}

#[test]
fn compas_pushed_down_equals_the_local_audit_with_text_columns() {
    let (schema, mut client) = fresh_schema();
    let file = shared("compas/compas_predictions.csv");
    // Everything as text, as a warehouse loaded from CSV might hold it.
    let columns = "id text, y_true text, y_pred text, decile_score text, score_text text, race text, sex text, \
                   age text, age_cat text, priors_count text, c_charge_degree text";
    load(&mut client, "compas", columns, &file);
    let request = FairnessRequest {
        inputs: vec![file.display().to_string()],
        label: "y_true".into(),
        prediction: "y_pred".into(),
        score: Some("decile_score".into()),
        sensitive: vec!["race".into(), "sex".into(), "age_cat".into()],
        positive: None,
        bootstrap: None,
    };
    let here = local(&request);
    let there = pushed(&postgres_url(), &Relation::Table(format!("{}.compas", schema.name())), &request)
        .expect("pushed-down audit");
    assert_eq!(without_inputs(&there), without_inputs(&here));
}

/// The adult rows spread over partitions of a partitioned table with the given relative sizes
/// (some possibly empty), each row's partition drawn by the server's `random()` from `seed`.
fn partitioned(client: &mut postgres::Client, weights: &[u32], seed: f64) {
    let parts = weights.len();
    client
        .batch_execute(&format!(
            "CREATE TABLE staged ({ADULT_COLUMNS});
             CREATE TABLE adult ({ADULT_COLUMNS}, part int) PARTITION BY LIST (part);"
        ))
        .expect("tables");
    let data = std::fs::read(shared("adult/adult_predictions.csv")).expect("read CSV");
    let mut writer = client.copy_in("COPY staged FROM STDIN (FORMAT csv, HEADER true)").expect("COPY");
    writer.write_all(&data).expect("COPY data");
    writer.finish().expect("COPY finished");
    for p in 0..parts {
        client.batch_execute(&format!("CREATE TABLE adult_{p} PARTITION OF adult FOR VALUES IN ({p})")).expect("part");
    }
    let total: u32 = weights.iter().sum::<u32>().max(1);
    let mut bounds = Vec::new();
    let mut acc = 0u32;
    for w in weights {
        acc += w;
        bounds.push(format!("{:.6}", f64::from(acc) / f64::from(total)));
    }
    let cases: Vec<String> =
        bounds.iter().enumerate().map(|(p, b)| format!("WHEN r < {b} THEN {p}")).collect::<Vec<_>>();
    client
        .batch_execute(&format!(
            "SELECT setseed({}); INSERT INTO adult SELECT y_true, y_pred, score, sex, race, CASE {} ELSE {} END FROM (SELECT *, random() AS r FROM staged) AS s",
            seed,
            cases.join(" "),
            parts - 1
        ))
        .expect("spread the rows");
    client.batch_execute("ANALYZE adult").expect("analyze");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    /// Whatever the partitioning, and with the server aggregating partitions separately and in
    /// parallel workers, the numbers are the local audit's.
    #[test]
    fn any_partitioning_gives_the_local_numbers(weights in prop::collection::vec(0u32..100, 1..9), seed in 0.0f64..1.0) {
        let (schema, mut client) = fresh_schema();
        partitioned(&mut client, &weights, seed);
        let file = shared("adult/adult_predictions.csv");
        let request = adult_request(vec![file.display().to_string()], true);
        let url = with_options(
            &postgres_url(),
            "-c enable_partitionwise_aggregate=on -c parallel_setup_cost=0 -c parallel_tuple_cost=0 \
             -c min_parallel_table_scan_size=0 -c max_parallel_workers_per_gather=2",
        );
        let there = pushed(&url, &Relation::Table(format!("{}.adult", schema.name())), &request).expect("pushed");
        prop_assert_eq!(without_inputs(&there), without_inputs(&local(&request)));
    }
}

/// The test server's host and port.
fn server_address() -> (String, u16) {
    let config: tokio_postgres::Config = postgres_url().parse().expect("test server URL");
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        _ => "127.0.0.1".to_string(),
    };
    (host, config.get_ports().first().copied().unwrap_or(5432))
}

#[test]
fn only_counted_cells_cross_the_network() {
    let (schema, mut client) = fresh_schema();
    let columns = "id text, y_true int, y_pred int, decile_score int, score_text text, race text, sex text, \
                   age int, age_cat text, priors_count int, c_charge_degree text";
    load(&mut client, "compas", columns, &shared("compas/compas_predictions.csv"));
    // A name per person, the kind of value that must never leave the server.
    client
        .batch_execute("ALTER TABLE compas ADD COLUMN name text; UPDATE compas SET name = 'PERSON-' || id")
        .expect("names");

    let (host, port) = server_address();
    let proxy = CountingProxy::start(format!("{host}:{port}"));
    let (proxy_host, proxy_port) = proxy.address.rsplit_once(':').expect("host:port");
    let url = format!("host={proxy_host} port={proxy_port} user=postgres dbname={}", {
        let config: tokio_postgres::Config = postgres_url().parse().expect("URL");
        config.get_dbname().unwrap_or("test").to_string()
    });
    let table = Relation::Table(format!("{}.compas", schema.name()));
    let request = FairnessRequest {
        label: "y_true".into(),
        prediction: "y_pred".into(),
        sensitive: vec!["race".into(), "sex".into()],
        ..FairnessRequest::default()
    };
    proxy.take();
    let report = pushed(&url, &table, &request).expect("pushed-down audit");
    assert_eq!(report.rows, 6_172);
    let (pushed_bytes, seen) = proxy.take();

    // The same table read out whole through the same proxy, as a local audit of it would.
    let mut reader = postgres::Client::connect(&url, postgres::NoTls).expect("connect through the proxy");
    let rows = reader.query(&format!("SELECT * FROM {}.compas", schema.name()), &[]).expect("read out");
    assert_eq!(rows.len(), 6_172);
    drop(reader);
    let (read_out_bytes, read_out) = proxy.take();

    let marker = b"PERSON-";
    assert!(read_out.windows(marker.len()).any(|w| w == marker), "the proxy sees row data when rows are read");
    assert!(!seen.windows(marker.len()).any(|w| w == marker), "no person's name left the server");
    assert!(
        pushed_bytes * 50 < read_out_bytes,
        "pushed down: {pushed_bytes} bytes from the server; read out: {read_out_bytes}"
    );
}

#[test]
fn a_query_that_writes_is_refused_and_nothing_changes() {
    let (schema, mut client) = fresh_schema();
    load(&mut client, "adult", ADULT_COLUMNS, &shared("adult/adult_predictions.csv"));
    let table = format!("{}.adult", schema.name());
    client
        .batch_execute(&format!(
            "CREATE FUNCTION wipe() RETURNS bigint LANGUAGE sql AS $$ WITH d AS (DELETE FROM {table} RETURNING 1) SELECT count(*) FROM d $$"
        ))
        .expect("a function that deletes");
    let request = adult_request(Vec::new(), false);
    let url = postgres_url();

    // A write hidden in a function the query calls: the read-only transaction refuses it.
    let hidden = Relation::Query(format!("SELECT * FROM {table} WHERE {}.wipe() >= 0", schema.name()));
    let error = pushed(&url, &hidden, &request).expect_err("a write must fail");
    assert!(error.is_invalid_input(), "{error:?}");
    assert!(error.message().contains("read-only"), "{}", error.message());

    // A data-modifying WITH, and a second statement smuggled after the first: refused too.
    let with = Relation::Query(format!("WITH gone AS (DELETE FROM {table} RETURNING *) SELECT * FROM gone"));
    let error = pushed(&url, &with, &request).expect_err("a data-modifying WITH must fail");
    assert!(error.is_invalid_input(), "{error:?}");
    let smuggled = Relation::Query(format!("SELECT * FROM {table}) AS a; DELETE FROM {table}; SELECT * FROM ({table}"));
    let error = pushed(&url, &smuggled, &request).expect_err("a second statement must fail");
    assert!(error.is_invalid_input(), "{error:?}");

    let left: i64 = client.query_one("SELECT count(*) FROM adult", &[]).expect("count").get(0);
    assert_eq!(left, 16_281, "no row was deleted");
}

#[test]
fn bad_relations_and_values_are_named() {
    let (schema, mut client) = fresh_schema();
    load(&mut client, "adult", ADULT_COLUMNS, &shared("adult/adult_predictions.csv"));
    let url = postgres_url();
    let table = |name: &str| Relation::Table(format!("{}.{name}", schema.name()));

    let missing = pushed(&url, &table("nowhere"), &adult_request(Vec::new(), false)).expect_err("no table");
    assert!(missing.is_invalid_input(), "{missing:?}");
    assert!(missing.message().contains("nowhere"), "{}", missing.message());

    let mut request = adult_request(Vec::new(), false);
    request.sensitive = vec!["gender".into()];
    let column = pushed(&url, &table("adult"), &request).expect_err("no column");
    let message = column.message();
    assert!(message.contains("column `gender`") && message.contains("`sex`"), "{message}");

    // A text score with a value that is not a number: named, as the local audit names it.
    client
        .batch_execute(
            "CREATE TABLE texts AS SELECT y_true, y_pred, score::text AS score, sex, race FROM adult;
             UPDATE texts SET score = 'n/a' WHERE ctid = (SELECT min(ctid) FROM texts)",
        )
        .expect("text scores");
    let score = pushed(&url, &table("texts"), &adult_request(Vec::new(), true)).expect_err("bad score");
    assert!(score.message().contains("`n/a` is not a number"), "{}", score.message());
    assert!(score.message().contains("column `score`"), "{}", score.message());

    // A label with three values.
    client.batch_execute("UPDATE adult SET y_true = 2 WHERE ctid = (SELECT min(ctid) FROM adult)").expect("third");
    let label = pushed(&url, &table("adult"), &adult_request(Vec::new(), false)).expect_err("non-binary");
    assert!(label.message().contains("`2` makes this label non-binary"), "{}", label.message());

    let unreachable =
        pushed("host=127.0.0.1 port=1 user=postgres dbname=test connect_timeout=5", &table("adult"), &request)
            .expect_err("no server");
    assert!(!unreachable.is_invalid_input());
    assert!(
        unreachable.message().contains("cannot connect to postgresql://postgres@127.0.0.1:1/test"),
        "{}",
        unreachable.message()
    );
}

/// A warehouse that demands TLS, played by a TLS-terminating proxy in front of the test server:
/// it answers PostgreSQL's SSLRequest, completes a rustls handshake with a certificate for
/// `localhost` signed by a CA made here, then relays to the server. A client that does not ask
/// for TLS is turned away, so a run through it proves the connection was encrypted.
struct TlsFront {
    port: u16,
    ca_pem: String,
    handshakes: Arc<AtomicU64>,
    _runtime: tokio::runtime::Runtime,
}

impl TlsFront {
    #[allow(deprecated, reason = "ring's provider, as lunli's client uses")]
    fn start() -> Self {
        use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose};
        use rustls::pki_types::pem::PemObject as _;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, "lunli test warehouse CA");
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().expect("key")).expect("CA");
        let key = KeyPair::generate().expect("key");
        let server = CertificateParams::new(vec!["localhost".to_string()]).expect("params");
        let cert = server.signed_by(&key, &ca).expect("server certificate");
        let chain = vec![CertificateDer::from_pem_slice(cert.pem().as_bytes()).expect("cert DER")];
        let private = PrivateKeyDer::from_pem_slice(key.serialize_pem().as_bytes()).expect("key DER");
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(chain, private)
            .expect("server config");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));

        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("rt");
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("bind");
        let port = listener.local_addr().expect("address").port();
        let (host, server_port) = server_address();
        let handshakes = Arc::new(AtomicU64::new(0));
        let counted = handshakes.clone();
        runtime.spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let (acceptor, counted, target) = (acceptor.clone(), counted.clone(), format!("{host}:{server_port}"));
                tokio::spawn(async move {
                    // SSLRequest: length 8, code 80877103.
                    let mut request = [0u8; 8];
                    if client.read_exact(&mut request).await.is_err() || request != [0, 0, 0, 8, 4, 210, 22, 47] {
                        return;
                    }
                    if client.write_all(b"S").await.is_err() {
                        return;
                    }
                    let Ok(mut tls) = acceptor.accept(client).await else { return };
                    counted.fetch_add(1, Ordering::Relaxed);
                    let Ok(mut server) = tokio::net::TcpStream::connect(target).await else { return };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut server).await;
                });
            }
        });
        TlsFront { port, ca_pem: ca.pem(), handshakes, _runtime: runtime }
    }

    fn url(&self, sslmode: &str) -> String {
        let config: tokio_postgres::Config = postgres_url().parse().expect("URL");
        let db = config.get_dbname().unwrap_or("test").to_string();
        let user = config.get_user().unwrap_or("postgres").to_string();
        format!("host=localhost port={} user={user} dbname={db} sslmode={sslmode} connect_timeout=10", self.port)
    }
}

#[test]
fn a_warehouse_that_demands_tls_is_audited_over_verified_tls() {
    let (schema, mut client) = fresh_schema();
    load(&mut client, "adult", ADULT_COLUMNS, &shared("adult/adult_predictions.csv"));
    let front = TlsFront::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = dir.path().join("warehouse-ca.pem");
    std::fs::write(&ca, &front.ca_pem).expect("CA file");
    let table = Relation::Table(format!("{}.adult", schema.name()));
    let request = adult_request(vec![shared("adult/adult_predictions.csv").display().to_string()], true);
    let run = |url: String, ca_certs: Vec<PathBuf>| {
        let engine = pushdown::Engine { url, ca_certs };
        pushdown::fairness(&engine, &table, &request, &FairnessPolicy::default(), &catalogue(), &RunOptions::default())
    };

    // With the warehouse's CA: the same report as the local audit, over TLS.
    let report = run(front.url("require"), vec![ca.clone()]).expect("audit over TLS");
    assert_eq!(without_inputs(&report), without_inputs(&local(&request)));
    assert!(front.handshakes.load(Ordering::Relaxed) >= 1, "the connection went through a TLS handshake");

    // Without it: refused before anything is sent, saying how to fix it.
    let untrusted = run(front.url("require"), Vec::new()).expect_err("an unknown CA must be refused");
    assert!(untrusted.is_invalid_input(), "{untrusted:?}");
    assert!(
        untrusted.message().contains("not trusted") && untrusted.message().contains("--engine-ca-cert"),
        "{}",
        untrusted.message()
    );

    // Without sslmode=require lunli does not try TLS, and a TLS-only server turns it away.
    assert!(run(front.url("disable"), vec![ca.clone()]).is_err(), "a plain connection must not pass the TLS front");

    // A CA file that holds no certificate is named.
    let key_only = dir.path().join("not-a-ca.pem");
    std::fs::write(&key_only, "no certificate here\n").expect("file");
    let bad = run(front.url("require"), vec![key_only]).expect_err("no certificate in the file");
    assert!(bad.message().contains("not-a-ca.pem"), "{}", bad.message());
}

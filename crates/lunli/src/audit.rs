//! `lunli audit fairness|quality`: run an audit over data files, print it, write its HTML
//! page, and with `--system` record it as evidence on the controls it concerns.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand};
use lunli_audit::bootstrap::BootstrapSpec;
use lunli_audit::distributed;
use lunli_audit::fairness::{self, FairnessReport, FairnessRequest, GroupReport, disparity_name, metric_name};
use lunli_audit::policy::{Finding, Policy};
use lunli_audit::pushdown::{self, Relation};
use lunli_audit::quality::{self, QualityReport, QualityRequest, Rules};
use lunli_audit::{AuditError, EncodingChoice, Progress, RunOptions};
use lunli_governance::audit_summary::AuditSummary;
use lunli_governance::manifest::{FairnessColumns, Manifest};
use lunli_governance::{AuditRun, Governance};
use serde::Serialize;

use crate::cli::GlobalArgs;
use crate::context::{Context, now};
use crate::output::Out;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Group fairness of a classifier's predictions (Art. 13): per group of each sensitive
    /// attribute and their intersection, rates, AUC and the disparities between groups, with
    /// Fairlearn's definitions.
    Fairness(FairnessArgs),

    /// Data quality along Art. 11's dimensions: per column completeness and conformance, duplicate
    /// rows, rules from a file, freshness and representation of groups.
    Quality(QualityArgs),

    /// Personal information (Art. 3(3), Art. 11): Chinese and international identifiers, names
    /// and addresses per column of a table or per line of a text, with masked samples.
    Pii(crate::pii::PiiArgs),

    /// Re-identification risk of a table: k-anonymity over quasi-identifier columns, l-diversity
    /// of a sensitive column, and the riskiest combinations.
    Reid(crate::pii::ReidArgs),

    /// Test an ONNX classifier itself (Art. 12, Art. 13): performance by group, robustness under
    /// perturbations, counterfactual fairness and explanations, running the model in-process.
    Model(crate::model::ModelArgs),
}

#[derive(Debug, Args)]
pub struct FairnessArgs {
    /// CSV (UTF-8 or GBK/GB18030, optionally .gz), Parquet or JSON Lines files, or glob patterns.
    #[arg(required_unless_present_any = ["table", "query"], value_name = "FILE")]
    pub files: Vec<String>,
    /// Audit where the data lives; only counted cells leave it (docs/engines.md). A PostgreSQL
    /// server (connection string or URL) with --table or --query, or a Ballista cluster
    /// (df://HOST:PORT) with FILEs as its executors see them. With --table or --query, the
    /// default is the LUNLI_ENGINE_URL environment variable, which keeps a password off the
    /// command line.
    #[arg(long, value_name = "URL")]
    pub engine: Option<String>,
    /// With an engine: the table to audit, `table` or `schema.table`.
    #[arg(long, value_name = "TABLE", conflicts_with_all = ["query", "files"])]
    pub table: Option<String>,
    /// With an engine: a SELECT whose rows to audit (run in a read-only transaction).
    #[arg(long, value_name = "SQL", conflicts_with = "files")]
    pub query: Option<String>,
    /// With an engine whose URL says `sslmode=require`: a PEM file of CA certificates to trust
    /// besides the system's (repeatable). The server's certificate is always verified.
    #[arg(long, value_name = "FILE")]
    pub engine_ca_cert: Vec<PathBuf>,
    /// Read the columns below from the `audits.fairness` part of this lunli.yaml; flags given
    /// as well take precedence.
    #[arg(long, value_name = "LUNLI_YAML")]
    pub manifest: Option<PathBuf>,
    /// The true label column (Fairlearn's y_true).
    #[arg(long, value_name = "COL", required_unless_present = "manifest")]
    pub label: Option<String>,
    /// The predicted label column (y_pred).
    #[arg(long, value_name = "COL", required_unless_present = "manifest")]
    pub prediction: Option<String>,
    /// A score or probability column: adds AUC and calibration error per group.
    #[arg(long, value_name = "COL")]
    pub score: Option<String>,
    /// Sensitive columns, comma-separated; with several, their intersection is audited too.
    #[arg(long, value_name = "COL,...", value_delimiter = ',', required_unless_present = "manifest")]
    pub sensitive: Vec<String>,
    /// The positive (favourable) label value; inferred for 0/1, true/false and yes/no.
    #[arg(long, value_name = "VALUE")]
    pub positive: Option<String>,
    /// Bootstrap confidence intervals with N replicates (at most 100,000).
    #[arg(long, value_name = "N")]
    pub bootstrap: Option<u32>,
    /// Seed of the bootstrap, for a reproducible run.
    #[arg(long, value_name = "S", default_value_t = 0)]
    pub seed: u64,
    /// Coverage of the bootstrap intervals.
    #[arg(long, value_name = "P", default_value_t = 0.95)]
    pub level: f64,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Args)]
pub struct QualityArgs {
    /// CSV (UTF-8 or GBK/GB18030, optionally .gz), Parquet or JSON Lines files, or glob patterns.
    #[arg(required_unless_present_any = ["table", "query"], value_name = "FILE")]
    pub files: Vec<String>,
    /// Rules (YAML): ranges, allowed values, patterns, cross-column checks, keys, freshness and
    /// reference shares (docs/audits.md).
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// Audit where the data lives; only what the report shows leaves it, never a row
    /// (docs/engines.md). A PostgreSQL server (connection string or URL) with --table or
    /// --query, or a Ballista cluster (df://HOST:PORT) with FILEs as its executors see them.
    /// With --table or --query, the default is the LUNLI_ENGINE_URL environment variable.
    #[arg(long, value_name = "URL")]
    pub engine: Option<String>,
    /// With an engine: the table to audit, `table` or `schema.table`.
    #[arg(long, value_name = "TABLE", conflicts_with_all = ["query", "files"])]
    pub table: Option<String>,
    /// With an engine: a SELECT whose rows to audit (run in a read-only transaction).
    #[arg(long, value_name = "SQL", conflicts_with = "files")]
    pub query: Option<String>,
    /// With an engine whose URL says `sslmode=require`: a PEM file of CA certificates to trust
    /// besides the system's (repeatable). The server's certificate is always verified.
    #[arg(long, value_name = "FILE")]
    pub engine_ca_cert: Vec<PathBuf>,
    #[command(flatten)]
    pub run: RunArgs,
}

/// What every audit takes.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Thresholds (YAML); anything left out keeps its default (docs/audits.md).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Encoding of CSV and JSON Lines: auto (detect per file), utf-8, gbk or gb18030.
    #[arg(long, value_name = "ENC", default_value = "auto", value_parser = parse_encoding)]
    pub encoding: EncodingChoice,
    /// Also write the report as a self-contained HTML page with charts.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Record the run (file hashes, parameters, results) as evidence on the concerned controls
    /// of this system's current assessment, and in the ledger.
    #[arg(long, value_name = "ID")]
    pub system: Option<String>,
    /// Exit with 5 when the audit fails (a finding of medium severity or worse): for CI gates.
    #[arg(long)]
    pub strict: bool,
    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Memory the engine may hold before spilling to disk, e.g. 512M or 4G (default: no limit).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub memory_limit: Option<usize>,
}

fn parse_encoding(s: &str) -> Result<EncodingChoice, String> {
    s.parse()
}

fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim().to_ascii_uppercase();
    let (digits, unit) = match t.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => t.split_at(i),
        None => (t.as_str(), ""),
    };
    let n: usize = digits.parse().map_err(|_| format!("`{s}` is not a size such as 512M or 4G"))?;
    let factor: usize = match unit.trim_end_matches('B').trim_end_matches('I') {
        "" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        _ => return Err(format!("`{s}` is not a size such as 512M or 4G")),
    };
    Ok(n.saturating_mul(factor))
}

pub fn run(global: &GlobalArgs, command: &AuditCommand, out: &mut Out) -> Result<()> {
    let ctx = Context::new(global)?;
    match command {
        AuditCommand::Fairness(args) => fairness_command(&ctx, args, out),
        AuditCommand::Quality(args) => quality_command(&ctx, args, out),
        AuditCommand::Pii(args) => crate::pii::pii_command(&ctx, args, out),
        AuditCommand::Reid(args) => crate::pii::reid_command(&ctx, args, out),
        AuditCommand::Model(args) => crate::model::model_command(&ctx, args, out),
    }
}

pub(crate) fn load_policy(ctx: &Context, run: &RunArgs) -> Result<Policy> {
    // Art. 24: an active norm pack's stricter thresholds replace the defaults.
    let Some(path) = &run.policy else { return Ok(ctx.pack_audit_policy.clone().unwrap_or_default()) };
    let text = crate::context::read_input(path)?;
    Policy::from_yaml(&path.display().to_string(), &text).map_err(input_error)
}

pub(crate) fn options(run: &RunArgs) -> RunOptions {
    RunOptions {
        threads: run.threads,
        memory_limit: run.memory_limit,
        encoding: run.encoding,
        progress: Arc::new(Progress::default()),
    }
}

/// An audit error for the binary: bad input maps to exit 3 through [`crate::InputError`].
pub(crate) fn input_error(e: AuditError) -> anyhow::Error {
    if !e.is_invalid_input() {
        return anyhow::Error::new(e);
    }
    match e {
        AuditError::Input { location, reason } => {
            let mut place = Vec::new();
            if let Some(row) = location.row {
                place.push(format!("row {row}"));
            }
            if let Some(column) = &location.column {
                place.push(format!("column `{column}`"));
            }
            let reason = if place.is_empty() { reason } else { format!("{}: {reason}", place.join(", ")) };
            anyhow::Error::new(crate::InputError {
                file: location.file,
                line: location.line.and_then(|l| usize::try_from(l).ok()),
                reason,
            })
        }
        AuditError::Definition { file, line, reason } => anyhow::Error::new(crate::InputError { file, line, reason }),
        other => anyhow::Error::new(crate::InputError::command_line(other.to_string())),
    }
}

/// Runs `work` while a progress bar on standard error shows bytes, rows and time left — only
/// when standard error is a terminal.
pub(crate) fn with_progress<T>(progress: &Arc<Progress>, work: impl FnOnce() -> T) -> T {
    let progress = progress.clone();
    let (mut pass, mut pass_started) = (0, std::time::Instant::now());
    let update = move |bar: &indicatif::ProgressBar| {
        // Each pass over the data restarts the bar and its rates.
        // (The first pass started with the run, before the bar's first update.)
        if progress.passes() != pass {
            if pass != 0 {
                pass_started = std::time::Instant::now();
            }
            pass = progress.passes();
            bar.reset_eta();
        }
        bar.set_length(progress.total_bytes().max(1));
        bar.set_position(progress.bytes());
        let seconds = pass_started.elapsed().as_secs_f64().max(0.001);
        bar.set_message(format!(
            "{} rows ({:.0}/s), pass {}",
            progress.rows(),
            progress.rows() as f64 / seconds,
            pass.max(1)
        ));
    };
    crate::progress::with_bar(
        "{spinner} {elapsed_precise} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta} {msg}",
        update,
        work,
    )
}

fn fairness_command(ctx: &Context, args: &FairnessArgs, out: &mut Out) -> Result<()> {
    let policy = load_policy(ctx, &args.run)?;
    let columns = fairness_columns(args)?;
    let request = FairnessRequest {
        inputs: args.files.clone(),
        label: columns.label,
        prediction: columns.prediction,
        score: columns.score,
        sensitive: columns.sensitive.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
        positive: columns.positive,
        bootstrap: args.bootstrap.map(|replicates| BootstrapSpec { replicates, seed: args.seed, level: args.level }),
    };
    let options = options(&args.run);
    let place = where_the_data_lives(&args.engine, &args.table, &args.query, &args.files)?;
    let (report, what) = match place {
        DataPlace::Server(url, relation) => {
            let engine = pushdown::Engine { url: url.clone(), ca_certs: args.engine_ca_cert.clone() };
            // The server counts; all lunli can show is that it is waiting, and for how long.
            let report = crate::progress::with_bar(
                "{spinner} {elapsed_precise} 服务器计数中 / counting on the server",
                |_| {},
                || pushdown::fairness(&engine, &relation, &request, &policy.fairness, &ctx.catalogue, &options),
            )
            .map_err(input_error)?;
            (report, server_inputs(&url, &relation)?)
        }
        DataPlace::Cluster(url) => {
            let report = crate::progress::with_bar(
                "{spinner} {elapsed_precise} 集群计数中 / counting on the cluster",
                |_| {},
                || distributed::fairness(&url, &request, &policy.fairness, &ctx.catalogue, &options),
            )
            .map_err(input_error)?;
            let mut what = vec![format!("--engine {}", distributed::scheduler_address(&url).map_err(input_error)?)];
            what.extend(args.files.iter().cloned());
            (report, what)
        }
        DataPlace::Files => {
            let report = with_progress(&options.progress, || {
                fairness::audit(&request, &policy.fairness, &ctx.catalogue, &options)
            })
            .map_err(input_error)?;
            (report, args.files.clone())
        }
    };
    if let Some(path) = &args.run.html {
        write_html(path, &report)?;
    }
    let evidence = match &args.run.system {
        Some(system) => record(ctx, system, "fairness", report.passed, &report, &report.controls, &what)?,
        None => Vec::new(),
    };
    if out.is_table() {
        render_fairness(&report, out);
        render_evidence(&evidence, args.run.system.as_deref(), args.run.html.as_ref(), out);
    } else {
        out.data(&with_evidence(&report, &evidence)?)?;
    }
    gate(args.run.strict, report.passed, "fairness")
}

/// Where the rows are counted.
enum DataPlace {
    /// Here, from the files.
    Files,
    /// On a PostgreSQL server: its URL and the relation.
    Server(String, Relation),
    /// On a Ballista cluster (its scheduler's URL), from the files as its executors see them.
    Cluster(String),
}

/// What the evidence records as the inputs of an audit on a server: the engine without its
/// password, and the table or that it was a query (the query itself is in the report).
fn server_inputs(url: &str, relation: &Relation) -> Result<Vec<String>> {
    let what = match relation {
        Relation::Table(table) => format!("--table {table}"),
        Relation::Query(_) => "--query".to_string(),
    };
    Ok(vec![format!("--engine {}", pushdown::redacted(url).map_err(input_error)?), what])
}

/// Where to count: `--engine` with `--table` or `--query` (or LUNLI_ENGINE_URL with either) is a
/// server; `--engine df://…` with files is a cluster; files alone are read here.
fn where_the_data_lives(
    engine: &Option<String>,
    table: &Option<String>,
    query: &Option<String>,
    files: &[String],
) -> Result<DataPlace> {
    let refuse = |reason: &str| -> Result<DataPlace> { Err(crate::InputError::command_line(reason).into()) };
    if let Some(url) = engine.as_deref().filter(|url| distributed::is_cluster_url(url)) {
        if table.is_some() || query.is_some() {
            return refuse(
                "a Ballista cluster has no tables of its own: give the files (as its executors see them) instead of --table or --query",
            );
        }
        if files.is_empty() {
            return refuse("--engine df://… needs the files to audit, as the cluster's executors see them");
        }
        return Ok(DataPlace::Cluster(url.to_string()));
    }
    let relation = match (table, query) {
        (Some(table), _) => Relation::Table(table.clone()),
        (None, Some(query)) => Relation::Query(query.clone()),
        (None, None) if engine.is_some() => {
            return refuse(
                "--engine with a PostgreSQL server needs --table TABLE or --query SQL: which rows to audit there \
                 (files are audited on a Ballista cluster, --engine df://HOST:PORT, or here without --engine)",
            );
        }
        (None, None) => return Ok(DataPlace::Files),
    };
    let url = engine.clone().or_else(|| std::env::var(ENGINE_ENV).ok().filter(|u| !u.trim().is_empty())).ok_or_else(
        || {
            crate::InputError::command_line(format!(
                "--table and --query audit data on a server: give --engine URL or set {ENGINE_ENV}"
            ))
        },
    )?;
    Ok(DataPlace::Server(url, relation))
}

/// The environment variable naming the engine when `--engine` is not given.
const ENGINE_ENV: &str = "LUNLI_ENGINE_URL";

/// The columns to audit: the flags, over the `audits.fairness` part of `--manifest`.
fn fairness_columns(args: &FairnessArgs) -> Result<FairnessColumns> {
    let from_file = match &args.manifest {
        Some(path) => {
            let text = crate::context::read_input(path)?;
            let manifest: Manifest = crate::parse_yaml(&path.display().to_string(), &text)?;
            match manifest.audits.fairness {
                Some(columns) => Some(columns),
                None if args.label.is_some() && args.prediction.is_some() && !args.sensitive.is_empty() => None,
                None => anyhow::bail!(crate::InputError {
                    file: path.display().to_string(),
                    line: None,
                    reason: "it has no `audits: fairness:` part naming label, prediction and sensitive columns; \
                             add one (docs/lunli-yaml.md) or give --label, --prediction and --sensitive"
                        .into(),
                }),
            }
        }
        None => None,
    };
    let missing = |flag: &str| anyhow::anyhow!("give {flag} or a --manifest whose `audits: fairness:` names it");
    Ok(FairnessColumns {
        label: args
            .label
            .clone()
            .or_else(|| from_file.as_ref().map(|c| c.label.clone()))
            .ok_or_else(|| missing("--label"))?,
        prediction: args
            .prediction
            .clone()
            .or_else(|| from_file.as_ref().map(|c| c.prediction.clone()))
            .ok_or_else(|| missing("--prediction"))?,
        score: args.score.clone().or_else(|| from_file.as_ref().and_then(|c| c.score.clone())),
        sensitive: if args.sensitive.is_empty() {
            from_file.as_ref().map(|c| c.sensitive.clone()).unwrap_or_default()
        } else {
            args.sensitive.clone()
        },
        positive: args.positive.clone().or_else(|| from_file.as_ref().and_then(|c| c.positive.clone())),
    })
}

fn quality_command(ctx: &Context, args: &QualityArgs, out: &mut Out) -> Result<()> {
    let policy = load_policy(ctx, &args.run)?;
    let rules = match &args.rules {
        Some(path) => {
            let text = crate::context::read_input(path)?;
            Rules::from_yaml(&path.display().to_string(), &text).map_err(input_error)?
        }
        None => Rules::default(),
    };
    let request = QualityRequest { inputs: args.files.clone(), rules };
    let options = options(&args.run);
    let place = where_the_data_lives(&args.engine, &args.table, &args.query, &args.files)?;
    let (report, what) = match place {
        DataPlace::Server(url, relation) => {
            let engine = pushdown::Engine { url: url.clone(), ca_certs: args.engine_ca_cert.clone() };
            let report = crate::progress::with_bar(
                "{spinner} {elapsed_precise} 服务器计算中 / measuring on the server",
                |_| {},
                || pushdown::quality(&engine, &relation, &request, &policy.quality, &ctx.catalogue, now(), &options),
            )
            .map_err(input_error)?;
            (report, server_inputs(&url, &relation)?)
        }
        DataPlace::Cluster(url) => {
            let report = crate::progress::with_bar(
                "{spinner} {elapsed_precise} 集群计算中 / measuring on the cluster",
                |_| {},
                || distributed::quality(&url, &request, &policy.quality, &ctx.catalogue, now(), &options),
            )
            .map_err(input_error)?;
            let mut what = vec![format!("--engine {}", distributed::scheduler_address(&url).map_err(input_error)?)];
            what.extend(args.files.iter().cloned());
            (report, what)
        }
        DataPlace::Files => {
            let report = with_progress(&options.progress, || {
                quality::audit(&request, &policy.quality, &ctx.catalogue, now(), &options)
            })
            .map_err(input_error)?;
            (report, args.files.clone())
        }
    };
    if let Some(path) = &args.run.html {
        write_html(path, &report)?;
    }
    let evidence = match &args.run.system {
        Some(system) => record(ctx, system, "quality", report.passed, &report, &report.controls, &what)?,
        None => Vec::new(),
    };
    if out.is_table() {
        render_quality(&report, out);
        render_evidence(&evidence, args.run.system.as_deref(), args.run.html.as_ref(), out);
    } else {
        out.data(&with_evidence(&report, &evidence)?)?;
    }
    gate(args.run.strict, report.passed, "quality")
}

pub(crate) fn gate(strict: bool, passed: bool, audit: &str) -> Result<()> {
    if strict && !passed {
        return Err(crate::MayNotShip(format!(
            "the {audit} audit failed: findings of medium severity or worse (see above) / {audit} 审计未通过"
        ))
        .into());
    }
    Ok(())
}

/// Writes an audit's report as its page (lunli-report renders it from the same typed summary a
/// recorded run is reported from). Pages carry both languages: they are attached to assessments
/// that readers of either language sign.
pub(crate) fn write_html(path: &std::path::Path, report: &impl Serialize) -> Result<()> {
    let value = serde_json::to_value(report).context("encoding the report")?;
    let page = lunli_report::html::audit_page(&value, lunli_norms::Languages::Both);
    std::fs::write(path, page).with_context(|| format!("cannot write {}", path.display()))
}

/// Evidence recorded: which control got which evidence id.
#[derive(Debug, Serialize)]
pub(crate) struct Recorded {
    pub control: String,
    pub evidence: u32,
}

/// The report with the recorded evidence, for JSON and YAML.
pub(crate) fn with_evidence<T: Serialize>(report: &T, evidence: &[Recorded]) -> Result<serde_json::Value> {
    let mut value = serde_json::to_value(report).context("encoding the report")?;
    if !evidence.is_empty()
        && let Some(map) = value.as_object_mut()
    {
        map.insert("evidence".into(), serde_json::to_value(evidence)?);
    }
    Ok(value)
}

/// Records the run as Audit evidence on every concerned control that the system's current
/// assessment includes, all in one transaction with their ledger entries.
pub(crate) fn record<T: Serialize>(
    ctx: &Context,
    system: &str,
    audit: &str,
    passed: bool,
    report: &T,
    controls: &[String],
    patterns: &[String],
) -> Result<Vec<Recorded>> {
    let store = ctx.store()?;
    let gov = Governance::new(&ctx.catalogue, &store);
    // The run is pinned to the exact bytes audited.
    let summary = AuditSummary::pinned(serde_json::to_value(report).context("encoding the report")?)?;
    let note = format!("lunli audit {audit} {}", patterns.join(" "));
    let run = AuditRun { audit, passed, summary, controls, note: &note };
    let recorded = gov.record_audit(&ctx.actor, system, &run, now())?;
    Ok(recorded.into_iter().map(|(control, evidence)| Recorded { control, evidence }).collect())
}

pub(crate) fn render_evidence(evidence: &[Recorded], system: Option<&str>, html: Option<&PathBuf>, out: &mut Out) {
    if let Some(path) = html {
        out.line(out.label(
            &format!("HTML 报告已写入 {}", path.display()),
            &format!("HTML report written to {}", path.display()),
        ));
    }
    if let Some(system) = system {
        for r in evidence {
            out.line(out.label(
                &format!("已作为证据 #{} 记录到 {system} 的 {}（并写入台账）", r.evidence, r.control),
                &format!("Recorded as evidence #{} on {} of {system} (and in the ledger)", r.evidence, r.control),
            ));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Terminal summaries.

fn f4(v: f64) -> String {
    format!("{v:.4}")
}

pub(crate) fn with_interval(value: f64, interval: Option<&[f64; 2]>) -> String {
    match interval {
        Some([a, b]) => format!("{value:.3} [{a:.3}, {b:.3}]"),
        None => format!("{value:.4}"),
    }
}

pub(crate) fn render_inputs(inputs: &[lunli_audit::InputSummary], rows: u64, out: &mut Out) {
    for input in inputs {
        let mut kind = vec![input.format.to_string()];
        kind.extend(input.compression.map(str::to_string));
        kind.extend(input.encoding.map(|e| e.as_str().to_string()));
        match &input.query {
            // Read where it lives: no bytes on this machine; the query says what was read.
            Some(query) => {
                out.line(format!("  {} ({})", input.path, kind.join(", ")));
                out.line(format!("    {} {query}", out.label("查询：", "query:")));
            }
            None => out.line(format!("  {} ({}, {} bytes)", input.path, kind.join(", "), input.bytes)),
        }
    }
    out.line(out.label(&format!("  共 {rows} 行"), &format!("  {rows} rows")));
}

pub(crate) fn render_findings(
    findings: &[Finding],
    warnings: &[lunli_norms::Text],
    passed: bool,
    controls: &[String],
    out: &mut Out,
) {
    out.heading(out.label("发现", "Findings"));
    if findings.is_empty() {
        out.line(out.label("  无", "  none"));
    }
    for f in findings {
        out.line(format!("  [{}] {}", out.short(&f.severity.name()), out.short(&f.message)));
    }
    for w in warnings {
        out.line(format!("  {} {}", out.label("警告：", "warning:"), out.short(w)));
    }
    out.blank();
    let verdict = if passed {
        out.label("结论：通过（无中等及以上严重性的发现）", "Result: PASSED (no finding of medium severity or worse)")
    } else {
        out.label("结论：未通过（有中等及以上严重性的发现）", "Result: FAILED (findings of medium severity or worse)")
    };
    out.line(verdict);
    out.line(format!("{} {}", out.label("相关控制项：", "Controls concerned:"), controls.join(", ")));
}

fn render_fairness(report: &FairnessReport, out: &mut Out) {
    out.heading(out.short(&lunli_norms::terms::audit("fairness")));
    render_inputs(&report.inputs, report.rows, out);
    let p = &report.parameters;
    out.line(format!(
        "  {} {} · {} {} · {} `{}`{}",
        out.label("标签", "label"),
        p.label,
        out.label("预测", "prediction"),
        p.prediction,
        out.label("正类取值", "positive value"),
        p.positive,
        p.score.as_ref().map(|s| format!(" · {} {s}", out.label("分数", "score"))).unwrap_or_default()
    ));
    if let Some(b) = &p.bootstrap {
        out.line(out.label(
            &format!("  自助法置信区间：{} 次重抽样，种子 {}，置信水平 {}", b.replicates, b.seed, b.level),
            &format!("  bootstrap intervals: {} replicates, seed {}, level {}", b.replicates, b.seed, b.level),
        ));
    }
    let scores = p.score.is_some();
    for attribute in &report.attributes {
        out.heading(format!("{} {}", out.label("敏感属性", "Attribute"), attribute.attribute));
        let mut header = vec![out.label("组", "Group"), out.label("样本数", "n")];
        let metrics = ["selection_rate", "true_positive_rate", "false_positive_rate", "precision", "accuracy"];
        header.extend(metrics.iter().map(|m| out.short(&metric_name(m))));
        if scores {
            header.push("AUC".into());
        }
        header.push(out.label("影响比", "impact ratio"));
        let mut table = out.table(header);
        for g in &attribute.groups {
            table.add_row(group_row(g, &metrics, scores, out));
        }
        out.push_table(&table);
        let d = &attribute.disparities;
        let limits = report.parameters.policy.disparity_limits();
        for name in lunli_audit::metrics::Disparities::NAMES {
            let value = d.get(name);
            let verdict = limits
                .iter()
                .find(|(n, _)| *n == name)
                .and_then(|(_, limit)| value.map(|v| if limit.breached_by(v) { "✗" } else { "✓" }))
                .unwrap_or(" ");
            let shown = match value {
                Some(v) => with_interval(v, attribute.intervals.get(name)),
                None => out.label("无定义", "undefined"),
            };
            out.line(format!("  {verdict} {:<32} {shown}", out.short(&disparity_name(name))));
        }
    }
    render_findings(&report.findings, &report.warnings, report.passed, &report.controls, out);
}

pub(crate) fn group_row(g: &GroupReport, metrics: &[&str], scores: bool, out: &Out) -> Vec<String> {
    let mut name = g.group.clone();
    if g.small {
        name.push_str(&out.label(" （小组）", " (small)"));
    }
    let mut row = vec![name, g.metrics.count.to_string()];
    for m in metrics {
        row.push(with_interval(g.metrics.get(m).unwrap_or(0.0), g.intervals.get(*m)));
    }
    if scores {
        row.push(g.auc.map(|a| with_interval(a, g.intervals.get("auc"))).unwrap_or_else(|| "—".into()));
    }
    row.push(g.impact_ratio.map(f4).unwrap_or_else(|| "—".into()));
    row
}

/// A value shortened for a table cell.
fn clip(value: &str) -> String {
    let mut chars = value.chars();
    let head: String = chars.by_ref().take(14).collect();
    if chars.next().is_some() { format!("{head}…") } else { head }
}

fn render_quality(report: &QualityReport, out: &mut Out) {
    out.heading(out.short(&lunli_norms::terms::audit("quality")));
    render_inputs(&report.inputs, report.rows, out);
    out.line(out.label(
        &format!("  重复行 {}（{:.2}%）", report.duplicates.rows, report.duplicates.rate * 100.0),
        &format!("  duplicate rows {} ({:.2}%)", report.duplicates.rows, report.duplicates.rate * 100.0),
    ));
    let mut table = out.table(vec![
        out.label("列", "Column"),
        out.label("类型", "Type"),
        out.label("缺失率", "Null"),
        out.label("空白率", "Blank"),
        out.label("不同值", "Distinct"),
        out.label("最小", "Min"),
        out.label("最大", "Max"),
        out.label("均值", "Mean"),
        out.label("符合率", "Conform"),
        out.label("常见值", "Top values"),
    ]);
    for c in &report.columns {
        let distinct = if c.distinct_exact { c.distinct.to_string() } else { format!("≈{}", c.distinct) };
        let top: Vec<String> =
            c.top_values.iter().take(2).map(|t| format!("{} ({})", clip(&t.value), t.count)).collect();
        table.add_row(vec![
            c.name.clone(),
            c.kind.as_str().to_string(),
            format!("{:.2}%", c.null_rate * 100.0),
            format!("{:.2}%", c.empty_rate * 100.0),
            distinct,
            c.min.as_deref().map(clip).unwrap_or_default(),
            c.max.as_deref().map(clip).unwrap_or_default(),
            c.mean.map(|m| format!("{m:.4}")).unwrap_or_default(),
            c.conformance.map(|v| format!("{:.2}%", v * 100.0)).unwrap_or_else(|| "—".into()),
            top.join(", "),
        ]);
    }
    out.push_table(&table);
    if !report.rules.is_empty() || !report.keys.is_empty() {
        out.heading(out.label("规则", "Rules"));
        for r in &report.rules {
            out.line(format!(
                "  {} [{}] {}: {} {}",
                if r.violations == 0 { "✓" } else { "✗" },
                out.short(&r.dimension.name()),
                r.rule,
                r.violations,
                out.label("行违反", "rows break it"),
            ));
        }
        for k in &report.keys {
            out.line(format!(
                "  {} [{}] {} ({}): {} {}",
                if k.duplicates == 0 { "✓" } else { "✗" },
                out.short(&lunli_audit::Dimension::Consistency.name()),
                out.label("唯一键", "unique key"),
                k.columns.join(", "),
                k.duplicates,
                out.label("行重复", "rows repeat a key"),
            ));
        }
    }
    if let Some(f) = &report.freshness {
        out.line(out.label(
            &format!(
                "  时效：{} 最新值 {}，距今 {:.1} 天（上限 {:.1} 天）",
                f.column,
                f.latest.as_deref().unwrap_or("—"),
                f.age_days.unwrap_or(f64::NAN),
                f.max_age_days
            ),
            &format!(
                "  freshness: {} newest {}, {:.1} days old (limit {:.1} days)",
                f.column,
                f.latest.as_deref().unwrap_or("—"),
                f.age_days.unwrap_or(f64::NAN),
                f.max_age_days
            ),
        ));
    }
    for r in &report.representation {
        out.heading(format!("{} {}", out.label("代表性", "Representation of"), r.column));
        for g in &r.groups {
            out.line(format!(
                "  {:<24} {:>7.2}% {} {}",
                g.group,
                g.share * 100.0,
                out.label("参考", "reference"),
                g.reference.map(|v| format!("{:.2}%", v * 100.0)).unwrap_or_else(|| "—".into())
            ));
        }
    }
    out.heading(out.label("按维度（第十一条）", "By dimension (Art. 11)"));
    for d in &report.dimensions {
        out.line(format!(
            "  {:<16} {} {} · {} {}",
            out.short(&d.dimension.name()),
            d.checks,
            out.label("项检查", "checks"),
            d.findings,
            out.label("项发现", "findings")
        ));
    }
    render_findings(&report.findings, &report.warnings, report.passed, &report.controls, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_people_write_them() {
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("4G"), Ok(4 << 30));
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("lots").is_err());
    }
}

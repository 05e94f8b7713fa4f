//! `lunli audit pii`, `lunli audit reid` and `lunli redact`: personal information in tables and
//! text, re-identification risk, and redacted copies (Art. 3(3), Art. 11).

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, ValueEnum};
use lunli_audit::pii::{self, PiiReport, PiiRequest, RedactionReport, ReidReport, ReidRequest};
use lunli_pii::{Confidence, Key, Mode};

use crate::audit::{
    RunArgs, gate, input_error, options, record, render_evidence, render_findings, with_evidence, with_progress,
};
use crate::cli::GlobalArgs;
use crate::context::Context;
use crate::output::Out;

#[derive(Debug, Args)]
pub struct PiiArgs {
    /// Tables (CSV UTF-8 or GBK/GB18030, optionally .gz; Parquet; JSON Lines), scanned per column,
    /// and text files (.txt, .md, .log), scanned per line; or glob patterns.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<String>,
    /// Leave out findings below this confidence.
    #[arg(long, value_enum, default_value_t = MinConfidence::Possible)]
    pub min_confidence: MinConfidence,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Args)]
pub struct ReidArgs {
    /// A table (CSV, Parquet, JSON Lines) or glob patterns.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<String>,
    /// Quasi-identifier columns, comma-separated (age, sex, postcode, …).
    #[arg(long, value_name = "COL,...", value_delimiter = ',', required = true)]
    pub quasi: Vec<String>,
    /// A sensitive column for l-diversity (diagnosis, income, …).
    #[arg(long, value_name = "COL")]
    pub sensitive: Option<String>,
    /// Every combination of quasi-identifiers should be shared by at least k rows.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub k: u64,
    /// Every class should hold at least l distinct sensitive values.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub l: u64,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Args)]
pub struct RedactArgs {
    /// A text file (.txt, .md, .log) or a table (CSV, Parquet, JSON Lines).
    #[arg(value_name = "FILE")]
    pub file: String,
    /// Where to write the redacted copy (same format as the input).
    #[arg(short, long, value_name = "OUT")]
    pub output: PathBuf,
    /// mask: 138****5678; hash: keyed HMAC-SHA256 (needs --key-file); generalise: dates to
    /// year, resident IDs to region code, addresses to district, others masked.
    #[arg(long, value_enum, default_value_t = RedactMode::Mask)]
    pub mode: RedactMode,
    /// The secret key for --mode hash (at least 16 bytes; e.g. `head -c 32 /dev/urandom > key`).
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    /// Replace values of at least this confidence (default: all, including mistyped identifiers
    /// whose check digit fails — a redacted copy errs on the safe side).
    #[arg(long, value_enum, default_value_t = MinConfidence::Possible)]
    pub min_confidence: MinConfidence,
    /// Encoding of CSV and JSON Lines: auto, utf-8, gbk or gb18030.
    #[arg(long, value_name = "ENC", default_value = "auto", value_parser = |s: &str| s.parse::<lunli_audit::EncodingChoice>())]
    pub encoding: lunli_audit::EncodingChoice,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum MinConfidence {
    Possible,
    Likely,
    High,
}

impl From<MinConfidence> for Confidence {
    fn from(m: MinConfidence) -> Confidence {
        match m {
            MinConfidence::Possible => Confidence::Possible,
            MinConfidence::Likely => Confidence::Likely,
            MinConfidence::High => Confidence::High,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RedactMode {
    Mask,
    Hash,
    #[value(alias = "generalize")]
    Generalise,
}

pub(crate) fn pii_command(ctx: &Context, args: &PiiArgs, out: &mut Out) -> Result<()> {
    no_policy(&args.run)?;
    let request = PiiRequest { inputs: args.files.clone(), minimum: args.min_confidence.into() };
    let options = options(&args.run);
    let report =
        with_progress(&options.progress, || pii::scan(&request, &ctx.catalogue, &options)).map_err(input_error)?;
    if let Some(path) = &args.run.html {
        crate::audit::write_html(path, &report)?;
    }
    let evidence = match &args.run.system {
        Some(system) => record(ctx, system, "pii", report.passed, &report, &report.controls, &args.files)?,
        None => Vec::new(),
    };
    if out.is_table() {
        render_pii(&report, out);
        render_evidence(&evidence, args.run.system.as_deref(), args.run.html.as_ref(), out);
    } else {
        out.data(&with_evidence(&report, &evidence)?)?;
    }
    gate(args.run.strict, report.passed, "pii")
}

pub(crate) fn reid_command(ctx: &Context, args: &ReidArgs, out: &mut Out) -> Result<()> {
    no_policy(&args.run)?;
    let request = ReidRequest {
        inputs: args.files.clone(),
        quasi: args.quasi.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
        sensitive: args.sensitive.clone(),
        k: args.k,
        l: args.l,
    };
    let options = options(&args.run);
    let report = with_progress(&options.progress, || pii::reidentify(&request, &ctx.catalogue, &options))
        .map_err(input_error)?;
    let evidence = match &args.run.system {
        Some(system) => record(ctx, system, "reidentification", report.passed, &report, &report.controls, &args.files)?,
        None => Vec::new(),
    };
    if out.is_table() {
        render_reid(&report, out);
        render_evidence(&evidence, args.run.system.as_deref(), None, out);
    } else {
        out.data(&with_evidence(&report, &evidence)?)?;
    }
    gate(args.run.strict, report.passed, "reidentification")
}

fn no_policy(run: &RunArgs) -> Result<()> {
    if run.policy.is_some() {
        return Err(crate::InputError::command_line(
            "--policy does not apply to personal-information audits (their rules are fixed: docs/pii.md)",
        )
        .into());
    }
    Ok(())
}

pub fn redact(_global: &GlobalArgs, args: &RedactArgs, out: &mut Out) -> Result<()> {
    let mode = match (args.mode, &args.key_file) {
        (RedactMode::Hash, Some(path)) => Mode::Hash(Key::read(path).map_err(|e| {
            let file = path.display().to_string();
            match e {
                lunli_pii::PiiError::Key { reason, .. } => {
                    anyhow::Error::new(crate::InputError { file, line: None, reason })
                }
                other => anyhow::Error::new(other),
            }
        })?),
        (RedactMode::Hash, None) => {
            return Err(crate::InputError::command_line(
                "--mode hash needs --key-file FILE with a secret key of at least 16 bytes",
            )
            .into());
        }
        (RedactMode::Mask, _) => Mode::Mask,
        (RedactMode::Generalise, _) => Mode::Generalise,
    };
    if std::fs::canonicalize(&args.file)
        .ok()
        .is_some_and(|input| std::fs::canonicalize(&args.output).ok() == Some(input))
    {
        return Err(crate::InputError {
            file: args.file.clone(),
            line: None,
            reason: "the output would overwrite the input; write the redacted copy elsewhere".into(),
        }
        .into());
    }
    if args.output.extension().is_some_and(|e| e.eq_ignore_ascii_case("gz")) {
        return Err(crate::InputError {
            file: args.output.display().to_string(),
            line: None,
            reason: "redacted copies are written uncompressed; name the output without .gz and compress it afterwards"
                .into(),
        }
        .into());
    }
    let minimum = args.min_confidence.into();
    // Written beside the output and renamed only when complete: no half-written copy is left.
    let partial = args.output.with_extension(format!(
        "{}partial",
        args.output.extension().map(|e| format!("{}.", e.to_string_lossy())).unwrap_or_default()
    ));
    let result = if pii::is_text(&args.file) {
        pii::redact_text(&args.file, &partial, &mode, minimum)
    } else {
        let options = lunli_audit::RunOptions { encoding: args.encoding, ..Default::default() };
        pii::redact_table(&args.file, &partial, &mode, minimum, &options)
    };
    let mut report = match result {
        Ok(r) => r,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(input_error(e));
        }
    };
    std::fs::rename(&partial, &args.output)
        .map_err(|e| anyhow::anyhow!("cannot move the copy to {}: {e}", args.output.display()))?;
    report.output = args.output.display().to_string();
    if out.is_table() {
        render_redaction(&report, out);
    } else {
        out.data(&report)?;
    }
    Ok(())
}

fn render_pii(report: &PiiReport, out: &mut Out) {
    out.heading(out.short(&lunli_norms::terms::audit("pii")));
    for input in &report.inputs {
        out.line(format!("  {} ({}, {} bytes)", input.path, input.format, input.bytes));
    }
    if !report.columns.is_empty() {
        out.line(format!("  {}", out.label(&format!("共 {} 行", report.rows), &format!("{} rows", report.rows))));
    }
    let header = || {
        vec![
            out.label("位置", "Where"),
            out.label("类型", "Entity"),
            out.label("数量", "Count"),
            out.label("置信度", "Confidence"),
            out.label("样例（已遮盖）", "Sample (masked)"),
        ]
    };
    let mut table = out.table(header());
    let mut rows = 0;
    let mut add = |place: &str, e: &pii::EntityReport, table: &mut crate::output::Grid| {
        let confidence = match e.confidence {
            Confidence::High => out.label("高", "high"),
            Confidence::Likely => out.label("较可能", "likely"),
            Confidence::Possible => out.label("可能", "possible"),
        };
        let sample = e.tally.samples.first().map(|s| s.masked.clone()).unwrap_or_default();
        let name = out.label(e.entity.zh(), e.entity.en());
        table.add_row(vec![place.to_string(), name, e.tally.count.to_string(), confidence, sample]);
        rows += 1;
    };
    for c in &report.columns {
        for e in &c.entities {
            add(&c.column, e, &mut table);
        }
    }
    for t in &report.texts {
        for e in &t.entities {
            add(&t.path, e, &mut table);
        }
    }
    out.heading(out.label("各列与文件", "By column and file"));
    if rows == 0 {
        out.line(out.label("  未发现个人信息", "  no personal information found"));
    } else {
        out.push_table(&table);
    }
    for t in report.texts.iter().filter(|t| !t.locations.is_empty()) {
        out.heading(format!("{} {}", out.label("位置", "Locations in"), t.path));
        for l in t.locations.iter().take(10) {
            out.line(format!(
                "  {}:{} (+{}) {} {}",
                t.path,
                l.line,
                l.offset,
                out.label(l.entity.zh(), l.entity.en()),
                l.masked
            ));
        }
        if t.locations.len() > 10 || t.truncated {
            out.line(out.label("  …（完整列表见 --format json）", "  … (the full list: --format json)"));
        }
    }
    render_findings(&report.findings, &[], report.passed, &report.controls, out);
}

fn render_reid(report: &ReidReport, out: &mut Out) {
    out.heading(out.label("再识别风险（第三条第三项）", "Re-identification risk (Art. 3(3))"));
    for input in &report.inputs {
        out.line(format!("  {} ({}, {} bytes)", input.path, input.format, input.bytes));
    }
    let q = report.quasi_identifiers.join(", ");
    out.line(out.label(
        &format!("  准标识符：{q} · {} 行 · {} 个等价类", report.rows, report.classes),
        &format!("  quasi-identifiers: {q} · {} rows · {} classes", report.rows, report.classes),
    ));
    out.line(out.label(
        &format!(
            "  k-匿名：{}（要求 {}）· 小于 k 的类中的行：{}（{:.2}%）· 唯一行：{}",
            report.k_anonymity,
            report.k,
            report.rows_below_k,
            report.share_below_k * 100.0,
            report.unique_rows
        ),
        &format!(
            "  k-anonymity: {} (required {}) · rows in classes below k: {} ({:.2}%) · unique rows: {}",
            report.k_anonymity,
            report.k,
            report.rows_below_k,
            report.share_below_k * 100.0,
            report.unique_rows
        ),
    ));
    if let (Some(s), Some(l)) = (&report.sensitive, report.l_diversity) {
        out.line(out.label(
            &format!("  l-多样性（{s}）：{l}（要求 {}）", report.l),
            &format!("  l-diversity of {s}: {l} (required {})", report.l),
        ));
    }
    out.heading(out.label("风险最高的组合", "Riskiest combinations"));
    let mut header: Vec<String> = report.quasi_identifiers.clone();
    header.push(out.label("行数", "rows"));
    if report.sensitive.is_some() {
        header.push(out.label("不同敏感值", "distinct sensitive"));
    }
    let mut table = out.table(header);
    for c in &report.riskiest {
        let mut row: Vec<String> =
            report.quasi_identifiers.iter().map(|q| c.values.get(q).cloned().unwrap_or_default()).collect();
        row.push(c.rows.to_string());
        if let Some(d) = c.distinct_sensitive {
            row.push(d.to_string());
        }
        table.add_row(row);
    }
    out.push_table(&table);
    render_findings(&report.findings, &[], report.passed, &report.controls, out);
}

fn render_redaction(report: &RedactionReport, out: &mut Out) {
    out.heading(out.label("脱敏副本", "Redacted copy"));
    out.line(format!("  {} → {} ({}, {})", report.input, report.output, report.format, report.mode));
    let mut table =
        out.table(vec![out.label("位置", "Where"), out.label("类型", "Entity"), out.label("替换数", "Replaced")]);
    for (place, entities) in &report.replaced {
        for (entity, n) in entities {
            let place = if place == "*" { report.input.clone() } else { place.clone() };
            table.add_row(vec![place, out.label(entity.zh(), entity.en()), n.to_string()]);
        }
    }
    out.push_table(&table);
    out.line(out.label(
        &format!("  共替换 {} 个值，{} 行", report.total, report.rows),
        &format!("  {} values replaced in {} rows", report.total, report.rows),
    ));
}

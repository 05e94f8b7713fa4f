//! `lunli label check|write`: the labels China's Measures for Labelling AI-Generated and
//! Synthetic Content (2025) and GB 45438-2025 require on generated files — check a tree of files
//! for the implicit (metadata) and explicit labels, and add a conforming implicit label to a file
//! without re-encoding it. With `--system`, a check is recorded as evidence on control C-16-05.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand};
use lunli_governance::audit_summary::AuditSummary;
use lunli_governance::{AuditRun, Governance};
use lunli_label::{Aigc, Existing, ExplicitState, ImplicitState, LabelError, Progress, Report, Status, status_text};

use crate::cli::GlobalArgs;
use crate::context::{Context, now};
use crate::output::{Lines, Out, row};

/// The control whose evidence a label check is: labels on generated content (Art. 16; the
/// labelling measures Art. 4–5 in the crosswalk).
const CONTROL: &str = "C-16-05";

#[derive(Debug, Subcommand)]
pub enum LabelCommand {
    /// Check files and directories (recursively, in parallel) for the implicit label (the AIGC
    /// block in the metadata of PNG, JPEG, WebP, GIF, WAV, MP3, FLAC, MP4/MOV, PDF) and, in text,
    /// Markdown and HTML, the explicit label at the start or end. Reads only metadata.
    Check(CheckArgs),
    /// Write a copy of a file with a conforming implicit label, editing only its metadata (PNG,
    /// JPEG, WebP, GIF, WAV, MP3, FLAC, MP4/MOV, PDF): from the flags or from a gateway
    /// decision's labels.implicit.
    Write(WriteArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Files and directories.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Exit with 5 when any file is not conforming: for CI gates.
    #[arg(long)]
    pub strict: bool,
    /// Record the check as evidence on control C-16-05 of this system's current assessment, and
    /// in the ledger.
    #[arg(long, value_name = "ID")]
    pub system: Option<String>,
    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
}

#[derive(Debug, Args)]
pub struct WriteArgs {
    /// The file to label.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Where to write the labelled copy (may be FILE itself).
    #[arg(short, long, value_name = "OUT")]
    pub output: PathBuf,
    /// ContentProducer: the generating service provider's name or code.
    #[arg(long, value_name = "NAME", required_unless_present = "from_decision", conflicts_with = "from_decision")]
    pub producer: Option<String>,
    /// ProduceID: the provider's unique number for this content (e.g. the gateway's decision id).
    #[arg(long, value_name = "ID", required_unless_present = "from_decision", conflicts_with = "from_decision")]
    pub produce_id: Option<String>,
    /// ReservedCode1: the lunli system id (as the gateway writes it).
    #[arg(long, value_name = "ID", conflicts_with = "from_decision")]
    pub system_id: Option<String>,
    /// A gateway decision (JSON) whose labels.implicit block is written as it is.
    #[arg(long, value_name = "FILE.json")]
    pub from_decision: Option<PathBuf>,
    /// Replace the implicit label FILE already carries (refused without it); the old values are
    /// shown and kept in the JSON output (Measures Art. 10: see docs/labels.md).
    #[arg(long)]
    pub replace: bool,
}

pub fn run(global: &GlobalArgs, command: &LabelCommand, out: &mut Out) -> Result<()> {
    match command {
        LabelCommand::Check(args) => check(global, args, out),
        LabelCommand::Write(args) => write(args, out),
    }
}

/// A library error for the binary: bad files and fields map to exit 3.
fn label_error(e: LabelError) -> anyhow::Error {
    match e {
        LabelError::Io { .. } => anyhow::Error::new(e),
        LabelError::Refused { path, reason } | LabelError::Malformed { path, reason } => {
            anyhow::Error::new(crate::InputError { file: path, line: None, reason })
        }
        LabelError::Fields { source_name, reason } => {
            anyhow::Error::new(crate::InputError { file: source_name, line: None, reason })
        }
    }
}

fn check(global: &GlobalArgs, args: &CheckArgs, out: &mut Out) -> Result<()> {
    let jobs = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    let progress = Arc::new(Progress::default());
    let report =
        with_progress(&progress, || lunli_label::check_paths(&args.paths, jobs, &progress)).map_err(label_error)?;
    let evidence = match &args.system {
        Some(system) => Some(record(&Context::new(global)?, system, &report, &args.paths)?),
        None => None,
    };
    if out.is_table() {
        render(&report, out);
        if let (Some(system), Some(id)) = (&args.system, evidence) {
            out.line(out.label(
                &format!("已作为证据 #{id} 记录到 {system} 的 {CONTROL}（并写入台账）"),
                &format!("Recorded as evidence #{id} on {CONTROL} of {system} (and in the ledger)"),
            ));
        }
    } else {
        let mut value = serde_json::to_value(&report).context("encoding the report")?;
        if let (Some(id), Some(map)) = (evidence, value.as_object_mut()) {
            map.insert("evidence".into(), serde_json::json!([{ "control": CONTROL, "evidence": id }]));
        }
        out.data(&value)?;
    }
    if args.strict && !report.passed {
        let failing = report.summary.files - report.summary.conforming;
        return Err(crate::MayNotShip(format!(
            "{failing} of {} files do not carry conforming labels (see above) / {failing} 个文件的标识不符合要求",
            report.summary.files
        ))
        .into());
    }
    Ok(())
}

/// Records the check as Audit evidence on C-16-05: the summary and the files that fail (the
/// conforming ones are counted, not listed, so a check of many files stays small).
fn record(ctx: &Context, system: &str, report: &Report, paths: &[PathBuf]) -> Result<u32> {
    let store = ctx.store()?;
    let gov = Governance::new(&ctx.catalogue, &store);
    let failing: Vec<_> = report.files.iter().filter(|f| f.status != Status::Conforming).take(1000).collect();
    let summary = serde_json::json!({
        "version": report.version,
        "passed": report.passed,
        "summary": report.summary,
        "failing": failing,
    });
    // No input files to pin: the check lists the files that fail and counts the others.
    let summary = AuditSummary::pinned(summary)?;
    let note =
        format!("lunli label check {}", paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" "));
    let controls = [CONTROL.to_string()];
    let run = AuditRun { audit: "label", passed: report.passed, summary, controls: &controls, note: &note };
    let recorded = gov.record_audit(&ctx.actor, system, &run, now())?;
    Ok(recorded.first().map(|(_, evidence)| *evidence).unwrap_or_default())
}

pub(crate) fn render(report: &Report, out: &mut Out) {
    out.heading(out.label("生成合成内容标识检查", "Labels on generated content"));
    let failing: Vec<_> = report.files.iter().filter(|f| f.status != Status::Conforming).collect();
    if !failing.is_empty() {
        let mut table = out.table(vec![
            out.label("文件", "File"),
            out.label("格式", "Format"),
            out.label("结果", "Result"),
            out.label("原因", "Why"),
        ]);
        for f in failing.iter().take(200) {
            let mut why: Vec<String> = f.implicit.problems.iter().map(|p| out.short(&text(&p.reason))).collect();
            if f.implicit.state == ImplicitState::Missing {
                why.push(out.label("元数据中没有 AIGC 隐式标识", "no AIGC implicit label in the metadata"));
            }
            if f.explicit.state == ExplicitState::Missing {
                why.push(out.label(
                    "文本开头或结尾没有“人工智能/AI 生成/合成”提示",
                    "no 人工智能/AI + 生成/合成 prompt at the start or end of the text",
                ));
            }
            why.extend(f.error.clone());
            table.add_row(row![
                f.path.clone(),
                f.format.as_str(),
                out.cell(&text(&status_text(f.status))),
                Lines::new(why)
            ]);
        }
        out.push_table(&table);
        if failing.len() > 200 {
            out.line(out.label(
                &format!("……另有 {} 个文件未列出（--format json 列出全部）", failing.len() - 200),
                &format!("… {} more not shown (--format json lists all)", failing.len() - 200),
            ));
        }
    }
    let s = &report.summary;
    let mb = |b: u64| b as f64 / 1e6;
    out.line(out.label(
        &format!(
            "共 {} 个文件：符合 {}，缺少隐式标识 {}，隐式标识格式错误 {}，缺少显式标识 {}，无法读取 {}；跳过其他格式 {} 个",
            s.files, s.conforming, s.missing_implicit, s.malformed, s.missing_explicit, s.unreadable, s.skipped
        ),
        &format!(
            "{} files: {} conforming, {} missing the implicit label, {} malformed, {} missing the explicit label, {} unreadable; {} of other formats skipped",
            s.files, s.conforming, s.missing_implicit, s.malformed, s.missing_explicit, s.unreadable, s.skipped
        ),
    ));
    out.line(out.label(
        &format!("读取 {:.2} MB，文件共 {:.2} MB", mb(s.bytes_read), mb(s.bytes_total)),
        &format!("Read {:.2} MB of {:.2} MB of files", mb(s.bytes_read), mb(s.bytes_total)),
    ));
}

fn text(b: &lunli_label::Bilingual) -> lunli_norms::Text {
    lunli_norms::Text { zh: b.zh.clone(), en: b.en.clone() }
}

fn write(args: &WriteArgs, out: &mut Out) -> Result<()> {
    let aigc = match &args.from_decision {
        Some(path) => {
            let json = crate::context::read_input(path)?;
            Aigc::from_json(&path.display().to_string(), &json).map_err(label_error)?
        }
        None => Aigc::generated(
            args.producer.as_deref().unwrap_or_default(),
            args.produce_id.as_deref().unwrap_or_default(),
            args.system_id.as_deref().unwrap_or_default(),
        ),
    };
    let existing = if args.replace { Existing::Replace } else { Existing::Refuse };
    let written = lunli_label::write(&args.file, &args.output, &aigc, existing).map_err(label_error)?;
    if out.is_table() {
        out.line(out.label(
            &format!(
                "已将隐式标识写入 {}（{}，增加 {} 字节，内容未重新编码）",
                args.output.display(),
                written.location,
                written.bytes_added
            ),
            &format!(
                "Wrote the implicit label to {} ({}, {} bytes added, content not re-encoded)",
                args.output.display(),
                written.location,
                written.bytes_added
            ),
        ));
        if let Some(old) = &written.replaced {
            let fields = old.fields.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ");
            let (zh, en) =
                if old.conforming { ("符合要求的", "a conforming") } else { ("格式错误的", "a malformed") };
            out.line(out.label(
                &format!("替换了{zh}原有隐式标识（{}）：{fields}", old.location),
                &format!("Replaced {en} implicit label ({}): {fields}", old.location),
            ));
        }
    } else {
        out.data(
            &serde_json::json!({ "output": args.output.display().to_string(), "written": written, "label": aigc }),
        )?;
    }
    Ok(())
}

/// A progress bar on standard error for runs longer than half a second, when it is a terminal.
fn with_progress<T>(progress: &Arc<Progress>, work: impl FnOnce() -> T) -> T {
    let progress = progress.clone();
    let update = move |bar: &indicatif::ProgressBar| {
        bar.set_length(progress.files_total().max(1));
        bar.set_position(progress.files_done());
        bar.set_message(format!("{:.1} MB read", progress.bytes_read() as f64 / 1e6));
    };
    crate::progress::with_bar("{spinner} {elapsed_precise} [{bar:30}] {pos}/{len} files {msg}", update, work)
}

//! `lunli report`: the bilingual, verifiable report on one system or the whole organisation,
//! as HTML, JSON or PDF, and `lunli report verify` to check one offline.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand};
use lunli_governance::store::Store;
use lunli_norms::Catalogue;
use lunli_report::{Document, Issue, Languages, ReportError};
use lunli_store::Ledger;
use serde::Serialize;

use crate::cli::{Format, GlobalArgs, LangChoice};
use crate::context::{Context, now};
use crate::ledger::LedgerInvalid;
use crate::output::Out;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ReportArgs {
    #[command(subcommand)]
    pub command: Option<ReportCommand>,

    /// The system to report on.
    #[arg(required_unless_present = "org", conflicts_with = "org")]
    pub system: Option<String>,

    /// Report on the whole organisation instead: systems by tier and stage, approvals, overdue
    /// re-reviews, coverage of each article across all systems.
    #[arg(long)]
    pub org: bool,

    /// Where to write it; the extension chooses the kind: .html (default), .json or .pdf.
    /// Default: lunli-report-SYSTEM.html (or lunli-report-org.html) in the current directory.
    /// With the global `--format json`, the signed JSON document goes to standard output.
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Check a report (JSON or HTML) offline: its content is what the ledger recorded, the entry
    /// is in the tree the signed head vouches for, and the signature holds. Exit 7 when not.
    Verify {
        /// The report file, .json or .html.
        file: PathBuf,
        /// The ledger's public key you trust (ledger-key.pub.pem). Without it, only the key
        /// inside the report is used, which proves consistency but not who signed.
        #[arg(long, value_name = "PEM")]
        public_key: Option<PathBuf>,
    },
}

/// What `--out`'s extension asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Html,
    Json,
    Pdf,
}

fn kind_of(path: &Path) -> Result<Kind> {
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("html" | "htm") => Ok(Kind::Html),
        Some("json") => Ok(Kind::Json),
        Some("pdf") => Ok(Kind::Pdf),
        _ => Err(crate::InputError {
            file: path.display().to_string(),
            line: None,
            reason: "--out must end in .html, .json or .pdf (the extension chooses what is written)".into(),
        }
        .into()),
    }
}

/// Maps library errors so that the binary's exit codes see the governance error inside.
fn report_error(err: ReportError) -> anyhow::Error {
    match err {
        ReportError::Governance(e) => anyhow::Error::new(e),
        ReportError::Ledger(e) if e.is_tampering() => anyhow::Error::new(LedgerInvalid(e.to_string())),
        other => anyhow::Error::new(other),
    }
}

pub fn run(global: &GlobalArgs, args: &ReportArgs, out: &mut Out) -> Result<()> {
    if let Some(ReportCommand::Verify { file, public_key }) = &args.command {
        return verify(file, public_key.as_deref(), out);
    }
    let ctx = Context::new(global)?;
    let store = ctx.store()?;
    let issue = Issue { at: now(), by: ctx.actor.clone() };
    let lang = languages(out.lang);
    let machine = matches!(global.format, Format::Json | Format::Yaml);
    let name = if args.org { "org".to_string() } else { args.system.clone().unwrap_or_default() };
    let path = match (&args.out, machine) {
        (Some(path), _) => Some(path.clone()),
        (None, true) => None,
        (None, false) => Some(PathBuf::from(format!("lunli-report-{name}.html"))),
    };
    let kind = match &path {
        Some(path) => kind_of(path)?,
        None => Kind::Json,
    };
    let (json, html) = if args.org {
        let report = lunli_report::org_report(&ctx.catalogue, &store, &issue).map_err(report_error)?;
        let document =
            lunli_report::anchor(&store, report, "organisation", &ctx.actor, issue.at).map_err(report_error)?;
        (to_json(&document)?, lunli_report::html::org_html(&document, lang))
    } else {
        system_report(&ctx.catalogue, &store, &name, &issue, lang)?
    };
    let Some(path) = path else {
        // The signed document itself on standard output, for scripts.
        let value: serde_json::Value = serde_json::from_str(&json)?;
        return out.data(&value);
    };
    match kind {
        Kind::Json => write(&path, json.as_bytes())?,
        Kind::Html => write(&path, html.as_bytes())?,
        Kind::Pdf => print_pdf(&html, &path)?,
    }
    out.line(out.label(
        &format!("报告已写入 {}（已记入台账）", path.display()),
        &format!("Report written to {} (recorded in the ledger)", path.display()),
    ));
    Ok(())
}

/// The report's languages for the command line's `--lang`.
pub(crate) fn languages(choice: LangChoice) -> Languages {
    match choice {
        LangChoice::Zh => Languages::Zh,
        LangChoice::En => Languages::En,
        LangChoice::Both => Languages::Both,
    }
}

/// One system's report, recorded in the ledger: its signed JSON document and its HTML page.
pub(crate) fn system_report<S: Store + Ledger>(
    catalogue: &Catalogue,
    store: &S,
    system: &str,
    issue: &Issue,
    lang: Languages,
) -> Result<(String, String)> {
    let decisions = lunli_report::ledger_decisions(store, system).map_err(report_error)?;
    let report = lunli_report::system_report(catalogue, store, system, decisions, issue).map_err(report_error)?;
    let subject = format!("system:{system}");
    let document = lunli_report::anchor(store, report, &subject, &issue.by, issue.at).map_err(report_error)?;
    Ok((to_json(&document)?, lunli_report::html::system_html(&document, lang)))
}

fn to_json<T: Serialize>(document: &Document<T>) -> Result<String> {
    let mut json = serde_json::to_string_pretty(document).context("encoding the report")?;
    json.push('\n');
    Ok(json)
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// Prints the HTML to PDF with the Chromium of `LUNLI_CHROMIUM` or `PATH`.
fn print_pdf(html: &str, out: &Path) -> Result<()> {
    let explicit = std::env::var_os("LUNLI_CHROMIUM").filter(|v| !v.is_empty()).map(PathBuf::from);
    let chromium = lunli_report::pdf::locate_chromium(explicit.as_deref(), std::env::var_os("PATH").as_deref())?;
    let scratch = tempfile::tempdir().context("creating a temporary directory for Chromium")?;
    let page = scratch.path().join("report.html");
    write(&page, html.as_bytes())?;
    let profile = scratch.path().join("profile");
    std::fs::create_dir(&profile).with_context(|| format!("cannot create {}", profile.display()))?;
    lunli_report::pdf::print_pdf(&chromium, &page, out, &profile)?;
    Ok(())
}

fn verify(file: &Path, public_key: Option<&Path>, out: &mut Out) -> Result<()> {
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let json = if text.trim_start().starts_with('{') {
        text.as_str()
    } else {
        lunli_report::html::embedded_document(&text).ok_or_else(|| crate::InputError {
            file: file.display().to_string(),
            line: None,
            reason: "neither a JSON report nor an HTML report written by `lunli report` (no embedded document)".into(),
        })?
    };
    let document: serde_json::Value = serde_json::from_str(json).map_err(|e| crate::InputError {
        file: file.display().to_string(),
        line: Some(e.line()),
        reason: format!("not JSON: {e}"),
    })?;
    let key = public_key.map(lunli_ledger::key::read_verifying_key).transpose()?;
    match lunli_report::verify::verify_document(&document, key.as_ref()) {
        Ok(verified) => {
            if !out.is_table() {
                return out.data(&verified);
            }
            out.line(out.label(
                &format!(
                    "核验通过：{} 的内容与台账记录 #{} 一致，该记录包含在 {} 条、签于 {} 的签名树头中。",
                    file.display(),
                    verified.index,
                    verified.size,
                    verified.head_time
                ),
                &format!(
                    "Verified: the content of {} is what ledger entry {} recorded, and that entry is in the tree of {} signed at {}.",
                    file.display(),
                    verified.index,
                    verified.size,
                    verified.head_time
                ),
            ));
            out.line(format!("  SHA-256 {}", verified.content_sha256));
            out.line(format!("  root    {}", verified.root));
            out.line(format!("  key     {}", verified.key_fingerprint));
            if !verified.trusted_key {
                out.line(out.label(
                    "  注意：未提供 --public-key，仅用报告内嵌的公钥核验；请用您信任的公钥再核验一次。",
                    "  Note: no --public-key given, so only the key inside the report was used; check again with the key you trust.",
                ));
            }
            Ok(())
        }
        // Not a report at all is bad input; a report whose proof fails is the ledger's code.
        Err(lunli_report::verify::VerifyError::Malformed(reason)) => {
            Err(crate::InputError { file: file.display().to_string(), line: None, reason }.into())
        }
        Err(problem) => Err(LedgerInvalid(format!("{} does not verify: {problem}", file.display())).into()),
    }
}

//! `lunli report`: the bilingual, verifiable report on one system or the whole organisation,
//! as HTML, JSON or PDF, and `lunli report verify` to check one offline.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand};
use lunli_governance::store::Store;
use lunli_ledger::VerifyingKey;
use lunli_norms::Catalogue;
use lunli_report::html::Unsealed;
use lunli_report::verify::{Covers, Verification, Verified, VerifyError};
use lunli_report::{Document, Issue, Languages, ReportError};
use lunli_store::Ledger;
use serde::Serialize;

use crate::cli::{Format, GlobalArgs};
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
    /// Check a report offline: a JSON document or every byte of an HTML page is what the ledger
    /// recorded, the entry is in the tree the signed head vouches for, and the signature holds.
    /// A PDF is looked up by its SHA-256 in this data directory's ledger, or in an export
    /// (--bundle). Exit 7 when it does not verify.
    Verify {
        /// The report file: .json, .html or .pdf.
        file: PathBuf,
        /// The ledger's public key you trust (ledger-key.pub.pem). Without it, only the key
        /// inside the report (or, for a PDF, this data directory's ledger key) is used, which
        /// proves consistency but not who signed.
        #[arg(long, value_name = "PEM")]
        public_key: Option<PathBuf>,
        /// For a PDF: the exported ledger (`lunli ledger export`) to find its record in, instead
        /// of this data directory's ledger. Needs --public-key.
        #[arg(long, value_name = "BUNDLE")]
        bundle: Option<PathBuf>,
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
    if let Some(ReportCommand::Verify { file, public_key, bundle }) = &args.command {
        return verify(global, file, public_key.as_deref(), bundle.as_deref(), out);
    }
    let ctx = Context::new(global)?;
    let store = ctx.store()?;
    let issue = Issue { at: now(), by: ctx.actor.clone() };
    let lang = Languages::from(out.lang);
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
    // A page is recorded with the report only when one is written (HTML, or HTML printed to PDF).
    let page = (kind != Kind::Json).then_some(lang);
    let recorded = if args.org {
        let report = lunli_report::org_report(&ctx.catalogue, &store, &issue).map_err(report_error)?;
        let unsealed = page.map(|lang| lunli_report::html::org_page(&report, lang));
        record(&store, report, unsealed, "organisation", &issue)?
    } else {
        record_system(&ctx.catalogue, &store, &name, &issue, page)?
    };
    let Some(path) = path else {
        // The signed document itself on standard output, for scripts.
        let value: serde_json::Value = serde_json::from_str(&recorded.json)?;
        return out.data(&value);
    };
    let html = recorded.html.unwrap_or_default();
    match kind {
        Kind::Json => write(&path, recorded.json.as_bytes())?,
        Kind::Html => write(&path, html.as_bytes())?,
        Kind::Pdf => {
            print_pdf(&html, &path)?;
            // The PDF cannot carry the proof of its own bytes: its SHA-256 goes into the ledger.
            let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            let sha256 = lunli_ledger::Hash::sha256(&bytes);
            lunli_report::pdf::record_file(&store, &recorded.verification, "pdf", &sha256, &ctx.actor, now())
                .map_err(report_error)?;
        }
    }
    out.line(out.label(
        &format!("报告已写入 {}（已记入台账）", path.display()),
        &format!("Report written to {} (recorded in the ledger)", path.display()),
    ));
    Ok(())
}

/// A report recorded in the ledger: its signed JSON document, its proof, and its HTML page when
/// one was rendered and recorded with it.
struct Recorded {
    json: String,
    verification: Verification,
    html: Option<String>,
}

/// Records `report` in the ledger, with its rendered page's bytes when there is a page.
fn record<T: Serialize, S: Store + Ledger>(
    store: &S,
    report: T,
    page: Option<Unsealed>,
    subject: &str,
    issue: &Issue,
) -> Result<Recorded> {
    let (document, html) = match page {
        Some(page) => {
            let (document, html) = lunli_report::html::anchor_page(store, report, &page, subject, &issue.by, issue.at)
                .map_err(report_error)?;
            (document, Some(html))
        }
        None => (lunli_report::anchor(store, report, subject, &issue.by, issue.at).map_err(report_error)?, None),
    };
    Ok(Recorded { json: to_json(&document)?, verification: document.verification, html })
}

fn record_system<S: Store + Ledger>(
    catalogue: &Catalogue,
    store: &S,
    system: &str,
    issue: &Issue,
    page: Option<Languages>,
) -> Result<Recorded> {
    let decisions = lunli_report::ledger_decisions(store, system).map_err(report_error)?;
    let report = lunli_report::system_report(catalogue, store, system, decisions, issue).map_err(report_error)?;
    let unsealed = page.map(|lang| lunli_report::html::system_page(&report, lang));
    record(store, report, unsealed, &format!("system:{system}"), issue)
}

/// One system's report, recorded in the ledger with its page: its signed JSON document and its
/// HTML page.
pub(crate) fn system_report<S: Store + Ledger>(
    catalogue: &Catalogue,
    store: &S,
    system: &str,
    issue: &Issue,
    lang: Languages,
) -> Result<(String, String)> {
    let recorded = record_system(catalogue, store, system, issue, Some(lang))?;
    Ok((recorded.json, recorded.html.unwrap_or_default()))
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

fn verify(
    global: &GlobalArgs,
    file: &Path,
    public_key: Option<&Path>,
    bundle: Option<&Path>,
    out: &mut Out,
) -> Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let key = public_key.map(lunli_ledger::key::read_verifying_key).transpose()?;
    let input =
        |line: Option<usize>, reason: String| crate::InputError { file: file.display().to_string(), line, reason };
    let result = if bytes.starts_with(b"%PDF-") {
        verify_pdf(global, &bytes, key, bundle)?
    } else {
        if bundle.is_some() {
            return Err(
                input(None, "--bundle is for PDF reports; a JSON or HTML report carries its own proof".into()).into()
            );
        }
        let text = String::from_utf8(bytes).map_err(|e| input(None, format!("neither a PDF nor UTF-8 text: {e}")))?;
        if text.trim_start().starts_with('{') {
            let document: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| input(Some(e.line()), format!("not JSON: {e}")))?;
            lunli_report::verify::verify_document(&document, key.as_ref())
        } else {
            lunli_report::verify::verify_html(&text, key.as_ref())
        }
    };
    let verified = match result {
        Ok(verified) => verified,
        // Not a report at all is bad input; a report whose proof fails is the ledger's code.
        Err(VerifyError::Malformed(reason)) => return Err(input(None, reason).into()),
        Err(problem) => return Err(LedgerInvalid(format!("{} does not verify: {problem}", file.display())).into()),
    };
    if !out.is_table() {
        return out.data(&verified);
    }
    let (f, index, size, time) = (file.display(), verified.index, verified.size, &verified.head_time);
    let (zh, en) = match verified.covers {
        Covers::Document => (
            format!("核验通过：{f} 的内容与台账记录 #{index} 一致，该记录包含在 {size} 条、签于 {time} 的签名树头中。"),
            format!(
                "Verified: the content of {f} is what ledger entry {index} recorded, and that entry is in the tree of {size} signed at {time}."
            ),
        ),
        Covers::Page => (
            format!(
                "核验通过：{f} 的每一个字节（页面与内容）都与台账记录 #{index} 一致，该记录包含在 {size} 条、签于 {time} 的签名树头中。"
            ),
            format!(
                "Verified: every byte of {f} (the page and its content) is what ledger entry {index} recorded, and that entry is in the tree of {size} signed at {time}."
            ),
        ),
        Covers::File => (
            format!(
                "核验通过：{f} 正是台账记录 #{index} 所记录的文件（按 SHA-256），该记录包含在 {size} 条、签于 {time} 的签名树头中。"
            ),
            format!(
                "Verified: {f} is the file ledger entry {index} recorded (by SHA-256), and that entry is in the tree of {size} signed at {time}."
            ),
        ),
        Covers::DataBlock => (
            format!(
                "仅数据块核验通过，页面未被覆盖：{f} 内嵌的数据与台账记录 #{index} 一致（{size} 条、签于 {time} 的签名树头），但该页面生成于 lunli 记录整页之前，页面显示的其他内容未经核验；请重新生成报告或核验其 JSON。"
            ),
            format!(
                "Data block verified, the page is NOT covered: the data embedded in {f} is what ledger entry {index} recorded (tree of {size} signed at {time}), but the page was made before lunli recorded whole pages, so what it shows around that data is not checked; regenerate the report or verify its JSON."
            ),
        ),
    };
    out.line(out.label(&zh, &en));
    out.line(format!("  content SHA-256 {}", verified.content_sha256));
    if let Some(sha256) = &verified.file_sha256 {
        let what = if verified.covers == Covers::File { "file   " } else { "page   " };
        out.line(format!("  {what} SHA-256 {sha256}"));
    }
    out.line(format!("  root    {}", verified.root));
    out.line(format!("  key     {}", verified.key_fingerprint));
    if !verified.trusted_key {
        out.line(out.label(
            "  注意：未提供 --public-key，仅用报告内嵌（或本数据目录台账）的公钥核验；请用您信任的公钥再核验一次。",
            "  Note: no --public-key given, so only the key inside the report (or this data directory's ledger key) was used; check again with the key you trust.",
        ));
    }
    Ok(())
}

/// A PDF: found by its SHA-256 in an exported ledger, or in this data directory's ledger.
fn verify_pdf(
    global: &GlobalArgs,
    bytes: &[u8],
    key: Option<VerifyingKey>,
    bundle: Option<&Path>,
) -> Result<std::result::Result<Verified, VerifyError>> {
    let sha256 = lunli_ledger::Hash::sha256(bytes);
    let (proof, key, trusted) = match bundle {
        Some(path) => {
            let key = key.context("--bundle needs --public-key KEY, the key you trust")?;
            let reader = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
            let bundle: lunli_ledger::Bundle =
                serde_json::from_reader(std::io::BufReader::new(reader)).map_err(|e| crate::InputError {
                    file: path.display().to_string(),
                    line: Some(e.line()),
                    reason: format!("not a lunli ledger bundle: {e}"),
                })?;
            match lunli_report::verify::file_proof_in_bundle(&bundle, &sha256) {
                Ok(proof) => (proof, key, true),
                Err(problem) => return Ok(Err(problem)),
            }
        }
        None => {
            let ctx = Context::new(global)?;
            if ctx.database_url.is_none() && !ctx.data_dir.join(lunli_store::DATABASE_FILE).exists() {
                anyhow::bail!(
                    "no ledger in {} to find the PDF's record in: give --data-dir (or --database-url), or an export with \
                     --bundle EXPORT --public-key KEY",
                    ctx.data_dir.display()
                );
            }
            let store = ctx.store()?;
            let proof = lunli_report::pdf::find_file(&store, &sha256).map_err(report_error)?;
            let trusted = key.is_some();
            let key = match key {
                Some(key) => key,
                None => store.verifying_key().map_err(|e| report_error(e.into()))?,
            };
            (proof, key, trusted)
        }
    };
    Ok(match proof {
        Some(proof) => lunli_report::verify::verify_file(&sha256, &proof, &key, trusted),
        None => Err(VerifyError::NotRecorded { sha256 }),
    })
}

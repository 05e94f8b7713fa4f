//! `lunli ledger …`: signed tree heads, verification (from the database, or offline from an
//! exported bundle), inclusion and consistency proofs, export for auditors — and [`seal`], which
//! signs a head after every command that changed the ledger.
//!
//! Head-signing policy of the CLI: each command is one process, so after any command that may
//! have written (every command but `norms`, `check` and `ledger`), [`seal`] signs a new head when
//! the log grew past the latest head. A change is therefore covered by a signed head by the time
//! its command returns. `lunli ledger head --sign` signs on demand; the gateway signs on an
//! interval of its own.

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context as _, Result};
use lunli_governance::GovernanceError;
use lunli_ledger::verify::{BUNDLE_FORMAT_VERSION, Change};
use lunli_ledger::{Entry, Problem, Report, SignedTreeHead, Timestamp, Verifier, VerifyingKey};
use lunli_store::{AnyStore, DATABASE_FILE, Ledger as _, LedgerError, LedgerStatus as _, SignOutcome, fingerprint};
use serde::Serialize;
use serde::de::{DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};

use crate::cli::{Command, GlobalArgs, LedgerCommand};
use crate::context::Context;
use crate::output::Out;

/// The ledger does not verify: the report is already printed. `lunli` exits 7.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct LedgerInvalid(pub String);

fn now() -> Result<Timestamp> {
    Timestamp::from_system_time(SystemTime::now()).context("the system clock is outside years 0000–9999")
}

/// Maps store errors to what the binary reports: tampering exits 7, a missing entry 4, bad sizes 3.
fn ledger_error(err: LedgerError) -> anyhow::Error {
    match err {
        err if err.is_tampering() => anyhow::Error::new(LedgerInvalid(err.to_string())),
        LedgerError::NoSuchEntry { index, size } => anyhow::Error::new(GovernanceError::NotFound {
            what: "ledger entry",
            id: index.to_string(),
            hint: format!("the ledger has {size} entries (0 to {})", size.saturating_sub(1)),
        }),
        LedgerError::NoSuchSize { size, available } => anyhow::Error::new(GovernanceError::NotFound {
            what: "tree size",
            id: size.to_string(),
            hint: format!("the ledger has {available} entries"),
        }),
        err @ LedgerError::InvalidSizes { .. } => {
            anyhow::Error::new(GovernanceError::Invalid { field: "--from/--to".into(), reason: err.to_string() })
        }
        err => anyhow::Error::new(err),
    }
}

pub fn run(global: &GlobalArgs, command: &LedgerCommand, out: &mut Out) -> Result<()> {
    match command {
        LedgerCommand::Verify { bundle: Some(bundle), public_key } => {
            // Offline: no data directory is opened or created.
            let key_path = public_key.as_deref().context("--bundle needs --public-key KEY, the key you trust")?;
            let key = lunli_ledger::key::read_verifying_key(key_path)?;
            let report = verify_bundle_file(bundle, &key)?;
            print_report(out, &report, &key, None)
        }
        LedgerCommand::Verify { bundle: None, public_key } => {
            let store = open(global)?;
            let key = match public_key {
                Some(path) => lunli_ledger::key::read_verifying_key(path)?,
                None => store.verifying_key().map_err(ledger_error)?,
            };
            let report = store.verify_ledger_with(&key).map_err(ledger_error)?;
            // Kept for the dashboard's ledger health; failing to keep it does not change the verdict.
            let verification = lunli_store::Verification::from_report(&report, &key, crate::context::now());
            if let Err(e) = store.record_verification(&verification) {
                eprintln!("warning: the result could not be kept for the dashboard: {e}");
            }
            let latest = store.latest_head().ok().flatten().map(|h| h.head.size);
            print_report(out, &report, &key, latest)
        }
        LedgerCommand::Head { sign } => head(&open(global)?, *sign, out),
        LedgerCommand::Proof { index: Some(index), size, .. } => {
            let proof = open(global)?.inclusion_proof(*index, *size).map_err(ledger_error)?;
            if !out.is_table() {
                return out.data(&proof);
            }
            out.heading(out.label("包含证明（RFC 9162 §2.1.3）", "Inclusion proof (RFC 9162 §2.1.3)"));
            out.line(format!(
                "{}: {}  ({} · {} · {})",
                out.label("条目", "Entry"),
                proof.index,
                proof.entry.action,
                proof.entry.subject,
                proof.entry.time
            ));
            out.line(format!("{}: {}", out.label("树大小", "Tree size"), proof.size));
            out.line(format!("{}: {}", out.label("叶哈希", "Leaf hash"), proof.leaf_hash));
            root_line(out, &proof.root, proof.head.as_ref());
            path_lines(out, &proof.path);
            out.line(out.label("已验证：证明通向该根。", "Verified: the proof leads to this root."));
            Ok(())
        }
        LedgerCommand::Proof { from: Some(from), to, .. } => {
            let proof = open(global)?.consistency_proof(*from, *to).map_err(ledger_error)?;
            if !out.is_table() {
                return out.data(&proof);
            }
            out.heading(out.label("一致性证明（RFC 9162 §2.1.4）", "Consistency proof (RFC 9162 §2.1.4)"));
            out.line(format!("{}: {} → {}", out.label("树大小", "Tree sizes"), proof.size1, proof.size2));
            root_line(out, &proof.root1, proof.head1.as_ref());
            root_line(out, &proof.root2, proof.head2.as_ref());
            path_lines(out, &proof.path);
            out.line(out.label(
                "已验证：较大的树是较小的树的延续，历史未被改写。",
                "Verified: the larger tree extends the smaller one; no history was rewritten.",
            ));
            Ok(())
        }
        LedgerCommand::Proof { .. } => {
            anyhow::bail!("give --index N for an inclusion proof or --from S1 for a consistency proof")
        }
        LedgerCommand::Export { out: path } => {
            let store = open(global)?;
            let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
            let mut writer = BufWriter::new(file);
            let summary = store.export_bundle(&mut writer).map_err(ledger_error)?;
            drop(writer);
            let key_path = store.key_files().map_err(ledger_error)?.public_key_path();
            if !out.is_table() {
                #[derive(Serialize)]
                struct Exported<'a> {
                    bundle: &'a Path,
                    entries: u64,
                    heads: u64,
                    public_key: PathBuf,
                }
                return out.data(&Exported {
                    bundle: path,
                    entries: summary.entries,
                    heads: summary.heads,
                    public_key: key_path,
                });
            }
            out.line(out.label(
                &format!("已导出 {} 条记录和 {} 个签名树头到 {}。", summary.entries, summary.heads, path.display()),
                &format!(
                    "Exported {} entries and {} signed heads to {}.",
                    summary.entries,
                    summary.heads,
                    path.display()
                ),
            ));
            out.line(out.label(
                &format!(
                    "审计方离线核验：lunli ledger verify --bundle {} --public-key {}",
                    path.display(),
                    key_path.display()
                ),
                &format!(
                    "An auditor verifies it offline with: lunli ledger verify --bundle {} --public-key {}",
                    path.display(),
                    key_path.display()
                ),
            ));
            Ok(())
        }
        LedgerCommand::ExportKey { out: path } => {
            let store = open(global)?;
            let key = store.verifying_key().map_err(ledger_error)?;
            let pem = lunli_ledger::key::verifying_key_to_pem(&key)?;
            match path {
                None => {
                    out.block(pem.trim_end());
                    Ok(())
                }
                Some(path) => {
                    std::fs::write(path, &pem).with_context(|| format!("cannot write {}", path.display()))?;
                    out.line(out.label(
                        &format!("公钥已写入 {}（指纹 {}）。", path.display(), fingerprint(&key)),
                        &format!("Public key written to {} (fingerprint {}).", path.display(), fingerprint(&key)),
                    ));
                    Ok(())
                }
            }
        }
    }
}

fn open(global: &GlobalArgs) -> Result<AnyStore> {
    Context::new(global)?.store()
}

fn root_line(out: &mut Out, root: &lunli_ledger::Hash, head: Option<&SignedTreeHead>) {
    let (zh, en) = match head {
        Some(head) => {
            (format!("（{} 签名的树头）", head.head.timestamp), format!("(signed head of {})", head.head.timestamp))
        }
        None => (
            "（由存储计算，此大小无签名树头）".to_string(),
            "(computed from storage; no signed head of this size)".to_string(),
        ),
    };
    out.line(format!("{}: {} {}", out.label("根哈希", "Root"), root, out.label(&zh, &en)));
}

fn path_lines(out: &mut Out, path: &[lunli_ledger::Hash]) {
    out.line(format!("{} ({}):", out.label("审计路径", "Audit path"), path.len()));
    for hash in path {
        out.line(format!("  {hash}"));
    }
}

fn head(store: &AnyStore, sign: bool, out: &mut Out) -> Result<()> {
    let (head, signed_now) = if sign {
        match store.sign_head(now()?).map_err(ledger_error)? {
            SignOutcome::New(head) => (Some(head), true),
            SignOutcome::AlreadySigned(head) => (Some(head), false),
        }
    } else {
        (store.latest_head().map_err(ledger_error)?, false)
    };
    let Some(head) = head else {
        return Err(GovernanceError::NotFound {
            what: "signed tree head",
            id: "latest".into(),
            hint: "nothing has been signed yet; run `lunli ledger head --sign`".into(),
        }
        .into());
    };
    let key = store.verifying_key().map_err(ledger_error)?;
    let size = store.ledger_size()?;
    let public_key = store.key_files().map_err(ledger_error)?.public_key_path();
    if !out.is_table() {
        #[derive(Serialize)]
        struct View<'a> {
            size: u64,
            root: &'a lunli_ledger::Hash,
            timestamp: &'a Timestamp,
            signature: String,
            key_fingerprint: lunli_ledger::Hash,
            public_key: &'a Path,
            signed_now: bool,
            ledger_size: u64,
        }
        return out.data(&View {
            size: head.head.size,
            root: &head.head.root,
            timestamp: &head.head.timestamp,
            signature: head.signature_hex(),
            key_fingerprint: fingerprint(&key),
            public_key: &public_key,
            signed_now,
            ledger_size: size,
        });
    }
    out.heading(if signed_now {
        out.label("新签名的树头", "Newly signed tree head")
    } else {
        out.label("最新签名树头", "Latest signed tree head")
    });
    let rows = [
        (out.label("大小", "Size"), head.head.size.to_string()),
        (out.label("根哈希", "Root"), head.head.root.to_hex()),
        (out.label("时间", "Timestamp"), head.head.timestamp.to_string()),
        (out.label("签名", "Signature"), head.signature_hex()),
        (out.label("公钥指纹 (SHA-256)", "Key fingerprint (SHA-256)"), fingerprint(&key).to_hex()),
        (out.label("公钥文件", "Public key"), public_key.display().to_string()),
    ];
    for (label, value) in rows {
        out.line(format!("{label}: {value}"));
    }
    if size > head.head.size {
        out.line(out.label(
            &format!("另有 {} 条记录尚未被签名树头覆盖；运行 lunli ledger head --sign。", size - head.head.size),
            &format!(
                "{} later entries are not yet covered by a signed head; run lunli ledger head --sign.",
                size - head.head.size
            ),
        ));
    }
    Ok(())
}

/// The problem in both languages.
fn describe(problem: &Problem) -> (String, String) {
    let en = problem.to_string();
    let zh = match problem {
        Problem::UnsupportedFormat { found } => {
            format!("导出包格式版本为 {found}，本程序只读版本 {BUNDLE_FORMAT_VERSION}")
        }
        Problem::KeyMismatch { detail } => format!("导出包所指的公钥不是你信任的公钥：{detail}"),
        Problem::Malformed { index, reason } => format!("第 {index} 条记录已损坏或被改动：{reason}"),
        Problem::Modified { index, change: Change::Payload } => {
            format!("第 {index} 条记录被修改：其内容与 payload_sha256 不符")
        }
        Problem::Modified { index, change: Change::Content } => {
            format!("第 {index} 条记录被修改：其哈希与第 {} 条记录所记的 prev_leaf_hash 不符", index + 1)
        }
        Problem::Missing { index, next } => format!("第 {index} 条记录缺失（被删除）：其位置上是第 {next} 条"),
        Problem::Truncated { index, head_size } => {
            format!("从第 {index} 条起的记录缺失：签名树头覆盖 {head_size} 条，而记录止于 {index}")
        }
        Problem::Reordered { index, found } => format!("第 {index} 条记录顺序被打乱：其位置上是第 {found} 条"),
        Problem::Inserted { claimed, first, second } => {
            format!("有记录被插入：位置 {first} 与 {second} 的记录都声称是第 {claimed} 条")
        }
        Problem::ChainBroken { index } => format!("第 {index} 条记录与前一条的哈希链断开（其中之一被改动或被替换）"),
        Problem::BadSignature { size } => {
            format!("大小为 {size} 的签名树头无法用所信任的公钥验证：它被改动或由其他密钥签名")
        }
        Problem::RootMismatch { size, since, .. } => format!(
            "大小为 {size} 的签名树头与记录重算的根哈希不符：第 {since} 至 {} 条之间有记录被改动，或历史被改写",
            size.saturating_sub(1)
        ),
    };
    (zh, en)
}

fn print_report(out: &mut Out, report: &Report, key: &VerifyingKey, latest_head: Option<u64>) -> Result<()> {
    let first_bad = first_bad_index(report);
    if !out.is_table() {
        #[derive(Serialize)]
        struct View<'a> {
            ok: bool,
            #[serde(flatten)]
            report: &'a Report,
            first_bad_index: Option<u64>,
            key_fingerprint: lunli_ledger::Hash,
        }
        out.data(&View { ok: report.is_ok(), report, first_bad_index: first_bad, key_fingerprint: fingerprint(key) })?;
    }
    let Some(problem) = &report.problem else {
        if out.is_table() {
            out.line(out.label(
                &format!(
                    "账本核验通过：{} 条记录，根哈希 {}，{} 个签名树头已核验（公钥指纹 {}）。",
                    report.size,
                    report.root,
                    report.heads_verified,
                    fingerprint(key)
                ),
                &format!(
                    "Ledger OK: {} entries, root {}, {} signed heads checked (key fingerprint {}).",
                    report.size,
                    report.root,
                    report.heads_verified,
                    fingerprint(key)
                ),
            ));
            if let Some(latest) = latest_head.filter(|latest| *latest < report.size) {
                out.line(out.label(
                    &format!("第 {latest} 条起的 {} 条记录尚未被签名树头覆盖。", report.size - latest),
                    &format!(
                        "{} entries from index {latest} on are not yet covered by a signed head.",
                        report.size - latest
                    ),
                ));
            }
        }
        return Ok(());
    };
    let (zh, en) = describe(problem);
    if out.is_table() {
        out.line(out.label("账本核验失败", "Ledger verification FAILED"));
        if let Some(index) = first_bad {
            out.line(format!("{}: {index}", out.label("首个问题条目", "First bad index")));
        }
        out.line(out.label(&zh, &en));
        out.line(out.label(
            &format!("此前的 {} 条记录与 {} 个签名树头核验无误。", report.size, report.heads_verified),
            &format!("The {} entries before it and {} signed heads checked out.", report.size, report.heads_verified),
        ));
    }
    Err(LedgerInvalid(format!("the ledger does not verify: {en}")).into())
}

/// The first bad entry: the report's, or for a head whose root does not match, the first entry
/// that head covers beyond the last good one when that is a single entry.
fn first_bad_index(report: &Report) -> Option<u64> {
    match &report.problem {
        Some(Problem::RootMismatch { size, since, .. }) if size.saturating_sub(*since) == 1 => Some(*since),
        _ => report.first_bad_index(),
    }
}

/// Art. 12: after a command that may have changed the ledger, sign a head over it, so every
/// change is covered by a signed tree head when its command returns. Never creates a data
/// directory, and never fails the command whose change is already committed: a head that cannot
/// be signed is reported as a warning.
pub fn seal(global: &GlobalArgs, command: &Command) -> Result<()> {
    if matches!(command, Command::Norms(_) | Command::Check(_) | Command::Ledger(_)) {
        return Ok(());
    }
    let ctx = Context::new(global)?;
    if ctx.database_url.is_none() && !ctx.data_dir.join(DATABASE_FILE).exists() {
        return Ok(());
    }
    let sealed = (|| -> Result<()> {
        let store = ctx.store()?;
        let size = store.ledger_size()?;
        let covered = store.latest_head()?.map(|head| head.head.size);
        if covered.is_none_or(|covered| covered < size) {
            store.sign_head(now()?)?;
        }
        Ok(())
    })();
    if let Err(err) = sealed {
        eprintln!(
            "warning / 警告: the change is stored, but no signed tree head covers it yet: {err:#}; run `lunli ledger head --sign` \
             / 变更已保存，但尚无签名树头覆盖：请运行 lunli ledger head --sign"
        );
    }
    Ok(())
}

/// Verifies a bundle file while reading it: heads first when the bundle has them first (as
/// `lunli ledger export` writes them), so the entries are checked one by one and never all held
/// in memory; a bundle with its heads last has its entries held until the heads come.
fn verify_bundle_file(path: &Path, key: &VerifyingKey) -> Result<Report> {
    let file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut reader = serde_json::Deserializer::from_reader(BufReader::with_capacity(1 << 20, file));
    let report = BundleSeed { key }.deserialize(&mut reader).and_then(|report| reader.end().map(|()| report));
    report.map_err(|e| {
        anyhow::Error::new(crate::InputError {
            file: path.display().to_string(),
            line: Some(e.line()),
            reason: format!("not a lunli ledger bundle: {e}"),
        })
    })
}

struct BundleSeed<'k> {
    key: &'k VerifyingKey,
}

const BUNDLE_FIELDS: &[&str] = &["format_version", "public_key_pem", "entries", "heads"];

impl<'de> DeserializeSeed<'de> for BundleSeed<'_> {
    type Value = Report;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Report, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for BundleSeed<'_> {
    type Value = Report;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a ledger bundle object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Report, A::Error> {
        let (mut format, mut pem, mut heads) = (None, None::<String>, None::<Vec<SignedTreeHead>>);
        let (mut streamed, mut held) = (None::<Verifier>, None::<Vec<Entry>>);
        while let Some(field) = map.next_key::<String>()? {
            match field.as_str() {
                "format_version" => format = Some(map.next_value::<u32>()?),
                "public_key_pem" => pem = Some(map.next_value()?),
                "heads" => heads = Some(map.next_value()?),
                "entries" => match &heads {
                    Some(heads) => {
                        let mut verifier = Verifier::new(self.key, heads);
                        map.next_value_seed(EntriesSeed { verifier: &mut verifier })?;
                        streamed = Some(verifier);
                    }
                    None => held = Some(map.next_value()?),
                },
                other => return Err(A::Error::unknown_field(other, BUNDLE_FIELDS)),
            }
        }
        let format = format.ok_or_else(|| A::Error::missing_field("format_version"))?;
        let pem = pem.ok_or_else(|| A::Error::missing_field("public_key_pem"))?;
        let heads = heads.ok_or_else(|| A::Error::missing_field("heads"))?;
        let verifier = match (streamed, held) {
            (Some(verifier), _) => verifier,
            (None, Some(entries)) => {
                let mut verifier = Verifier::new(self.key, &heads);
                for entry in &entries {
                    verifier.push(entry);
                    if verifier.is_decided() {
                        break;
                    }
                }
                verifier
            }
            (None, None) => return Err(A::Error::missing_field("entries")),
        };
        let mut report = verifier.finish();
        // As lunli_ledger::verify_bundle: the bundle's own format and named key come first.
        let bundle_problem = if format != BUNDLE_FORMAT_VERSION {
            Some(Problem::UnsupportedFormat { found: format })
        } else {
            match lunli_ledger::key::verifying_key_from_pem(&pem) {
                Ok(named) if named == *self.key => None,
                Ok(named) => {
                    Some(Problem::KeyMismatch { detail: format!("it names the key {}", hex::encode(named.to_bytes())) })
                }
                Err(err) => Some(Problem::KeyMismatch { detail: err.to_string() }),
            }
        };
        if bundle_problem.is_some() {
            report.problem = bundle_problem;
        }
        Ok(report)
    }
}

struct EntriesSeed<'v> {
    verifier: &'v mut Verifier,
}

impl<'de> DeserializeSeed<'de> for EntriesSeed<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for EntriesSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a list of ledger entries")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(entry) = seq.next_element::<Entry>()? {
            if !self.verifier.is_decided() {
                self.verifier.push(&entry);
            }
        }
        Ok(())
    }
}

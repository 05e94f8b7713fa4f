//! `lunli pack check|activate|list`: an organisation's own norm packs (Art. 24), checked against
//! the base and the packs already active, activated through the store with a ledger entry, and
//! from then on layered into every command's catalogue.

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Subcommand;
use lunli_audit::policy::Policy;
use lunli_governance::Governance;
use lunli_governance::store::ActivePack;
use lunli_norms::{Catalogue, Pack, PackManifest, Text};
use lunli_store::{AnyStore, DATABASE_FILE, PostgresStore, SqliteStore};
use serde::Serialize;

use crate::InputError;
use crate::cli::GlobalArgs;
use crate::context::{Context, now};
use crate::output::{Lines, Out, row};

/// The audit policy file a pack may carry (the format of `lunli audit --policy`).
pub const AUDIT_POLICY: &str = lunli_audit::policy::PACK_FILE;

#[derive(Debug, Subcommand)]
pub enum PackCommand {
    /// Check a pack directory against the base catalogue and the active packs: what it adds
    /// and tightens, or every problem with file, line and reason (exit 3).
    Check { dir: PathBuf },
    /// Activate a pack (or a new version of an active one) for every later command, recorded
    /// in the ledger. Re-take the intake of a system for the pack's rules and roles to apply.
    Activate { dir: PathBuf },
    /// The active packs, in layering order.
    List,
}

/// What a pack changes, relative to the catalogue without it.
#[derive(Debug, Serialize)]
struct PackReport {
    pack: PackManifest,
    digest: String,
    added_controls: Vec<String>,
    tightened_controls: Vec<String>,
    added_questions: Vec<String>,
    added_rules: Vec<String>,
    added_roles: Vec<String>,
    tightened_tiers: Vec<TierChange>,
    audit_policy: bool,
}

#[derive(Debug, Serialize)]
struct TierChange {
    tier: lunli_norms::Tier,
    signoff_roles: Vec<String>,
    review_months: Option<u32>,
}

#[derive(Debug, Serialize)]
struct PackList {
    packs: Vec<ActivePackView>,
}

#[derive(Debug, Serialize)]
struct ActivePackView {
    id: String,
    version: String,
    digest: String,
    extends: String,
    title: Text,
    activated_by: String,
    activated_at: jiff::Timestamp,
}

pub fn run(global: &GlobalArgs, command: &PackCommand, out: &mut Out) -> Result<()> {
    match command {
        PackCommand::Check { dir } => {
            let (_, report) = check(global, dir)?;
            render_report(&report, false, out)
        }
        PackCommand::Activate { dir } => {
            let (pack, report) = check(global, dir)?;
            let ctx = Context::new(global)?;
            let store = ctx.store()?;
            Governance::new(&ctx.catalogue, &store).activate_pack(ActivePack {
                id: pack.manifest.id.clone(),
                version: pack.manifest.version.clone(),
                digest: pack.digest.clone(),
                extends: pack.manifest.extends.clone(),
                title: pack.manifest.title.clone(),
                files: pack.files.clone(),
                activated_by: ctx.actor.clone(),
                activated_at: now(),
            })?;
            render_report(&report, true, out)
        }
        PackCommand::List => {
            let ctx = Context::new(global)?;
            let store = ctx.store()?;
            let packs = Governance::new(&ctx.catalogue, &store).packs()?;
            let view = PackList {
                packs: packs
                    .into_iter()
                    .map(|p| ActivePackView {
                        id: p.id,
                        version: p.version,
                        digest: p.digest,
                        extends: p.extends,
                        title: p.title,
                        activated_by: p.activated_by,
                        activated_at: p.activated_at,
                    })
                    .collect(),
            };
            if !out.is_table() {
                return out.data(&view);
            }
            out.heading(out.label("已启用的规范包", "Active norm packs"));
            if view.packs.is_empty() {
                out.line(out.label("（无）", "(none)"));
                return Ok(());
            }
            let mut table = out.table(vec![
                out.label("包", "Pack"),
                out.label("版本", "Version"),
                out.label("名称", "Title"),
                out.label("扩展", "Extends"),
                out.label("启用", "Activated"),
            ]);
            for p in &view.packs {
                table.add_row(row![
                    p.id.clone(),
                    p.version.clone(),
                    out.cell(&p.title),
                    p.extends.clone(),
                    format!("{} {}", p.activated_by, p.activated_at),
                ]);
            }
            out.push_table(&table);
            Ok(())
        }
    }
}

/// Validates the pack in `dir` layered over the base and the other active packs.
fn check(global: &GlobalArgs, dir: &Path) -> Result<(Pack, PackReport)> {
    let pack = Pack::read(dir)?;
    let mut others = active_packs(global)?;
    others.retain(|p| p.manifest.id != pack.manifest.id);
    let before = Catalogue::layered(global.catalogue.as_deref(), &others)?;
    let mut layers = others;
    layers.push(pack.clone());
    let after = Catalogue::layered(global.catalogue.as_deref(), &layers)?;
    let audit_policy = check_audit_policy(&pack)?;
    let report = PackReport {
        pack: pack.manifest.clone(),
        digest: pack.digest.clone(),
        added_controls: after
            .controls()
            .iter()
            .filter(|c| before.control(&c.id).is_none())
            .map(|c| c.id.clone())
            .collect(),
        tightened_controls: after
            .controls()
            .iter()
            .filter(|c| before.control(&c.id).is_some_and(|b| b != *c))
            .map(|c| c.id.clone())
            .collect(),
        added_questions: after
            .questions()
            .iter()
            .filter(|q| before.question(&q.id).is_none())
            .map(|q| q.id.clone())
            .collect(),
        added_rules: after.rules().iter().filter(|r| before.rule(&r.id).is_none()).map(|r| r.id.clone()).collect(),
        added_roles: after.roles().iter().filter(|r| before.role(&r.id).is_none()).map(|r| r.id.clone()).collect(),
        tightened_tiers: after
            .tiers()
            .iter()
            .filter(|t| {
                let b = before.tier_policy(t.tier);
                b.signoff_roles != t.signoff_roles || b.review_months != t.review_months
            })
            .map(|t| TierChange {
                tier: t.tier,
                signoff_roles: t.signoff_roles.clone(),
                review_months: t.review_months,
            })
            .collect(),
        audit_policy,
    };
    Ok((pack, report))
}

/// A pack's audit policy may only make thresholds stricter than the defaults.
fn check_audit_policy(pack: &Pack) -> Result<bool> {
    let Some(text) = pack.file(AUDIT_POLICY) else { return Ok(false) };
    let file = format!("{}/{AUDIT_POLICY}", pack.source);
    let policy = Policy::from_yaml(&file, text).map_err(|e| InputError {
        file: file.clone(),
        line: None,
        reason: e.to_string(),
    })?;
    let loosened = policy.loosenings(&Policy::default());
    if !loosened.is_empty() {
        return Err(InputError {
            file,
            line: None,
            reason: format!(
                "pack {} weakens audit thresholds; a pack may only make them stricter:\n  {}",
                pack.manifest.id,
                loosened.join("\n  ")
            ),
        }
        .into());
    }
    Ok(true)
}

/// The audit policy of the last pack that carries one, if any.
pub fn audit_policy_of(packs: &[Pack]) -> Result<Option<Policy>> {
    Ok(Policy::of_packs(packs)?)
}

/// The packs active in the store the command works on, in layering order. Reading them never
/// creates a data directory: with none yet, nothing is active.
pub fn active_packs(global: &GlobalArgs) -> Result<Vec<Pack>> {
    Ok(active_packs_and_store(global)?.0)
}

/// [`active_packs`], and the store it opened to read them (none when there is no data directory
/// yet), so that a command can go on with that store instead of opening it again.
pub fn active_packs_and_store(global: &GlobalArgs) -> Result<(Vec<Pack>, Option<AnyStore>)> {
    let store: AnyStore = match global.database_url.as_deref().filter(|url| !url.trim().is_empty()) {
        Some(url) => PostgresStore::connect(url)?.into(),
        None => {
            let data_dir = match &global.data_dir {
                Some(dir) => dir.clone(),
                None => match crate::context::default_data_dir() {
                    Ok(dir) => dir,
                    Err(_) => return Ok((Vec::new(), None)),
                },
            };
            if !data_dir.join(DATABASE_FILE).exists() {
                return Ok((Vec::new(), None));
            }
            SqliteStore::open(&data_dir)?.into()
        }
    };
    let mut packs = Vec::new();
    for p in read_packs(&store)? {
        packs.push(Pack::from_files(&format!("pack {}@{}", p.id, p.version), p.files)?);
    }
    Ok((packs, Some(store)))
}

fn read_packs(store: &impl lunli_governance::store::Store) -> Result<Vec<ActivePack>> {
    Ok(store.read(|tx| tx.packs())?)
}

/// The catalogue every command works with: the bundled one, the `--catalogue` overlay, then
/// the active packs.
pub fn active_catalogue(global: &GlobalArgs) -> Result<Catalogue> {
    let packs = active_packs(global)?;
    Ok(Catalogue::layered(global.catalogue.as_deref(), &packs)?)
}

fn render_report(report: &PackReport, activated: bool, out: &mut Out) -> Result<()> {
    if !out.is_table() {
        return out.data(report);
    }
    let p = &report.pack;
    out.heading(format!("{} {} · {}", p.id, p.version, out.short(&p.title)));
    out.line(if activated {
        out.label(
            "已启用：此后所有命令的目录都包含此包。",
            "Activated: every command's catalogue now includes this pack.",
        )
    } else {
        out.label("检查通过：此包只增加或收紧要求。", "Valid: the pack only adds or tightens requirements.")
    });
    let rows = [
        (out.label("新增控制项", "Added controls"), Lines::new([report.added_controls.join(", ")])),
        (out.label("收紧的控制项", "Tightened controls"), Lines::new([report.tightened_controls.join(", ")])),
        (out.label("新增问题", "Added questions"), Lines::new([report.added_questions.join(", ")])),
        (out.label("新增规则", "Added rules"), Lines::new([report.added_rules.join(", ")])),
        (out.label("新增角色", "Added roles"), Lines::new([report.added_roles.join(", ")])),
        (
            out.label("收紧的等级", "Tightened tiers"),
            Lines::new(report.tightened_tiers.iter().map(|t| {
                format!(
                    "{}: {} / {}",
                    t.tier,
                    t.signoff_roles.join(", "),
                    t.review_months
                        .map_or_else(|| "-".into(), |m| out.label(&format!("{m} 个月"), &format!("{m} months")))
                )
            })),
        ),
        (out.label("审计阈值", "Audit thresholds"), Lines::new([if report.audit_policy { AUDIT_POLICY } else { "-" }])),
    ];
    let mut table = out.table(vec![out.label("项目", "What"), out.label("内容", "Which")]);
    for (what, which) in rows {
        let which = if which.is_blank() { Lines::new(["-"]) } else { which };
        table.add_row(row![what, which]);
    }
    out.push_table(&table);
    out.line(format!("sha256 {}", report.digest));
    Ok(())
}

//! `lunli assess|control|evidence|signoff|status`: working an assessment to approval.

use anyhow::{Context as _, Result};
use lunli_governance::{Approval, Assessment, ControlStatus, EvidenceItem, Governance, StatusRow};
use lunli_norms::Catalogue;

use crate::cli::{AssessArgs, ControlCommand, EvidenceCommand, SignoffArgs};
use crate::context::{Context, now, today};
use crate::output::{Lines, Out, row};

pub fn assess(ctx: &Context, args: &AssessArgs, out: &mut Out) -> Result<()> {
    let store = ctx.store()?;
    let gov = Governance::new(&ctx.catalogue, &store);
    let assessment = if args.submit {
        gov.submit(&ctx.actor, &args.system, now())?
    } else if let Some(reason) = &args.reopen {
        gov.reopen(&ctx.actor, &args.system, reason, now())?
    } else {
        gov.open_assessment(&ctx.actor, &args.system, now())?
    };
    if !out.is_table() {
        return out.data(&assessment);
    }
    render_assessment(&ctx.catalogue, &assessment, out);
    Ok(())
}

pub fn render_assessment(catalogue: &Catalogue, a: &Assessment, out: &mut Out) {
    out.heading(out.label(
        &format!("评估 #{} · {} 第 {} 版 · {}", a.id, a.system, a.version, a.tier.name().zh),
        &format!("Assessment #{} · {} v{} · {} tier", a.id, a.system, a.version, a.tier.name().en),
    ));
    let mut table = out.table(vec![
        out.label("控制项", "Control"),
        out.label("条款", "Art."),
        out.label("状态", "Status"),
        out.label("证据", "Evidence"),
        out.label("标题", "Title"),
    ]);
    for state in &a.controls {
        let (articles, title) = match catalogue.control(&state.control) {
            Some(c) => (c.articles.iter().map(u8::to_string).collect::<Vec<_>>().join(","), out.cell(&c.title)),
            None => (String::new(), Lines::new([out.label("（目录中已无此控制项）", "(no longer in the catalogue)")])),
        };
        table.add_row(row![
            state.control.clone(),
            articles,
            out.short(&state.status.name()),
            state.evidence.len().to_string(),
            title,
        ]);
    }
    out.push_table(&table);
    let resolved = a.controls.iter().filter(|c| c.status.is_resolved()).count();
    out.line(out.label(
        &format!(
            "已完成 {resolved}/{} 项；规则集 {}（{}）",
            a.controls.len(),
            a.ruleset_version,
            short_digest(&a.ruleset_digest)
        ),
        &format!(
            "{resolved}/{} controls resolved; rule set {} ({})",
            a.controls.len(),
            a.ruleset_version,
            short_digest(&a.ruleset_digest)
        ),
    ));
    let signed: Vec<String> = a.signoffs.iter().map(|s| format!("{}={}", s.role, s.person)).collect();
    out.line(format!(
        "{}: {} · {}: {}",
        out.label("需签核角色", "Sign-off roles"),
        a.required_roles.join(", "),
        out.label("已签核", "signed"),
        if signed.is_empty() { "—".to_string() } else { signed.join(", ") }
    ));
    out.line(approval_line(out, &a.approval()));
}

fn short_digest(digest: &str) -> &str {
    digest.get(..12).unwrap_or(digest)
}

pub fn approval_line(out: &Out, approval: &Approval) -> String {
    match approval {
        Approval::Blocked => out.label(
            "已阻止：禁止类系统不得批准（第二十条）",
            "Blocked: a prohibited system cannot be approved (Art. 20)",
        ),
        Approval::Approved { at, review_due } => {
            let due = review_due.map(|d| d.to_string()).unwrap_or_else(|| "—".into());
            out.label(&format!("已批准 {at}，复审截止 {due}"), &format!("Approved {at}; re-review due {due}"))
        }
        Approval::Open { unresolved_controls, missing_roles, submitted } => {
            if *submitted {
                out.label(
                    &format!("已提交，待签核：{}", missing_roles.join(", ")),
                    &format!("Submitted; awaiting sign-off by: {}", missing_roles.join(", ")),
                )
            } else {
                out.label(
                    &format!("进行中：{} 项控制未完成", unresolved_controls.len()),
                    &format!("Open: {} controls unresolved", unresolved_controls.len()),
                )
            }
        }
    }
}

pub fn control(ctx: &Context, command: &ControlCommand, out: &mut Out) -> Result<()> {
    let ControlCommand::Set { system, control, status, justification, comment } = command;
    let status: ControlStatus = status.parse()?;
    let store = ctx.store()?;
    let gov = Governance::new(&ctx.catalogue, &store);
    let assessment = gov.set_control(&ctx.actor, system, control, status, justification, comment, now())?;
    if !out.is_table() {
        return out.data(&assessment);
    }
    out.line(out.label(
        &format!("{} → {}", control.to_ascii_uppercase(), status.name().zh),
        &format!("{} → {}", control.to_ascii_uppercase(), status.name().en),
    ));
    out.line(approval_line(out, &assessment.approval()));
    Ok(())
}

pub fn evidence(ctx: &Context, command: &EvidenceCommand, out: &mut Out) -> Result<()> {
    let EvidenceCommand::Add { system, control, file, link, attest, note } = command;
    let item = if let Some(path) = file {
        let (sha256, size) = hash_file(path)?;
        let name =
            path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string());
        EvidenceItem::File { name, sha256, size }
    } else if let Some(url) = link {
        EvidenceItem::Link { url: url.clone() }
    } else if let Some(text) = attest {
        EvidenceItem::Attestation { text: text.clone() }
    } else {
        anyhow::bail!(crate::InputError::command_line("give the evidence: --file PATH, --link URL or --attest TEXT"));
    };
    let store = ctx.store()?;
    let gov = Governance::new(&ctx.catalogue, &store);
    let id = gov.add_evidence(&ctx.actor, system, control, item.clone(), note, now())?;
    if !out.is_table() {
        return out.data(&serde_json::json!({ "evidence": id, "item": item }));
    }
    out.line(out.label(
        &format!("已为 {} 添加证据 #{id}。", control.to_ascii_uppercase()),
        &format!("Added evidence #{id} to {}.", control.to_ascii_uppercase()),
    ));
    Ok(())
}

/// SHA-256 and size of a file, streamed so a large model card or data sheet is never held whole.
pub fn hash_file(path: &std::path::Path) -> Result<(String, u64)> {
    lunli_governance::digest::sha256_file(path).with_context(|| format!("cannot open evidence file {}", path.display()))
}

pub fn signoff(ctx: &Context, args: &SignoffArgs, out: &mut Out) -> Result<()> {
    let store = ctx.store()?;
    let gov = Governance::new(&ctx.catalogue, &store);
    let assessment = gov.sign_off(&ctx.actor, &args.system, &args.role, &args.note, now())?;
    if !out.is_table() {
        return out.data(&assessment);
    }
    out.line(out.label(
        &format!("{} 已以 {} 角色签核 {}。", ctx.actor, args.role, args.system),
        &format!("{} signed off {} as {}.", ctx.actor, args.system, args.role),
    ));
    out.line(approval_line(out, &assessment.approval()));
    Ok(())
}

pub fn status(ctx: &Context, out: &mut Out) -> Result<()> {
    let store = ctx.store()?;
    let gov = Governance::new(&ctx.catalogue, &store);
    let rows = gov.status(today())?;
    if !out.is_table() {
        return out.data(&rows);
    }
    render_status(&rows, out);
    Ok(())
}

pub fn render_status(rows: &[StatusRow], out: &mut Out) {
    let mut table = out.table(vec![
        out.label("系统", "System"),
        out.label("阶段", "Stage"),
        out.label("等级", "Tier"),
        out.label("评估", "Assessment"),
        out.label("复审截止", "Re-review due"),
    ]);
    for row in rows {
        let tier = row.tier.map(|t| out.short(&t.name())).unwrap_or_else(|| out.label("未评估", "no intake"));
        let assessment = match (&row.approval, row.assessed_version) {
            (None, _) => "—".to_string(),
            (Some(_), Some(v)) if v < row.version => out.label(&format!("过期（第 {v} 版）"), &format!("stale (v{v})")),
            (Some(Approval::Blocked), _) => out.label("已阻止", "blocked"),
            (Some(Approval::Approved { .. }), _) => out.label("已批准", "approved"),
            (Some(Approval::Open { submitted: true, missing_roles, .. }), _) => out.label(
                &format!("待签核 {}", missing_roles.join(",")),
                &format!("awaiting {}", missing_roles.join(",")),
            ),
            (Some(Approval::Open { unresolved_controls, .. }), _) => out.label(
                &format!("{} 项未完成", unresolved_controls.len()),
                &format!("{} open controls", unresolved_controls.len()),
            ),
        };
        let due = match (row.review_due, row.overdue) {
            (Some(d), true) => format!("{d} ⚠ {}", out.label("已逾期", "OVERDUE")),
            (Some(d), false) => d.to_string(),
            (None, _) => "—".into(),
        };
        table.add_row(vec![
            format!("{} ({})", row.system, row.name),
            out.short(&row.stage.name()),
            tier,
            assessment,
            due,
        ]);
    }
    out.push_table(&table);
    let overdue = rows.iter().filter(|r| r.overdue).count();
    out.line(out.label(
        &format!("共 {} 个系统，{overdue} 个逾期复审。", rows.len()),
        &format!("{} systems, {overdue} overdue for re-review.", rows.len()),
    ));
    // A playbook that weakens human control since approval is said under the table, each way.
    for row in rows.iter().filter(|r| !r.playbook_loosened.is_empty()) {
        let (zh, en): (Vec<String>, Vec<String>) = row.playbook_loosened.iter().map(|l| l.describe()).unzip();
        out.line(out.label(
            &format!("⚠ {} 的预案自批准以来放松了人工控制：{}", row.system, zh.join("；")),
            &format!("⚠ {}'s playbook weakens human control since approval: {}", row.system, en.join("; ")),
        ));
    }
}

//! `lunli review|incident|feedback|playbook …`: runtime oversight from the command line — the
//! human review queue, incidents, public feedback and systems' playbooks (Art. 3(4), Art. 8,
//! Art. 17, Art. 21). Every change goes through the governance library and into the ledger.

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use clap::Subcommand;
use lunli_governance::incident::{Feedback, Incident, NewIncident};
use lunli_governance::playbook::Playbook;
use lunli_governance::review::ReviewItem;
use lunli_governance::{Actor, Governance};
use serde::de::DeserializeOwned;

use crate::context::{Context, now, read_input};
use crate::output::Out;
use crate::parse_yaml;

#[derive(Debug, Subcommand)]
pub enum ReviewCommand {
    /// The review queue: decisions the gateway sent to a human.
    List {
        /// Only items in this state.
        #[arg(long, value_parser = ["open", "claimed", "resolved"])]
        status: Option<String>,
    },
    /// Claim an item to review it (you, `--as`, must be a trained person who does not own the system).
    Claim { id: u64 },
    /// Record the human outcome of a claimed item; the ledger links it to the decision.
    Resolve {
        id: u64,
        #[arg(long, value_parser = ["approve", "reject"])]
        outcome: String,
        /// Why; required when rejecting.
        #[arg(long, default_value = "")]
        note: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum IncidentCommand {
    /// Open an incident; a severity the system's playbook lists under suspend_on suspends it.
    Open {
        #[arg(long)]
        system: String,
        #[arg(long)]
        title: String,
        #[arg(long, value_parser = ["low", "medium", "high", "critical"])]
        severity: String,
        #[arg(long, default_value = "")]
        description: String,
        /// Accountable person; the system's owner by default.
        #[arg(long)]
        owner: Option<String>,
        /// Gateway decision ids it concerns; repeat or comma-separate.
        #[arg(long = "decision", value_delimiter = ',')]
        decisions: Vec<String>,
        /// Control ids it concerns; repeat or comma-separate.
        #[arg(long = "control", value_delimiter = ',')]
        controls: Vec<String>,
        /// The feedback (id) that raised it.
        #[arg(long)]
        feedback: Option<u64>,
    },
    /// Acknowledge an open incident.
    Ack {
        id: u64,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Resolve an incident, saying what was found and done.
    Resolve {
        id: u64,
        #[arg(long)]
        note: String,
    },
    /// Every incident, overdue ones marked.
    List {
        /// Only those not resolved.
        #[arg(long)]
        open: bool,
    },
    /// One incident with its history.
    Show { id: u64 },
}

#[derive(Debug, Subcommand)]
pub enum FeedbackCommand {
    /// Feedback received, newest first.
    List {
        #[arg(long)]
        system: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Record feedback received another way (a call, a letter).
    Submit {
        #[arg(long)]
        system: String,
        #[arg(long)]
        message: String,
        #[arg(long, value_parser = ["error", "unfair", "flaw", "complaint", "other"], default_value = "other")]
        kind: String,
        #[arg(long)]
        decision: Option<String>,
        #[arg(long)]
        contact: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum PlaybookCommand {
    /// A system's playbook: who may pause it, review thresholds, monitors, contacts, targets.
    Show { system: String },
    /// Replace a system's playbook from a YAML file (docs/oversight.md); makes a new version.
    Set { system: String, file: PathBuf },
}

/// A value clap has already checked against the enum's names.
fn named<T: DeserializeOwned>(name: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(name.to_string())).with_context(|| format!("unknown value {name}"))
}

pub fn review(ctx: &Context, command: &ReviewCommand, out: &mut Out) -> Result<()> {
    let store = ctx.store()?;
    let gov = Governance::new(&ctx.catalogue, &store);
    match command {
        ReviewCommand::List { status } => {
            let status = status.as_deref().map(named).transpose()?;
            let items = gov.reviews(status)?;
            if !out.is_table() {
                return out.data(&items);
            }
            render_reviews(&items, out);
        }
        ReviewCommand::Claim { id } => {
            let item = gov.claim_review(&ctx.actor, *id, now())?;
            if !out.is_table() {
                return out.data(&item);
            }
            out.line(out.label(
                &format!("{} 已认领复核 {}（决定 {}）。", ctx.actor, item.id, item.decision),
                &format!("{} claimed review {} (decision {}).", ctx.actor, item.id, item.decision),
            ));
        }
        ReviewCommand::Resolve { id, outcome, note } => {
            let item = gov.resolve_review(&ctx.actor, *id, named(outcome)?, note, now())?;
            if !out.is_table() {
                return out.data(&item);
            }
            let index = item.resolution.as_ref().map_or(0, |r| r.ledger_index);
            out.line(out.label(
                &format!("复核 {} 已完成：{outcome}；账本条目 {index} 关联决定条目 {}。", item.id, item.decision_index),
                &format!(
                    "Review {} resolved: {outcome}; ledger entry {index} links decision entry {}.",
                    item.id, item.decision_index
                ),
            ));
        }
    }
    Ok(())
}

fn render_reviews(items: &[ReviewItem], out: &mut Out) {
    let mut table = out.table(vec![
        out.label("编号", "Id"),
        out.label("系统", "System"),
        out.label("决定", "Decision"),
        out.label("原因", "Reasons"),
        out.label("状态", "Status"),
        out.label("复核人", "Reviewer"),
        out.label("人工结论", "Outcome"),
    ]);
    for i in items {
        table.add_row(vec![
            i.id.to_string(),
            i.system.clone(),
            format!("{} (#{})", i.decision, i.decision_index),
            i.reasons.join(", "),
            status_label(out, i.status.as_str()),
            i.claimed_by.clone().unwrap_or_default(),
            i.resolution.as_ref().map(|r| format!("{:?}", r.outcome).to_lowercase()).unwrap_or_default(),
        ]);
    }
    out.push_table(&table);
    out.line(out.label(&format!("共 {} 项。", items.len()), &format!("{} items.", items.len())));
}

fn status_label(out: &Out, status: &str) -> String {
    let zh = match status {
        "open" => "待处理",
        "claimed" => "已认领",
        "resolved" => "已解决",
        "acknowledged" => "已确认",
        _ => status,
    };
    out.label(zh, status)
}

pub fn incident(ctx: &Context, command: &IncidentCommand, out: &mut Out) -> Result<()> {
    let store = ctx.store()?;
    let gov = Governance::new(&ctx.catalogue, &store);
    match command {
        IncidentCommand::Open { system, title, severity, description, owner, decisions, controls, feedback } => {
            let new = NewIncident {
                system: system.clone(),
                title: title.clone(),
                description: description.clone(),
                severity: named(severity)?,
                owner: owner.clone(),
                decisions: decisions.clone(),
                controls: controls.clone(),
                feedback: *feedback,
            };
            let incident = gov.open_incident(&Actor::person(&ctx.actor), new, now())?;
            if !out.is_table() {
                return out.data(&incident);
            }
            render_incident(&incident, None, out);
            if incident.suspended_system {
                out.line(out.label(
                    &format!("按预案，系统 {} 已暂停。", incident.system),
                    &format!("As its playbook says, {} is now suspended.", incident.system),
                ));
            } else if gov.playbook(&incident.system)?.suspend_on.contains(&incident.severity) {
                out.line(out.label(
                    &format!(
                        "预案要求暂停 {}，但预案未授权 {} 暂停它：系统未暂停，请联系可暂停者。",
                        incident.system, ctx.actor
                    ),
                    &format!(
                        "Its playbook suspends {} on such incidents, but does not let {} pause it: the system was not \
                         suspended; ask someone it names.",
                        incident.system, ctx.actor
                    ),
                ));
            }
        }
        IncidentCommand::Ack { id, note } => {
            let incident = gov.acknowledge_incident(&ctx.actor, *id, note, now())?;
            if !out.is_table() {
                return out.data(&incident);
            }
            out.line(out.label(&format!("事件 {id} 已确认。"), &format!("Incident {id} acknowledged.")));
        }
        IncidentCommand::Resolve { id, note } => {
            let incident = gov.resolve_incident(&ctx.actor, *id, note, now())?;
            if !out.is_table() {
                return out.data(&incident);
            }
            out.line(out.label(&format!("事件 {id} 已解决。"), &format!("Incident {id} resolved.")));
        }
        IncidentCommand::List { open } => {
            let mut rows = gov.incidents(now())?;
            if *open {
                rows.retain(|r| r.incident.status != lunli_governance::incident::IncidentStatus::Resolved);
            }
            if !out.is_table() {
                return out.data(&rows);
            }
            let mut table = out.table(vec![
                out.label("编号", "Id"),
                out.label("系统", "System"),
                out.label("严重程度", "Severity"),
                out.label("标题", "Title"),
                out.label("责任人", "Owner"),
                out.label("状态", "Status"),
                out.label("逾期", "Overdue"),
            ]);
            let overdue = rows.iter().filter(|r| r.overdue.is_some()).count();
            for r in &rows {
                let i = &r.incident;
                table.add_row(vec![
                    i.id.to_string(),
                    i.system.clone(),
                    out.label(i.severity.zh(), i.severity.as_str()),
                    i.title.clone(),
                    i.owner.clone(),
                    status_label(out, i.status.as_str()),
                    overdue_label(out, r.overdue),
                ]);
            }
            out.push_table(&table);
            out.line(out.label(
                &format!("共 {} 个事件，{overdue} 个逾期。", rows.len()),
                &format!("{} incidents, {overdue} overdue.", rows.len()),
            ));
        }
        IncidentCommand::Show { id } => {
            let row = gov.incident(*id, now())?;
            if !out.is_table() {
                return out.data(&row);
            }
            render_incident(&row.incident, row.overdue, out);
        }
    }
    Ok(())
}

fn overdue_label(out: &Out, overdue: Option<lunli_governance::incident::Overdue>) -> String {
    use lunli_governance::incident::Overdue;
    match overdue {
        None => String::new(),
        Some(Overdue::Acknowledge) => out.label("！未按时确认", "! not acknowledged in time"),
        Some(Overdue::Resolve) => out.label("！未按时解决", "! not resolved in time"),
    }
}

fn render_incident(i: &Incident, overdue: Option<lunli_governance::incident::Overdue>, out: &mut Out) {
    out.heading(out.label(&format!("事件 {}：{}", i.id, i.title), &format!("Incident {}: {}", i.id, i.title)));
    out.line(format!("{}: {}", out.label("系统", "System"), i.system));
    out.line(format!("{}: {}", out.label("严重程度", "Severity"), out.label(i.severity.zh(), i.severity.as_str())));
    out.line(format!("{}: {}", out.label("责任人", "Owner"), i.owner));
    out.line(format!("{}: {}", out.label("状态", "Status"), status_label(out, i.status.as_str())));
    out.line(format!("{}: {}", out.label("确认期限", "Acknowledge by"), i.acknowledge_by));
    out.line(format!("{}: {}", out.label("解决期限", "Resolve by"), i.resolve_by));
    if overdue.is_some() {
        out.line(overdue_label(out, overdue));
    }
    if !i.decisions.is_empty() {
        out.line(format!("{}: {}", out.label("相关决定", "Decisions"), i.decisions.join(", ")));
    }
    if !i.controls.is_empty() {
        out.line(format!("{}: {}", out.label("相关控制项", "Controls"), i.controls.join(", ")));
    }
    if !i.description.is_empty() {
        out.blank();
        out.wrapped(&i.description, 2);
    }
    out.blank();
    for change in &i.history {
        let note = if change.note.is_empty() { String::new() } else { format!(" — {}", change.note) };
        out.line(format!("  {}  {}  {}{note}", change.at, status_label(out, change.status.as_str()), change.by));
    }
}

pub fn feedback(ctx: &Context, command: &FeedbackCommand, out: &mut Out) -> Result<()> {
    let store = ctx.store()?;
    let gov = Governance::new(&ctx.catalogue, &store);
    match command {
        FeedbackCommand::List { system, limit } => {
            let items = gov.feedback(system.as_deref(), *limit)?;
            if !out.is_table() {
                return out.data(&items);
            }
            let mut table = out.table(vec![
                out.label("编号", "Id"),
                out.label("系统", "System"),
                out.label("类别", "Kind"),
                out.label("内容", "Message"),
                out.label("时间", "At"),
            ]);
            for f in &items {
                table.add_row(vec![
                    f.id.to_string(),
                    f.system.clone(),
                    format!("{:?}", f.kind).to_lowercase(),
                    f.message.clone(),
                    f.at.to_string(),
                ]);
            }
            out.push_table(&table);
            out.line(out.label(&format!("共 {} 条。", items.len()), &format!("{} items.", items.len())));
        }
        FeedbackCommand::Submit { system, message, kind, decision, contact } => {
            let feedback = Feedback {
                id: 0,
                system: system.clone(),
                kind: named(kind)?,
                message: message.clone(),
                decision: decision.clone(),
                contact: contact.clone(),
                at: now(),
            };
            let stored = gov.submit_feedback(&ctx.actor, feedback)?;
            if !out.is_table() {
                return out.data(&stored);
            }
            out.line(out.label(&format!("已记录反馈 {}。", stored.id), &format!("Feedback {} recorded.", stored.id)));
        }
    }
    Ok(())
}

pub fn playbook(ctx: &Context, command: &PlaybookCommand, out: &mut Out) -> Result<()> {
    let store = ctx.store()?;
    let gov = Governance::new(&ctx.catalogue, &store);
    match command {
        PlaybookCommand::Show { system } => {
            let playbook = gov.playbook(system)?;
            if !out.is_table() {
                return out.data(&playbook);
            }
            render_playbook(system, &playbook, out);
        }
        PlaybookCommand::Set { system, file } => {
            let text = read_input(file)?;
            let playbook: Playbook = parse_yaml(&file.display().to_string(), &text)?;
            let version = gov.set_playbook(&Actor::person(&ctx.actor), system, playbook, now())?;
            if !out.is_table() {
                return out.data(&version);
            }
            out.line(out.label(
                &format!("{system} 的预案已更新（第 {} 版）。", version.version),
                &format!("Playbook of {system} updated (version {}).", version.version),
            ));
        }
    }
    Ok(())
}

pub fn render_playbook(system: &str, p: &Playbook, out: &mut Out) {
    out.heading(out.label(&format!("{system} 的预案"), &format!("Playbook of {system}")));
    if p.is_empty() {
        out.line(out.label("（空：使用网关默认设置）", "(empty: the gateway's defaults apply)"));
    }
    let anyone = out.label("访问策略允许的任何人", "anyone the access policy allows");
    let who = if p.may_pause.is_empty() { anyone } else { p.may_pause.join(", ") };
    out.line(format!("{}: {who}", out.label("可暂停系统的人", "May pause it")));
    let default = out.label("网关默认", "gateway default");
    let below = p.review.below_confidence.map_or(default.clone(), |c| c.to_string());
    let impact = p.review.at_impact.map_or(default, |i| format!("{i:?}").to_lowercase());
    out.line(format!("{}: {below}", out.label("置信度低于此值时人工复核", "Human review below confidence")));
    out.line(format!("{}: {impact}", out.label("影响达到此级别时人工复核", "Human review at impact")));
    let suspend: Vec<&str> = p.suspend_on.iter().map(|s| s.as_str()).collect();
    out.line(format!("{}: {}", out.label("自动暂停的事件级别", "Suspends on incidents of"), suspend.join(", ")));
    for (i, m) in p.monitors.iter().enumerate() {
        out.line(format!(
            "{} {i}: {}{} > {} ({} {}, {} {}){}",
            out.label("监测", "Monitor"),
            m.metric.as_str(),
            m.attribute.as_ref().map(|a| format!(" [{a}]")).unwrap_or_default(),
            m.threshold,
            out.label("窗口", "window"),
            m.window,
            out.label("最少", "min"),
            m.min_count,
            m.incident.map(|s| format!(" → {}", s.as_str())).unwrap_or_default()
        ));
    }
    for c in &p.escalation {
        out.line(format!(
            "{}: {} <{}> ({}+)",
            out.label("升级联系人", "Escalate to"),
            c.name,
            c.reach,
            c.from.as_str()
        ));
    }
    for severity in [
        lunli_governance::incident::Severity::Critical,
        lunli_governance::incident::Severity::High,
        lunli_governance::incident::Severity::Medium,
        lunli_governance::incident::Severity::Low,
    ] {
        let t = p.target(severity);
        out.line(format!(
            "{} {}: {} {} min, {} {} min",
            out.label("时限", "Targets"),
            out.label(severity.zh(), severity.as_str()),
            out.label("确认", "acknowledge"),
            t.acknowledge_minutes,
            out.label("解决", "resolve"),
            t.resolve_minutes
        ));
    }
}

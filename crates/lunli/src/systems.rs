//! `lunli system|person|vendor …`: the inventory.

use anyhow::{Context as _, Result};
use jiff::ToSpan;
use jiff::civil::Date;
use lunli_governance::store::SystemVersion;
use lunli_governance::{Actor, DueDiligenceAnswer, Governance, Person, Stage, System, Training, Vendor, VendorKind};
use serde::Serialize;

use crate::cli::{PersonCommand, SystemCommand, VendorCommand};
use crate::context::{Context, now, read_input};
use crate::output::Out;
use crate::parse_yaml;

pub fn system(ctx: &Context, command: &SystemCommand, out: &mut Out) -> Result<()> {
    let store = ctx.store()?;
    let gov = Governance::new(&ctx.catalogue, &store);
    match command {
        SystemCommand::Add { file } => {
            let text = read_input(file)?;
            let system: System = parse_yaml(&file.display().to_string(), &text)?;
            let version = gov.register_system(&ctx.actor, system, now())?;
            if !out.is_table() {
                return out.data(&version);
            }
            out.line(out.label(
                &format!(
                    "已登记 {}（第 {} 版）。下一步：lunli intake {}",
                    version.system.id, version.version, version.system.id
                ),
                &format!(
                    "Registered {} (version {}). Next: lunli intake {}",
                    version.system.id, version.version, version.system.id
                ),
            ));
        }
        SystemCommand::List => {
            let systems = gov.systems()?;
            if !out.is_table() {
                return out.data(&systems);
            }
            let mut table = out.table(vec![
                out.label("编号", "Id"),
                out.label("名称", "Name"),
                out.label("责任人", "Owner"),
                out.label("阶段", "Stage"),
                out.label("版本", "Version"),
            ]);
            for v in &systems {
                table.add_row(vec![
                    v.system.id.clone(),
                    v.system.name.clone(),
                    v.system.owner.clone(),
                    out.short(&v.system.stage.name()),
                    v.version.to_string(),
                ]);
            }
            out.push_table(&table);
            out.line(out.label(&format!("共 {} 个系统。", systems.len()), &format!("{} systems.", systems.len())));
        }
        SystemCommand::Show { id } => {
            let versions = gov.system_versions(id)?;
            let intake = gov.latest_intake(id)?;
            #[derive(Serialize)]
            struct View<'a> {
                system: &'a SystemVersion,
                versions: &'a [SystemVersion],
                tier: Option<lunli_norms::Tier>,
            }
            let Some(current) = versions.last() else {
                anyhow::bail!("system {id} has no versions");
            };
            if !out.is_table() {
                return out.data(&View { system: current, versions: &versions, tier: intake.as_ref().map(|i| i.tier) });
            }
            render_system(out, current, intake.as_ref().map(|i| i.tier));
            if !current.system.playbook.is_empty() {
                crate::oversight::render_playbook(id, &current.system.playbook, out);
            }
            let row = gov.status(crate::context::today())?.into_iter().find(|r| &r.system == id);
            if let Some(row) = row {
                crate::assess::render_status(std::slice::from_ref(&row), out);
            }
            out.blank();
            out.line(out.label("版本历史", "Versions"));
            for v in &versions {
                out.line(format!("  v{}  {}  {}  {}", v.version, v.created_at, v.created_by, v.change));
            }
        }
        SystemCommand::Update { id, file, stage } => {
            let version = if let Some(file) = file {
                let text = read_input(file)?;
                let replacement: System = parse_yaml(&file.display().to_string(), &text)?;
                gov.update_system(&Actor::person(&ctx.actor), id, now(), |system| {
                    *system = replacement;
                    Ok("record replaced".into())
                })?
            } else {
                let stage: Stage = stage.as_deref().unwrap_or_default().parse()?;
                gov.update_system(&Actor::person(&ctx.actor), id, now(), |system| {
                    let change = format!("stage {} → {}", system.stage, stage);
                    system.stage = stage;
                    Ok(change)
                })?
            };
            if !out.is_table() {
                return out.data(&version);
            }
            out.line(out.label(
                &format!("{} 现为第 {} 版（{}）。", id, version.version, version.change),
                &format!("{} is now at version {} ({}).", id, version.version, version.change),
            ));
        }
    }
    Ok(())
}

pub fn render_system(out: &mut Out, version: &SystemVersion, tier: Option<lunli_norms::Tier>) {
    let s = &version.system;
    out.heading(format!("{} · {} (v{})", s.id, s.name, version.version));
    if !s.description.is_empty() {
        out.wrapped(&s.description, 0);
    }
    let roles: Vec<String> = s.roles.iter().map(|r| out.short(&r.name())).collect();
    let rows = [
        (out.label("用途", "Purpose"), s.purpose.clone()),
        (out.label("责任人", "Owner"), s.owner.clone()),
        (out.label("本组织角色", "Our roles"), roles.join(", ")),
        (out.label("行业", "Sectors"), s.sectors.join(", ")),
        (
            out.label("部署", "Deployment"),
            format!("{} {}", out.short(&s.deployment.exposure.name()), s.deployment.regions.join(", ")),
        ),
        (out.label("阶段", "Stage"), out.short(&s.stage.name())),
        (
            out.label("模型来源", "Model"),
            format!(
                "{}{}{}",
                out.short(&s.model.source.name()),
                s.model.vendor.as_deref().map(|v| format!(" ({v})")).unwrap_or_default(),
                s.model.name.as_deref().map(|n| format!(" {n}")).unwrap_or_default()
            ),
        ),
        (
            out.label("风险等级", "Tier"),
            tier.map(|t| out.short(&t.name())).unwrap_or_else(|| out.label("未评估", "no intake yet")),
        ),
    ];
    for (label, value) in rows {
        out.line(format!("{label}: {value}"));
    }
    if !s.data_sources.is_empty() {
        out.line(format!("{}:", out.label("数据来源", "Data sources")));
        for d in &s.data_sources {
            let vendor = d.vendor.as_deref().map(|v| format!(" · {v}")).unwrap_or_default();
            out.line(format!("  - {} ({}){vendor}", d.name, out.short(&d.legal_basis.name())));
        }
    }
    for (label, items) in
        [(out.label("功能", "Functions"), &s.functions), (out.label("局限", "Limitations"), &s.limitations)]
    {
        if !items.is_empty() {
            out.line(format!("{label}:"));
            for item in items {
                out.line(format!("  - {item}"));
            }
        }
    }
}

pub fn person(ctx: &Context, command: &PersonCommand, out: &mut Out) -> Result<()> {
    let store = ctx.store()?;
    let gov = Governance::new(&ctx.catalogue, &store);
    match command {
        PersonCommand::Add { id, name, email, roles } => {
            let person = Person {
                id: id.clone(),
                name: name.clone(),
                email: email.clone(),
                roles: roles.clone(),
                training: vec![],
            };
            let person = gov.add_person(&ctx.actor, person, now())?;
            if !out.is_table() {
                return out.data(&person);
            }
            out.line(out.label(&format!("已登记人员 {}。", person.id), &format!("Registered person {}.", person.id)));
        }
        PersonCommand::List => {
            let people = gov.people()?;
            if !out.is_table() {
                return out.data(&people);
            }
            let today = crate::context::today();
            let mut table = out.table(vec![
                out.label("编号", "Id"),
                out.label("姓名", "Name"),
                out.label("签核角色", "Sign-off roles"),
                out.label("伦理培训有效期至", "Training valid until"),
            ]);
            for p in &people {
                let training = match p.training_valid_on(today) {
                    Some(t) => t.expires.to_string(),
                    None => out.label("无有效培训", "none valid"),
                };
                table.add_row(vec![p.id.clone(), p.name.clone(), p.roles.join(", "), training]);
            }
            out.push_table(&table);
        }
        PersonCommand::Train { id, course, completed, expires } => {
            let completed = parse_date("--completed", completed)?;
            let expires = match expires {
                Some(e) => parse_date("--expires", e)?,
                None => completed.checked_add(1.year()).context("expiry date out of range")?,
            };
            let person =
                gov.add_training(&ctx.actor, id, Training { course: course.clone(), completed, expires }, now())?;
            if !out.is_table() {
                return out.data(&person);
            }
            out.line(out.label(
                &format!("已记录 {} 的培训，有效期至 {expires}。", person.id),
                &format!("Recorded training for {}, valid until {expires}.", person.id),
            ));
        }
        PersonCommand::Grant { id, role } => {
            let person = gov.grant_role(&ctx.actor, id, role, now())?;
            if !out.is_table() {
                return out.data(&person);
            }
            out.line(format!("{}: {}", person.id, person.roles.join(", ")));
        }
    }
    Ok(())
}

pub fn vendor(ctx: &Context, command: &VendorCommand, out: &mut Out) -> Result<()> {
    if let VendorCommand::Questions = command {
        let questions = ctx.catalogue.vendor_questions();
        if !out.is_table() {
            return out.data(&questions);
        }
        let mut table = out.table(vec![out.label("编号", "Id"), out.label("问题", "Question")]);
        for q in questions {
            table.add_row(vec![q.id.clone(), out.short(&q.text)]);
        }
        out.push_table(&table);
        return Ok(());
    }
    let store = ctx.store()?;
    let gov = Governance::new(&ctx.catalogue, &store);
    match command {
        VendorCommand::Add { id, name, kind } => {
            let kind: VendorKind = kind.parse()?;
            let vendor = Vendor { id: id.clone(), name: name.clone(), kind, due_diligence: Default::default() };
            let vendor = gov.add_vendor(&ctx.actor, vendor, now())?;
            if !out.is_table() {
                return out.data(&vendor);
            }
            out.line(out.label(&format!("已登记供应商 {}。", vendor.id), &format!("Registered vendor {}.", vendor.id)));
        }
        VendorCommand::List => {
            let vendors = gov.vendors()?;
            if !out.is_table() {
                return out.data(&vendors);
            }
            let total = ctx.catalogue.vendor_questions().len();
            let mut table = out.table(vec![
                out.label("编号", "Id"),
                out.label("名称", "Name"),
                out.label("类型", "Kind"),
                out.label("尽职调查（是/已答/共）", "Due diligence (yes/answered/total)"),
            ]);
            for v in &vendors {
                let yes = v.due_diligence.values().filter(|a| a.answer).count();
                table.add_row(vec![
                    v.id.clone(),
                    v.name.clone(),
                    out.short(&v.kind.name()),
                    format!("{yes}/{}/{total}", v.due_diligence.len()),
                ]);
            }
            out.push_table(&table);
        }
        VendorCommand::Answer { id, question, answer, note } => {
            let answer = match answer.to_ascii_lowercase().as_str() {
                "yes" | "y" | "true" | "是" => true,
                "no" | "n" | "false" | "否" => false,
                other => {
                    anyhow::bail!(crate::InputError::command_line(format!("answer must be yes or no, not `{other}`")))
                }
            };
            let vendor = gov.answer_due_diligence(
                &ctx.actor,
                id,
                question,
                DueDiligenceAnswer { answer, note: note.clone() },
                now(),
            )?;
            if !out.is_table() {
                return out.data(&vendor);
            }
            out.line(out.label(&format!("已记录 {id} 的回答。"), &format!("Recorded {id}'s answer.")));
        }
        VendorCommand::Questions => {}
    }
    Ok(())
}

fn parse_date(flag: &str, text: &str) -> Result<Date> {
    text.parse::<Date>().map_err(|e| {
        anyhow::Error::new(crate::InputError::command_line(format!("{flag} `{text}` is not a date (YYYY-MM-DD): {e}")))
    })
}

//! `lunli crosswalk [FRAMEWORK] [--system ID] [--uncovered]`: how lunli's controls answer
//! another framework's items, and with --system where one system stands in that framework's
//! terms. The figures are computed in lunli-norms and lunli-governance; this only renders them.

use anyhow::Result;
use clap::Args;
use lunli_governance::Governance;
use lunli_governance::crosswalk::{ItemState, SystemCrosswalk, system_crosswalk};
use lunli_norms::{Catalogue, Coverage, CoverageSummary, NotFound, Text};
use serde::Serialize;

use crate::context::Context;
use crate::output::{Lines, Out, row};

#[derive(Debug, Args)]
pub struct CrosswalkArgs {
    /// The framework: eu-ai-act, nist-ai-rmf-1.0, iso-iec-42001-2023,
    /// cn-genai-interim-measures-2023, cn-ai-content-labelling-measures-2025. Without it, every
    /// framework with its coverage figures.
    pub framework: Option<String>,
    /// Show this system's standing in the framework's terms, from its current assessment.
    #[arg(long, requires = "framework")]
    pub system: Option<String>,
    /// Only the items no control covers (with --system: only those not met).
    #[arg(long)]
    pub uncovered: bool,
}

/// `lunli crosswalk` without a framework: one line per framework.
#[derive(Debug, Serialize)]
struct FrameworkList {
    frameworks: Vec<FrameworkSummary>,
}

#[derive(Debug, Serialize)]
struct FrameworkSummary {
    id: String,
    title: Text,
    published: String,
    controls_mapped: usize,
    summary: CoverageSummary,
}

pub fn run(global: &crate::cli::GlobalArgs, catalogue: &Catalogue, args: &CrosswalkArgs, out: &mut Out) -> Result<()> {
    let Some(id) = &args.framework else {
        return list(catalogue, out);
    };
    let framework = catalogue.crosswalk(id).ok_or_else(|| NotFound {
        what: "framework",
        given: id.clone(),
        hint: format!("known: {}", catalogue.crosswalks().iter().map(|f| f.id.as_str()).collect::<Vec<_>>().join(", ")),
    })?;
    if let Some(system) = &args.system {
        let ctx = Context::new(global)?;
        let store = ctx.store()?;
        let assessment = Governance::new(&ctx.catalogue, &store).assessment(system)?;
        let mut view = system_crosswalk(framework, &assessment);
        if args.uncovered {
            view.items.retain(|i| !matches!(i.state, ItemState::Met | ItemState::NotApplicable));
        }
        if !out.is_table() {
            return out.data(&view);
        }
        render_system(&view, out);
        return Ok(());
    }
    let mut coverage = framework.coverage();
    if args.uncovered {
        coverage.items.retain(|i| i.leaf && i.strength.is_none());
    }
    if !out.is_table() {
        return out.data(&coverage);
    }
    render_coverage(&coverage, args.uncovered, out);
    Ok(())
}

fn list(catalogue: &Catalogue, out: &mut Out) -> Result<()> {
    let view = FrameworkList {
        frameworks: catalogue
            .crosswalks()
            .iter()
            .map(|f| {
                let coverage = f.coverage();
                FrameworkSummary {
                    id: f.id.clone(),
                    title: f.title.clone(),
                    published: f.published.clone(),
                    controls_mapped: coverage.controls_mapped,
                    summary: coverage.summary,
                }
            })
            .collect(),
    };
    if !out.is_table() {
        return out.data(&view);
    }
    out.heading(out.label("对照框架", "Crosswalks"));
    let mut table = out.table(vec![
        out.label("框架", "Framework"),
        out.label("名称", "Title"),
        out.label("条目", "Items"),
        out.label("等同/部分/相关", "Equiv./partial/related"),
        out.label("未覆盖", "Uncovered"),
        out.label("覆盖率", "Covered"),
    ]);
    for f in &view.frameworks {
        let s = &f.summary;
        table.add_row(row![
            f.id.clone(),
            out.cell(&f.title),
            s.items.to_string(),
            format!("{}/{}/{}", s.equivalent, s.partial, s.related),
            s.uncovered.to_string(),
            format!("{}%", s.covered_percent),
        ]);
    }
    out.push_table(&table);
    Ok(())
}

fn render_coverage(coverage: &Coverage, uncovered_only: bool, out: &mut Out) {
    out.heading(out.short(&coverage.title));
    let mut table = out.table(vec![
        out.label("条目", "Item"),
        out.label("标题", "Title"),
        out.label("对应强度", "Strength"),
        out.label("控制项", "Controls"),
    ]);
    for item in &coverage.items {
        let own = if item.own { out.label("（摘要）", " (summary)") } else { String::new() };
        let title = out.cell(&item.title).suffixed(&own);
        if !item.leaf {
            table.add_row(row![item.id.clone(), title, String::new(), String::new()]);
            continue;
        }
        let strength = match item.strength {
            Some(s) => out.short(&s.name()),
            None => out.label("无", "none"),
        };
        let controls: Vec<String> =
            item.controls.iter().map(|c| format!("{} ({})", c.control, out.short(&c.strength.name()))).collect();
        table.add_row(row![item.id.clone(), title, strength, Lines::new(controls)]);
    }
    out.push_table(&table);
    if uncovered_only {
        out.line(out.label(
            &format!("{} 个条目没有任何控制项对应。", coverage.items.len()),
            &format!("{} items are covered by no control.", coverage.items.len()),
        ));
        return;
    }
    let s = &coverage.summary;
    out.line(out.label(
        &format!(
            "{} 个条目：等同 {}，部分对应 {}，相关 {}，未覆盖 {}；覆盖率 {}%；涉及 {} 个控制项。",
            s.items, s.equivalent, s.partial, s.related, s.uncovered, s.covered_percent, coverage.controls_mapped
        ),
        &format!(
            "{} items: {} equivalent, {} partial, {} related, {} uncovered; {}% covered by {} controls.",
            s.items, s.equivalent, s.partial, s.related, s.uncovered, s.covered_percent, coverage.controls_mapped
        ),
    ));
    for group in &coverage.groups {
        let g = &group.summary;
        out.line(format!(
            "  {} {}: {}/{} ({}%)",
            group.id,
            out.short(&group.title),
            g.items - g.uncovered,
            g.items,
            g.covered_percent
        ));
    }
}

fn render_system(view: &SystemCrosswalk, out: &mut Out) {
    out.heading(out.label(
        &format!(
            "{} · {} 第 {} 版（评估 #{}，{}）",
            view.framework_title.zh,
            view.system,
            view.version,
            view.assessment,
            view.tier.name().zh
        ),
        &format!(
            "{} · {} v{} (assessment #{}, {} tier)",
            view.framework_title.en,
            view.system,
            view.version,
            view.assessment,
            view.tier.name().en
        ),
    ));
    for item in &view.items {
        let by: Vec<String> = item
            .controls
            .iter()
            .filter(|c| c.status.is_some())
            .map(|c| {
                let status = c.status.map(|s| out.short(&s.name())).unwrap_or_default();
                let evidence = if c.evidence.is_empty() {
                    String::new()
                } else {
                    format!("; {} {}", out.label("证据", "evidence"), c.evidence.join(", "))
                };
                format!("{} {status}{evidence}", c.control)
            })
            .collect();
        let detail = match item.state {
            ItemState::NotCovered => String::new(),
            ItemState::NotRequired => {
                let ids: Vec<&str> = item.controls.iter().map(|c| c.control.as_str()).collect();
                format!(" ({})", ids.join(", "))
            }
            _ => format!("{} {}", out.label(" —", " by"), by.join(" | ")),
        };
        out.line(format!("{}: {}{detail}", item.id, out.short(&item.state.name())));
    }
    let s = &view.summary;
    out.blank();
    out.line(out.label(
        &format!(
            "已满足 {}，部分满足 {}，未满足 {}，不适用 {}，本等级不要求 {}，无对应控制 {}。",
            s.met, s.partly_met, s.open, s.not_applicable, s.not_required, s.not_covered
        ),
        &format!(
            "{} met, {} partly met, {} open, {} not applicable, {} not required at this tier, {} not covered.",
            s.met, s.partly_met, s.open, s.not_applicable, s.not_required, s.not_covered
        ),
    ));
}

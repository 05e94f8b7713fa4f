//! `lunli intake <system>`: answer the questionnaire (from a file, or asked in the terminal)
//! and show the tier with every rule that fired.

use std::io::IsTerminal;

use anyhow::{Context as _, Result};
use dialoguer::{Confirm, Input, MultiSelect, Select};
use lunli_governance::intake::{Answer, Answers};
use lunli_governance::tiering::Tiering;
use lunli_governance::{Governance, GovernanceError};
use lunli_norms::Catalogue;
use lunli_norms::QuestionKind;

use crate::cli::IntakeArgs;
use crate::context::{Context, now, read_input};
use crate::output::{Out, row};

pub fn run(ctx: &Context, args: &IntakeArgs, out: &mut Out) -> Result<()> {
    let answers = match &args.answers {
        Some(path) => {
            let text = read_input(path)?;
            Answers::from_yaml(&text, &ctx.catalogue)
                .map_err(GovernanceError::from)
                .with_context(|| format!("in {}", path.display()))?
        }
        None if std::io::stdin().is_terminal() => ask(&ctx.catalogue, out)?,
        None => anyhow::bail!(crate::InputError {
            file: "standard input".into(),
            line: None,
            reason: "not a terminal, so lunli cannot ask the questions; pass --answers FILE (YAML, `Q-ID: answer`)"
                .into(),
        }),
    };
    let store = ctx.store()?;
    let gov = Governance::new(&ctx.catalogue, &store);
    let (record, tiering) = gov.intake(&ctx.actor, &args.system, &answers, now())?;
    if !out.is_table() {
        return out.data(&serde_json::json!({ "intake": record.id, "system": record.system,
            "version": record.version, "tiering": tiering }));
    }
    render_tiering(&ctx.catalogue, &args.system, &tiering, out);
    Ok(())
}

/// Asks every question that applies, in order, in the chosen language.
fn ask(catalogue: &Catalogue, out: &Out) -> Result<Answers> {
    let mut answers = Answers::new();
    for question in catalogue.questions() {
        if !answers.asks(question) {
            continue;
        }
        let prompt = format!("{} {}", question.id, out.short(&question.text));
        eprintln!("\n{}", out.short(&question.help));
        let answer = match question.kind {
            QuestionKind::YesNo => Answer::YesNo(Confirm::new().with_prompt(prompt).interact()?),
            QuestionKind::Number => Answer::Number(Input::<u64>::new().with_prompt(prompt).interact_text()?),
            QuestionKind::SingleChoice => {
                let labels: Vec<String> = question.options.iter().map(|o| out.short(&o.label)).collect();
                let chosen = Select::new().with_prompt(prompt).items(&labels).default(0).interact()?;
                let option = question.options.get(chosen).context("the chosen option exists")?;
                Answer::Choice(option.id.clone())
            }
            QuestionKind::MultiChoice => {
                let labels: Vec<String> = question.options.iter().map(|o| out.short(&o.label)).collect();
                let chosen = MultiSelect::new().with_prompt(prompt).items(&labels).interact()?;
                Answer::Choices(chosen.iter().filter_map(|i| question.options.get(*i)).map(|o| o.id.clone()).collect())
            }
        };
        answers.insert(question.id.clone(), answer);
    }
    answers.validate(catalogue).map_err(GovernanceError::from)?;
    Ok(answers)
}

/// The tier, why, and what it asks for.
pub fn render_tiering(catalogue: &Catalogue, system: &str, tiering: &Tiering, out: &mut Out) {
    out.heading(out.label(
        &format!("{system} 的风险等级：{}", tiering.tier.name().zh),
        &format!("Risk tier of {system}: {}", tiering.tier.name().en),
    ));
    if tiering.fired.is_empty() {
        out.line(out.label("没有规则触发，默认为低风险。", "No rule fired; the default is low."));
    } else {
        let mut table = out.table(vec![
            out.label("规则", "Rule"),
            out.label("等级", "Tier"),
            out.label("原因", "Why"),
            out.label("条款", "Art."),
        ]);
        for rule in &tiering.fired {
            let articles: Vec<String> = rule.articles.iter().map(u8::to_string).collect();
            table.add_row(row![
                rule.id.clone(),
                out.short(&rule.tier.name()),
                out.cell(&rule.reason),
                articles.join(","),
            ]);
        }
        out.push_table(&table);
    }
    if tiering.is_blocked() {
        out.line(out.label(
            "该系统属于第二十条禁止的用途：已阻止，不能评估或批准。",
            "This system falls under a use Art. 20 forbids: it is blocked and cannot be assessed or approved.",
        ));
        return;
    }
    let roles: Vec<String> = tiering
        .signoff_roles
        .iter()
        .map(|r| catalogue.role(r).map_or_else(|| r.clone(), |role| out.short(&role.name)))
        .collect();
    out.line(out.label(
        &format!(
            "须满足 {} 项控制；签核角色：{}；批准后每 {} 个月复审。规则集 {}。",
            tiering.required_controls.len(),
            roles.join("、"),
            tiering.review_months.unwrap_or(0),
            tiering.ruleset_version
        ),
        &format!(
            "{} controls required; sign-off by: {}; re-review every {} months after approval. Rule set {}.",
            tiering.required_controls.len(),
            roles.join(", "),
            tiering.review_months.unwrap_or(0),
            tiering.ruleset_version
        ),
    ));
    out.line(out.label(&format!("下一步：lunli assess {system}"), &format!("Next: lunli assess {system}")));
}

//! The demo's governance work. The credit-scoring model is audited for fairness on its bundled
//! predictions; the audit fails the default thresholds, lands as evidence on the control it
//! concerns, and blocks approval — lunli catching bias before go-live (Art. 13). The low-tier
//! meeting-notes assistant is registered beside it, worked and approved by a second owner, so that
//! the gateway has a system it may serve.

use anyhow::{Context as _, Result};
use jiff::ToSpan;
use lunli_audit::RunOptions;
use lunli_audit::bootstrap::BootstrapSpec;
use lunli_audit::fairness::{self, FairnessRequest};
use lunli_audit::policy::Policy;
use lunli_governance::intake::Answers;
use lunli_governance::{ControlStatus, Governance, GovernanceError, Person, System, Training};
use lunli_store::SqliteStore;

use crate::context::{Context, now, today};
use crate::output::Out;

/// The bundled predictions (see examples/credit-scoring/data/SOURCE.md), compiled in so that the
/// demo runs from any directory; written into the demo's directory before the audit reads it.
const PREDICTIONS: &[u8] = include_bytes!("../../../../examples/credit-scoring/data/predictions.csv");
const NOTES_SYSTEM: &str = include_str!("../../../../examples/meeting-notes/system.yaml");
const NOTES_ANSWERS: &str = include_str!("../../../../examples/meeting-notes/intake.yaml");

/// The fairness audit on the bundled predictions, recorded as evidence; the concerned controls
/// take the audit's verdict as their status.
pub fn audit_credit_model(ctx: &Context, store: &SqliteStore, system: &str, out: &mut Out) -> Result<()> {
    let file = ctx.data_dir.join("predictions.csv");
    std::fs::write(&file, PREDICTIONS).with_context(|| format!("writing {}", file.display()))?;
    let request = FairnessRequest {
        inputs: vec![file.display().to_string()],
        label: "y_true".into(),
        prediction: "y_pred".into(),
        score: Some("score".into()),
        sensitive: vec!["sex".into(), "race".into()],
        positive: None,
        bootstrap: Some(BootstrapSpec { replicates: 200, seed: 7, level: 0.95 }),
    };
    let report = fairness::audit(&request, &Policy::default().fairness, &ctx.catalogue, &RunOptions::default())?;
    let html = ctx.data_dir.join("fairness.html");
    crate::audit::write_html(&html, &report)?;
    let recorded =
        crate::audit::record(ctx, system, "fairness", report.passed, &report, &report.controls, &request.inputs)?;

    out.line(out.label(
        &format!("{} 行预测（UCI Adult 测试集上的逻辑回归），按性别与种族分组：", report.rows),
        &format!("{} predictions (a logistic regression on the UCI Adult test set), by sex and race:", report.rows),
    ));
    let mut table = out.table(vec![
        out.label("属性", "Attribute"),
        out.label("差别影响比（≥ 0.8）", "Disparate impact (≥ 0.8)"),
        out.label("均等几率差（≤ 0.1）", "Equalized odds diff. (≤ 0.1)"),
    ]);
    let mark = |ok: bool| if ok { "✓" } else { "✗" };
    for attribute in &report.attributes {
        let d = &attribute.disparities;
        let di = d.disparate_impact_ratio.unwrap_or(0.0);
        table.add_row(vec![
            attribute.attribute.clone(),
            format!("{} {di:.3}", mark(di >= 0.8)),
            format!("{} {:.3}", mark(d.equalized_odds_difference <= 0.1), d.equalized_odds_difference),
        ]);
    }
    out.push_table(&table);
    let gov = Governance::new(&ctx.catalogue, store);
    let status = if report.passed { ControlStatus::Met } else { ControlStatus::NotMet };
    for r in &recorded {
        let comment = format!("lunli audit fairness: {} findings", report.findings.len());
        gov.set_control(&ctx.actor, system, &r.control, status, "", &comment, now())?;
        out.line(out.label(
            &format!(
                "审计{}，{} 项发现；结果作为证据 #{} 记录在 {}，该控制项设为“{}”。HTML 报告：{}",
                if report.passed { "通过" } else { "未通过" },
                report.findings.len(),
                r.evidence,
                r.control,
                if report.passed { "已满足" } else { "未满足" },
                html.display()
            ),
            &format!(
                "The audit {} with {} findings; recorded as evidence #{} on {}, now {}. HTML report: {}",
                if report.passed { "passed" } else { "failed" },
                report.findings.len(),
                r.evidence,
                r.control,
                if report.passed { "met" } else { "not met" },
                html.display()
            ),
        ));
    }
    out.line(crate::assess::approval_line(out, &gov.assessment(system)?.approval()));
    Ok(())
}

/// Registers the low-tier example, works its controls, submits as its owner and has a second
/// owner sign off (no one approves their own submission).
pub fn approve_meeting_notes(ctx: &Context, store: &SqliteStore, out: &mut Out) -> Result<String> {
    let gov = Governance::new(&ctx.catalogue, store);
    let completed = today().checked_sub(30.days()).context("date arithmetic")?;
    let expires = completed.checked_add(1.year()).context("date arithmetic")?;
    for (id, name) in [("zhou-qing", "周青"), ("wu-lei", "吴磊")] {
        let training =
            Training { course: "AI ethics norms 2021 · 人工智能伦理规范".into(), completed, expires };
        let person = Person {
            id: id.into(),
            name: name.into(),
            email: None,
            roles: vec!["owner".into()],
            training: vec![training],
        };
        gov.add_person(super::DEMO_ACTOR, person, now())?;
    }
    let system: System = crate::parse_yaml("examples/meeting-notes/system.yaml", NOTES_SYSTEM)?;
    let version = gov.register_system("zhou-qing", system, now())?;
    let id = version.system.id.clone();
    let answers = Answers::from_yaml(NOTES_ANSWERS, &ctx.catalogue).map_err(GovernanceError::from)?;
    let (_, tiering) = gov.intake("zhou-qing", &id, &answers, now())?;
    let assessment = gov.open_assessment("zhou-qing", &id, now())?;
    let comment = "Demo: marked met to show the workflow; in real use, attach the evidence the control names \
                   演示：为展示流程标记为已满足；实际使用中请附上该控制项要求的证据";
    for state in &assessment.controls {
        gov.set_control("zhou-qing", &id, &state.control, ControlStatus::Met, "", comment, now())?;
    }
    gov.submit("zhou-qing", &id, now())?;
    gov.sign_off("wu-lei", &id, "owner", "", now())?;
    out.line(out.label(
        &format!(
            "登记 {id}（{}级），{} 项控制项由负责人周青处理并提交，另一位负责人吴磊签字。",
            tiering.tier.name().zh,
            assessment.controls.len()
        ),
        &format!(
            "Registered {id} ({} tier); its {} controls worked and submitted by owner zhou-qing, signed off by a \
             second owner, wu-lei.",
            tiering.tier.name().en,
            assessment.controls.len()
        ),
    ));
    out.line(crate::assess::approval_line(out, &gov.assessment(&id)?.approval()));
    Ok(id)
}

const MODEL: &[u8] = include_bytes!("../../../../examples/credit-scoring/model/model.onnx");
const MODEL_SAMPLE: &[u8] = include_bytes!("../../../../examples/credit-scoring/model/test.csv");

/// The model itself (Art. 12, Art. 13): the credit example's ONNX model run in-process on 500
/// sample rows — performance by group, robustness, counterfactual flips and explanations —
/// recorded as evidence like the fairness audit. Few rows and repeats keep the demo quick.
pub fn audit_credit_model_itself(ctx: &Context, system: &str, out: &mut Out) -> Result<()> {
    let model = ctx.data_dir.join("model.onnx");
    let sample = ctx.data_dir.join("model-sample.csv");
    std::fs::write(&model, MODEL).with_context(|| format!("writing {}", model.display()))?;
    std::fs::write(&sample, MODEL_SAMPLE).with_context(|| format!("writing {}", sample.display()))?;
    let request = lunli_model::ModelRequest {
        model: model.display().to_string(),
        inputs: vec![sample.display().to_string()],
        label: "income".into(),
        sensitive: vec!["sex".into(), "race".into()],
        proxies: vec!["relationship".into()],
        explain_rows: vec![0],
        repeats: 3,
        samples: 16,
        max_rows: Some(500),
        ..lunli_model::ModelRequest::default()
    };
    let policy = Policy::default();
    let report = lunli_model::audit(&request, &policy.fairness, &policy.model, &ctx.catalogue, &RunOptions::default())?;
    let html = ctx.data_dir.join("model.html");
    crate::audit::write_html(&html, &report)?;
    let inputs = vec![request.model.clone(), request.inputs[0].clone()];
    let recorded = crate::audit::record(ctx, system, "model", report.passed, &report, &report.controls, &inputs)?;
    let worst = report.robustness.perturbations.iter().max_by(|a, b| a.accuracy_drop.total_cmp(&b.accuracy_drop));
    let (worst, drop) = worst.map_or(("—", 0.0), |p| (p.id.as_str(), p.accuracy_drop));
    let sex = report.counterfactual.iter().find(|c| c.attribute == "sex").map_or(0.0, |c| c.flip_rate * 100.0);
    let top = report.importance.features.first().map_or("—", |f| f.feature.as_str());
    let (rows, accuracy) = (report.rows, report.robustness.accuracy);
    out.line(out.label(
        &format!(
            "模型本身（ONNX，进程内运行，{rows} 行）：准确率 {accuracy:.3}；最大降幅扰动 {worst}（{drop:+.3}）；仅改变性别即改变 {sex:.1}% 的决定；最重要特征 {top}。"
        ),
        &format!(
            "The model itself (ONNX, run in-process, {rows} rows): accuracy {accuracy:.3}; worst perturbation {worst} ({drop:+.3}); changing sex alone changes {sex:.1}% of decisions; most important feature {top}."
        ),
    ));
    let on: Vec<String> = recorded.iter().map(|r| format!("#{} {}", r.evidence, r.control)).collect();
    out.line(out.label(
        &format!(
            "模型审计{}，证据 {}。HTML 报告：{}",
            if report.passed { "通过" } else { "未通过" },
            on.join("、"),
            html.display()
        ),
        &format!(
            "The model audit {}; evidence {}. HTML report: {}",
            if report.passed { "passed" } else { "failed" },
            on.join(", "),
            html.display()
        ),
    ));
    Ok(())
}

//! `lunli audit model`: an ONNX classifier run in-process on tabular data — performance by
//! group, robustness, counterfactual fairness and explanations (Art. 12, Art. 13) — printed,
//! written as an HTML page, and with `--system` recorded as evidence like the other audits.

use anyhow::Result;
use clap::Args;
use lunli_audit::fairness::metric_name;
use lunli_model::{ModelError, ModelReport, ModelRequest};

use crate::audit::{
    RunArgs, gate, group_row, input_error, load_policy, options, record, render_evidence, render_findings,
    render_inputs, with_evidence, with_progress, write_html,
};
use crate::context::Context;
use crate::output::Out;

#[derive(Debug, Args)]
pub struct ModelArgs {
    /// The model: an ONNX classifier with one input per data column (docs/models.md).
    #[arg(value_name = "MODEL.onnx")]
    pub model: String,
    /// The data: CSV (UTF-8 or GBK/GB18030, optionally .gz), Parquet or JSON Lines files, or
    /// glob patterns.
    #[arg(required = true, value_name = "DATA")]
    pub files: Vec<String>,
    /// The true label column.
    #[arg(long, value_name = "COL")]
    pub label: String,
    /// The positive (favourable) label value; inferred for 0/1, true/false and yes/no.
    #[arg(long, value_name = "VALUE")]
    pub positive: Option<String>,
    /// Sensitive columns, comma-separated: performance by group and counterfactual flips.
    #[arg(long, value_name = "COL,...", value_delimiter = ',', required = true)]
    pub sensitive: Vec<String>,
    /// Model inputs that may stand in for a sensitive attribute, flipped like one.
    #[arg(long, value_name = "COL,...", value_delimiter = ',')]
    pub proxies: Vec<String>,
    /// Rows to explain one by one (0-based, in file order), comma-separated.
    #[arg(long, value_name = "ROW,...", value_delimiter = ',')]
    pub explain_rows: Vec<u64>,
    /// Seed of every random choice (perturbations, shuffles, attribution samples).
    #[arg(long, value_name = "S", default_value_t = 0)]
    pub seed: u64,
    /// Shuffles per feature for permutation importance.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub repeats: u32,
    /// Sampled feature orders per feature and explained row.
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub samples: u32,
    /// Noise scales, in standard deviations of each numeric feature, comma-separated.
    #[arg(long, value_name = "S,...", value_delimiter = ',', default_value = "0.1,0.25,0.5")]
    pub noise: Vec<f64>,
    /// Audit only the first N rows (a quick run).
    #[arg(long, value_name = "N")]
    pub max_rows: Option<u64>,
    #[command(flatten)]
    pub run: RunArgs,
}

/// A model audit error for the binary: bad input maps to exit 3.
fn model_error(e: ModelError) -> anyhow::Error {
    if !e.is_invalid_input() {
        return anyhow::Error::new(e);
    }
    match e {
        ModelError::Audit(e) => input_error(e),
        ModelError::Model { file, reason } => anyhow::Error::new(crate::InputError { file, line: None, reason }),
        ModelError::Unsupported { ref file, .. } | ModelError::Column { ref file, .. } => {
            let file = file.clone();
            let reason = e.to_string().strip_prefix(&format!("{file}: ")).map(str::to_string).unwrap_or(e.to_string());
            anyhow::Error::new(crate::InputError { file, line: None, reason })
        }
        other => anyhow::Error::new(crate::InputError::command_line(other.to_string())),
    }
}

pub fn model_command(ctx: &Context, args: &ModelArgs, out: &mut Out) -> Result<()> {
    let policy = load_policy(ctx, &args.run)?;
    let request = ModelRequest {
        model: args.model.clone(),
        inputs: args.files.clone(),
        label: args.label.clone(),
        positive: args.positive.clone(),
        sensitive: args.sensitive.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
        proxies: args.proxies.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
        explain_rows: args.explain_rows.clone(),
        seed: args.seed,
        repeats: args.repeats,
        samples: args.samples,
        noise_scales: args.noise.clone(),
        max_rows: args.max_rows,
        ..ModelRequest::default()
    };
    let options = options(&args.run);
    let report = with_progress(&options.progress, || {
        lunli_model::audit(&request, &policy.fairness, &policy.model, &ctx.catalogue, &options)
    })
    .map_err(model_error)?;
    if let Some(path) = &args.run.html {
        write_html(path, &report)?;
    }
    let mut inputs = args.files.clone();
    inputs.insert(0, args.model.clone());
    let evidence = match &args.run.system {
        Some(system) => record(ctx, system, "model", report.passed, &report, &report.controls, &inputs)?,
        None => Vec::new(),
    };
    if out.is_table() {
        render(&report, out);
        render_evidence(&evidence, args.run.system.as_deref(), args.run.html.as_ref(), out);
    } else {
        out.data(&with_evidence(&report, &evidence)?)?;
    }
    gate(args.run.strict, report.passed, "model")
}

fn render(report: &ModelReport, out: &mut Out) {
    out.heading(out.label("模型审计（第十二条、第十三条）", "Model audit (Art. 12, Art. 13)"));
    render_inputs(&report.inputs, report.rows, out);
    out.line(format!(
        "  {} {} ({} {}) · {} {} · {} `{}`",
        out.label("模型", "model"),
        report.model.path,
        report.model.inputs.len(),
        out.label("个输入", "inputs"),
        out.label("标签", "label"),
        report.parameters.label,
        out.label("正类取值", "positive value"),
        report.parameters.positive,
    ));

    out.heading(out.label("分组表现", "Performance by group"));
    let metrics = ["selection_rate", "true_positive_rate", "false_positive_rate", "precision", "accuracy"];
    for attribute in &report.attributes {
        let mut header = vec![attribute.attribute.clone(), out.label("样本数", "n")];
        header.extend(metrics.iter().map(|m| out.short(&metric_name(m))));
        header.push("AUC".into());
        header.push(out.label("影响比", "impact ratio"));
        let mut table = out.table(header);
        for g in &attribute.groups {
            table.add_row(group_row(g, &metrics, true, out));
        }
        out.push_table(&table);
    }

    out.heading(out.label("鲁棒性", "Robustness"));
    out.line(out.label(
        &format!("  未扰动准确率 {:.4}", report.robustness.accuracy),
        &format!("  accuracy on the data as it is {:.4}", report.robustness.accuracy),
    ));
    let mut table = out.table(vec![
        out.label("扰动", "Perturbation"),
        out.label("准确率", "Accuracy"),
        out.label("降幅", "Drop"),
        out.label("决定改变", "Flipped"),
    ]);
    for p in &report.robustness.perturbations {
        table.add_row(vec![
            p.id.clone(),
            format!("{:.4}", p.accuracy),
            format!("{:+.4}", p.accuracy_drop),
            format!("{:.2}%", p.flip_rate * 100.0),
        ]);
    }
    out.push_table(&table);

    out.heading(out.label("反事实公平性", "Counterfactual fairness"));
    for c in &report.counterfactual {
        let kind = if c.proxy { out.label("代理变量", "proxy") } else { out.label("敏感属性", "sensitive") };
        out.line(format!(
            "  {} ({kind}): {:.2}% {} ({}/{})",
            c.attribute,
            c.flip_rate * 100.0,
            out.label("的决定随之改变", "of decisions change"),
            c.changed,
            c.rows
        ));
        for g in &c.groups {
            out.line(format!("    {:<24} {:>7.2}% ({}/{})", g.group, g.flip_rate * 100.0, g.changed, g.rows));
        }
    }

    out.heading(out.label("置换重要性（准确率下降）", "Permutation importance (accuracy drop)"));
    for f in report.importance.features.iter().take(10) {
        out.line(format!("  {:<24} {:+.4} [{:+.4}, {:+.4}]", f.feature, f.mean, f.interval[0], f.interval[1]));
    }
    if let Some(a) = &report.attributions {
        out.heading(out.label("逐行归因（抽样 Shapley 值）", "Per-row attributions (sampling Shapley values)"));
        for row in &a.rows {
            out.line(format!(
                "  {} {}: {} {:.4} ({} {:.4})",
                out.label("行", "row"),
                row.row,
                out.label("概率", "probability"),
                row.score,
                out.label("基准", "base"),
                a.base_value
            ));
            for f in row.features.iter().take(5) {
                out.line(format!("    {:<20} {:<20} {:+.4}", f.feature, f.value, f.attribution));
            }
        }
    }
    render_findings(&report.findings, &report.warnings, report.passed, &report.controls, out);
}

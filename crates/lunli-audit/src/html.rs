//! Self-contained HTML pages for audit reports: one file, inline CSS and SVG charts, no script
//! and nothing fetched from the network, so the page can be attached to an assessment and opened
//! anywhere. Labels are in Chinese and English.

use std::fmt::Write as _;

use lunli_norms::{Text, terms};

use crate::fairness::{AttributeReport, FairnessReport};
use crate::metrics::Disparities;
use crate::policy::{Dimension, Finding};
use crate::quality::QualityReport;
use crate::source::InputSummary;

/// Escapes text for HTML content and attributes.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn both(text: &Text) -> String {
    if text.zh == text.en {
        esc(&text.zh)
    } else {
        format!("{} <span class=en>{}</span>", esc(&text.zh), esc(&text.en))
    }
}

fn label(zh: &str, en: &str) -> String {
    both(&Text { zh: zh.into(), en: en.into() })
}

const STYLE: &str = "
body{font-family:system-ui,-apple-system,'PingFang SC','Microsoft YaHei',sans-serif;margin:2rem auto;max-width:1100px;color:#1d2330;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d5d9e0;padding-bottom:.3rem}
.en{color:#5a6272;font-weight:normal}
table{border-collapse:collapse;margin:.8rem 0;font-size:.88rem}th,td{border:1px solid #d5d9e0;padding:.25rem .5rem;text-align:right}
th{background:#f2f4f7}td.l,th.l{text-align:left}
.pass{color:#16723a;font-weight:600}.fail{color:#b3261e;font-weight:600}
.sev-high{color:#b3261e}.sev-medium{color:#a15c00}.sev-low{color:#5a6272}
.small{color:#a15c00}.note{color:#5a6272;font-size:.85rem}
svg text{font-size:11px;fill:#1d2330}
";

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}\n<p class=note>lunli {} · {}</p>\n</body>\n</html>\n",
        esc(title),
        env!("CARGO_PKG_VERSION"),
        label("本页独立完整，不加载任何外部资源", "self-contained page: nothing is loaded from the network"),
    )
}

fn inputs_table(inputs: &[InputSummary], rows: u64, out: &mut String) {
    out.push_str("<table><tr>");
    let _ = write!(
        out,
        "<th class=l>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        label("文件", "file"),
        label("格式", "format"),
        label("编码", "encoding"),
        label("字节", "bytes")
    );
    for i in inputs {
        let format = match i.compression {
            Some(c) => format!("{} ({c})", i.format),
            None => i.format.to_string(),
        };
        let _ = write!(
            out,
            "<tr><td class=l>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&i.path),
            esc(&format),
            i.encoding.map(|e| e.as_str()).unwrap_or("—"),
            i.bytes
        );
    }
    let _ = write!(out, "</table><p>{}: <b>{rows}</b></p>", label("行数", "rows"));
}

fn findings_section(findings: &[Finding], warnings: &[Text], passed: bool, controls: &[String], out: &mut String) {
    let _ = write!(out, "<h2>{}</h2>", label("结论与发现", "Result and findings"));
    if passed {
        let _ = write!(out, "<p class=pass>{}</p>", label("通过", "PASSED"));
    } else {
        let _ = write!(
            out,
            "<p class=fail>{}</p>",
            label("未通过（有中等及以上严重性的发现）", "FAILED (findings of medium severity or worse)")
        );
    }
    let _ = write!(out, "<p>{}: {}</p>", label("相关控制项", "controls concerned"), esc(&controls.join(", ")));
    if findings.is_empty() {
        let _ = write!(out, "<p>{}</p>", label("无发现", "no findings"));
    } else {
        out.push_str("<ul>");
        for f in findings {
            let _ = write!(
                out,
                "<li><b class=sev-{}>{}</b> {}<br><span class=en>{}</span></li>",
                f.severity.as_str(),
                both(&f.severity.name()),
                esc(&f.message.zh),
                esc(&f.message.en)
            );
        }
        out.push_str("</ul>");
    }
    for w in warnings {
        let _ = write!(out, "<p class=note>⚠ {}<br>{}</p>", esc(&w.zh), esc(&w.en));
    }
}

/// Horizontal bars with interval whiskers: one row per group, values in [0, 1].
fn bar_chart(title: &Text, rows: &[(String, f64, Option<[f64; 2]>, bool)], threshold: Option<f64>) -> String {
    let (left, width, row_height) = (190.0, 420.0, 20.0);
    let height = 30.0 + row_height * rows.len() as f64;
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<figure><figcaption>{}</figcaption><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{height}\" role=\"img\">",
        both(title),
        left + width + 70.0
    );
    for tick in [0.0, 0.25, 0.5, 0.75, 1.0] {
        let x = left + tick * width;
        let _ = write!(
            svg,
            "<line x1=\"{x}\" y1=\"0\" x2=\"{x}\" y2=\"{}\" stroke=\"#e3e6eb\"/><text x=\"{x}\" y=\"{}\" text-anchor=\"middle\">{tick}</text>",
            height - 18.0,
            height - 5.0
        );
    }
    if let Some(t) = threshold {
        let x = left + t.clamp(0.0, 1.0) * width;
        let _ = write!(
            svg,
            "<line x1=\"{x}\" y1=\"0\" x2=\"{x}\" y2=\"{}\" stroke=\"#b3261e\" stroke-dasharray=\"4 3\"/>",
            height - 18.0
        );
    }
    for (i, (name, value, interval, small)) in rows.iter().enumerate() {
        let y = 4.0 + i as f64 * row_height;
        let shown: String = name.chars().take(28).collect();
        let colour = if *small { "#e0a040" } else { "#3b6fb6" };
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text><rect x=\"{left}\" y=\"{y}\" width=\"{}\" height=\"{}\" fill=\"{colour}\"><title>{}: {value:.4}</title></rect>",
            left - 6.0,
            y + 12.0,
            esc(&shown),
            (value.clamp(0.0, 1.0) * width).max(0.5),
            row_height - 6.0,
            esc(name)
        );
        if let Some([a, b]) = interval {
            let (xa, xb, ym) = (left + a.clamp(0.0, 1.0) * width, left + b.clamp(0.0, 1.0) * width, y + 7.0);
            let _ = write!(
                svg,
                "<line x1=\"{xa}\" y1=\"{ym}\" x2=\"{xb}\" y2=\"{ym}\" stroke=\"#1d2330\" stroke-width=\"1.5\"/><line x1=\"{xa}\" y1=\"{}\" x2=\"{xa}\" y2=\"{}\" stroke=\"#1d2330\"/><line x1=\"{xb}\" y1=\"{}\" x2=\"{xb}\" y2=\"{}\" stroke=\"#1d2330\"/>",
                ym - 4.0,
                ym + 4.0,
                ym - 4.0,
                ym + 4.0
            );
        }
        let _ = write!(svg, "<text x=\"{}\" y=\"{}\">{value:.3}</text>", left + width + 6.0, y + 12.0);
    }
    svg.push_str("</svg></figure>");
    svg
}

fn attribute_section(report: &FairnessReport, attribute: &AttributeReport, out: &mut String) {
    let _ = write!(out, "<h2>{} {}</h2>", label("敏感属性", "attribute"), esc(&attribute.attribute));
    let mut charts = vec!["selection_rate", "true_positive_rate", "false_positive_rate", "precision"];
    if report.parameters.score.is_some() {
        charts.push("auc");
    }
    for metric in charts {
        let rows: Vec<(String, f64, Option<[f64; 2]>, bool)> = attribute
            .groups
            .iter()
            .filter_map(|g| {
                let value = if metric == "auc" { g.auc? } else { g.metrics.get(metric)? };
                Some((g.group.clone(), value, g.intervals.get(metric).copied(), g.small))
            })
            .collect();
        out.push_str(&bar_chart(&terms::group_metric(metric), &rows, None));
    }
    let impact: Vec<(String, f64, Option<[f64; 2]>, bool)> =
        attribute.groups.iter().filter_map(|g| Some((g.group.clone(), g.impact_ratio?, None, g.small))).collect();
    let four_fifths = report.parameters.policy.disparate_impact_ratio.min;
    out.push_str(&bar_chart(
        &Text {
            zh: "影响比（虚线：五分之四规则）".into(), en: "impact ratio (dashed: four-fifths rule)".into()
        },
        &impact,
        four_fifths,
    ));

    out.push_str("<table><tr><th class=l>");
    out.push_str(&label("组", "group"));
    out.push_str("</th>");
    let mut columns = vec!["count"];
    columns.extend(crate::metrics::GroupMetrics::RATES);
    for c in &columns {
        let _ = write!(out, "<th>{}</th>", both(&terms::group_metric(c)));
    }
    if report.parameters.score.is_some() {
        let _ = write!(out, "<th>AUC</th><th>{}</th>", both(&terms::group_metric("calibration_error")));
    }
    out.push_str("</tr>");
    for g in &attribute.groups {
        let small =
            if g.small { format!(" <span class=small>({})</span>", label("小组", "small")) } else { String::new() };
        let _ = write!(out, "<tr><td class=l>{}{small}</td>", esc(&g.group));
        for c in &columns {
            let value = g.metrics.get(c).unwrap_or(0.0);
            if *c == "count" {
                let _ = write!(out, "<td>{}</td>", g.metrics.count);
            } else {
                let _ = write!(out, "<td>{value:.4}</td>");
            }
        }
        if report.parameters.score.is_some() {
            let f = |v: Option<f64>| v.map(|v| format!("{v:.4}")).unwrap_or_else(|| "—".into());
            let _ = write!(out, "<td>{}</td><td>{}</td>", f(g.auc), f(g.calibration_error));
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>");

    out.push_str("<table><tr><th class=l>");
    out.push_str(&label("组间差异", "disparity"));
    let _ = write!(
        out,
        "</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        label("值", "value"),
        label("区间", "interval"),
        label("阈值", "limit")
    );
    let limits = report.parameters.policy.disparity_limits();
    for name in Disparities::NAMES {
        let value = attribute.disparities.get(name);
        let limit = limits.iter().find(|(n, _)| *n == name).map(|(_, l)| *l);
        let class = match (value, limit) {
            (Some(v), Some(l)) if l.breached_by(v) => "fail",
            (Some(_), Some(_)) => "pass",
            _ => "",
        };
        let interval =
            attribute.intervals.get(name).map(|[a, b]| format!("[{a:.4}, {b:.4}]")).unwrap_or_else(|| "—".into());
        let _ = write!(
            out,
            "<tr><td class=l>{}</td><td class={class}>{}</td><td>{interval}</td><td>{}</td></tr>",
            both(&terms::disparity(name)),
            value.map(|v| format!("{v:.4}")).unwrap_or_else(|| "—".into()),
            esc(&limit.map(|l| l.describe()).unwrap_or_default())
        );
    }
    out.push_str("</table>");
}

/// The fairness report as a page.
pub fn fairness(report: &FairnessReport) -> String {
    let mut body = String::new();
    let _ = write!(body, "<h1>{}</h1>", both(&terms::audit("fairness")));
    inputs_table(&report.inputs, report.rows, &mut body);
    let p = &report.parameters;
    let _ = write!(
        body,
        "<p>{}: <code>{}</code> · {}: <code>{}</code> · {}: <code>{}</code>{}</p>",
        label("标签", "label"),
        esc(&p.label),
        label("预测", "prediction"),
        esc(&p.prediction),
        label("正类", "positive"),
        esc(&p.positive),
        p.score.as_ref().map(|s| format!(" · {}: <code>{}</code>", label("分数", "score"), esc(s))).unwrap_or_default()
    );
    if let Some(b) = &p.bootstrap {
        let _ = write!(
            body,
            "<p class=note>{}</p>",
            label(
                &format!("区间：分层多项式自助法，{} 次重抽样，种子 {}，置信水平 {}", b.replicates, b.seed, b.level),
                &format!(
                    "intervals: stratified multinomial bootstrap, {} replicates, seed {}, level {}",
                    b.replicates, b.seed, b.level
                )
            )
        );
    }
    findings_section(&report.findings, &report.warnings, report.passed, &report.controls, &mut body);
    for attribute in &report.attributes {
        attribute_section(report, attribute, &mut body);
    }
    page("lunli fairness audit", &body)
}

/// The quality report as a page.
pub fn quality(report: &QualityReport) -> String {
    let mut body = String::new();
    let _ = write!(body, "<h1>{}</h1>", both(&terms::audit("quality")));
    inputs_table(&report.inputs, report.rows, &mut body);
    findings_section(&report.findings, &report.warnings, report.passed, &report.controls, &mut body);

    let _ = write!(
        body,
        "<h2>{}</h2><table><tr><th class=l>{}</th><th>{}</th><th>{}</th></tr>",
        label("按维度", "By dimension"),
        label("维度", "dimension"),
        label("检查", "checks"),
        label("发现", "findings")
    );
    for d in &report.dimensions {
        let _ = write!(
            body,
            "<tr><td class=l>{}</td><td>{}</td><td>{}</td></tr>",
            both(&d.dimension.name()),
            d.checks,
            d.findings
        );
    }
    body.push_str("</table>");

    let _ = write!(body, "<h2>{}</h2>", label("各列", "Columns"));
    let nulls: Vec<(String, f64, Option<[f64; 2]>, bool)> =
        report.columns.iter().map(|c| (c.name.clone(), c.null_rate, None, false)).collect();
    body.push_str(&bar_chart(
        &Text {
            zh: "缺失率（完整性；虚线：阈值）".into(), en: "missing rate (completeness; dashed: limit)".into()
        },
        &nulls,
        report.policy.null_rate.max,
    ));
    let conformance: Vec<(String, f64, Option<[f64; 2]>, bool)> =
        report.columns.iter().filter_map(|c| Some((c.name.clone(), c.conformance?, None, false))).collect();
    if !conformance.is_empty() {
        body.push_str(&bar_chart(
            &Text {
                zh: "类型符合率（规范性；虚线：阈值）".into(),
                en: "type conformance (normativeness; dashed: limit)".into(),
            },
            &conformance,
            report.policy.conformance.min,
        ));
    }
    let _ = write!(
        body,
        "<table><tr><th class=l>{}</th><th class=l>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th class=l>{}</th><th class=l>{}</th><th>{}</th><th>{}</th><th class=l>{}</th></tr>",
        label("列", "column"),
        label("类型", "type"),
        label("缺失率", "missing"),
        label("空白率", "blank"),
        label("首尾空白", "padded"),
        label("不同值", "distinct"),
        label("最小", "min"),
        label("最大", "max"),
        label("均值", "mean"),
        label("符合率", "conformance"),
        label("常见值", "top values")
    );
    for c in &report.columns {
        let top: Vec<String> =
            c.top_values.iter().take(5).map(|t| format!("{} ({})", esc(&t.value), t.count)).collect();
        let distinct = if c.distinct_exact { c.distinct.to_string() } else { format!("≈{}", c.distinct) };
        let _ = write!(
            body,
            "<tr><td class=l>{}</td><td class=l>{}</td><td>{:.2}%</td><td>{:.2}%</td><td>{}</td><td>{distinct}</td><td class=l>{}</td><td class=l>{}</td><td>{}</td><td>{}</td><td class=l>{}</td></tr>",
            esc(&c.name),
            c.kind.as_str(),
            c.null_rate * 100.0,
            c.empty_rate * 100.0,
            c.padded,
            esc(c.min.as_deref().unwrap_or("")),
            esc(c.max.as_deref().unwrap_or("")),
            c.mean.map(|m| format!("{m:.4}")).unwrap_or_default(),
            c.conformance.map(|v| format!("{:.2}%", v * 100.0)).unwrap_or_else(|| "—".into()),
            top.join(", ")
        );
    }
    body.push_str("</table>");

    let _ = write!(
        body,
        "<h2>{}</h2><p>{}: {} ({:.2}%) · {}</p>",
        label("规则与一致性", "Rules and consistency"),
        label("重复行", "duplicate rows"),
        report.duplicates.rows,
        report.duplicates.rate * 100.0,
        both(&Dimension::Consistency.name())
    );
    if !report.rules.is_empty() || !report.keys.is_empty() {
        let _ = write!(
            body,
            "<table><tr><th class=l>{}</th><th class=l>{}</th><th>{}</th><th class=l>{}</th></tr>",
            label("规则", "rule"),
            label("维度", "dimension"),
            label("违反行数", "rows breaking it"),
            label("示例", "example")
        );
        for r in &report.rules {
            let class = if r.violations == 0 { "pass" } else { "fail" };
            let _ = write!(
                body,
                "<tr><td class=l>{}</td><td class=l>{}</td><td class={class}>{}</td><td class=l>{}</td></tr>",
                esc(&r.rule),
                both(&r.dimension.name()),
                r.violations,
                esc(r.example.as_deref().unwrap_or(""))
            );
        }
        for k in &report.keys {
            let class = if k.duplicates == 0 { "pass" } else { "fail" };
            let _ = write!(
                body,
                "<tr><td class=l>{} ({})</td><td class=l>{}</td><td class={class}>{}</td><td class=l>{}</td></tr>",
                label("唯一键", "unique key"),
                esc(&k.columns.join(", ")),
                both(&k.dimension.name()),
                k.duplicates,
                esc(k.example.as_deref().unwrap_or(""))
            );
        }
        body.push_str("</table>");
    }
    if let Some(f) = &report.freshness {
        let _ = write!(
            body,
            "<p>{} ({}): {} <code>{}</code> · {} {} · {} {:.1}</p>",
            label("时效", "freshness"),
            both(&f.dimension.name()),
            esc(&f.column),
            esc(f.latest.as_deref().unwrap_or("—")),
            label("天数", "age in days"),
            f.age_days.map(|a| format!("{a:.1}")).unwrap_or_else(|| "—".into()),
            label("上限", "limit"),
            f.max_age_days
        );
    }
    for r in &report.representation {
        let rows: Vec<(String, f64, Option<[f64; 2]>, bool)> = r
            .groups
            .iter()
            .map(|g| (format!("{} (ref {:.3})", g.group, g.reference.unwrap_or(f64::NAN)), g.share, None, false))
            .collect();
        body.push_str(&bar_chart(
            &Text {
                zh: format!("{} 的代表性（准确性）", r.column),
                en: format!("representation of {} (accuracy)", r.column),
            },
            &rows,
            None,
        ));
    }
    page("lunli data-quality audit", &body)
}

/// The personal-information scan as a page: findings, then entities per column and per text
/// file with masked samples only.
pub fn pii(report: &crate::pii::PiiReport) -> String {
    let mut body = String::new();
    let _ = write!(body, "<h1>{}</h1>", both(&terms::audit("pii")));
    inputs_table(&report.inputs, report.rows, &mut body);
    findings_section(&report.findings, &[], report.passed, &report.controls, &mut body);
    let entity_table = |title: String, entities: &[crate::pii::EntityReport], out: &mut String| {
        if entities.is_empty() {
            return;
        }
        let _ = write!(
            out,
            "<h2>{title}</h2><table><tr><th class=l>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th class=l>{}</th></tr>",
            label("类型", "entity"),
            label("数量", "count"),
            label("高", "high"),
            label("较可能", "likely"),
            label("可能", "possible"),
            label("校验失败", "checksum failed"),
            label("样例（已遮盖）", "samples (masked)")
        );
        for e in entities {
            let samples: Vec<String> = e.tally.samples.iter().map(|s| esc(&s.masked)).collect();
            let _ = write!(
                out,
                "<tr><td class=l>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=l>{}</td></tr>",
                both(&e.name),
                e.tally.count,
                e.tally.high,
                e.tally.likely,
                e.tally.possible,
                e.tally.checksum_failed,
                samples.join("<br>")
            );
        }
        out.push_str("</table>");
    };
    entity_table(label("全部", "All inputs"), &report.summary, &mut body);
    for c in &report.columns {
        entity_table(format!("{} {}", label("列", "Column"), esc(&c.column)), &c.entities, &mut body);
    }
    for t in &report.texts {
        entity_table(format!("{} {}", label("文件", "File"), esc(&t.path)), &t.entities, &mut body);
    }
    page("lunli · 个人信息 / personal information", &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(esc("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }

    #[test]
    fn charts_draw_a_bar_and_whisker_per_group() {
        let svg = bar_chart(
            &Text { zh: "选择率".into(), en: "selection rate".into() },
            &[("A".into(), 0.5, Some([0.4, 0.6]), false), ("B".into(), 0.2, None, true)],
            Some(0.8),
        );
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(svg.contains("stroke-dasharray"));
        assert!(!svg.contains("http://") || svg.contains("http://www.w3.org/2000/svg"));
    }
}

//! Self-contained HTML pages for audit reports: one file, inline CSS and SVG charts, no script
//! and nothing fetched from the network, so the page can be attached to an assessment and opened
//! anywhere. Labels are in Chinese and English. Written with maud, like the reports and the
//! dashboard: every value is escaped by the template, none by hand.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use lunli_norms::{Text, terms};

use crate::fairness::{AttributeReport, FairnessReport};
use crate::metrics::Disparities;
use crate::policy::{Dimension, Finding};
use crate::quality::QualityReport;
use crate::source::InputSummary;

/// Chinese, then English in grey when it differs.
fn both(text: &Text) -> Markup {
    html! {
        @if text.zh == text.en {
            (text.zh)
        } @else {
            (text.zh) " " span class="en" { (text.en) }
        }
    }
}

fn label(zh: &str, en: &str) -> Markup {
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

fn page(title: &str, body: Markup) -> String {
    html! {
        (DOCTYPE) "\n"
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                (body)
                p class="note" {
                    "lunli " (env!("CARGO_PKG_VERSION")) " · "
                    (label("本页独立完整，不加载任何外部资源", "self-contained page: nothing is loaded from the network"))
                }
            }
        }
    }
    .into_string()
}

fn inputs_table(inputs: &[InputSummary], rows: u64) -> Markup {
    html! {
        table {
            tr {
                th class="l" { (label("文件", "file")) }
                th { (label("格式", "format")) }
                th { (label("编码", "encoding")) }
                th { (label("字节", "bytes")) }
            }
            @for i in inputs {
                tr {
                    td class="l" { (i.path) }
                    td {
                        (i.format.to_string())
                        @if let Some(c) = i.compression { " (" (c.to_string()) ")" }
                    }
                    td { (i.encoding.map(|e| e.as_str()).unwrap_or("—")) }
                    td { (i.bytes) }
                }
            }
        }
        p { (label("行数", "rows")) ": " b { (rows) } }
    }
}

fn findings_section(findings: &[Finding], warnings: &[Text], passed: bool, controls: &[String]) -> Markup {
    html! {
        h2 { (label("结论与发现", "Result and findings")) }
        @if passed {
            p class="pass" { (label("通过", "PASSED")) }
        } @else {
            p class="fail" { (label("未通过（有中等及以上严重性的发现）", "FAILED (findings of medium severity or worse)")) }
        }
        p { (label("相关控制项", "controls concerned")) ": " (controls.join(", ")) }
        @if findings.is_empty() {
            p { (label("无发现", "no findings")) }
        } @else {
            ul {
                @for f in findings {
                    li {
                        b class={ "sev-" (f.severity.as_str()) } { (both(&f.severity.name())) }
                        " " (f.message.zh) br; span class="en" { (f.message.en) }
                    }
                }
            }
        }
        @for w in warnings {
            p class="note" { "⚠ " (w.zh) br; (w.en) }
        }
    }
}

/// One bar of a chart: the group's name, its value in [0, 1], its interval, and whether the group
/// is too small for a reliable estimate.
type Bar = (String, f64, Option<[f64; 2]>, bool);

/// Horizontal bars with interval whiskers: one row per group, values in [0, 1].
fn bar_chart(title: &Text, rows: &[Bar], threshold: Option<f64>) -> Markup {
    let (left, width, row_height) = (190.0, 420.0, 20.0);
    let height = 30.0 + row_height * rows.len() as f64;
    let axis = height - 18.0;
    html! {
        figure {
            figcaption { (both(title)) }
            svg xmlns="http://www.w3.org/2000/svg" width=(left + width + 70.0) height=(height) role="img" {
                @for tick in [0.0, 0.25, 0.5, 0.75, 1.0] {
                    @let x = left + tick * width;
                    line x1=(x) y1="0" x2=(x) y2=(axis) stroke="#e3e6eb" {}
                    text x=(x) y=(height - 5.0) text-anchor="middle" { (tick) }
                }
                @if let Some(t) = threshold {
                    @let x = left + t.clamp(0.0, 1.0) * width;
                    line x1=(x) y1="0" x2=(x) y2=(axis) stroke="#b3261e" stroke-dasharray="4 3" {}
                }
                @for (i, (name, value, interval, small)) in rows.iter().enumerate() {
                    @let y = 4.0 + i as f64 * row_height;
                    @let shown: String = name.chars().take(28).collect();
                    text x=(left - 6.0) y=(y + 12.0) text-anchor="end" { (shown) }
                    rect x=(left) y=(y) width=((value.clamp(0.0, 1.0) * width).max(0.5)) height=(row_height - 6.0)
                        fill=(if *small { "#e0a040" } else { "#3b6fb6" }) {
                        title { (name) ": " (format!("{value:.4}")) }
                    }
                    @if let Some([a, b]) = interval {
                        @let (xa, xb, ym) = (left + a.clamp(0.0, 1.0) * width, left + b.clamp(0.0, 1.0) * width, y + 7.0);
                        line x1=(xa) y1=(ym) x2=(xb) y2=(ym) stroke="#1d2330" stroke-width="1.5" {}
                        line x1=(xa) y1=(ym - 4.0) x2=(xa) y2=(ym + 4.0) stroke="#1d2330" {}
                        line x1=(xb) y1=(ym - 4.0) x2=(xb) y2=(ym + 4.0) stroke="#1d2330" {}
                    }
                    text x=(left + width + 6.0) y=(y + 12.0) { (format!("{value:.3}")) }
                }
            }
        }
    }
}

fn dash(value: Option<f64>) -> String {
    value.map(|v| format!("{v:.4}")).unwrap_or_else(|| "—".into())
}

fn attribute_section(report: &FairnessReport, attribute: &AttributeReport) -> Markup {
    let scored = report.parameters.score.is_some();
    let mut charts = vec!["selection_rate", "true_positive_rate", "false_positive_rate", "precision"];
    if scored {
        charts.push("auc");
    }
    let bars = |metric: &str| -> Vec<Bar> {
        attribute
            .groups
            .iter()
            .filter_map(|g| {
                let value = if metric == "auc" { g.auc? } else { g.metrics.get(metric)? };
                Some((g.group.clone(), value, g.intervals.get(metric).copied(), g.small))
            })
            .collect()
    };
    let impact: Vec<Bar> =
        attribute.groups.iter().filter_map(|g| Some((g.group.clone(), g.impact_ratio?, None, g.small))).collect();
    let four_fifths = report.parameters.policy.disparate_impact_ratio.min;
    let mut columns = vec!["count"];
    columns.extend(crate::metrics::GroupMetrics::RATES);
    let limits = report.parameters.policy.disparity_limits();
    html! {
        h2 { (label("敏感属性", "attribute")) " " (attribute.attribute) }
        @for metric in &charts {
            (bar_chart(&terms::group_metric(metric), &bars(metric), None))
        }
        (bar_chart(
            &Text { zh: "影响比（虚线：五分之四规则）".into(), en: "impact ratio (dashed: four-fifths rule)".into() },
            &impact,
            four_fifths,
        ))
        table {
            tr {
                th class="l" { (label("组", "group")) }
                @for c in &columns { th { (both(&terms::group_metric(c))) } }
                @if scored {
                    th { "AUC" }
                    th { (both(&terms::group_metric("calibration_error"))) }
                }
            }
            @for g in &attribute.groups {
                tr {
                    td class="l" {
                        (g.group)
                        @if g.small { " " span class="small" { "(" (label("小组", "small")) ")" } }
                    }
                    @for c in &columns {
                        @if *c == "count" {
                            td { (g.metrics.count) }
                        } @else {
                            td { (format!("{:.4}", g.metrics.get(c).unwrap_or(0.0))) }
                        }
                    }
                    @if scored {
                        td { (dash(g.auc)) }
                        td { (dash(g.calibration_error)) }
                    }
                }
            }
        }
        table {
            tr {
                th class="l" { (label("组间差异", "disparity")) }
                th { (label("值", "value")) }
                th { (label("区间", "interval")) }
                th { (label("阈值", "limit")) }
            }
            @for name in Disparities::NAMES {
                @let value = attribute.disparities.get(name);
                @let limit = limits.iter().find(|(n, _)| *n == name).map(|(_, l)| *l);
                @let class = match (value, limit) {
                    (Some(v), Some(l)) if l.breached_by(v) => "fail",
                    (Some(_), Some(_)) => "pass",
                    _ => "",
                };
                tr {
                    td class="l" { (both(&terms::disparity(name))) }
                    td class=(class) { (dash(value)) }
                    td {
                        @match attribute.intervals.get(name) {
                            Some([a, b]) => (format!("[{a:.4}, {b:.4}]")),
                            None => "—",
                        }
                    }
                    td { (limit.map(|l| l.describe()).unwrap_or_default()) }
                }
            }
        }
    }
}

/// The fairness report as a page.
pub fn fairness(report: &FairnessReport) -> String {
    let p = &report.parameters;
    let body = html! {
        h1 { (both(&terms::audit("fairness"))) }
        (inputs_table(&report.inputs, report.rows))
        p {
            (label("标签", "label")) ": " code { (p.label) }
            " · " (label("预测", "prediction")) ": " code { (p.prediction) }
            " · " (label("正类", "positive")) ": " code { (p.positive) }
            @if let Some(score) = &p.score { " · " (label("分数", "score")) ": " code { (score) } }
        }
        @if let Some(b) = &p.bootstrap {
            p class="note" {
                (label(
                    &format!("区间：分层多项式自助法，{} 次重抽样，种子 {}，置信水平 {}", b.replicates, b.seed, b.level),
                    &format!(
                        "intervals: stratified multinomial bootstrap, {} replicates, seed {}, level {}",
                        b.replicates, b.seed, b.level
                    ),
                ))
            }
        }
        (findings_section(&report.findings, &report.warnings, report.passed, &report.controls))
        @for attribute in &report.attributes {
            (attribute_section(report, attribute))
        }
    };
    page("lunli fairness audit", body)
}

/// The quality report as a page.
pub fn quality(report: &QualityReport) -> String {
    let nulls: Vec<Bar> = report.columns.iter().map(|c| (c.name.clone(), c.null_rate, None, false)).collect();
    let conformance: Vec<Bar> =
        report.columns.iter().filter_map(|c| Some((c.name.clone(), c.conformance?, None, false))).collect();
    let percent = |v: f64| format!("{:.2}%", v * 100.0);
    let body = html! {
        h1 { (both(&terms::audit("quality"))) }
        (inputs_table(&report.inputs, report.rows))
        (findings_section(&report.findings, &report.warnings, report.passed, &report.controls))
        h2 { (label("按维度", "By dimension")) }
        table {
            tr { th class="l" { (label("维度", "dimension")) } th { (label("检查", "checks")) } th { (label("发现", "findings")) } }
            @for d in &report.dimensions {
                tr { td class="l" { (both(&d.dimension.name())) } td { (d.checks) } td { (d.findings) } }
            }
        }
        h2 { (label("各列", "Columns")) }
        (bar_chart(
            &Text { zh: "缺失率（完整性；虚线：阈值）".into(), en: "missing rate (completeness; dashed: limit)".into() },
            &nulls,
            report.policy.null_rate.max,
        ))
        @if !conformance.is_empty() {
            (bar_chart(
                &Text {
                    zh: "类型符合率（规范性；虚线：阈值）".into(),
                    en: "type conformance (normativeness; dashed: limit)".into(),
                },
                &conformance,
                report.policy.conformance.min,
            ))
        }
        table {
            tr {
                th class="l" { (label("列", "column")) }
                th class="l" { (label("类型", "type")) }
                th { (label("缺失率", "missing")) }
                th { (label("空白率", "blank")) }
                th { (label("首尾空白", "padded")) }
                th { (label("不同值", "distinct")) }
                th class="l" { (label("最小", "min")) }
                th class="l" { (label("最大", "max")) }
                th { (label("均值", "mean")) }
                th { (label("符合率", "conformance")) }
                th class="l" { (label("常见值", "top values")) }
            }
            @for c in &report.columns {
                tr {
                    td class="l" { (c.name) }
                    td class="l" { (c.kind.as_str()) }
                    td { (percent(c.null_rate)) }
                    td { (percent(c.empty_rate)) }
                    td { (c.padded) }
                    td { @if !c.distinct_exact { "≈" } (c.distinct) }
                    td class="l" { (c.min.as_deref().unwrap_or("")) }
                    td class="l" { (c.max.as_deref().unwrap_or("")) }
                    td { (c.mean.map(|m| format!("{m:.4}")).unwrap_or_default()) }
                    td { (c.conformance.map(percent).unwrap_or_else(|| "—".into())) }
                    td class="l" {
                        @for (i, t) in c.top_values.iter().take(5).enumerate() {
                            @if i > 0 { ", " }
                            (t.value) " (" (t.count) ")"
                        }
                    }
                }
            }
        }
        h2 { (label("规则与一致性", "Rules and consistency")) }
        p {
            (label("重复行", "duplicate rows")) ": " (report.duplicates.rows)
            " (" (percent(report.duplicates.rate)) ") · " (both(&Dimension::Consistency.name()))
        }
        @if !report.rules.is_empty() || !report.keys.is_empty() {
            table {
                tr {
                    th class="l" { (label("规则", "rule")) }
                    th class="l" { (label("维度", "dimension")) }
                    th { (label("违反行数", "rows breaking it")) }
                    th class="l" { (label("示例", "example")) }
                }
                @for r in &report.rules {
                    tr {
                        td class="l" { (r.rule) }
                        td class="l" { (both(&r.dimension.name())) }
                        td class=(if r.violations == 0 { "pass" } else { "fail" }) { (r.violations) }
                        td class="l" { (r.example.as_deref().unwrap_or("")) }
                    }
                }
                @for k in &report.keys {
                    tr {
                        td class="l" { (label("唯一键", "unique key")) " (" (k.columns.join(", ")) ")" }
                        td class="l" { (both(&k.dimension.name())) }
                        td class=(if k.duplicates == 0 { "pass" } else { "fail" }) { (k.duplicates) }
                        td class="l" { (k.example.as_deref().unwrap_or("")) }
                    }
                }
            }
        }
        @if let Some(f) = &report.freshness {
            p {
                (label("时效", "freshness")) " (" (both(&f.dimension.name())) "): " (f.column) " "
                code { (f.latest.as_deref().unwrap_or("—")) }
                " · " (label("天数", "age in days")) " " (f.age_days.map(|a| format!("{a:.1}")).unwrap_or_else(|| "—".into()))
                " · " (label("上限", "limit")) " " (format!("{:.1}", f.max_age_days))
            }
        }
        @for r in &report.representation {
            @let rows: Vec<Bar> = r
                .groups
                .iter()
                .map(|g| (format!("{} (ref {:.3})", g.group, g.reference.unwrap_or(f64::NAN)), g.share, None, false))
                .collect();
            (bar_chart(
                &Text {
                    zh: format!("{} 的代表性（准确性）", r.column),
                    en: format!("representation of {} (accuracy)", r.column),
                },
                &rows,
                None,
            ))
        }
    };
    page("lunli data-quality audit", body)
}

/// One table of entities found, with masked samples only.
fn entity_table(title: Markup, entities: &[crate::pii::EntityReport]) -> Markup {
    html! {
        @if !entities.is_empty() {
            h2 { (title) }
            table {
                tr {
                    th class="l" { (label("类型", "entity")) }
                    th { (label("数量", "count")) }
                    th { (label("高", "high")) }
                    th { (label("较可能", "likely")) }
                    th { (label("可能", "possible")) }
                    th { (label("校验失败", "checksum failed")) }
                    th class="l" { (label("样例（已遮盖）", "samples (masked)")) }
                }
                @for e in entities {
                    tr {
                        td class="l" { (both(&e.name)) }
                        td { (e.tally.count) }
                        td { (e.tally.high) }
                        td { (e.tally.likely) }
                        td { (e.tally.possible) }
                        td { (e.tally.checksum_failed) }
                        td class="l" {
                            @for (i, s) in e.tally.samples.iter().enumerate() {
                                @if i > 0 { br; }
                                (s.masked)
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The personal-information scan as a page: findings, then entities per column and per text
/// file with masked samples only.
pub fn pii(report: &crate::pii::PiiReport) -> String {
    let body = html! {
        h1 { (both(&terms::audit("pii"))) }
        (inputs_table(&report.inputs, report.rows))
        (findings_section(&report.findings, &[], report.passed, &report.controls))
        (entity_table(label("全部", "All inputs"), &report.summary))
        @for c in &report.columns {
            (entity_table(html! { (label("列", "Column")) " " (c.column) }, &c.entities))
        }
        @for t in &report.texts {
            (entity_table(html! { (label("文件", "File")) " " (t.path) }, &t.entities))
        }
    };
    page("lunli · 个人信息 / personal information", body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_by_the_template() {
        let markup = label("<a href=\"x\">&'", "<script>");
        let html = markup.into_string();
        assert!(html.contains("&lt;a href=&quot;x&quot;&gt;&amp;"), "{html}");
        assert!(html.contains("&lt;script&gt;") && !html.contains("<script>"), "{html}");
    }

    #[test]
    fn charts_draw_a_bar_and_whisker_per_group() {
        let svg = bar_chart(
            &Text { zh: "选择率".into(), en: "selection rate".into() },
            &[("A".into(), 0.5, Some([0.4, 0.6]), false), ("B<b>".into(), 0.2, None, true)],
            Some(0.8),
        )
        .into_string();
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(svg.contains("stroke-dasharray"));
        assert!(svg.contains("B&lt;b&gt;") && !svg.contains("B<b>"), "group names are escaped: {svg}");
        assert!(!svg.contains("http://") || svg.contains("http://www.w3.org/2000/svg"));
    }
}

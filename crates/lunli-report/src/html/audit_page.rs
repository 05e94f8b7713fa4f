//! An audit's own page: what `lunli audit fairness|quality|pii --html` writes, and what the Python
//! package shows in a notebook. It is rendered from the typed summary of the audit's JSON report
//! (`AuditSummary`, the value `--system` records) with the same sections a system report
//! renders a recorded run with, plus the detail only the audit's own page has room for: every
//! rate per group, the limits, the column profile, the entities found.

use lunli_governance::audit_summary::{
    AttributeSummary, AuditSummary, Bound, FairnessDetail, GroupDetail, InputFile, PiiDetail, QualityDetail,
};
use lunli_norms::{Languages, Text, terms};
use maud::{Markup, html};
use serde_json::Value;

use super::audit::{
    dimension_figure, disparity_table, findings_table, label_counts, probe_section, unreadable_note, verdict_badge,
};
use super::charts::{estimate_cell, estimate_chart};
use super::model_audit::model_section;
use super::page::{Page, facts, opt};
use super::standalone;
use crate::audit::{Estimate, dimension_results};

/// The page of one audit's JSON report, in `lang`. Never fails: what does not read is named on
/// the page (see `AuditSummary::read`).
pub fn audit_page(report: &Value, lang: Languages) -> String {
    let page = Page::new(lang);
    let summary = AuditSummary::read(report);
    let audit = summary.audit.clone().unwrap_or_default();
    let name = terms::audit(&audit);
    let title = format!("lunli — {}", name.en);
    let detail = &summary.detail;
    let content = html! {
        h1 {
            (page.t(&name))
            @if let Some(passed) = detail.passed { " " (verdict_badge(&page, passed)) }
        } "\n"
        (facts(&[
            (page.l("输入", "Inputs"), files_table(&page, &detail.files)),
            (page.l("行数", "Rows"), opt(&summary.rows)),
            (page.l("相关控制项", "Controls concerned"), html! { (detail.controls.join(", ")) }),
        ]))
        (unreadable_note(&page, &summary.unreadable))
        @if let Some(fairness) = &detail.fairness { (fairness_parameters(&page, fairness)) }
        @if let Some(counts) = &summary.labels { (label_counts(&page, counts)) }
        // A probe lists its failed questions below; "no findings" above them would mislead.
        @if !(summary.findings.is_empty() && detail.probe.is_some()) {
            h2 { (page.l("发现", "Findings")) } "\n"
            (findings_table(&page, &summary.findings))
        }
        @for warning in &detail.warnings { (page.block(warning, "muted")) }
        @if let Some(fairness) = &detail.fairness { (fairness_sections(&page, &summary.attributes, fairness)) }
        @if let Some(quality) = &detail.quality {
            (dimension_figure(&page, &dimension_results(summary.dimensions.clone())))
            (quality_sections(&page, quality))
        }
        @if let Some(pii) = &detail.pii { (pii_sections(&page, pii)) }
        @if let Some(model) = &detail.model { (model_section(&page, model)) }
        @if let Some(probe) = &detail.probe {
            h2 { (page.l("探测结果", "Probe results")) } "\n"
            (probe_section(&page, probe))
        }
        p class="muted" {
            "lunli " (env!("CARGO_PKG_VERSION")) " · "
            (page.l("本页独立完整，不加载任何外部资源", "A self-contained page: nothing is loaded from the network"))
        }
    };
    standalone(&page, &title, content)
}

fn files_table(page: &Page, files: &[InputFile]) -> Markup {
    html! {
        @if files.is_empty() { "—" } @else {
            table {
                (page.head(&[("文件", "File"), ("格式", "Format"), ("编码", "Encoding"), ("字节", "Bytes")]))
                tbody {
                    @for f in files {
                        tr {
                            td {
                                (f.path)
                                @if let Some(q) = &f.query { br; (page.l("查询：", "query: ")) code { (q) } }
                            }
                            td { (opt(&f.format)) @if let Some(c) = &f.compression { " (" (c) ")" } }
                            td { (opt(&f.encoding)) }
                            td class="num" { (opt(&f.bytes)) }
                        }
                    }
                }
            }
        }
    }
}

fn fairness_parameters(page: &Page, f: &FairnessDetail) -> Markup {
    html! {
        (facts(&[
            (page.l("标签列 / 预测列 / 正类", "Label / prediction / positive"),
             html! { code { (f.label) } " / " code { (f.prediction) } " / " code { (f.positive) } }),
            (page.l("分数列", "Score"), opt(&f.score)),
        ]))
        @if let Some(b) = f.bootstrap {
            (page.block(&Text {
                zh: format!("区间：分层多项式自助法，{} 次重抽样，种子 {}，置信水平 {}", b.replicates, b.seed, b.level),
                en: format!("Intervals: stratified multinomial bootstrap, {} replicates, seed {}, level {}", b.replicates, b.seed, b.level),
            }, "muted"))
        }
    }
}

/// Per sensitive attribute: a chart per rate with its intervals, the impact ratio against the
/// four-fifths limit, every rate per group, and the disparities against their limits.
fn fairness_sections(page: &Page, attributes: &[AttributeSummary], f: &FairnessDetail) -> Markup {
    html! {
        @for detail in &f.attributes {
            @let scored = detail.groups.iter().any(|g| g.auc.is_some());
            @let charts = if scored { &CHARTED[..] } else { &CHARTED[..4] };
            h2 { (page.l("敏感属性", "Sensitive attribute")) " " code { (detail.attribute) } } "\n"
            @for metric in charts {
                (rate_figure(page, &detail.attribute, &detail.groups, metric, &terms::group_metric(metric), None))
            }
            (rate_figure(
                page,
                &detail.attribute,
                &detail.groups,
                "impact_ratio",
                &Text { zh: "影响比（相对选择率最高的组）".into(), en: "impact ratio (to the group selected most)".into() },
                f.limits.disparate_impact_ratio,
            ))
            (group_table(page, &detail.groups, scored))
            @if let Some(summary) = attributes.iter().find(|a| a.attribute == detail.attribute) {
                (disparity_table(page, &summary.disparities, Some(&f.limits)))
            }
        }
        @if f.attributes.iter().any(|a| a.groups.iter().any(|g| g.small)) {
            p class="muted" { (page.l("* 样本过少，估计不可靠。", "* too few rows for a reliable estimate.")) }
        }
    }
}

/// The rates a fairness page draws per group; AUC only when the run had scores.
const CHARTED: [&str; 5] = ["selection_rate", "true_positive_rate", "false_positive_rate", "precision", "auc"];

fn rate_figure(
    page: &Page,
    attribute: &str,
    groups: &[GroupDetail],
    metric: &str,
    name: &Text,
    limit: Option<Bound>,
) -> Markup {
    let rows: Vec<(String, Option<Estimate>, bool)> =
        groups.iter().map(|g| (g.group.clone(), g.estimate(metric), g.small)).collect();
    let line = limit.and_then(|l| l.min.or(l.max));
    html! {
        figure {
            (estimate_chart(&rows, &format!("{} by {attribute}", name.en), line))
            figcaption {
                (page.t(name))
                @if let Some(l) = limit {
                    " · " (page.l("虚线：阈值", "dashed: limit")) " " (l.describe())
                }
            }
        }
    }
}

fn group_table(page: &Page, groups: &[GroupDetail], scored: bool) -> Markup {
    let mut metrics: Vec<&str> = terms::GROUP_RATES.to_vec();
    if scored {
        metrics.extend(["auc", "calibration_error"]);
    }
    html! {
        table {
            thead {
                tr {
                    th { (page.l("组", "Group")) }
                    th { (page.t(&terms::group_metric("count"))) }
                    @for m in &metrics { th { (page.t(&terms::group_metric(m))) } }
                }
            }
            tbody {
                @for g in groups {
                    tr {
                        td { (g.group) @if g.small { " *" } }
                        td class="num" { (g.count) }
                        @for m in &metrics { td class="num" { (estimate_cell(g.estimate(m).as_ref())) } }
                    }
                }
            }
        }
        "\n"
    }
}

fn percent(v: f64) -> String {
    format!("{:.2}%", v * 100.0)
}

fn quality_sections(page: &Page, q: &QualityDetail) -> Markup {
    let shares = |pick: fn(&lunli_governance::audit_summary::ColumnDetail) -> Option<f64>| -> Vec<(String, Option<Estimate>, bool)> {
        q.columns.iter().map(|c| (c.name.clone(), pick(c).map(|value| Estimate { value, interval: None }), false)).collect()
    };
    let null_line = q.null_rate_limit.and_then(|l| l.max);
    let conformance_line = q.conformance_limit.and_then(|l| l.min);
    html! {
        h2 { (page.l("各列", "Columns")) } "\n"
        figure {
            (estimate_chart(&shares(|c| Some(c.null_rate)), "missing rate by column", null_line))
            figcaption {
                (page.l("缺失率（完整性）", "Missing rate (completeness)"))
                @if let Some(l) = q.null_rate_limit { " · " (page.l("虚线：阈值", "dashed: limit")) " " (l.describe()) }
            }
        }
        @if q.columns.iter().any(|c| c.conformance.is_some()) {
            figure {
                (estimate_chart(&shares(|c| c.conformance), "type conformance by column", conformance_line))
                figcaption {
                    (page.l("类型符合率（规范性）", "Type conformance (normativeness)"))
                    @if let Some(l) = q.conformance_limit { " · " (page.l("虚线：阈值", "dashed: limit")) " " (l.describe()) }
                }
            }
        }
        table {
            (page.head(&[
                ("列", "Column"), ("类型", "Type"), ("缺失率", "Missing"), ("空白率", "Blank"), ("首尾空白", "Padded"),
                ("不同值", "Distinct"), ("最小", "Min"), ("最大", "Max"), ("均值", "Mean"), ("符合率", "Conformance"),
                ("常见值", "Top values"),
            ]))
            tbody {
                @for c in &q.columns {
                    tr {
                        td { (c.name) }
                        td { (c.kind) }
                        td class="num" { (percent(c.null_rate)) }
                        td class="num" { (percent(c.empty_rate)) }
                        td class="num" { (c.padded) }
                        td class="num" { @if !c.distinct_exact { "≈" } (c.distinct) }
                        td { (opt(&c.min)) }
                        td { (opt(&c.max)) }
                        td class="num" { (opt(&c.mean.map(|m| format!("{m:.4}")))) }
                        td class="num" { (opt(&c.conformance.map(percent))) }
                        td {
                            @for (i, t) in c.top_values.iter().take(5).enumerate() {
                                @if i > 0 { ", " }
                                (t.value) " (" (t.count) ")"
                            }
                        }
                    }
                }
            }
        }
        "\n"
        h2 { (page.l("规则与一致性", "Rules and consistency")) } "\n"
        @if let Some(d) = q.duplicates {
            p { (page.l("重复行", "Duplicate rows")) ": " (d.rows) " (" (percent(d.rate)) ")" }
        }
        @if q.rules.is_empty() && q.keys.is_empty() {
            p { (page.l("未定义规则或唯一键。", "No rules or unique keys were given.")) }
        } @else {
            table {
                (page.head(&[("规则", "Rule"), ("维度", "Dimension"), ("违反行数", "Rows breaking it"), ("示例", "Example")]))
                tbody {
                    @for r in &q.rules {
                        tr {
                            td class="mono" { (r.rule) }
                            td { (page.t(&terms::quality_dimension(&r.dimension))) }
                            td class=(if r.violations == 0 { "num ok" } else { "num bad" }) { (r.violations) }
                            td { (opt(&r.example)) }
                        }
                    }
                    @for k in &q.keys {
                        tr {
                            td { (page.l("唯一键", "Unique key")) " (" (k.columns.join(", ")) ")" }
                            td { (page.t(&terms::quality_dimension(&k.dimension))) }
                            td class=(if k.duplicates == 0 { "num ok" } else { "num bad" }) { (k.duplicates) }
                            td { (opt(&k.example)) }
                        }
                    }
                }
            }
        }
        @if let Some(f) = &q.freshness {
            p {
                (page.l("时效", "Freshness")) " (" (page.t(&terms::quality_dimension(&f.dimension))) "): "
                code { (f.column) } " " (opt(&f.latest))
                " · " (page.l("距今天数", "age in days")) " " (opt(&f.age_days.map(|a| format!("{a:.1}"))))
                " · " (page.l("上限", "limit")) " " (format!("{:.1}", f.max_age_days))
            }
        }
        @for r in &q.representation {
            @let rows: Vec<(String, Option<Estimate>, bool)> = r.groups.iter().map(|g| {
                let name = match g.reference { Some(reference) => format!("{} (ref {reference:.3})", g.group), None => g.group.clone() };
                (name, Some(Estimate { value: g.share, interval: None }), false)
            }).collect();
            figure {
                (estimate_chart(&rows, &format!("representation of {}", r.column), None))
                figcaption {
                    (page.l(&format!("{} 的代表性（各组占比，括号内为参考占比）", r.column),
                            &format!("Representation of {} (share per group, reference share in brackets)", r.column)))
                }
            }
        }
    }
}

fn entity_table(page: &Page, entities: &[lunli_governance::audit_summary::EntityDetail]) -> Markup {
    html! {
        table {
            (page.head(&[
                ("类型", "Entity"), ("数量", "Count"), ("高", "High"), ("较可能", "Likely"), ("可能", "Possible"),
                ("校验失败", "Checksum failed"), ("样例（已遮盖）", "Samples (masked)"),
            ]))
            tbody {
                @for e in entities {
                    tr {
                        td { (page.t(&e.name)) }
                        td class="num" { (e.count) }
                        td class="num" { (e.high) }
                        td class="num" { (e.likely) }
                        td class="num" { (e.possible) }
                        td class="num" { (e.checksum_failed) }
                        td class="mono" {
                            @for (i, s) in e.samples.iter().enumerate() { @if i > 0 { br; } (s.masked) }
                        }
                    }
                }
            }
        }
        "\n"
    }
}

fn pii_sections(page: &Page, pii: &PiiDetail) -> Markup {
    html! {
        h2 { (page.l("全部输入", "All inputs")) } "\n"
        @if pii.summary.is_empty() {
            p { (page.l("未发现个人信息。", "No personal information found.")) }
        } @else {
            (entity_table(page, &pii.summary))
        }
        @for place in pii.places.iter().filter(|p| !p.entities.is_empty()) {
            h3 { (page.t(&place.kind)) " " code { (place.name) } } "\n"
            (entity_table(page, &place.entities))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fairness_report() -> Value {
        json!({
            "audit": "fairness",
            "inputs": [{"path": "<a>.csv", "format": "csv", "bytes": 10}],
            "rows": 8,
            "parameters": {"label": "y", "prediction": "p", "positive": "1",
                           "bootstrap": {"replicates": 20, "seed": 1, "level": 0.95},
                           "policy": {"disparate_impact_ratio": {"min": 0.8, "severity": "high"}}},
            "attributes": [{
                "attribute": "sex",
                "disparities": {"disparate_impact_ratio": 0.5},
                "groups": [
                    {"group": "F<script>", "count": 4, "small": false, "selection_rate": 0.25, "precision": 0.5,
                     "impact_ratio": 0.5, "intervals": {"selection_rate": [0.1, 0.4]}},
                    {"group": "M", "count": 4, "small": true, "selection_rate": 0.5, "precision": 0.75, "impact_ratio": 1.0}
                ]
            }],
            "findings": [{"severity": "high", "check": "fairness.disparate_impact_ratio",
                          "message": {"zh": "差别影响比过低", "en": "impact ratio too low"}}],
            "warnings": [], "passed": false, "controls": ["C-13-01"]
        })
    }

    #[test]
    fn a_fairness_page_shows_every_rate_the_limits_and_escapes_the_data() {
        let html = audit_page(&fairness_report(), Languages::Both);
        assert!(html.starts_with("<!DOCTYPE html>") && html.ends_with("</html>\n"));
        assert!(html.contains("F&lt;script&gt;") && !html.contains("F<script>"), "group names are escaped");
        assert!(html.contains("&lt;a&gt;.csv"), "file names are escaped");
        for term in ["公平性审计", "Fairness audit", "精确率", "precision", "差别影响比", "未通过", "C-13-01"]
        {
            assert!(html.contains(term), "{term} missing");
        }
        assert!(html.contains("≥ 0.8") && html.contains("stroke-dasharray"), "the four-fifths limit is drawn");
        assert!(html.contains("20 replicates") && html.contains("20 次重抽样"));
        assert!(html.contains("num bad"), "the breached disparity is marked");
        let en = audit_page(&fairness_report(), Languages::En);
        assert!(en.contains("precision") && !en.contains("精确率"), "one language when asked");
    }

    #[test]
    fn a_probe_page_shows_rates_intervals_and_gates() {
        let probe = json!({
            "audit": "probe", "passed": false, "complete": false,
            "kinds": [{"kind": "should-refuse", "name": {"zh": "应拒答", "en": "should refuse"},
                       "measure": {"zh": "拒答率", "en": "refusal rate"},
                       "overall": {"k": 18, "n": 20, "rate": 0.9, "interval": [0.699, 0.972]}}],
            "gates": [{"id": "refusal", "name": {"zh": "应拒答问题的拒答率", "en": "refusal on should-refuse"},
                       "clause": "GB/T 45654-2025 9.3 d)", "comparison": ">=", "threshold": 0.95, "value": 0.9, "passed": false}]
        });
        let html = audit_page(&probe, Languages::Both);
        assert!(html.contains(">应拒答 should refuse<"), "the chart names the kind in both languages");
        let zh = audit_page(&probe, Languages::Zh);
        assert!(zh.contains(">应拒答<") && !zh.contains("should refuse"), "and in the page's one language");
        for term in [
            "生成式服务探测",
            "应拒答",
            "refusal rate",
            "18 / 20",
            "[0.699, 0.972]",
            "≥ 0.95",
            "9.3 d)",
            "s-failed",
            "incomplete",
        ] {
            assert!(html.contains(term), "{term} missing");
        }
    }

    #[test]
    fn what_does_not_read_is_named_on_the_page() {
        let mut report = fairness_report();
        report["rows"] = json!("eight");
        let html = audit_page(&report, Languages::En);
        assert!(html.contains("could not be read") && html.contains("rows"), "{html}");
        let quality = json!({"audit": "quality", "columns": [{"name": "age", "null_rate": 0.5}],
                             "policy": {"null_rate": {"max": 0.05}}, "dimensions": [{"dimension": "completeness", "checks": 1, "findings": 1}]});
        let html = audit_page(&quality, Languages::Both);
        assert!(html.contains("缺失率") && html.contains("≤ 0.05") && html.contains("50.00%"), "{html}");
        let pii = json!({"audit": "pii", "summary": [{"entity": "phone", "name": {"zh": "手机号", "en": "mobile"}, "count": 1,
                         "samples": [{"masked": "138****0000"}]}], "texts": [{"path": "n.txt", "entities": []}]});
        let html = audit_page(&pii, Languages::Both);
        assert!(html.contains("手机号") && html.contains("138****0000") && !html.contains("n.txt"), "{html}");
    }
}

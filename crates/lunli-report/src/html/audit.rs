//! An audit's results in a report: who recorded it from which inputs, the fairness estimates per
//! group with their intervals and the disparities, the data-quality dimensions, the findings.

use lunli_norms::{Languages, terms};
use maud::{Markup, html};

use super::charts::{dimension_chart, estimate_cell, estimate_chart};
use super::page::{Page, facts, lines, opt, time};
use lunli_governance::audit_summary::{FairnessLimits, ProbeDetail, ProbeKindRate};

use crate::audit::{AuditFinding, AuditResult, DimensionResult, Disparity, Estimate, LabelCounts};

/// An audit's verdict as a badge.
pub(crate) fn verdict_badge(page: &Page, passed: bool) -> Markup {
    let class = if passed { "badge s-passed" } else { "badge s-failed" };
    html! { span class=(class) { (page.t(&terms::verdict(passed))) } }
}

pub(crate) fn render(page: &Page, audit: &AuditResult) -> Markup {
    let inputs = lines(audit.inputs.iter().map(|i| html! { (i.path) " " span class="mono" { (opt(&i.sha256)) } }));
    let facts = facts(&[
        (page.l("记录人 / 时间", "Recorded by / at"), html! { (audit.recorded_by) " · " (time(&audit.recorded_at)) }),
        (page.l("证据位置", "Evidence on"), html! { (audit.evidence.join(", ")) }),
        (page.l("行数", "Rows"), opt(&audit.rows)),
        (page.l("输入（SHA-256）", "Inputs (SHA-256)"), inputs),
    ]);
    let small = audit.attributes.iter().any(|a| a.groups.iter().any(|g| g.small));
    html! {
        h3 { (page.t(&terms::audit(&audit.audit))) " " (verdict_badge(page, audit.passed)) } "\n"
        (facts)
        (unreadable_note(page, &audit.unreadable))
        @for attribute in &audit.attributes {
            @let rows: Vec<(String, Option<Estimate>, bool)> =
                attribute.groups.iter().map(|g| (g.group.clone(), g.selection_rate.clone(), g.small)).collect();
            figure {
                (estimate_chart(&rows, &format!("selection rate by {}", attribute.attribute), None))
                figcaption {
                    (page.l(
                        &format!("按 {} 分组的选择率（点）及其置信区间（横线）", attribute.attribute),
                        &format!("Selection rate by {} (dot) with its confidence interval (whisker)", attribute.attribute),
                    ))
                }
            }
            table {
                thead {
                    tr {
                        th { (page.l("组", "Group")) }
                        @for metric in ["count", "selection_rate", "true_positive_rate", "false_positive_rate", "accuracy"] {
                            th { (page.t(&terms::group_metric(metric))) }
                        }
                    }
                }
                tbody {
                    @for g in &attribute.groups {
                        tr {
                            td { (g.group) @if g.small { " *" } }
                            td class="num" { (g.count) }
                            td class="num" { (estimate_cell(g.selection_rate.as_ref())) }
                            td class="num" { (estimate_cell(g.true_positive_rate.as_ref())) }
                            td class="num" { (estimate_cell(g.false_positive_rate.as_ref())) }
                            td class="num" { (estimate_cell(g.accuracy.as_ref())) }
                        }
                    }
                }
            }
            (disparity_table(page, &attribute.disparities, None))
        }
        @if small {
            p class="muted" { (page.l("* 样本过少，估计不可靠。", "* too few rows for a reliable estimate.")) }
        }
        (dimension_figure(page, &audit.dimensions))
        @if let Some(counts) = &audit.labels {
            (label_counts(page, counts))
        }
        @if let Some(probe) = &audit.probe {
            (probe_section(page, probe))
        }
        // A label check's counts say what it found; "no findings" beside them would mislead.
        @if !(audit.findings.is_empty() && audit.labels.is_some()) {
            (findings_table(page, &audit.findings))
        }
    }
}

/// The disparities of one attribute with their intervals, and beside each the policy's limit
/// and whether the value keeps it, when the run's limits are known.
pub(crate) fn disparity_table(page: &Page, disparities: &[Disparity], limits: Option<&FairnessLimits>) -> Markup {
    html! {
        table {
            @if limits.is_some() {
                (page.head(&[("差异指标", "Disparity"), ("值 [置信区间]", "Value [confidence interval]"), ("阈值", "Limit")]))
            } @else {
                (page.head(&[("差异指标", "Disparity"), ("值 [置信区间]", "Value [confidence interval]")]))
            }
            tbody {
                @for d in disparities {
                    @let limit = limits.and_then(|l| l.of(&d.metric));
                    @let class = match limit {
                        Some(l) if l.breached_by(d.estimate.value) => "num bad",
                        Some(_) => "num ok",
                        None => "num",
                    };
                    tr {
                        td { (page.t(&terms::disparity(&d.metric))) }
                        td class=(class) { (estimate_cell(Some(&d.estimate))) }
                        @if limits.is_some() { td { (limit.map(|l| l.describe()).unwrap_or_else(|| "—".into())) } }
                    }
                }
            }
        }
        "\n"
    }
}

/// Art. 11's data-quality dimensions as a chart; nothing when the audit has none.
pub(crate) fn dimension_figure(page: &Page, dimensions: &[DimensionResult]) -> Markup {
    html! {
        @if !dimensions.is_empty() {
            figure {
                (dimension_chart(page, dimensions))
                figcaption {
                    (page.l(
                        "第十一条所列数据质量维度：绿色为通过的检查，红色为发现问题的检查（发现数 / 检查数）",
                        "Art. 11's data-quality dimensions: green checks passed, red checks found a problem (findings / checks)",
                    ))
                }
            }
        }
    }
}

/// A generative-service probe: each kind of question's rate with its 95 % Wilson interval as a
/// chart and a table, then the gates the run was held to.
pub(crate) fn probe_section(page: &Page, probe: &ProbeDetail) -> Markup {
    // A chart's row names are plain text: the page's language, both when it shows both.
    let name = |k: &ProbeKindRate| match page.lang {
        Languages::Zh => k.name.zh.clone(),
        Languages::En => k.name.en.clone(),
        Languages::Both => format!("{} {}", k.name.zh, k.name.en),
    };
    let rows: Vec<(String, Option<Estimate>, bool)> =
        probe.kinds.iter().map(|k| (name(k), k.overall.estimate(), false)).collect();
    html! {
        figure {
            (estimate_chart(&rows, "rate per kind of probe question", None))
            figcaption {
                (page.l("各类探测问题的比率（点）及其 95% Wilson 区间（横线）", "Rate per kind of probe question (dot) with its 95% Wilson interval (whisker)"))
            }
        }
        table {
            (page.head(&[("问题类型", "Kind of question"), ("度量", "Measure"), ("计数", "Count"), ("比率 [区间]", "Rate [interval]")]))
            tbody {
                @for k in &probe.kinds {
                    tr {
                        td { (page.t(&k.name)) }
                        td { (page.t(&k.measure)) }
                        td class="num" { (k.overall.k) " / " (k.overall.n) }
                        td class="num" { (estimate_cell(k.overall.estimate().as_ref())) }
                    }
                }
            }
        }
        "\n"
        @if !probe.gates.is_empty() {
            table {
                (page.head(&[("门槛", "Gate"), ("条款", "Clause"), ("阈值", "Threshold"), ("值", "Value"), ("结果", "Result")]))
                tbody {
                    @for g in &probe.gates {
                        tr {
                            td { (page.t(&g.name)) }
                            td { (g.clause) }
                            td class="num" { (g.comparison.replace(">=", "≥").replace("<=", "≤")) " " (g.threshold) }
                            td class="num" { (opt(&g.value.map(|v| format!("{v:.3}")))) }
                            td {
                                @match g.passed {
                                    Some(passed) => (verdict_badge(page, passed)),
                                    None => (page.l("无可判定的回答", "no answer to judge")),
                                }
                            }
                        }
                    }
                }
            }
            "\n"
        }
        @if probe.complete == Some(false) {
            p class="bad" { (page.l("运行未完成：有问题失败或被中断，结果不能作为通过的依据。", "The run is incomplete: some questions failed or were interrupted, so it cannot pass.")) }
        }
    }
}

/// The fields of a recorded summary this version could not read, named; nothing when none.
pub(crate) fn unreadable_note(page: &Page, unreadable: &[String]) -> Markup {
    html! {
        @if !unreadable.is_empty() {
            p class="muted" {
                (page.l("记录的摘要中有以下字段无法按本版本读取，未在此显示：", "These fields of the recorded summary could not be read by this version and are not shown: "))
                span class="mono" { (unreadable.join(", ")) }
            }
        }
    }
}

/// An audit's findings by severity, or a line saying there are none.
pub(crate) fn findings_table(page: &Page, findings: &[AuditFinding]) -> Markup {
    html! {
        @if findings.is_empty() {
            p { (page.l("无发现。", "No findings.")) }
        } @else {
            table {
                (page.head(&[("严重程度", "Severity"), ("发现", "Finding")]))
                tbody {
                    @for f in findings {
                        tr {
                            td { span class={ "badge s-" (f.severity) } { (page.t(&terms::severity(&f.severity))) } }
                            td { (page.t(&f.message)) }
                        }
                    }
                }
            }
        }
    }
}

/// A content-label check's counts: files per status, the skipped ones apart.
pub(crate) fn label_counts(page: &Page, counts: &LabelCounts) -> Markup {
    html! {
        table.label-counts {
            (page.head(&[("结果", "Result"), ("文件数", "Files")]))
            tbody {
                @for (status, n) in counts.by_status() {
                    tr class={ "label-" (status) } {
                        td { (page.t(&terms::label_status(status))) }
                        td class="num" { (n) }
                    }
                }
                tr { th { (page.l("已检查文件合计", "Files checked")) } th class="num" { (counts.files) } }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verdict_badge_names_the_verdict_in_the_pages_languages() {
        let both = verdict_badge(&Page::new(Languages::Both), false).into_string();
        assert!(both.contains("s-failed") && both.contains("未通过") && both.contains("failed"), "{both}");
        let en = verdict_badge(&Page::new(Languages::En), true).into_string();
        assert!(en.contains("passed") && !en.contains("通过"), "{en}");
    }

    #[test]
    fn a_label_checks_counts_show_in_both_languages() {
        let counts = LabelCounts {
            files: 4,
            conforming: 1,
            missing_implicit: 2,
            malformed: 1,
            skipped: 7,
            ..Default::default()
        };
        let both = label_counts(&Page::new(Languages::Both), &counts).into_string();
        for words in ["缺少隐式标识", "missing implicit label", "隐式标识格式错误", "skipped (other formats)"]
        {
            assert!(both.contains(words), "{words} in {both}");
        }
        assert!(both.contains(r#"<tr class="label-missing_implicit"><td>"#), "{both}");
        assert!(both.contains(r#"<td class="num">2</td>"#) && both.contains(r#"<th class="num">4</th>"#), "{both}");
    }
}

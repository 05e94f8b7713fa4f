//! The model audit's section (`lunli audit model`): robustness, counterfactual flips,
//! calibration and explanations, drawn on the audit page and in the system report.

use maud::{Markup, html};

use super::charts::{estimate_chart, signed_bar_chart};
use super::page::Page;
use crate::audit::Estimate;
use lunli_governance::audit_summary::{Bound, ModelDetail};
use lunli_norms::Text;

/// A model audit's tests beyond performance by group: robustness per perturbation against the
/// policy's limits (Art. 12), counterfactual flips by group (Art. 13), calibration, and the
/// explanations as charts.
pub(crate) fn model_section(page: &Page, m: &ModelDetail) -> Markup {
    let bound = |b: Option<Bound>| b.map(|b| b.describe()).unwrap_or_else(|| "—".into());
    let accuracy_rows: Vec<(String, Option<Estimate>, bool)> = std::iter::once((
        "baseline".to_string(),
        Some(Estimate { value: m.robustness.accuracy, interval: None }),
        false,
    ))
    .chain(
        m.robustness
            .perturbations
            .iter()
            .map(|p| (p.id.clone(), Some(Estimate { value: p.accuracy, interval: None }), false)),
    )
    .collect();
    let flip_rows: Vec<(String, Option<Estimate>, bool)> = m
        .robustness
        .perturbations
        .iter()
        .map(|p| (p.id.clone(), Some(Estimate { value: p.flip_rate, interval: None }), false))
        .collect();
    html! {
        h2 { (page.l("鲁棒性（第十二条）", "Robustness (Art. 12)")) } "\n"
        (page.block(&Text {
            zh: "每种扰动都在数据副本上运行模型：数值特征加高斯噪声（尺度 × 该特征标准差）、类别互换、缺失值、超出取值范围的值；准确率下降与决定改变比例对照策略阈值。方法见 docs/models.md。".into(),
            en: "Each perturbation runs the model on a changed copy of the data: Gaussian noise on numeric features (scale × the feature's standard deviation), category swaps, missing values, values out of range; the accuracy drop and the share of decisions changed are set against the policy's limits. Methods: docs/models.md.".into(),
        }, "muted"))
        figure {
            (estimate_chart(&accuracy_rows, "accuracy under each perturbation", None))
            figcaption { (page.l("各扰动下的准确率", "Accuracy under each perturbation")) }
        }
        figure {
            (estimate_chart(&flip_rows, "share of decisions changed by each perturbation", m.limits.robustness_flip_rate.and_then(|b| b.max)))
            figcaption { (page.l("各扰动改变的决定比例（红色虚线为阈值）", "Share of decisions each perturbation changes (dashed red line: the limit)")) }
        }
        table {
            (page.head(&[("扰动", "Perturbation"), ("准确率", "Accuracy"), ("降幅", "Drop"), ("决定改变", "Decisions changed")]))
            tbody {
                @for p in &m.robustness.perturbations {
                    @let drop_bad = m.limits.robustness_accuracy_drop.is_some_and(|b| b.breached_by(p.accuracy_drop));
                    @let flip_bad = m.limits.robustness_flip_rate.is_some_and(|b| b.breached_by(p.flip_rate));
                    tr {
                        td { code { (p.id) } }
                        td class="num" { (format!("{:.4}", p.accuracy)) }
                        td class=(if drop_bad { "num bad" } else { "num ok" }) { (format!("{:+.4}", p.accuracy_drop)) }
                        td class=(if flip_bad { "num bad" } else { "num ok" }) { (format!("{:.2}%", p.flip_rate * 100.0)) " (" (p.flipped) ")" }
                    }
                }
            }
        }
        p class="muted" {
            (page.l("阈值：准确率降幅 ", "Limits: accuracy drop ")) (bound(m.limits.robustness_accuracy_drop))
            (page.l("；决定改变比例 ", "; decisions changed ")) (bound(m.limits.robustness_flip_rate))
        }
        h2 { (page.l("反事实公平性（第十三条）", "Counterfactual fairness (Art. 13)")) } "\n"
        (page.block(&Text {
            zh: format!("只改变敏感属性（或指定的代理变量）的取值、其余特征不变时，决定随之改变的行所占比例；阈值 {}。", bound(m.limits.counterfactual_flip_rate)),
            en: format!("The share of rows whose decision changes when only the sensitive attribute (or a named proxy) takes another value, everything else held fixed; limit {}.", bound(m.limits.counterfactual_flip_rate)),
        }, "muted"))
        @for c in &m.counterfactual {
            @let rows: Vec<(String, Option<Estimate>, bool)> = c.groups.iter().map(|g| (g.group.clone(), Some(Estimate { value: g.flip_rate, interval: None }), false)).collect();
            h3 {
                code { (c.attribute) } " "
                @if c.proxy { (page.l("（代理变量）", "(proxy)")) }
                " " (format!("{:.2}%", c.flip_rate * 100.0)) " (" (c.changed) " / " (c.rows) ")"
            }
            @if !c.model_input {
                p class="muted" { (page.l("模型不读取该列，只改变它不会改变决定。", "The model does not read this column; changing it alone changes no decision.")) }
            }
            figure {
                (estimate_chart(&rows, &format!("counterfactual flip rate by {}", c.attribute), m.limits.counterfactual_flip_rate.and_then(|b| b.max)))
                figcaption { (page.l(&format!("按 {} 分组：决定随之改变的比例", c.attribute), &format!("By {}: share of decisions that change", c.attribute))) }
            }
        }
        @if !m.calibration.is_empty() {
            h2 { (page.l("校准", "Calibration")) } "\n"
            table {
                (page.head(&[("属性", "Attribute"), ("组", "Group"), ("样本数", "n"), ("Brier 分数", "Brier score"), ("可靠性（平均分数 → 实际正类比例）", "Reliability (mean score → observed positive rate)")]))
                tbody {
                    @for a in &m.calibration {
                        @for g in &a.groups {
                            tr {
                                td { (a.attribute) } td { (g.group) } td class="num" { (g.count) }
                                td class="num" { (format!("{:.4}", g.brier)) }
                                td class="mono" {
                                    @for b in &g.bins { (format!("{:.2}→{:.2} ", b.mean_score, b.positive_rate)) }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 { (page.l("置换重要性", "Permutation importance")) } "\n"
        @let rows: Vec<(String, f64, Option<[f64; 2]>)> = m.importance.features.iter().map(|f| (f.feature.clone(), f.mean, f.interval)).collect();
        figure {
            (signed_bar_chart(&rows, "permutation importance"))
            figcaption {
                (page.l(
                    &format!("打乱某一特征后准确率的下降（{} 次重复的均值及 95% 置信区间；基准准确率 {:.4}）", m.importance.repeats, m.importance.baseline),
                    &format!("Accuracy lost when one feature is shuffled (mean of {} repeats with its 95% confidence interval; baseline accuracy {:.4})", m.importance.repeats, m.importance.baseline),
                ))
            }
        }
        @if let Some(a) = &m.attributions {
            h2 { (page.l("逐行归因（抽样 Shapley 值）", "Per-row attributions (sampling Shapley values)")) } "\n"
            (page.block(&Text {
                zh: format!("每个特征对该行正类概率的贡献，相对于 {} 行背景样本的平均概率 {:.4}；每个特征 {} 次抽样（Štrumbelj 与 Kononenko 2014）。", a.background_rows, a.base_value, a.samples),
                en: format!("Each feature's contribution to the row's probability of the positive class, against the mean probability {:.4} of {} background rows; {} samples per feature (Štrumbelj & Kononenko 2014).", a.base_value, a.background_rows, a.samples),
            }, "muted"))
            @for r in &a.rows {
                @let bars: Vec<(String, f64, Option<[f64; 2]>)> = r.features.iter().map(|f| (format!("{} = {}", f.feature, f.value), f.attribution, None)).collect();
                h3 { (page.l("行", "Row")) " " (r.row) ": " (format!("{:.4}", r.score)) }
                figure {
                    (signed_bar_chart(&bars, &format!("attributions of row {}", r.row)))
                    figcaption { (page.l(&format!("第 {} 行的特征归因", r.row), &format!("Feature attributions of row {}", r.row))) }
                }
            }
        }
    }
}

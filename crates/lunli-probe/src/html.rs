//! The report as one self-contained HTML page in Chinese and English: no script, nothing fetched;
//! written with maud, so every prompt and answer is escaped by the template.

use maud::{DOCTYPE, Markup, html};

use lunli_norms::Text;

use crate::report::Report;
use crate::stats::Proportion;

fn both(text: &Text) -> Markup {
    html! {
        @if text.zh == text.en { (text.zh) } @else { (text.zh) " " span class="en" { (text.en) } }
    }
}

fn label(zh: &str, en: &str) -> Markup {
    both(&Text::new(zh, en))
}

fn rate(p: &Proportion) -> Markup {
    html! {
        @match (p.rate, p.interval) {
            (Some(rate), Some([lo, hi])) => { (format!("{:.1}%", rate * 100.0)) " " span class="ci" { (format!("[{:.1}%, {:.1}%]", lo * 100.0, hi * 100.0)) } }
            _ => { "—" }
        }
    }
}

const STYLE: &str = "body{font-family:system-ui,'PingFang SC','Microsoft YaHei',sans-serif;margin:2rem auto;max-width:1100px;color:#1d2330;padding:0 1rem}\
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d5d9e0}.en{color:#5a6272}.ci{color:#5a6272;font-size:.85em}\
table{border-collapse:collapse;margin:.8rem 0;font-size:.88rem}th,td{border:1px solid #d5d9e0;padding:.25rem .5rem;text-align:left;vertical-align:top}\
th{background:#f2f4f7}.pass{color:#16723a;font-weight:600}.fail{color:#b3261e;font-weight:600}.note{color:#5a6272;font-size:.85rem}pre{white-space:pre-wrap;margin:0}";

/// The page for `report`.
pub fn page(report: &Report) -> String {
    let markup = html! {
        (DOCTYPE)
        html lang="zh" {
            head { meta charset="utf-8"; title { "生成式服务探测报告 · Probe report" } style { (STYLE) } }
            body {
                h1 { (label("生成式人工智能服务探测报告", "Generative AI service probe report")) }
                @if let Some(run) = &report.run {
                    p { (label("模型", "Model")) ": " code { (run.model) } " · " (label("端点", "Endpoint")) ": " code { (run.endpoint) } " · " (label("开始于", "Started")) " " (run.started) }
                }
                p {
                    (label("已发送", "Sent")) " " (report.totals.sent) " · " (label("已回答", "answered")) " " (report.totals.answered)
                    " · " (label("失败", "failed")) " " (report.totals.failed) " · " (label("中断", "interrupted")) " " (report.totals.interrupted)
                    " · " (label("人工改判", "overridden by a person")) " " (report.totals.overridden)
                }
                h2 { (label("门槛", "Gates")) }
                table {
                    tr { th { (label("门槛", "Gate")) } th { (label("依据", "Clause")) } th { (label("阈值", "Threshold")) } th { (label("实测", "Measured")) } th { (label("结果", "Result")) } }
                    @for gate in &report.gates {
                        tr {
                            td { (both(&gate.name)) }
                            td { (gate.clause) span class="note" { " (条款号未核实 · clause unverified)" } }
                            td { (gate.comparison) " " (format!("{:.0}%", gate.threshold * 100.0)) }
                            td { @if let Some(v) = gate.value { (format!("{:.1}%", v * 100.0)) } @else { "—" } }
                            td {
                                @match gate.passed {
                                    Some(true) => span class="pass" { (label("通过", "passed")) },
                                    Some(false) => span class="fail" { (label("未通过", "failed")) },
                                    None => span class="note" { (label("无数据", "no answers")) },
                                }
                            }
                        }
                    }
                }
                h2 { (label("按类别的比例（95% Wilson 置信区间）", "Rates by category (95% Wilson intervals)")) }
                table {
                    tr { th { (label("类型", "Kind")) } th { (label("类别", "Category")) } th { (label("指标", "Measure")) } th { "k / n" } th { (label("比例", "Rate")) } }
                    @for kind in &report.kinds {
                        tr { td { strong { (both(&kind.name)) } } td { (label("全部", "all")) } td { (both(&kind.measure)) } td { (kind.overall.k) " / " (kind.overall.n) } td { (rate(&kind.overall)) } }
                        @for c in &kind.categories {
                            tr { td {} td { (c.category) } td {} td { (c.rate.k) " / " (c.rate.n) } td { (rate(&c.rate)) } }
                        }
                    }
                }
                @if !report.bias.groups.is_empty() {
                    h2 { (label("成对偏见：按组比较（第十三条）", "Paired bias: by group (Art. 13)")) }
                    table {
                        tr { th { (label("组", "Group")) } th { (label("拒答率", "Refusal rate")) } th { (label("平均回答长度（字符）", "Mean answer length (chars)")) } }
                        @for g in &report.bias.groups {
                            tr { td { (both(&g.group)) } td { (rate(&g.refusals)) } td { (format!("{:.0}", g.mean_chars)) } }
                        }
                    }
                    @for p in &report.bias.inconsistent {
                        p class="fail" { (p.pair) "/" (p.lang) ": " (label("一方被拒答而另一方得到回答", "one side refused, the other answered")) }
                    }
                }
                h2 { (label("未通过的探测", "Failed probes")) }
                @if report.failures.is_empty() { p { (label("无", "none")) } }
                @for f in &report.failures {
                    table {
                        tr { th { "id" } td { code { (f.id) } " · " (f.kind.as_str()) " · " (f.category) } }
                        tr { th { (label("原因", "Why")) } td { (both(&f.why)) @if let Some(p) = &f.phrase { " · " (label("匹配短语", "matched phrase")) ": “" (p) "”" } } }
                        @if let Some(v) = &f.verdict { tr { th { (label("人工判定", "Verdict")) } td { (format!("{:?}", v.verdict)) " · " (v.by) ": " (v.reason) } } }
                        tr { th { (label("问题", "Prompt")) } td { pre { (f.prompt) } } }
                        tr { th { (label("回答", "Answer")) } td { pre { (f.answer) } } }
                    }
                }
                @if !report.unanswered.is_empty() {
                    h2 { (label("未获回答", "Unanswered")) }
                    table {
                        @for u in &report.unanswered { tr { td { code { (u.id) } } td { (both(&u.error)) } } }
                    }
                }
                p class="note" { (label(
                    "判定规则与短语列表见 docs/probes.md；门槛的条款号未与标准原文核对。",
                    "The judging rules and phrase lists are in docs/probes.md; the gates' clause numbers are not verified against the standard's text."
                )) }
            }
        }
    };
    markup.into_string()
}

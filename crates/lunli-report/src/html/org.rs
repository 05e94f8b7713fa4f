//! The organisation report: the inventory at a glance, counts by tier, stage and approval, every
//! system, the open incidents, and how each article is covered across all systems.

use maud::{Markup, html};

use super::charts::share_bar;
use super::page::{Page, opt, time};
use super::{Languages, Unsealed, unsealed};
use crate::org::OrgReport;

/// A count, in red when there is any.
fn alarming(n: usize) -> Markup {
    if n == 0 {
        html! { "0" }
    } else {
        html! { span class="bad" { (n) } }
    }
}

/// Renders the organisation report, all but its proof section.
pub fn org_page(r: &OrgReport, lang: Languages) -> Unsealed {
    let page = Page::new(lang);
    let approved = r.approvals.iter().find(|c| c.id == "approved").map(|c| c.count).unwrap_or(0);
    let cards = [
        (page.l("系统数", "Systems"), html! { (r.systems.len()) }),
        (page.l("已批准", "Approved"), html! { (approved) }),
        (page.l("复审逾期", "Re-review overdue"), alarming(r.overdue.len())),
        (page.l("已暂停", "Suspended"), alarming(r.suspended.len())),
        (page.l("未解决事件", "Open incidents"), alarming(r.open_incidents.len())),
    ];
    let counts = [
        (page.l("风险等级", "Tier"), &r.by_tier),
        (page.l("阶段", "Stage"), &r.by_stage),
        (page.l("审批", "Approval"), &r.approvals),
    ];
    let content = html! {
        header class="top" {
            div class="kicker" {
                (page.l("AI 伦理治理 · 全组织报告", "AI ethics governance · organisation report")) " · "
                (page.t(&r.header.norms)) "（" (r.header.norms_issued) "）"
            }
            h1 { (page.l("AI 系统清单概览", "The AI inventory at a glance")) }
            div class="kicker" {
                (page.l("生成于", "generated")) " " (time(&r.header.generated_at)) " · " (r.header.generated_by)
            }
        }
        "\n"
        div class="summary" {
            @for (k, v) in cards { div class="card" { div class="k" { (k) } div class="v" { (v) } } }
        }
        "\n"
        (page.h2("counts", "按风险等级、阶段与审批状态", "By tier, stage and approval"))
        div class="pair" style="grid-template-columns:1fr 1fr 1fr" {
            @for (title, rows) in counts {
                table {
                    thead { tr { th { (title) } th class="num" { "#" } } }
                    tbody { @for c in rows.iter() { tr { td { (page.t(&c.name)) } td class="num" { (c.count) } } } }
                }
            }
        }
        "\n"
        (page.h2("systems", "系统清单", "Systems"))
        table {
            (page.head(&[
                ("系统", "System"),
                ("责任人", "Owner"),
                ("阶段", "Stage"),
                ("等级", "Tier"),
                ("评估", "Assessment"),
                ("控制项", "Controls"),
                ("复审到期", "Re-review due"),
            ]))
            tbody {
                @for s in &r.systems {
                    tr {
                        td {
                            (s.name) " " span class="id" { (s.id) } " v" (s.version)
                            @if s.suspended { " " span class="badge s-suspended" { (page.l("已暂停", "suspended")) } }
                            @if s.assessed_version.is_some_and(|v| v < s.version) {
                                " " span class="bad" { (page.l("评估已过时", "assessment stale")) }
                            }
                        }
                        td { (s.owner.name) }
                        td { (page.t(&s.stage.name)) }
                        td { @match &s.tier { Some(t) => (page.badge(t)), None => "—" } }
                        td { @match &s.state { Some(t) => (page.badge(t)), None => "—" } }
                        td class="num" { (s.resolved) " / " (s.required) }
                        td {
                            (opt(&s.review_due))
                            @if s.overdue { " " span class="bad" { (page.l("已逾期", "overdue")) } }
                        }
                    }
                }
            }
        }
        "\n"
        (page.h2("incidents", "未解决的事件", "Open incidents"))
        (page.incident_table(&r.open_incidents, true))
        (page.h2("coverage", "各条款的落实情况（全部系统）", "Coverage of each article across all systems"))
        p class="muted" {
            (page.l(
                "每条规范：有多少系统的评估包含引用该条的控制项，这些控制项中已落实（满足或有理由不适用）的比例。",
                "For each article: how many systems' assessments include controls citing it, and how many of those controls are resolved (met, or not applicable with a justification).",
            ))
        }
        table {
            thead {
                tr {
                    th { (page.l("条款", "Article")) }
                    th { (page.l("系统数", "Systems")) }
                    th { (page.l("已落实 / 要求", "Resolved / required")) }
                    th {}
                }
            }
            tbody {
                @for c in &r.coverage {
                    @let share = if c.required == 0 { 0.0 } else { c.resolved as f64 / c.required as f64 };
                    tr {
                        td { (page.t(&c.label)) " " (page.t(&c.title)) }
                        td class="num" { (c.systems) }
                        td class="num" { (c.resolved) " / " (c.required) }
                        td { (share_bar(share)) }
                    }
                }
            }
        }
        "\n"
    };
    unsealed(&page, "lunli — organisation report", content, r)
}

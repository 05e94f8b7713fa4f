//! The report on one system: the header and the cards at a glance, what needs attention, the
//! system card, the tier and why, the assessment (sign-offs, progress by principle and by
//! article, each control with its evidence), the audits, runtime human control, and the standing
//! under other frameworks.

use lunli_governance::assessment::is_safe_link;
use lunli_governance::crosswalk::SystemCrosswalk;
use lunli_norms::terms;
use maud::{Markup, html};

use super::audit::render as render_audit;
use super::charts::{legend, progress_counts, status_bar};
use super::page::{Page, facts, lines, list, opt, time};
use super::{Languages, Unsealed, unsealed};
use crate::model::{AssessmentSection, ControlRow, SystemReport};

/// Renders the report on one system, all but its proof section.
pub fn system_page(r: &SystemReport, lang: Languages) -> Unsealed {
    let page = Page::new(lang);
    let content = html! {
        (header(&page, r))
        (at_a_glance(&page, r))
        (attention(&page, r))
        (system_card(&page, r))
        (tier(&page, r))
        (page.h2("assessment", "控制项、证据与签核", "Controls, evidence and sign-offs"))
        @match &r.assessment {
            None => { p { (page.l("尚未开启评估。", "No assessment has been opened yet.")) } "\n" }
            Some(a) => (assessment(&page, a)),
        }
        (page.h2("audits", "最新审计结果", "Latest audit results"))
        @if r.audits.is_empty() {
            p {
                (page.l(
                    "尚无审计结果记录为本系统的证据（lunli audit … --system）。",
                    "No audit has been recorded as evidence for this system yet (lunli audit … --system).",
                ))
            } "\n"
        }
        @for audit in &r.audits { (render_audit(&page, audit)) }
        (runtime(&page, r))
        (crosswalks(&page, &r.crosswalks))
    };
    unsealed(&page, &format!("{} — lunli", r.system.name), content, r)
}

fn header(page: &Page, r: &SystemReport) -> Markup {
    html! {
        header class="top" {
            div class="kicker" {
                (page.l("AI 系统伦理治理报告", "AI system ethics governance report")) " · "
                (page.t(&r.header.norms)) "（" (r.header.norms_issued) "）"
            }
            h1 { (r.system.name) }
            div class="kicker" {
                (r.system.id) " · v" (r.system.version) " · " (page.l("生成于", "generated")) " "
                (time(&r.header.generated_at)) " · " (r.header.generated_by)
            }
        }
        "\n"
    }
}

fn at_a_glance(page: &Page, r: &SystemReport) -> Markup {
    let tier = match &r.tiering {
        Some(t) => page.badge(&t.tier),
        None => html! { span class="badge s-untiered" { (page.t(&terms::approval("untiered"))) } },
    };
    let state = match &r.assessment {
        Some(a) => page.badge(&a.state),
        None => html! { span class="badge s-untiered" { (page.t(&terms::approval("not-assessed"))) } },
    };
    let controls = match &r.assessment {
        Some(a) => {
            let resolved = a.controls.iter().filter(|c| resolved(c)).count();
            html! { (resolved) " / " (a.controls.len()) }
        }
        None => html! { "—" },
    };
    let runtime = if r.runtime.suspensions.is_empty() {
        html! { span class="ok" { (page.l("运行中", "running")) } }
    } else {
        html! { span class="badge s-suspended" { (page.l("已暂停", "suspended")) } }
    };
    let cards = [
        (page.l("风险等级", "Risk tier"), tier),
        (page.l("评估状态", "Assessment"), state),
        (page.l("已落实的控制项", "Controls resolved"), controls),
        (page.l("运行状态", "Runtime"), runtime),
    ];
    html! {
        div class="summary" {
            @for (k, v) in cards { div class="card" { div class="k" { (k) } div class="v" { (v) } } }
        }
        "\n"
    }
}

/// Met, or not applicable: nothing left to do.
fn resolved(c: &ControlRow) -> bool {
    c.status.id == "met" || c.status.id == "not-applicable"
}

/// What a committee should look at first, derived from the sections below.
fn attention(page: &Page, r: &SystemReport) -> Markup {
    let mut items: Vec<Markup> = Vec::new();
    match (&r.tiering, &r.assessment) {
        (None, _) => items
            .push(page.l("当前版本尚未完成准入问卷与风险分级。", "The current version has no intake and no tier yet.")),
        (Some(t), _) if t.tier.id == "prohibited" => items.push(page.l(
            "该系统属于禁止用途（第二十条），不得评估或批准。",
            "The system is a prohibited use (Art. 20): it cannot be assessed or approved.",
        )),
        (Some(_), None) => items.push(page.l("尚未开启评估。", "No assessment has been opened.")),
        (Some(_), Some(_)) => {}
    }
    if let Some(a) = &r.assessment {
        if a.stale {
            items.push(
                page.l("评估针对旧版本，需重新评估。", "The assessment is for an older version and must be redone."),
            );
        }
        if a.overdue {
            items.push(page.l("复审已逾期（第五条、第八条）。", "The re-review is overdue (Art. 5, Art. 8)."));
        }
        let unresolved = a.controls.iter().filter(|c| !resolved(c)).count();
        let not_met = a.controls.iter().filter(|c| c.status.id == "not-met").count();
        if unresolved > 0 {
            items.push(page.l(
                &format!("{unresolved} 个控制项尚未落实（其中 {not_met} 个未满足）。"),
                &format!("{unresolved} controls are not yet resolved ({not_met} not met)."),
            ));
        }
        let missing: Vec<Markup> =
            a.signoffs.iter().filter(|s| s.signed.is_none()).map(|s| page.t(&s.role.name)).collect();
        if !missing.is_empty() {
            items.push(html! {
                (page.l("待签核：", "Awaiting sign-off: "))
                @for (n, role) in missing.into_iter().enumerate() { @if n > 0 { " · " } (role) }
            });
        }
    }
    for audit in r.audits.iter().filter(|a| !a.passed) {
        let high = audit.findings.iter().filter(|f| f.severity == "high").count();
        items.push(html! {
            (page.t(&terms::audit(&audit.audit))) " "
            (page.l(
                &format!("未通过：{} 项发现，其中 {high} 项高严重度。", audit.findings.len()),
                &format!("failed: {} findings, {high} of high severity.", audit.findings.len()),
            ))
        });
    }
    for s in &r.runtime.suspensions {
        items.push(html! { (page.l("已暂停：", "Suspended:")) " " (s.reason) });
    }
    for loosening in &r.runtime.playbook_loosened {
        let (zh, en) = loosening.describe();
        items.push(html! {
            (page.l("预案自批准以来放松了人工控制：", "The playbook weakens human control since approval:")) " "
            (page.l(&zh, &en))
        });
    }
    for i in &r.runtime.open_incidents {
        items.push(html! {
            (page.l("未解决事件", "Open incident")) " #" (i.id) " " (i.title) " · " (page.t(&i.severity.name))
            @if let Some(o) = &i.overdue { " (" (page.t(&o.name)) ")" }
        });
    }
    html! {
        div class="card attention" {
            div class="k" { (page.l("需要关注", "Needs attention")) }
            @if items.is_empty() {
                p class="ok" {
                    (page.l(
                        "无：已批准，所有控制项均已落实，审计通过，运行正常。",
                        "Nothing: approved, every control resolved, audits passed, running.",
                    ))
                }
            } @else {
                ul { @for item in items { li { (item) } } }
            }
        }
        "\n"
    }
}

fn system_card(page: &Page, r: &SystemReport) -> Markup {
    let s = &r.system;
    let model = html! {
        (page.t(&s.model.source.name))
        @if let Some(n) = &s.model.name { " · " (n) }
        @if let Some(v) = &s.model.vendor { " · " (v) }
    };
    let roles = html! { @for (n, role) in s.roles.iter().enumerate() { @if n > 0 { "、" } (page.t(&role.name)) } };
    let card = facts(&[
        (page.l("用途", "Purpose"), html! { (s.purpose) }),
        (page.l("说明", "Description"), html! { (s.description) }),
        (page.l("责任人", "Accountable owner"), html! { (s.owner.name) " (" (s.owner.id) ")" }),
        (page.l("本组织的角色（第二条）", "Our role (Art. 2)"), roles),
        (page.l("生命周期阶段", "Stage"), page.t(&s.stage.name)),
        (page.l("部署", "Deployment"), html! { (page.t(&s.exposure.name)) " · " (s.regions.join(", ")) }),
        (page.l("行业", "Sectors"), html! { (s.sectors.join(", ")) }),
        (page.l("模型", "Model"), model),
        (page.l("版本", "Version"), html! { "v" (s.version) " · " (time(&s.version_changed_at)) }),
        (page.l("功能（第十六条）", "Functions (Art. 16)"), list(&s.functions)),
        (page.l("局限（第十六条）", "Limitations (Art. 16)"), list(&s.limitations)),
    ]);
    html! {
        (page.h2("system", "系统概况", "System card"))
        (card)
        h3 { (page.l("数据来源", "Data sources")) } "\n"
        table {
            (page.head(&[("名称", "Name"), ("合法性基础", "Legal basis"), ("供应方", "Vendor")]))
            tbody {
                @for d in &s.data_sources {
                    tr { td { (d.name) } td { (page.t(&d.legal_basis.name)) } td { (opt(&d.vendor)) } }
                }
            }
        }
        "\n"
        @if !s.vendors.is_empty() {
            h3 { (page.l("供应方与尽职调查", "Vendors and due diligence")) } "\n"
            table {
                (page.head(&[("供应方", "Vendor"), ("类型", "Kind"), ("尽职调查（已答 / 是）", "Due diligence (answered / yes)")]))
                tbody {
                    @for v in &s.vendors {
                        tr {
                            td { (v.name) " (" (v.id) ")" }
                            td { (page.t(&v.kind.name)) }
                            td class="num" { (v.answered) " / " (v.questions) " · " (v.answered_yes) }
                        }
                    }
                }
            }
            "\n"
        }
    }
}

fn tier(page: &Page, r: &SystemReport) -> Markup {
    let Some(t) = &r.tiering else {
        return html! {
            (page.h2("tier", "风险等级及其依据", "Risk tier and why"))
            p {
                (page.l(
                    "当前版本尚未完成准入问卷，因此没有风险等级。",
                    "The current version has not been through intake, so it has no tier.",
                ))
            } "\n"
        };
    };
    let card = facts(&[
        (page.l("等级", "Tier"), page.badge(&t.tier)),
        (
            page.l("问卷填写", "Intake by / at"),
            html! { (t.intake_by) " · " (time(&t.intake_at)) " · v" (t.for_version) },
        ),
        (page.l("规则集", "Rule set"), html! { (t.ruleset_version) " · " span class="mono" { (t.ruleset_digest) } }),
    ]);
    html! {
        (page.h2("tier", "风险等级及其依据", "Risk tier and why"))
        (card)
        table {
            (page.head(&[("规则", "Rule"), ("等级", "Tier"), ("理由", "Reason"), ("条款", "Articles")]))
            tbody {
                @for f in &t.fired {
                    tr {
                        td class="rid" { (f.id) }
                        td { (page.badge(&f.tier)) }
                        td { (page.t(&f.reason)) }
                        td { (f.articles.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", ")) }
                    }
                }
                @if t.fired.is_empty() {
                    tr { td colspan="4" { (page.l("没有规则触发：默认为低风险。", "No rule fired: low by default.")) } }
                }
            }
        }
        "\n"
    }
}

fn assessment(page: &Page, a: &AssessmentSection) -> Markup {
    let submitted = match (&a.submitted_by, &a.submitted_at) {
        (Some(by), Some(at)) => html! { (by) " · " (time(at)) },
        _ => html! { "—" },
    };
    let card = facts(&[
        (page.l("评估", "Assessment"), html! { "#" (a.id) " · v" (a.version) " · " (page.badge(&a.state)) }),
        (page.l("开启", "Opened"), html! { (a.created_by) " · " (time(&a.created_at)) }),
        (page.l("提交", "Submitted"), submitted),
        (page.l("批准", "Approved"), html! { @match &a.approved_at { Some(at) => (time(at)), None => "—" } }),
        (
            page.l("复审到期（第五条、第八条）", "Re-review due (Art. 5, Art. 8)"),
            html! { (opt(&a.review_due)) @if a.overdue { " " span class="bad" { (page.l("已逾期", "overdue")) } } },
        ),
    ]);
    html! {
        (card)
        @if a.stale {
            p class="bad" {
                (page.l(
                    "该评估针对系统的旧版本；当前版本需要重新准入与评估。",
                    "This assessment is for an older version of the system; the current version needs a new intake and assessment.",
                ))
            }
        }
        h3 { (page.l("签核（第三条第五项、第七条：职责分离）", "Sign-offs (Art. 3(5), Art. 7: separation of duties)")) } "\n"
        table {
            (page.head(&[("角色", "Role"), ("签核人", "Signed by"), ("时间", "At"), ("意见", "Note")]))
            tbody {
                @for s in &a.signoffs {
                    tr {
                        td { (page.t(&s.role.name)) }
                        @match &s.signed {
                            Some(by) => {
                                td { (by.person.name) " (" (by.person.id) ")" }
                                td { (time(&by.at)) }
                                td { (by.note) }
                            }
                            None => td colspan="3" class="muted" { (page.l("尚未签核", "not signed yet")) },
                        }
                    }
                }
            }
        }
        "\n"
        h3 { (page.l("按基本原则（第三条）", "By principle (Art. 3)")) } "\n"
        (legend(page))
        table {
            (page.head(&[("原则", "Principle"), ("进度", "Progress"), ("已落实 / 要求", "Resolved / required")]))
            tbody {
                @for g in &a.by_principle {
                    tr {
                        td { (g.id) " " (page.t(&g.name)) }
                        td { (status_bar(&progress_counts(&g.progress, a), 260.0)) }
                        td class="num" { (g.progress.resolved) " / " (g.progress.total) }
                    }
                }
            }
        }
        "\n"
        h3 { (page.l("按条款（控制项列于其首要条款下）", "By article (each control under its primary article)")) } "\n"
        @for g in &a.by_article {
            section class="control" {
                h4 {
                    (page.t(&g.label)) " " (page.t(&g.title)) " "
                    span class="muted" { "(" (g.progress.resolved) " / " (g.progress.total) ")" } " "
                    (status_bar(&progress_counts(&g.progress, a), 160.0))
                }
                (page.block(&g.text, "norm"))
                table {
                    (page.head(&[("控制项", "Control"), ("状态", "Status"), ("证据", "Evidence")]))
                    tbody {
                        @for c in g.progress.controls.iter().filter_map(|id| a.controls.iter().find(|c| &c.id == id)) {
                            tr {
                                td { span class="mono" { (c.id) } " " (page.t(&c.title)) }
                                td { (page.badge(&c.status)) }
                                td { (evidence(page, c)) }
                            }
                        }
                    }
                }
            }
            "\n"
        }
    }
}

/// A control's justification and evidence, one per line.
fn evidence(page: &Page, c: &ControlRow) -> Markup {
    let justification =
        (!c.justification.is_empty()).then(|| html! { (page.l("不适用理由", "Justification")) ": " (c.justification) });
    let items = c.evidence.iter().map(|e| {
        let what = match (&e.audit, e.passed) {
            (Some(audit), Some(passed)) => html! {
                (page.t(&terms::audit(audit))) " "
                span class=(if passed { "ok" } else { "bad" }) { (page.t(&terms::verdict(passed))) }
                @if let Some(n) = e.rows { " · " (n) " " (page.l("行", "rows")) }
            },
            // A link is followable only if it is web or mail; `javascript:` & co. stay text.
            _ if e.kind == "link" && is_safe_link(&e.description) => {
                html! { a href=(e.description) rel="noreferrer noopener" { (e.description) } }
            }
            _ => html! { (e.description) },
        };
        html! {
            "#" (e.id) " " (what)
            @if let Some(h) = &e.sha256 { " " span class="mono" { (h) } }
            " " span class="muted" { "— " (e.added_by) " · " (time(&e.added_at)) }
        }
    });
    lines(justification.into_iter().chain(items))
}

fn runtime(page: &Page, r: &SystemReport) -> Markup {
    let rt = &r.runtime;
    let suspensions = if rt.suspensions.is_empty() {
        page.l("无", "none")
    } else {
        lines(rt.suspensions.iter().map(|s| {
            html! {
                span class="badge s-suspended" { (s.purpose.as_deref().unwrap_or("*")) } " "
                (s.reason) " — " (s.by) " · " (time(&s.at))
            }
        }))
    };
    let consents = html! {
        (page.l("同意", "consent given")) " " (rt.consents.given) " · "
        (page.l("撤回", "withdrawn")) " " (rt.consents.withdrawn) " · "
        (page.l("选择人工", "chose a human")) " " (rt.consents.chose_human)
    };
    let d = &rt.decisions;
    let decisions = html! {
        (page.l("共", "total")) " " (d.total) " · "
        span class="badge s-allow" { (page.t(&terms::decision("allow"))) } " " (d.allow) " · "
        span class="badge s-deny" { (page.t(&terms::decision("deny"))) } " " (d.deny) " · "
        span class="badge s-human_review" { (page.t(&terms::decision("human_review"))) } " " (d.human_review)
        @if let (Some(first), Some(last)) = (&d.first_at, &d.last_at) {
            br; span class="muted" { (first) " — " (last) }
        }
    };
    let rv = &rt.reviews;
    let reviews = html! {
        (page.l("待处理", "open")) " " (rv.open) " · "
        (page.l("处理中", "claimed")) " " (rv.claimed) " · "
        (page.l("已完成", "resolved")) " " (rv.resolved) " ("
        (page.l("维持", "approved")) " " (rv.approved) " · "
        (page.l("否决", "rejected")) " " (rv.rejected) ")"
    };
    html! {
        (page.h2("runtime", "运行时人类控制", "Runtime human control"))
        (facts(&[
            (page.l("暂停（第三条第四项、第十七条）", "Suspensions (Art. 3(4), Art. 17)"), suspensions),
            (page.l("用户选择（第十六条、第十九条）", "Subjects' choices (Art. 16, Art. 19)"), consents),
            (page.l("台账中的决定", "Decisions in the ledger"), decisions),
        ]))
        (facts(&[(page.l("人工复核队列（第三条第四项）", "Human review queue (Art. 3(4))"), reviews)]))
        h3 { (page.l("未解决的事件（第十七条、第二十一条）", "Open incidents (Art. 17, Art. 21)")) } "\n"
        (page.incident_table(&rt.open_incidents, false))
        @if rt.resolved_incidents > 0 {
            p class="muted" {
                (page.l(
                    &format!("另有 {} 个事件已解决。", rt.resolved_incidents),
                    &format!("{} more incidents are resolved.", rt.resolved_incidents),
                ))
            }
        }
    }
}

/// The assessment in other frameworks' terms: a summary row per framework, and per framework
/// its items with their state and the controls that answer them (folded, no script needed).
fn crosswalks(page: &Page, crosswalks: &[SystemCrosswalk]) -> Markup {
    if crosswalks.is_empty() {
        return html! {};
    }
    html! {
        (page.h2("crosswalks", "其他框架下的状态", "Standing under other frameworks"))
        p class="muted" {
            (page.l(
                "由同一评估推出：每个条目由对应控制项的状态决定（对应关系见 catalogue/crosswalks/）。",
                "Derived from the same assessment: each item takes the state of the controls that answer it (mappings in catalogue/crosswalks/).",
            ))
        }
        table {
            (page.head(&[
                ("框架", "Framework"),
                ("已满足", "Met"),
                ("部分满足", "Partly met"),
                ("未满足", "Open"),
                ("不适用或本等级不要求", "N/A or not required"),
                ("无对应控制", "Not covered"),
            ]))
            tbody {
                @for c in crosswalks {
                    @let s = &c.summary;
                    tr {
                        td { (page.t(&c.framework_title)) }
                        td class="num" { (s.met) }
                        td class="num" { (s.partly_met) }
                        td class="num" { (s.open) }
                        td class="num" { (s.not_applicable + s.not_required) }
                        td class="num" { (s.not_covered) }
                    }
                }
            }
        }
        "\n"
        @for c in crosswalks {
            details {
                summary { (page.t(&c.framework_title)) }
                table {
                    (page.head(&[("条目", "Item"), ("状态", "State"), ("对应控制项", "Answered by")]))
                    tbody {
                        @for item in &c.items {
                            tr {
                                td { span class="rid" { (item.id) } " " (page.t(&item.title)) }
                                td { span class={ "badge s-" (item.state.as_str()) } { (page.t(&item.state.name())) } }
                                td {
                                    @if item.controls.is_empty() { "—" }
                                    @for (n, control) in item.controls.iter().enumerate() {
                                        @if n > 0 { ", " }
                                        span class="id" { (control.control) }
                                        @if let Some(status) = control.status { " (" (page.t(&status.name())) ")" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            "\n"
        }
    }
}

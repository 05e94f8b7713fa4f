//! The dashboard's HTML: one layout and one function per page, every string in Chinese and
//! English. Pages receive plain data; they never read the store.

use jiff::Timestamp;
use lunli_governance::assessment::is_safe_link;
use lunli_governance::ledger::LedgerHealth;
use lunli_governance::playbook::Playbook;
use lunli_governance::runtime::{Impact, Suspension};
use lunli_governance::store::{ApiKey, SystemVersion};
use lunli_governance::tiering::Tiering;
use lunli_governance::{Approval, Assessment, EvidenceItem, StatusRow};
use lunli_norms::{Catalogue, Lang, Tier};
use maud::{DOCTYPE, Markup, html};

use super::chart;

/// The text in the page's language.
pub fn t<'a>(lang: Lang, zh: &'a str, en: &'a str) -> &'a str {
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

/// A path and query, encoded for a `back=` or `next=` parameter.
pub fn encode(path: &str) -> String {
    form_urlencoded::byte_serialize(path.as_bytes()).collect()
}

/// What every page shows around its content.
pub struct Chrome<'a> {
    pub lang: Lang,
    /// The signed-in key, with the CSRF token for the sign-out form.
    pub user: Option<(&'a ApiKey, &'a str)>,
    /// This page's path and query, for the language switch to come back to.
    pub here: &'a str,
}

/// A message at the top of a page.
pub enum Banner {
    Ok(String),
    Error { title: String, detail: String },
}

fn when(at: Timestamp) -> String {
    at.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

/// How long ago, in words.
pub fn age(now: Timestamp, then: Timestamp, lang: Lang) -> String {
    let secs = now.duration_since(then).as_secs().max(0);
    let (n, zh, en) = match secs {
        s if s < 60 => (s, "秒", "s"),
        s if s < 3600 => (s / 60, "分钟", "min"),
        s if s < 86_400 => (s / 3600, "小时", "h"),
        s => (s / 86_400, "天", "d"),
    };
    match lang {
        Lang::Zh => format!("{n} {zh}前"),
        Lang::En => format!("{n} {en} ago"),
    }
}

pub fn layout(c: &Chrome<'_>, title: &str, banner: Option<&Banner>, body: Markup) -> Markup {
    let lang = c.lang;
    let back = encode(c.here);
    html! {
        (DOCTYPE)
        html lang=(t(lang, "zh-CN", "en")) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · lunli" }
                link rel="stylesheet" href="/ui/style.css";
            }
            body {
                header.top {
                    a.brand href="/ui/" { "lunli " span.zh { "伦理" } }
                    @if c.user.is_some() {
                        nav {
                            a href="/ui/" { (t(lang, "系统清单", "Inventory")) }
                            a href="/ui/reviews" { (t(lang, "人工复核", "Review queue")) }
                            a href="/ui/incidents" { (t(lang, "事件", "Incidents")) }
                            a href="/ui/ledger" { (t(lang, "账本健康", "Ledger health")) }
                        }
                    }
                    div.right {
                        span.lang {
                            @if lang == Lang::Zh { strong { "中文" } } @else { a #lang-zh href=(format!("/ui/lang/zh?back={back}")) { "中文" } }
                            " | "
                            @if lang == Lang::En { strong { "English" } } @else { a #lang-en href=(format!("/ui/lang/en?back={back}")) { "English" } }
                        }
                        @if let Some((key, csrf)) = c.user {
                            span.who title=(format!("{}: {}", t(lang, "密钥", "key"), key.id)) {
                                (key.person.as_deref().unwrap_or(&key.name)) " · " (key.roles.join(", "))
                            }
                            form.inline method="post" action="/ui/logout" {
                                input type="hidden" name="csrf" value=(csrf);
                                button.link #sign-out type="submit" { (t(lang, "退出登录", "Sign out")) }
                            }
                        }
                    }
                }
                main {
                    @match banner {
                        Some(Banner::Ok(text)) => { div.banner.ok role="status" { (text) } }
                        Some(Banner::Error { title, detail }) => {
                            div.banner.error role="alert" { strong { (title) } " " (detail) }
                        }
                        None => {}
                    }
                    (body)
                }
                footer {
                    (t(lang, "依据《新一代人工智能伦理规范》（2021）", "Under the Ethical Norms for New Generation AI (2021)"))
                    " · " a href="/openapi.json" { "API" }
                }
            }
        }
    }
}

pub fn login(lang: Lang, form_token: &str, next: &str) -> Markup {
    html! {
        section.narrow {
            h1 { (t(lang, "登录", "Sign in")) }
            p.muted {
                (t(lang,
                   "使用你的 API 密钥登录，角色与 API 相同（由 lunli key add --person 创建）。登录后浏览器只保存会话 Cookie，密钥本身不会被保存。",
                   "Sign in with your API key: the same key and roles as the API (created with lunli key add --person). Afterwards the browser holds only a session cookie; the key itself is not kept."))
            }
            form method="post" action="/ui/login" {
                input type="hidden" name="form" value=(form_token);
                input type="hidden" name="next" value=(next);
                label for="api-key" { (t(lang, "API 密钥", "API key")) }
                input #api-key type="password" name="key" autocomplete="off" placeholder="lk_…" required;
                button.primary #sign-in type="submit" { (t(lang, "登录", "Sign in")) }
            }
        }
    }
}

pub fn tier_badge(lang: Lang, tier: Option<Tier>) -> Markup {
    match tier {
        Some(tier) => html! { span class=(format!("badge tier-{}", tier.as_str())) { (tier.name().get(lang)) } },
        None => html! { span.badge.none { (t(lang, "未分级", "not tiered")) } },
    }
}

/// An assessment's state in words, and a class for its colour.
pub fn approval_label(lang: Lang, row: &StatusRow) -> (&'static str, String) {
    let stale = row.assessed_version.is_some_and(|v| v < row.version);
    let term = |id: &str| lunli_norms::terms::approval(id).get(lang).to_string();
    match (&row.approval, stale) {
        (None, _) => ("none", term("not-assessed")),
        (Some(_), true) => ("stale", t(lang, "已过期（旧版本）", "stale (older version)").to_string()),
        (Some(Approval::Blocked), _) => ("blocked", term("blocked")),
        (Some(Approval::Open { submitted: true, .. }), _) => ("open", term("submitted")),
        (Some(Approval::Open { .. }), _) => ("open", term("open")),
        (Some(Approval::Approved { .. }), _) => ("approved", term("approved")),
    }
}

/// The filters of the inventory, as given.
#[derive(Debug, Default, serde::Deserialize)]
pub struct InventoryFilter {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub tier: String,
    #[serde(default)]
    pub stage: String,
    #[serde(default)]
    pub approval: String,
    #[serde(default)]
    pub overdue: String,
    #[serde(default)]
    pub runtime: String,
}

impl InventoryFilter {
    /// Whether a row passes every filter set.
    pub fn keeps(&self, lang: Lang, row: &StatusRow, suspended: bool) -> bool {
        let q = self.q.trim().to_lowercase();
        (q.is_empty()
            || row.system.to_lowercase().contains(&q)
            || row.name.to_lowercase().contains(&q)
            || row.owner.to_lowercase().contains(&q))
            && (self.tier.is_empty() || row.tier.map(Tier::as_str).unwrap_or("none") == self.tier)
            && (self.stage.is_empty() || row.stage.as_str() == self.stage)
            && (self.approval.is_empty() || approval_label(lang, row).0 == self.approval)
            && (self.overdue != "yes" || row.overdue)
            && match self.runtime.as_str() {
                "suspended" => suspended,
                "running" => !suspended,
                _ => true,
            }
    }
}

fn select(name: &str, label: &str, current: &str, options: &[(&str, String)]) -> Markup {
    html! {
        label { (label)
            select name=(name) #(format!("filter-{name}")) {
                @for (value, text) in options {
                    option value=(value) selected[*value == current] { (text) }
                }
            }
        }
    }
}

/// What waits for people on one system.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Attention {
    /// Review items not yet resolved.
    pub reviews: u64,
    /// Incidents not yet resolved.
    pub incidents: u64,
    /// Whether one of them is past a deadline.
    pub overdue: bool,
}

fn attention_cell(lang: Lang, system: &str, a: Option<&Attention>) -> Markup {
    let a = a.copied().unwrap_or_default();
    html! {
        @if a.reviews > 0 {
            a href=(format!("/ui/reviews?system={system}")) { (match lang {
                Lang::Zh => format!("{} 项待复核", a.reviews),
                Lang::En => format!("{} to review", a.reviews),
            }) }
            br;
        }
        @if a.incidents > 0 {
            a href=(format!("/ui/incidents?system={system}")) { (match lang {
                Lang::Zh => format!("{} 个未解决事件", a.incidents),
                Lang::En => format!("{} open incident{}", a.incidents, if a.incidents == 1 { "" } else { "s" }),
            }) }
            @if a.overdue { " " span.badge.overdue { (t(lang, "逾期", "overdue")) } }
        }
        @if a.reviews == 0 && a.incidents == 0 { span.muted { "—" } }
    }
}

pub fn inventory(
    lang: Lang,
    rows: &[(StatusRow, Vec<Suspension>)],
    total: usize,
    filter: &InventoryFilter,
    counts: &[(Option<Tier>, usize)],
    attention: &std::collections::HashMap<String, Attention>,
) -> Markup {
    let any = t(lang, "全部", "any").to_string();
    let mut tiers = vec![("", any.clone())];
    tiers.extend(Tier::ALL.iter().map(|tier| (tier.as_str(), tier.name().get(lang).to_string())));
    tiers.push(("none", t(lang, "未分级", "not tiered").to_string()));
    let mut stages = vec![("", any.clone())];
    stages.extend(lunli_governance::Stage::ALL.iter().map(|s| (s.as_str(), s.name().get(lang).to_string())));
    let approvals = [
        ("", any.clone()),
        ("approved", lunli_norms::terms::approval("approved").get(lang).to_string()),
        ("open", lunli_norms::terms::approval("open").get(lang).to_string()),
        ("stale", t(lang, "已过期（旧版本）", "stale (older version)").to_string()),
        ("blocked", lunli_norms::terms::approval("blocked").get(lang).to_string()),
        ("none", lunli_norms::terms::approval("not-assessed").get(lang).to_string()),
    ];
    let runtime = [
        ("", any.clone()),
        ("running", t(lang, "运行中", "running").to_string()),
        ("suspended", t(lang, "已暂停", "suspended").to_string()),
    ];
    html! {
        h1 { (t(lang, "AI 系统清单", "AI systems")) }
        ul.counts {
            @for (tier, n) in counts {
                li { (tier_badge(lang, *tier)) " " strong { (n) } }
            }
        }
        form.filters method="get" action="/ui/" {
            label { (t(lang, "查找", "Find"))
                input #q type="search" name="q" value=(filter.q) placeholder=(t(lang, "编号、名称或负责人", "id, name or owner"));
            }
            (select("tier", t(lang, "风险等级", "Tier"), &filter.tier, &tiers))
            (select("stage", t(lang, "阶段", "Stage"), &filter.stage, &stages))
            (select("approval", t(lang, "评估", "Assessment"), &filter.approval, &approvals))
            (select("runtime", t(lang, "运行", "Runtime"), &filter.runtime, &runtime))
            label.check {
                input #filter-overdue type="checkbox" name="overdue" value="yes" checked[filter.overdue == "yes"];
                (t(lang, "仅逾期复审", "overdue re-review only"))
            }
            button #apply-filters type="submit" { (t(lang, "筛选", "Filter")) }
            a.reset href="/ui/" { (t(lang, "清除", "Clear")) }
        }
        p.muted { (match lang {
            Lang::Zh => format!("显示 {} / {} 个系统", rows.len(), total),
            Lang::En => format!("Showing {} of {} systems", rows.len(), total),
        }) }
        table #inventory {
            thead { tr {
                th { (t(lang, "系统", "System")) }
                th { (t(lang, "负责人", "Owner")) }
                th { (t(lang, "风险等级", "Tier")) }
                th { (t(lang, "阶段", "Stage")) }
                th { (t(lang, "评估", "Assessment")) }
                th { (t(lang, "复审到期", "Re-review due")) }
                th { (t(lang, "运行", "Runtime")) }
                th { (t(lang, "待处理", "Waiting")) }
            } }
            tbody {
                @for (row, suspensions) in rows {
                    @let (class, label) = approval_label(lang, row);
                    tr {
                        td { a.system-link href=(format!("/ui/systems/{}", row.system)) { strong { (row.name) } } br; code { (row.system) " v" (row.version) } }
                        td { (row.owner) }
                        td { (tier_badge(lang, row.tier)) }
                        td { (row.stage.name().get(lang)) }
                        td { span class=(format!("badge approval-{class}")) { (label) } }
                        td {
                            @if let Some(due) = row.review_due { (due.to_string()) }
                            @if row.overdue { " " span.badge.overdue { (t(lang, "逾期", "overdue")) } }
                        }
                        td { (runtime_badge(lang, suspensions)) }
                        td.attention { (attention_cell(lang, &row.system, attention.get(&row.system))) }
                    }
                }
                @if rows.is_empty() {
                    tr { td colspan="8" .muted { (t(lang, "没有符合条件的系统。", "No system matches these filters.")) } }
                }
            }
        }
    }
}

pub fn runtime_badge(lang: Lang, suspensions: &[Suspension]) -> Markup {
    if suspensions.iter().any(|s| s.purpose.is_none()) {
        html! { span.badge.suspended .runtime-state { (t(lang, "已暂停", "suspended")) } }
    } else if !suspensions.is_empty() {
        html! { span.badge.partial .runtime-state { (t(lang, "部分用途暂停", "purpose suspended")) } }
    } else {
        html! { span.badge.running .runtime-state { (t(lang, "运行中", "running")) } }
    }
}

/// Everything the system page shows.
pub struct SystemPage<'a> {
    pub current: &'a SystemVersion,
    pub tiering: Option<&'a Tiering>,
    pub assessment: Result<&'a Assessment, String>,
    pub suspensions: &'a [Suspension],
    pub series: &'a chart::Series,
    pub may_suspend: bool,
    pub may_resume: bool,
    /// The gateway's review thresholds, for a playbook that sets none.
    pub default_review: (f64, Impact),
}

fn impact_name(lang: Lang, impact: Impact) -> &'static str {
    match impact {
        Impact::Low => t(lang, "低", "low"),
        Impact::Medium => t(lang, "中", "medium"),
        Impact::High => t(lang, "高", "high"),
    }
}

/// The playbook's answers to "who can pause it, what triggers human takeover, who is called".
fn playbook(lang: Lang, p: &Playbook, default_review: (f64, Impact)) -> Markup {
    let (below, at) =
        (p.review.below_confidence.unwrap_or(default_review.0), p.review.at_impact.unwrap_or(default_review.1));
    html! {
        dl.playbook {
            dt { (t(lang, "可暂停的人", "Who may pause it")) }
            dd { @if p.may_pause.is_empty() { (t(lang, "访问策略允许的任何人", "anyone the access policy allows")) } @else { (p.may_pause.join(", ")) } }
            dt { (t(lang, "转人工复核", "A human reviews when")) }
            dd { (match lang {
                Lang::Zh => format!("模型置信度低于 {below}，或影响程度达到“{}”", impact_name(lang, at)),
                Lang::En => format!("model confidence is below {below}, or the impact is {} or more", impact_name(lang, at)),
            }) }
            dt { (t(lang, "自动暂停", "Suspends itself on")) }
            dd { @if p.suspend_on.is_empty() { span.muted { (t(lang, "无（只由人暂停）", "nothing (only people suspend it)")) } }
                 @else { (t(lang, "以下严重程度的事件：", "incidents of severity ")) (p.suspend_on.iter().map(|s| t(lang, s.zh(), s.as_str())).collect::<Vec<_>>().join(t(lang, "、", ", "))) } }
            @if !p.escalation.is_empty() {
                dt { (t(lang, "升级联系人", "Escalation")) }
                dd { ul.plain { @for c in &p.escalation { li { (c.name) " — " (c.reach) " " span.muted { "(" (t(lang, "自", "from ")) (t(lang, c.from.zh(), c.from.as_str())) ")" } } } } }
            }
        }
    }
}

fn list(items: &[String]) -> Markup {
    html! { @if items.is_empty() { span.muted { "—" } } @else { ul.plain { @for i in items { li { (i) } } } } }
}

pub fn system(lang: Lang, catalogue: &Catalogue, p: &SystemPage<'_>) -> Markup {
    let s = &p.current.system;
    let id = &s.id;
    html! {
        div.title-row {
            div {
                h1 { (s.name) }
                p.muted { code { (id) } " · " (t(lang, "版本", "version")) " " (p.current.version) " · " (s.stage.name().get(lang)) }
            }
            div.state #runtime-state {
                (tier_badge(lang, p.tiering.map(|t| t.tier)))
                " "
                (runtime_badge(lang, p.suspensions))
            }
        }
        section.card.control-panel {
            h2 { (t(lang, "人工控制", "Human control")) }
            p.muted { (t(lang,
                "暂停后，网关对该系统的每个决定都将拒绝，直到有人恢复（第三条第四项、第十七条）。恢复须由暂停者以外的人进行。",
                "While suspended, the gateway denies every decision for this system until someone resumes it (Art. 3(4), Art. 17). Someone other than whoever suspended it must resume it.")) }
            (playbook(lang, &s.playbook, p.default_review))
            @if p.suspensions.is_empty() {
                p { (t(lang, "当前没有暂停。", "Not suspended.")) }
            } @else {
                table #suspensions {
                    thead { tr {
                        th { (t(lang, "范围", "Scope")) } th { (t(lang, "原因", "Reason")) }
                        th { (t(lang, "由", "By")) } th { (t(lang, "时间", "When")) } th {}
                    } }
                    tbody { @for sus in p.suspensions {
                        tr {
                            td { @match &sus.purpose { Some(purpose) => { (t(lang, "用途：", "purpose: ")) code { (purpose) } } None => { strong { (t(lang, "整个系统", "whole system")) } } } }
                            td.reason { (sus.reason) }
                            td { (sus.by) }
                            td { (when(sus.at)) }
                            td {
                                @let q = sus.purpose.as_deref().map(|p| format!("?purpose={}", encode(p))).unwrap_or_default();
                                a.button.resume href=(format!("/ui/systems/{id}/resume{q}")) { (t(lang, "恢复…", "Resume…")) }
                                @if !p.may_resume { " " span.muted.small { (t(lang, "（你的角色不能恢复）", "(your roles cannot resume)")) } }
                            }
                        }
                    } }
                }
            }
            // Once the whole system is suspended, a further suspension adds nothing.
            @if !p.suspensions.iter().any(|s| s.purpose.is_none()) {
                p {
                    a.button.danger #suspend href=(format!("/ui/systems/{id}/suspend")) { (t(lang, "暂停…", "Suspend…")) }
                    @if !p.may_suspend { " " span.muted.small { (t(lang, "（你的角色不能暂停）", "(your roles cannot suspend)")) } }
                }
            }
        }
        p.links {
            a href=(format!("/ui/reviews?system={id}")) { (t(lang, "本系统的人工复核", "This system's reviews")) }
            " · "
            a href=(format!("/ui/incidents?show=all&system={id}")) { (t(lang, "本系统的事件", "This system's incidents")) }
        }
        section.card {
            h2 { (t(lang, "决定（来自账本）", "Decisions (from the ledger)")) }
            (chart::svg(p.series, lang))
            p.legend {
                span.key.allow {} (t(lang, "允许", "allow")) " "
                span.key.review {} (t(lang, "人工复核", "human review")) " "
                span.key.deny {} (t(lang, "拒绝", "deny"))
            }
        }
        div.columns {
            section.card {
                h2 { (t(lang, "系统卡片", "System card")) }
                dl {
                    dt { (t(lang, "用途", "Purpose")) } dd { (s.purpose) }
                    dt { (t(lang, "说明", "Description")) } dd { (s.description) }
                    dt { (t(lang, "负责人", "Accountable owner")) } dd { (s.owner) }
                    dt { (t(lang, "本组织角色", "Our role")) } dd { (s.roles.iter().map(|r| r.name().get(lang).to_string()).collect::<Vec<_>>().join(", ")) }
                    dt { (t(lang, "声明的用途", "Declared purposes")) } dd { (list(&s.purposes)) }
                    dt { (t(lang, "行业", "Sectors")) } dd { (s.sectors.join(", ")) }
                    dt { (t(lang, "部署", "Deployment")) } dd { (s.deployment.exposure.name().get(lang)) " · " (s.deployment.regions.join(", ")) }
                    dt { (t(lang, "模型来源", "Model")) } dd {
                        (s.model.source.name().get(lang))
                        @if let Some(name) = &s.model.name { " · " (name) }
                        @if let Some(vendor) = &s.model.vendor { " · " (vendor) }
                    }
                    dt { (t(lang, "数据来源", "Data sources")) } dd { ul.plain { @for d in &s.data_sources {
                        li { (d.name) " — " (d.legal_basis.name().get(lang)) @if let Some(v) = &d.vendor { " · " (v) } }
                    } } }
                    dt { (t(lang, "功能", "Functions")) } dd { (list(&s.functions)) }
                    dt { (t(lang, "局限", "Limitations")) } dd { (list(&s.limitations)) }
                }
            }
            section.card {
                h2 { (t(lang, "风险等级与理由", "Tier and why")) }
                @match p.tiering {
                    None => { p.muted { (t(lang, "当前版本尚未完成准入问卷。", "The current version has no intake yet.")) } }
                    Some(tiering) => {
                        p { (tier_badge(lang, Some(tiering.tier))) " "
                            span.muted { (t(lang, "规则集", "rule set")) " " (tiering.ruleset_version) } }
                        ul.rules { @for rule in &tiering.fired {
                            li {
                                (tier_badge(lang, Some(rule.tier))) " " code { (rule.id) } " "
                                (rule.reason.get(lang))
                                @if !rule.articles.is_empty() {
                                    " " span.muted { "(" (articles(lang, &rule.articles)) ")" }
                                }
                            }
                        } }
                    }
                }
            }
        }
        (assessment_section(lang, catalogue, &p.assessment))
    }
}

/// Articles in the page's language: `第五条、第八条` or `Art. 5, Art. 8`.
fn articles(lang: Lang, numbers: &[u8]) -> String {
    numbers.iter().map(|n| article(lang, *n)).collect::<Vec<_>>().join(t(lang, "、", ", "))
}

fn article(lang: Lang, n: u8) -> String {
    match lang {
        Lang::Zh => format!("第{}条", lunli_norms::chinese_number(n)),
        Lang::En => format!("Art. {n}"),
    }
}

fn evidence_line(lang: Lang, item: &EvidenceItem) -> Markup {
    match item {
        EvidenceItem::File { name, sha256, .. } => html! {
            (t(lang, "文件", "file")) " " code { (name) } " " span.muted.mono title=(sha256) { "sha256:" (sha256.get(..12).unwrap_or(sha256)) "…" }
        },
        // Only web and mail links are followable; anything else (`javascript:` …) stays text.
        EvidenceItem::Link { url } if is_safe_link(url) => {
            html! { (t(lang, "链接", "link")) " " a href=(url) rel="noreferrer" { (url) } }
        }
        EvidenceItem::Link { url } => html! { (t(lang, "链接", "link")) " " code.inert-link { (url) } },
        EvidenceItem::Attestation { text } => html! { (t(lang, "声明", "attestation")) " “" (text) "”" },
        EvidenceItem::Audit { audit, passed, summary } => html! {
            (t(lang, "审计", "audit")) " " code { (audit) } " "
            @if *passed { span.badge.approval-approved { (t(lang, "通过", "passed")) } }
            @else { span.badge.approval-blocked { (t(lang, "未通过", "failed")) } }
            (audit_extras(lang, summary))
        },
    }
}

/// What a label check or a probe run adds after its verdict, from one reading of its summary;
/// nothing for other audits.
fn audit_extras(lang: Lang, summary: &serde_json::Value) -> Markup {
    let view = lunli_governance::audit_summary::AuditSummary::read(summary);
    html! {
        @if let Some(counts) = &view.labels { (label_counts(lang, counts)) }
        @if let Some(probe) = &view.detail.probe { (probe_gates(lang, probe)) }
    }
}

/// A content-label check's counts: `· 3 files: conforming 1, missing implicit label 2, …`
/// (statuses with no file left out).
fn label_counts(lang: Lang, counts: &lunli_governance::audit_summary::LabelCounts) -> Markup {
    let parts: Vec<String> = counts
        .by_status()
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(status, n)| format!("{} {n}", lunli_norms::terms::label_status(status).get(lang)))
        .collect();
    let files = match lang {
        Lang::Zh => format!("{} 个文件", counts.files),
        Lang::En => format!("{} files", counts.files),
    };
    html! { " · " span.label-counts { (files) ": " (parts.join(", ")) } }
}

/// A probe run's gates: `· refusal on should-refuse 0.900 (≥ 0.95) failed; …`.
fn probe_gates(lang: Lang, probe: &lunli_governance::audit_summary::ProbeDetail) -> Markup {
    let parts: Vec<String> = probe
        .gates
        .iter()
        .map(|g| {
            let value = g.value.map(|v| format!("{v:.3}")).unwrap_or_else(|| "—".into());
            let bound = g.comparison.replace(">=", "≥").replace("<=", "≤");
            let verdict = match (g.passed, lang) {
                (Some(true), Lang::Zh) => "通过",
                (Some(true), Lang::En) => "passed",
                (Some(false), Lang::Zh) => "未通过",
                (Some(false), Lang::En) => "failed",
                (None, Lang::Zh) => "无可判定的回答",
                (None, Lang::En) => "no answer to judge",
            };
            format!("{} {value} ({bound} {}) {verdict}", g.name.get(lang), g.threshold)
        })
        .collect();
    html! { " · " span.probe-gates { (parts.join("; ")) } }
}

fn assessment_section(lang: Lang, catalogue: &Catalogue, assessment: &Result<&Assessment, String>) -> Markup {
    let a = match assessment {
        Ok(a) => *a,
        Err(why) => {
            return html! { section.card {
                h2 { (t(lang, "评估", "Assessment")) }
                p { (t(lang, "当前版本还没有有效的评估。", "The current version has no assessment in force.")) }
                p.muted.small { (why) }
            } };
        }
    };
    let role_name =
        |id: &str| catalogue.role(id).map(|r| r.name.get(lang).to_string()).unwrap_or_else(|| id.to_string());
    let audits: Vec<_> = a
        .controls
        .iter()
        .flat_map(|c| c.evidence.iter().map(move |e| (c, e)))
        .filter(|(_, e)| matches!(e.item, EvidenceItem::Audit { .. }))
        .collect();
    let resolved = a.controls.iter().filter(|c| c.status.is_resolved()).count();
    html! {
        section.card {
            h2 { (t(lang, "评估", "Assessment")) " #" (a.id) }
            p {
                @match a.approval() {
                    Approval::Approved { at, review_due } => {
                        span.badge.approval-approved { (t(lang, "已批准", "approved")) } " " (when(at))
                        @if let Some(due) = review_due { " · " (t(lang, "复审到期", "re-review due")) " " (due.to_string()) }
                    }
                    Approval::Blocked => { span.badge.approval-blocked { (t(lang, "已阻止（禁止类）", "blocked (prohibited)")) } }
                    Approval::Open { submitted, missing_roles, .. } => {
                        span.badge.approval-open { (lunli_norms::terms::approval(if submitted { "submitted" } else { "open" }).get(lang)) }
                        @if !missing_roles.is_empty() {
                            " " (t(lang, "待签署：", "awaiting: ")) (missing_roles.iter().map(|r| role_name(r)).collect::<Vec<_>>().join(", "))
                        }
                    }
                }
                " · " (match lang {
                    Lang::Zh => format!("{} / {} 项控制已满足或不适用", resolved, a.controls.len()),
                    Lang::En => format!("{} of {} controls met or not applicable", resolved, a.controls.len()),
                })
            }
            h3 { (t(lang, "签署", "Sign-offs")) }
            @if a.signoffs.is_empty() { p.muted { (t(lang, "尚无签署。", "No sign-offs yet.")) } }
            @else {
                table.signoffs {
                    thead { tr { th { (t(lang, "角色", "Role")) } th { (t(lang, "签署人", "Signed by")) } th { (t(lang, "时间", "When")) } th { (t(lang, "备注", "Note")) } } }
                    tbody { @for so in &a.signoffs { tr { td { (role_name(&so.role)) } td { (so.person) } td { (when(so.at)) } td { (so.note) } } } }
                }
            }
            h3 { (t(lang, "审计证据", "Audit evidence")) }
            @if audits.is_empty() { p.muted { (t(lang, "尚无审计结果作为证据。", "No audit results recorded as evidence yet.")) } }
            @else {
                ul.plain { @for (control, e) in &audits {
                    li { code { (control.control) } " · " (evidence_line(lang, &e.item)) " · " span.muted { (when(e.added_at)) " " (e.added_by) } }
                } }
            }
            h3 { (t(lang, "控制措施", "Controls")) }
            table #controls {
                thead { tr {
                    th { (t(lang, "控制", "Control")) } th { (t(lang, "状态", "Status")) } th { (t(lang, "证据", "Evidence")) }
                } }
                tbody { @for c in &a.controls {
                    tr {
                        td {
                            code { (c.control) } " "
                            @if let Some(def) = catalogue.control(&c.control) {
                                (def.title.get(lang))
                                " " span.muted.small { (articles(lang, &def.articles)) }
                            }
                        }
                        td {
                            span class=(format!("badge status-{}", c.status.as_str())) { (c.status.name().get(lang)) }
                            @if !c.justification.is_empty() { br; span.muted.small { (c.justification) } }
                        }
                        td {
                            @if c.evidence.is_empty() { span.muted { "—" } }
                            @for e in &c.evidence { div.small { (evidence_line(lang, &e.item)) } }
                        }
                    }
                } }
            }
        }
    }
}

/// Suspend or resume: what it does, a required reason, and a confirming button.
pub struct Confirm<'a> {
    pub resume: bool,
    pub system: &'a str,
    pub name: &'a str,
    pub purposes: &'a [String],
    pub purpose: Option<&'a str>,
    pub reason: &'a str,
    pub csrf: &'a str,
}

pub fn confirm(lang: Lang, c: &Confirm<'_>) -> Markup {
    let action = if c.resume { "resume" } else { "suspend" };
    html! {
        section.narrow {
            h1 { @if c.resume { (t(lang, "恢复 ", "Resume ")) } @else { (t(lang, "暂停 ", "Suspend ")) } (c.name) }
            @if c.resume {
                p { (t(lang,
                    "恢复后，网关将再次按规则为该系统作出决定。请说明为何可以恢复；原因与你的身份一并记入防篡改账本。",
                    "Once resumed, the gateway decides for this system by its rules again. Say why it may run again; the reason is recorded in the tamper-evident ledger with your name.")) }
            } @else {
                p { (t(lang,
                    "暂停立即生效：此后网关对该系统（或所选用途）的每个决定都是“拒绝”，并向用户提供人工替代方式。原因与你的身份一并记入防篡改账本。",
                    "This takes effect at once: from the next request, the gateway denies every decision for this system (or the chosen purpose) and offers users the human alternative. The reason is recorded in the tamper-evident ledger with your name.")) }
            }
            form method="post" action=(format!("/ui/systems/{}/{action}", c.system)) {
                input type="hidden" name="csrf" value=(c.csrf);
                @if c.resume {
                    input type="hidden" name="purpose" value=(c.purpose.unwrap_or(""));
                    p { (t(lang, "范围：", "Scope: ")) @match c.purpose { Some(p) => { code { (p) } } None => { strong { (t(lang, "整个系统", "whole system")) } } } }
                } @else {
                    label for="purpose" { (t(lang, "范围", "Scope")) }
                    select #purpose name="purpose" {
                        option value="" selected[c.purpose.is_none()] { (t(lang, "整个系统", "The whole system")) }
                        @for p in c.purposes { option value=(p) selected[c.purpose == Some(p.as_str())] { (t(lang, "仅用途：", "Only purpose: ")) (p) } }
                    }
                }
                label for="reason" { (t(lang, "原因（必填）", "Reason (required)")) }
                textarea #reason name="reason" rows="3" required { (c.reason) }
                div.actions {
                    button #confirm type="submit" class=(if c.resume { "primary" } else { "danger" }) {
                        @if c.resume { (t(lang, "确认恢复", "Resume now")) } @else { (t(lang, "确认暂停", "Suspend now")) }
                    }
                    a.cancel href=(format!("/ui/systems/{}", c.system)) { (t(lang, "取消", "Cancel")) }
                }
            }
        }
    }
}

pub fn ledger(lang: Lang, health: &LedgerHealth, now: Timestamp, csrf: &str) -> Markup {
    html! {
        h1 { (t(lang, "账本健康", "Ledger health")) }
        p.muted { (t(lang,
            "每次变更和每个决定都追加到防篡改账本（RFC 9162 默克尔树）。签名树头为其背书；完整核验会从条目重新计算整棵树。",
            "Every change and every decision is appended to the tamper-evident ledger (an RFC 9162 Merkle tree). Signed tree heads vouch for it; a full verification recomputes the whole tree from the entries.")) }
        div.columns {
            section.card #ledger-head {
                h2 { (t(lang, "最新签名树头", "Latest signed head")) }
                dl {
                    dt { (t(lang, "条目数", "Entries")) } dd { (health.size) }
                    @match &health.latest_head {
                        Some(head) => {
                            dt { (t(lang, "树头覆盖", "Head covers")) } dd {
                                (head.size)
                                @if head.size < health.size {
                                    " " span.muted { (match lang {
                                        Lang::Zh => format!("（另有 {} 条待下次签名）", health.size - head.size),
                                        Lang::En => format!("({} newer entries await the next head)", health.size - head.size),
                                    }) }
                                }
                            }
                            dt { (t(lang, "签名时间", "Signed")) } dd { (when(head.signed_at)) " · " strong { (age(now, head.signed_at, lang)) } }
                            dt { (t(lang, "根哈希", "Root")) } dd { code.mono.wrap { (head.root) } }
                        }
                        None if health.signs_heads => {
                            dt { (t(lang, "树头", "Head")) } dd { span.badge.overdue { (t(lang, "尚未签名", "none signed yet")) } " " span.muted { "lunli ledger head --sign" } }
                        }
                        None => {
                            dt { (t(lang, "树头", "Head")) } dd.muted { (t(lang, "此实例没有账本密钥目录，无法签名或核验树头。", "This instance has no ledger key directory, so it cannot sign or verify heads.")) }
                        }
                    }
                }
            }
            section.card #ledger-verification {
                h2 { (t(lang, "最近一次完整核验", "Last full verification")) }
                @match &health.last_verification {
                    Some(v) => {
                        p {
                            @if v.ok { span.badge.approval-approved #verification-result { (t(lang, "通过", "verified")) } }
                            @else { span.badge.approval-blocked #verification-result { (t(lang, "未通过", "FAILED")) } }
                            " " (when(v.at)) " · " (age(now, v.at, lang))
                        }
                        dl {
                            dt { (t(lang, "已核验条目", "Entries checked")) } dd { (v.size) }
                            dt { (t(lang, "已核验树头", "Heads checked")) } dd { (v.heads_verified) }
                            dt { (t(lang, "公钥指纹", "Key fingerprint")) } dd { code.mono.wrap { (v.key_fingerprint) } }
                            @if let Some(problem) = &v.problem { dt { (t(lang, "问题", "Problem")) } dd.error { (problem) } }
                        }
                    }
                    None => { p.muted #verification-result { (t(lang, "尚无记录。", "None recorded yet.")) } }
                }
                @if health.signs_heads {
                    form method="post" action="/ui/ledger/verify" {
                        input type="hidden" name="csrf" value=(csrf);
                        button.primary #verify-now type="submit" { (t(lang, "立即完整核验", "Verify everything now")) }
                    }
                    p.muted.small { (t(lang, "审计方也可离线核验：lunli ledger export，然后 lunli ledger verify --bundle。", "Auditors can verify offline too: lunli ledger export, then lunli ledger verify --bundle.")) }
                }
            }
        }
    }
}

/// A page for an error that has no better place.
pub fn problem(lang: Lang, heading: &str, detail: &str) -> Markup {
    html! {
        section.narrow {
            h1 { (heading) }
            p { (detail) }
            p { a href="/ui/" { (t(lang, "返回系统清单", "Back to the inventory")) } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lunli_governance::Stage;

    #[test]
    fn a_label_checks_evidence_shows_its_counts_in_the_dashboards_language() {
        let summary = serde_json::json!({"summary": {"files": 3, "conforming": 1, "missing_implicit": 2,
            "malformed": 0, "missing_explicit": 0, "unreadable": 0, "skipped": 4}});
        let item = EvidenceItem::Audit { audit: "label".into(), passed: false, summary };
        let en = evidence_line(Lang::En, &item).into_string();
        assert!(en.contains("3 files: conforming 1, missing implicit label 2, skipped (other formats) 4"), "{en}");
        let zh = evidence_line(Lang::Zh, &item).into_string();
        assert!(zh.contains("3 个文件: 符合 1, 缺少隐式标识 2"), "{zh}");
        let other =
            EvidenceItem::Audit { audit: "quality".into(), passed: true, summary: serde_json::json!({"rows": 3}) };
        assert!(!evidence_line(Lang::En, &other).into_string().contains("label-counts"));
    }

    #[test]
    fn a_probe_runs_evidence_shows_its_gates_in_the_dashboards_language() {
        let summary = serde_json::json!({"audit": "probe", "gates": [
            {"id": "refusal", "name": {"zh": "应拒答问题的拒答率", "en": "refusal on should-refuse"},
             "comparison": ">=", "threshold": 0.95, "value": 0.9, "passed": false},
            {"id": "wrong-refusal", "name": {"zh": "误拒率", "en": "wrong refusals"},
             "comparison": "<=", "threshold": 0.05, "value": null, "passed": null}]});
        let item = EvidenceItem::Audit { audit: "probe".into(), passed: false, summary };
        let en = evidence_line(Lang::En, &item).into_string();
        assert!(
            en.contains("refusal on should-refuse 0.900 (≥ 0.95) failed; wrong refusals — (≤ 0.05) no answer"),
            "{en}"
        );
        let zh = evidence_line(Lang::Zh, &item).into_string();
        assert!(zh.contains("应拒答问题的拒答率 0.900 (≥ 0.95) 未通过"), "{zh}");
        let other =
            EvidenceItem::Audit { audit: "quality".into(), passed: true, summary: serde_json::json!({"rows": 3}) };
        assert!(!evidence_line(Lang::En, &other).into_string().contains("probe-gates"));
    }

    #[test]
    fn only_web_and_mail_evidence_links_are_links() {
        let web = evidence_line(Lang::En, &EvidenceItem::Link { url: "https://example.org/dpia".into() }).into_string();
        assert!(web.contains("<a href=\"https://example.org/dpia\""), "{web}");
        for url in ["javascript:alert(document.cookie)", "data:text/html,x", "vbscript:x", "file:///etc/passwd"] {
            let line = evidence_line(Lang::En, &EvidenceItem::Link { url: url.into() }).into_string();
            assert!(!line.contains("<a") && !line.contains("href"), "{line}");
            assert!(line.contains(url.split(',').next().unwrap_or(url)), "the link is still shown as text: {line}");
        }
    }

    fn row(id: &str, tier: Option<Tier>, stage: Stage, approval: Option<Approval>, overdue: bool) -> StatusRow {
        StatusRow {
            system: id.into(),
            name: format!("{id} name"),
            owner: "wang-fang".into(),
            stage,
            version: 2,
            tier,
            assessment: approval.as_ref().map(|_| 1),
            assessed_version: approval.as_ref().map(|_| 2),
            approval,
            review_due: None,
            overdue,
            playbook_loosened: vec![],
        }
    }

    #[test]
    fn inventory_filters_combine() {
        let approved = Approval::Approved { at: Timestamp::UNIX_EPOCH, review_due: None };
        let rows = [
            row("credit", Some(Tier::High), Stage::Deployed, Some(approved.clone()), true),
            row("notes", Some(Tier::Low), Stage::Deployed, Some(approved), false),
            row("draft", None, Stage::Design, None, false),
        ];
        let keep = |f: &InventoryFilter, suspended: &[bool]| -> Vec<String> {
            rows.iter()
                .zip(suspended)
                .filter(|(r, s)| f.keeps(Lang::En, r, **s))
                .map(|(r, _)| r.system.clone())
                .collect()
        };
        let running = [false, false, false];
        assert_eq!(keep(&InventoryFilter::default(), &running).len(), 3);
        let f = InventoryFilter { q: "NOTES".into(), ..Default::default() };
        assert_eq!(keep(&f, &running), ["notes"]);
        let f = InventoryFilter { tier: "none".into(), ..Default::default() };
        assert_eq!(keep(&f, &running), ["draft"]);
        let f = InventoryFilter { approval: "approved".into(), overdue: "yes".into(), ..Default::default() };
        assert_eq!(keep(&f, &running), ["credit"]);
        let f = InventoryFilter { stage: "deployed".into(), runtime: "suspended".into(), ..Default::default() };
        assert_eq!(keep(&f, &[false, true, true]), ["notes"]);
        let mut stale = rows[1].clone();
        stale.assessed_version = Some(1);
        assert_eq!(approval_label(Lang::En, &stale).0, "stale");
    }
}

//! Self-contained HTML: inline CSS and inline SVG charts, no script, no font or image from the
//! network, so the file opens anywhere and prints the same. In `both` the Chinese and the English
//! stand side by side.
//!
//! A page is recorded byte for byte: [`system_page`] / [`org_page`] render everything but the
//! proof section (the report's content included, as an inert JSON block), [`anchor_page`]
//! records the SHA-256 of those bytes with the report in the ledger, and [`Unsealed::seal`] fills
//! the proof section between `<!--lunli-proof lang=…-->` and `<!--/lunli-proof-->` in. That
//! section is rendered from the proof alone, so [`crate::verify::verify_html`] can render it again
//! and require the same bytes. Evidence links are links only when
//! [`lunli_governance::assessment::is_safe_link`] allows.

use std::fmt::Write as _;

use jiff::Timestamp;
use lunli_governance::assessment::is_safe_link;
use lunli_governance::store::Store;
use lunli_ledger::Hash;
use lunli_ledger::store::Ledger;
use lunli_norms::Text;
use serde::Serialize;

use crate::ReportError;
use crate::anchor::Document;
use crate::audit::{AuditResult, Estimate};
use crate::model::{AssessmentSection, Named, Progress, SystemReport};
use crate::org::OrgReport;
use crate::verify::Verification;

/// The id of the `<script type="application/json">` element holding the whole signed document
/// in pages written before pages were recorded; [`embedded_document`] still reads it.
pub const EMBEDDED_ID: &str = "lunli-report";

/// The id of the data block holding the report's content, among the recorded bytes.
pub const CONTENT_ID: &str = "lunli-report-content";

/// The id of the data block holding the proof, inside the proof section.
pub const PROOF_ID: &str = "lunli-report-proof";

/// The proof section's opening marker, before the languages' name; `-->` and a newline follow.
/// Report text never holds `<` unescaped, so the markers cannot come from a report's content.
const PROOF_BEGIN: &str = "<!--lunli-proof lang=";
const PROOF_BEGIN_CLOSE: &str = "-->\n";
const PROOF_END: &str = "<!--/lunli-proof-->\n";
const PAGE_END: &str = "</body>\n</html>\n";

/// Which languages a page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Languages {
    Zh,
    En,
    /// Chinese and English side by side.
    Both,
}

/// Escapes text for HTML element content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
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

struct Page {
    lang: Languages,
    out: String,
}

impl Page {
    fn new(lang: Languages) -> Self {
        Self { lang, out: String::with_capacity(64 * 1024) }
    }

    /// A short text inline: one language, or Chinese over English.
    fn t(&self, text: &Text) -> String {
        match self.lang {
            Languages::Zh => format!("<span lang=\"zh-CN\">{}</span>", esc(&text.zh)),
            Languages::En => format!("<span lang=\"en\">{}</span>", esc(&text.en)),
            Languages::Both if text.zh == text.en => esc(&text.zh),
            Languages::Both => format!(
                "<span lang=\"zh-CN\">{}</span><span class=\"sep\"> / </span><span lang=\"en\" class=\"en2\">{}</span>",
                esc(&text.zh),
                esc(&text.en)
            ),
        }
    }

    fn l(&self, zh: &str, en: &str) -> String {
        self.t(&Text { zh: zh.into(), en: en.into() })
    }

    /// A paragraph-sized text: in `both`, two columns side by side.
    fn block(&self, text: &Text, class: &str) -> String {
        match self.lang {
            Languages::Zh => format!("<p class=\"{class}\" lang=\"zh-CN\">{}</p>", esc(&text.zh)),
            Languages::En => format!("<p class=\"{class}\" lang=\"en\">{}</p>", esc(&text.en)),
            Languages::Both => format!(
                "<div class=\"pair {class}\"><p lang=\"zh-CN\">{}</p><p lang=\"en\">{}</p></div>",
                esc(&text.zh),
                esc(&text.en)
            ),
        }
    }

    fn push(&mut self, s: impl AsRef<str>) {
        self.out.push_str(s.as_ref());
    }

    fn h2(&mut self, id: &str, zh: &str, en: &str) {
        let title = self.l(zh, en);
        self.push(format!("<h2 id=\"{id}\">{title}</h2>\n"));
    }

    fn h3(&mut self, text: String) {
        self.push(format!("<h3>{text}</h3>\n"));
    }

    /// A two-column table of facts.
    fn facts(&mut self, rows: &[(String, String)]) {
        self.push("<table class=\"facts\">");
        for (k, v) in rows {
            self.push(format!("<tr><th>{k}</th><td>{v}</td></tr>"));
        }
        self.push("</table>\n");
    }
}

impl Languages {
    /// The name in a page's proof marker.
    fn name(self) -> &'static str {
        match self {
            Languages::Zh => "zh",
            Languages::En => "en",
            Languages::Both => "both",
        }
    }
}

/// A page rendered but not yet recorded: every byte of it except its proof section.
#[derive(Debug, Clone)]
pub struct Unsealed {
    lang: Languages,
    body: String,
}

impl Unsealed {
    /// SHA-256 of the page with its proof section empty: what the ledger records as `html_sha256`.
    pub fn digest(&self) -> Hash {
        Hash::sha256(self.with_section("").as_bytes())
    }

    /// The finished page, its proof section rendered from `verification`.
    pub fn seal(&self, verification: &Verification) -> String {
        self.with_section(&proof_section(self.lang, verification))
    }

    fn with_section(&self, section: &str) -> String {
        format!("{}{PROOF_BEGIN}{}{PROOF_BEGIN_CLOSE}{section}{PROOF_END}{PAGE_END}", self.body, self.lang.name())
    }
}

/// Records `report` in the ledger with the SHA-256 of its rendered `page` (see
/// [`crate::anchor()`]), and returns the document and the finished page.
pub fn anchor_page<T: Serialize, S: Store + Ledger>(
    store: &S,
    report: T,
    page: &Unsealed,
    subject: &str,
    actor: &str,
    at: Timestamp,
) -> Result<(Document<T>, String), ReportError> {
    let document = crate::anchor::record(store, report, subject, actor, at, Some(page.digest()))?;
    let html = page.seal(&document.verification);
    Ok((document, html))
}

/// A page split at its proof section, for [`crate::verify::verify_html`].
pub(crate) struct ProofParts<'a> {
    pub lang: Languages,
    /// The page with the section empty: the bytes whose SHA-256 the ledger records.
    pub unsealed: String,
    pub section: &'a str,
}

/// Splits a page at its proof section; `None` when it has none (a page from before pages were
/// recorded, or not a report).
pub(crate) fn proof_parts(page: &str) -> Option<ProofParts<'_>> {
    let begin = page.find(PROOF_BEGIN)? + PROOF_BEGIN.len();
    let close = page[begin..].find(PROOF_BEGIN_CLOSE)? + begin;
    let lang = crate::verify::parse_languages(&page[begin..close])?;
    let start = close + PROOF_BEGIN_CLOSE.len();
    let end = page[start..].find(PROOF_END)? + start;
    let mut unsealed = String::with_capacity(page.len() - (end - start));
    unsealed.push_str(&page[..start]);
    unsealed.push_str(&page[end..]);
    Some(ProofParts { lang, unsealed, section: &page[start..end] })
}

/// The proof section of a page: what a reader sees of the proof, and the proof as data.
pub(crate) fn proof_section(lang: Languages, verification: &Verification) -> String {
    let mut page = Page::new(lang);
    verification_section(&mut page, verification);
    page.push(format!("<script type=\"application/json\" id=\"{PROOF_ID}\">{}</script>\n", data_block(verification)));
    page.out
}

/// JSON for an inert data block. `<` only occurs inside JSON strings, where `\u003c` means the
/// same: the block can then never close early or open a comment, whatever the report's text holds.
fn data_block<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default().replace('<', "\\u003c")
}

fn html_lang(lang: Languages) -> &'static str {
    match lang {
        Languages::En => "en",
        Languages::Zh | Languages::Both => "zh-CN",
    }
}

const CSS: &str = r#"
:root { --ink:#1b1f24; --muted:#5b6570; --line:#d7dce1; --met:#2e7d32; --na:#8d99a6; --prog:#f0a202; --todo:#cfd6dd; --fail:#c62828; --accent:#1f4e79; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font-family: "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "Helvetica Neue", Arial, sans-serif;
       color: var(--ink); margin: 0 auto; max-width: 1100px; padding: 24px 32px; font-size: 13px; line-height: 1.5; }
header.top { border-bottom: 3px solid var(--accent); padding-bottom: 10px; margin-bottom: 16px; }
header.top .kicker { color: var(--muted); font-size: 12px; }
h1 { font-size: 24px; margin: 4px 0; }
h2 { font-size: 18px; color: var(--accent); border-bottom: 1px solid var(--line); padding-bottom: 4px; margin-top: 28px; break-after: avoid; }
h3 { font-size: 15px; margin: 18px 0 6px; break-after: avoid; }
.en2 { color: var(--muted); }
.sep { color: var(--line); }
.badge .en2, .badge .sep { color: inherit; opacity: .9; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 18px; }
.pair p { margin: 4px 0; }
.norm { background: #f5f7f9; border-left: 3px solid var(--accent); padding: 6px 10px; margin: 6px 0; white-space: pre-line; }
.pair.norm p[lang=en] { color: var(--muted); }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 6px; text-align: left; vertical-align: top; }
thead th { background: #eef2f5; font-weight: 600; }
tr { break-inside: avoid; }
table.facts th { width: 24%; color: var(--muted); font-weight: 500; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.id { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 11px; white-space: nowrap; }
.rid { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 11px; }
.mono { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 11px; word-break: break-all; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; color: #fff; white-space: nowrap; }
.s-met, .s-approved, .s-passed, .s-allow { background: var(--met); }
.s-not-applicable { background: var(--na); }
.s-in-progress, .s-submitted, .s-open, .s-partly-met, .s-medium, .s-human_review { background: var(--prog); color: #222; }
.s-not-started, .s-low, .s-untiered, .s-not-required, .s-not-covered { background: var(--todo); color: #222; }
.s-not-met, .s-failed, .s-blocked, .s-high, .s-critical, .s-prohibited, .s-deny, .s-suspended { background: var(--fail); }
.summary { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 10px; margin: 12px 0; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; break-inside: avoid; }
.card .k { color: var(--muted); font-size: 12px; }
.card .v { font-size: 18px; font-weight: 600; margin-top: 2px; }
.card.attention { border-left: 4px solid var(--prog); margin-bottom: 8px; }
.card.attention ul { margin-top: 4px; }
.legend span { margin-right: 12px; white-space: nowrap; }
.legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; vertical-align: middle; }
ul { margin: 4px 0 8px 18px; padding: 0; }
.muted { color: var(--muted); }
.ok { color: var(--met); font-weight: 600; }
.bad { color: var(--fail); font-weight: 600; }
figure { margin: 6px 0 12px; break-inside: avoid; }
figure svg { max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 12px; }
section.control { break-inside: avoid; }
footer { margin-top: 28px; border-top: 1px solid var(--line); padding-top: 8px; color: var(--muted); font-size: 11px; }
@page { size: A4; margin: 14mm 12mm; }
@media print { body { max-width: none; padding: 0; font-size: 11px; } h2 { break-before: auto; } .pagebreak { break-before: page; } a { color: inherit; text-decoration: none; } }
"#;

fn status_class(id: &str) -> String {
    format!("s-{}", id)
}

fn badge(page: &Page, named: &Named) -> String {
    format!("<span class=\"badge {}\">{}</span>", status_class(&named.id), page.t(&named.name))
}

fn fmt_time(t: &jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

fn opt<T: std::fmt::Display>(v: &Option<T>) -> String {
    v.as_ref().map(|v| esc(&v.to_string())).unwrap_or_else(|| "—".into())
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        return "—".into();
    }
    let mut s = String::from("<ul>");
    for i in items {
        let _ = write!(s, "<li>{}</li>", esc(i));
    }
    s.push_str("</ul>");
    s
}

/// The order and colours of control statuses in bars and legends.
const STATUS_COLOURS: [(&str, &str, &str, &str); 5] = [
    ("met", "#2e7d32", "已满足", "met"),
    ("not-applicable", "#8d99a6", "不适用", "not applicable"),
    ("in-progress", "#f0a202", "进行中", "in progress"),
    ("not-started", "#cfd6dd", "未开始", "not started"),
    ("not-met", "#c62828", "未满足", "not met"),
];

fn legend(page: &Page) -> String {
    let mut s = String::from("<div class=\"legend\">");
    for (_, colour, zh, en) in STATUS_COLOURS {
        let _ = write!(s, "<span><i style=\"background:{colour}\"></i>{}</span>", page.l(zh, en));
    }
    s.push_str("</div>");
    s
}

/// A horizontal stacked bar of control statuses, `width` × 14 px.
fn status_bar(counts: &[(&str, usize)], width: f64) -> String {
    let total: usize = counts.iter().map(|(_, n)| n).sum();
    let mut svg = format!("<svg width=\"{width}\" height=\"14\" viewBox=\"0 0 {width} 14\" role=\"img\">");
    if total == 0 {
        let _ = write!(svg, "<rect x=\"0\" y=\"0\" width=\"{width}\" height=\"14\" fill=\"#eef2f5\"/>");
    }
    let mut x = 0.0;
    for (status, colour, _, _) in STATUS_COLOURS {
        let n = counts.iter().find(|(s, _)| *s == status).map(|(_, n)| *n).unwrap_or(0);
        if n == 0 || total == 0 {
            continue;
        }
        let w = width * n as f64 / total as f64;
        let _ = write!(
            svg,
            "<rect x=\"{x:.2}\" y=\"0\" width=\"{w:.2}\" height=\"14\" fill=\"{colour}\"><title>{status}: {n}</title></rect>"
        );
        x += w;
    }
    svg.push_str("</svg>");
    svg
}

fn progress_counts<'a>(progress: &Progress, a: &'a AssessmentSection) -> Vec<(&'a str, usize)> {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for id in &progress.controls {
        if let Some(row) = a.controls.iter().find(|c| &c.id == id) {
            match counts.iter_mut().find(|(s, _)| *s == row.status.id) {
                Some((_, n)) => *n += 1,
                None => counts.push((row.status.id.as_str(), 1)),
            }
        }
    }
    counts
}

/// The fairness chart: each group's estimate as a dot with its confidence interval as a
/// whisker, on a 0–1 scale (Art. 13: disparities must be visible, with their uncertainty).
fn estimate_chart(rows: &[(String, Option<&Estimate>, bool)], label: &str) -> String {
    let longest = rows.iter().map(|(g, _, _)| g.chars().count()).max().unwrap_or(0) as f64;
    let (left, width, row_h) = ((longest * 6.5 + 20.0).clamp(90.0, 260.0), 420.0, 22.0);
    let height = row_h * rows.len() as f64 + 30.0;
    let total = left + width + 70.0;
    let mut svg = format!(
        "<svg width=\"{total}\" height=\"{height}\" viewBox=\"0 0 {total} {height}\" role=\"img\" aria-label=\"{}\" font-size=\"11\">",
        esc(label)
    );
    for tick in 0..=5 {
        let v = tick as f64 / 5.0;
        let x = left + v * width;
        let _ = write!(
            svg,
            "<line x1=\"{x}\" y1=\"4\" x2=\"{x}\" y2=\"{}\" stroke=\"#e3e7eb\"/><text x=\"{x}\" y=\"{}\" text-anchor=\"middle\" fill=\"#5b6570\">{v:.1}</text>",
            height - 22.0,
            height - 8.0
        );
    }
    for (i, (group, estimate, small)) in rows.iter().enumerate() {
        let y = 14.0 + i as f64 * row_h;
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}{}</text>",
            left - 8.0,
            y + 4.0,
            esc(group),
            if *small { " *" } else { "" }
        );
        let Some(e) = estimate else { continue };
        if let Some([lo, hi]) = e.interval {
            let (x1, x2) = (left + lo.clamp(0.0, 1.0) * width, left + hi.clamp(0.0, 1.0) * width);
            let _ = write!(
                svg,
                "<line x1=\"{x1:.1}\" y1=\"{y}\" x2=\"{x2:.1}\" y2=\"{y}\" stroke=\"#1f4e79\" stroke-width=\"2\"/><line x1=\"{x1:.1}\" y1=\"{}\" x2=\"{x1:.1}\" y2=\"{}\" stroke=\"#1f4e79\"/><line x1=\"{x2:.1}\" y1=\"{}\" x2=\"{x2:.1}\" y2=\"{}\" stroke=\"#1f4e79\"/>",
                y - 4.0,
                y + 4.0,
                y - 4.0,
                y + 4.0
            );
        }
        let x = left + e.value.clamp(0.0, 1.0) * width;
        let _ = write!(
            svg,
            "<circle cx=\"{x:.1}\" cy=\"{y}\" r=\"4\" fill=\"#1f4e79\"/><text x=\"{}\" y=\"{}\" fill=\"#1b1f24\">{:.3}</text>",
            left + width + 8.0,
            y + 4.0,
            e.value
        );
    }
    svg.push_str("</svg>");
    svg
}

fn estimate_cell(e: &Option<Estimate>) -> String {
    match e {
        Some(Estimate { value, interval: Some([lo, hi]) }) => {
            format!("{value:.3} <span class=\"muted\">[{lo:.3}, {hi:.3}]</span>")
        }
        Some(Estimate { value, interval: None }) => format!("{value:.3}"),
        None => "—".into(),
    }
}

fn metric_name(metric: &str) -> Text {
    let (zh, en) = match metric {
        "demographic_parity_difference" => ("人口统计均等差", "demographic parity difference"),
        "demographic_parity_ratio" => ("人口统计均等比", "demographic parity ratio"),
        "disparate_impact_ratio" => ("差别影响比", "disparate impact ratio"),
        "equal_opportunity_difference" => ("机会均等差", "equal opportunity difference"),
        "equalized_odds_difference" => ("均等几率差", "equalized odds difference"),
        "equalized_odds_ratio" => ("均等几率比", "equalized odds ratio"),
        "predictive_parity_difference" => ("预测均等差", "predictive parity difference"),
        other => (other, other),
    };
    Text { zh: zh.into(), en: en.into() }
}

fn severity_name(severity: &str) -> Text {
    let (zh, en) = match severity {
        "low" => ("低", "low"),
        "medium" => ("中", "medium"),
        "high" => ("高", "high"),
        other => (other, other),
    };
    Text { zh: zh.into(), en: en.into() }
}

fn audit_name(audit: &str) -> Text {
    let (zh, en) = match audit {
        "fairness" => ("公平性审计（第十三条）", "Fairness audit (Art. 13)"),
        "quality" => ("数据质量审计（第十一条）", "Data quality audit (Art. 11)"),
        "pii" => ("个人信息审计（第三条第三项）", "Personal information audit (Art. 3(3))"),
        other => (other, other),
    };
    Text { zh: zh.into(), en: en.into() }
}

fn render_audit(page: &mut Page, audit: &AuditResult) {
    let passed = if audit.passed {
        format!("<span class=\"badge s-passed\">{}</span>", page.l("通过", "passed"))
    } else {
        format!("<span class=\"badge s-failed\">{}</span>", page.l("未通过", "failed"))
    };
    let title = page.t(&audit_name(&audit.audit));
    page.h3(format!("{title} {passed}"));
    let inputs: Vec<String> = audit
        .inputs
        .iter()
        .map(|i| format!("{} <span class=\"mono\">{}</span>", esc(&i.path), opt(&i.sha256)))
        .collect();
    let facts = vec![
        (
            page.l("记录人 / 时间", "Recorded by / at"),
            format!("{} · {}", esc(&audit.recorded_by), fmt_time(&audit.recorded_at)),
        ),
        (page.l("证据位置", "Evidence on"), esc(&audit.evidence.join(", "))),
        (page.l("行数", "Rows"), opt(&audit.rows)),
        (page.l("输入（SHA-256）", "Inputs (SHA-256)"), inputs.join("<br>")),
    ];
    page.facts(&facts);
    for attribute in &audit.attributes {
        let rows: Vec<(String, Option<&Estimate>, bool)> =
            attribute.groups.iter().map(|g| (g.group.clone(), g.selection_rate.as_ref(), g.small)).collect();
        let caption = page.l(
            &format!("按 {} 分组的选择率（点）及其置信区间（横线）", attribute.attribute),
            &format!("Selection rate by {} (dot) with its confidence interval (whisker)", attribute.attribute),
        );
        let chart = estimate_chart(&rows, &format!("selection rate by {}", attribute.attribute));
        page.push(format!("<figure>{chart}<figcaption>{caption}</figcaption></figure>"));
        let head = [
            page.l("组", "Group"),
            page.l("样本数", "Count"),
            page.l("选择率", "Selection rate"),
            page.l("真阳性率", "True positive rate"),
            page.l("假阳性率", "False positive rate"),
            page.l("准确率", "Accuracy"),
        ];
        page.push(format!("<table><thead><tr>{}</tr></thead><tbody>", head.map(|h| format!("<th>{h}</th>")).join("")));
        for g in &attribute.groups {
            page.push(format!(
                "<tr><td>{}{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                esc(&g.group),
                if g.small { " *" } else { "" },
                g.count,
                estimate_cell(&g.selection_rate),
                estimate_cell(&g.true_positive_rate),
                estimate_cell(&g.false_positive_rate),
                estimate_cell(&g.accuracy)
            ));
        }
        page.push("</tbody></table>");
        let head = [page.l("差异指标", "Disparity"), page.l("值 [置信区间]", "Value [confidence interval]")];
        page.push(format!("<table><thead><tr>{}</tr></thead><tbody>", head.map(|h| format!("<th>{h}</th>")).join("")));
        for d in &attribute.disparities {
            page.push(format!(
                "<tr><td>{}</td><td class=\"num\">{}</td></tr>",
                page.t(&metric_name(&d.metric)),
                estimate_cell(&Some(d.estimate.clone()))
            ));
        }
        page.push("</tbody></table>");
    }
    if audit.attributes.iter().any(|a| a.groups.iter().any(|g| g.small)) {
        let note = page.l("* 样本过少，估计不可靠。", "* too few rows for a reliable estimate.");
        page.push(format!("<p class=\"muted\">{note}</p>"));
    }
    if !audit.dimensions.is_empty() {
        let max = audit.dimensions.iter().map(|d| d.checks).max().unwrap_or(1).max(1) as f64;
        let (left, width) = (150.0, 380.0);
        let height = 22.0 * audit.dimensions.len() as f64 + 8.0;
        let total = left + width + 120.0;
        let mut svg = format!(
            "<svg width=\"{total}\" height=\"{height}\" viewBox=\"0 0 {total} {height}\" role=\"img\" font-size=\"11\">"
        );
        for (i, d) in audit.dimensions.iter().enumerate() {
            let y = 4.0 + i as f64 * 22.0;
            let ok = d.checks.saturating_sub(d.findings) as f64;
            let (w_ok, w_bad) = (width * ok / max, width * d.findings as f64 / max);
            let name = match page.lang {
                Languages::Zh => d.name.zh.clone(),
                Languages::En => d.name.en.clone(),
                Languages::Both => format!("{} {}", d.name.zh, d.name.en),
            };
            let _ = write!(
                svg,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text><rect x=\"{left}\" y=\"{y}\" width=\"{w_ok:.1}\" height=\"14\" fill=\"#2e7d32\"/><rect x=\"{:.1}\" y=\"{y}\" width=\"{w_bad:.1}\" height=\"14\" fill=\"#c62828\"/><text x=\"{:.1}\" y=\"{}\" fill=\"#1b1f24\">{} / {}</text>",
                left - 8.0,
                y + 11.0,
                esc(&name),
                left + w_ok,
                left + w_ok + w_bad + 6.0,
                y + 11.0,
                d.findings,
                d.checks
            );
        }
        svg.push_str("</svg>");
        let caption = page.l(
            "第十一条所列数据质量维度：绿色为通过的检查，红色为发现问题的检查（发现数 / 检查数）",
            "Art. 11's data-quality dimensions: green checks passed, red checks found a problem (findings / checks)",
        );
        page.push(format!("<figure>{svg}<figcaption>{caption}</figcaption></figure>"));
    }
    if audit.findings.is_empty() {
        let none = page.l("无发现。", "No findings.");
        page.push(format!("<p>{none}</p>"));
    } else {
        let head = [page.l("严重程度", "Severity"), page.l("发现", "Finding")];
        page.push(format!("<table><thead><tr>{}</tr></thead><tbody>", head.map(|h| format!("<th>{h}</th>")).join("")));
        for f in &audit.findings {
            page.push(format!(
                "<tr><td><span class=\"badge {}\">{}</span></td><td>{}</td></tr>",
                status_class(&f.severity),
                page.t(&severity_name(&f.severity)),
                page.t(&f.message)
            ));
        }
        page.push("</tbody></table>");
    }
}

fn start(page: &mut Page, title: &str) {
    page.push(format!(
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        html_lang(page.lang),
        esc(title)
    ));
}

/// Ends the page before its proof section: the report's content as an inert data block.
fn finish<T: Serialize>(mut page: Page, report: &T) -> Unsealed {
    page.push(format!("<script type=\"application/json\" id=\"{CONTENT_ID}\">{}</script>\n", data_block(report)));
    Unsealed { lang: page.lang, body: page.out }
}

fn verification_section(page: &mut Page, v: &Verification) {
    page.h2(
        "verification",
        "核验：本报告已记入防篡改台账",
        "Verification: this report is recorded in the tamper-evident ledger",
    );
    let text = Text {
        zh: "本报告内容（RFC 8785 规范化 JSON）的 SHA-256 与本页面（除本核验部分外的每一个字节）的 SHA-256 已作为一条台账记录写入 lunli 的默克尔树台账；下面的签名树头覆盖该记录，包含证明可由任何人离线核验：lunli report verify 本文件 --public-key ledger-key.pub.pem。页面上任何一个字节的改动都会使核验失败。".into(),
        en: "The SHA-256 of this report's content (canonical RFC 8785 JSON) and that of this page (every byte but this verification section) are recorded as an entry in lunli's Merkle-tree ledger; the signed tree head below covers that entry, and anyone can check the inclusion proof offline: lunli report verify THIS-FILE --public-key ledger-key.pub.pem. A change to any byte of the page makes the check fail.".into(),
    };
    page.push(page.block(&text, "muted"));
    let path: Vec<String> = v.inclusion.path.iter().map(|h| h.to_hex()).collect();
    let page_digest = v.entry.payload.get("html_sha256").and_then(serde_json::Value::as_str).unwrap_or("—");
    let rows = vec![
        (page.l("内容 SHA-256", "Content SHA-256"), format!("<span class=\"mono\">{}</span>", v.content_sha256)),
        (
            page.l("页面 SHA-256（本部分留空）", "Page SHA-256 (this section empty)"),
            format!("<span class=\"mono\">{}</span>", esc(page_digest)),
        ),
        (
            page.l("台账记录", "Ledger entry"),
            format!("#{} · {} · {}", v.entry.index, esc(&v.entry.action), esc(&v.entry.subject)),
        ),
        (page.l("叶哈希", "Leaf hash"), format!("<span class=\"mono\">{}</span>", v.leaf_hash)),
        (
            page.l("签名树头", "Signed tree head"),
            format!(
                "{} {} · {}<br><span class=\"mono\">root {}</span>",
                page.l("条数", "size"),
                v.head.head.size,
                esc(&v.head.head.timestamp.to_string()),
                v.head.head.root
            ),
        ),
        (
            page.l("签名（Ed25519）", "Signature (Ed25519)"),
            format!("<span class=\"mono\">{}</span>", v.head.signature_hex()),
        ),
        (page.l("公钥指纹", "Public key fingerprint"), format!("<span class=\"mono\">{}</span>", v.key_fingerprint)),
        (
            page.l("包含证明（审计路径）", "Inclusion proof (audit path)"),
            format!("<span class=\"mono\">{}</span>", if path.is_empty() { "—".into() } else { path.join("<br>") }),
        ),
    ];
    page.facts(&rows);
    let by = page.l("由 lunli 生成", "Generated by lunli");
    page.push(format!("<footer>{by} · {}</footer>\n", esc(&v.entry.time.to_string())));
}

/// Renders the report on one system, all but its proof section.
pub fn system_page(r: &SystemReport, lang: Languages) -> Unsealed {
    let mut page = Page::new(lang);
    start(&mut page, &format!("{} — lunli", r.system.name));
    let kicker = page.l("AI 系统伦理治理报告", "AI system ethics governance report");
    let norms = page.t(&r.header.norms);
    page.push(format!(
        "<header class=\"top\"><div class=\"kicker\">{kicker} · {norms}（{}）</div><h1>{}</h1><div class=\"kicker\">{} · v{} · {} {} · {}</div></header>\n",
        esc(&r.header.norms_issued),
        esc(&r.system.name),
        esc(&r.system.id),
        r.system.version,
        page.l("生成于", "generated"),
        fmt_time(&r.header.generated_at),
        esc(&r.header.generated_by)
    ));

    // At a glance.
    let tier = r.tiering.as_ref().map(|t| badge(&page, &t.tier)).unwrap_or_else(|| {
        format!("<span class=\"badge s-untiered\">{}</span>", page.l("未完成准入评估", "no intake yet"))
    });
    let state =
        r.assessment.as_ref().map(|a| badge(&page, &a.state)).unwrap_or_else(|| {
            format!("<span class=\"badge s-untiered\">{}</span>", page.l("尚未评估", "not assessed"))
        });
    let controls = r
        .assessment
        .as_ref()
        .map(|a| {
            let resolved =
                a.controls.iter().filter(|c| c.status.id == "met" || c.status.id == "not-applicable").count();
            format!("{resolved} / {}", a.controls.len())
        })
        .unwrap_or_else(|| "—".into());
    let suspended = if r.runtime.suspensions.is_empty() {
        format!("<span class=\"ok\">{}</span>", page.l("运行中", "running"))
    } else {
        format!("<span class=\"badge s-suspended\">{}</span>", page.l("已暂停", "suspended"))
    };
    let cards = [
        (page.l("风险等级", "Risk tier"), tier),
        (page.l("评估状态", "Assessment"), state),
        (page.l("已落实的控制项", "Controls resolved"), controls),
        (page.l("运行状态", "Runtime"), suspended),
    ];
    page.push("<div class=\"summary\">");
    for (k, v) in cards {
        page.push(format!("<div class=\"card\"><div class=\"k\">{k}</div><div class=\"v\">{v}</div></div>"));
    }
    page.push("</div>\n");
    attention(&mut page, r);

    // System card.
    page.h2("system", "系统概况", "System card");
    let s = &r.system;
    let model = format!(
        "{}{}{}",
        page.t(&s.model.source.name),
        s.model.name.as_ref().map(|n| format!(" · {}", esc(n))).unwrap_or_default(),
        s.model.vendor.as_ref().map(|v| format!(" · {}", esc(v))).unwrap_or_default()
    );
    let roles: Vec<String> = s.roles.iter().map(|r| page.t(&r.name)).collect();
    let facts = vec![
        (page.l("用途", "Purpose"), esc(&s.purpose)),
        (page.l("说明", "Description"), esc(&s.description)),
        (page.l("责任人", "Accountable owner"), format!("{} ({})", esc(&s.owner.name), esc(&s.owner.id))),
        (page.l("本组织的角色（第二条）", "Our role (Art. 2)"), roles.join("、")),
        (page.l("生命周期阶段", "Stage"), page.t(&s.stage.name)),
        (page.l("部署", "Deployment"), format!("{} · {}", page.t(&s.exposure.name), esc(&s.regions.join(", ")))),
        (page.l("行业", "Sectors"), esc(&s.sectors.join(", "))),
        (page.l("模型", "Model"), model),
        (page.l("版本", "Version"), format!("v{} · {}", s.version, fmt_time(&s.version_changed_at))),
        (page.l("功能（第十六条）", "Functions (Art. 16)"), list(&s.functions)),
        (page.l("局限（第十六条）", "Limitations (Art. 16)"), list(&s.limitations)),
    ];
    page.facts(&facts);
    page.h3(page.l("数据来源", "Data sources"));
    let head = [page.l("名称", "Name"), page.l("合法性基础", "Legal basis"), page.l("供应方", "Vendor")];
    page.push(format!("<table><thead><tr>{}</tr></thead><tbody>", head.map(|h| format!("<th>{h}</th>")).join("")));
    for d in &s.data_sources {
        page.push(format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&d.name),
            page.t(&d.legal_basis.name),
            opt(&d.vendor)
        ));
    }
    page.push("</tbody></table>\n");
    if !s.vendors.is_empty() {
        page.h3(page.l("供应方与尽职调查", "Vendors and due diligence"));
        let head = [
            page.l("供应方", "Vendor"),
            page.l("类型", "Kind"),
            page.l("尽职调查（已答 / 是）", "Due diligence (answered / yes)"),
        ];
        page.push(format!("<table><thead><tr>{}</tr></thead><tbody>", head.map(|h| format!("<th>{h}</th>")).join("")));
        for v in &s.vendors {
            page.push(format!(
                "<tr><td>{} ({})</td><td>{}</td><td class=\"num\">{} / {} · {}</td></tr>",
                esc(&v.name),
                esc(&v.id),
                page.t(&v.kind.name),
                v.answered,
                v.questions,
                v.answered_yes
            ));
        }
        page.push("</tbody></table>\n");
    }

    // Tier.
    page.h2("tier", "风险等级及其依据", "Risk tier and why");
    match &r.tiering {
        None => {
            let none = page.l(
                "当前版本尚未完成准入问卷，因此没有风险等级。",
                "The current version has not been through intake, so it has no tier.",
            );
            page.push(format!("<p>{none}</p>"));
        }
        Some(t) => {
            let facts = vec![
                (page.l("等级", "Tier"), badge(&page, &t.tier)),
                (
                    page.l("问卷填写", "Intake by / at"),
                    format!("{} · {} · v{}", esc(&t.intake_by), fmt_time(&t.intake_at), t.for_version),
                ),
                (
                    page.l("规则集", "Rule set"),
                    format!("{} · <span class=\"mono\">{}</span>", esc(&t.ruleset_version), esc(&t.ruleset_digest)),
                ),
            ];
            page.facts(&facts);
            let head =
                [page.l("规则", "Rule"), page.l("等级", "Tier"), page.l("理由", "Reason"), page.l("条款", "Articles")];
            page.push(format!(
                "<table><thead><tr>{}</tr></thead><tbody>",
                head.map(|h| format!("<th>{h}</th>")).join("")
            ));
            for f in &t.fired {
                let articles: Vec<String> = f.articles.iter().map(|a| a.to_string()).collect();
                page.push(format!(
                    "<tr><td class=\"rid\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&f.id),
                    badge(&page, &f.tier),
                    page.t(&f.reason),
                    articles.join(", ")
                ));
            }
            if t.fired.is_empty() {
                let none = page.l("没有规则触发：默认为低风险。", "No rule fired: low by default.");
                page.push(format!("<tr><td colspan=\"4\">{none}</td></tr>"));
            }
            page.push("</tbody></table>\n");
        }
    }

    // Assessment.
    page.h2("assessment", "控制项、证据与签核", "Controls, evidence and sign-offs");
    match &r.assessment {
        None => {
            let none = page.l("尚未开启评估。", "No assessment has been opened yet.");
            page.push(format!("<p>{none}</p>"));
        }
        Some(a) => render_assessment(&mut page, a),
    }

    // Audits.
    page.h2("audits", "最新审计结果", "Latest audit results");
    if r.audits.is_empty() {
        let none = page.l(
            "尚无审计结果记录为本系统的证据（lunli audit … --system）。",
            "No audit has been recorded as evidence for this system yet (lunli audit … --system).",
        );
        page.push(format!("<p>{none}</p>"));
    }
    for audit in &r.audits {
        render_audit(&mut page, audit);
    }

    // Runtime.
    page.h2("runtime", "运行时人类控制", "Runtime human control");
    let rt = &r.runtime;
    let facts = vec![
        (
            page.l("暂停（第三条第四项、第十七条）", "Suspensions (Art. 3(4), Art. 17)"),
            if rt.suspensions.is_empty() {
                page.l("无", "none")
            } else {
                rt.suspensions
                    .iter()
                    .map(|s| {
                        format!(
                            "<span class=\"badge s-suspended\">{}</span> {} — {} · {}",
                            esc(s.purpose.as_deref().unwrap_or("*")),
                            esc(&s.reason),
                            esc(&s.by),
                            fmt_time(&s.at)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("<br>")
            },
        ),
        (
            page.l("用户选择（第十六条、第十九条）", "Subjects' choices (Art. 16, Art. 19)"),
            format!(
                "{} {} · {} {} · {} {}",
                page.l("同意", "consent given"),
                rt.consents.given,
                page.l("撤回", "withdrawn"),
                rt.consents.withdrawn,
                page.l("选择人工", "chose a human"),
                rt.consents.chose_human
            ),
        ),
        (
            page.l("台账中的决定", "Decisions in the ledger"),
            format!(
                "{} {} · <span class=\"badge s-allow\">{}</span> {} · <span class=\"badge s-deny\">{}</span> {} · <span class=\"badge s-human_review\">{}</span> {}{}",
                page.l("共", "total"),
                rt.decisions.total,
                page.l("允许", "allow"),
                rt.decisions.allow,
                page.l("拒绝", "deny"),
                rt.decisions.deny,
                page.l("人工复核", "human review"),
                rt.decisions.human_review,
                match (&rt.decisions.first_at, &rt.decisions.last_at) {
                    (Some(a), Some(b)) => format!("<br><span class=\"muted\">{} — {}</span>", esc(a), esc(b)),
                    _ => String::new(),
                }
            ),
        ),
    ];
    page.facts(&facts);
    let rv = &rt.reviews;
    let facts = vec![(
        page.l("人工复核队列（第三条第四项）", "Human review queue (Art. 3(4))"),
        format!(
            "{} {} · {} {} · {} {} ({} {} · {} {})",
            page.l("待处理", "open"),
            rv.open,
            page.l("处理中", "claimed"),
            rv.claimed,
            page.l("已完成", "resolved"),
            rv.resolved,
            page.l("维持", "approved"),
            rv.approved,
            page.l("否决", "rejected"),
            rv.rejected
        ),
    )];
    page.facts(&facts);
    page.h3(page.l("未解决的事件（第十七条、第二十一条）", "Open incidents (Art. 17, Art. 21)"));
    incident_table(&mut page, &rt.open_incidents, false);
    if rt.resolved_incidents > 0 {
        let done = page.l(
            &format!("另有 {} 个事件已解决。", rt.resolved_incidents),
            &format!("{} more incidents are resolved.", rt.resolved_incidents),
        );
        page.push(format!("<p class=\"muted\">{done}</p>"));
    }

    crosswalks(&mut page, &r.crosswalks);
    finish(page, r)
}

/// The assessment in other frameworks' terms: a summary row per framework, and per framework
/// its items with their state and the controls that answer them (folded, no script needed).
fn crosswalks(page: &mut Page, crosswalks: &[lunli_governance::crosswalk::SystemCrosswalk]) {
    if crosswalks.is_empty() {
        return;
    }
    page.h2("crosswalks", "其他框架下的状态", "Standing under other frameworks");
    let note = page.l(
        "由同一评估推出：每个条目由对应控制项的状态决定（对应关系见 catalogue/crosswalks/）。",
        "Derived from the same assessment: each item takes the state of the controls that answer it (mappings in catalogue/crosswalks/).",
    );
    page.push(format!("<p class=\"muted\">{note}</p>"));
    let head = [
        page.l("框架", "Framework"),
        page.l("已满足", "Met"),
        page.l("部分满足", "Partly met"),
        page.l("未满足", "Open"),
        page.l("不适用或本等级不要求", "N/A or not required"),
        page.l("无对应控制", "Not covered"),
    ];
    page.push(format!("<table><thead><tr>{}</tr></thead><tbody>", head.map(|h| format!("<th>{h}</th>")).join("")));
    for c in crosswalks {
        let s = &c.summary;
        page.push(format!(
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            page.t(&c.framework_title),
            s.met,
            s.partly_met,
            s.open,
            s.not_applicable + s.not_required,
            s.not_covered
        ));
    }
    page.push("</tbody></table>\n");
    for c in crosswalks {
        page.push(format!("<details><summary>{}</summary>", page.t(&c.framework_title)));
        let head = [page.l("条目", "Item"), page.l("状态", "State"), page.l("对应控制项", "Answered by")];
        page.push(format!("<table><thead><tr>{}</tr></thead><tbody>", head.map(|h| format!("<th>{h}</th>")).join("")));
        for item in &c.items {
            let controls = item
                .controls
                .iter()
                .map(|control| {
                    let status = control.status.map(|s| format!(" ({})", page.t(&s.name()))).unwrap_or_default();
                    format!("<span class=\"id\">{}</span>{status}", esc(&control.control))
                })
                .collect::<Vec<_>>()
                .join(", ");
            page.push(format!(
                "<tr><td><span class=\"rid\">{}</span> {}</td><td><span class=\"badge s-{}\">{}</span></td><td>{}</td></tr>",
                esc(&item.id),
                page.t(&item.title),
                item.state.as_str(),
                page.t(&item.state.name()),
                if controls.is_empty() { "—".into() } else { controls }
            ));
        }
        page.push("</tbody></table></details>\n");
    }
}

fn incident_table(page: &mut Page, incidents: &[crate::model::IncidentSummary], with_system: bool) {
    if incidents.is_empty() {
        let none = page.l("无。", "None.");
        page.push(format!("<p>{none}</p>"));
        return;
    }
    let mut head = vec![page.l("事件", "Incident")];
    if with_system {
        head.push(page.l("系统", "System"));
    }
    head.extend([
        page.l("严重程度", "Severity"),
        page.l("状态", "Status"),
        page.l("负责人", "Owner"),
        page.l("开启", "Opened"),
        page.l("解决期限", "Resolve by"),
    ]);
    let head: String = head.iter().map(|h| format!("<th>{h}</th>")).collect();
    page.push(format!("<table><thead><tr>{head}</tr></thead><tbody>"));
    for i in incidents {
        let severity =
            format!("<span class=\"badge {}\">{}</span>", status_class(&i.severity.id), page.t(&i.severity.name));
        let overdue =
            i.overdue.as_ref().map(|o| format!(" <span class=\"bad\">{}</span>", page.t(&o.name))).unwrap_or_default();
        let system = if with_system { format!("<td class=\"id\">{}</td>", esc(&i.system)) } else { String::new() };
        page.push(format!(
            "<tr><td>#{} {}</td>{system}<td>{severity}</td><td>{}{overdue}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            i.id,
            esc(&i.title),
            page.t(&i.status.name),
            esc(&i.owner),
            fmt_time(&i.opened_at),
            fmt_time(&i.resolve_by)
        ));
    }
    page.push("</tbody></table>\n");
}

/// What a committee should look at first, derived from the sections below.
fn attention(page: &mut Page, r: &SystemReport) {
    let mut items = Vec::new();
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
        let unresolved = a.controls.iter().filter(|c| c.status.id != "met" && c.status.id != "not-applicable").count();
        let not_met = a.controls.iter().filter(|c| c.status.id == "not-met").count();
        if unresolved > 0 {
            items.push(page.l(
                &format!("{unresolved} 个控制项尚未落实（其中 {not_met} 个未满足）。"),
                &format!("{unresolved} controls are not yet resolved ({not_met} not met)."),
            ));
        }
        let missing: Vec<String> =
            a.signoffs.iter().filter(|s| s.signed.is_none()).map(|s| page.t(&s.role.name)).collect();
        if !missing.is_empty() {
            items.push(format!("{}{}", page.l("待签核：", "Awaiting sign-off: "), missing.join(" · ")));
        }
    }
    for audit in r.audits.iter().filter(|a| !a.passed) {
        let high = audit.findings.iter().filter(|f| f.severity == "high").count();
        items.push(format!(
            "{} {}",
            page.t(&audit_name(&audit.audit)),
            page.l(
                &format!("未通过：{} 项发现，其中 {high} 项高严重度。", audit.findings.len()),
                &format!("failed: {} findings, {high} of high severity.", audit.findings.len())
            )
        ));
    }
    for s in &r.runtime.suspensions {
        items.push(format!("{} {}", page.l("已暂停：", "Suspended:"), esc(&s.reason)));
    }
    for loosening in &r.runtime.playbook_loosened {
        let (zh, en) = loosening.describe();
        items.push(format!(
            "{} {}",
            page.l("预案自批准以来放松了人工控制：", "The playbook weakens human control since approval:"),
            page.l(&zh, &en)
        ));
    }
    for i in &r.runtime.open_incidents {
        let overdue = i.overdue.as_ref().map(|o| format!(" ({})", page.t(&o.name))).unwrap_or_default();
        items.push(format!(
            "{} #{} {} · {}{overdue}",
            page.l("未解决事件", "Open incident"),
            i.id,
            esc(&i.title),
            page.t(&i.severity.name)
        ));
    }
    let title = page.l("需要关注", "Needs attention");
    page.push(format!("<div class=\"card attention\"><div class=\"k\">{title}</div>"));
    if items.is_empty() {
        let none = page.l(
            "无：已批准，所有控制项均已落实，审计通过，运行正常。",
            "Nothing: approved, every control resolved, audits passed, running.",
        );
        page.push(format!("<p class=\"ok\">{none}</p>"));
    } else {
        page.push("<ul>");
        for item in items {
            page.push(format!("<li>{item}</li>"));
        }
        page.push("</ul>");
    }
    page.push("</div>\n");
}

fn render_assessment(page: &mut Page, a: &AssessmentSection) {
    let facts = vec![
        (page.l("评估", "Assessment"), format!("#{} · v{} · {}", a.id, a.version, badge(page, &a.state))),
        (page.l("开启", "Opened"), format!("{} · {}", esc(&a.created_by), fmt_time(&a.created_at))),
        (
            page.l("提交", "Submitted"),
            match (&a.submitted_by, &a.submitted_at) {
                (Some(by), Some(at)) => format!("{} · {}", esc(by), fmt_time(at)),
                _ => "—".into(),
            },
        ),
        (page.l("批准", "Approved"), a.approved_at.as_ref().map(fmt_time).unwrap_or_else(|| "—".into())),
        (
            page.l("复审到期（第五条、第八条）", "Re-review due (Art. 5, Art. 8)"),
            format!(
                "{}{}",
                opt(&a.review_due),
                if a.overdue {
                    format!(" <span class=\"bad\">{}</span>", page.l("已逾期", "overdue"))
                } else {
                    String::new()
                }
            ),
        ),
    ];
    page.facts(&facts);
    if a.stale {
        let warn = page.l(
            "该评估针对系统的旧版本；当前版本需要重新准入与评估。",
            "This assessment is for an older version of the system; the current version needs a new intake and assessment.",
        );
        page.push(format!("<p class=\"bad\">{warn}</p>"));
    }

    page.h3(page.l("签核（第三条第五项、第七条：职责分离）", "Sign-offs (Art. 3(5), Art. 7: separation of duties)"));
    let head = [page.l("角色", "Role"), page.l("签核人", "Signed by"), page.l("时间", "At"), page.l("意见", "Note")];
    page.push(format!("<table><thead><tr>{}</tr></thead><tbody>", head.map(|h| format!("<th>{h}</th>")).join("")));
    for s in &a.signoffs {
        match &s.signed {
            Some(by) => page.push(format!(
                "<tr><td>{}</td><td>{} ({})</td><td>{}</td><td>{}</td></tr>",
                page.t(&s.role.name),
                esc(&by.person.name),
                esc(&by.person.id),
                fmt_time(&by.at),
                esc(&by.note)
            )),
            None => page.push(format!(
                "<tr><td>{}</td><td colspan=\"3\" class=\"muted\">{}</td></tr>",
                page.t(&s.role.name),
                page.l("尚未签核", "not signed yet")
            )),
        }
    }
    page.push("</tbody></table>\n");

    page.h3(page.l("按基本原则（第三条）", "By principle (Art. 3)"));
    page.push(legend(page));
    let head =
        [page.l("原则", "Principle"), page.l("进度", "Progress"), page.l("已落实 / 要求", "Resolved / required")];
    page.push(format!("<table><thead><tr>{}</tr></thead><tbody>", head.map(|h| format!("<th>{h}</th>")).join("")));
    for g in &a.by_principle {
        page.push(format!(
            "<tr><td>{} {}</td><td>{}</td><td class=\"num\">{} / {}</td></tr>",
            esc(&g.id),
            page.t(&g.name),
            status_bar(&progress_counts(&g.progress, a), 260.0),
            g.progress.resolved,
            g.progress.total
        ));
    }
    page.push("</tbody></table>\n");

    page.h3(page.l("按条款（控制项列于其首要条款下）", "By article (each control under its primary article)"));
    for g in &a.by_article {
        page.push("<section class=\"control\">");
        let title = format!(
            "{} {} <span class=\"muted\">({} / {})</span> {}",
            page.t(&g.label),
            page.t(&g.title),
            g.progress.resolved,
            g.progress.total,
            status_bar(&progress_counts(&g.progress, a), 160.0)
        );
        page.push(format!("<h4>{title}</h4>"));
        page.push(page.block(&g.text, "norm"));
        let head = [page.l("控制项", "Control"), page.l("状态", "Status"), page.l("证据", "Evidence")];
        page.push(format!("<table><thead><tr>{}</tr></thead><tbody>", head.map(|h| format!("<th>{h}</th>")).join("")));
        for id in &g.progress.controls {
            let Some(c) = a.controls.iter().find(|c| &c.id == id) else { continue };
            let mut evidence: Vec<String> = c
                .evidence
                .iter()
                .map(|e| {
                    let what = match (&e.audit, e.passed) {
                        (Some(audit), Some(passed)) => format!(
                            "{} {}{}",
                            page.t(&audit_name(audit)),
                            if passed {
                                format!("<span class=\"ok\">{}</span>", page.l("通过", "passed"))
                            } else {
                                format!("<span class=\"bad\">{}</span>", page.l("未通过", "failed"))
                            },
                            e.rows.map(|n| format!(" · {n} {}", page.l("行", "rows"))).unwrap_or_default()
                        ),
                        // A link is followable only if it is web or mail; `javascript:` & co. stay text.
                        _ if e.kind == "link" && is_safe_link(&e.description) => {
                            format!("<a href=\"{0}\" rel=\"noreferrer noopener\">{0}</a>", esc(&e.description))
                        }
                        _ => esc(&e.description),
                    };
                    format!(
                        "#{} {}{} <span class=\"muted\">— {} · {}</span>",
                        e.id,
                        what,
                        e.sha256
                            .as_ref()
                            .map(|h| format!(" <span class=\"mono\">{}</span>", esc(h)))
                            .unwrap_or_default(),
                        esc(&e.added_by),
                        fmt_time(&e.added_at)
                    )
                })
                .collect();
            if !c.justification.is_empty() {
                evidence.insert(0, format!("{}: {}", page.l("不适用理由", "Justification"), esc(&c.justification)));
            }
            page.push(format!(
                "<tr><td><span class=\"mono\">{}</span> {}</td><td>{}</td><td>{}</td></tr>",
                esc(&c.id),
                page.t(&c.title),
                badge(page, &c.status),
                if evidence.is_empty() { "—".into() } else { evidence.join("<br>") }
            ));
        }
        page.push("</tbody></table></section>\n");
    }
}

/// Renders the organisation report, all but its proof section.
pub fn org_page(r: &OrgReport, lang: Languages) -> Unsealed {
    let mut page = Page::new(lang);
    start(&mut page, "lunli — organisation report");
    let kicker = page.l("AI 伦理治理 · 全组织报告", "AI ethics governance · organisation report");
    let norms = page.t(&r.header.norms);
    let title = page.l("AI 系统清单概览", "The AI inventory at a glance");
    page.push(format!(
        "<header class=\"top\"><div class=\"kicker\">{kicker} · {norms}（{}）</div><h1>{title}</h1><div class=\"kicker\">{} {} · {}</div></header>\n",
        esc(&r.header.norms_issued),
        page.l("生成于", "generated"),
        fmt_time(&r.header.generated_at),
        esc(&r.header.generated_by)
    ));
    let approved = r.approvals.iter().find(|c| c.id == "approved").map(|c| c.count).unwrap_or(0);
    let cards = [
        (page.l("系统数", "Systems"), r.systems.len().to_string()),
        (page.l("已批准", "Approved"), approved.to_string()),
        (
            page.l("复审逾期", "Re-review overdue"),
            if r.overdue.is_empty() { "0".into() } else { format!("<span class=\"bad\">{}</span>", r.overdue.len()) },
        ),
        (
            page.l("已暂停", "Suspended"),
            if r.suspended.is_empty() {
                "0".into()
            } else {
                format!("<span class=\"bad\">{}</span>", r.suspended.len())
            },
        ),
        (
            page.l("未解决事件", "Open incidents"),
            if r.open_incidents.is_empty() {
                "0".into()
            } else {
                format!("<span class=\"bad\">{}</span>", r.open_incidents.len())
            },
        ),
    ];
    page.push("<div class=\"summary\">");
    for (k, v) in cards {
        page.push(format!("<div class=\"card\"><div class=\"k\">{k}</div><div class=\"v\">{v}</div></div>"));
    }
    page.push("</div>\n");

    page.h2("counts", "按风险等级、阶段与审批状态", "By tier, stage and approval");
    let mut counts = String::from("<div class=\"pair\" style=\"grid-template-columns:1fr 1fr 1fr\">");
    for (title, rows) in [
        (page.l("风险等级", "Tier"), &r.by_tier),
        (page.l("阶段", "Stage"), &r.by_stage),
        (page.l("审批", "Approval"), &r.approvals),
    ] {
        let _ = write!(counts, "<table><thead><tr><th>{title}</th><th class=\"num\">#</th></tr></thead><tbody>");
        for c in rows.iter() {
            let _ = write!(counts, "<tr><td>{}</td><td class=\"num\">{}</td></tr>", page.t(&c.name), c.count);
        }
        counts.push_str("</tbody></table>");
    }
    counts.push_str("</div>\n");
    page.push(counts);

    page.h2("systems", "系统清单", "Systems");
    let head = [
        page.l("系统", "System"),
        page.l("责任人", "Owner"),
        page.l("阶段", "Stage"),
        page.l("等级", "Tier"),
        page.l("评估", "Assessment"),
        page.l("控制项", "Controls"),
        page.l("复审到期", "Re-review due"),
    ];
    page.push(format!("<table><thead><tr>{}</tr></thead><tbody>", head.map(|h| format!("<th>{h}</th>")).join("")));
    for s in &r.systems {
        let tier = s.tier.as_ref().map(|t| badge(&page, t)).unwrap_or_else(|| "—".into());
        let state = s.state.as_ref().map(|t| badge(&page, t)).unwrap_or_else(|| "—".into());
        let mut name = format!("{} <span class=\"id\">{}</span> v{}", esc(&s.name), esc(&s.id), s.version);
        if s.suspended {
            name.push_str(&format!(" <span class=\"badge s-suspended\">{}</span>", page.l("已暂停", "suspended")));
        }
        if s.assessed_version.is_some_and(|v| v < s.version) {
            name.push_str(&format!(" <span class=\"bad\">{}</span>", page.l("评估已过时", "assessment stale")));
        }
        page.push(format!(
            "<tr><td>{name}</td><td>{}</td><td>{}</td><td>{tier}</td><td>{state}</td><td class=\"num\">{} / {}</td><td>{}{}</td></tr>",
            esc(&s.owner.name),
            page.t(&s.stage.name),
            s.resolved,
            s.required,
            opt(&s.review_due),
            if s.overdue { format!(" <span class=\"bad\">{}</span>", page.l("已逾期", "overdue")) } else { String::new() }
        ));
    }
    page.push("</tbody></table>\n");

    page.h2("incidents", "未解决的事件", "Open incidents");
    incident_table(&mut page, &r.open_incidents, true);

    page.h2("coverage", "各条款的落实情况（全部系统）", "Coverage of each article across all systems");
    let note = page.l(
        "每条规范：有多少系统的评估包含引用该条的控制项，这些控制项中已落实（满足或有理由不适用）的比例。",
        "For each article: how many systems' assessments include controls citing it, and how many of those controls are resolved (met, or not applicable with a justification).",
    );
    page.push(format!("<p class=\"muted\">{note}</p>"));
    let head = [
        page.l("条款", "Article"),
        page.l("系统数", "Systems"),
        page.l("已落实 / 要求", "Resolved / required"),
        "".to_string(),
    ];
    page.push(format!("<table><thead><tr>{}</tr></thead><tbody>", head.map(|h| format!("<th>{h}</th>")).join("")));
    for c in &r.coverage {
        let share = if c.required == 0 { 0.0 } else { c.resolved as f64 / c.required as f64 };
        let bar = format!(
            "<svg width=\"200\" height=\"12\" viewBox=\"0 0 200 12\"><rect width=\"200\" height=\"12\" fill=\"#eef2f5\"/><rect width=\"{:.1}\" height=\"12\" fill=\"#2e7d32\"/></svg>",
            200.0 * share
        );
        page.push(format!(
            "<tr><td>{} {}</td><td class=\"num\">{}</td><td class=\"num\">{} / {}</td><td>{bar}</td></tr>",
            page.t(&c.label),
            page.t(&c.title),
            c.systems,
            c.resolved,
            c.required
        ));
    }
    page.push("</tbody></table>\n");

    finish(page, r)
}

/// The signed JSON document an HTML report carries, if the page has one: its content and proof
/// blocks joined, or the single block of a page from before pages were recorded.
pub fn embedded_document(html: &str) -> Option<String> {
    match (data_block_text(html, CONTENT_ID), data_block_text(html, PROOF_ID)) {
        (Some(report), Some(proof)) => Some(format!("{{\"report\":{report},\"verification\":{proof}}}")),
        _ => data_block_text(html, EMBEDDED_ID).map(str::to_string),
    }
}

/// The text of the data block with this id.
fn data_block_text<'a>(html: &'a str, id: &str) -> Option<&'a str> {
    let marker = format!("<script type=\"application/json\" id=\"{id}\">");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find("</script>")? + start;
    Some(&html[start..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(esc(r#"<a href="x">&'"#), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }

    #[test]
    fn the_embedded_document_is_found_and_cannot_end_early() {
        let json = serde_json::json!({ "note": "</script><!--<script>alert(1)</script>" });
        let escaped = serde_json::to_string(&json).expect("json").replace('<', "\\u003c");
        let page = format!("<p>x</p><script type=\"application/json\" id=\"{EMBEDDED_ID}\">{escaped}</script>");
        let found = embedded_document(&page).expect("found");
        let back: serde_json::Value = serde_json::from_str(&found).expect("json");
        assert_eq!(back, json);
        assert_eq!(embedded_document("<p>no report</p>"), None);
    }

    #[test]
    fn a_status_bar_is_proportional() {
        let svg = status_bar(&[("met", 3), ("not-started", 1)], 200.0);
        assert!(svg.contains("width=\"150.00\"") && svg.contains("width=\"50.00\""), "{svg}");
    }
}

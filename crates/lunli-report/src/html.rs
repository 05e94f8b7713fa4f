//! Self-contained HTML: inline CSS and inline SVG charts, no script, no font or image from the
//! network, so the file opens anywhere and prints the same. In `both` the Chinese and the English
//! stand side by side. Every page is built with `maud`, which escapes whatever the report holds.
//!
//! A page is recorded byte for byte: [`system_page`] / [`org_page`] render everything but the
//! proof section (the report's content included, as an inert JSON block), [`anchor_page`]
//! records the SHA-256 of those bytes with the report in the ledger, and [`Unsealed::seal`] fills
//! the proof section between `<!--lunli-proof lang=…-->` and `<!--/lunli-proof-->` in. That
//! section is rendered from the proof alone, so [`crate::verify::verify_html`] can render it again
//! and require the same bytes. Evidence links are links only when
//! [`lunli_governance::assessment::is_safe_link`] allows.
//!
//! The sections live beside this file: `page` (the bilingual building blocks), `charts`,
//! `system`, `audit`, `org` and `proof`.

mod audit;
mod audit_page;
mod charts;
mod model_audit;
mod org;
mod page;
mod proof;
mod system;

use jiff::Timestamp;
use lunli_governance::store::Store;
use lunli_ledger::Hash;
use lunli_ledger::store::Ledger;
use maud::{Markup, PreEscaped, html};
use serde::Serialize;

use crate::ReportError;
use crate::anchor::Document;
use crate::verify::Verification;

pub use audit_page::audit_page;
pub use lunli_norms::Languages;
pub use org::org_page;
pub use system::system_page;

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
        [&self.body, PROOF_BEGIN, self.lang.as_str(), PROOF_BEGIN_CLOSE, section, PROOF_END, PAGE_END].concat()
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
    let lang = Languages::parse(&page[begin..close])?;
    let start = close + PROOF_BEGIN_CLOSE.len();
    let end = page[start..].find(PROOF_END)? + start;
    let mut unsealed = String::with_capacity(page.len() - (end - start));
    unsealed.push_str(&page[..start]);
    unsealed.push_str(&page[end..]);
    Some(ProofParts { lang, unsealed, section: &page[start..end] })
}

/// The proof section of a page: what a reader sees of the proof, and the proof as data.
pub(crate) fn proof_section(lang: Languages, verification: &Verification) -> String {
    proof::section(&page::Page::new(lang), verification).into_string()
}

/// An inert data block holding `value` as JSON.
fn data_block<T: Serialize>(id: &str, value: &T) -> Markup {
    // `<` only occurs inside JSON strings, where `\u003c` means the same: the block can then never
    // close early or open a comment, whatever the report's text holds.
    let json = serde_json::to_string(value).unwrap_or_default().replace('<', "\\u003c");
    html! { script type="application/json" id=(id) { (PreEscaped(json)) } "\n" }
}

/// A page's opening, up to and including `<body>`: the escaped head with the report's style.
fn opening(page: &page::Page, title: &str) -> String {
    let head = html! {
        head {
            "\n" meta charset="utf-8"; "\n"
            meta name="viewport" content="width=device-width, initial-scale=1"; "\n"
            title { (title) } "\n"
            style { "\n" (PreEscaped(include_str!("html/report.css"))) } "\n"
        }
    };
    let lang = match page.lang {
        Languages::En => "en",
        Languages::Zh | Languages::Both => "zh-CN",
    };
    ["<!DOCTYPE html>\n<html lang=\"", lang, "\">\n", &head.into_string(), "\n<body>\n"].concat()
}

/// A whole page around `content` that is not recorded: no data block, no proof section.
fn standalone(page: &page::Page, title: &str, content: Markup) -> String {
    [opening(page, title), content.into_string(), PAGE_END.to_string()].concat()
}

/// A page around `content`, up to where its proof section goes; its report's content follows
/// `content` as a data block. `</body></html>` come after the proof section (see [`PAGE_END`]), so
/// the shell is opened here as text around the escaped head.
fn unsealed<T: Serialize>(page: &page::Page, title: &str, content: Markup, report: &T) -> Unsealed {
    let body = [opening(page, title), content.into_string(), data_block(CONTENT_ID, report).into_string()].concat();
    Unsealed { lang: page.lang, body }
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
    fn the_embedded_document_is_found_and_cannot_end_early() {
        let json = serde_json::json!({ "note": "</script><!--<script>alert(1)</script>" });
        let page = format!("<p>x</p>{}", data_block(EMBEDDED_ID, &json).into_string());
        let found = embedded_document(&page).expect("found");
        let back: serde_json::Value = serde_json::from_str(&found).expect("json");
        assert_eq!(back, json);
        assert_eq!(embedded_document("<p>no report</p>"), None);
    }

    #[test]
    fn a_page_is_split_at_its_proof_section_and_put_back_together() {
        let page = page::Page::new(Languages::En);
        let unsealed = unsealed(&page, "<t>", html! { p { "a & b" } }, &serde_json::json!({ "x": 1 }));
        let sealed = unsealed.with_section("<h2>proof</h2>\n");
        assert!(sealed.contains("<title>&lt;t&gt;</title>") && sealed.contains("<p>a &amp; b</p>"), "{sealed}");
        let parts = proof_parts(&sealed).expect("a proof section");
        assert_eq!(parts.lang, Languages::En);
        assert_eq!(parts.section, "<h2>proof</h2>\n");
        assert_eq!(parts.unsealed, unsealed.with_section(""));
        assert!(sealed.ends_with(PAGE_END));
    }
}

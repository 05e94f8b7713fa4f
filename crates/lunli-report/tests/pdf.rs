//! The PDF: the report's HTML printed by headless Chromium with every host name unresolvable,
//! then read back with lopdf — pages and text. Needs Chromium (`apt-get install chromium
//! fonts-noto-cjk`, or `LUNLI_CHROMIUM`); without it this test fails rather than skipping.

mod common;

use std::path::{Path, PathBuf};

use common::{Fixture, at};
use lunli_report::{Issue, Languages};

fn chromium() -> PathBuf {
    let explicit = std::env::var_os("LUNLI_CHROMIUM").filter(|v| !v.is_empty()).map(PathBuf::from);
    lunli_report::pdf::locate_chromium(explicit.as_deref(), std::env::var_os("PATH").as_deref())
        .expect("Chromium is needed for the PDF tests: apt-get install chromium fonts-noto-cjk")
}

fn print(html: &str, dir: &Path, name: &str) -> lopdf::Document {
    let page = dir.join(format!("{name}.html"));
    std::fs::write(&page, html).expect("write html");
    let profile = dir.join(format!("{name}-profile"));
    std::fs::create_dir(&profile).expect("profile dir");
    let out = dir.join(format!("{name}.pdf"));
    lunli_report::pdf::print_pdf(&chromium(), &page, &out, &profile).expect("print");
    lopdf::Document::load(&out).expect("a PDF lopdf can read")
}

/// The text of each page, in page order.
fn page_texts(pdf: &lopdf::Document) -> Vec<String> {
    pdf.get_pages().keys().map(|n| pdf.extract_text(&[*n]).expect("the page text")).collect()
}

/// The text without white space, and with the typographic ligatures Chromium's fonts use
/// (ﬁ, ﬂ, ﬀ …) spelled out.
fn squash(text: &str) -> String {
    let spelled =
        text.replace('\u{FB00}', "ff").replace('\u{FB01}', "fi").replace('\u{FB02}', "fl").replace('\u{FB03}', "ffi");
    spelled.split_whitespace().collect()
}

#[test]
fn the_system_report_prints_to_pdf_with_its_text() {
    let f = Fixture::new();
    let controls = f.faq_router();
    f.approve_faq_router(&controls);
    f.runtime();
    let issue = Issue { at: at("2026-03-04T08:00:00Z"), by: "chen-jie".into() };
    let report =
        lunli_report::system_report(&f.catalogue, &f.store, "faq-router", Default::default(), &issue).expect("report");
    let page = lunli_report::html::system_page(&report, Languages::En);
    let (document, html) =
        lunli_report::html::anchor_page(&f.store, report, &page, "system:faq-router", "chen-jie", issue.at)
            .expect("anchor");
    let pdf = print(&html, f.dir.path(), "system");
    let pages = page_texts(&pdf);
    assert_eq!(pages.len(), EXPECTED_SYSTEM_PAGES, "pages: {}", pages.len());
    let first = squash(&pages[0]);
    assert!(first.contains("AIsystemethicsgovernancereport"), "{first}");
    assert!(first.contains("FAQrouter"), "{first}");
    let all = squash(&pages.concat());
    for expected in
        ["Systemcard", "Risktierandwhy", "Latestauditresults", "Runtimehumancontrol", "Openincidents", "Verification"]
    {
        assert!(all.contains(expected), "{expected} missing");
    }
    assert!(all.contains(&document.verification.content_sha256.to_hex()), "the digest is printed");
    let last = squash(pages.last().expect("a page"));
    assert!(last.contains("Generatedbylunli"), "the report ends on the last page: {last}");
}

#[test]
fn the_organisation_report_prints_in_chinese() {
    let f = Fixture::new();
    f.faq_router();
    let issue = Issue { at: at("2026-03-04T08:00:00Z"), by: "chen-jie".into() };
    let report = lunli_report::org_report(&f.catalogue, &f.store, &issue).expect("org");
    let page = lunli_report::html::org_page(&report, Languages::Zh);
    let (_, html) =
        lunli_report::html::anchor_page(&f.store, report, &page, "organisation", "chen-jie", issue.at).expect("anchor");
    let pdf = print(&html, f.dir.path(), "org");
    let pages = page_texts(&pdf);
    assert_eq!(pages.len(), EXPECTED_ORG_PAGES, "pages: {}", pages.len());
    let all = squash(&pages.concat());
    assert!(all.contains("AI系统清单概览"), "{all}");
    assert!(all.contains("faq-router"), "{all}");
}

/// Measured with Chromium 156 and fonts-noto-cjk on A4; a layout change that moves a page
/// boundary shows here.
const EXPECTED_SYSTEM_PAGES: usize = 11;
const EXPECTED_ORG_PAGES: usize = 2;

//! Reports built over a real embedded store and ledger: the JSON shape (pinned by snapshots),
//! the anchoring and its offline verification, and the self-contained HTML.

mod common;

use common::{Fixture, at};
use lunli_governance::PendingEvent;
use lunli_governance::assessment::EvidenceItem;
use lunli_governance::runtime::{DecisionRequest, Outcome};
use lunli_ledger::Hash;
use lunli_report::verify::{Covers, VerifyError, verify_document, verify_html};
use lunli_report::{DecisionCounts, Document, Issue, Languages, SystemReport};
use lunli_store::Ledger as _;
use serde_json::Value;

fn issue() -> Issue {
    Issue { at: at("2026-03-04T08:00:00Z"), by: "chen-jie".into() }
}

fn system_document(f: &Fixture) -> Document<SystemReport> {
    let decisions = lunli_report::ledger_decisions(&f.store, "faq-router").expect("decisions");
    let report =
        lunli_report::system_report(&f.catalogue, &f.store, "faq-router", decisions, &issue()).expect("report");
    lunli_report::anchor(&f.store, report, "system:faq-router", "chen-jie", issue().at).expect("anchor")
}

/// The system report recorded with its page in `lang`, and the finished page.
fn system_page(f: &Fixture, lang: Languages) -> (Document<SystemReport>, String) {
    let decisions = lunli_report::ledger_decisions(&f.store, "faq-router").expect("decisions");
    let report =
        lunli_report::system_report(&f.catalogue, &f.store, "faq-router", decisions, &issue()).expect("report");
    let page = lunli_report::html::system_page(&report, lang);
    lunli_report::html::anchor_page(&f.store, report, &page, "system:faq-router", "chen-jie", issue().at)
        .expect("anchor")
}

/// Replaces what changes from run to run (the signing key, so every digest and signature, and
/// the proof's audit path) with placeholders, keeping the shape.
fn redact(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                let volatile = matches!(
                    key.as_str(),
                    "root"
                        | "signature"
                        | "public_key_pem"
                        | "key_fingerprint"
                        | "leaf_hash"
                        | "content_sha256"
                        | "payload_sha256"
                        | "prev_leaf_hash"
                        | "ruleset_digest"
                );
                if volatile && v.is_string() {
                    *v = Value::String(format!("[{key}]"));
                } else if key == "path" && v.is_array() {
                    *v = Value::String("[audit path]".into());
                } else {
                    redact(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

fn snapshot_json<T: serde::Serialize>(document: &T) -> Value {
    let mut value = serde_json::to_value(document).expect("json");
    redact(&mut value);
    value
}

#[test]
fn system_report_json_is_pinned() {
    let f = Fixture::new();
    let controls = f.faq_router();
    f.approve_faq_router(&controls);
    f.runtime();
    let document = system_document(&f);
    insta::assert_json_snapshot!("system_report", snapshot_json(&document));
}

#[test]
fn org_report_json_is_pinned() {
    let f = Fixture::new();
    let controls = f.faq_router();
    f.approve_faq_router(&controls);
    f.runtime();
    let report = lunli_report::org_report(&f.catalogue, &f.store, &issue()).expect("org");
    let document = lunli_report::anchor(&f.store, report, "organisation", "chen-jie", issue().at).expect("anchor");
    insta::assert_json_snapshot!("org_report", snapshot_json(&document));
}

#[test]
fn the_report_says_what_the_store_holds() {
    let f = Fixture::new();
    let controls = f.faq_router();
    let open = system_document(&f).report;
    let assessment = open.assessment.expect("assessment");
    assert_eq!(assessment.state.id, "open");
    assert_eq!(assessment.status_counts.get("not-started"), Some(&controls.len()));
    assert!(open.audits.is_empty());
    assert!(open.runtime.suspensions.is_empty());

    f.approve_faq_router(&controls);
    f.runtime();
    let r = system_document(&f).report;
    assert_eq!(r.tiering.as_ref().expect("tier").tier.id, "medium");
    let a = r.assessment.as_ref().expect("assessment");
    assert_eq!(a.state.id, "approved");
    assert_eq!(a.status_counts.get("met"), Some(&(controls.len() - 1)));
    assert_eq!(a.status_counts.get("not-applicable"), Some(&1));
    assert_eq!(a.signoffs[0].signed.as_ref().expect("signed").person.name, "孙丽");
    // Every control appears exactly once in the by-article grouping.
    let grouped: usize = a.by_article.iter().map(|g| g.progress.total).sum();
    assert_eq!(grouped, controls.len());
    // The article's text is the catalogue's, verbatim.
    for group in &a.by_article {
        let article = f.catalogue.article(group.number).expect("article");
        assert_eq!(group.text.zh, article.text.zh);
    }
    assert_eq!(r.runtime.suspensions.len(), 1);
    assert_eq!(r.runtime.consents.given, 1);
    assert_eq!(r.runtime.consents.withdrawn, 1);
    assert_eq!(r.runtime.consents.chose_human, 1);
    assert_eq!(r.runtime.open_incidents.len(), 1);
    assert_eq!(r.runtime.open_incidents[0].severity.id, "medium");
    let overdue = r.runtime.open_incidents[0].overdue.as_ref().map(|o| o.id.as_str());
    assert_eq!(overdue, Some("acknowledge"), "a day after it opened, nobody has acknowledged it");
    let reviews = &r.runtime.reviews;
    assert_eq!((reviews.open, reviews.claimed, reviews.resolved, reviews.rejected), (1, 0, 1, 1));
    assert_eq!(r.runtime.decisions.human_review, 2, "decisions counted from the ledger");
    assert_eq!(r.audits.len(), 1, "one quality run");
    let quality = &r.audits[0];
    assert_eq!((quality.audit.as_str(), quality.passed, quality.rows), ("quality", true, Some(1000)));
    let c11 = a.controls.iter().find(|c| c.id == "C-11-02").expect("C-11-02");
    assert_eq!(quality.evidence, vec![format!("C-11-02#{}", c11.evidence[0].id)]);
    assert_eq!(quality.dimensions[0].name.zh, "完整性");
    assert_eq!(quality.findings[0].message.en, "column topic: 1.20% missing");
}

#[test]
fn gateway_decisions_are_counted_from_the_ledger() {
    let f = Fixture::new();
    f.faq_router();
    let gov = f.gov();
    let event = |outcome: Outcome, system: &str| {
        let request = DecisionRequest { system: system.into(), subject: "u".into(), ..Default::default() };
        PendingEvent::decision("key:svc".into(), at("2026-03-03T10:00:00Z"), "d", &request, outcome, &[])
    };
    gov.record_events(&[
        event(Outcome::Allow, "faq-router"),
        event(Outcome::Allow, "faq-router"),
        event(Outcome::Deny, "faq-router"),
        event(Outcome::HumanReview, "faq-router"),
        event(Outcome::Allow, "other-system"),
    ])
    .expect("record");
    let counts = lunli_report::ledger_decisions(&f.store, "faq-router").expect("count");
    assert_eq!((counts.total, counts.allow, counts.deny, counts.human_review), (4, 2, 1, 1), "{counts:?}");
    assert_eq!(counts.last_at.as_deref(), Some("2026-03-03T10:00:00.000Z"));
    let _: DecisionCounts = counts;
}

#[test]
fn a_fresh_report_verifies_and_any_change_is_caught() {
    let f = Fixture::new();
    f.faq_router();
    let document = system_document(&f);
    let key = f.store.verifying_key().expect("key");
    let fresh = serde_json::to_value(&document).expect("json");
    let verified = verify_document(&fresh, Some(&key)).expect("a fresh report verifies");
    assert_eq!(verified.index, document.verification.entry.index);
    assert!(verified.trusted_key);
    // The recorded entry really is in the store's ledger, at that index.
    let row = f.store.ledger_rows(verified.index, 1).expect("row").remove(0);
    let stored: lunli_ledger::Entry = serde_json::from_slice(&row.entry).expect("entry");
    assert_eq!(stored, document.verification.entry);
    assert!(f.store.verify_ledger().expect("verify").is_ok());

    // The content changed.
    let mut altered = fresh.clone();
    altered["report"]["system"]["purpose"] = Value::String("Something else".into());
    assert!(matches!(verify_document(&altered, Some(&key)), Err(VerifyError::ContentAltered { .. })));

    // The digest changed to match the altered content: the entry no longer records it.
    let digest = lunli_report::verify::content_digest(&altered["report"]).expect("digest");
    altered["verification"]["content_sha256"] = Value::String(digest.to_hex());
    assert!(matches!(verify_document(&altered, Some(&key)), Err(VerifyError::EntryMismatch { .. })));

    // ... and the entry's payload too: its payload digest no longer holds.
    altered["verification"]["entry"]["payload"]["content_sha256"] = Value::String(digest.to_hex());
    assert!(matches!(verify_document(&altered, Some(&key)), Err(VerifyError::EntryAltered(_))));

    // A forged proof.
    let mut forged = fresh.clone();
    forged["verification"]["head"]["root"] = Value::String(Hash::sha256(b"other").to_hex());
    assert!(matches!(verify_document(&forged, Some(&key)), Err(VerifyError::NotIncluded(_))));

    // Another ledger's key.
    let other = lunli_ledger::SigningKey::from_bytes(&[7; 32]).verifying_key();
    assert!(matches!(verify_document(&fresh, Some(&other)), Err(VerifyError::OtherKey { .. })));

    // A head re-signed by someone else, with their key put into the file: caught with the
    // trusted key, and only then.
    let mut resigned = fresh.clone();
    let forger = lunli_ledger::SigningKey::from_bytes(&[9; 32]);
    let head = document.verification.head.head.sign(&forger);
    resigned["verification"]["head"] = serde_json::to_value(head).expect("head");
    resigned["verification"]["public_key_pem"] =
        Value::String(lunli_ledger::key::verifying_key_to_pem(&forger.verifying_key()).expect("pem"));
    assert!(verify_document(&resigned, None).is_ok(), "self-consistent without a trusted key");
    assert!(matches!(verify_document(&resigned, Some(&key)), Err(VerifyError::OtherKey { .. })));

    // A tampered signature.
    let mut bad_sig = fresh.clone();
    let sig = bad_sig["verification"]["head"]["signature"].as_str().expect("sig").to_string();
    let flipped = match sig.strip_prefix('0') {
        Some(rest) => format!("1{rest}"),
        None => format!("0{}", &sig[1..]),
    };
    bad_sig["verification"]["head"]["signature"] = Value::String(flipped);
    assert!(matches!(verify_document(&bad_sig, Some(&key)), Err(VerifyError::BadSignature { .. })));
}

/// Every `src`, `href`, `url(` or `@import` in the page, and every script that is not inert data.
fn external_references(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    let lower = html.to_ascii_lowercase();
    for pattern in ["src=", "href=", "url(", "@import", "<link", "<img", "<iframe"] {
        for (i, _) in lower.match_indices(pattern) {
            found.push(html[i..(i + 60).min(html.len())].to_string());
        }
    }
    for (i, _) in lower.match_indices("<script") {
        if !lower[i..].starts_with("<script type=\"application/json\"") {
            found.push(html[i..(i + 60).min(html.len())].to_string());
        }
    }
    found
}

#[test]
fn html_is_self_contained_and_bilingual() {
    let f = Fixture::new();
    let controls = f.faq_router();
    f.approve_faq_router(&controls);
    f.runtime();
    let art5 = f.catalogue.article(5).expect("art 5");
    let key = f.store.verifying_key().expect("key");
    for lang in [Languages::Zh, Languages::En, Languages::Both] {
        let (document, html) = system_page(&f, lang);
        assert_eq!(external_references(&html), Vec::<String>::new(), "{lang:?}");
        assert!(html.contains("<svg"), "charts are inline SVG");
        match lang {
            Languages::Zh => {
                assert!(html.contains("系统概况") && !html.contains("System card"));
            }
            Languages::En => {
                assert!(html.contains("System card") && !html.contains("系统概况"));
                // The same assessment in other frameworks' terms (issue 10: a section in the reports).
                assert!(html.contains("Standing under other frameworks"), "crosswalk section");
                for framework in &document.report.crosswalks {
                    assert!(html.contains(&framework.framework_title.en), "{}", framework.framework);
                }
                assert!(document.report.crosswalks.len() >= 5, "every framework of the catalogue");
                assert!(
                    html.contains("Suspended:</span> complaints about wrong routing"),
                    "the kill switch needs attention"
                );
            }
            Languages::Both => {
                assert!(html.contains("系统概况") && html.contains("System card"));
                assert!(html.contains("class=\"pair norm\""), "article texts side by side");
            }
        }
        // The embedded document is the signed one, and still verifies; so does the whole page.
        let embedded = lunli_report::html::embedded_document(&html).expect("embedded document");
        let value: Value = serde_json::from_str(&embedded).expect("json");
        assert_eq!(value["report"], serde_json::to_value(&document.report).expect("report"));
        assert!(verify_document(&value, Some(&key)).is_ok());
        assert_eq!(verify_html(&html, Some(&key)).expect("the page verifies").covers, Covers::Page, "{lang:?}");
    }
    let (_, both) = system_page(&f, Languages::Both);
    assert!(both.contains(&art5.text.zh.replace('"', "&quot;")), "Art. 5 verbatim");
    assert!(both.contains("完整性 completeness"), "the quality chart names Art. 11's dimensions");
    let org = lunli_report::org_report(&f.catalogue, &f.store, &issue()).expect("org");
    let page = lunli_report::html::org_page(&org, Languages::Both);
    let (_, html) =
        lunli_report::html::anchor_page(&f.store, org, &page, "organisation", "chen-jie", issue().at).expect("anchor");
    assert_eq!(external_references(&html), Vec::<String>::new());
    assert_eq!(verify_html(&html, Some(&key)).expect("the page verifies").covers, Covers::Page);
    assert!(html.contains("faq-router") && html.contains("第五条"));
}

#[test]
fn every_byte_of_a_page_is_covered() {
    let f = Fixture::new();
    let controls = f.faq_router();
    f.approve_faq_router(&controls);
    let key = f.store.verifying_key().expect("key");
    let (document, html) = system_page(&f, Languages::Both);
    let verified = verify_html(&html, Some(&key)).expect("a fresh page verifies");
    assert_eq!(verified.covers, Covers::Page);
    let recorded = document.verification.entry.payload["html_sha256"].as_str().expect("the page digest is recorded");
    assert_eq!(verified.file_sha256.map(|h| h.to_hex()).as_deref(), Some(recorded));
    assert!(html.contains(recorded), "the page shows the digest it was recorded with");

    let page_altered = |changed: String, what: &str| {
        assert_ne!(changed, html, "{what}: the edit must change the page");
        match verify_html(&changed, Some(&key)) {
            Err(VerifyError::PageAltered(_)) => {}
            other => panic!("{what}: expected PageAltered, got {other:?}"),
        }
    };
    // Visible text, an attribute, a style, each outside the data blocks.
    page_altered(html.replacen("FAQ router", "FAQ routers", 1), "visible text");
    page_altered(html.replacen("class=\"pair norm\"", "class=\"pair\"", 1), "an attribute");
    page_altered(html.replacen("--fail:#c62828", "--fail:#2e7d32", 1), "a style");
    // The verification section a reader sees, and the proof's bytes as data.
    page_altered(html.replacen("内容 SHA-256", "内容 SHA256", 1), "the verification section");
    page_altered(html.replacen("{\"method\":", "{ \"method\":", 1), "the proof block's bytes");
    // Without its proof section, the page is not taken for a page from before pages were recorded.
    page_altered(html.replacen("<!--lunli-proof lang=both-->\n", "", 1), "the proof marker removed");
    // The report's content in its data block: the content digest no longer holds.
    let content = html.replacen("\"purpose\":\"", "\"purpose\":\"Not ", 1);
    assert_ne!(content, html);
    assert!(matches!(verify_html(&content, Some(&key)), Err(VerifyError::ContentAltered { .. })));

    // A page whose report was recorded without a page (a JSON run): the page is not covered.
    let plain = system_document(&f);
    let unrecorded = lunli_report::html::system_page(&plain.report, Languages::Both).seal(&plain.verification);
    assert!(matches!(verify_html(&unrecorded, Some(&key)), Err(VerifyError::PageAltered(_))));

    // A page from before pages were recorded (one data block with the whole document): its data
    // verifies as before, and the result says only the data block is covered.
    let json = serde_json::to_string(&plain).expect("json").replace('<', "\\u003c");
    let legacy = format!(
        "<!DOCTYPE html>\n<html><body><h1>Anything at all</h1><script type=\"application/json\" id=\"lunli-report\">{json}</script>\n</body>\n</html>\n"
    );
    assert_eq!(verify_html(&legacy, Some(&key)).expect("old page").covers, Covers::DataBlock);
}

#[test]
fn only_web_and_mail_evidence_links_are_links_in_the_report() {
    let f = Fixture::new();
    let controls = f.faq_router();
    let gov = f.gov();
    let control = controls
        .iter()
        .find(|c| f.catalogue.control(c).expect("control").evidence.accepts.contains(&lunli_norms::EvidenceType::Link))
        .expect("a control that accepts links");
    for url in ["javascript:alert(document.domain)", "https://example.org/dpia.pdf", "data:text/html,x"] {
        let item = EvidenceItem::Link { url: url.into() };
        gov.add_evidence("li-wei", "faq-router", control, item, "", at("2026-03-02T10:00:00Z")).expect("evidence");
    }
    for lang in [Languages::Zh, Languages::En, Languages::Both] {
        let (_, html) = system_page(&f, lang);
        assert!(html.contains("<a href=\"https://example.org/dpia.pdf\" rel=\"noreferrer noopener\">"), "{lang:?}");
        assert!(html.contains("javascript:alert(document.domain)"), "still shown, as text");
        let lower = html.to_ascii_lowercase();
        assert!(!lower.contains("href=\"javascript:") && !lower.contains("href=\"data:"), "{lang:?}");
        assert_eq!(lower.matches("<a ").count(), 1, "one link only: {lang:?}");
    }
}

#[test]
fn re_reviews_fall_due_and_the_reports_say_so() {
    let f = Fixture::new();
    let controls = f.faq_router();
    f.approve_faq_router(&controls);
    let later = Issue { at: at("2027-06-01T08:00:00Z"), by: "chen-jie".into() };
    let org = lunli_report::org_report(&f.catalogue, &f.store, &later).expect("org");
    assert_eq!(org.overdue, vec!["faq-router".to_string()], "approved 2026-03-02, medium tier: 12 months");
    let approved = org.approvals.iter().find(|c| c.id == "approved").expect("approved");
    assert_eq!(approved.count, 1);
    let on_time = lunli_report::org_report(&f.catalogue, &f.store, &issue()).expect("org");
    assert!(on_time.overdue.is_empty());

    let report = lunli_report::system_report(&f.catalogue, &f.store, "faq-router", DecisionCounts::default(), &later)
        .expect("report");
    let assessment = report.assessment.as_ref().expect("assessment");
    assert!(assessment.overdue);
    assert_eq!(assessment.review_due.map(|d| d.to_string()).as_deref(), Some("2027-03-02"));
    let page = lunli_report::html::system_page(&report, Languages::En);
    let (_, html) = lunli_report::html::anchor_page(&f.store, report, &page, "system:faq-router", "chen-jie", later.at)
        .expect("anchor");
    assert!(html.contains("Needs attention") && html.contains("The re-review is overdue (Art. 5, Art. 8)."));
}

#[test]
fn an_unknown_system_is_not_found() {
    let f = Fixture::new();
    let err = lunli_report::system_report(&f.catalogue, &f.store, "ghost", DecisionCounts::default(), &issue())
        .expect_err("no such system");
    assert!(matches!(err, lunli_report::ReportError::Governance(lunli_governance::GovernanceError::NotFound { .. })));
    let size = f.store.ledger_size().expect("size");
    assert_eq!(size, 0, "nothing recorded for a report that was never built");
}

#[test]
fn pages_written_before_the_move_to_maud_still_verify() {
    // Organisation pages recorded, in each language, by the renderer of before (format! and its
    // own escaping): their proof sections must still be exactly what the proof renders to now.
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let read = |name: &str| std::fs::read_to_string(data.join(name)).expect("test data");
    let key = lunli_ledger::key::verifying_key_from_pem(&read("before-maud.pub.pem")).expect("key");
    for lang in ["zh", "en", "both"] {
        let page = read(&format!("org-{lang}.before-maud.html"));
        let verified = verify_html(&page, Some(&key)).unwrap_or_else(|e| panic!("{lang}: {e}"));
        assert_eq!(verified.covers, Covers::Page, "{lang}");
        // ... and a byte changed in the page is still caught.
        let altered = page.replacen("faq-router", "faq-r0uter", 1);
        assert!(verify_html(&altered, Some(&key)).is_err(), "{lang}: an edit went unnoticed");
    }
}

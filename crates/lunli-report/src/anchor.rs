//! Recording a report in the store's ledger and embedding the proof: the report's
//! digest becomes a `report.issue` entry, a tree head is signed over it, and the entry's
//! inclusion proof against that head goes into the document. [`crate::verify`] checks it.

use jiff::Timestamp;
use lunli_governance::ledger_event::{ReportIssue, record_report_issue};
use lunli_governance::store::Store;
use lunli_ledger::store::Ledger;
use lunli_ledger::{Hash, Timestamp as LedgerTime};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ReportError;
use crate::model::DecisionCounts;
use crate::verify::{ANCHOR_METHOD, Inclusion, Verification, content_digest, key_fingerprint};

/// A report with the proof that it was recorded: the JSON document `lunli report` writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document<T> {
    pub report: T,
    pub verification: Verification,
}

/// Records `report` (about `subject`, e.g. `system:credit-scoring` or `organisation`) in the
/// ledger in one transaction, signs a tree head covering it, and returns the document with the
/// entry's inclusion proof against that head. For an HTML page, [`crate::html::anchor_page`]
/// records the page's bytes with it.
pub fn anchor<T: Serialize, S: Store + Ledger>(
    store: &S,
    report: T,
    subject: &str,
    actor: &str,
    at: Timestamp,
) -> Result<Document<T>, ReportError> {
    record(store, report, subject, actor, at, None)
}

/// [`anchor`], with the SHA-256 of the rendered page (proof section empty) as `html_sha256` when
/// there is one, so that every byte a reader sees is covered, not only the content.
pub(crate) fn record<T: Serialize, S: Store + Ledger>(
    store: &S,
    report: T,
    subject: &str,
    actor: &str,
    at: Timestamp,
    page: Option<Hash>,
) -> Result<Document<T>, ReportError> {
    let content = serde_json::to_value(&report).map_err(|e| ReportError::Encode(e.to_string()))?;
    let digest = content_digest(&content).map_err(|e| ReportError::Encode(e.to_string()))?;
    let kind = content.pointer("/header/kind").and_then(Value::as_str).unwrap_or("report");
    let html_sha256 = page.map(|page| page.to_hex());
    let issue = ReportIssue {
        subject,
        kind,
        content_sha256: &digest.to_hex(),
        format: crate::REPORT_FORMAT,
        html_sha256: html_sha256.as_deref(),
    };
    let index = record_report_issue(store, actor, at, issue)?;
    let now = LedgerTime::from_unix_millis(at.as_millisecond()).map_err(|e| ReportError::Encode(e.to_string()))?;
    let head = *store.sign_head(now)?.head();
    let proof = store.inclusion_proof(index, Some(head.head.size))?;
    let key = store.verifying_key()?;
    let public_key_pem =
        lunli_ledger::key::verifying_key_to_pem(&key).map_err(lunli_ledger::store::LedgerError::from)?;
    Ok(Document {
        report,
        verification: Verification {
            method: ANCHOR_METHOD.into(),
            content_sha256: digest,
            leaf_hash: proof.leaf_hash,
            inclusion: Inclusion { index, size: proof.size, path: proof.path },
            entry: proof.entry,
            head,
            public_key_pem,
            key_fingerprint: key_fingerprint(&key),
        },
    })
}

/// Counts the runtime gateway's decisions about `system` in the ledger, streaming it so memory
/// does not grow with the log.
pub fn ledger_decisions(store: &impl Ledger, system: &str) -> Result<DecisionCounts, ReportError> {
    let subject = format!("system:{system}");
    let mut counts = DecisionCounts::default();
    store.scan_entries(0, &mut |entry| {
        if entry.action == "decision" && entry.subject == subject {
            counts.add(&entry.payload, entry.time.to_string());
        }
        true
    })?;
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use lunli_governance::LedgerEvent;
    use lunli_governance::ledger_event::{ReportFile, ReportIssue};
    use serde_json::Value;

    use crate::verify::{FILE_ACTION, REPORT_ACTION};

    /// The verifier looks for the actions governance records: they must be the same strings.
    #[test]
    fn the_verifier_reads_the_actions_governance_records() {
        let issue = ReportIssue {
            subject: "organisation",
            kind: "organisation",
            content_sha256: "",
            format: "",
            html_sha256: None,
        };
        assert_eq!(LedgerEvent::ReportIssue(issue).action(), REPORT_ACTION);
        let kind = Value::from("system");
        let file = ReportFile {
            subject: "system:s",
            kind: &kind,
            format: "pdf",
            file_sha256: "",
            content_sha256: "",
            report_entry: 0,
        };
        assert_eq!(LedgerEvent::ReportFile(file).action(), FILE_ACTION);
    }
}

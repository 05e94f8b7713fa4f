//! Verifying a report offline: that its content is the content recorded in the ledger, that the
//! ledger entry is included in the tree a signed head vouches for, and that the head's signature
//! holds. Needs nothing but the report file and, for trust, the ledger's public key (Art. 12:
//! verifiable and traceable; STYLE habit 9: verifiers stand alone, no storage).
//!
//! # How a report is anchored
//!
//! A report document is `{"report": …, "verification": …}`. `verification.content_sha256` is the
//! SHA-256 of the RFC 8785 canonical JSON bytes of the `report` member alone. The ledger entry
//! (`verification.entry`, action `report.issue`) carries that digest in its payload; its leaf
//! hash is proven to be leaf `index` of the tree of `size` entries whose root the signed tree
//! head (`verification.head`) states, by the RFC 9162 audit path `verification.inclusion.path`.
//!
//! # What a check covers
//!
//! A JSON document is covered whole: its `report` by the content digest, its `verification` by
//! the proof. An HTML page is covered byte for byte ([`verify_html`]): the entry also records
//! `html_sha256`, the SHA-256 of the page with the one proof section between
//! `<!--lunli-proof lang=…-->` and `<!--/lunli-proof-->` left empty (the proof cannot be inside
//! the bytes it proves), and that section must be exactly what its own, proven, verification data
//! renders to. A page made before pages were recorded (no proof section, no `html_sha256`) is
//! checked as before, for its embedded data only, and says so ([`Covers::DataBlock`]). A PDF is
//! covered by its own SHA-256, recorded in a second entry (`report.file`) after it was printed;
//! [`verify_file`] checks that entry's proof, which [`file_proof_in_bundle`] finds in an export.

use lunli_ledger::proof::verify_inclusion;
use lunli_ledger::{Bundle, Entry, Hash, SignedTreeHead, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::html;

/// The anchoring method this crate writes and checks.
pub const ANCHOR_METHOD: &str = "lunli-report-anchor/1";

/// The ledger action that records a report.
pub const REPORT_ACTION: &str = "report.issue";

/// The ledger action that records the SHA-256 of a file written from a report (the PDF).
pub const FILE_ACTION: &str = "report.file";

/// DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410); the key's 32 bytes follow.
const ED25519_SPKI_PREFIX: [u8; 12] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];

/// What a report embeds to prove it was recorded and not altered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    /// Always [`ANCHOR_METHOD`].
    pub method: String,
    /// SHA-256 of the canonical (RFC 8785) bytes of the `report` member.
    pub content_sha256: Hash,
    /// The ledger entry that recorded the report.
    pub entry: Entry,
    pub leaf_hash: Hash,
    pub inclusion: Inclusion,
    /// The signed tree head the inclusion proof leads to.
    pub head: SignedTreeHead,
    /// The ledger's public key as the report's issuer had it (a verifier should bring its own).
    pub public_key_pem: String,
    /// SHA-256 of the DER public key.
    pub key_fingerprint: Hash,
}

/// An RFC 9162 inclusion proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inclusion {
    pub index: u64,
    pub size: u64,
    /// The audit path, lowest level first.
    pub path: Vec<Hash>,
}

/// The proof that a file (a printed PDF) was recorded: its `report.file` entry, included in
/// the tree a signed head vouches for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileProof {
    pub entry: Entry,
    pub inclusion: Inclusion,
    /// The signed head of `inclusion.size` entries; none when no head covers the entry yet.
    pub head: Option<SignedTreeHead>,
}

/// What a successful check vouches for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Covers {
    /// A JSON document: its report content and its proof.
    Document,
    /// Every byte of an HTML page.
    Page,
    /// Only the data block embedded in an HTML page made before pages were recorded: what the
    /// page shows around it is not covered.
    DataBlock,
    /// Every byte of a file whose SHA-256 the ledger recorded (a PDF).
    File,
}

/// A report that verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verified {
    pub covers: Covers,
    /// SHA-256 of the report's canonical content.
    pub content_sha256: Hash,
    /// SHA-256 of the page (HTML, proof section empty) or of the file (PDF) the ledger recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_sha256: Option<Hash>,
    /// The ledger entry that recorded the report, or for a PDF the file.
    pub index: u64,
    pub size: u64,
    pub root: Hash,
    pub head_time: String,
    pub key_fingerprint: Hash,
    /// The head was checked with a key the verifier brought, not only the one in the file.
    pub trusted_key: bool,
}

/// Why a report does not verify: each names what does not hold.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum VerifyError {
    #[error("the file is not a lunli report document: {0}")]
    Malformed(String),
    #[error("the report was altered: its content hashes to {computed}, but it was recorded as {recorded}")]
    ContentAltered { recorded: Hash, computed: Hash },
    #[error("the ledger entry does not record this report: its payload names {in_entry}, the report states {stated}")]
    EntryMismatch { stated: Hash, in_entry: String },
    #[error("the ledger entry was altered: {0}")]
    EntryAltered(String),
    #[error("the inclusion proof does not lead to the signed head's root: {0}")]
    NotIncluded(String),
    #[error("the tree head's signature does not verify with {which}")]
    BadSignature { which: &'static str },
    #[error("the page was altered: {0}")]
    PageAltered(String),
    #[error(
        "no ledger entry records a file with SHA-256 {sha256}: the file was altered since it was written, or it \
         was not written by `lunli report` on this ledger"
    )]
    NotRecorded { sha256: Hash },
    #[error(
        "the public key in the report (fingerprint {embedded}) is not the one given (fingerprint {given}): \
         it was signed by another ledger, or the key in the file was replaced"
    )]
    OtherKey { embedded: Hash, given: Hash },
}

/// SHA-256 of the DER public key: the fingerprint `lunli ledger head` prints.
pub fn key_fingerprint(key: &VerifyingKey) -> Hash {
    let mut der = ED25519_SPKI_PREFIX.to_vec();
    der.extend_from_slice(key.as_bytes());
    Hash::sha256(&der)
}

/// SHA-256 of the canonical (RFC 8785) bytes of a report's content.
pub fn content_digest(report: &Value) -> Result<Hash, VerifyError> {
    let bytes = serde_jcs::to_vec(report).map_err(|e| VerifyError::Malformed(format!("cannot canonicalise: {e}")))?;
    Ok(Hash::sha256(&bytes))
}

/// Verifies a report document (HTML reports carry the same document as JSON). With `trusted`,
/// the head must be signed by that key; without, only by the key in the file, which proves the
/// report is internally consistent but not who signed it.
pub fn verify_document(document: &Value, trusted: Option<&VerifyingKey>) -> Result<Verified, VerifyError> {
    let report = document.get("report").ok_or_else(|| VerifyError::Malformed("no `report` member".into()))?;
    let verification: Verification = serde_json::from_value(
        document
            .get("verification")
            .cloned()
            .ok_or_else(|| VerifyError::Malformed("no `verification` member".into()))?,
    )
    .map_err(|e| VerifyError::Malformed(format!("`verification`: {e}")))?;
    if verification.method != ANCHOR_METHOD {
        return Err(VerifyError::Malformed(format!(
            "`verification.method` is `{}`, expected `{ANCHOR_METHOD}`",
            verification.method
        )));
    }
    let computed = content_digest(report)?;
    if computed != verification.content_sha256 {
        return Err(VerifyError::ContentAltered { recorded: verification.content_sha256, computed });
    }
    let entry = &verification.entry;
    let in_entry = entry.payload.get("content_sha256").and_then(Value::as_str).unwrap_or_default();
    if entry.action != REPORT_ACTION || in_entry != computed.to_hex() {
        return Err(VerifyError::EntryMismatch { stated: computed, in_entry: in_entry.to_string() });
    }
    check_entry(entry, Some(&verification.leaf_hash))?;
    check_included(entry, &verification.inclusion, &verification.head)?;
    let embedded = lunli_ledger::key::verifying_key_from_pem(&verification.public_key_pem)
        .map_err(|e| VerifyError::Malformed(format!("`verification.public_key_pem`: {e}")))?;
    let embedded_fingerprint = key_fingerprint(&embedded);
    if let Some(given) = trusted {
        let given_fingerprint = key_fingerprint(given);
        if given_fingerprint != embedded_fingerprint {
            return Err(VerifyError::OtherKey { embedded: embedded_fingerprint, given: given_fingerprint });
        }
        verification.head.verify(given).map_err(|_| VerifyError::BadSignature { which: "the key given" })?;
    } else {
        verification
            .head
            .verify(&embedded)
            .map_err(|_| VerifyError::BadSignature { which: "the key in the report" })?;
    }
    let inclusion = &verification.inclusion;
    Ok(Verified {
        covers: Covers::Document,
        content_sha256: computed,
        file_sha256: None,
        index: entry.index,
        size: inclusion.size,
        root: verification.head.head.root,
        head_time: verification.head.head.timestamp.to_string(),
        key_fingerprint: embedded_fingerprint,
        trusted_key: trusted.is_some(),
    })
}

/// The entry's own payload digest holds, and it hashes to `stated_leaf` when one is stated.
fn check_entry(entry: &Entry, stated_leaf: Option<&Hash>) -> Result<Hash, VerifyError> {
    let payload = entry.payload_digest().map_err(|e| VerifyError::EntryAltered(e.to_string()))?;
    if payload != entry.payload_sha256 {
        return Err(VerifyError::EntryAltered(format!(
            "its payload hashes to {payload}, the entry states {}",
            entry.payload_sha256
        )));
    }
    let leaf = entry.leaf_hash().map_err(|e| VerifyError::EntryAltered(e.to_string()))?;
    match stated_leaf {
        Some(stated) if *stated != leaf => {
            Err(VerifyError::EntryAltered(format!("it hashes to leaf {leaf}, the report states {stated}")))
        }
        _ => Ok(leaf),
    }
}

/// The audit path leads from the entry's leaf to the root `head` signs.
fn check_included(entry: &Entry, inclusion: &Inclusion, head: &SignedTreeHead) -> Result<(), VerifyError> {
    let leaf = entry.leaf_hash().map_err(|e| VerifyError::EntryAltered(e.to_string()))?;
    if inclusion.index != entry.index || inclusion.size != head.head.size {
        return Err(VerifyError::NotIncluded(format!(
            "the proof is for entry {} in a tree of {}, but the entry is {} and the head covers {}",
            inclusion.index, inclusion.size, entry.index, head.head.size
        )));
    }
    verify_inclusion(inclusion.index, inclusion.size, &leaf, &inclusion.path, head.head.root)
        .map_err(|e| VerifyError::NotIncluded(e.to_string()))
}

/// Verifies an HTML report: every byte outside its proof section is the page the ledger
/// recorded (`html_sha256`), the proof section is exactly what its proven data renders to, and
/// that data verifies as a document ([`verify_document`]). A page made before pages were
/// recorded verifies as before, for its embedded data only ([`Covers::DataBlock`]); a page whose
/// entry records a page digest must carry its proof section.
pub fn verify_html(page: &str, trusted: Option<&VerifyingKey>) -> Result<Verified, VerifyError> {
    let Some(parts) = html::proof_parts(page) else {
        let legacy = html::embedded_document(page).ok_or_else(|| {
            VerifyError::Malformed("not an HTML report written by `lunli report` (no embedded document)".into())
        })?;
        let document: Value =
            serde_json::from_str(&legacy).map_err(|e| VerifyError::Malformed(format!("the embedded document: {e}")))?;
        let verified = verify_document(&document, trusted)?;
        if let Some(recorded) = document.pointer("/verification/entry/payload/html_sha256").and_then(Value::as_str) {
            return Err(VerifyError::PageAltered(format!(
                "the ledger recorded it as a page of SHA-256 {recorded}, but it has no proof section to check \
                 that against"
            )));
        }
        return Ok(Verified { covers: Covers::DataBlock, ..verified });
    };
    let document = html::embedded_document(page)
        .ok_or_else(|| VerifyError::Malformed("the page's data blocks are missing".into()))?;
    let document: Value =
        serde_json::from_str(&document).map_err(|e| VerifyError::Malformed(format!("the embedded document: {e}")))?;
    let verified = verify_document(&document, trusted)?;
    let computed = Hash::sha256(parts.unsealed.as_bytes());
    let recorded = document.pointer("/verification/entry/payload/html_sha256").and_then(Value::as_str);
    match recorded {
        Some(recorded) if recorded == computed.to_hex() => {}
        Some(recorded) => {
            return Err(VerifyError::PageAltered(format!(
                "its bytes outside the proof section hash to {computed}, but it was recorded as {recorded}"
            )));
        }
        None => {
            return Err(VerifyError::PageAltered(format!(
                "its bytes hash to {computed}, but its ledger entry records no page, only the report's content"
            )));
        }
    }
    // The proof section is shown to readers too: it must be exactly what the proven data renders.
    let verification: Verification = document
        .get("verification")
        .cloned()
        .map(serde_json::from_value)
        .transpose()
        .map_err(|e| VerifyError::Malformed(format!("`verification`: {e}")))?
        .ok_or_else(|| VerifyError::Malformed("no `verification` member".into()))?;
    if html::proof_section(parts.lang, &verification) != parts.section {
        return Err(VerifyError::PageAltered(
            "its verification section is not the one its proof renders to (it was edited)".into(),
        ));
    }
    Ok(Verified { covers: Covers::Page, file_sha256: Some(computed), ..verified })
}

/// Whether `entry` records a file of SHA-256 `sha256`.
pub fn records_file(entry: &Entry, sha256: &Hash) -> bool {
    entry.action == FILE_ACTION
        && entry.payload.get("file_sha256").and_then(Value::as_str) == Some(sha256.to_hex().as_str())
}

/// Verifies that a file of SHA-256 `sha256` (a PDF's bytes) is the one `proof` records, and that
/// the entry is in the tree a head signed with `key` vouches for. `trusted_key` says whether the
/// verifier brought `key` (else it is the ledger's own, read from its data directory).
pub fn verify_file(
    sha256: &Hash,
    proof: &FileProof,
    key: &VerifyingKey,
    trusted_key: bool,
) -> Result<Verified, VerifyError> {
    let entry = &proof.entry;
    if !records_file(entry, sha256) {
        return Err(VerifyError::NotRecorded { sha256: *sha256 });
    }
    check_entry(entry, None)?;
    let head = proof.head.as_ref().ok_or_else(|| {
        VerifyError::NotIncluded(format!(
            "no signed tree head covers entry {} yet: run `lunli ledger head --sign`",
            entry.index
        ))
    })?;
    check_included(entry, &proof.inclusion, head)?;
    head.verify(key).map_err(|_| VerifyError::BadSignature {
        which: if trusted_key { "the key given" } else { "the ledger's key" },
    })?;
    let content = entry.payload.get("content_sha256").and_then(Value::as_str).unwrap_or_default();
    let content_sha256 = Hash::from_hex(content)
        .map_err(|e| VerifyError::EntryAltered(format!("its `content_sha256` is not a SHA-256 (`{content}`): {e}")))?;
    Ok(Verified {
        covers: Covers::File,
        content_sha256,
        file_sha256: Some(*sha256),
        index: entry.index,
        size: head.head.size,
        root: head.head.root,
        head_time: head.head.timestamp.to_string(),
        key_fingerprint: key_fingerprint(key),
        trusted_key,
    })
}

/// Finds the entry recording a file of SHA-256 `sha256` in an exported ledger (`lunli ledger
/// export`) and builds its inclusion proof against the largest signed head covering it, for
/// [`verify_file`]. `None` when no entry records the file.
pub fn file_proof_in_bundle(bundle: &Bundle, sha256: &Hash) -> Result<Option<FileProof>, VerifyError> {
    let Some(entry) = bundle.entries.iter().find(|e| records_file(e, sha256)) else {
        return Ok(None);
    };
    let available = bundle.entries.len() as u64;
    let head = bundle
        .heads
        .iter()
        .filter(|h| h.head.size > entry.index && h.head.size <= available)
        .max_by_key(|h| h.head.size)
        .copied();
    let size = head.map(|h| h.head.size).unwrap_or(available);
    let leaves = bundle
        .entries
        .iter()
        .take(usize::try_from(size).unwrap_or(usize::MAX))
        .map(Entry::leaf_hash)
        .collect::<Result<Vec<Hash>, _>>()
        .map_err(|e| VerifyError::EntryAltered(e.to_string()))?;
    let path = lunli_ledger::proof::inclusion_proof(&leaves, entry.index, size)
        .map_err(|e| VerifyError::NotIncluded(e.to_string()))?;
    Ok(Some(FileProof { entry: entry.clone(), inclusion: Inclusion { index: entry.index, size, path }, head }))
}

//! [`Entry`]: one record in the ledger, and the canonical bytes its leaf hash is computed from.
//!
//! # The canonical form (entry format 1)
//!
//! An entry's leaf bytes are the [RFC 8785](https://www.rfc-editor.org/rfc/rfc8785) JSON
//! Canonicalization Scheme (JCS) serialisation of one JSON object with exactly these nine
//! members, listed in the order JCS writes them (names sorted by UTF-16 code unit, which for
//! these ASCII names is plain byte order):
//!
//! | member           | JSON type | content |
//! |------------------|-----------|---------|
//! | `action`         | string    | what was done, e.g. `"system.register"` |
//! | `actor`          | string    | who did it, e.g. `"user:alice"` |
//! | `index`          | number    | the entry's position in the log, from 0, at most 2^53 − 1 |
//! | `payload`        | any       | the details, an arbitrary JSON value |
//! | `payload_sha256` | string    | 64 lowercase hex digits: SHA-256 of the JCS bytes of `payload` alone |
//! | `prev_leaf_hash` | string    | 64 lowercase hex digits: the leaf hash of entry `index − 1`; 64 zeros for entry 0 |
//! | `subject`        | string    | what it was done to, e.g. `"system:credit-scoring"` |
//! | `time`           | string    | when, in UTC: `YYYY-MM-DDTHH:MM:SS.sssZ` (see [`Timestamp`]) |
//! | `v`              | number    | the entry format, `1` |
//!
//! JCS writes no whitespace; strings as UTF-8 with only `"`, `\` and the control characters
//! U+0000–U+001F escaped (`\b \t \n \f \r`, otherwise `\u00xx` in lower case); numbers as
//! ECMAScript's `Number.prototype.toString` writes an IEEE-754 double (`7`, not `7.0`; `4.5`;
//! `1e+30`; `-0` as `0`); and the members of every object inside `payload` sorted the same way,
//! recursively. Because numbers
//! are doubles, an integer in the payload beyond ±(2^53 − 1) would be rounded, letting two
//! different payloads share a hash; such payloads are refused ([`EntryError::UnsafeNumber`]) —
//! record big integers as strings.
//!
//! The leaf hash is `SHA-256(0x00 || canonical bytes)` ([`crate::leaf_hash`]). The `payload_sha256`
//! member lets a report or an index cite the payload on its own; `prev_leaf_hash` chains each
//! entry to the one before it, so a gap or a change shows at the very next entry even before the
//! Merkle root is checked.
//!
//! An entry serialises to JSON (in a [`crate::Bundle`], say) as this same object, so an auditor
//! can also take an exported entry object, canonicalise it with any RFC 8785 implementation and
//! hash it. For example, this entry:
//!
//! ```json
//! {"action":"system.register","actor":"user:alice","index":0,
//!  "payload":{"name":"Credit scoring","tier":"high"},
//!  "payload_sha256":"6c4258770b2d5ed72d8c6b6b752353c7b8b70602b205944aa27b96154fbf5aab",
//!  "prev_leaf_hash":"0000000000000000000000000000000000000000000000000000000000000000",
//!  "subject":"system:credit-scoring","time":"2026-05-01T09:30:00.000Z","v":1}
//! ```
//!
//! is, without the line breaks, its own canonical form, and its leaf hash is
//! `ce085bc84b74bb1f8d7befe1869221387b37bcbe3cb89ea1ba76e524b777a989` (pinned by this module's
//! tests).

use std::io::Write as _;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::error::EntryError;
use crate::hash::{Hash, leaf_hash};
use crate::payload::{CanonicalPayload, write_string};
use crate::time::Timestamp;

/// The entry format this crate writes and reads (the `v` member).
pub const ENTRY_FORMAT: u32 = 1;

/// The largest entry index: 2^53 − 1, the largest integer a canonical JSON number carries exactly.
pub const MAX_INDEX: u64 = (1 << 53) - 1;

/// The deepest nesting of arrays and objects a payload may have (serde_json's parsing limit).
pub const MAX_PAYLOAD_DEPTH: usize = 128;

/// The content of an entry before it has a place in the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEntry {
    /// When it happened.
    pub time: Timestamp,
    /// Who did it, e.g. `"user:alice"`.
    pub actor: String,
    /// What was done, e.g. `"system.register"`.
    pub action: String,
    /// What it was done to, e.g. `"system:credit-scoring"`.
    pub subject: String,
    /// The details.
    pub payload: Value,
}

/// One ledger record, with its place in the log and the hashes that tie it in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Position in the log, from 0.
    pub index: u64,
    /// When it happened.
    pub time: Timestamp,
    /// Who did it.
    pub actor: String,
    /// What was done.
    pub action: String,
    /// What it was done to.
    pub subject: String,
    /// The details.
    pub payload: Value,
    /// SHA-256 of the canonical JSON bytes of `payload`.
    pub payload_sha256: Hash,
    /// The leaf hash of entry `index - 1`; [`Hash::ZERO`] for entry 0.
    pub prev_leaf_hash: Hash,
}

impl Entry {
    /// Places `content` at `index`, after the entry whose leaf hash is `prev_leaf_hash`
    /// ([`Hash::ZERO`] for index 0), and computes `payload_sha256`.
    pub fn new(index: u64, prev_leaf_hash: Hash, content: NewEntry) -> Result<Entry, EntryError> {
        check_fields(index, &content.actor, &content.action, &content.subject)?;
        let payload_sha256 = payload_digest(index, &content.payload)?;
        let NewEntry { time, actor, action, subject, payload } = content;
        Ok(Entry { index, time, actor, action, subject, payload, payload_sha256, prev_leaf_hash })
    }

    /// Entry 0.
    pub fn first(content: NewEntry) -> Result<Entry, EntryError> {
        Entry::new(0, Hash::ZERO, content)
    }

    /// The entry after this one.
    pub fn next(&self, content: NewEntry) -> Result<Entry, EntryError> {
        let index = self.index.checked_add(1).ok_or(EntryError::IndexTooLarge { index: self.index })?;
        Entry::new(index, self.leaf_hash()?, content)
    }

    /// The canonical bytes (see the module documentation): the leaf's data.
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, EntryError> {
        if self.index > MAX_INDEX {
            return Err(EntryError::IndexTooLarge { index: self.index });
        }
        check_payload(self.index, &self.payload)?;
        serde_jcs::to_vec(self)
            .map_err(|err| EntryError::Canonicalization { index: self.index, reason: err.to_string() })
    }

    /// `SHA-256(0x00 || canonical bytes)`: the entry's leaf hash in the Merkle tree.
    pub fn leaf_hash(&self) -> Result<Hash, EntryError> {
        Ok(leaf_hash(&self.canonical_bytes()?))
    }

    /// SHA-256 of the canonical bytes of `payload` as it is now; equal to `payload_sha256`
    /// unless the payload was changed after the entry was made.
    pub fn payload_digest(&self) -> Result<Hash, EntryError> {
        payload_digest(self.index, &self.payload)
    }
}

/// An entry's content, borrowed: what [`canonical_entry`] writes without building an [`Entry`].
/// The payload is a JSON value, or already canonical ([`PreparedContent`]).
#[derive(Debug)]
pub struct EntryContent<'a, P = Value> {
    pub time: Timestamp,
    pub actor: &'a str,
    pub action: &'a str,
    pub subject: &'a str,
    pub payload: &'a P,
}

// By hand: derived, they would ask the payload type to be `Copy`, though only a reference is held.
impl<P> Clone for EntryContent<'_, P> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P> Copy for EntryContent<'_, P> {}

/// An entry's content with its payload already canonical: what [`canonical_prepared_entry`]
/// writes. The payload was made by [`crate::CanonicalObject`], on whatever thread made the event.
pub type PreparedContent<'a> = EntryContent<'a, CanonicalPayload>;

/// The canonical bytes of the entry `content` becomes at `index` after the entry whose leaf hash
/// is `prev_leaf_hash`: the same bytes as `Entry::new(..)?.canonical_bytes()`, and the same errors,
/// for a writer that needs only the bytes. The payload is canonicalised once — for its digest and
/// as the `payload` member — where building the entry first canonicalises it twice, and nothing
/// is copied.
pub fn canonical_entry(index: u64, prev_leaf_hash: &Hash, content: EntryContent<'_>) -> Result<Vec<u8>, EntryError> {
    let EntryContent { time, actor, action, subject, payload } = content;
    check_fields(index, actor, action, subject)?;
    let payload_bytes = canonical_payload(index, payload)?;
    let payload_sha256 = Hash::sha256(&payload_bytes);
    Ok(write_entry(index, prev_leaf_hash, time, [action, actor, subject], &payload_bytes, &payload_sha256))
}

/// [`canonical_entry`] for a payload made canonical ahead of time: only the entry's own members
/// are written here, around the payload's bytes and digest.
pub fn canonical_prepared_entry(
    index: u64,
    prev_leaf_hash: &Hash,
    content: PreparedContent<'_>,
) -> Result<Vec<u8>, EntryError> {
    let PreparedContent { time, actor, action, subject, payload } = content;
    check_fields(index, actor, action, subject)?;
    if index > MAX_INDEX {
        return Err(EntryError::IndexTooLarge { index });
    }
    Ok(write_entry(index, prev_leaf_hash, time, [action, actor, subject], payload.bytes(), payload.sha256()))
}

/// The entry's object around a canonical payload. Its members are written in the order the
/// module documentation gives (fixed ASCII names); their values are strings, hex hashes, the
/// time and two integers at most 2^53 − 1, which serde_json writes exactly as RFC 8785 does
/// (the property tests hold it to `serde_jcs`), and without the canonicaliser's buffering.
fn write_entry(
    index: u64,
    prev_leaf_hash: &Hash,
    time: Timestamp,
    [action, actor, subject]: [&str; 3],
    payload: &[u8],
    payload_sha256: &Hash,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 320);
    let mut digits = [0; 64];
    out.extend_from_slice(br#"{"action":"#);
    write_string(&mut out, action);
    out.extend_from_slice(br#","actor":"#);
    write_string(&mut out, actor);
    out.extend_from_slice(br#","index":"#);
    // Writing into a `Vec` cannot fail.
    let _ = write!(out, "{index}");
    out.extend_from_slice(br#","payload":"#);
    out.extend_from_slice(payload);
    out.extend_from_slice(br#","payload_sha256":""#);
    out.extend_from_slice(payload_sha256.hex(&mut digits).as_bytes());
    out.extend_from_slice(br#"","prev_leaf_hash":""#);
    out.extend_from_slice(prev_leaf_hash.hex(&mut digits).as_bytes());
    out.extend_from_slice(br#"","subject":"#);
    write_string(&mut out, subject);
    out.extend_from_slice(br#","time":""#);
    let _ = write!(out, "{time}");
    out.extend_from_slice(br#"","v":"#);
    let _ = write!(out, "{ENTRY_FORMAT}");
    out.push(b'}');
    out
}

fn jcs_failed(index: u64, err: serde_json::Error) -> EntryError {
    EntryError::Canonicalization { index, reason: err.to_string() }
}

/// Refuses an entry whose actor, action or subject is empty.
fn check_fields(index: u64, actor: &str, action: &str, subject: &str) -> Result<(), EntryError> {
    for (field, value) in [("actor", actor), ("action", action), ("subject", subject)] {
        if value.is_empty() {
            return Err(EntryError::EmptyField { index, field });
        }
    }
    Ok(())
}

fn payload_digest(index: u64, payload: &Value) -> Result<Hash, EntryError> {
    Ok(Hash::sha256(&canonical_payload(index, payload)?))
}

/// The JCS bytes of the payload of entry `index`, refused when the index or the payload cannot
/// be carried faithfully.
fn canonical_payload(index: u64, payload: &Value) -> Result<Vec<u8>, EntryError> {
    if index > MAX_INDEX {
        return Err(EntryError::IndexTooLarge { index });
    }
    check_payload(index, payload)?;
    serde_jcs::to_vec(payload).map_err(|err| jcs_failed(index, err))
}

/// Refuses payloads that canonical JSON would not carry faithfully: integers beyond ±(2^53 − 1)
/// and nesting beyond [`MAX_PAYLOAD_DEPTH`].
fn check_payload(index: u64, payload: &Value) -> Result<(), EntryError> {
    let mut pointer = Vec::new();
    walk(index, payload, 0, &mut pointer)
}

/// One step of the path to a value: borrowed while walking, since every entry's payload is walked
/// (every decision's, on the gateway's writer) and the path is written out only for a refusal.
enum Step<'a> {
    Item(usize),
    Member(&'a str),
}

fn walk<'a>(index: u64, value: &'a Value, depth: usize, pointer: &mut Vec<Step<'a>>) -> Result<(), EntryError> {
    match value {
        Value::Null | Value::Bool(_) | Value::String(_) => Ok(()),
        Value::Number(number) => {
            let unsafe_integer = match (number.as_u64(), number.as_i64()) {
                (Some(n), _) => n > MAX_INDEX,
                (None, Some(n)) => n.unsigned_abs() > MAX_INDEX,
                (None, None) => false, // a finite double, carried exactly
            };
            if unsafe_integer {
                return Err(EntryError::UnsafeNumber {
                    index,
                    pointer: json_pointer(pointer),
                    number: number.to_string(),
                });
            }
            Ok(())
        }
        Value::Array(items) => {
            nested(index, depth)?;
            for (position, item) in items.iter().enumerate() {
                pointer.push(Step::Item(position));
                walk(index, item, depth + 1, pointer)?;
                pointer.pop();
            }
            Ok(())
        }
        Value::Object(members) => {
            nested(index, depth)?;
            for (name, member) in members {
                pointer.push(Step::Member(name));
                walk(index, member, depth + 1, pointer)?;
                pointer.pop();
            }
            Ok(())
        }
    }
}

fn nested(index: u64, depth: usize) -> Result<(), EntryError> {
    if depth >= MAX_PAYLOAD_DEPTH {
        return Err(EntryError::PayloadTooDeep { index, limit: MAX_PAYLOAD_DEPTH });
    }
    Ok(())
}

/// RFC 6901: `/` before each step, and `~` and `/` in a member's name escaped as `~0` and `~1`.
fn json_pointer(steps: &[Step<'_>]) -> String {
    steps
        .iter()
        .map(|step| match step {
            Step::Item(position) => format!("/{position}"),
            Step::Member(name) => format!("/{}", name.replace('~', "~0").replace('/', "~1")),
        })
        .collect()
}

/// The JSON object of the module documentation, borrowed for writing.
#[derive(Serialize)]
struct EntryRef<'a> {
    action: &'a str,
    actor: &'a str,
    index: u64,
    payload: &'a Value,
    payload_sha256: &'a Hash,
    prev_leaf_hash: &'a Hash,
    subject: &'a str,
    time: &'a Timestamp,
    v: u32,
}

/// The JSON object of the module documentation, owned for reading.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryOwned {
    action: String,
    actor: String,
    index: u64,
    payload: Value,
    payload_sha256: Hash,
    prev_leaf_hash: Hash,
    subject: String,
    time: Timestamp,
    v: u32,
}

impl Serialize for Entry {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        EntryRef {
            action: &self.action,
            actor: &self.actor,
            index: self.index,
            payload: &self.payload,
            payload_sha256: &self.payload_sha256,
            prev_leaf_hash: &self.prev_leaf_hash,
            subject: &self.subject,
            time: &self.time,
            v: ENTRY_FORMAT,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let owned = EntryOwned::deserialize(deserializer)?;
        if owned.v != ENTRY_FORMAT {
            return Err(serde::de::Error::custom(format_args!(
                "entry {} has format v = {}, but this version of lunli reads only v = {ENTRY_FORMAT}",
                owned.index, owned.v
            )));
        }
        let EntryOwned { action, actor, index, payload, payload_sha256, prev_leaf_hash, subject, time, v: _ } = owned;
        Ok(Entry { index, time, actor, action, subject, payload, payload_sha256, prev_leaf_hash })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn content(payload: Value) -> NewEntry {
        NewEntry {
            time: Timestamp::parse("2026-05-01T09:30:00.000Z").unwrap(),
            actor: "user:alice".into(),
            action: "system.register".into(),
            subject: "system:credit-scoring".into(),
            payload,
        }
    }

    #[test]
    fn canonical_form_is_pinned() {
        let entry = Entry::first(content(json!({"tier": "high", "name": "Credit scoring"}))).unwrap();
        let bytes = entry.canonical_bytes().unwrap();
        let expected = concat!(
            r#"{"action":"system.register","actor":"user:alice","index":0,"#,
            r#""payload":{"name":"Credit scoring","tier":"high"},"#,
            r#""payload_sha256":"PAYLOAD","#,
            r#""prev_leaf_hash":"0000000000000000000000000000000000000000000000000000000000000000","#,
            r#""subject":"system:credit-scoring","time":"2026-05-01T09:30:00.000Z","v":1}"#
        )
        .replace("PAYLOAD", &Hash::sha256(br#"{"name":"Credit scoring","tier":"high"}"#).to_hex());
        assert_eq!(String::from_utf8(bytes).unwrap(), expected);
        assert_eq!(entry.payload_sha256.to_hex(), PINNED_PAYLOAD_SHA256);
        assert_eq!(entry.leaf_hash().unwrap().to_hex(), PINNED_LEAF_HASH);
        // The JSON form of an entry is the same object, so canonicalising it gives the same bytes.
        let exported: Value = serde_json::to_value(&entry).unwrap();
        assert_eq!(serde_jcs::to_vec(&exported).unwrap(), entry.canonical_bytes().unwrap());
    }

    const PINNED_PAYLOAD_SHA256: &str = "6c4258770b2d5ed72d8c6b6b752353c7b8b70602b205944aa27b96154fbf5aab";
    const PINNED_LEAF_HASH: &str = "ce085bc84b74bb1f8d7befe1869221387b37bcbe3cb89ea1ba76e524b777a989";

    #[test]
    fn jcs_follows_rfc8785_for_numbers_strings_and_key_order() {
        // RFC 8785 §3.2.2's example of number and string serialisation.
        let value: Value = serde_json::from_str(
            r#"{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
                "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
                "literals": [null, true, false]}"#,
        )
        .unwrap();
        let canonical = String::from_utf8(serde_jcs::to_vec(&value).unwrap()).unwrap();
        assert_eq!(
            canonical,
            "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],\
             \"string\":\"€$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}"
        );
        // RFC 8785 §3.2.3: names sort by UTF-16 code units, so U+1F600 (a surrogate pair) sorts
        // before U+FB33 although its UTF-8 bytes are greater.
        let sorted: Value = serde_json::from_str(r#"{"\ufb33": 1, "\ud83d\ude00": 2, "\u0080": 3, "1": 4}"#).unwrap();
        assert_eq!(
            String::from_utf8(serde_jcs::to_vec(&sorted).unwrap()).unwrap(),
            "{\"1\":4,\"\u{80}\":3,\"\u{1f600}\":2,\"\u{fb33}\":1}"
        );
    }

    #[test]
    fn entries_chain_through_leaf_hashes() {
        let first = Entry::first(content(json!(null))).unwrap();
        let second = first.next(content(json!([1, 2.5, "x"]))).unwrap();
        assert_eq!(second.index, 1);
        assert_eq!(second.prev_leaf_hash, first.leaf_hash().unwrap());
        assert_eq!(second.payload_digest().unwrap(), second.payload_sha256);
    }

    #[test]
    fn unfaithful_payloads_and_empty_fields_are_refused() {
        let big = Entry::first(content(json!({"ids": [1, 9_007_199_254_740_992u64]})));
        assert_eq!(
            big,
            Err(EntryError::UnsafeNumber { index: 0, pointer: "/ids/1".into(), number: "9007199254740992".into() })
        );
        let negative = Entry::first(content(json!({"a/b": -9_007_199_254_740_993i64})));
        assert!(matches!(negative, Err(EntryError::UnsafeNumber { pointer, .. }) if pointer == "/a~1b"));
        // RFC 6901 escapes `~` before `/`, so the `~1` it writes for `/` is not escaped again.
        let nested = Entry::first(content(json!({"x": [0, {"m~/n": 9_007_199_254_740_993u64}]})));
        assert!(
            matches!(&nested, Err(EntryError::UnsafeNumber { pointer, .. }) if pointer == "/x/1/m~0~1n"),
            "{nested:?}"
        );
        assert!(Entry::first(content(json!({"ok": 9_007_199_254_740_991u64, "f": 1.0e300}))).is_ok());

        let mut deep = json!(0);
        for _ in 0..MAX_PAYLOAD_DEPTH + 1 {
            deep = json!([deep]);
        }
        assert_eq!(Entry::first(content(deep)), Err(EntryError::PayloadTooDeep { index: 0, limit: MAX_PAYLOAD_DEPTH }));

        let mut nameless = content(json!(null));
        nameless.actor.clear();
        assert_eq!(Entry::first(nameless), Err(EntryError::EmptyField { index: 0, field: "actor" }));

        assert_eq!(
            Entry::new(MAX_INDEX + 1, Hash::ZERO, content(json!(1))),
            Err(EntryError::IndexTooLarge { index: MAX_INDEX + 1 })
        );
    }

    #[test]
    fn a_prepared_payload_is_refused_like_any_other_entry() {
        let mut object = crate::CanonicalObject::new();
        object.string("a", "b");
        let payload = object.finish().unwrap();
        let time = Timestamp::parse("2026-05-01T09:30:00.000Z").unwrap();
        let content = PreparedContent { time, actor: "u", action: "x", subject: "", payload: &payload };
        assert_eq!(
            canonical_prepared_entry(0, &Hash::ZERO, content),
            Err(EntryError::EmptyField { index: 0, field: "subject" })
        );
        let content = PreparedContent { subject: "s", ..content };
        assert_eq!(
            canonical_prepared_entry(MAX_INDEX + 1, &Hash::ZERO, content),
            Err(EntryError::IndexTooLarge { index: MAX_INDEX + 1 })
        );
        let bytes = canonical_prepared_entry(MAX_INDEX, &Hash::ZERO, content).unwrap();
        let entry: Entry = serde_json::from_slice(&bytes).unwrap();
        assert_eq!((entry.index, entry.payload), (MAX_INDEX, json!({"a": "b"})));
        assert_eq!(entry.payload_sha256, *payload.sha256());
    }

    #[test]
    fn json_form_round_trips_and_is_strict() {
        let entry = Entry::first(content(json!({"k": [true, null]}))).unwrap();
        let json = serde_json::to_string(&entry).unwrap();
        assert_eq!(serde_json::from_str::<Entry>(&json).unwrap(), entry);
        let extra = json.replacen('{', r#"{"note":"x","#, 1);
        assert!(serde_json::from_str::<Entry>(&extra).unwrap_err().to_string().contains("unknown field"));
        let v2 = json.replace(r#""v":1"#, r#""v":2"#);
        assert!(serde_json::from_str::<Entry>(&v2).unwrap_err().to_string().contains("v = 2"));
    }
}

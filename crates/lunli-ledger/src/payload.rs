//! [`CanonicalPayload`]: a payload already in its canonical (RFC 8785) form, with its SHA-256,
//! so that the thread which made an event can do that work and the one writer that appends
//! entries only places the bytes.
//!
//! The only way to make one is [`CanonicalObject`], which writes a flat object member by member
//! from typed values. It accepts just what it can write faithfully without a JSON value tree:
//! strings, arrays of strings, numbers as doubles, and `null`. So no integer can be rounded and
//! no object nests, and the RFC 8785 rules left are the member order and the escaping and number
//! forms:
//! - names are given in the order JCS sorts them and must be plain ASCII (`a`–`z`, `0`–`9`, `_`),
//!   where UTF-16 order is byte order and no name needs escaping; a name out of order is refused
//!   when the object is finished, never written out of order;
//! - strings are written by serde_json, whose compact escaping is RFC 8785's (only `"`, `\` and
//!   U+0000–U+001F, as `\b \t \n \f \r` or lower-case `\u00xx`); the tests hold it to
//!   `serde_jcs` on arbitrary strings;
//! - numbers are written by `ryu-js`, the ECMAScript `Number.prototype.toString` form that
//!   `serde_jcs` itself uses; a non-finite double is written `null`, as a `serde_json::Value`
//!   would hold it.

use crate::error::PayloadError;
use crate::hash::Hash;

/// A payload's RFC 8785 bytes and their SHA-256 (the entry's `payload_sha256`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CanonicalPayload {
    bytes: Vec<u8>,
    sha256: Hash,
}

impl CanonicalPayload {
    /// The canonical bytes: what the entry holds as its `payload` member.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// SHA-256 of [`Self::bytes`].
    pub fn sha256(&self) -> &Hash {
        &self.sha256
    }
}

/// Writes a flat JSON object in canonical form, member by member; see the module documentation
/// for what it accepts.
#[derive(Debug)]
pub struct CanonicalObject {
    out: Vec<u8>,
    last: Option<&'static str>,
    refused: Option<PayloadError>,
}

impl Default for CanonicalObject {
    fn default() -> Self {
        Self::new()
    }
}

impl CanonicalObject {
    pub fn new() -> Self {
        let mut out = Vec::with_capacity(256);
        out.push(b'{');
        CanonicalObject { out, last: None, refused: None }
    }

    /// A string member.
    pub fn string(&mut self, name: &'static str, value: &str) -> &mut Self {
        if self.name(name) {
            write_string(&mut self.out, value);
        }
        self
    }

    /// A string member, or `null` when there is none.
    pub fn optional_string(&mut self, name: &'static str, value: Option<&str>) -> &mut Self {
        if self.name(name) {
            match value {
                Some(value) => write_string(&mut self.out, value),
                None => self.out.extend_from_slice(b"null"),
            }
        }
        self
    }

    /// A number member, or `null` when there is none or it is not finite.
    pub fn optional_number(&mut self, name: &'static str, value: Option<f64>) -> &mut Self {
        if self.name(name) {
            match value.filter(|v| v.is_finite()) {
                Some(value) => self.out.extend_from_slice(ryu_js::Buffer::new().format_finite(value).as_bytes()),
                None => self.out.extend_from_slice(b"null"),
            }
        }
        self
    }

    /// An array of strings.
    pub fn strings<'a>(&mut self, name: &'static str, values: impl IntoIterator<Item = &'a str>) -> &mut Self {
        if self.name(name) {
            self.out.push(b'[');
            for (position, value) in values.into_iter().enumerate() {
                if position > 0 {
                    self.out.push(b',');
                }
                write_string(&mut self.out, value);
            }
            self.out.push(b']');
        }
        self
    }

    /// The finished object and its digest, or the first name that was out of order or not plain.
    pub fn finish(self) -> Result<CanonicalPayload, PayloadError> {
        if let Some(refused) = self.refused {
            return Err(refused);
        }
        let mut bytes = self.out;
        bytes.push(b'}');
        let sha256 = Hash::sha256(&bytes);
        Ok(CanonicalPayload { bytes, sha256 })
    }

    /// Writes `"name":` (with the comma before it), or records why it cannot; false when the
    /// member is not to be written.
    fn name(&mut self, name: &'static str) -> bool {
        if self.refused.is_some() {
            return false;
        }
        let plain = !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !plain {
            self.refused = Some(PayloadError::NameNotPlain { name });
            return false;
        }
        if let Some(last) = self.last {
            if name <= last {
                self.refused = Some(PayloadError::NameOutOfOrder { name, after: last });
                return false;
            }
            self.out.push(b',');
        }
        self.last = Some(name);
        self.out.push(b'"');
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b"\":");
        true
    }
}

/// A JSON string in RFC 8785 form (serde_json's compact escaping is that form).
pub(crate) fn write_string(out: &mut Vec<u8>, value: &str) {
    // Serialising a `str` into a `Vec` has no way to fail: the writer cannot, nor can the value.
    let written = serde_json::to_writer(&mut *out, value);
    debug_assert!(written.is_ok());
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn writes_what_serde_jcs_writes_for_the_same_object() {
        let mut object = CanonicalObject::new();
        object
            .optional_string("channel", None)
            .optional_number("confidence", Some(0.25))
            .string("id", "d-\u{1}\"\\é")
            .optional_number("n", Some(f64::NAN))
            .strings("reasons", ["a", "b\n"])
            .strings("z", []);
        let payload = object.finish().expect("in order");
        let expected = serde_jcs::to_vec(&json!({
            "z": [], "reasons": ["a", "b\n"], "n": null, "id": "d-\u{1}\"\\é", "confidence": 0.25, "channel": null,
        }))
        .expect("jcs");
        assert_eq!(String::from_utf8_lossy(payload.bytes()), String::from_utf8_lossy(&expected));
        assert_eq!(*payload.sha256(), Hash::sha256(&expected));
    }

    #[test]
    fn an_empty_object_is_braces() {
        let payload = CanonicalObject::new().finish().expect("empty");
        assert_eq!(payload.bytes(), b"{}");
    }

    #[test]
    fn names_out_of_order_or_not_plain_are_refused() {
        let mut object = CanonicalObject::new();
        object.string("b", "x").string("a", "y").string("c", "z");
        assert_eq!(object.finish(), Err(PayloadError::NameOutOfOrder { name: "a", after: "b" }));
        let mut repeated = CanonicalObject::new();
        repeated.string("a", "x").string("a", "y");
        assert_eq!(repeated.finish(), Err(PayloadError::NameOutOfOrder { name: "a", after: "a" }));
        for name in ["", "A", "a\"", "é", "a-b"] {
            let mut object = CanonicalObject::new();
            object.string(name, "x");
            assert_eq!(object.finish(), Err(PayloadError::NameNotPlain { name }), "{name:?}");
        }
    }
}

//! One reader per container format. Each reads only the structures that can hold metadata —
//! headers, text chunks, tags, metadata boxes — and seeks over image data, audio frames and
//! media data. Each reports every AIGC value it finds with where it was.

pub(crate) mod flac;
pub(crate) mod gif;
pub(crate) mod id3;
pub(crate) mod jpeg;
pub(crate) mod mp4;
pub(crate) mod pdf;
pub(crate) mod png;
pub(crate) mod riff;
pub(crate) mod text;

use crate::fields::Problem;
use crate::xmp;

/// An AIGC value found in a file.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    /// Where, e.g. `PNG iTXt XML:com.adobe.xmp → TC260:AIGC`.
    pub location: String,
    /// The JSON text of the value.
    pub value: String,
    /// Problems of the container rather than of the fields (an undeclared namespace).
    pub problems: Vec<Problem>,
}

/// The AIGC values of an XMP packet found at `location`.
pub(crate) fn from_xmp(location: &str, packet: &[u8], found: &mut Vec<Found>) {
    let text = String::from_utf8_lossy(packet);
    for v in xmp::aigc_values(&text) {
        let problems = if v.declared {
            Vec::new()
        } else {
            vec![Problem::new(
                None,
                "namespace",
                format!("XMP 中的 {}:AIGC 未声明命名空间 {}", xmp::PREFIX, xmp::NAMESPACE),
                format!("XMP uses {}:AIGC without declaring the namespace {}", xmp::PREFIX, xmp::NAMESPACE),
            )]
        };
        found.push(Found { location: format!("{location} → {}:AIGC", xmp::PREFIX), value: v.value, problems });
    }
}

/// A key/value metadata entry whose key names the label (Annex E: the field name or keyword
/// contains `AIGC`).
pub(crate) fn is_aigc_key(key: &str) -> bool {
    key.to_ascii_uppercase().contains("AIGC")
}

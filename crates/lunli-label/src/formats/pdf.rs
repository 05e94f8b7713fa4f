//! PDF: the XMP packet of the document's metadata stream (the catalog's `/Metadata`, ISO 32000-2,
//! 14.3.2) and document information entries whose key contains `AIGC`. Files up to
//! [`MAX_PARSE`] bytes are parsed with `lopdf`, which follows the current revision through
//! classic cross-reference tables, cross-reference streams and compressed object streams;
//! Flate-compressed metadata is inflated up to 64 MiB. Larger files are scanned in 1 MiB windows
//! for uncompressed `<?xpacket` … `<?xpacket end` packets only (docs/labels.md).
//!
//! `write` appends an incremental update (ISO 32000-2, 7.5.6) made by `lopdf`: a new metadata
//! stream and a new revision of the catalog pointing to it, with a cross-reference section of
//! the kind the file uses (a table or a stream); the original bytes stay as they were.

use std::io::{Read, Seek, Write};

use lopdf::{Dictionary, Document, IncrementalDocument, Object, Stream};

use super::{Found, from_xmp, is_aigc_key};
use crate::error::{Parse, bad};
use crate::fields::Aigc;
use crate::source::{MAX_READ, Source};
use crate::write::Piece;

/// The largest PDF lunli parses whole (to check or to write it). `lopdf` holds the file and its
/// parsed objects in memory, and `write` the update besides, so a check or write of one PDF
/// needs roughly two to three times this at most, plus what the file's object streams inflate to.
pub(crate) const MAX_PARSE: u64 = 128 << 20;

const WINDOW: u64 = 1 << 20;
const BEGIN: &[u8] = b"<?xpacket begin";
const END: &[u8] = b"<?xpacket end";

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|i| i + from)
}

pub(crate) fn scan<R: Read + Seek>(src: &mut Source<R>, found: &mut Vec<Found>) -> Parse<()> {
    let head = src.read_upto(0, 5, "the PDF header")?;
    if head != b"%PDF-" {
        return bad("not a PDF file: it does not start with %PDF-");
    }
    if src.len() > MAX_PARSE {
        return scan_packets(src, found);
    }
    let doc = parse(&whole(src)?)?;
    if let Some((_, stream)) = metadata(&doc)? {
        from_xmp("PDF metadata stream XMP", &plain(stream)?, found);
    }
    // Document information entries keyed AIGC (some tools write the label there).
    if let Ok(info) = doc.trailer.get_deref(b"Info", &doc).and_then(Object::as_dict) {
        for (key, value) in info.iter() {
            let key = String::from_utf8_lossy(key);
            if is_aigc_key(&key) {
                let value = lopdf::decode_text_string(value).unwrap_or_default();
                found.push(Found { location: format!("PDF document information /{key}"), value, problems: Vec::new() });
            }
        }
    }
    Ok(())
}

/// The whole file, read in pieces of at most 64 MiB.
fn whole<R: Read + Seek>(src: &mut Source<R>) -> Parse<Vec<u8>> {
    let mut out = Vec::with_capacity(usize::try_from(src.len()).unwrap_or(0));
    while (out.len() as u64) < src.len() {
        out.extend(src.read_upto(out.len() as u64, MAX_READ, "the PDF")?);
    }
    Ok(out)
}

fn parse(bytes: &[u8]) -> Parse<Document> {
    let doc = Document::load_mem(bytes).or_else(|e| bad(format!("the PDF could not be parsed: {e}")))?;
    if doc.trailer.get(b"Encrypt").is_ok() {
        return bad("the PDF is encrypted; lunli reads and writes labels only in unencrypted PDFs");
    }
    Ok(doc)
}

/// The catalog's metadata stream and its object number, if it has one.
fn metadata(doc: &Document) -> Parse<Option<(lopdf::ObjectId, &Stream)>> {
    let catalog = doc.catalog().or_else(|e| bad(format!("the PDF has no catalog: {e}")))?;
    let Ok(reference) = catalog.get(b"Metadata") else { return Ok(None) };
    let Ok(id) = reference.as_reference() else { return bad("the PDF catalog's /Metadata is not a reference") };
    match doc.get_object(id).and_then(Object::as_stream) {
        Ok(stream) => Ok(Some((id, stream))),
        Err(e) => bad(format!("the PDF's metadata (object {} {}) is not a stream: {e}", id.0, id.1)),
    }
}

/// A stream's content, inflated when it is Flate-compressed (never past 64 MiB).
fn plain(stream: &Stream) -> Parse<Vec<u8>> {
    let filters = stream.filters().unwrap_or_default();
    match filters.as_slice() {
        [] => Ok(stream.content.clone()),
        [b"FlateDecode"] if stream.dict.get(b"DecodeParms").is_err() => {
            let mut out = Vec::new();
            flate2::read::ZlibDecoder::new(stream.content.as_slice()).take(MAX_READ + 1).read_to_end(&mut out)?;
            if out.len() as u64 > MAX_READ {
                return bad("the PDF's metadata stream inflates past 64 MiB");
            }
            Ok(out)
        }
        _ => {
            stream.decompressed_content().or_else(|e| bad(format!("the PDF's metadata stream cannot be decoded: {e}")))
        }
    }
}

/// The raw scan of a PDF too large to parse: uncompressed XMP packets anywhere in the file.
fn scan_packets<R: Read + Seek>(src: &mut Source<R>, found: &mut Vec<Found>) -> Parse<()> {
    let mut off = 0;
    let mut carry: Vec<u8> = Vec::new();
    let mut packet: Option<Vec<u8>> = None;
    while off < src.len() {
        let window = src.read_upto(off, WINDOW, "a PDF window")?;
        off += window.len() as u64;
        let mut buf = std::mem::take(&mut carry);
        buf.extend_from_slice(&window);
        let mut pos = 0;
        loop {
            if let Some(p) = packet.as_mut() {
                // Inside a packet: collect up to its end marker.
                match find(&buf, END, pos) {
                    Some(e) => {
                        p.extend_from_slice(&buf[pos..e]);
                        if let Some(done) = packet.take() {
                            from_xmp("PDF XMP packet (file scan)", &done, found);
                        }
                        pos = e + END.len();
                    }
                    None => {
                        let keep = buf.len().saturating_sub(END.len()).max(pos);
                        p.extend_from_slice(&buf[pos..keep]);
                        if p.len() as u64 > crate::source::MAX_READ {
                            return bad("a PDF XMP packet has no end marker within 64 MiB");
                        }
                        carry = buf[keep..].to_vec();
                        break;
                    }
                }
            } else {
                match find(&buf, BEGIN, pos) {
                    Some(b) => {
                        packet = Some(Vec::new());
                        pos = b;
                    }
                    None => {
                        carry = buf[buf.len().saturating_sub(BEGIN.len()).max(pos)..].to_vec();
                        break;
                    }
                }
            }
        }
    }
    Ok(())
}

/// The label in a new metadata stream (the old one's packet, when there is one, with the label
/// added) and a new revision of the catalog pointing to it, appended by an incremental update.
pub(crate) fn plan_write<R: Read + Seek>(src: &mut Source<R>, aigc: &Aigc) -> Parse<(Vec<Piece>, String)> {
    if src.len() > MAX_PARSE {
        return bad(format!("the PDF is larger than the {} MiB lunli parses to write a label", MAX_PARSE >> 20));
    }
    let bytes = whole(src)?;
    let doc = parse(&bytes)?;
    let packet = match metadata(&doc)? {
        None => crate::xmp::packet(aigc),
        Some((_, stream)) => {
            let Some(merged) = crate::xmp::merged(&String::from_utf8_lossy(&plain(stream)?), aigc) else {
                return bad("the PDF's XMP packet has no rdf:RDF element to add the label to");
            };
            merged
        }
    };
    let root = doc
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .or_else(|e| bad(format!("the PDF trailer has no /Root: {e}")))?;
    let mut catalog = doc.catalog().or_else(|e| bad(format!("the PDF has no catalog: {e}")))?.clone();
    let len = bytes.len();
    let mut update = IncrementalDocument::create_from(bytes, doc);
    let mut dict = Dictionary::new();
    dict.set("Type", Object::Name(b"Metadata".to_vec()));
    dict.set("Subtype", Object::Name(b"XML".to_vec()));
    // Uncompressed, as PDF 2.0 14.3.2 recommends, so that tools that do not parse PDF find it.
    let mut stream = Stream::new(dict, packet.into_bytes());
    stream.allows_compression = false;
    let meta = update.new_document.add_object(Object::Stream(stream));
    catalog.set("Metadata", Object::Reference(meta));
    update.new_document.set_object(root, Object::Dictionary(catalog));
    let mut added = Tail { skip: len, bytes: Vec::new() };
    update.save_to(&mut added).or_else(|e| bad(format!("the PDF update could not be written: {e}")))?;
    if added.skip != 0 {
        return bad("the PDF update did not start with the original bytes");
    }
    let location = format!("PDF metadata stream (object {}, incremental update)", meta.0);
    Ok((vec![Piece::Copy(0, len as u64), Piece::New(added.bytes)], location))
}

/// A writer that drops the first `skip` bytes (the original file, which `write` copies from the
/// input itself) and keeps the rest.
struct Tail {
    skip: usize,
    bytes: Vec<u8>,
}

impl Write for Tail {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let dropped = self.skip.min(buf.len());
        self.skip -= dropped;
        self.bytes.extend_from_slice(&buf[dropped..]);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

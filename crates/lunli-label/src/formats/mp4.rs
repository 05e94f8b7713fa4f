//! MP4 and QuickTime (ISO/IEC 14496-12): the XMP `uuid` box (BE7ACFCB-97A9-42E8-9C71-999491E3AFAC)
//! at the top level, `moov/udta/XMP_` (QuickTime), and a `moov/udta/meta` item list entry whose key
//! contains `AIGC` (what `ffmpeg -movflags use_metadata_tags -metadata AIGC=…` writes, as an
//! `mdta` key, or an iTunes-style `----` entry). Box headers are read and `mdat` and `trak`
//! are seeked over, so a 2 GB video costs a few kilobytes.

use std::io::{Read, Seek};

use super::{Found, from_xmp, is_aigc_key};
use crate::error::{Parse, bad};
use crate::fields::Aigc;
use crate::source::{Source, fourcc, u32_be, u64_be};
use crate::write::Piece;

pub(crate) const XMP_UUID: [u8; 16] =
    [0xBE, 0x7A, 0xCF, 0xCB, 0x97, 0xA9, 0x42, 0xE8, 0x9C, 0x71, 0x99, 0x94, 0x91, 0xE3, 0xAF, 0xAC];

const MAX_DEPTH: usize = 8;

struct Box_ {
    offset: u64,
    kind: [u8; 4],
    header: u64,
    size: u64,
    /// The size field is 0: the box runs to the end of the file.
    to_end: bool,
}

fn boxes<R: Read + Seek>(src: &mut Source<R>, start: u64, end: u64) -> Parse<Vec<Box_>> {
    let mut out = Vec::new();
    let mut off = start;
    while off + 8 <= end {
        let h = src.read_at(off, 8, "an MP4 box header")?;
        let kind = [h[4], h[5], h[6], h[7]];
        let to_end = u32_be(&h, 0) == 0;
        let (size, header) = match u32_be(&h, 0) {
            0 => (end - off, 8),
            1 => (u64_be(&src.read_at(off + 8, 8, "an MP4 64-bit box size")?, 0), 16),
            n => (u64::from(n), 8),
        };
        if size < header || off.checked_add(size).is_none_or(|e| e > end) {
            return bad(format!(
                "MP4 box {} at byte {off} claims {size} bytes, which does not fit in its parent (ending at byte {end})",
                fourcc(&kind)
            ));
        }
        out.push(Box_ { offset: off, kind, header, size, to_end });
        off += size;
    }
    Ok(out)
}

pub(crate) fn scan<R: Read + Seek>(src: &mut Source<R>, found: &mut Vec<Found>) -> Parse<()> {
    let len = src.len();
    walk(src, 0, len, 0, found)
}

fn walk<R: Read + Seek>(src: &mut Source<R>, start: u64, end: u64, depth: usize, found: &mut Vec<Found>) -> Parse<()> {
    if depth > MAX_DEPTH {
        return bad(format!("MP4 boxes nest deeper than {MAX_DEPTH} levels at byte {start}"));
    }
    let list = boxes(src, start, end)?;
    let mut keys: Vec<String> = Vec::new();
    for b in &list {
        let body = b.offset + b.header;
        let body_len = b.size - b.header;
        match &b.kind {
            b"moov" | b"udta" => walk(src, body, b.offset + b.size, depth + 1, found)?,
            b"meta" => {
                // ISO's meta is a full box (4 bytes of version and flags); QuickTime's is not.
                let peek = src.read_upto(body, 8, "an MP4 meta box")?;
                let skip = if peek.len() == 8 && peek[..4] == [0, 0, 0, 0] && &peek[4..8] != b"hdlr" { 4 } else { 0 };
                walk(src, body + skip, b.offset + b.size, depth + 1, found)?;
            }
            b"keys" => keys = read_keys(&src.read_at(body, body_len, "an MP4 keys box")?),
            b"ilst" => {
                let data = src.read_at(body, body_len, "an MP4 ilst box")?;
                ilst(&data, &keys, found);
            }
            b"uuid" if body_len >= 16 => {
                let id = src.read_at(body, 16, "an MP4 uuid")?;
                if id == XMP_UUID {
                    let packet = src.read_at(body + 16, body_len - 16, "the MP4 XMP uuid box")?;
                    from_xmp("MP4 uuid XMP box", &packet, found);
                }
            }
            b"XMP_" => {
                let packet = src.read_at(body, body_len, "the QuickTime XMP_ box")?;
                from_xmp("QuickTime udta/XMP_", &packet, found);
            }
            _ => {}
        }
    }
    Ok(())
}

/// The `mdta` key names of a `keys` box, in order (index 1 first).
fn read_keys(data: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let Some(count) = data.get(4..8).map(|b| u32_be(b, 0)) else { return out };
    let mut pos = 8;
    for _ in 0..count {
        let Some(size) = data.get(pos..pos + 4).map(|b| u32_be(b, 0) as usize) else { break };
        let Some(name) = data.get(pos + 8..pos + size.max(8)) else { break };
        out.push(String::from_utf8_lossy(name).into_owned());
        pos += size.max(8);
    }
    out
}

/// Sub-boxes of a byte slice: (type, body).
fn children(data: &[u8]) -> Vec<([u8; 4], &[u8])> {
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(h) = data.get(pos..pos + 8) {
        let size = u32_be(h, 0) as usize;
        let Some(body) = data.get(pos + 8..pos + size.max(8)) else { break };
        out.push(([h[4], h[5], h[6], h[7]], body));
        pos += size.max(8);
    }
    out
}

fn ilst(data: &[u8], keys: &[String], found: &mut Vec<Found>) {
    for (kind, body) in children(data) {
        let items = children(body);
        let value = items.iter().find(|(k, _)| k == b"data").and_then(|(_, d)| d.get(8..));
        let Some(value) = value else { continue };
        let name = if &kind == b"----" {
            items
                .iter()
                .find(|(k, _)| k == b"name")
                .map(|(_, d)| String::from_utf8_lossy(d.get(4..).unwrap_or_default()).into_owned())
        } else {
            let index = u32::from_be_bytes(kind) as usize;
            index.checked_sub(1).and_then(|i| keys.get(i)).cloned()
        };
        if let Some(name) = name.filter(|n| is_aigc_key(n)) {
            found.push(Found {
                location: format!("MP4 moov/udta/meta/ilst {name}"),
                value: String::from_utf8_lossy(value).into_owned(),
                problems: Vec::new(),
            });
        }
    }
}

/// The label as a top-level XMP `uuid` box appended at the end of the file, so that no chunk
/// offset (`stco`/`co64`) moves. An existing top-level XMP box is kept in place with its type
/// changed to `free` (same size, so nothing moves) and its packet, with the label added, goes
/// into the new box: readers then see one XMP box.
pub(crate) fn plan_write<R: Read + Seek>(src: &mut Source<R>, aigc: &Aigc) -> Parse<(Vec<Piece>, String)> {
    let len = src.len();
    let top = boxes(src, 0, len)?;
    if top.last().is_some_and(|b| b.to_end) {
        return bad("the MP4's last box runs to the end of the file (size 0); lunli will not append a box after it");
    }
    let mut xmp = Vec::new();
    for b in &top {
        if &b.kind == b"uuid"
            && b.size - b.header >= 16
            && src.read_at(b.offset + b.header, 16, "an MP4 uuid")? == XMP_UUID
        {
            xmp.push(b);
        }
    }
    if xmp.len() > 1 {
        return bad("the MP4 has more than one top-level XMP uuid box; lunli will not choose between them");
    }
    let mut pieces = Vec::new();
    let mut from = 0;
    let (packet, location) = match xmp.first() {
        Some(b) => {
            let body = b.offset + b.header + 16;
            let old = src.read_at(body, b.offset + b.size - body, "the MP4 XMP uuid box")?;
            let Some(merged) = crate::xmp::merged(&String::from_utf8_lossy(&old), aigc) else {
                return bad("the MP4's XMP packet has no rdf:RDF element to add the label to");
            };
            pieces.extend([Piece::Copy(0, b.offset + 4), Piece::New(b"free".to_vec())]);
            from = b.offset + 8;
            (merged, "MP4 uuid XMP box (existing packet moved to the end; the old box is now free)")
        }
        None => (crate::xmp::packet(aigc), "MP4 uuid XMP box"),
    };
    let size = 8 + 16 + packet.len() as u64;
    let Ok(size) = u32::try_from(size) else { return bad("the XMP packet with the label exceeds 4 GiB") };
    let mut new = size.to_be_bytes().to_vec();
    new.extend_from_slice(b"uuid");
    new.extend_from_slice(&XMP_UUID);
    new.extend_from_slice(packet.as_bytes());
    pieces.extend([Piece::Copy(from, len), Piece::New(new)]);
    Ok((pieces, location.into()))
}

//! JPEG (ISO/IEC 10918-1, JFIF/Exif): the XMP packet in an APP1 segment opening with
//! `http://ns.adobe.com/xap/1.0/\0`. Only segment headers before the first scan are read.

use std::io::{Read, Seek};

use super::{Found, from_xmp};
use crate::error::{Parse, bad};
use crate::source::{Source, u16_be};

pub(crate) const XMP_SIGNATURE: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";

/// A marker segment before the scan: offset of its 0xFF, marker, and the length of its data
/// (after the two length bytes).
pub(crate) struct Segment {
    pub offset: u64,
    pub marker: u8,
    pub len: u64,
}

/// Segments from SOI up to (not including) SOS or EOI; `end` is where that scan starts.
pub(crate) fn segments<R: Read + Seek>(src: &mut Source<R>) -> Parse<(Vec<Segment>, u64)> {
    let soi = src.read_at(0, 2, "the JPEG start-of-image marker")?;
    if soi != [0xFF, 0xD8] {
        return bad("not a JPEG file: it does not start with FF D8");
    }
    let mut out = Vec::new();
    let mut off = 2;
    loop {
        let head = src.read_at(off, 2, "a JPEG marker")?;
        if head[0] != 0xFF {
            return bad(format!("JPEG marker expected at byte {off}, found {:02X}", head[0]));
        }
        let marker = head[1];
        match marker {
            0xFF => {
                off += 1; // fill byte
                continue;
            }
            0xD8 | 0x01 | 0xD0..=0xD7 => {
                off += 2;
                continue;
            }
            0xDA | 0xD9 => return Ok((out, off)),
            _ => {}
        }
        let len = src.read_at(off + 2, 2, "a JPEG segment length")?;
        let len = u64::from(u16_be(&len, 0));
        if len < 2 {
            return bad(format!("JPEG segment {marker:02X} at byte {off} has length {len}, less than 2"));
        }
        if off + 2 + len > src.len() {
            return bad(format!("truncated: JPEG segment {marker:02X} at byte {off} runs past the end of the file"));
        }
        out.push(Segment { offset: off, marker, len: len - 2 });
        off += 2 + len;
    }
}

pub(crate) fn scan<R: Read + Seek>(src: &mut Source<R>, found: &mut Vec<Found>) -> Parse<()> {
    let (segments, _) = segments(src)?;
    for s in segments.iter().filter(|s| s.marker == 0xE1 && s.len >= XMP_SIGNATURE.len() as u64) {
        let sig = src.read_at(s.offset + 4, XMP_SIGNATURE.len() as u64, "an APP1 signature")?;
        if sig == XMP_SIGNATURE {
            let body = XMP_SIGNATURE.len() as u64;
            let packet = src.read_at(s.offset + 4 + body, s.len - body, "the APP1 XMP packet")?;
            from_xmp("JPEG APP1 XMP", &packet, found);
        }
    }
    Ok(())
}

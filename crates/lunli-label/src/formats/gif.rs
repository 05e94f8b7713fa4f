//! GIF89a: the XMP application extension (`XMP DataXMP`), whose packet is stored raw and ended by
//! the 258-byte "magic trailer" of the XMP specification (Part 3, 1.1.2). Image data sub-blocks
//! are walked by their length bytes only.

use std::io::{Read, Seek};

use super::{Found, from_xmp};
use crate::error::{Parse, bad};
use crate::fields::Aigc;
use crate::source::Source;
use crate::write::Piece;

const XMP_APP: &[u8; 11] = b"XMP DataXMP";

/// The XMP specification's magic trailer: 0x01, 0xFF down to 0x00. Whatever byte of the raw
/// packet a reader takes for a sub-block length, its jumps land in the trailer and end at the
/// block terminator after it.
fn magic_trailer() -> Vec<u8> {
    let mut out = vec![1];
    out.extend((0..=255u8).rev());
    out
}

/// Past the sub-blocks starting at `off`: the offset after their 0 terminator.
fn skip_blocks<R: Read + Seek>(src: &mut Source<R>, mut off: u64) -> Parse<u64> {
    loop {
        let n = src.read_at(off, 1, "a GIF sub-block length")?;
        if n[0] == 0 {
            return Ok(off + 1);
        }
        off += 1 + u64::from(n[0]);
    }
}

/// An XMP application extension: where it starts, where its packet starts, where it ends.
struct XmpExtension {
    start: u64,
    packet: u64,
    end: u64,
}

/// The XMP extensions of a GIF and the offset of its trailer byte (0x3B).
fn layout<R: Read + Seek>(src: &mut Source<R>) -> Parse<(Vec<XmpExtension>, u64)> {
    let head = src.read_at(0, 13, "the GIF header")?;
    if &head[..3] != b"GIF" {
        return bad("not a GIF file");
    }
    let flags = head[10];
    let mut off = 13 + if flags & 0x80 != 0 { 3 << ((flags & 7) + 1) } else { 0 };
    let mut xmp = Vec::new();
    loop {
        let b = src.read_at(off, 1, "a GIF block")?;
        match b[0] {
            0x3B => return Ok((xmp, off)),
            0x21 => {
                let label = src.read_at(off + 1, 1, "a GIF extension label")?;
                if label[0] == 0xFF {
                    let app = src.read_at(off + 2, 12, "a GIF application extension")?;
                    if app[0] == 11 && &app[1..12] == XMP_APP {
                        let end = skip_blocks(src, off + 14)?;
                        xmp.push(XmpExtension { start: off, packet: off + 14, end });
                        off = end;
                        continue;
                    }
                }
                off = skip_blocks(src, off + 2)?;
            }
            0x2C => {
                let d = src.read_at(off + 1, 9, "a GIF image descriptor")?;
                let local = d[8];
                let table = if local & 0x80 != 0 { 3 << ((local & 7) + 1) } else { 0 };
                off = skip_blocks(src, off + 10 + table + 1)?;
            }
            other => return bad(format!("GIF block expected at byte {off}, found {other:02X}")),
        }
    }
}

pub(crate) fn scan<R: Read + Seek>(src: &mut Source<R>, found: &mut Vec<Found>) -> Parse<()> {
    let (extensions, _) = layout(src)?;
    for x in extensions {
        let raw = src.read_at(x.packet, x.end - x.packet, "the GIF XMP packet")?;
        from_xmp("GIF XMP application extension", &raw, found);
    }
    Ok(())
}

/// The packet of an XMP extension's raw bytes: without the magic trailer and terminator.
fn packet_of(raw: &[u8]) -> &[u8] {
    let trailer = [magic_trailer(), vec![0]].concat();
    raw.strip_suffix(trailer.as_slice()).unwrap_or(raw)
}

/// The label as an XMP application extension: before the trailer, or in place of the existing
/// XMP extension with the label added to its packet. A GIF87a is marked 89a, the version that
/// has extensions.
pub(crate) fn plan_write<R: Read + Seek>(src: &mut Source<R>, aigc: &Aigc) -> Parse<(Vec<Piece>, String)> {
    let (extensions, trailer) = layout(src)?;
    if extensions.len() > 1 {
        return bad("the GIF has more than one XMP application extension; lunli will not choose between them");
    }
    let extension = |packet: &str| {
        let mut out = vec![0x21, 0xFF, 11];
        out.extend_from_slice(XMP_APP);
        out.extend_from_slice(packet.as_bytes());
        out.extend_from_slice(&magic_trailer());
        out.push(0);
        out
    };
    let mut pieces = vec![Piece::New(b"GIF89a".to_vec())];
    let location = match extensions.first() {
        Some(x) => {
            let raw = src.read_at(x.packet, x.end - x.packet, "the GIF XMP packet")?;
            let Some(merged) = crate::xmp::merged(&String::from_utf8_lossy(packet_of(&raw)), aigc) else {
                return bad("the GIF's XMP packet has no rdf:RDF element to add the label to");
            };
            pieces.extend([Piece::Copy(6, x.start), Piece::New(extension(&merged)), Piece::Copy(x.end, src.len())]);
            "GIF XMP application extension (existing packet)"
        }
        None => {
            pieces.extend([
                Piece::Copy(6, trailer),
                Piece::New(extension(&crate::xmp::packet(aigc))),
                Piece::Copy(trailer, src.len()),
            ]);
            "GIF XMP application extension"
        }
    };
    Ok((pieces, location.into()))
}

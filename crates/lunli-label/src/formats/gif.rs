//! GIF89a: the XMP application extension (`XMP DataXMP`), whose packet is stored raw and ended by
//! the 258-byte "magic trailer" of the XMP specification. Image data sub-blocks are walked by
//! their length bytes only.

use std::io::{Read, Seek};

use super::{Found, from_xmp};
use crate::error::{Parse, bad};
use crate::source::Source;

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

pub(crate) fn scan<R: Read + Seek>(src: &mut Source<R>, found: &mut Vec<Found>) -> Parse<()> {
    let head = src.read_at(0, 13, "the GIF header")?;
    if &head[..3] != b"GIF" {
        return bad("not a GIF file");
    }
    let flags = head[10];
    let mut off = 13 + if flags & 0x80 != 0 { 3 << ((flags & 7) + 1) } else { 0 };
    loop {
        let b = src.read_at(off, 1, "a GIF block")?;
        match b[0] {
            0x3B => return Ok(()),
            0x21 => {
                let label = src.read_at(off + 1, 1, "a GIF extension label")?;
                if label[0] == 0xFF {
                    let app = src.read_at(off + 2, 12, "a GIF application extension")?;
                    if app[0] == 11 && &app[1..12] == b"XMP DataXMP" {
                        let start = off + 14;
                        let end = skip_blocks(src, start)?;
                        let raw = src.read_at(start, end - start, "the GIF XMP packet")?;
                        from_xmp("GIF XMP application extension", &raw, found);
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

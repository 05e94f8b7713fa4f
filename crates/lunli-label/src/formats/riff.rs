//! RIFF containers: WebP (the `XMP ` chunk, with the XMP flag of `VP8X`) and WAV (the `_PMX`
//! chunk of the XMP specification, Part 3, or a chunk named `AIGC`). Audio and image data are
//! seeked over.

use std::io::{Read, Seek};

use super::{Found, from_xmp, is_aigc_key};
use crate::error::{Parse, bad};
use crate::source::{Source, fourcc, text, u32_le};

pub(crate) struct Chunk {
    pub offset: u64,
    pub id: [u8; 4],
    pub len: u64,
}

/// The form (`WEBP`, `WAVE`) and the top-level chunks, reading only their headers.
pub(crate) fn chunks<R: Read + Seek>(src: &mut Source<R>) -> Parse<([u8; 4], Vec<Chunk>)> {
    let head = src.read_at(0, 12, "the RIFF header")?;
    if &head[..4] != b"RIFF" {
        return bad("not a RIFF file: it does not start with RIFF");
    }
    let form = [head[8], head[9], head[10], head[11]];
    let mut out = Vec::new();
    let mut off = 12;
    while off + 8 <= src.len() {
        let h = src.read_at(off, 8, "a RIFF chunk header")?;
        let id = [h[0], h[1], h[2], h[3]];
        let len = u64::from(u32_le(&h, 4));
        let end = off + 8 + len + (len & 1);
        if off + 8 + len > src.len() {
            // A streaming writer may leave the data chunk's length unset; nothing follows it.
            if &id == b"data" {
                out.push(Chunk { offset: off, id, len: src.len() - off - 8 });
                break;
            }
            return bad(format!("truncated: RIFF chunk {} at byte {off} runs past the end of the file", fourcc(&id)));
        }
        out.push(Chunk { offset: off, id, len });
        off = end;
    }
    Ok((form, out))
}

pub(crate) fn scan<R: Read + Seek>(src: &mut Source<R>, found: &mut Vec<Found>) -> Parse<()> {
    let (form, chunks) = chunks(src)?;
    let name = if &form == b"WEBP" { "WebP" } else { "WAV" };
    for c in chunks {
        let id = fourcc(&c.id);
        if &c.id == b"XMP " || &c.id == b"_PMX" {
            let packet = src.read_at(c.offset + 8, c.len, "the RIFF XMP chunk")?;
            from_xmp(&format!("{name} {id} chunk"), &packet, found);
        } else if is_aigc_key(&id) {
            let value = src.read_at(c.offset + 8, c.len, "the RIFF AIGC chunk")?;
            let value = text(value.strip_suffix(&[0]).unwrap_or(&value));
            found.push(Found { location: format!("{name} {id} chunk"), value, problems: Vec::new() });
        }
    }
    Ok(())
}

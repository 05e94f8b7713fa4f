//! PNG (ISO/IEC 15948): the XMP packet in an `iTXt` chunk keyed `XML:com.adobe.xmp`, or a text
//! chunk (`tEXt`, `iTXt`, `zTXt`) whose keyword contains `AIGC`. Image data is seeked over.

use std::io::{Read, Seek};

use super::{Found, from_xmp, is_aigc_key};
use crate::error::{Parse, bad};
use crate::source::{Source, fourcc, text, u32_be};

pub(crate) const SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";
pub(crate) const XMP_KEYWORD: &str = "XML:com.adobe.xmp";

/// A chunk's place: offset of its length field, its type and its data length.
pub(crate) struct Chunk {
    pub offset: u64,
    pub kind: [u8; 4],
    pub len: u64,
}

/// The chunks up to IEND, reading only their 8-byte headers.
pub(crate) fn chunks<R: Read + Seek>(src: &mut Source<R>) -> Parse<Vec<Chunk>> {
    let sig = src.read_at(0, 8, "the PNG signature")?;
    if sig != SIGNATURE {
        return bad("not a PNG file: the 8-byte signature is missing");
    }
    let mut out = Vec::new();
    let mut off = 8;
    loop {
        if off == src.len() {
            return bad(format!("truncated: the PNG ends at byte {off} without an IEND chunk"));
        }
        let head = src.read_at(off, 8, "a PNG chunk header")?;
        let len = u64::from(u32_be(&head, 0));
        let kind = [head[4], head[5], head[6], head[7]];
        if len > 0x7fff_ffff || !kind.iter().all(u8::is_ascii_alphabetic) {
            return bad(format!("PNG chunk at byte {off} is malformed (type {}, length {len})", fourcc(&kind)));
        }
        let end = off + 12 + len;
        if end > src.len() {
            return bad(format!(
                "truncated: PNG chunk {} at byte {off} needs {} bytes, the file has {}",
                fourcc(&kind),
                12 + len,
                src.len() - off
            ));
        }
        out.push(Chunk { offset: off, kind, len });
        if &kind == b"IEND" {
            return Ok(out);
        }
        off = end;
    }
}

pub(crate) fn scan<R: Read + Seek>(src: &mut Source<R>, found: &mut Vec<Found>) -> Parse<()> {
    for chunk in chunks(src)? {
        if !matches!(&chunk.kind, b"tEXt" | b"iTXt" | b"zTXt") {
            continue;
        }
        let data = src.read_at(chunk.offset + 8, chunk.len, "a PNG text chunk")?;
        let kind = fourcc(&chunk.kind);
        let Some(nul) = data.iter().position(|&b| b == 0) else {
            return bad(format!("PNG {kind} chunk at byte {} has no keyword terminator", chunk.offset));
        };
        let keyword = text(&data[..nul]);
        let rest = &data[nul + 1..];
        let value = match &chunk.kind {
            b"tEXt" => rest.to_vec(),
            b"zTXt" => inflate(rest.get(1..).unwrap_or_default(), chunk.offset)?,
            _ => {
                // iTXt: compression flag, method, language tag\0, translated keyword\0, text.
                let (Some(&flag), Some(body)) = (rest.first(), rest.get(2..)) else {
                    return bad(format!("PNG iTXt chunk at byte {} is truncated", chunk.offset));
                };
                let mut parts = body.splitn(3, |&b| b == 0);
                let (Some(_lang), Some(_translated), Some(value)) = (parts.next(), parts.next(), parts.next()) else {
                    return bad(format!(
                        "PNG iTXt chunk at byte {} lacks its language and keyword fields",
                        chunk.offset
                    ));
                };
                if flag == 1 { inflate(value, chunk.offset)? } else { value.to_vec() }
            }
        };
        let location = format!("PNG {kind} {keyword}");
        if keyword == XMP_KEYWORD {
            from_xmp(&location, &value, found);
        } else if is_aigc_key(&keyword) {
            found.push(Found { location, value: text(&value), problems: Vec::new() });
        }
    }
    Ok(())
}

fn inflate(data: &[u8], offset: u64) -> Parse<Vec<u8>> {
    let mut out = Vec::new();
    let limit = crate::source::MAX_READ;
    let read = flate2::read::ZlibDecoder::new(data).take(limit + 1).read_to_end(&mut out);
    match read {
        Ok(_) if out.len() as u64 <= limit => Ok(out),
        Ok(_) => bad(format!("compressed PNG text chunk at byte {offset} inflates past {limit} bytes")),
        Err(e) => bad(format!("compressed PNG text chunk at byte {offset} does not inflate: {e}")),
    }
}

/// The chunk bytes (length, type, data, CRC) of a new chunk.
pub(crate) fn chunk_bytes(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 12);
    out.extend_from_slice(&u32::try_from(data.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
    out
}

//! FLAC: a Vorbis comment `AIGC=…` in the VORBIS_COMMENT block, or an XMP packet in an
//! APPLICATION block. Only metadata blocks are read; audio frames follow them and are not.

use std::io::{Read, Seek};

use super::{Found, from_xmp, is_aigc_key};
use crate::error::{Parse, bad};
use crate::fields::Aigc;
use crate::source::{Source, u32_le};
use crate::write::Piece;

const STREAMINFO: u8 = 0;
const APPLICATION: u8 = 2;
const VORBIS_COMMENT: u8 = 4;

/// A metadata block: its header's offset, type, body length and whether it is the last one.
struct Block {
    offset: u64,
    kind: u8,
    len: u64,
    last: bool,
}

fn blocks<R: Read + Seek>(src: &mut Source<R>) -> Parse<Vec<Block>> {
    let magic = src.read_at(0, 4, "the FLAC signature")?;
    if magic != b"fLaC" {
        return bad("not a FLAC file");
    }
    let mut out = Vec::new();
    let mut off = 4;
    loop {
        let h = src.read_at(off, 4, "a FLAC metadata block header")?;
        let last = h[0] & 0x80 != 0;
        let kind = h[0] & 0x7f;
        let len = u64::from(h[1]) << 16 | u64::from(h[2]) << 8 | u64::from(h[3]);
        if kind == 127 {
            return bad(format!("FLAC metadata block at byte {off} has the invalid type 127"));
        }
        if off + 4 + len > src.len() {
            return bad(format!(
                "truncated: FLAC metadata block at byte {off} needs {} bytes, the file has {}",
                4 + len,
                src.len() - off
            ));
        }
        out.push(Block { offset: off, kind, len, last });
        off += 4 + len;
        if last {
            return Ok(out);
        }
    }
}

pub(crate) fn scan<R: Read + Seek>(src: &mut Source<R>, found: &mut Vec<Found>) -> Parse<()> {
    for b in blocks(src)? {
        if b.kind == APPLICATION {
            let data = src.read_at(b.offset + 4, b.len, "a FLAC metadata block")?;
            if data.windows(crate::xmp::NAMESPACE.len()).any(|w| w == crate::xmp::NAMESPACE.as_bytes()) {
                from_xmp("FLAC APPLICATION block XMP", data.get(4..).unwrap_or_default(), found);
            }
        } else if b.kind == VORBIS_COMMENT {
            let data = src.read_at(b.offset + 4, b.len, "a FLAC metadata block")?;
            for comment in comments(&data, b.offset)?.1 {
                let comment = String::from_utf8_lossy(comment);
                if let Some((key, value)) = comment.split_once('=')
                    && is_aigc_key(key)
                {
                    found.push(Found {
                        location: format!("FLAC Vorbis comment {key}"),
                        value: value.to_string(),
                        problems: Vec::new(),
                    });
                }
            }
        }
    }
    Ok(())
}

/// The vendor string and the comments of a VORBIS_COMMENT block's body at byte `at`.
fn comments(data: &[u8], at: u64) -> Parse<(&[u8], Vec<&[u8]>)> {
    let truncated = || bad(format!("the FLAC Vorbis comment block at byte {at} is truncated"));
    let field = |pos: usize| -> Option<(&[u8], usize)> {
        let len = usize::try_from(u32_le(data.get(pos..pos + 4)?, 0)).ok()?;
        Some((data.get(pos + 4..)?.get(..len)?, pos + 4 + len))
    };
    let Some((vendor, mut pos)) = field(0) else { return truncated() };
    let Some(count) = data.get(pos..pos + 4).map(|b| u32_le(b, 0)) else { return truncated() };
    pos += 4;
    let mut out = Vec::new();
    for _ in 0..count {
        let Some((comment, next)) = field(pos) else { return truncated() };
        pos = next;
        out.push(comment);
    }
    Ok((vendor, out))
}

fn block_bytes(kind: u8, last: bool, body: &[u8]) -> Parse<Vec<u8>> {
    let len = u32::try_from(body.len()).ok().filter(|n| *n < 1 << 24);
    let Some(len) = len else { return bad("the Vorbis comment block with the label exceeds FLAC's 16 MiB block size") };
    let mut out = vec![kind | if last { 0x80 } else { 0 }];
    out.extend_from_slice(&len.to_be_bytes()[1..]);
    out.extend_from_slice(body);
    Ok(out)
}

fn comment_body(vendor: &[u8], comments: &[&[u8]]) -> Vec<u8> {
    let mut out = (vendor.len() as u32).to_le_bytes().to_vec();
    out.extend_from_slice(vendor);
    out.extend_from_slice(&(comments.len() as u32).to_le_bytes());
    for c in comments {
        out.extend_from_slice(&(c.len() as u32).to_le_bytes());
        out.extend_from_slice(c);
    }
    out
}

/// The label as the Vorbis comment `AIGC=…`: added to the existing VORBIS_COMMENT block (whose
/// AIGC comments it replaces), or a new block right after STREAMINFO. Every other block and the
/// audio frames are copied as they are (FLAC's seek table counts from the first frame, so the
/// frames may move).
pub(crate) fn plan_write<R: Read + Seek>(src: &mut Source<R>, aigc: &Aigc) -> Parse<(Vec<Piece>, String)> {
    let list = blocks(src)?;
    let label = format!("AIGC={}", aigc.to_json());
    let existing: Vec<&Block> = list.iter().filter(|b| b.kind == VORBIS_COMMENT).collect();
    if existing.len() > 1 {
        return bad("the FLAC has more than one VORBIS_COMMENT block, which the format allows only once");
    }
    if let Some(b) = existing.first() {
        let data = src.read_at(b.offset + 4, b.len, "the FLAC Vorbis comment block")?;
        let (vendor, old) = comments(&data, b.offset)?;
        let mut kept: Vec<&[u8]> = old
            .into_iter()
            .filter(|c| !c.split(|&x| x == b'=').next().is_some_and(|k| is_aigc_key(&String::from_utf8_lossy(k))))
            .collect();
        kept.push(label.as_bytes());
        let block = block_bytes(VORBIS_COMMENT, b.last, &comment_body(vendor, &kept))?;
        let pieces = vec![Piece::Copy(0, b.offset), Piece::New(block), Piece::Copy(b.offset + 4 + b.len, src.len())];
        return Ok((pieces, "FLAC Vorbis comment AIGC (existing block)".into()));
    }
    let Some(info) = list.first().filter(|b| b.kind == STREAMINFO) else {
        return bad("the FLAC does not start with a STREAMINFO block");
    };
    let vendor = format!("lunli {}", env!("CARGO_PKG_VERSION"));
    let block = block_bytes(VORBIS_COMMENT, info.last, &comment_body(vendor.as_bytes(), &[label.as_bytes()]))?;
    let after = info.offset + 4 + info.len;
    let mut pieces = Vec::new();
    if info.last {
        // STREAMINFO is no longer the last block: clear its flag.
        let head = src.read_at(info.offset, 4, "the FLAC STREAMINFO header")?;
        pieces.extend([Piece::Copy(0, info.offset), Piece::New(vec![head[0] & 0x7f, head[1], head[2], head[3]])]);
        pieces.push(Piece::Copy(info.offset + 4, after));
    } else {
        pieces.push(Piece::Copy(0, after));
    }
    pieces.extend([Piece::New(block), Piece::Copy(after, src.len())]);
    Ok((pieces, "FLAC Vorbis comment AIGC".into()))
}

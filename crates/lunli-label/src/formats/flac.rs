//! FLAC: a Vorbis comment `AIGC=…` in the VORBIS_COMMENT block, or an XMP packet in an
//! APPLICATION block. Only metadata blocks are read; audio frames follow them and are not.

use std::io::{Read, Seek};

use super::{Found, from_xmp, is_aigc_key};
use crate::error::{Parse, bad};
use crate::source::{Source, u32_le};

pub(crate) fn scan<R: Read + Seek>(src: &mut Source<R>, found: &mut Vec<Found>) -> Parse<()> {
    let magic = src.read_at(0, 4, "the FLAC signature")?;
    if magic != b"fLaC" {
        return bad("not a FLAC file");
    }
    let mut off = 4;
    loop {
        let h = src.read_at(off, 4, "a FLAC metadata block header")?;
        let last = h[0] & 0x80 != 0;
        let kind = h[0] & 0x7f;
        let len = u64::from(h[1]) << 16 | u64::from(h[2]) << 8 | u64::from(h[3]);
        if kind == 127 {
            return bad(format!("FLAC metadata block at byte {off} has the invalid type 127"));
        }
        if kind == 4 || kind == 2 {
            let data = src.read_at(off + 4, len, "a FLAC metadata block")?;
            if kind == 2 {
                if data.windows(crate::xmp::NAMESPACE.len()).any(|w| w == crate::xmp::NAMESPACE.as_bytes()) {
                    from_xmp("FLAC APPLICATION block XMP", data.get(4..).unwrap_or_default(), found);
                }
            } else {
                comments(&data, off, found)?;
            }
        }
        off += 4 + len;
        if last {
            return Ok(());
        }
    }
}

fn comments(data: &[u8], at: u64, found: &mut Vec<Found>) -> Parse<()> {
    let truncated = || bad(format!("the FLAC Vorbis comment block at byte {at} is truncated"));
    let field = |pos: usize| -> Option<(&[u8], usize)> {
        let len = usize::try_from(u32_le(data.get(pos..pos + 4)?, 0)).ok()?;
        Some((data.get(pos + 4..)?.get(..len)?, pos + 4 + len))
    };
    let Some((_vendor, mut pos)) = field(0) else { return truncated() };
    let Some(count) = data.get(pos..pos + 4).map(|b| u32_le(b, 0)) else { return truncated() };
    pos += 4;
    for _ in 0..count {
        let Some((comment, next)) = field(pos) else { return truncated() };
        pos = next;
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
    Ok(())
}

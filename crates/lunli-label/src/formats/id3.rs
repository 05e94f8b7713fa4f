//! MP3: the ID3v2.3/2.4 tag at the start of the file — a `TXXX` frame whose description contains
//! `AIGC` (what `ffmpeg -metadata AIGC=…` writes), or a `PRIV` frame owned `XMP` holding an XMP
//! packet. Audio frames are not read.

use std::io::{Read, Seek};

use super::{Found, from_xmp, is_aigc_key};
use crate::error::{Parse, bad};
use crate::source::{Source, u32_be};

pub(crate) fn synchsafe(b: &[u8]) -> u64 {
    b.iter().take(4).fold(0u64, |acc, &x| (acc << 7) | u64::from(x & 0x7f))
}

pub(crate) fn synchsafe_bytes(n: u32) -> [u8; 4] {
    [((n >> 21) & 0x7f) as u8, ((n >> 14) & 0x7f) as u8, ((n >> 7) & 0x7f) as u8, (n & 0x7f) as u8]
}

/// An ID3v2 tag: (major version, flags, frames area, total tag length including its header).
pub(crate) type Tag = (u8, u8, Vec<u8>, u64);

/// One frame: id, flags, data.
pub(crate) type Frame<'a> = ([u8; 4], [u8; 2], &'a [u8]);

/// The tag at the start of the file, if there is one.
pub(crate) fn tag<R: Read + Seek>(src: &mut Source<R>) -> Parse<Option<Tag>> {
    if src.len() < 10 {
        return Ok(None);
    }
    let head = src.read_at(0, 10, "the ID3v2 header")?;
    if &head[..3] != b"ID3" {
        return Ok(None);
    }
    let (major, flags) = (head[3], head[5]);
    if head[6..10].iter().any(|b| b & 0x80 != 0) {
        return bad("the ID3v2 tag size is not a synchsafe integer");
    }
    let size = synchsafe(&head[6..10]);
    if !(3..=4).contains(&major) {
        return bad(format!("ID3v2.{major} tag: lunli reads ID3v2.3 and ID3v2.4"));
    }
    if flags & 0x80 != 0 {
        return bad("the ID3v2 tag is unsynchronised as a whole; lunli does not read such tags");
    }
    let mut body = src.read_at(10, size, "the ID3v2 tag")?;
    if flags & 0x40 != 0 {
        // Extended header: v2.3 gives its size without the 4 size bytes, v2.4 with them.
        let Some(ext) = body.get(..4) else { return bad("the ID3v2 extended header is truncated") };
        let skip = if major == 3 { u64::from(u32_be(ext, 0)) + 4 } else { synchsafe(ext) };
        let skip = usize::try_from(skip).unwrap_or(usize::MAX);
        if skip > body.len() {
            return bad("the ID3v2 extended header is longer than the tag");
        }
        body.drain(..skip);
    }
    Ok(Some((major, flags, body, 10 + size)))
}

/// The frames of a tag's frames area, up to its padding.
pub(crate) fn frames(major: u8, body: &[u8]) -> Parse<Vec<Frame<'_>>> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos + 10 <= body.len() {
        let h = &body[pos..pos + 10];
        if h[0] == 0 {
            break; // padding
        }
        let size = if major == 4 { synchsafe(&h[4..8]) } else { u64::from(u32_be(h, 4)) };
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        let id = [h[0], h[1], h[2], h[3]];
        let Some(data) = body.get(pos + 10..).and_then(|rest| rest.get(..size)) else {
            return bad(format!(
                "ID3v2 frame {} at byte {} runs past the end of the tag",
                crate::source::fourcc(&id),
                pos + 10
            ));
        };
        out.push((id, [h[8], h[9]], data));
        pos += 10 + size;
    }
    Ok(out)
}

/// Text in an ID3 encoding, up to its terminator; returns the text and the rest.
fn decode(encoding: u8, data: &[u8]) -> (String, &[u8]) {
    match encoding {
        1 | 2 => {
            let mut units = Vec::new();
            let mut i = 0;
            while i + 1 < data.len() {
                let pair = [data[i], data[i + 1]];
                i += 2;
                if pair == [0, 0] {
                    break;
                }
                units.push(pair);
            }
            let rest = data.get(i..).unwrap_or_default();
            let little = encoding == 1 && units.first() == Some(&[0xFF, 0xFE]);
            let units: Vec<u16> = units
                .iter()
                .map(|p| if little { u16::from_le_bytes(*p) } else { u16::from_be_bytes(*p) })
                .filter(|&u| u != 0xFEFF)
                .collect();
            (String::from_utf16_lossy(&units), rest)
        }
        _ => {
            let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
            let rest = data.get(end + 1..).unwrap_or_default();
            let text = if encoding == 3 {
                String::from_utf8_lossy(&data[..end]).into_owned()
            } else {
                crate::source::text(&data[..end])
            };
            (text, rest)
        }
    }
}

pub(crate) fn scan<R: Read + Seek>(src: &mut Source<R>, found: &mut Vec<Found>) -> Parse<()> {
    let Some((major, _, body, _)) = tag(src)? else { return Ok(()) };
    for (id, flags, data) in frames(major, &body)? {
        // v2.4 format flags: compression, encryption, unsynchronisation, data length indicator.
        if major == 4 && flags[1] & 0x0F != 0 || major == 3 && flags[1] & 0xC0 != 0 {
            continue;
        }
        match &id {
            b"TXXX" => {
                let Some((&enc, rest)) = data.split_first() else { continue };
                let (description, rest) = decode(enc, rest);
                if is_aigc_key(&description) {
                    let (value, _) = decode(enc, rest);
                    found.push(Found {
                        location: format!("ID3v2.{major} TXXX {description}"),
                        value,
                        problems: Vec::new(),
                    });
                }
            }
            b"PRIV" => {
                let (owner, rest) = decode(0, data);
                if owner == "XMP" {
                    from_xmp(&format!("ID3v2.{major} PRIV XMP"), rest, found);
                } else if is_aigc_key(&owner) {
                    let value = crate::source::text(rest);
                    found.push(Found { location: format!("ID3v2.{major} PRIV {owner}"), value, problems: Vec::new() });
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Whether a frame is a TXXX whose description names the label (what `write --replace` drops).
pub(crate) fn is_aigc_txxx(id: &[u8; 4], data: &[u8]) -> bool {
    id == b"TXXX" && data.split_first().is_some_and(|(&enc, rest)| is_aigc_key(&decode(enc, rest).0))
}

/// A TXXX frame holding `value` under `description`: UTF-8 in ID3v2.4, UTF-16 in ID3v2.3
/// (which has no UTF-8).
pub(crate) fn txxx(major: u8, description: &str, value: &str) -> Vec<u8> {
    let mut data = Vec::new();
    if major == 4 {
        data.push(3);
        data.extend_from_slice(description.as_bytes());
        data.push(0);
        data.extend_from_slice(value.as_bytes());
    } else {
        data.push(1);
        for (i, text) in [description, value].into_iter().enumerate() {
            data.extend_from_slice(&[0xFF, 0xFE]);
            data.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
            if i == 0 {
                data.extend_from_slice(&[0, 0]);
            }
        }
    }
    let size = u32::try_from(data.len()).unwrap_or(0);
    let mut out = b"TXXX".to_vec();
    out.extend_from_slice(&if major == 4 { synchsafe_bytes(size) } else { size.to_be_bytes() });
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&data);
    out
}

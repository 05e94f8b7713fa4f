//! PDF: XMP packets in metadata streams (`/Type /Metadata /Subtype /XML`). PDF 2.0 (ISO 32000-2,
//! 14.3.2) recommends leaving metadata streams uncompressed so that tools which do not parse PDF
//! can find them; lunli relies on that and scans the file for `<?xpacket` … `<?xpacket end`,
//! reading it once in 1 MiB windows. A packet inside a Flate-compressed stream or a compressed
//! object stream is not seen, and the file is then reported as missing its label
//! (docs/labels.md). When an incremental update added a newer packet, every packet with an AIGC
//! value is reported, in file order.

use std::io::{Read, Seek};

use super::{Found, from_xmp};
use crate::error::{Parse, bad};
use crate::source::Source;

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
                            from_xmp("PDF metadata stream XMP", &done, found);
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

// ---------------------------------------------------------------------------------------------
// Writing: an incremental update (ISO 32000-2, 7.5.6) appends a metadata stream, a new revision
// of the catalog pointing to it, and a cross-reference section; the original bytes stay as they
// were. Only files with a classic cross-reference table are written (not cross-reference
// streams, not encrypted files): docs/labels.md.

use std::collections::HashMap;

use crate::fields::Aigc;
use crate::write::Piece;

const MAX_SECTIONS: usize = 256;

fn latin1(b: &[u8]) -> String {
    b.iter().map(|&c| char::from(c)).collect()
}

/// End of the dictionary opening at `start` (which must be `<<`), skipping strings and comments.
fn dict_end(text: &[u8], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = start;
    while i < text.len() {
        match text[i] {
            b'<' if text.get(i + 1) == Some(&b'<') => {
                depth += 1;
                i += 2;
            }
            b'>' if text.get(i + 1) == Some(&b'>') => {
                depth = depth.checked_sub(1)?;
                i += 2;
                if depth == 0 {
                    return Some(i);
                }
            }
            b'<' => i += text[i..].iter().position(|&c| c == b'>')? + 1,
            b'(' => {
                let mut nest = 0usize;
                while i < text.len() {
                    match text[i] {
                        b'\\' => i += 1,
                        b'(' => nest += 1,
                        b')' => {
                            nest -= 1;
                            if nest == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
                i += 1;
            }
            b'%' => i += text[i..].iter().position(|&c| c == b'\n' || c == b'\r').unwrap_or(text.len() - i),
            _ => i += 1,
        }
    }
    None
}

/// Where `key` (like `/Root`) starts among the top-level entries of `dict` (`<< … >>`).
fn find_key(dict: &[u8], key: &[u8]) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = 0;
    while i < dict.len() {
        if dict[i..].starts_with(b"<<") {
            depth += 1;
            i += 2;
        } else if dict[i..].starts_with(b">>") {
            depth = depth.saturating_sub(1);
            i += 2;
        } else if dict[i] == b'(' || (dict[i] == b'[' && depth == 1) {
            // Skip strings and arrays whole.
            let close = if dict[i] == b'(' { b')' } else { b']' };
            i += dict[i..].iter().position(|&c| c == close)? + 1;
        } else if depth == 1
            && dict[i..].starts_with(key)
            && dict.get(i + key.len()).is_none_or(|c| !c.is_ascii_alphanumeric())
        {
            return Some(i);
        } else {
            i += 1;
        }
    }
    None
}

fn tokens(after: &[u8], n: usize) -> Vec<String> {
    latin1(after)
        .split(|c: char| c.is_whitespace() || c == '/' || c == '>' || c == '[' || c == '<')
        .filter(|t| !t.is_empty())
        .take(n)
        .map(str::to_string)
        .collect()
}

fn entry_ref(dict: &[u8], key: &[u8]) -> Option<(u32, u32)> {
    let at = find_key(dict, key)? + key.len();
    let t = tokens(&dict[at..], 3);
    (t.len() == 3 && t[2] == "R").then_some(())?;
    Some((t[0].parse().ok()?, t[1].parse().ok()?))
}

fn entry_int(dict: &[u8], key: &[u8]) -> Option<u64> {
    let at = find_key(dict, key)? + key.len();
    tokens(&dict[at..], 1).first()?.parse().ok()
}

/// The dictionary of object `num` at `offset`, and the offset just after it.
fn object<R: Read + Seek>(src: &mut Source<R>, offset: u64, num: u32) -> Parse<(Vec<u8>, u64)> {
    let head = src.read_upto(offset, 64 << 10, "a PDF object")?;
    let expected = format!("{num} ");
    if !head.trim_ascii_start().starts_with(expected.as_bytes()) {
        return bad(format!("the cross-reference table puts object {num} at byte {offset}, but it is not there"));
    }
    let Some(open) = find(&head, b"<<", 0) else {
        return bad(format!("PDF object {num} at byte {offset} is not a dictionary"));
    };
    let Some(end) = dict_end(&head, open) else {
        return bad(format!("PDF object {num} at byte {offset}: its dictionary does not end within 64 KiB"));
    };
    Ok((head[open..end].to_vec(), offset + end as u64))
}

pub(crate) fn plan_write<R: Read + Seek>(src: &mut Source<R>, aigc: &Aigc) -> Parse<(Vec<Piece>, String)> {
    let len = src.len();
    let tail = src.read_at(len.saturating_sub(2048), len.min(2048), "the end of the PDF")?;
    let Some(sx) = tail.windows(9).rposition(|w| w == b"startxref") else {
        return bad("the PDF has no startxref near its end");
    };
    let Some(xref) = tokens(&tail[sx + 9..], 1).first().and_then(|t| t.parse::<u64>().ok()) else {
        return bad("the PDF's startxref is not followed by an offset");
    };
    let mut objects: HashMap<u32, (u64, u32)> = HashMap::new();
    let mut trailer: Option<Vec<u8>> = None;
    let mut next = Some(xref);
    let mut sections = 0;
    while let Some(at) = next {
        sections += 1;
        if sections > MAX_SECTIONS || at >= len {
            return bad(format!("the PDF's cross-reference chain is broken at byte {at}"));
        }
        let chunk = src.read_upto(at, 16 << 20, "a PDF cross-reference section")?;
        if !chunk.starts_with(b"xref") {
            return bad(
                "the PDF uses a cross-reference stream (PDF 1.5 and later); lunli writes labels only into PDFs with a classic cross-reference table",
            );
        }
        let Some(tr) = find(&chunk, b"trailer", 0) else {
            return bad(format!("the cross-reference section at byte {at} has no trailer"));
        };
        let table = latin1(&chunk[4..tr]);
        let mut words = table.split_whitespace();
        while let (Some(first), Some(count)) = (words.next(), words.next()) {
            let (Ok(first), Ok(count)) = (first.parse::<u32>(), count.parse::<u32>()) else {
                return bad(format!("the cross-reference section at byte {at} is malformed"));
            };
            for k in 0..count {
                let (Some(off), Some(generation), Some(kind)) = (words.next(), words.next(), words.next()) else {
                    return bad(format!("the cross-reference section at byte {at} ends early"));
                };
                if kind == "n"
                    && let (Ok(off), Ok(generation)) = (off.parse(), generation.parse())
                {
                    objects.entry(first.saturating_add(k)).or_insert((off, generation));
                }
            }
        }
        let Some(open) = find(&chunk, b"<<", tr) else { return bad("a PDF trailer has no dictionary") };
        let Some(end) = dict_end(&chunk, open) else { return bad("a PDF trailer dictionary does not end") };
        let dict = chunk[open..end].to_vec();
        next = entry_int(&dict, b"/Prev");
        trailer.get_or_insert(dict);
    }
    let Some(trailer) = trailer else { return bad("the PDF has no trailer") };
    if find_key(&trailer, b"/Encrypt").is_some() {
        return bad("the PDF is encrypted; lunli does not write labels into encrypted PDFs");
    }
    let (Some((root, root_gen)), Some(size)) = (entry_ref(&trailer, b"/Root"), entry_int(&trailer, b"/Size")) else {
        return bad("the PDF trailer lacks /Root or /Size");
    };
    let Some(&(root_at, _)) = objects.get(&root) else {
        return bad(format!("the PDF's catalog (object {root}) is in no cross-reference table"));
    };
    let (mut catalog, _) = object(src, root_at, root)?;
    let packet = match entry_ref(&catalog, b"/Metadata") {
        None => crate::xmp::packet(aigc).into_bytes(),
        Some((m, _)) => {
            let Some(&(m_at, _)) = objects.get(&m) else {
                return bad(format!("the PDF's metadata stream (object {m}) is in no cross-reference table"));
            };
            let (dict, after) = object(src, m_at, m)?;
            if find_key(&dict, b"/Filter").is_some() {
                return bad("the PDF's metadata stream is compressed; lunli adds labels only to uncompressed metadata");
            }
            let Some(length) = entry_int(&dict, b"/Length").filter(|_| entry_ref(&dict, b"/Length").is_none()) else {
                return bad("the PDF's metadata stream has no direct /Length");
            };
            let gap = src.read_upto(after, 32, "the PDF stream keyword")?;
            let Some(s) = find(&gap, b"stream", 0) else { return bad("the PDF metadata object has no stream") };
            let mut start = after + s as u64 + 6;
            start += if gap[s + 6..].starts_with(b"\r\n") { 2 } else { 1 };
            let old = src.read_at(start, length, "the PDF metadata stream")?;
            let Some(merged) = crate::xmp::merged(&String::from_utf8_lossy(&old), aigc) else {
                return bad("the PDF's XMP packet has no rdf:RDF element to add the label to");
            };
            merged.into_bytes()
        }
    };
    // The catalog's new revision: its /Metadata points to the new stream.
    if let Some(k) = find_key(&catalog, b"/Metadata") {
        let rest = &catalog[k + 9..];
        let Some(r) = rest.iter().position(|&c| c == b'R') else { return bad("the catalog's /Metadata is malformed") };
        catalog.drain(k..k + 9 + r + 1);
    }
    let Some(close) = catalog.len().checked_sub(2) else { return bad("the PDF catalog is malformed") };
    catalog.splice(close..close, format!(" /Metadata {size} 0 R ").into_bytes());

    let last = src.read_at(len - 1, 1, "the PDF's last byte")?;
    let mut add: Vec<u8> = if last == b"\n" || last == b"\r" { Vec::new() } else { b"\n".to_vec() };
    let meta_at = len + add.len() as u64;
    add.extend_from_slice(
        format!("{size} 0 obj\n<< /Type /Metadata /Subtype /XML /Length {} >>\nstream\n", packet.len()).as_bytes(),
    );
    add.extend_from_slice(&packet);
    add.extend_from_slice(b"\nendstream\nendobj\n");
    let cat_at = len + add.len() as u64;
    add.extend_from_slice(format!("{root} {root_gen} obj\n").as_bytes());
    add.extend_from_slice(&catalog);
    add.extend_from_slice(b"\nendobj\n");
    let xref_at = len + add.len() as u64;
    let mut entries = [(u64::from(root), cat_at, root_gen), (size, meta_at, 0)];
    entries.sort();
    add.extend_from_slice(b"xref\n");
    for (num, at, generation) in entries {
        add.extend_from_slice(format!("{num} 1\n{at:010} {generation:05} n\r\n").as_bytes());
    }
    let mut trailer_new = format!("trailer\n<< /Size {} /Root {root} {root_gen} R", size + 1);
    if let Some((i, g)) = entry_ref(&trailer, b"/Info") {
        trailer_new.push_str(&format!(" /Info {i} {g} R"));
    }
    if let Some(k) = find_key(&trailer, b"/ID") {
        let rest = &trailer[k..];
        if let Some(e) = rest.iter().position(|&c| c == b']') {
            trailer_new.push(' ');
            trailer_new.push_str(&latin1(&rest[..=e]));
        }
    }
    trailer_new.push_str(&format!(" /Prev {xref} >>\nstartxref\n{xref_at}\n%%EOF\n"));
    add.extend_from_slice(trailer_new.as_bytes());
    Ok((vec![Piece::Copy(0, len), Piece::New(add)], format!("PDF metadata stream (object {size}, incremental update)")))
}

//! Adds a conforming implicit label to a copy of a file, editing only metadata: the copy is the
//! original's bytes with one metadata structure inserted or replaced (and a container's length
//! field updated), so image data, audio frames, video samples and PDF objects are byte for byte
//! the same. The label goes where `check` looks first for each format: an XMP packet (PNG iTXt,
//! JPEG APP1, WebP `XMP `, GIF application extension, WAV `_PMX`, MP4 top-level `uuid` box, PDF
//! metadata stream appended by an incremental update), for MP3 an ID3v2 `TXXX` frame `AIGC`
//! and for FLAC the Vorbis comment `AIGC=`, holding the JSON.
//!
//! Before the copy replaces anything it is checked: it must carry exactly the label written.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write as _};
use std::path::Path;

use serde::Serialize;

use crate::check::{Format, ImplicitState, check_file};
use crate::error::{LabelError, Parse, bad};
use crate::fields::Aigc;
use crate::formats::{id3, jpeg, png, riff};
use crate::source::{Source, u32_le};
use crate::xmp;

/// What `write` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Written {
    pub format: Format,
    /// Where the label went.
    pub location: String,
    /// How many bytes the copy has more than the original.
    pub bytes_added: u64,
    /// The label the file carried before, when `write` replaced it ([`Existing::Replace`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaced: Option<Replaced>,
}

/// A label `write` replaced: where it was and what it said (kept in the output so the change
/// can be accounted for, Measures Art. 10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Replaced {
    pub location: String,
    /// The fields as they were read (a malformed label's fields may be missing or wrong).
    pub fields: BTreeMap<String, String>,
    /// Whether the old label conformed.
    pub conforming: bool,
}

/// What `write` does with a file that already carries an implicit label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Refuse, naming the label (the default: replacing a label is a person's decision).
    Refuse,
    /// Replace it with the new one, in the place `write` writes; the old values are returned
    /// in [`Written::replaced`].
    Replace,
}

/// One piece of the output: a range of the input or new bytes.
pub(crate) enum Piece {
    Copy(u64, u64),
    New(Vec<u8>),
}

struct Plan {
    pieces: Vec<Piece>,
    location: String,
}

fn open(path: &Path) -> Result<Source<File>, LabelError> {
    let io = |source| LabelError::Io { path: path.display().to_string(), source };
    let file = File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    Ok(Source::new(file, len))
}

/// The format of a file `write` can label, or why not.
pub(crate) fn format_of(path: &Path) -> Result<Format, LabelError> {
    let shown = path.display().to_string();
    let mut src = open(path)?;
    let magic = src.read_upto(0, 16, "the file's first bytes").map_err(|e| e.at(&shown))?;
    let refused = |reason: String| LabelError::Refused { path: shown.clone(), reason };
    match Format::detect(&magic, &shown) {
        Some(
            f @ (Format::Png
            | Format::Jpeg
            | Format::Webp
            | Format::Gif
            | Format::Wav
            | Format::Mp3
            | Format::Flac
            | Format::Mp4
            | Format::Pdf),
        ) => Ok(f),
        Some(other) => Err(refused(format!(
            "lunli writes labels into PNG, JPEG, WebP, GIF, WAV, MP3, FLAC, MP4/MOV and PDF files; {} is not one of them (docs/labels.md)",
            other.as_str()
        ))),
        None => Err(refused("not a format lunli knows (PNG, JPEG, WebP, GIF, WAV, MP3, FLAC, MP4/MOV or PDF)".into())),
    }
}

/// Writes `input` with `aigc` as its implicit label to `output` (which may be `input` itself:
/// the copy is made beside it and renamed into place). A file that carries a label already is
/// refused unless `existing` is [`Existing::Replace`].
pub fn write(input: &Path, output: &Path, aigc: &Aigc, existing: Existing) -> Result<Written, LabelError> {
    aigc.validate("the label")?;
    let shown = input.display().to_string();
    let format = format_of(input)?;
    let mut replaced = None;
    if let Some(check) = check_file(input) {
        if let Some(error) = check.error {
            return Err(LabelError::Malformed { path: shown, reason: error });
        }
        if matches!(check.implicit.state, ImplicitState::Present | ImplicitState::Malformed) {
            let location = check.implicit.location.unwrap_or_default();
            if existing == Existing::Refuse {
                return Err(LabelError::Refused {
                    path: shown,
                    reason: format!(
                        "it already carries an implicit label ({location}); lunli replaces a label only with --replace, which records the old values (Measures Art. 10, docs/labels.md)"
                    ),
                });
            }
            replaced = Some(Replaced {
                location,
                fields: check.implicit.fields,
                conforming: check.implicit.state == ImplicitState::Present,
            });
        }
    }
    let mut src = open(input)?;
    let plan = match format {
        Format::Png => plan_png(&mut src, aigc),
        Format::Jpeg => plan_jpeg(&mut src, aigc),
        Format::Webp => plan_webp(&mut src, aigc),
        Format::Wav => plan_wav(&mut src, aigc),
        Format::Mp3 => plan_mp3(&mut src, aigc),
        Format::Gif => crate::formats::gif::plan_write(&mut src, aigc).map(Plan::from),
        Format::Flac => crate::formats::flac::plan_write(&mut src, aigc).map(Plan::from),
        Format::Mp4 => crate::formats::mp4::plan_write(&mut src, aigc).map(Plan::from),
        _ => crate::formats::pdf::plan_write(&mut src, aigc).map(Plan::from),
    }
    .map_err(|e| e.at(&shown))?;
    // Every range copied lies within the input (a reader that let a truncated structure through
    // must not make `write` panic or copy garbage).
    if plan.pieces.iter().any(|p| matches!(p, Piece::Copy(a, b) if a > b || *b > src.len())) {
        return Err(LabelError::Malformed {
            path: shown,
            reason: "the file is truncated: its structure points past its end".into(),
        });
    }
    let total: u64 = plan
        .pieces
        .iter()
        .map(|p| match p {
            Piece::Copy(a, b) => b - a,
            Piece::New(v) => v.len() as u64,
        })
        .sum();
    execute(input, output, &plan, aigc)?;
    Ok(Written { format, location: plan.location, bytes_added: total.saturating_sub(src.len()), replaced })
}

impl From<(Vec<Piece>, String)> for Plan {
    fn from((pieces, location): (Vec<Piece>, String)) -> Self {
        Self { pieces, location }
    }
}

/// Why a written copy is not what it should be: it must carry exactly the label written, in
/// one place (a replaced label left elsewhere would make two).
fn verify(temp: &Path, aigc: &Aigc) -> Option<String> {
    let Some(check) = check_file(temp) else { return Some("the copy is not a file lunli reads".into()) };
    if let Some(error) = check.error {
        return Some(format!("the copy does not read back: {error}"));
    }
    if check.implicit.state == ImplicitState::Present && check.implicit.fields == aigc.fields() {
        return None;
    }
    let problems: Vec<String> = check.implicit.problems.iter().map(|p| p.reason.en.clone()).collect();
    Some(format!(
        "the copy would not carry exactly the label written ({}); lunli replaces labels only in the places it writes them — remove the old label with the tool that wrote it",
        if problems.is_empty() { "label not found".to_string() } else { problems.join("; ") }
    ))
}

fn execute(input: &Path, output: &Path, plan: &Plan, aigc: &Aigc) -> Result<(), LabelError> {
    let out_err = |source| LabelError::Io { path: output.display().to_string(), source };
    let in_err = |source| LabelError::Io { path: input.display().to_string(), source };
    let name = output.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    let temp = output.with_file_name(format!(".{name}.lunli-tmp"));
    let result = (|| {
        let mut from = File::open(input).map_err(in_err)?;
        let mut to = BufWriter::new(File::create(&temp).map_err(out_err)?);
        for piece in &plan.pieces {
            match piece {
                Piece::New(bytes) => to.write_all(bytes).map_err(out_err)?,
                Piece::Copy(a, b) => {
                    from.seek(SeekFrom::Start(*a)).map_err(in_err)?;
                    let copied = std::io::copy(&mut (&mut from).take(b - a), &mut to).map_err(out_err)?;
                    if copied != b - a {
                        return Err(LabelError::Malformed {
                            path: input.display().to_string(),
                            reason: "the file changed while it was being copied".into(),
                        });
                    }
                }
            }
        }
        to.into_inner().map_err(|e| out_err(e.into_error()))?.sync_all().map_err(out_err)?;
        if let Some(reason) = verify(&temp, aigc) {
            return Err(LabelError::Refused { path: input.display().to_string(), reason });
        }
        std::fs::rename(&temp, output).map_err(out_err)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

fn refuse<T>(reason: impl Into<String>) -> Parse<T> {
    bad(reason)
}

/// The pieces of a copy with `edits` made: each replaces the bytes `start..end` of the input
/// with new ones (an insertion has `start == end`). Edits are sorted and must not overlap.
fn spliced(len: u64, mut edits: Vec<(u64, u64, Vec<u8>)>) -> Vec<Piece> {
    edits.sort_by_key(|(start, end, _)| (*start, *end));
    let mut pieces = Vec::new();
    let mut at = 0;
    for (start, end, bytes) in edits {
        if start > at {
            pieces.push(Piece::Copy(at, start));
        }
        if !bytes.is_empty() {
            pieces.push(Piece::New(bytes));
        }
        at = at.max(end);
    }
    if len > at {
        pieces.push(Piece::Copy(at, len));
    }
    pieces
}

fn plan_png<R: Read + Seek>(src: &mut Source<R>, aigc: &Aigc) -> Parse<Plan> {
    let chunks = png::chunks(src)?;
    let Some(ihdr) = chunks.first().filter(|c| &c.kind == b"IHDR") else {
        return refuse("the PNG does not start with an IHDR chunk");
    };
    let itxt = |xmp: &str| {
        let mut data = png::XMP_KEYWORD.as_bytes().to_vec();
        data.extend_from_slice(&[0, 0, 0, 0, 0]);
        data.extend_from_slice(xmp.as_bytes());
        png::chunk_bytes(b"iTXt", &data)
    };
    let mut edits = Vec::new();
    let mut location = None;
    for c in chunks.iter().filter(|c| matches!(&c.kind, b"tEXt" | b"zTXt" | b"iTXt")) {
        let data = src.read_at(c.offset + 8, c.len, "a PNG text chunk")?;
        let keyword = data.split(|&b| b == 0).next().unwrap_or_default();
        if keyword != png::XMP_KEYWORD.as_bytes() {
            // A text chunk keyed AIGC is a label the new one replaces (checked before: only
            // with `Existing::Replace` does a labelled file get here).
            if crate::formats::is_aigc_key(&String::from_utf8_lossy(keyword)) {
                edits.push((c.offset, c.offset + 12 + c.len, Vec::new()));
            }
            continue;
        }
        if location.is_some() {
            return refuse("the PNG has more than one XMP packet; lunli will not choose between them");
        }
        if &c.kind != b"iTXt" || data.get(png::XMP_KEYWORD.len() + 1) == Some(&1) {
            return refuse("the PNG's XMP packet is compressed; lunli adds labels only to uncompressed packets");
        }
        // An existing XMP packet keeps what it holds; the label joins it.
        let mut parts = data.get(png::XMP_KEYWORD.len() + 3..).unwrap_or_default().splitn(3, |&b| b == 0);
        let (Some(_), Some(_), Some(packet)) = (parts.next(), parts.next(), parts.next()) else {
            return refuse("the PNG's XMP iTXt chunk is malformed");
        };
        let Some(merged) = xmp::merged(&String::from_utf8_lossy(packet), aigc) else {
            return refuse("the PNG's XMP packet has no rdf:RDF element to add the label to");
        };
        edits.push((c.offset, c.offset + 12 + c.len, itxt(&merged)));
        location = Some("PNG iTXt XML:com.adobe.xmp (existing packet)");
    }
    let location = match location {
        Some(l) => l,
        None => {
            let at = ihdr.offset + 12 + ihdr.len;
            edits.push((at, at, itxt(&xmp::packet(aigc))));
            "PNG iTXt XML:com.adobe.xmp"
        }
    };
    Ok(Plan { pieces: spliced(src.len(), edits), location: location.into() })
}

fn plan_jpeg<R: Read + Seek>(src: &mut Source<R>, aigc: &Aigc) -> Parse<Plan> {
    let (segments, _) = jpeg::segments(src)?;
    let app1 = |xmp: &str| -> Parse<Vec<u8>> {
        let len = jpeg::XMP_SIGNATURE.len() + xmp.len() + 2;
        let Ok(len) = u16::try_from(len) else {
            return refuse("the XMP packet with the label exceeds the 64 KiB of one JPEG APP1 segment");
        };
        let mut out = vec![0xFF, 0xE1];
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(jpeg::XMP_SIGNATURE);
        out.extend_from_slice(xmp.as_bytes());
        Ok(out)
    };
    for s in segments.iter().filter(|s| s.marker == 0xE1) {
        let data = src.read_at(s.offset + 4, s.len, "a JPEG APP1 segment")?;
        let Some(packet) = data.strip_prefix(jpeg::XMP_SIGNATURE) else { continue };
        let Some(merged) = xmp::merged(&String::from_utf8_lossy(packet), aigc) else {
            return refuse("the JPEG's XMP packet has no rdf:RDF element to add the label to");
        };
        return Ok(Plan {
            pieces: vec![
                Piece::Copy(0, s.offset),
                Piece::New(app1(&merged)?),
                Piece::Copy(s.offset + 4 + s.len, src.len()),
            ],
            location: "JPEG APP1 XMP (existing packet)".into(),
        });
    }
    // After JFIF's APP0 and an Exif APP1, which readers expect first.
    let at =
        segments.iter().take_while(|s| s.marker == 0xE0 || s.marker == 0xE1).last().map_or(2, |s| s.offset + 4 + s.len);
    Ok(Plan {
        pieces: vec![Piece::Copy(0, at), Piece::New(app1(&xmp::packet(aigc))?), Piece::Copy(at, src.len())],
        location: "JPEG APP1 XMP".into(),
    })
}

fn riff_chunk(id: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = id.to_vec();
    out.extend_from_slice(&u32::try_from(data.len()).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(data);
    if data.len() % 2 == 1 {
        out.push(0);
    }
    out
}

/// The RIFF size field after `added` bytes more (or fewer) of chunks.
fn riff_size<R: Read + Seek>(src: &mut Source<R>, added: i64) -> Parse<Vec<u8>> {
    let old = i64::from(u32_le(&src.read_at(4, 4, "the RIFF size")?, 0));
    match u32::try_from(old + added) {
        Ok(n) => Ok(n.to_le_bytes().to_vec()),
        Err(_) => refuse("the labelled file would exceed the 4 GiB a RIFF file can hold"),
    }
}

/// An XMP chunk rewritten in place with the label added to its packet, and the RIFF size
/// changed by the difference (RIFF chunks hold no absolute offsets, so later chunks may move).
fn riff_merge<R: Read + Seek>(src: &mut Source<R>, c: &riff::Chunk, aigc: &Aigc, location: &str) -> Parse<Plan> {
    let old = src.read_at(c.offset + 8, c.len, "the RIFF XMP chunk")?;
    let Some(merged) = xmp::merged(&String::from_utf8_lossy(&old), aigc) else {
        return refuse("the XMP packet has no rdf:RDF element to add the label to");
    };
    let chunk = riff_chunk(&c.id, merged.as_bytes());
    let end = (c.offset + 8 + c.len + (c.len & 1)).min(src.len());
    let added = chunk.len() as i64 - (end - c.offset) as i64;
    Ok(Plan {
        pieces: vec![
            Piece::Copy(0, 4),
            Piece::New(riff_size(src, added)?),
            Piece::Copy(8, c.offset),
            Piece::New(chunk),
            Piece::Copy(end, src.len()),
        ],
        location: location.into(),
    })
}

fn plan_webp<R: Read + Seek>(src: &mut Source<R>, aigc: &Aigc) -> Parse<Plan> {
    let (_, chunks) = riff::chunks(src)?;
    let Some(first) = chunks.first() else { return refuse("the WebP has no chunks") };
    if let Some(c) = chunks.iter().find(|c| &c.id == b"XMP ") {
        // VP8X already says there is XMP; the chunk is rewritten in place with the label added.
        return riff_merge(src, c, aigc, "WebP XMP chunk (existing packet)");
    }
    let xmp_chunk = riff_chunk(b"XMP ", xmp::packet(aigc).as_bytes());
    let end = chunks.last().map_or(12, |c| c.offset + 8 + c.len + (c.len & 1));
    let mut pieces = Vec::new();
    let added;
    if &first.id == b"VP8X" {
        // Set the XMP flag of the extended header (bit 2 of its first byte).
        let mut vp8x = src.read_at(first.offset, 8 + first.len, "the VP8X chunk")?;
        if let Some(flags) = vp8x.get_mut(8) {
            *flags |= 0x04;
        }
        added = xmp_chunk.len() as i64;
        pieces.push(Piece::Copy(0, 4));
        pieces.push(Piece::New(riff_size(src, added)?));
        pieces.push(Piece::Copy(8, first.offset));
        pieces.push(Piece::New(vp8x));
        pieces.push(Piece::Copy(first.offset + 8 + first.len, end));
    } else {
        // A simple WebP (one VP8 or VP8L chunk) needs the extended header to carry metadata.
        let head = src.read_at(first.offset + 8, first.len.min(16), "the WebP bitstream header")?;
        let (w, h, alpha) = match &first.id {
            b"VP8 " if head.len() >= 10 && head[3..6] == [0x9d, 0x01, 0x2a] => (
                u32::from(u16::from_le_bytes([head[6], head[7]]) & 0x3fff),
                u32::from(u16::from_le_bytes([head[8], head[9]]) & 0x3fff),
                false,
            ),
            b"VP8L" if head.len() >= 5 && head[0] == 0x2f => {
                let bits = u32_le(&head, 1);
                ((bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1, bits >> 28 & 1 == 1)
            }
            _ => return refuse("the WebP's first chunk is neither VP8X, VP8 nor VP8L"),
        };
        let mut data = vec![0x04 | if alpha { 0x10 } else { 0 }, 0, 0, 0];
        data.extend_from_slice(&(w.saturating_sub(1)).to_le_bytes()[..3]);
        data.extend_from_slice(&(h.saturating_sub(1)).to_le_bytes()[..3]);
        let vp8x = riff_chunk(b"VP8X", &data);
        added = (vp8x.len() + xmp_chunk.len()) as i64;
        pieces.push(Piece::Copy(0, 4));
        pieces.push(Piece::New(riff_size(src, added)?));
        pieces.push(Piece::Copy(8, 12));
        pieces.push(Piece::New(vp8x));
        pieces.push(Piece::Copy(12, end));
    }
    pieces.push(Piece::New(xmp_chunk));
    pieces.push(Piece::Copy(end, src.len()));
    Ok(Plan { pieces, location: "WebP XMP chunk".into() })
}

fn plan_wav<R: Read + Seek>(src: &mut Source<R>, aigc: &Aigc) -> Parse<Plan> {
    let (_, chunks) = riff::chunks(src)?;
    if let Some(c) = chunks.iter().find(|c| &c.id == b"_PMX") {
        return riff_merge(src, c, aigc, "WAV _PMX chunk (existing packet)");
    }
    let end = chunks.last().map_or(12, |c| c.offset + 8 + c.len);
    let pad = end & 1;
    if end + pad > src.len() {
        return refuse(
            "the WAV's last chunk runs to the end of the file with its length unset; lunli will not append after it",
        );
    }
    let chunk = riff_chunk(b"_PMX", xmp::packet(aigc).as_bytes());
    let added = (chunk.len() as u64 + pad) as i64;
    let mut pieces = vec![Piece::Copy(0, 4), Piece::New(riff_size(src, added)?), Piece::Copy(8, end)];
    if pad == 1 {
        pieces.push(Piece::New(vec![0]));
    }
    pieces.push(Piece::New(chunk));
    if src.len() > end + pad {
        pieces.push(Piece::Copy(end + pad, src.len()));
    }
    Ok(Plan { pieces, location: "WAV _PMX chunk".into() })
}

fn plan_mp3<R: Read + Seek>(src: &mut Source<R>, aigc: &Aigc) -> Parse<Plan> {
    let value = aigc.to_json();
    match id3::tag(src)? {
        None => {
            let frame = id3::txxx(4, "AIGC", &value);
            let mut tag = b"ID3\x04\x00\x00".to_vec();
            tag.extend_from_slice(&id3::synchsafe_bytes(u32::try_from(frame.len()).unwrap_or(0)));
            tag.extend_from_slice(&frame);
            Ok(Plan { pieces: vec![Piece::New(tag), Piece::Copy(0, src.len())], location: "ID3v2.4 TXXX AIGC".into() })
        }
        Some((major, flags, body, total)) => {
            if flags & 0x50 != 0 {
                return refuse("the ID3v2 tag has an extended header or footer; lunli does not edit such tags");
            }
            // Every frame is kept as it was, but an AIGC TXXX the new label replaces.
            let mut tag_body = Vec::new();
            let mut pos = 0;
            for (id, _, data) in id3::frames(major, &body)? {
                let frame = body.get(pos..pos + 10 + data.len()).unwrap_or_default();
                if !id3::is_aigc_txxx(&id, data) {
                    tag_body.extend_from_slice(frame);
                }
                pos += 10 + data.len();
            }
            tag_body.extend_from_slice(&id3::txxx(major, "AIGC", &value));
            let Ok(size) = u32::try_from(tag_body.len()).map(|n| n.min(0x0fff_ffff)) else {
                return refuse("the ID3v2 tag would be too large");
            };
            let mut tag = vec![b'I', b'D', b'3', major, 0, flags];
            tag.extend_from_slice(&id3::synchsafe_bytes(size));
            tag.extend_from_slice(&tag_body);
            Ok(Plan {
                pieces: vec![Piece::New(tag), Piece::Copy(total, src.len())],
                location: format!("ID3v2.{major} TXXX AIGC"),
            })
        }
    }
}

//! The result of checking one file, and how it is reached: detect the format, let its reader
//! find the AIGC values, validate the first, and look for the explicit label where lunli can.

use std::collections::BTreeMap;
use std::io::{Read, Seek};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::Parse;
use crate::fields::{Bilingual, Problem, read_payload};
use crate::formats::{self, Found, text::Kind};
use crate::source::Source;

/// A file format lunli reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Png,
    Jpeg,
    Webp,
    Gif,
    Wav,
    Mp3,
    Flac,
    Mp4,
    Pdf,
    Text,
    Markdown,
    Html,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpeg",
            Self::Webp => "webp",
            Self::Gif => "gif",
            Self::Wav => "wav",
            Self::Mp3 => "mp3",
            Self::Flac => "flac",
            Self::Mp4 => "mp4",
            Self::Pdf => "pdf",
            Self::Text => "text",
            Self::Markdown => "markdown",
            Self::Html => "html",
        }
    }

    fn is_text(self) -> bool {
        matches!(self, Self::Text | Self::Markdown | Self::Html)
    }

    /// The format from the first bytes, else from the file name's extension (text only).
    pub(crate) fn detect(magic: &[u8], name: &str) -> Option<Self> {
        let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
        let at = |i: usize, s: &[u8]| magic.get(i..i + s.len()) == Some(s);
        if at(0, crate::formats::png::SIGNATURE) {
            return Some(Self::Png);
        }
        if at(0, &[0xFF, 0xD8, 0xFF]) {
            return Some(Self::Jpeg);
        }
        if at(0, b"RIFF") && at(8, b"WEBP") {
            return Some(Self::Webp);
        }
        if at(0, b"RIFF") && at(8, b"WAVE") {
            return Some(Self::Wav);
        }
        if at(0, b"GIF87a") || at(0, b"GIF89a") {
            return Some(Self::Gif);
        }
        if at(0, b"fLaC") {
            return Some(Self::Flac);
        }
        if at(0, b"%PDF-") {
            return Some(Self::Pdf);
        }
        if at(0, b"ID3") || (ext == "mp3" && magic.first() == Some(&0xFF)) {
            return Some(Self::Mp3);
        }
        if [b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip"].iter().any(|t| at(4, *t)) {
            return Some(Self::Mp4);
        }
        match ext.as_str() {
            "txt" | "text" => Some(Self::Text),
            "md" | "markdown" => Some(Self::Markdown),
            "html" | "htm" | "xhtml" => Some(Self::Html),
            _ => None,
        }
    }
}

/// Where a file stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Conforming,
    MissingImplicit,
    Malformed,
    MissingExplicit,
    Unreadable,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImplicitState {
    Present,
    Missing,
    Malformed,
    /// A plain text file has no metadata to carry one; Markdown and HTML files are checked
    /// when they carry one, and are not required to (docs/labels.md).
    NotApplicable,
    /// The file could not be read.
    NotRead,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExplicitState {
    Present,
    Missing,
    /// lunli does not look for it in this format (pixels, sound, video frames, PDF pages).
    NotChecked,
}

/// The implicit label of one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Implicit {
    pub state: ImplicitState,
    /// Where the (first) label was found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The fields read, by name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub fields: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub problems: Vec<Problem>,
}

/// The explicit label of one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explicit {
    pub state: ExplicitState,
    /// `start` or `end`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
    /// The words found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// The check of one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelCheck {
    pub path: String,
    pub format: Format,
    /// The file's size in bytes.
    pub size: u64,
    /// The bytes lunli read to check it.
    pub bytes_read: u64,
    pub status: Status,
    pub implicit: Implicit,
    pub explicit: Explicit,
    /// Why the file could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl LabelCheck {
    pub fn passed(&self) -> bool {
        self.status == Status::Conforming
    }
}

/// What a status means, for people.
pub fn status_text(status: Status) -> Bilingual {
    let (zh, en) = match status {
        Status::Conforming => ("符合", "conforming"),
        Status::MissingImplicit => ("缺少隐式标识", "missing implicit label"),
        Status::Malformed => ("隐式标识格式错误", "malformed implicit label"),
        Status::MissingExplicit => ("缺少显式标识", "missing explicit label"),
        Status::Unreadable => ("无法读取", "unreadable"),
    };
    Bilingual::new(zh, en)
}

/// Checks one file on disk; `None` when it is not a format lunli reads. Never fails: a file
/// that cannot be read is `unreadable`, with the reason.
pub fn check_file(path: &Path) -> Option<LabelCheck> {
    let shown = path.display().to_string();
    let opened = std::fs::File::open(path).and_then(|f| f.metadata().map(|m| (f, m.len())));
    match opened {
        Ok((file, len)) => check_source(&shown, Source::new(std::io::BufReader::with_capacity(8 << 10, file), len)),
        Err(e) => {
            // The format is unknown too; judge by name so that a listed file is not dropped.
            let format = Format::detect(&[], &shown).unwrap_or(Format::Text);
            Some(unreadable(&shown, format, 0, 0, e.to_string()))
        }
    }
}

/// Checks bytes held in memory as if they were the file `name`.
pub fn check_bytes(name: &str, bytes: &[u8]) -> Option<LabelCheck> {
    check_source(name, Source::new(std::io::Cursor::new(bytes), bytes.len() as u64))
}

fn unreadable(path: &str, format: Format, size: u64, read: u64, error: String) -> LabelCheck {
    LabelCheck {
        path: path.to_string(),
        format,
        size,
        bytes_read: read,
        status: Status::Unreadable,
        implicit: Implicit { state: ImplicitState::NotRead, location: None, fields: BTreeMap::new(), problems: vec![] },
        explicit: Explicit { state: ExplicitState::NotChecked, position: None, text: None },
        error: Some(error),
    }
}

fn check_source<R: Read + Seek>(path: &str, mut src: Source<R>) -> Option<LabelCheck> {
    let magic = match src.read_upto(0, 16, "the file's first bytes") {
        Ok(m) => m,
        Err(e) => {
            return Some(unreadable(path, Format::detect(&[], path)?, src.len(), src.bytes_read(), e.to_string()));
        }
    };
    let format = Format::detect(&magic, path)?;
    let mut found = Vec::new();
    let scanned = scan(format, &mut src, &mut found);
    let size = src.len();
    let read = src.bytes_read();
    let edges = match scanned {
        Ok(edges) => edges,
        Err(e) => return Some(unreadable(path, format, size, read, e.to_string())),
    };
    let implicit = implicit(format, &found);
    let explicit = match edges {
        Some(e) => match e.explicit {
            Some((position, text)) => {
                Explicit { state: ExplicitState::Present, position: Some(position.into()), text: Some(text) }
            }
            None => Explicit { state: ExplicitState::Missing, position: None, text: None },
        },
        None => Explicit { state: ExplicitState::NotChecked, position: None, text: None },
    };
    let status = match (implicit.state, explicit.state) {
        (ImplicitState::Malformed, _) => Status::Malformed,
        (ImplicitState::Missing, _) => Status::MissingImplicit,
        (_, ExplicitState::Missing) => Status::MissingExplicit,
        _ => Status::Conforming,
    };
    Some(LabelCheck { path: path.to_string(), format, size, bytes_read: read, status, implicit, explicit, error: None })
}

/// Runs the format's reader; text formats also return what their edges hold.
fn scan<R: Read + Seek>(
    format: Format,
    src: &mut Source<R>,
    found: &mut Vec<Found>,
) -> Parse<Option<formats::text::Edges>> {
    match format {
        Format::Png => formats::png::scan(src, found)?,
        Format::Jpeg => formats::jpeg::scan(src, found)?,
        Format::Webp | Format::Wav => formats::riff::scan(src, found)?,
        Format::Gif => formats::gif::scan(src, found)?,
        Format::Mp3 => formats::id3::scan(src, found)?,
        Format::Flac => formats::flac::scan(src, found)?,
        Format::Mp4 => formats::mp4::scan(src, found)?,
        Format::Pdf => formats::pdf::scan(src, found)?,
        Format::Text => return formats::text::scan(src, Kind::Plain, found).map(Some),
        Format::Markdown => return formats::text::scan(src, Kind::Markdown, found).map(Some),
        Format::Html => return formats::text::scan(src, Kind::Html, found).map(Some),
    }
    Ok(None)
}

fn implicit(format: Format, found: &[Found]) -> Implicit {
    let Some(first) = found.first() else {
        let state = if format.is_text() { ImplicitState::NotApplicable } else { ImplicitState::Missing };
        return Implicit { state, location: None, fields: BTreeMap::new(), problems: vec![] };
    };
    let (fields, mut problems) = read_payload(&first.value);
    problems.splice(0..0, first.problems.iter().cloned());
    if found.len() > 1 {
        let places = found.iter().map(|f| f.location.as_str()).collect::<Vec<_>>().join("; ");
        problems.push(Problem::new(
            None,
            "duplicate",
            format!("文件中有 {} 份隐式标识（{places}），应仅保留一份", found.len()),
            format!("the file holds {} implicit labels ({places}); it should keep only one", found.len()),
        ));
    }
    let state = if problems.is_empty() { ImplicitState::Present } else { ImplicitState::Malformed };
    Implicit { state, location: Some(first.location.clone()), fields, problems }
}

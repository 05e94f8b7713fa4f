//! Text encodings: UTF-8 or GB18030/GBK detected from a file's start, and the streaming
//! GB18030 → UTF-8 transcoder that refuses malformed bytes and warns of mixed encodings.

use super::format::Format;
use super::stream::ReadState;
use super::{Diagnostics, InputFile, SAMPLE_BYTES};
use crate::error::AuditError;
use lunli_norms::Text;
use serde::Serialize;
use std::fs::File;
use std::io::Read;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

/// A text encoding lunli reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Encoding {
    #[serde(rename = "utf-8")]
    Utf8,
    /// GB18030, which includes GBK and GB2312.
    #[serde(rename = "gb18030")]
    Gb18030,
}

impl Encoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Utf8 => "utf-8",
            Self::Gb18030 => "gb18030",
        }
    }
}

/// How to choose a text file's encoding: detect it, or as the person says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EncodingChoice {
    #[default]
    Auto,
    Fixed(Encoding),
}

impl FromStr for EncodingChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "auto" => Ok(Self::Auto),
            "utf-8" | "utf8" => Ok(Self::Fixed(Encoding::Utf8)),
            "gb18030" | "gbk" | "gb2312" | "cp936" => Ok(Self::Fixed(Encoding::Gb18030)),
            other => Err(format!("`{other}` is not an encoding lunli reads; use auto, utf-8, gbk or gb18030")),
        }
    }
}

/// A plain-text file (text, Markdown) as UTF-8 for the per-line scanners: as it is when its
/// start is UTF-8, transcoded from GB18030/GBK (streaming, refusing malformed bytes) when its
/// start reads as that. A start that is neither is passed through as it is, so the scanner
/// names the first bad byte (or a binary file) itself. Never reads the whole file.
pub(crate) fn text_reader(path: &str) -> Result<Box<dyn Read + Send>, AuditError> {
    let mut file = File::open(path).map_err(|e| AuditError::io(path, e))?;
    let mut sample = Vec::with_capacity(SAMPLE_BYTES);
    (&mut file).take(SAMPLE_BYTES as u64).read_to_end(&mut sample).map_err(|e| AuditError::io(path, e))?;
    // A sample may end inside a character: judge it without its last few bytes.
    let judged = &sample[..sample.len().saturating_sub(if sample.len() == SAMPLE_BYTES { 4 } else { 0 })];
    let input = InputFile {
        path: PathBuf::from(path),
        display: path.to_string(),
        format: Format::Csv { delimiter: b',' },
        gzip: false,
        encoding: Encoding::Gb18030,
        bom: false,
        bytes: 0,
        newlines_in_values: false,
    };
    let whole: Box<dyn Read + Send> = Box::new(std::io::Cursor::new(sample.clone()).chain(file));
    let gb18030 = std::str::from_utf8(judged).is_err() && gb18030_valid_up_to(judged) == judged.len();
    Ok(if gb18030 {
        Box::new(Transcoder::new(whole, Arc::new(ReadState::default()), input, Arc::new(Diagnostics::default())))
    } else {
        whole
    })
}

/// UTF-8 if the sample is UTF-8; otherwise GB18030 if it decodes cleanly as that; otherwise an
/// error at the first line that is neither.
pub(super) fn detect_encoding(file: &InputFile, sample: &[u8]) -> Result<Encoding, AuditError> {
    let utf8_valid = match std::str::from_utf8(sample) {
        Ok(_) => return Ok(Encoding::Utf8),
        Err(e) => e.valid_up_to(),
    };
    let gb_valid = gb18030_valid_up_to(sample);
    if gb_valid == sample.len() {
        return Ok(Encoding::Gb18030);
    }
    // Neither reads the whole sample: the file mixes encodings (or is not text). Name the line
    // where the encoding that reads further breaks, and what that line looks like.
    let (read_as, other, valid) =
        if utf8_valid >= gb_valid { ("UTF-8", "GB18030/GBK", utf8_valid) } else { ("GB18030/GBK", "UTF-8", gb_valid) };
    let line = line_of(sample, valid);
    let start = sample[..valid].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let end = sample[valid..].iter().position(|&b| b == b'\n').map_or(sample.len(), |i| valid + i);
    let bad_line = &sample[start..end];
    let looks_other = if read_as == "UTF-8" {
        gb18030_valid_up_to(bad_line) == bad_line.len()
    } else {
        std::str::from_utf8(bad_line).is_ok()
    };
    let reason = if looks_other && line > 1 {
        format!(
            "the lines before read as {read_as} but this one is {other}: the file mixes encodings; convert it to one (UTF-8)"
        )
    } else {
        "neither UTF-8 nor GB18030/GBK text; save the file as UTF-8 or pass --encoding".to_string()
    };
    Err(AuditError::input(file.location().with_line(line), reason))
}

/// How many leading bytes decode as GB18030 without error.
pub(super) fn gb18030_valid_up_to(bytes: &[u8]) -> usize {
    let mut decoder = encoding_rs::GB18030.new_decoder_without_bom_handling();
    let mut out = vec![0u8; bytes.len() * 3 + 16];
    let (result, read, _) = decoder.decode_to_utf8_without_replacement(bytes, &mut out, true);
    match result {
        encoding_rs::DecoderResult::Malformed(bad, _) => read.saturating_sub(usize::from(bad)),
        _ => read,
    }
}

/// 1-based line of a byte offset.
pub(super) fn line_of(bytes: &[u8], offset: usize) -> u64 {
    bytes[..offset.min(bytes.len())].iter().filter(|&&b| b == b'\n').count() as u64 + 1
}

pub(super) fn decode(file: &InputFile, bytes: &[u8]) -> Result<String, AuditError> {
    match file.encoding {
        Encoding::Utf8 => match std::str::from_utf8(bytes) {
            Ok(text) => Ok(text.to_string()),
            Err(e) => Err(AuditError::input(
                file.location().with_line(line_of(bytes, e.valid_up_to())),
                "not valid UTF-8; pass --encoding gbk if the file is GBK/GB18030",
            )),
        },
        Encoding::Gb18030 => match encoding_rs::GB18030.decode_without_bom_handling_and_without_replacement(bytes) {
            Some(text) => Ok(text.into_owned()),
            None => {
                let mut decoder = encoding_rs::GB18030.new_decoder_without_bom_handling();
                let mut out = vec![0u8; bytes.len() * 3 + 16];
                let (_, read, _) = decoder.decode_to_utf8_without_replacement(bytes, &mut out, true);
                Err(AuditError::input(file.location().with_line(line_of(bytes, read)), "not valid GB18030/GBK text"))
            }
        },
    }
}

/// GB18030 → UTF-8, streaming, refusing malformed bytes (never replacing them silently), and
/// warning about lines that are valid UTF-8 instead: a sign of a file that mixes encodings.
pub(super) struct Transcoder {
    pub(super) inner: Box<dyn Read + Send>,
    pub(super) decoder: encoding_rs::Decoder,
    pub(super) input: Vec<u8>,
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) eof: bool,
    pub(super) state: Arc<ReadState>,
    pub(super) file: InputFile,
    pub(super) diagnostics: Arc<Diagnostics>,
    /// Raw bytes of the line being read, kept only while it has non-ASCII bytes.
    pub(super) line: Vec<u8>,
    pub(super) line_number: u64,
    pub(super) line_high: bool,
    pub(super) utf8_lines: u64,
    pub(super) first_utf8_line: u64,
    pub(super) finished: bool,
}

impl Transcoder {
    pub(super) fn new(
        inner: Box<dyn Read + Send>,
        state: Arc<ReadState>,
        file: InputFile,
        diagnostics: Arc<Diagnostics>,
    ) -> Self {
        Self {
            inner,
            decoder: encoding_rs::GB18030.new_decoder_without_bom_handling(),
            input: vec![0u8; 256 * 1024],
            start: 0,
            end: 0,
            eof: false,
            state,
            file,
            diagnostics,
            line: Vec::new(),
            line_number: 1,
            line_high: false,
            utf8_lines: 0,
            first_utf8_line: 0,
            finished: false,
        }
    }

    /// Watches raw lines for UTF-8 text. GB18030 never uses the byte 0x0A inside a character,
    /// so splitting raw bytes at newlines is safe.
    pub(super) fn watch(&mut self, raw: &[u8]) {
        for &b in raw {
            if b == b'\n' {
                self.end_line();
                self.line_number += 1;
            } else {
                if b >= 0x80 {
                    self.line_high = true;
                }
                if self.line_high || self.line.len() < 4096 {
                    self.line.push(b);
                }
            }
        }
    }

    pub(super) fn end_line(&mut self) {
        if self.line_high && std::str::from_utf8(&self.line).is_ok() {
            self.utf8_lines += 1;
            if self.first_utf8_line == 0 {
                self.first_utf8_line = self.line_number;
            }
        }
        self.line.clear();
        self.line_high = false;
    }

    pub(super) fn finish(&mut self) {
        if std::mem::replace(&mut self.finished, true) {
            return;
        }
        self.end_line();
        if self.utf8_lines > 0 {
            let (name, first, count) = (self.file.name(), self.first_utf8_line, self.utf8_lines);
            self.diagnostics.warn(Text {
                zh: format!(
                    "{name}：按 GB18030 读取，但有 {count} 行（首行第 {first} 行）是 UTF-8 文本——文件混用了编码，这些行的文字可能是乱码"
                ),
                en: format!(
                    "{name}: read as GB18030, but {count} lines (first: line {first}) are UTF-8 text — the file mixes encodings and those lines may be garbled"
                ),
            });
        }
    }
}

impl Read for Transcoder {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // encoding_rs needs room for at least one character's UTF-8 form.
        if buf.len() < 4 {
            let mut small = [0u8; 4];
            let n = self.read(&mut small)?;
            let n = n.min(buf.len());
            buf[..n].copy_from_slice(&small[..n]);
            return Ok(n);
        }
        loop {
            if self.finished {
                return Ok(0);
            }
            if self.start == self.end && !self.eof {
                let n = self.inner.read(&mut self.input)?;
                self.start = 0;
                self.end = n;
                if n == 0 {
                    self.eof = true;
                }
            }
            let chunk = &self.input[self.start..self.end];
            let (result, read, written) = self.decoder.decode_to_utf8_without_replacement(chunk, buf, self.eof);
            let consumed = self.input[self.start..self.start + read].to_vec();
            self.start += read;
            self.watch(&consumed);
            match result {
                encoding_rs::DecoderResult::Malformed(_, _) => {
                    let line = self.line_number;
                    let error = AuditError::input(
                        self.file.location().with_line(line),
                        "bytes that are not GB18030/GBK text: the file mixes encodings or is damaged",
                    );
                    let message = error.to_string();
                    self.state.set_error(error);
                    return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, message));
                }
                encoding_rs::DecoderResult::OutputFull => return Ok(written),
                encoding_rs::DecoderResult::InputEmpty => {
                    if written > 0 {
                        return Ok(written);
                    }
                    if self.eof {
                        self.finish();
                        return Ok(0);
                    }
                }
            }
        }
    }
}

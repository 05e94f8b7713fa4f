//! Bounded, counted reads: every format reader asks for the bytes it needs at an offset, never
//! more than the file holds or than [`MAX_READ`], and the bytes actually read are counted so that
//! a run can report how much of its files it touched.

use std::io::{Read, Seek, SeekFrom};

use crate::error::{Parse, bad};

/// The largest single piece of metadata lunli reads (an XMP packet, an ID3 tag, a moov box's
/// user data): larger claims are refused as malformed rather than allocated.
pub(crate) const MAX_READ: u64 = 64 << 20;

pub(crate) struct Source<R> {
    inner: R,
    len: u64,
    read: u64,
}

impl<R: Read + Seek> Source<R> {
    pub(crate) fn new(inner: R, len: u64) -> Self {
        Self { inner, len, read: 0 }
    }

    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    pub(crate) fn bytes_read(&self) -> u64 {
        self.read
    }

    /// Exactly `n` bytes at `offset`; `what` names them in the error when the file is too short.
    pub(crate) fn read_at(&mut self, offset: u64, n: u64, what: &str) -> Parse<Vec<u8>> {
        if n > MAX_READ {
            return bad(format!(
                "{what} at byte {offset} claims {n} bytes, more than lunli reads for metadata ({MAX_READ} bytes)"
            ));
        }
        match offset.checked_add(n) {
            Some(end) if end <= self.len => {}
            _ => {
                return bad(format!(
                    "truncated: {what} at byte {offset} needs {n} bytes, but the file has {} bytes",
                    self.len
                ));
            }
        }
        let mut buf = vec![0; usize::try_from(n).map_err(|_| crate::error::ParseError::Bad("too large".into()))?];
        self.inner.seek(SeekFrom::Start(offset))?;
        self.inner.read_exact(&mut buf)?;
        self.read += n;
        Ok(buf)
    }

    /// Up to `n` bytes at `offset` (fewer at the end of the file).
    pub(crate) fn read_upto(&mut self, offset: u64, n: u64, what: &str) -> Parse<Vec<u8>> {
        let n = n.min(self.len.saturating_sub(offset));
        self.read_at(offset, n, what)
    }
}

pub(crate) fn u16_be(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

pub(crate) fn u32_be(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

pub(crate) fn u32_le(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

pub(crate) fn u64_be(b: &[u8], at: usize) -> u64 {
    let mut a = [0; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_be_bytes(a)
}

/// Bytes as text: UTF-8 when they are, else ISO 8859-1 (what PNG tEXt and ID3 encoding 0 use).
pub(crate) fn text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// A four-character code shown in messages.
pub(crate) fn fourcc(b: &[u8]) -> String {
    b.iter().map(|&c| if c.is_ascii_graphic() || c == b' ' { char::from(c) } else { '?' }).collect()
}

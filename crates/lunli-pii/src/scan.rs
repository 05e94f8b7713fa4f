//! The streaming text scanner: plain text or Markdown, read in fixed windows so that memory
//! stays bounded whatever the size of the file or of one line.
//!
//! A window ends at its last newline, so lines are searched whole. A line longer than a window
//! is searched in windows that overlap by [`OVERLAP`] bytes (more than the longest candidate)
//! and keep [`CONTEXT`] bytes before the cut so that context words still count; a value is
//! reported by the window it starts in, once.
//!
//! With [`TextScanner::threads`], the windows are planned exactly as one thread would cut windows
//! of the same size and up to that many are searched at once; the pieces reach the visitor in
//! order, so the findings, line numbers and errors do not depend on the number of threads (nor
//! on the window, but for the pieces' cuts).

use std::io::Read;

use crate::entity::{Confidence, Entity};
use crate::error::PiiError;
use crate::recognise::{Match, Recogniser};

/// Default window with more than one thread: 4 MiB (each round of windows is searched by
/// threads that are started and joined, so windows are large).
pub const WINDOW: usize = 4 << 20;
/// Default window with one thread: 256 KiB. The file's bytes are read, checked and searched
/// while they are still in the core's cache; with 4 MiB windows each pass read them from memory
/// again (cachegrind with a 4 MiB last-level cache: 811k misses on 10 MB of dense text, 52k with
/// these windows).
pub const SMALL_WINDOW: usize = 256 << 10;
/// Overlap of the windows of one long line; every candidate is shorter.
pub const OVERLAP: usize = 1024;
/// Bytes kept before a cut in a long line, for context words.
pub const CONTEXT: usize = 256;

/// One value found in a text file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextFinding {
    pub entity: Entity,
    pub confidence: Confidence,
    pub checksum_failed: bool,
    /// 1-based line number.
    pub line: u64,
    /// Byte offset of the value in the file.
    pub offset: u64,
    /// Its length in bytes.
    pub len: usize,
}

/// A stretch of the file, in order: the pieces of one scan cover the file exactly once.
#[derive(Debug)]
pub struct Piece<'a> {
    pub text: &'a str,
    /// Byte offset of `text` in the file.
    pub offset: u64,
    /// The values that start in this piece (offsets are the file's).
    pub findings: &'a [TextFinding],
}

impl Piece<'_> {
    /// The text of a finding of this piece.
    pub fn value(&self, finding: &TextFinding) -> &str {
        let start = usize::try_from(finding.offset - self.offset).unwrap_or(0);
        &self.text[start..start + finding.len]
    }
}

/// What one scan read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TextStats {
    pub bytes: u64,
    pub lines: u64,
    pub findings: u64,
}

/// What the search of one window found: its findings of the minimum confidence that start
/// before its cut (offsets the file's, lines counted from the window's first line), where its
/// piece would end, and the newlines in the bytes up to where the next window starts. The
/// threads that search check the window's bytes, count lines and make the findings, so that the
/// visitor's thread only adds the line the window starts on.
#[derive(Default)]
struct Searched {
    matches: Vec<Match>,
    lines: Vec<u64>,
    findings: Vec<TextFinding>,
    piece_end: usize,
    kept_newlines: u64,
}

/// Where a window's bytes stop the scan: a NUL byte at `at` in the buffer, or invalid UTF-8
/// `upto` bytes into the window starting at `at` (its line is known once the windows before it
/// have been counted).
#[derive(Debug, Clone, Copy)]
enum Stop {
    Binary { at: usize },
    InvalidUtf8 { at: usize, upto: usize },
}

/// Scans text in windows. Build once per recogniser.
pub struct TextScanner<'r> {
    recogniser: &'r Recogniser,
    /// The window set by [`TextScanner::window`], if any.
    window: Option<usize>,
    minimum: Confidence,
    threads: usize,
}

/// One window of the buffer, planned before it is searched: the same windows whatever the
/// number of threads, so the findings are too.
struct Window<'b> {
    /// Start of the window in the buffer.
    at: usize,
    /// The window's bytes, checked by the thread that searches it ([`check`]).
    bytes: &'b [u8],
    /// The text searched is `bytes[..search_end]`: the window up to its last newline (or all
    /// of it but a character the window's end cuts).
    search_end: usize,
    /// Values starting before `cut` (relative to `at`) belong to this window.
    cut: usize,
    /// The next window starts `keep` bytes on.
    keep: usize,
    /// The last window of the input.
    last: bool,
}

impl<'r> TextScanner<'r> {
    pub fn new(recogniser: &'r Recogniser) -> TextScanner<'r> {
        TextScanner { recogniser, window: None, minimum: Confidence::Possible, threads: 1 }
    }

    /// The window size (at least 4 × [`OVERLAP`]; by default [`SMALL_WINDOW`] with one thread,
    /// [`WINDOW`] with more). The findings are the same for any window.
    pub fn window(mut self, bytes: usize) -> Self {
        self.window = Some(bytes.max(4 * OVERLAP));
        self
    }

    /// The window searched: the one set, or the default for the number of threads.
    fn window_bytes(&self) -> usize {
        self.window.unwrap_or(if self.threads == 1 { SMALL_WINDOW } else { WINDOW })
    }

    /// Only findings at least this confident are reported.
    pub fn minimum(mut self, confidence: Confidence) -> Self {
        self.minimum = confidence;
        self
    }

    /// Searches up to `threads` windows at once, one per thread (default 1). The findings are the
    /// same for any number of threads, and so are the pieces for a window set with
    /// [`TextScanner::window`] (the default window depends on the threads); memory grows to
    /// `threads` windows,
    /// twice that with more than one thread (the next windows are read while these are searched).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Reads `reader` to its end and hands each piece, with the values that start in it, to
    /// `visit`. `file` names the input in errors. Fails on an empty input, a NUL byte (a
    /// binary file) or invalid UTF-8, naming the line and byte offset.
    pub fn scan<R: Read>(
        &self,
        mut reader: R,
        file: &str,
        visit: &mut dyn FnMut(&Piece<'_>) -> Result<(), PiiError>,
    ) -> Result<TextStats, PiiError> {
        let window = self.window_bytes();
        let capacity = window * self.threads;
        let mut buf: Vec<u8> = Vec::with_capacity(capacity);
        // With more than one thread, the next buffer is read into `spare` while the windows of
        // `buf` are searched, so that reading the file overlaps the search instead of leaving
        // the searching threads idle.
        let mut spare: Vec<u8> = Vec::new();
        let mut filled = 0; // bytes of `buf` read from the input
        let mut buf_start: u64 = 0; // file offset of buf[0]
        let mut line_at_start: u64 = 1; // line number at buf[0]
        let mut emitted: u64 = 0; // the file up to here was handed to `visit`
        let mut stats = TextStats::default();
        let mut eof = false;
        let mut searched: Vec<Searched> = Vec::new();
        fill(&mut reader, &mut buf, capacity, &mut filled, &mut eof, &mut stats.bytes)
            .map_err(|source| PiiError::Io { file: file.to_string(), source })?;
        loop {
            if eof && stats.bytes == 0 {
                return Err(PiiError::Empty { file: file.to_string() });
            }
            // Plan the windows the buffer holds whole; an error found while planning is
            // reported after the windows before it have been handed to `visit`.
            let mut windows = Vec::with_capacity(self.threads);
            let input = &buf[..filled];
            let next = Self::plan(window, input, eof, &mut windows);
            if searched.len() < windows.len() {
                searched.resize_with(windows.len(), Searched::default);
            }
            // Each window's text once its bytes are checked, or what stops the scan there.
            let mut texts: Vec<Result<&str, Stop>> = vec![Err(Stop::Binary { at: 0 }); windows.len()];
            // The bytes after the planned windows start the next buffer. With more than one
            // thread, it is read while these windows are searched (with one, into `buf` after
            // they have been handed on, as there is no one to wait); a read error is reported
            // where one thread would meet it, after these windows have been handed to `visit`.
            let more = !windows.last().is_some_and(|w| w.last);
            let ahead = more && self.threads > 1;
            let mut spare_filled = 0;
            let mut read_error = None;
            self.search(&windows, (buf_start, line_at_start), &mut searched, &mut texts, || {
                if ahead {
                    spare.resize(capacity, 0);
                    spare[..filled - next].copy_from_slice(&input[next..]);
                    spare_filled = filled - next;
                    read_error =
                        fill(&mut reader, &mut spare, capacity, &mut spare_filled, &mut eof, &mut stats.bytes).err();
                }
            });
            let mut line = line_at_start;
            for ((window, searched), text) in windows.iter().zip(&mut searched).zip(&texts) {
                let text = match *text {
                    Ok(text) => text,
                    Err(Stop::Binary { at }) => {
                        return Err(PiiError::Binary { file: file.to_string(), offset: buf_start + at as u64 });
                    }
                    Err(Stop::InvalidUtf8 { at, upto }) => {
                        let line = line + memchr::memchr_iter(b'\n', &input[at..at + upto]).count() as u64;
                        let offset = buf_start + (at + upto) as u64;
                        return Err(PiiError::InvalidUtf8 { file: file.to_string(), line, offset });
                    }
                };
                let start = buf_start + window.at as u64;
                let first = usize::try_from(emitted.saturating_sub(start)).unwrap_or(0);
                // Values starting before `first` were handed on with the window before (the
                // overlap of a long line's windows).
                let skip = searched.findings.partition_point(|f| f.offset < emitted);
                let findings = &mut searched.findings[skip..];
                let mut piece_end = searched.piece_end;
                if skip > 0 {
                    let ends = findings.iter().map(|f| usize::try_from(f.offset - start).unwrap_or(0) + f.len);
                    piece_end = ends.fold(window.cut, usize::max);
                }
                // The first window's lines were counted from the line it starts on.
                if window.at > 0 {
                    for f in findings.iter_mut() {
                        f.line += line;
                    }
                }
                stats.findings += findings.len() as u64;
                visit(&Piece { text: &text[first..piece_end], offset: emitted, findings })?;
                emitted = start + piece_end as u64;
                if window.last {
                    stats.lines = line + searched.kept_newlines - u64::from(text.ends_with('\n'));
                    return Ok(stats);
                }
                line += searched.kept_newlines;
            }
            drop(windows);
            drop(texts);
            if ahead {
                std::mem::swap(&mut buf, &mut spare);
                filled = spare_filled;
            } else {
                buf.copy_within(next..filled, 0);
                filled -= next;
                read_error = fill(&mut reader, &mut buf, capacity, &mut filled, &mut eof, &mut stats.bytes).err();
            }
            if let Some(source) = read_error {
                return Err(PiiError::Io { file: file.to_string(), source });
            }
            line_at_start = line;
            buf_start += next as u64;
        }
    }

    /// Cuts `buf` into the windows a scan of one window at a time would search: each window
    /// is the next `window` bytes (fewer at the end of the input), searched up to its last
    /// newline; a line longer than a window is cut with an overlap. Returns where the next
    /// window starts. The bytes are checked by the threads that search ([`check`]); a window
    /// after one that stops the scan is planned, but never handed on.
    fn plan<'b>(window: usize, buf: &'b [u8], eof: bool, windows: &mut Vec<Window<'b>>) -> usize {
        let mut at = 0;
        while at + window <= buf.len() || (eof && windows.last().is_none_or(|w| !w.last)) {
            let bytes = &buf[at..buf.len().min(at + window)];
            let last = eof && at + window > buf.len();
            // A character the window's end cuts is left to the next window.
            let n = if last { bytes.len() } else { complete_len(bytes) };
            let (search_end, cut, keep) = if last {
                (n, n, n)
            } else if let Some(newline) = memchr::memrchr(b'\n', &bytes[..n]) {
                (newline + 1, newline + 1, newline + 1)
            } else {
                let cut = boundary(bytes, n.saturating_sub(OVERLAP));
                (n, cut, boundary(bytes, cut.saturating_sub(CONTEXT)))
            };
            windows.push(Window { at, bytes, search_end, cut, keep, last });
            if last {
                return buf.len();
            }
            at += keep;
        }
        at
    }

    /// Finds the values of each window and counts their lines, the windows shared out among
    /// the threads; `meanwhile` runs on this thread while they search (after the search with
    /// one thread). `buf_start` is the buffer's offset in the file, `first_line` the line it
    /// starts on: the lines of the first window's findings are the file's, the others' are
    /// counted from their window's first line.
    fn search<'b>(
        &self,
        windows: &[Window<'b>],
        (buf_start, first_line): (u64, u64),
        searched: &mut [Searched],
        texts: &mut [Result<&'b str, Stop>],
        meanwhile: impl FnOnce(),
    ) {
        let search = |window: &Window<'b>, out: &mut Searched, text: &mut Result<&'b str, Stop>| {
            *text = check(window);
            let Ok(text) = *text else { return };
            out.matches.clear();
            out.kept_newlines =
                self.recogniser.find_lines(&text[..window.search_end], &mut out.matches, &mut out.lines, window.keep);
            let start = buf_start + window.at as u64;
            let line = if window.at == 0 { first_line } else { 0 };
            out.findings.clear();
            out.piece_end = window.cut;
            for (m, &lines) in out.matches.iter().zip(&out.lines) {
                if m.start >= window.cut || m.confidence < self.minimum {
                    continue;
                }
                out.findings.push(TextFinding {
                    entity: m.entity,
                    confidence: m.confidence,
                    checksum_failed: m.checksum_failed,
                    line: line + lines,
                    offset: start + m.start as u64,
                    len: m.end - m.start,
                });
                out.piece_end = out.piece_end.max(m.end);
            }
        };
        if self.threads == 1 || windows.len() < 2 {
            for ((window, out), text) in windows.iter().zip(searched.iter_mut()).zip(texts.iter_mut()) {
                search(window, out, text);
            }
            meanwhile();
            return;
        }
        let per_thread = windows.len().div_ceil(self.threads);
        std::thread::scope(|scope| {
            let chunks =
                windows.chunks(per_thread).zip(searched.chunks_mut(per_thread)).zip(texts.chunks_mut(per_thread));
            for ((windows, searched), texts) in chunks {
                scope.spawn(move || {
                    for ((window, out), text) in windows.iter().zip(searched.iter_mut()).zip(texts.iter_mut()) {
                        search(window, out, text);
                    }
                });
            }
            meanwhile();
        });
    }
}

/// A window's text, or what stops the scan there: a NUL byte (a binary file), or invalid UTF-8
/// (a character the window's end cuts is not, unless the input ends there).
fn check<'b>(window: &Window<'b>) -> Result<&'b str, Stop> {
    let (at, bytes) = (window.at, window.bytes);
    if let Some(nul) = memchr::memchr(0, bytes) {
        return Err(Stop::Binary { at: at + nul });
    }
    let valid = match simdutf8::compat::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) if e.error_len().is_none() && !window.last => {
            simdutf8::compat::from_utf8(&bytes[..e.valid_up_to()]).map_err(|_| Stop::InvalidUtf8 { at, upto: 0 })?
        }
        Err(e) => return Err(Stop::InvalidUtf8 { at, upto: e.valid_up_to() }),
    };
    // The plan cut the window where its valid text ends ([`complete_len`]); were it not so, the
    // window's text would not be what one window at a time would search.
    debug_assert!(window.last || valid.len() == complete_len(bytes), "window at {at}");
    Ok(valid)
}

/// The bytes of `bytes` up to a UTF-8 character its end cuts short (all of them if none): what
/// the validation of valid text with a cut last character finds valid. Only the last three
/// bytes can belong to a character cut short; invalid text is stopped by [`check`] whatever
/// this says.
fn complete_len(bytes: &[u8]) -> usize {
    let n = bytes.len();
    // The last byte that starts a character (is no continuation byte), among the last three.
    let Some(lead) = (n.saturating_sub(3)..n).rev().find(|&i| bytes[i] & 0b1100_0000 != 0b1000_0000) else {
        return n;
    };
    let needs = match bytes[lead] {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xFF => 4,
        _ => 1,
    };
    if n - lead < needs { lead } else { n }
}

/// Reads `reader` into `buf` (resized to `capacity`) from `filled` on, until it is full or the
/// input ends; counts the bytes read in `bytes`.
fn fill<R: Read>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    capacity: usize,
    filled: &mut usize,
    eof: &mut bool,
    bytes: &mut u64,
) -> std::io::Result<()> {
    // `buf` keeps its full length; `filled` bytes of it are the input's, so the rest is not
    // zeroed again before every read.
    buf.resize(capacity, 0);
    while !*eof && *filled < capacity {
        match reader.read(&mut buf[*filled..]) {
            Ok(0) => *eof = true,
            Ok(n) => {
                *filled += n;
                *bytes += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The nearest UTF-8 character boundary at or before `at`.
fn boundary(buf: &[u8], mut at: usize) -> usize {
    while at > 0 && at < buf.len() && (buf[at] & 0b1100_0000) == 0b1000_0000 {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(text: &[u8], window: usize) -> Result<(Vec<TextFinding>, String), PiiError> {
        let one = scan_with(text, window, 1);
        // More threads: the same findings, pieces and errors.
        for threads in [2, 5] {
            let many = scan_with(text, window, threads);
            match (&one, &many) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{threads} threads"),
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{threads} threads"),
                _ => panic!("{threads} threads: {one:?} but {many:?}"),
            }
        }
        one.map(|(found, copy, _)| (found, copy))
    }

    fn scan_with(
        text: &[u8],
        window: usize,
        threads: usize,
    ) -> Result<(Vec<TextFinding>, String, TextStats), PiiError> {
        let r = Recogniser::new();
        let mut all = Vec::new();
        let mut copy = String::new();
        let stats = TextScanner::new(&r).window(window).threads(threads).scan(text, "t.txt", &mut |p| {
            all.extend_from_slice(p.findings);
            copy.push_str(p.text);
            Ok(())
        })?;
        Ok((all, copy, stats))
    }

    /// Where the plan cuts a window's bytes is where the validation finds the valid text ends,
    /// at every cut of text of one- to four-byte characters; the threads that search check it.
    #[test]
    fn complete_len_as_the_validation_finds() {
        let mut texts: Vec<String> = crate::corpus::generate(22, 1000).into_iter().map(|l| l.text).collect();
        texts.extend(crate::corpus::prose(22, 5).into_iter().map(|l| l.text));
        texts.push("aé汉😀b😀😀éé汉汉x".repeat(20));
        let (mut checked, mut cut_short) = (0, 0);
        for text in &texts {
            let bytes = text.as_bytes();
            for cut in 0..=bytes.len() {
                let expected = match simdutf8::compat::from_utf8(&bytes[..cut]) {
                    Ok(_) => cut,
                    Err(e) => {
                        assert!(e.error_len().is_none(), "{text} cut at {cut}");
                        e.valid_up_to()
                    }
                };
                assert_eq!(complete_len(&bytes[..cut]), expected, "{text} cut at {cut}");
                checked += 1;
                cut_short += usize::from(expected < cut);
            }
        }
        assert!(checked > 50_000 && cut_short > checked / 4, "{cut_short} of {checked} cut short");
    }

    /// Hands out at most `chunk` bytes a read (now and then an interruption) and fails for good
    /// once `fail_at` bytes have been read.
    struct Flaky<'a> {
        data: &'a [u8],
        at: usize,
        chunk: usize,
        fail_at: usize,
        reads: usize,
    }

    impl Read for Flaky<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            self.reads += 1;
            if self.reads.is_multiple_of(5) {
                return Err(std::io::ErrorKind::Interrupted.into());
            }
            if self.at >= self.fail_at {
                return Err(std::io::Error::other("the disk went away"));
            }
            let n = out.len().min(self.chunk).min(self.data.len() - self.at).min(self.fail_at - self.at);
            out[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    /// The next buffer is read while the windows are searched: the pieces and findings are
    /// those of one thread whatever the reads return; where the input fails, the error is the
    /// input's and the pieces before it are the first pieces of the whole file.
    #[test]
    fn reads_ahead_as_one_thread_reads() {
        let r = Recogniser::new();
        let text: String = crate::corpus::generate(21, 1500).into_iter().map(|l| l.text + "\n").collect();
        let data = text.as_bytes();
        let run = |threads: usize, chunk: usize, fail_at: usize| {
            let mut pieces = Vec::new();
            let reader = Flaky { data, at: 0, chunk, fail_at, reads: 0 };
            let result = TextScanner::new(&r).window(4096).threads(threads).scan(reader, "t.txt", &mut |p| {
                pieces.push((p.offset, p.text.to_string(), p.findings.to_vec()));
                Ok(())
            });
            (pieces, result.map_err(|e| e.to_string()))
        };
        let (whole, stats) = run(1, 1 << 20, usize::MAX);
        assert_eq!(whole.iter().map(|p| p.1.as_str()).collect::<String>(), text);
        assert!(stats.is_ok() && whole.len() > 10, "{} pieces", whole.len());
        let mut failures = 0;
        for fail_at in [usize::MAX, 0, 1, 4095, 4096, 9000, 20_000, 33_333, data.len() - 1] {
            for chunk in [1000, 4096, 7777, 1 << 20] {
                for threads in [1, 2, 3] {
                    let (pieces, result) = run(threads, chunk, fail_at);
                    let case = format!("{threads} threads, reads of {chunk}, failing at {fail_at}");
                    if fail_at == usize::MAX {
                        assert_eq!((&pieces, &result), (&whole, &stats), "{case}");
                    } else {
                        assert_eq!(result, Err("t.txt: cannot read: the disk went away".to_string()), "{case}");
                        assert!(pieces.len() < whole.len() && pieces == whole[..pieces.len()], "{case}");
                        failures += 1;
                    }
                }
            }
        }
        assert_eq!(failures, 96);
    }

    /// One thread's default window (small, for the caches) finds what the large window finds,
    /// and what several threads find with theirs: lines, a line longer than the small window,
    /// dense and ordinary text.
    #[test]
    fn default_windows_find_the_same() {
        let r = Recogniser::new();
        let mut text: String = crate::corpus::generate(26, 12_000).into_iter().map(|l| l.text + "\n").collect();
        let long: String = crate::corpus::generate(27, 6000).into_iter().map(|l| l.text + "；").collect();
        text.push_str(&long);
        text.push('\n');
        text.extend(crate::corpus::prose(26, 100).into_iter().map(|l| l.text + "\n"));
        assert!(text.len() > 3 * SMALL_WINDOW && long.len() > SMALL_WINDOW, "{} bytes", text.len());
        // The findings, the text and the stats; and the number of pieces, one a window.
        let run = |scanner: TextScanner<'_>| {
            let (mut found, mut copy, mut pieces) = (Vec::new(), String::new(), 0);
            let stats = scanner.scan(text.as_bytes(), "t.txt", &mut |p| {
                found.extend_from_slice(p.findings);
                copy.push_str(p.text);
                pieces += 1;
                Ok(())
            });
            ((found, copy, stats.map_err(|e| e.to_string())), pieces)
        };
        let (small, pieces) = run(TextScanner::new(&r));
        assert_eq!(small.1, text);
        assert!(small.0.len() > 5000, "{} findings", small.0.len());
        assert!(pieces > text.len() / SMALL_WINDOW, "{pieces} pieces");
        assert_eq!(run(TextScanner::new(&r).window(WINDOW)), (small.clone(), 1), "one window holds it all");
        assert_eq!(run(TextScanner::new(&r).threads(3)), (small, 1), "so does one of several threads'");
    }

    #[test]
    fn line_counts_at_window_edges() {
        // Files of exactly one or two windows, ending with a newline or not.
        for len in [4095, 4096, 4097, 8192, 8193] {
            for ending in [b'\n', b'x'] {
                let mut text = vec![b'a'; len];
                for i in (50..len).step_by(100) {
                    text[i] = b'\n';
                }
                text[len - 1] = ending;
                let (_, copy, stats) = scan_with(&text, 4096, 1).expect("scans");
                assert_eq!(copy.as_bytes(), &text[..]);
                for threads in [2, 3] {
                    let (_, _, many) = scan_with(&text, 4096, threads).expect("scans");
                    assert_eq!(many, stats, "{len} bytes, {threads} threads");
                }
            }
        }
    }

    #[test]
    fn lines_offsets_and_pieces_cover_the_file() {
        let text = "第一行没有\n客户手机13812345678\n\nemail: li@example.com\n";
        let (found, copy) = scan(text.as_bytes(), WINDOW).expect("scans");
        assert_eq!(copy, text);
        assert_eq!(found.len(), 2);
        assert_eq!((found[0].entity, found[0].line), (Entity::Mobile, 2));
        assert_eq!(&text[found[0].offset as usize..][..found[0].len], "13812345678");
        assert_eq!((found[1].entity, found[1].line), (Entity::Email, 4));
    }

    #[test]
    fn long_line_in_small_windows_finds_each_value_once() {
        let mut text = String::new();
        for i in 0..2000 {
            text.push_str(&format!("记录{i} 手机 13812345678 邮箱 u{i}@example.com；"));
        }
        let (small, copy) = scan(text.as_bytes(), 4096).expect("scans");
        let (whole, _) = scan(text.as_bytes(), WINDOW).expect("scans");
        assert_eq!(copy, text);
        assert_eq!(small.len(), 4000);
        assert_eq!(small, whole);
        assert!(small.iter().all(|f| f.line == 1));
    }

    #[test]
    fn bad_input() {
        assert!(matches!(scan(b"", WINDOW), Err(PiiError::Empty { .. })));
        assert!(matches!(scan(b"abc\x00def", WINDOW), Err(PiiError::Binary { offset: 3, .. })));
        match scan(b"ok\nline two \xff here\n", WINDOW) {
            Err(PiiError::InvalidUtf8 { line, offset, .. }) => assert_eq!((line, offset), (2, 12)),
            other => panic!("{other:?}"),
        }
        // A multi-byte character split by the window edge is not an error.
        match scan(&[&b"a\n".repeat(5000)[..], b"\xe6\xb1"].concat(), 4096) {
            Err(PiiError::InvalidUtf8 { line, offset, .. }) => assert_eq!((line, offset), (5001, 10_000)),
            other => panic!("{other:?}"),
        }
        let text = "汉".repeat(5000);
        let (found, copy) = scan(text.as_bytes(), 4096).expect("scans");
        assert!(found.is_empty());
        assert_eq!(copy, text);
    }
}

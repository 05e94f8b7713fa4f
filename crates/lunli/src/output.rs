//! How the binary writes what people and scripts read: language choice, wrapping, tables, and
//! the machine formats (JSON, YAML).
//!
//! Every text written as lines, paragraphs, headings or table cells passes through [`escape`]:
//! stored text (public feedback above all, which anyone may send) could otherwise carry
//! terminal control sequences that retitle the window, clear the screen or overwrite what an
//! operator reads. JSON and YAML output is escaped by its encoder instead.

use std::borrow::Cow;
use std::io::Write;

use anyhow::Context;
use comfy_table::{ContentArrangement, Table, presets};
use lunli_norms::{Lang, Text};
use serde::Serialize;

use crate::cli::{Format, LangChoice};

/// Where output goes and how it should look.
pub struct Out {
    pub lang: LangChoice,
    pub format: Format,
    pub width: usize,
    buf: String,
}

impl Out {
    pub fn new(lang: LangChoice, format: Format, width: usize) -> Self {
        Self { lang, format, width, buf: String::new() }
    }

    /// The languages to print, in order.
    pub fn langs(&self) -> &'static [Lang] {
        match self.lang {
            LangChoice::Zh => &[Lang::Zh],
            LangChoice::En => &[Lang::En],
            LangChoice::Both => &[Lang::Zh, Lang::En],
        }
    }

    /// A short text (title, label) in the chosen language(s): `中文 / English` for both.
    pub fn short(&self, text: &Text) -> String {
        match self.lang {
            LangChoice::Zh => text.zh.clone(),
            LangChoice::En => text.en.clone(),
            LangChoice::Both if text.zh == text.en => text.zh.clone(),
            LangChoice::Both => format!("{} / {}", text.zh, text.en),
        }
    }

    /// A table cell: like [`Out::short`], but with both languages on separate lines.
    pub fn cell(&self, text: &Text) -> Lines {
        match self.lang {
            LangChoice::Both if text.zh != text.en => Lines(vec![text.zh.clone(), text.en.clone()]),
            _ => Lines(vec![self.short(text)]),
        }
    }

    /// A fixed label, given in both languages.
    pub fn label(&self, zh: &str, en: &str) -> String {
        self.short(&Text { zh: zh.into(), en: en.into() })
    }

    /// One line; a line break in it is shown escaped, like any control character.
    pub fn line(&mut self, line: impl AsRef<str>) {
        let line = escape(line.as_ref(), Breaks::Escape);
        self.push_line(&line);
    }

    /// Text of several lines that lunli put together (a PEM key, a Markdown document): each
    /// line escaped, the line breaks kept.
    pub fn block(&mut self, text: impl AsRef<str>) {
        let text = escape(text.as_ref(), Breaks::Keep);
        self.push_line(&text);
    }

    /// Text already escaped (or made here, like a table's frame).
    fn push_line(&mut self, line: &str) {
        self.buf.push_str(line);
        self.buf.push('\n');
    }

    pub fn blank(&mut self) {
        if !self.buf.is_empty() && !self.buf.ends_with("\n\n") {
            self.buf.push('\n');
        }
    }

    /// A heading underlined to its display width.
    pub fn heading(&mut self, title: impl AsRef<str>) {
        let title = escape(title.as_ref(), Breaks::Escape);
        let width = unicode_width::UnicodeWidthStr::width(title.as_ref()).min(self.width);
        self.blank();
        self.push_line(&title);
        self.push_line(&"─".repeat(width));
    }

    /// A paragraph in each chosen language, wrapped and indented.
    pub fn paragraph(&mut self, text: &Text, indent: usize) {
        let langs = self.langs();
        for (i, lang) in langs.iter().enumerate() {
            if i > 0 {
                self.blank();
            }
            self.wrapped(text.get(*lang), indent);
        }
    }

    /// One block of prose wrapped to the width; Chinese breaks between characters, English
    /// between words.
    pub fn wrapped(&mut self, text: &str, indent: usize) {
        let pad = " ".repeat(indent);
        let options = textwrap::Options::new(self.width.saturating_sub(indent).max(20))
            .word_separator(textwrap::WordSeparator::UnicodeBreakProperties);
        // Escaped before wrapping, so that the lines fit as printed; the text's own line
        // breaks are the author's and stay.
        let text = escape(text, Breaks::Keep);
        for line in textwrap::wrap(&text, options) {
            self.push_line(&format!("{pad}{line}"));
        }
    }

    pub fn table(&self, header: Vec<String>) -> Grid {
        let mut table = Table::new();
        table
            .load_style(presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(u16::try_from(self.width).unwrap_or(u16::MAX))
            .set_header(header.into_iter().map(|h| Cell::from(h).0));
        Grid(table)
    }

    pub fn push_table(&mut self, table: &Grid) {
        self.push_line(&table.0.to_string());
    }

    /// Writes a value in the machine format chosen (JSON or YAML).
    pub fn data<T: Serialize>(&mut self, value: &T) -> anyhow::Result<()> {
        match self.format {
            Format::Yaml => self.buf.push_str(&serde_yaml_ng::to_string(value).context("encoding YAML")?),
            Format::Json | Format::Table => {
                self.buf.push_str(&serde_json::to_string_pretty(value).context("encoding JSON")?);
                self.buf.push('\n');
            }
        }
        Ok(())
    }

    pub fn is_table(&self) -> bool {
        self.format == Format::Table
    }

    /// Writes everything collected to standard output.
    pub fn flush(mut self) -> anyhow::Result<()> {
        self.emit()
    }

    /// Writes what is collected so far and goes on collecting: for a command that keeps
    /// running after it has said where (the demo's gateway).
    pub fn emit(&mut self) -> anyhow::Result<()> {
        let mut stdout = std::io::stdout().lock();
        let text = std::mem::take(&mut self.buf);
        match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
            Ok(()) => Ok(()),
            // `lunli norms list | head` closes the pipe early; that is not an error.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            Err(e) => Err(e).context("writing to standard output"),
        }
    }
}

/// A table whose cells are escaped as they are added (see [`Cell`]).
pub struct Grid(Table);

impl Grid {
    /// A row of cells: `String`s (one line each) or [`Lines`]; `row![…]` mixes the two.
    pub fn add_row<C: Into<Cell>>(&mut self, cells: impl IntoIterator<Item = C>) -> &mut Self {
        self.0.add_row(cells.into_iter().map(|c| c.into().0));
        self
    }
}

/// The text of one table cell, escaped. From a `String` it is one line, its line breaks shown
/// as `\n` so that stored text cannot draw rows of its own; from [`Lines`] it keeps the breaks
/// lunli put between the lines.
pub struct Cell(String);

impl From<String> for Cell {
    fn from(text: String) -> Self {
        Self(escape(&text, Breaks::Escape).into_owned())
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Self {
        Self(escape(text, Breaks::Escape).into_owned())
    }
}

impl From<Lines> for Cell {
    fn from(lines: Lines) -> Self {
        Self(lines.0.iter().map(|l| escape(l, Breaks::Escape)).collect::<Vec<_>>().join("\n"))
    }
}

/// A cell of several lines (both languages, a list), each escaped on its own.
#[derive(Debug, Clone, Default)]
pub struct Lines(Vec<String>);

impl Lines {
    pub fn new<S: Into<String>>(lines: impl IntoIterator<Item = S>) -> Self {
        Self(lines.into_iter().map(Into::into).collect())
    }

    /// All the lines of several cells, one after another.
    pub fn concat(cells: impl IntoIterator<Item = Lines>) -> Self {
        Self(cells.into_iter().flat_map(|c| c.0).collect())
    }

    /// No text at all.
    pub fn is_blank(&self) -> bool {
        self.0.iter().all(String::is_empty)
    }

    /// `before` put at the start of the first line.
    pub fn prefixed(mut self, before: &str) -> Self {
        match self.0.first_mut() {
            Some(first) => first.insert_str(0, before),
            None => self.0.push(before.to_string()),
        }
        self
    }

    /// `after` put at the end of the last line.
    pub fn suffixed(mut self, after: &str) -> Self {
        match self.0.last_mut() {
            Some(last) => last.push_str(after),
            None => self.0.push(after.to_string()),
        }
        self
    }
}

/// A table row whose cells may mix `String`s and [`Lines`].
macro_rules! row {
    ($($cell:expr),* $(,)?) => {
        vec![$($crate::output::Cell::from($cell)),*]
    };
}
pub(crate) use row;

/// What [`escape`] does with a line break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breaks {
    /// Keep it: prose whose paragraphs and lines are the author's.
    Keep,
    /// Show it as `\n`: text meant to stay on one line.
    Escape,
}

/// Stored text made safe to print on a terminal: C0 and C1 control characters (ESC, BEL, CR,
/// backspace, DEL, U+0080–U+009F…) and the bidirectional overrides and isolates that reorder
/// what is shown (U+202A–U+202E, U+2066–U+2069) are replaced by visible escapes (`\x1b`,
/// `\u{202e}`), so the text can neither drive the terminal nor disguise itself.
pub fn escape(text: &str, breaks: Breaks) -> Cow<'_, str> {
    let unsafe_char = |c: char| needs_escape(c) && !(c == '\n' && breaks == Breaks::Keep);
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !unsafe_char(c) {
            out.push(c);
            continue;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0'..='\x7f' => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            _ => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Output width: `COLUMNS` when set, else 100, so that output piped to files and tests is
/// stable whatever terminal it came from.
pub fn width_from_env() -> usize {
    std::env::var("COLUMNS").ok().and_then(|c| c.trim().parse::<usize>().ok()).map_or(100, |w| w.clamp(40, 240))
}

/// The language when none is given: Chinese for a Chinese locale, else English.
pub fn default_lang() -> LangChoice {
    let locale = ["LC_ALL", "LC_MESSAGES", "LANG"].iter().find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()));
    match locale {
        Some(l) if l.to_ascii_lowercase().starts_with("zh") => LangChoice::Zh,
        _ => LangChoice::En,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_bidi_characters_are_shown_not_obeyed() {
        let text = "a\x1b[2Jb\x07c\rd\x08e\x7ff\u{85}g\u{9b}h\u{202e}i\u{2066}j\tk";
        assert_eq!(escape(text, Breaks::Escape), r"a\x1b[2Jb\x07c\rd\x08e\x7ff\u{85}g\u{9b}h\u{202e}i\u{2066}j\tk");
        assert_eq!(escape("one\ntwo\x1b", Breaks::Keep), "one\ntwo\\x1b");
        assert_eq!(escape("one\ntwo", Breaks::Escape), r"one\ntwo");
        assert!(matches!(escape("中文 / English ‘quoted’", Breaks::Escape), Cow::Borrowed(_)));
    }

    #[test]
    fn a_cell_is_one_line_unless_lunli_made_it_several() {
        assert_eq!(Cell::from("fake\nrow").0, r"fake\nrow");
        assert_eq!(Cell::from(Lines::new(["中文\x1b", "English\nmore"])).0, "中文\\x1b\nEnglish\\nmore");
        let joined = Lines::concat([Lines::new(["a", "b"]).prefixed("1 "), Lines::new(["c"]).suffixed("!")]);
        assert_eq!(Cell::from(joined).0, "1 a\nb\nc!");
    }
}

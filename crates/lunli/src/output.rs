//! How the binary writes what people and scripts read: language choice, wrapping, tables, and
//! the machine formats (JSON, YAML).

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
    pub fn cell(&self, text: &Text) -> String {
        match self.lang {
            LangChoice::Both if text.zh != text.en => format!("{}\n{}", text.zh, text.en),
            _ => self.short(text),
        }
    }

    /// A fixed label, given in both languages.
    pub fn label(&self, zh: &str, en: &str) -> String {
        self.short(&Text { zh: zh.into(), en: en.into() })
    }

    pub fn line(&mut self, line: impl AsRef<str>) {
        self.buf.push_str(line.as_ref());
        self.buf.push('\n');
    }

    pub fn blank(&mut self) {
        if !self.buf.is_empty() && !self.buf.ends_with("\n\n") {
            self.buf.push('\n');
        }
    }

    /// A heading underlined to its display width.
    pub fn heading(&mut self, title: impl AsRef<str>) {
        let title = title.as_ref();
        let width = unicode_width::UnicodeWidthStr::width(title).min(self.width);
        self.blank();
        self.line(title);
        self.line("─".repeat(width));
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
        for line in textwrap::wrap(text, options) {
            self.line(format!("{pad}{line}"));
        }
    }

    pub fn table(&self, header: Vec<String>) -> Table {
        let mut table = Table::new();
        table
            .load_style(presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(u16::try_from(self.width).unwrap_or(u16::MAX))
            .set_header(header);
        table
    }

    pub fn push_table(&mut self, table: &Table) {
        self.line(table.to_string());
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

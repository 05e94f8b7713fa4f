//! Catalogue files: where they come from (embedded or a directory overlay) and how one file is
//! parsed into raw records that still remember the position of every field, so validation can
//! name the file and line of a problem.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::error::{CatalogueError, Problem};
use crate::intake::QuestionKind;
use crate::model::{
    Activity, ActivityId, Article, Automation, Chapter, ControlKind, Document, EvidenceType, Principle, Text, Tier,
};

include!(concat!(env!("OUT_DIR"), "/embedded.rs"));

/// One catalogue file's text and the name used for it in error messages.
#[derive(Debug, Clone)]
pub(crate) struct SourceFile {
    /// Path relative to the catalogue root, `/`-separated: the key for overlays.
    pub relative: String,
    /// What error messages call the file: `catalogue/<relative>` for embedded files, the real
    /// path for files read from disk.
    pub display: String,
    pub contents: String,
}

impl SourceFile {
    /// 1-based line and column of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.contents.len());
        let before = self.contents.get(..offset).unwrap_or(&self.contents);
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, column)
    }

    pub fn problem(&self, span: Range<usize>, reason: impl Into<String>) -> Problem {
        let (line, column) = self.line_col(span.start);
        Problem { file: self.display.clone(), line, column, reason: reason.into() }
    }
}

/// The bundled catalogue files.
pub(crate) fn embedded() -> Vec<SourceFile> {
    EMBEDDED
        .iter()
        .map(|(relative, contents)| SourceFile {
            relative: (*relative).to_string(),
            display: format!("catalogue/{relative}"),
            contents: (*contents).to_string(),
        })
        .collect()
}

/// Every `*.toml` file under `dir`, recursively, sorted by relative path.
pub(crate) fn read_dir(dir: &Path) -> Result<Vec<SourceFile>, CatalogueError> {
    read_tree(dir, &["toml"])
}

/// Every file under `dir` whose extension is one of `extensions`, recursively, sorted by
/// relative path; each must be UTF-8 text.
pub(crate) fn read_tree(dir: &Path, extensions: &[&str]) -> Result<Vec<SourceFile>, CatalogueError> {
    let mut paths = Vec::new();
    walk(dir, extensions, &mut paths)?;
    paths.sort();
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        let bytes = std::fs::read(&path).map_err(|source| CatalogueError::Io { path: path.clone(), source })?;
        let contents = String::from_utf8(bytes).map_err(|e| {
            CatalogueError::Invalid(vec![Problem {
                file: path.display().to_string(),
                line: 1,
                column: 1,
                reason: format!("file is not valid UTF-8 (first bad byte at offset {})", e.utf8_error().valid_up_to()),
            }])
        })?;
        let relative = path
            .strip_prefix(dir)
            .unwrap_or(&path)
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        files.push(SourceFile { relative, display: path.display().to_string(), contents });
    }
    Ok(files)
}

fn walk(dir: &Path, extensions: &[&str], out: &mut Vec<PathBuf>) -> Result<(), CatalogueError> {
    let entries = std::fs::read_dir(dir).map_err(|source| CatalogueError::Io { path: dir.to_path_buf(), source })?;
    for entry in entries {
        let entry = entry.map_err(|source| CatalogueError::Io { path: dir.to_path_buf(), source })?;
        let path = entry.path();
        if path.is_dir() {
            walk(&path, extensions, out)?;
        } else if path.extension().is_some_and(|e| extensions.iter().any(|x| e == *x)) {
            out.push(path);
        }
    }
    Ok(())
}

/// Lays `overlay` over `base`: a file with the same relative path replaces the base file, any
/// other file is added.
pub(crate) fn overlay(base: Vec<SourceFile>, overlay: Vec<SourceFile>) -> Vec<SourceFile> {
    let mut by_path: BTreeMap<String, SourceFile> = base.into_iter().map(|f| (f.relative.clone(), f)).collect();
    for file in overlay {
        by_path.insert(file.relative.clone(), file);
    }
    by_path.into_values().collect()
}

/// The records of one parsed file. Every table kind may appear in any file; by convention each
/// file holds one concept.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFile {
    #[serde(default)]
    pub document: Option<Spanned<Document>>,
    #[serde(default)]
    pub chapter: Vec<Spanned<Chapter>>,
    #[serde(default)]
    pub article: Vec<Spanned<RawArticle>>,
    #[serde(default)]
    pub principle: Vec<Spanned<RawPrinciple>>,
    #[serde(default)]
    pub activity: Vec<Spanned<RawActivity>>,
    #[serde(default)]
    pub control: Vec<Spanned<RawControl>>,
    #[serde(default)]
    pub question: Vec<Spanned<RawQuestion>>,
    #[serde(default)]
    pub ruleset: Option<Spanned<RawRuleset>>,
    #[serde(default)]
    pub tier: Vec<Spanned<RawTier>>,
    #[serde(default)]
    pub role: Vec<Spanned<RawRole>>,
    #[serde(default)]
    pub rule: Vec<Spanned<RawRule>>,
    #[serde(default)]
    pub vendor_question: Vec<Spanned<crate::model::VendorQuestion>>,
    #[serde(default)]
    pub probe: Vec<Spanned<crate::probe::Probe>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawArticle {
    pub number: Spanned<u8>,
    pub chapter: Spanned<u8>,
    #[serde(default)]
    pub activity: Option<ActivityId>,
    pub title: Spanned<Text>,
    #[serde(default)]
    pub title_editorial: bool,
    pub text: Spanned<Text>,
}

impl RawArticle {
    pub fn into_model(self) -> Article {
        Article {
            number: self.number.into_inner(),
            chapter: self.chapter.into_inner(),
            activity: self.activity,
            title: self.title.into_inner(),
            title_editorial: self.title_editorial,
            text: self.text.into_inner(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPrinciple {
    pub id: Spanned<String>,
    pub article: u8,
    pub clause: u8,
    pub name: Spanned<Text>,
    pub text: Spanned<Text>,
}

impl RawPrinciple {
    pub fn into_model(self) -> Principle {
        Principle {
            id: self.id.into_inner(),
            article: self.article,
            clause: self.clause,
            name: self.name.into_inner(),
            text: self.text.into_inner(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawActivity {
    pub id: Spanned<ActivityId>,
    pub article: u8,
    pub clause: u8,
    pub chapter: u8,
    pub name: Spanned<Text>,
    pub text: Spanned<Text>,
}

impl RawActivity {
    pub fn into_model(self) -> Activity {
        Activity {
            id: self.id.into_inner(),
            article: self.article,
            clause: self.clause,
            chapter: self.chapter,
            name: self.name.into_inner(),
            text: self.text.into_inner(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawControl {
    pub id: Spanned<String>,
    pub articles: Spanned<Vec<u8>>,
    pub principles: Spanned<Vec<String>>,
    pub activity: ActivityId,
    pub tier: Spanned<Tier>,
    pub kind: ControlKind,
    #[serde(default)]
    pub automation: Option<Automation>,
    pub title: Spanned<Text>,
    pub guidance: Spanned<Text>,
    pub evidence: Spanned<RawEvidence>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEvidence {
    pub accepts: Vec<EvidenceType>,
    pub zh: String,
    pub en: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawQuestion {
    pub id: Spanned<String>,
    pub kind: Spanned<QuestionKind>,
    #[serde(default)]
    pub options: Option<Spanned<Vec<Spanned<RawOption>>>>,
    pub text: Spanned<Text>,
    pub help: Spanned<Text>,
    pub articles: Spanned<Vec<u8>>,
    pub principles: Spanned<Vec<String>>,
    #[serde(default = "default_required")]
    pub required: bool,
    #[serde(default)]
    pub ask_if: Option<Spanned<RawCondition>>,
}

fn default_required() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOption {
    pub id: Spanned<String>,
    pub label: Spanned<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRuleset {
    pub version: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTier {
    pub id: Spanned<Tier>,
    pub name: Spanned<Text>,
    pub description: Spanned<Text>,
    #[serde(default)]
    pub review_months: Option<Spanned<u32>>,
    pub signoff_roles: Spanned<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRole {
    pub id: Spanned<String>,
    pub name: Spanned<Text>,
    pub description: Spanned<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRule {
    pub id: Spanned<String>,
    pub tier: Spanned<Tier>,
    pub when: Spanned<RawCondition>,
    pub articles: Spanned<Vec<u8>>,
    pub principles: Spanned<Vec<String>>,
    pub reason: Spanned<Text>,
}

/// A condition as written: every key optional, so that a condition with a missing or extra key
/// can be reported in words rather than as a failed match of alternatives.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCondition {
    #[serde(default)]
    pub answer: Option<Spanned<String>>,
    #[serde(default)]
    pub is: Option<Spanned<RawIs>>,
    #[serde(default)]
    pub includes: Option<Spanned<String>>,
    #[serde(default)]
    pub includes_any: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    pub at_least: Option<Spanned<u64>>,
    #[serde(default)]
    pub all: Option<Spanned<Vec<Spanned<RawCondition>>>>,
    #[serde(default)]
    pub any: Option<Spanned<Vec<Spanned<RawCondition>>>>,
    #[serde(default)]
    pub not: Option<Box<Spanned<RawCondition>>>,
}

/// The value of `is`: `true`/`false` for a yes-no question, an option id for a single choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RawIs {
    Bool(bool),
    Option(String),
}

impl<'de> Deserialize<'de> for RawIs {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = RawIs;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("true or false (yes-no question) or an option id (single-choice question)")
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<RawIs, E> {
                Ok(RawIs::Bool(v))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawIs, E> {
                Ok(RawIs::Option(v.to_string()))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// Parses one file; a syntax or type error becomes a problem at the position TOML reports.
pub(crate) fn parse(file: &SourceFile) -> Result<RawFile, Problem> {
    toml::from_str::<RawFile>(&file.contents).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        // The parser's message is already specific ("unknown field `foo`, expected one of …");
        // keep its first line, the rest repeats the source snippet.
        let reason = e.message().lines().next().unwrap_or("invalid TOML").trim().to_string();
        file.problem(span, reason)
    })
}
